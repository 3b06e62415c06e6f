/* One output row of evo_max_pool2d_s8 as a stage of a fused row-streamed group (evo/stream.h):
 * the unchanged kernel on a one-row problem whose window starts pad_top rows into the filter. */
#include "evo/pool.h"
#include "evo/stream.h"

evo_status_t evo_max_pool2d_s8_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top, void *out,
        void *scratch)
{
    const evo_pool2d_params_t q = evo_pool2d_row_params(stage, in_rows, pad_top);
    (void)scratch;
    return evo_max_pool2d_s8(&q, (const int8_t *)in[0], (int8_t *)out);
}
