/* One row of evo_relu_f32 as a stage of a fused row-streamed group (evo/stream.h): `stage` is
 * the kernel's params for one row (size = W * C). */
#include "evo/activation.h"
#include "evo/stream.h"

evo_status_t evo_relu_f32_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top, void *out,
        void *scratch)
{
    (void)in_rows;
    (void)pad_top;
    (void)scratch;
    return evo_relu_f32((const evo_relu_f32_params_t *)stage, (const float *)in[0], (float *)out);
}
