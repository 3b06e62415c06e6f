/* Depthwise convolution kernels specialised at generation time for a core (evo/ops/depthwise_fast.py
 * lays out their constants). Same parameter struct as evo_depthwise_conv2d_s8 (its multiplier,
 * shift and w_offset_sum pointers are unused: the packed constants replace them); dilation 1,
 * depth multiplier 1 or a single input channel (any multiplier: every output channel reads it).
 * Bit-exact with evo_depthwise_conv2d_s8. Each reads each input row only when first copying it into
 * its ring, before writing the output row that needs it, so they also run in place (the *_rows
 * entries, for the planner's row streaming). "C" below is the output channel count.
 *
 * evo_depthwise_conv2d_s8_pairs (Cortex-M4/M7/M33, plain C elsewhere): input rows are widened once
 * into a ring of int16 pairs of horizontally adjacent pixels (padding = 0 after the input offset),
 * so each pair of filter taps of a channel is one SMLAD. Pairs start at even padded columns.
 *   wpack: per quad q, layout l, kernel row r, tap pair j < ng, channel c (4 per quad): the
 *          int32 word (2 * w[r][2j - l][c], 2 * w[r][2j + 1 - l][c]) (0 outside the filter or past
 *          C). Layout 1 (windows starting at an odd column) exists only for odd strides; ng is
 *          ceil(kw / 2) with one layout, kw / 2 + 1 with two. Weights are doubled so the
 *          accumulator is 2 * acc, which SMMLAR needs (below).
 *   qpack: 4 header words {mode, 0, 0, 0}, then per quad 16 words: 4 accumulator starts
 *          (2 * bias), then {M, T, e} per channel. mode 0/1 ("fast"): out = SSAT8(SMMLAR(a2, M,
 *          T + (a2 >> 31)) >> e) (mode 1 also clamps to [act_min, act_max]), where a2 = 2 * acc,
 *          T = 2^(e-1) + output_offset * 2^e; equal to TFLM's rounding-doubling-high-multiply and
 *          rounding right shift by e >= 1 (see depthwise_fast.py for the proof and its range
 *          conditions, checked at generation time). mode 2: exact evo_requantize with shift e.
 *   scratch: evo_depthwise_conv2d_s8_pairs_get_buffer_size(p) bytes, 4-byte aligned. */
#ifndef EVO_DEPTHWISE_FAST_H
#define EVO_DEPTHWISE_FAST_H

#include "evo/conv.h"
#include "evo/simd32.h"

#define EVO_DWP_MODE_FAST 0
#define EVO_DWP_MODE_FAST_CLAMP 1
#define EVO_DWP_MODE_EXACT 2

int32_t evo_depthwise_conv2d_s8_pairs_get_buffer_size(const evo_depthwise_conv2d_s8_params_t *p);
evo_status_t evo_depthwise_conv2d_s8_pairs(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                           const int32_t *wpack, const int32_t *qpack, int8_t *output, void *scratch);
evo_status_t evo_depthwise_conv2d_s8_pairs_rows(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                                const int32_t *wpack, const int32_t *qpack, int8_t *output,
                                                void *scratch);

/* evo_depthwise_conv2d_s8_planar (Cortex-M4/M7/M33, plain C elsewhere): 3x3 filter, stride_w 1 or
 * 2, depth multiplier 1, requantisation mode 0/1. A ring of the three padded input rows, channel
 * planar (word [c][column pair][row slot] = two horizontally adjacent int16 values, input offset
 * added, 0 in the padding), so two adjacent outputs of a channel share their input words.
 *   wpack: per channel 15 words {2 * bias, 2 * bias, M, T, e, then per kernel row r0 r1 r2 r0 r1
 *          the words (2 w[r][0], 2 w[r][1]) and (2 w[r][1], 2 w[r][2])} (low half first); then
 *          C bytes of -input_offset (an input pixel of zero points, what the padding reads),
 *          zero-filled to a whole word.
 *   qpack: {mode, 0, 0, 0}. M, T, e and the modes as for the pairs kernel above.
 *   scratch: evo_depthwise_conv2d_s8_planar_get_buffer_size(p) bytes, 4-byte aligned. */
int32_t evo_depthwise_conv2d_s8_planar_get_buffer_size(const evo_depthwise_conv2d_s8_params_t *p);
evo_status_t evo_depthwise_conv2d_s8_planar(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                            const int32_t *wpack, const int32_t *qpack, int8_t *output, void *scratch);
evo_status_t evo_depthwise_conv2d_s8_planar_rows(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                                 const int32_t *wpack, const int32_t *qpack, int8_t *output,
                                                 void *scratch);

/* evo_depthwise_conv2d_s8_blocked (Cortex-M4/M7/M33, plain C elsewhere): the planar kernel's
 * arithmetic over G channels at a time (channel groups outermost), so its ring holds G channels:
 * the memory-first build's DSP depthwise where the whole ring would raise the arena, and with one
 * group the fastest kernel for rows 3, 5 or 6 outputs wide at stride 1 (a whole output row in
 * registers). Same shapes and modes as the planar kernel. Its _rows entry runs in place without an
 * input-row window, when the output starts a whole number of pixels at or before the input (else
 * EVO_ERR_ARG).
 *   wpack: per channel 8 words {2 * bias five times, M, T, e}; then per channel 10 words: for
 *          kernel rows r0 r1 r2 r0 r1, (2 w[r][0], 2 w[r][1]) and (2 w[r][1], 2 w[r][2]) (low half
 *          first); then C bytes of -input_offset, zero-filled to a whole word.
 *   qpack: {mode, G, 0, 0}, 1 <= G <= C.
 *   scratch: evo_depthwise_conv2d_s8_blocked_get_buffer_size(p, G) bytes, 4-byte aligned. */
