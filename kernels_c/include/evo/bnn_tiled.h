/* Cortex-M-tuned binary convolution (evo/ops/bnn_tiled.py picks it at generation time).
 *
 * Output channels go in tiles of four: the receptive field of one output pixel is gathered once
 * (padded taps = bit 0) and each field word is XORed with the matching word of four filters, so
 * field loads are shared. The filters are re-laid-out at generation time so that every step
 * reads consecutive words: per tile, full blocks of three words [block][lane][3], then the
 * remaining (fsize % 3) words [word][lane]. Three words of one lane are counted together
 * through a carry-save adder (evo_popcount_bytes3); the per-byte counts go into the lane's
 * total with one USADA8 on DSP cores (a multiply-and-shift elsewhere, so the same C runs on the
 * host and on M0). Padded lanes of the last tile hold zero filters; their results are dropped.
 *
 * Zero-padding (pad_value 0) needs, per padded tap, the popcount of each filter at that tap:
 * `tap_pop` [out.c, kh * kw] is precomputed, so border pixels cost a few adds per channel. */
#ifndef EVO_BNN_TILED_H
#define EVO_BNN_TILED_H

#include "evo/bnn.h"

#define EVO_BNN_LANES 4

/* acc + sum of the four bytes of `bytes` (each <= 24). */
static inline uint32_t evo_bnn_add_bytes(uint32_t acc, uint32_t bytes)
{
#if defined(__ARM_FEATURE_DSP)
    return __usada8(bytes, 0u, acc);
#else
    return acc + ((bytes * 0x01010101u) >> 24);
#endif
}

/* accum[l] = sum_j popcount(field[j] ^ filter_l[j]) for the four lanes of one tile. */
static inline void evo_bnn_xor_popcount4(const int32_t *field, const int32_t *tile, int32_t n, int32_t *accum)
{
    const uint32_t *x = (const uint32_t *)field;
    const uint32_t *f = (const uint32_t *)tile;
    uint32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    int32_t j;
    for (j = n / 3; j > 0; --j) {
        const uint32_t x0 = x[0], x1 = x[1], x2 = x[2];
        a0 = evo_bnn_add_bytes(a0, evo_popcount_bytes3(x0 ^ f[0], x1 ^ f[1], x2 ^ f[2]));
        a1 = evo_bnn_add_bytes(a1, evo_popcount_bytes3(x0 ^ f[3], x1 ^ f[4], x2 ^ f[5]));
        a2 = evo_bnn_add_bytes(a2, evo_popcount_bytes3(x0 ^ f[6], x1 ^ f[7], x2 ^ f[8]));
        a3 = evo_bnn_add_bytes(a3, evo_popcount_bytes3(x0 ^ f[9], x1 ^ f[10], x2 ^ f[11]));
        x += 3;
        f += 12;
    }
    for (j = n % 3; j > 0; --j) {
        const uint32_t x0 = x[0];
        a0 = evo_bnn_add_bytes(a0, evo_popcount_bytes1(x0 ^ f[0]));
        a1 = evo_bnn_add_bytes(a1, evo_popcount_bytes1(x0 ^ f[1]));
        a2 = evo_bnn_add_bytes(a2, evo_popcount_bytes1(x0 ^ f[2]));
        a3 = evo_bnn_add_bytes(a3, evo_popcount_bytes1(x0 ^ f[3]));
        x += 1;
        f += 4;
    }
    accum[0] = (int32_t)a0;
    accum[1] = (int32_t)a1;
    accum[2] = (int32_t)a2;
    accum[3] = (int32_t)a3;
}

/* Sum of tap_pop_c over the taps of this output pixel that fall outside the input. */
static inline int32_t evo_bnn_pad_pop(const evo_bconv2d_params_t *p, const int32_t *tap_pop_c, int32_t y0, int32_t x0)
{
    int32_t fy, fx, total = 0;
    for (fy = 0; fy < p->kh; ++fy) {
        const int32_t iy = y0 + fy * p->dil_h;
        const int32_t row_ok = iy >= 0 && iy < p->in.h;
        for (fx = 0; fx < p->kw; ++fx) {
            const int32_t ix = x0 + fx * p->dil_w;
            if (!(row_ok && ix >= 0 && ix < p->in.w)) {
                total += tap_pop_c[fy * p->kw + fx];
            }
        }
    }
    return total;
}

