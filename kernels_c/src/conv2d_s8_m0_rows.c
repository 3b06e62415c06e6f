/* evo_conv2d_s8_m0 computed one output row at a time so that its output may overlap its input
 * (in-place execution; see evo/inplace.h for the safety argument). */
#include "evo/conv_m0.h"
#include "evo/inplace.h"

evo_status_t evo_conv2d_s8_m0_rows(const evo_conv2d_s8_m0_params_t *p, const int8_t *input, const int32_t *filter,
                                   const int32_t *bias, int8_t *output, void *scratch)
{
    EVO_ROWSTREAM_BODY(evo_conv2d_s8_m0_params_t, int8_t, evo_conv2d_s8_m0);
}
