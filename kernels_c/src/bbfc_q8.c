/* Binary fully connected made from an int8 FULLY_CONNECTED (binary input codes and weights):
 * the exact int32 accumulator from the XOR-popcount, then TFLM's requantisation. */
#include "evo/bnn.h"

evo_status_t evo_bbfc_q8(const evo_bfc_params_t *p, const int32_t *input, const int32_t *weights, int8_t *output)
{
    const evo_bnn_requant_t *rq = &p->rq;
    int32_t b, u;
    for (b = 0; b < p->batches; ++b) {
        const int32_t *x = input + (size_t)b * p->words;
        int8_t *out = output + (size_t)b * p->units;
        for (u = 0; u < p->units; ++u) {
            const int32_t accum = evo_xor_popcount(x, weights + (size_t)u * p->words, p->words);
            out[u] = evo_bnn_requant_s8(rq, u, rq->offset[u] + rq->factor[u] * accum);
        }
    }
    return EVO_OK;
}
