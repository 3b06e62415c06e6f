/* One output row of evo_depthwise_conv2d_s8_m0t as a stage of a fused row-streamed group
 * (evo/stream.h). */
#include "evo/conv_m0.h"

evo_status_t evo_depthwise_conv2d_s8_m0t_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top,
                                             void *out, void *scratch)
{
    const evo_depthwise_conv2d_s8_m0t_stage_t *s = (const evo_depthwise_conv2d_s8_m0t_stage_t *)stage;
    evo_depthwise_conv2d_s8_m0t_params_t q = *s->p;
    q.in.h = in_rows;
    q.out.h = 1;
    q.pad_h = pad_top;
    return evo_depthwise_conv2d_s8_m0t(&q, (const int8_t *)in[0], s->stream, s->zp, (int8_t *)out, scratch);
}