/* Counts the field against the next tile of four filters: fills accum, moves *tile on, and
 * returns how many lanes are real channels (the last tile may be partial). */
static inline int32_t evo_bnn_next_tile(const evo_bconv2d_params_t *p, const int32_t *field, const int32_t **tile, int32_t fsize,
                                        int32_t co, int32_t *accum)
{
    evo_bnn_xor_popcount4(field, *tile, fsize, accum);
    *tile += (size_t)fsize * EVO_BNN_LANES;
    return p->out.c - co < EVO_BNN_LANES ? p->out.c - co : EVO_BNN_LANES;
}

/* clamp(K_eff - 2 accum) for channel c, the value the float and int8 outputs scale
 * (evo_bconv2d_value with the padded taps' popcounts taken from tap_pop). */
static inline int32_t evo_bnn_tiled_value(const evo_bconv2d_params_t *p, const int32_t *tap_pop, int32_t c, int32_t accum,
                                          const evo_bconv2d_pixel_t *px, int32_t npad)
{
    int32_t k_eff = p->kh * p->kw * p->in.c;
    if (npad > 0 && !p->pad_value) { /* padded taps drop out: remove their +1 contribution */
        accum -= evo_bnn_pad_pop(p, tap_pop + (size_t)c * p->kh * p->kw, px->y0, px->x0);
        k_eff -= npad * p->in.c;
    }
    return EVO_CLAMP(k_eff - 2 * accum, p->clamp_min, p->clamp_max);
}

/* Float and int8 outputs: clamp(K_eff - 2 accum) * multiplier + bias, stored as float
 * (to_s8 0) or rounded and saturated to int8 (to_s8 1). Each kernel passes a constant, so the
 * choice folds away. */
static inline evo_status_t evo_bconv2d_tiled_affine(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter,
                                                    const int32_t *tap_pop, void *output, int32_t to_s8, int32_t *scratch)
{
    const int32_t fsize = p->kh * p->kw * p->words;
    evo_bconv2d_pixel_t px;
    int32_t co, l, more;
    int32_t accum[EVO_BNN_LANES];
    for (more = evo_bconv2d_pixel_first(p, input, &px); more; more = evo_bconv2d_pixel_next(p, input, &px)) {
        const size_t out = px.pix * p->out.c;
        const int32_t npad = evo_bconv2d_gather(p, px.in_b, px.y0, px.x0, scratch);
        const int32_t *tile = filter;
        for (co = 0; co < p->out.c; co += EVO_BNN_LANES) {
            const int32_t lanes = evo_bnn_next_tile(p, scratch, &tile, fsize, co, accum);
            for (l = 0; l < lanes; ++l) {
                const int32_t c = co + l;
                const int32_t v = evo_bnn_tiled_value(p, tap_pop, c, accum[l], &px, npad);
                const float y = (float)v * p->multiplier[c] + p->bias[c];
                if (to_s8) {
                    ((int8_t *)output)[out + (size_t)c] = evo_bnn_round_s8(y);
                } else {
                    ((float *)output)[out + (size_t)c] = y;
                }
            }
        }
    }
    return EVO_OK;
}

/* `filter` is the tiled layout above ((out.c + 3) / 4 tiles of kh*kw*words*4
 * words); `scratch` holds kh * kw * words int32. */
evo_status_t evo_bconv2d_tiled_bin(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, int32_t *output, int32_t *scratch);
evo_status_t evo_bconv2d_tiled_f32(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, const int32_t *tap_pop,
                                   float *output, int32_t *scratch);
evo_status_t evo_bconv2d_tiled_s8(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, const int32_t *tap_pop,
                                  int8_t *output, int32_t *scratch);
evo_status_t evo_bconv2d_tiled_q8(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, const int32_t *tap_pop,
                                  int8_t *output, int32_t *scratch);

#endif
