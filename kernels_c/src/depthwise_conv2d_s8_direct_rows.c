/* evo_depthwise_conv2d_s8_direct computed one output row at a time so that its output may overlap
 * its input (in-place execution; evo/inplace.h's input-row window, the only scratch). */
#include "evo/depthwise_fast.h"
#include "evo/inplace.h"

int32_t evo_depthwise_conv2d_s8_direct_get_buffer_size(const evo_depthwise_conv2d_s8_params_t *p)
{
    (void)p;
    return 0;
}

evo_status_t evo_depthwise_conv2d_s8_direct_rows(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                                 const int32_t *filter, const int32_t *bias, int8_t *output, void *scratch)
{
    EVO_ROWSTREAM_BODY(evo_depthwise_conv2d_s8_params_t, int8_t, evo_depthwise_conv2d_s8_direct);
}
