/* Copy-out / copy-in of an evicted tensor between the arena and the external memory. */
#include "evo/inplace.h"

evo_status_t evo_move_bytes(const void *src, void *dst, int32_t nbytes)
{
    if (nbytes < 0 || src == NULL || dst == NULL) {
        return EVO_ERR_ARG;
    }
    memcpy(dst, src, (size_t)nbytes);
    return EVO_OK;
}
