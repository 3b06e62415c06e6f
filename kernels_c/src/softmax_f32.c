/* SOFTMAX float32 over the innermost dimension: exp((x - max) * beta) / sum, in float. */
#include <float.h>
#include <math.h>

#include "evo/activation.h"

evo_status_t evo_softmax_f32(const evo_softmax_f32_params_t *p, const float *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->outer; ++i) {
        const float *in = input + (size_t)i * (size_t)p->depth;
        float *out = output + (size_t)i * (size_t)p->depth;
        float max = -FLT_MAX;
        float sum = 0.0f;
        int32_t c;
        for (c = 0; c < p->depth; ++c) {
            max = in[c] > max ? in[c] : max;
        }
        for (c = 0; c < p->depth; ++c) {
            const float e = expf((in[c] - max) * p->beta);
            out[c] = e;
            sum += e;
        }
        for (c = 0; c < p->depth; ++c) {
            out[c] = out[c] / sum;
        }
    }
    return EVO_OK;
}
