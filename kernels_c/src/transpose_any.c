/* TRANSPOSE for any element size: walks the output in order, reading the input through the
 * permuted strides (a strided gather starting at element 0). */
#include "evo/shape.h"

evo_status_t evo_transpose_any(const evo_transpose_params_t *p, const void *input, void *output)
{
    if (p->elem_size <= 0) {
        return EVO_ERR_ARG;
    }
    evo_strided_gather((const uint8_t *)input, (uint8_t *)output, (size_t)p->elem_size, 0, p->count, p->step);
    return EVO_OK;
}
