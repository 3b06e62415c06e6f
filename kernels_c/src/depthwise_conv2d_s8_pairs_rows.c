/* evo_depthwise_conv2d_s8_pairs computed one output row at a time so that its output may overlap its
 * input (in-place execution; see evo/inplace.h for the safety argument). */
#include "evo/depthwise_fast.h"
#include "evo/inplace.h"

evo_status_t evo_depthwise_conv2d_s8_pairs_rows(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                                const int32_t *wpack, const int32_t *qpack, int8_t *output,
                                                void *scratch)
{
    const int32_t *filter = wpack, *bias = qpack;
    EVO_ROWSTREAM_BODY(evo_depthwise_conv2d_s8_params_t, int8_t, evo_depthwise_conv2d_s8_pairs);
}
