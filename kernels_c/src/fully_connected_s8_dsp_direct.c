/* FULLY_CONNECTED, int8, for DSP cores without any scratch: the input bytes are widened in
 * registers (two SXTB16 per four) and used at once by four output channels, instead of being
 * widened once into a copy (2 * depth bytes of arena, fully_connected_s8_dsp.c). The weight
 * stream (evo/ops/conv_dsp.py quad_stream) is evo/mm_s16.h's with two channel pairs per record
 * and the input offset folded into the accumulator starts. One step of four depths: a load, two
 * SXTB16, two LDM, eight SMLAD for 16 MACs, four steps unrolled. Requantisation as evo/mm_s16.h: bit-exact with TFLM. */
#include <string.h>

#include "evo/conv_dsp.h"
#include "evo/mm_s16.h"
#include "evo/mm_quad.h"

evo_status_t evo_fully_connected_s8_dsp_direct(const evo_fully_connected_s8_dsp_params_t *p, const int8_t *input,
                                               const int32_t *stream, int8_t *output)
{
    const int32_t depth = p->depth, full = p->depth >> 2, steps = (p->depth + 3) >> 2;
    const int32_t lo = p->act_min, hi = p->act_max, quads = stream[0]; /* locals: the stores may alias p */
    int32_t b;
    if (p->batches < 0 || p->units < 0 || depth < 0) {
        return EVO_ERR_ARG;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + (size_t)b * depth;
        int8_t *out = output + (size_t)b * p->units;
        uint8_t tail[4] = {0, 0, 0, 0}; /* the last, partial step: bytes past depth are 0 (weights 0 there) */
        const int32_t *rec = evo_mm_records(stream);
        int32_t quad;
        memcpy(tail, x + 4 * full, (size_t)(depth & 3));
        for (quad = 0; quad < quads; ++quad) {
            int32_t a0 = rec[0], a1 = rec[1], a2 = rec[2], a3 = rec[3];
            const int32_t *q = evo_mm_dot_quad(x, rec + 4, full, &a0, &a1, &a2, &a3);
            if (full < steps) {
                q = evo_mm_dot_quad((const int8_t *)tail, q, 1, &a0, &a1, &a2, &a3);
            }
            /* pair B first: a dummy B stores to A's channels, which A then overwrites */
            evo_mm_requant1(out, a2, q + 8, lo, hi);
            evo_mm_requant1(out, a3, q + 12, lo, hi);
            evo_mm_requant1(out, a0, q, lo, hi);
            evo_mm_requant1(out, a1, q + 4, lo, hi);
            rec = q + 16;
        }
        evo_mm_constants(stream, out);
    }
    return EVO_OK;
}
