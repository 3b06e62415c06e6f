/* evo_depthwise_conv2d_s8_m0t computed one output row at a time so that its output may overlap its
 * input (in-place execution; see evo/inplace.h for the safety argument). */
#include "evo/conv_m0.h"
#include "evo/inplace.h"

evo_status_t evo_depthwise_conv2d_s8_m0t_rows(const evo_depthwise_conv2d_s8_m0t_params_t *p, const int8_t *input,
                                              const int32_t *filter, const int32_t *bias, int8_t *output, void *scratch)
{
    EVO_ROWSTREAM_BODY(evo_depthwise_conv2d_s8_m0t_params_t, int8_t, evo_depthwise_conv2d_s8_m0t);
}
