/* One output row of evo_depthwise_conv2d_f32 as a stage of a fused row-streamed group (evo/stream.h). */
#include "evo/stream.h"

evo_status_t evo_depthwise_conv2d_f32_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top, void *out,
        void *scratch)
{
    EVO_STAGE_ROW_BODY(evo_depthwise_conv2d_f32_stage_t, evo_depthwise_conv2d_f32_params_t, float, evo_depthwise_conv2d_f32);
}
