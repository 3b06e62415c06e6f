/* evo_conv2d_f32 computed one output row at a time so that its output may overlap its input
 * (in-place execution; see evo/inplace.h for the safety argument). */
#include "evo/inplace.h"

evo_status_t evo_conv2d_f32_rows(const evo_conv2d_f32_params_t *p, const float *input, const float *filter,
        const float *bias, float *output, void *scratch)
{
    EVO_ROWSTREAM_BODY(evo_conv2d_f32_params_t, float, evo_conv2d_f32);
}
