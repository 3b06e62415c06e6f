/* One output row of evo_conv2d_s8 as a stage of a fused row-streamed group (evo/stream.h). */
#include "evo/stream.h"

evo_status_t evo_conv2d_s8_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top, void *out,
        void *scratch)
{
    EVO_STAGE_ROW_BODY(evo_conv2d_s8_stage_t, evo_conv2d_s8_params_t, int8_t, evo_conv2d_s8);
}
