/* FULLY_CONNECTED, int8, for MVE cores (Cortex-M55): four units per pass over the chunked
 * weights of evo/mve.h, 16 MACs per VMLADAVA, the input offset folded into the bias, the
 * requantisation vectorised over the four units (bit-exact with TFLM, see evo/mve.h). */
#include "evo/mve.h"

evo_status_t evo_fully_connected_s8_mve(const evo_fully_connected_s8_mve_params_t *p, const int8_t *input,
                                        const int8_t *weights, const int32_t *quant, int8_t *output)
{
    /* locals: the int8 stores may alias anything, so fields read through `p` would be reloaded */
    const int32_t depth = p->depth, units = p->units, batches = p->batches;
    const int32_t out_offset = p->output_offset, act_min = p->act_min, act_max = p->act_max;
    const int32_t groups = quant[0], nconst = quant[1];
    const int32_t group_bytes = 64 * ((depth + 15) / 16);
    int32_t b, i;
    for (b = 0; b < batches; ++b) {
        const int8_t *x = input + b * depth;
        int8_t *y = output + b * units;
        const int8_t *w = weights;
        const int32_t *q = quant + 2;
        for (i = 0; i < groups; ++i, w += group_bytes, q += EVO_MVE_QUANT_WORDS) {
            int32_t acc[4];
            evo_mve_dot4(x, w, depth, acc);
            evo_mve_requant4(acc, q, out_offset, act_min, act_max, y);
        }
        evo_mve_constants(q, nconst, y);
    }
    return EVO_OK;
}
