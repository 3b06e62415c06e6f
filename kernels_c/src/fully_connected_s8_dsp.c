/* FULLY_CONNECTED, int8, generation-time specialised for the int16 matrix-product engine
 * (evo/mm_s16.h): bit-exact with TFLite Micro's reference FullyConnected (a per-tensor weights
 * offset is folded into the stream's weights) and FullyConnectedPerChannel. Batches are taken in
 * pairs (the 2x2 tile); one batch, or an odd last one, runs the 1-pixel tile. */
#include "evo/conv_dsp.h"
#include "evo/mm_s16.h"

evo_status_t evo_fully_connected_s8_dsp(const evo_fully_connected_s8_dsp_params_t *p, const int8_t *input,
                                        const int32_t *stream, int8_t *output, void *scratch)
{
    const int32_t units = p->units, depth = p->depth;
    const int32_t steps = (depth + 3) / 4;
    uint32_t *x = (uint32_t *)scratch;
    evo_mm_job_t job;
    int32_t b;

    if (scratch == NULL || p->scratch_bytes < (p->batches > 1 ? 16 : 8) * steps || p->batches < 0 || units < 0 || depth < 0) {
        return EVO_ERR_ARG;
    }
    job.x = x;
    job.rec = evo_mm_records(stream);
    job.steps = steps;
    job.act_min = p->act_min;
    job.act_max = p->act_max;
    for (b = 0; b < p->batches; b += 2) {
        const int both = b + 1 < p->batches;
        const int8_t *xa = input + (size_t)b * depth;
        job.out_a = output + (size_t)b * units;
        job.out_b = both ? job.out_a + units : NULL;
        if (stream[0] > 0) {
            evo_mm_widen2(xa, both ? xa + depth : NULL, depth, p->input_offset, x);
            evo_mm_2x2(&job);
        }
        evo_mm_constants(stream, job.out_a);
        if (both) {
            evo_mm_constants(stream, job.out_b);
        }
    }
    return EVO_OK;
}