int32_t evo_depthwise_conv2d_s8_blocked_get_buffer_size(const evo_depthwise_conv2d_s8_params_t *p, int32_t group);
evo_status_t evo_depthwise_conv2d_s8_blocked(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                             const int32_t *wpack, const int32_t *qpack, int8_t *output, void *scratch);
evo_status_t evo_depthwise_conv2d_s8_blocked_rows(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                                  const int32_t *wpack, const int32_t *qpack, int8_t *output,
                                                  void *scratch);

/* evo_depthwise_conv2d_s8_direct (Cortex-M4/M7/M33, plain C elsewhere): no scratch (the memory-first
 * build's DSP depthwise), depth multiplier 1, any filter up to EVO_DWD_MAX_TAPS taps, stride and
 * dilation; reads the int8 input directly, two taps of four channels per SMLAD.
 *   wpack: per quad q, tap pair j < ceil(kh * kw / 2), channel c (4 per quad): the int32 word
 *          (2 * w[2j][c], 2 * w[2j + 1][c]) over taps in row-major order (0 past the last tap or
 *          past C); then C bytes of -input_offset (a pixel of zero points, what padding reads),
 *          zero-filled to a whole word.
 *   qpack: as for the pairs kernel ({mode, 0, 0, 0}, then per quad 4 starts and {M, T, e} x 4),
 *          but each start is 2 * (bias + input_offset * sum of the channel's weights): the
 *          kernel widens the raw bytes, and a padded tap (zero points) adds -input_offset * w.
 *   scratch: none (may be NULL). */
/* The planar kernels' portable output (planar and channel-blocked twins of their assembly): 3x3
 * taps from the pair words A[s] = (x_k, x_k+1), B[s] = (x_k+2, x_k+3) of kernel row s, an output at
 * an even (odd 0) or odd padded column, doubled weight pairs w = {(w0, w1), (w1, w2)} per row, then
 * the fast requantisation (depthwise_fast.py) with constants m, t, e and the clamp of `mode`. */
static inline int8_t evo_dw3_planar_out(const uint32_t *A, const uint32_t *B, const uint32_t *w, int32_t odd, int32_t acc, int32_t m,
                                        int32_t t, int32_t e, int mode, int32_t lo, int32_t hi)
{
    int32_t s, r;
    for (s = 0; s < 3; ++s) {
        const uint32_t w01 = w[2 * s], w12 = w[2 * s + 1];
        if (!odd) {
            acc += evo_s32_lane(A[s], 0) * evo_s32_lane(w01, 0) + evo_s32_lane(A[s], 1) * evo_s32_lane(w01, 1) +
                   evo_s32_lane(B[s], 0) * evo_s32_lane(w12, 1);
        } else {
            acc += evo_s32_lane(A[s], 1) * evo_s32_lane(w01, 0) + evo_s32_lane(B[s], 0) * evo_s32_lane(w12, 0) +
                   evo_s32_lane(B[s], 1) * evo_s32_lane(w12, 1);
        }
    }
    r = evo_s32_ssat8(evo_s32_smmlar(acc, m, t + (acc >> 31)) >> e);
    if (mode == EVO_DWP_MODE_FAST_CLAMP) {
        r = r < lo ? lo : (r > hi ? hi : r);
    }
    return (int8_t)r;
}

#define EVO_DWD_MAX_TAPS 32
evo_status_t evo_depthwise_conv2d_s8_direct(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                            const int32_t *wpack, const int32_t *qpack, int8_t *output, void *scratch);
/* One output row of it: rows[fy] is kernel row fy's input row (NULL: padding); the other entries
 * call it. The row-streaming entry (evo/inplace.h) keeps the planner's input-row window as a
 * ring of rows (each copied once), its only scratch. */
void evo_depthwise_conv2d_s8_direct_row_of(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *const *rows,
                                           const int32_t *wpack, const int32_t *qpack, int8_t *output);
evo_status_t evo_depthwise_conv2d_s8_direct_rows(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                                 const int32_t *wpack, const int32_t *qpack, int8_t *output, void *scratch);

/* evo_depthwise_conv2d_s8_m0 (Cortex-M0/M0+; any core): int32 weights, zero-point-padded ring of
 * input rows, input offset folded into the accumulator start.
 *   wpack: per channel c, kernel row r, tap k: w[r][k][c] as int32.
 *   qpack: 4 header words {mode, 0, 0, 0}, then per channel 5 words {B, M >> 16, M & 0xFFFF, T, e}
 *          with B = bias + input_offset * sum of the channel's weights (the accumulator start) and
 *          T, e as above (mode 0/1: out = clamp((T + (a2 >> 31) + mulhi_round(a2, M)) >> e), a2 =
 *          2 * acc); mode 2: {B, M, 0, 0, shift} and the exact evo_requantize.
 *   scratch: evo_depthwise_conv2d_s8_m0_get_buffer_size(p) bytes. */
int32_t evo_depthwise_conv2d_s8_m0_get_buffer_size(const evo_depthwise_conv2d_s8_params_t *p);
evo_status_t evo_depthwise_conv2d_s8_m0(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                        const int32_t *wpack, const int32_t *qpack, int8_t *output, void *scratch);
evo_status_t evo_depthwise_conv2d_s8_m0_rows(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                             const int32_t *wpack, const int32_t *qpack, int8_t *output, void *scratch);

#endif
