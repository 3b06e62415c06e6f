/* FULLY_CONNECTED, int8, for Cortex-M0/M0+ (evo/conv_m0.h): each batch row of the input is one
 * field of `depth` taps for the matrix engine (mm_s8_m0.c); a per-tensor weights offset is in
 * the stream's weights, the input offset in its starts. */
#include "evo/conv_m0.h"

evo_status_t evo_fully_connected_s8_m0(const evo_fully_connected_s8_m0_params_t *p, const int8_t *input,
                                       const int32_t *stream, int8_t *output)
{
    int32_t b;
    if (p->batches < 0 || p->units < 0 || p->depth < 1) {
        return EVO_ERR_ARG;
    }
    for (b = 0; b < p->batches; ++b) {
        evo_mm_s8_m0(input + (size_t)b * p->depth, p->depth, stream, p->units, &p->rq, output + (size_t)b * p->units);
    }
    return EVO_OK;
}
