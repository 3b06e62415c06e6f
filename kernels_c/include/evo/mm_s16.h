/* Int16 matrix-product engine of the Cortex-M DSP convolution and fully-connected kernels
 * (conv2d_s8_dsp.c, fully_connected_s8_dsp.c; code in mm_s16.c). Every routine has a portable
 * C twin, so the same generation-time weight layout also runs (and is tested) on the host.
 *
 * Weight stream, built at generation time (evo/ops/conv_dsp.py), in int32 words:
 *   pairs, nconst                 channel-pair records; output channels with a constant value
 *   nconst x (channel, value)     channels whose weights are all zero (pruned): not computed
 *   pairs records of evo_mm_record_words(S) words, S = ceil(K / 4) steps of four terms, one per
 *   pair of output channels c0, c1 (an odd count pairs its first channel with a dummy c0 that
 *   stores to the same place first):
 *     init0, init0, init1, init1  accumulator start: 2 * bias
 *     S x (w0[k0] | w0[k2] << 16, w0[k1] | w0[k3] << 16, w1[k0] | w1[k2] << 16, w1[k1] | w1[k3] << 16)
 *                                 int16 halves holding 2 * weight; k0..k3 = 4s..4s+3, 0 past K
 *     m0, rc0, e0, c0, m1, rc1, e1, c1   requantisation (below) and output channel
 *     more                        1 when another record follows (the assembly loop's exit)
 * Input of a pair of output pixels a, b (evo_mm_widen2): S x (xa[k0] | xa[k2] << 16,
 * xa[k1] | xa[k3] << 16, xb[k0] | ..., xb[k1] | ...), int16 input + input_offset, the order two
 * SXTAB16 produce from one word of four input bytes. One step is then two 4-word loads and eight
 * SMLAD for 16 multiply-accumulates. A single pixel (out_b NULL) has two words per step.
 *
 * Requantisation, bit-exact with TFLM's MultiplyByQuantizedMultiplier for a right shift e >= 1,
 * a multiplier m > 2^30 and |acc| < 2^30 (the generator checks all three per channel, with a bound
 * on |acc| from the weights, and else keeps the portable kernel). The accumulator holds
 * acc2 = 2 * acc (doubled weights and bias), so
 *   SMMLAR(acc2, m, rc) = rc + floor((2 acc m + 2^31) / 2^32) = rc + floor((acc m + 2^30) / 2^31)
 * which is rc + SaturatingRoundingDoublingHighMul(acc, m) (it cannot saturate: m > 0). That
 * product is negative exactly when acc is (m > 2^30), so with rc = 2^(e-1) + zp * 2^e
 *   (SMMLAR(acc2, m, rc) - (acc < 0)) >> e  =  RoundingDivideByPOT(high product, e) + zp
 * (adding zp * 2^e before an arithmetic shift by e adds zp after it). Then the activation clamp.
 * Five instructions per output with the store. */
#ifndef EVO_MM_S16_H
#define EVO_MM_S16_H

#include "evo/common.h"

/* int32 words of one channel-pair record for S steps. Twin of record_words in evo/ops/conv_dsp.py. */
static inline int32_t evo_mm_record_words(int32_t steps) { return 4 + 4 * steps + 9; }

/* One pixel pair times every record of a stream. The first seven words are the assembly's
 * frame (mm_s16.c): evo_mm_prepare fills in `skip`, `x_end` and `run`, the caller the rest. */
typedef struct evo_mm_job evo_mm_job_t;
struct evo_mm_job {
    const uint32_t *x;     /* the pixel pair's input steps (evo_mm_widen2) */
    uint32_t skip;         /* set by evo_mm_prepare */
    int8_t *out_a;         /* pixel a's output channels */
    int8_t *out_b;         /* pixel b's, NULL: pixel a only (one-pixel input layout) */
    const uint32_t *x_end; /* set by evo_mm_prepare */
    int32_t act_min, act_max;
    const int32_t *rec;    /* first record (>= 1) */
    int32_t steps;
    void (*run)(const evo_mm_job_t *job); /* set by evo_mm_prepare */
};

/* Choose the tile for the job's steps, clamp and pixel count (out_b NULL or not): then
 * job->run(job) may be called for any out_a / out_b (of the same NULL-ness) and input. */
void evo_mm_prepare(evo_mm_job_t *job);

/* evo_mm_prepare, then run. */
static inline void evo_mm_2x2(evo_mm_job_t *job)
{
    evo_mm_prepare(job);
    job->run(job);
}

/* The stream's constant channels of one output pixel. */
static inline void evo_mm_constants(const int32_t *stream, int8_t *out)
{
    int32_t i;
    for (i = 0; i < stream[1]; ++i) {
        out[stream[2 + 2 * i]] = (int8_t)stream[3 + 2 * i];
    }
}

/* The stream's first record. */
static inline const int32_t *evo_mm_records(const int32_t *stream) { return stream + 2 + 2 * stream[1]; }

/* The input steps of pixels a and b (k int8 values each) plus input_offset; fb NULL: pixel a alone. */
void evo_mm_widen2(const int8_t *fa, const int8_t *fb, int32_t k, int32_t input_offset, uint32_t *x);

/* The same for fields made of `rows` runs of `run` bytes (a multiple of 4), `stride` bytes apart
 * (reads whole words only). */
void evo_mm_widen2_rows(const int8_t *fa, const int8_t *fb, int32_t rows, int32_t run, int32_t stride, int32_t input_offset,
                        uint32_t *x);

#endif
