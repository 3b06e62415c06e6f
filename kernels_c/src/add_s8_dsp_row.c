/* One row of the DSP ADD (evo/add_dsp.h) as a stage of a fused row-streamed group (evo/stream.h):
 * the stage holds the kernel's params for one row and its table. */
#include "evo/stream.h"

evo_status_t evo_add_s8_dsp_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top, void *out,
                                void *scratch)
{
    const evo_add_s8_dsp_stage_t *s = (const evo_add_s8_dsp_stage_t *)stage;
    (void)in_rows;
    (void)pad_top;
    (void)scratch;
    return evo_add_s8_dsp(s->p, (const int8_t *)in[0], (const int8_t *)in[1], s->table, (int8_t *)out);
}
