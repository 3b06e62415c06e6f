/* One row of a same-shape int8 ADD as a stage of a fused row-streamed group (evo/stream.h):
 * `stage` is the kernel's params for one row. */
#include "evo/stream.h"

evo_status_t evo_add_s8_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top, void *out,
        void *scratch)
{
    (void)in_rows;
    (void)pad_top;
    (void)scratch;
    return evo_add_s8((const evo_addsub_s8_params_t *)stage, (const int8_t *)in[0], (const int8_t *)in[1], (int8_t *)out);
}
