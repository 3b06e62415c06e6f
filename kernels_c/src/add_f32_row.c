/* One row of a same-shape float ADD as a stage of a fused row-streamed group (evo/stream.h):
 * `stage` is the kernel's params for one row. */
#include "evo/stream.h"

evo_status_t evo_add_f32_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top, void *out,
        void *scratch)
{
    (void)in_rows;
    (void)pad_top;
    (void)scratch;
    return evo_add_f32((const evo_binary_f32_params_t *)stage, (const float *)in[0], (const float *)in[1], (float *)out);
}
