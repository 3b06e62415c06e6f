/* Plain byte copy for RESHAPE / SQUEEZE / EXPAND_DIMS (when not aliased). */
#include <string.h>

#include "evo/shape.h"

evo_status_t evo_copy_any(const evo_copy_params_t *p, const void *input, void *output)
{
    if (p->nbytes < 0) {
        return EVO_ERR_ARG;
    }
    if (input != output && p->nbytes > 0) {
        memmove(output, input, (size_t)p->nbytes);
    }
    return EVO_OK;
}
