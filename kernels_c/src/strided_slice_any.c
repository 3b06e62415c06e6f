/* STRIDED_SLICE for any element size: a 6-D strided gather. Python resolves masks, negative
 * indices and clamping (as TFLM's Eval does) into a start offset, per-axis counts and steps. */
#include "evo/shape.h"

evo_status_t evo_strided_slice_any(const evo_strided_slice_params_t *p, const void *input,
                                   void *output)
{
    if (p->elem_size <= 0) {
        return EVO_ERR_ARG;
    }
    evo_strided_gather((const uint8_t *)input, (uint8_t *)output, (size_t)p->elem_size, p->start, p->count, p->step);
    return EVO_OK;
}
