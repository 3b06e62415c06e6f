/* The interpreter of a fused group's static row program (see evo/stream.h). */
#include "evo/stream.h"

/* Where a MOVE reads (any region) and writes (line buffers or the output; inputs are const). */
static const uint8_t *evo_stream_src(int32_t region, const uint8_t *lines, const void *output, const void *const *inputs)
{
    if (region == 0) {
        return lines;
    }
    return region == 1 ? (const uint8_t *)output : (const uint8_t *)inputs[region - 2];
}

evo_status_t evo_stream_run(const evo_stream_params_t *p, const void *const *inputs, void *output, void *scratch)
{
    uint8_t *const lines = (uint8_t *)scratch;
    void *const kernel_scratch = lines + p->lines_bytes;
    const int32_t *pc = p->program;
    const int32_t *const end = p->program + p->length;
    while (pc < end) {
        if (pc[0] == EVO_STREAM_MOVE) {
            uint8_t *dst = (pc[1] == 0 ? lines : (uint8_t *)output) + pc[2];
            const uint8_t *src = evo_stream_src(pc[3], lines, output, inputs) + pc[4];
            memmove(dst, src, (size_t)pc[5]);
            pc += 6;
        } else if (pc[0] == EVO_STREAM_CALL) {
            const evo_stream_stage_t *st = &p->stages[pc[1]];
            const int32_t n_in = pc[5];
            const void *in[EVO_STREAM_MAX_INPUTS] = {NULL, NULL};
            int32_t i;
            evo_status_t status;
            if (n_in < 1 || n_in > EVO_STREAM_MAX_INPUTS) {
                return EVO_ERR_ARG;
            }
            for (i = 0; i < n_in; ++i) {
                in[i] = lines + pc[6 + i];
            }
            status = st->row(st->stage, in, pc[2], pc[3], lines + pc[4], kernel_scratch);
            if (status != EVO_OK) {
                return status;
            }
            pc += 6 + n_in;
        } else {
            return EVO_ERR_ARG;
        }
    }
    return EVO_OK;
}
