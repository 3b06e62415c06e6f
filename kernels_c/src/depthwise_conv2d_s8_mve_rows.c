/* evo_depthwise_conv2d_s8_mve computed so that its output may overlap its input (in-place
 * execution; see evo/inplace.h for the row-streaming safety argument). */
#include "evo/inplace.h"
#include "evo/mve.h"

evo_status_t evo_depthwise_conv2d_s8_mve_rows(const evo_depthwise_conv2d_s8_mve_params_t *p, const int8_t *input,
                                              const int8_t *filter, const int32_t *bias, int8_t *output, void *scratch)
{
    EVO_ROWSTREAM_BODY(evo_depthwise_conv2d_s8_mve_params_t, int8_t, evo_depthwise_conv2d_s8_mve);
}
