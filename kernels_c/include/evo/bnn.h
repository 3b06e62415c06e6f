/* Binary neural network kernels (Larq Compute Engine semantics); see evo/ops/bnn.py.
 *
 * Bit-packed tensors hold channels in 32-bit words along the last dimension, exactly as LCE
 * does: channel c is bit (c % 32) of word (c / 32), LSB first; a set bit means -1 (x < 0), a
 * clear bit +1; unused high bits of the last word are 0. A binary convolution accumulates
 * accum = popcount(input XOR filter) over the receptive field; the "true" binary dot product is
 * K - 2 * accum (K = taps * channels_in).
 *
 * Popcount is inline SWAR (no libgcc call on Cortex-M). The multi-word path (the Cortex-M-tuned
 * path) counts three words at a time through a carry-save adder and keeps per-byte partial
 * counts of up to 30 words before one reduction. */
#ifndef EVO_BNN_H
#define EVO_BNN_H

#include "evo/arm_dsp.h"
#include "evo/common.h"
#include "evo/fixedpoint.h"

static inline int32_t evo_popcount32(uint32_t x)
{
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0F0F0F0Fu;
    return (int32_t)((x * 0x01010101u) >> 24);
}

/* Per-byte bit counts (each <= 8) of x. */
static inline uint32_t evo_popcount_bytes1(uint32_t x)
{
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    return (x + (x >> 4)) & 0x0F0F0F0Fu;
}

/* Per-byte bit counts of x, y and z together (each <= 24): a carry-save adder turns the three
 * words into `ones` + 2 * `twos`, so two SWAR counts cover three words. */
static inline uint32_t evo_popcount_bytes3(uint32_t x, uint32_t y, uint32_t z)
{
    const uint32_t u = x ^ y;
    uint32_t twos = (x & y) | (u & z);
    uint32_t ones = u ^ z;
    ones = ones - ((ones >> 1) & 0x55555555u);
    twos = twos - ((twos >> 1) & 0x55555555u);
    ones = (ones & 0x33333333u) + ((ones >> 2) & 0x33333333u); /* nibbles <= 4 */
    twos = (twos & 0x33333333u) + ((twos >> 2) & 0x33333333u);
    ones += twos << 1; /* nibbles <= 12: no carry into the next nibble */
    return (ones & 0x0F0F0F0Fu) + ((ones >> 4) & 0x0F0F0F0Fu);
}

/* acc + sum of the four bytes of `bytes` (the sum <= 255). */
static inline uint32_t evo_bnn_add_bytes(uint32_t acc, uint32_t bytes)
{
#if defined(__ARM_FEATURE_DSP)
    return __usada8(bytes, 0u, acc);
#else
    return acc + ((bytes * 0x01010101u) >> 24);
#endif
}

/* Range [*lo, *hi) of filter taps f with 0 <= origin + f * dil < size. */
static inline void evo_bnn_row_range(int32_t origin, int32_t dil, int32_t size, int32_t k, int32_t *lo, int32_t *hi)
{
    int32_t a = 0, b = k;
    while (a < b && origin + a * dil < 0) {
        ++a;
    }
    while (b > a && origin + (b - 1) * dil >= size) {
        --b;
    }
    *lo = a;
    *hi = b;
}

/* sum_i popcount(a[i] ^ b[i]) for n words. */
static inline int32_t evo_xor_popcount(const int32_t *a, const int32_t *b, int32_t n)
{
    int32_t total = 0;
    if (n == 1) {
        return evo_popcount32((uint32_t)a[0] ^ (uint32_t)b[0]);
    }
    while (n > 0) {
        /* byte-wise partial counts: <= 10 triples (240) or <= 9 triples and two words (232) fit a byte */
        const int32_t chunk = n < 30 ? n : 30;
        uint32_t bytes = 0;
        int32_t i;
        for (i = 0; i + 2 < chunk; i += 3) {
            bytes += evo_popcount_bytes3((uint32_t)a[i] ^ (uint32_t)b[i], (uint32_t)a[i + 1] ^ (uint32_t)b[i + 1], (uint32_t)a[i + 2] ^ (uint32_t)b[i + 2]);
        }
        for (; i < chunk; ++i) {
            bytes += evo_popcount_bytes1((uint32_t)a[i] ^ (uint32_t)b[i]);
        }
        bytes = (bytes & 0x00FF00FFu) + ((bytes >> 8) & 0x00FF00FFu);
        total += (int32_t)((bytes + (bytes >> 16)) & 0xFFFFu);
        a += chunk;
        b += chunk;
        n -= chunk;
    }
    return total;
}

/* sum_i popcount(a[i]) for n words (weights under one-padding). */
static inline int32_t evo_popcount_words(const int32_t *a, int32_t n)
{
    int32_t total = 0, i;
    for (i = 0; i < n; ++i) {
        total += evo_popcount32((uint32_t)a[i]);
    }
    return total;
}

/* Round half away from zero and saturate to int8 (LCE's int8 output transform). */
static inline int8_t evo_bnn_round_s8(float y)
{
    int32_t q;
    if (y >= 127.0f) {
        return 127;
    }
    if (y <= -128.0f) {
        return -128;
    }
    q = (int32_t)y; /* truncates toward zero */
    if (y - (float)q >= 0.5f) {
        ++q;
    } else if ((float)q - y >= 0.5f) {
        --q;
    }
    return (int8_t)EVO_CLAMP(q, -128, 127);
}

/* LceQuantize: [outer, channels] float/int8 -> [outer, words] packed. */
typedef struct {
    int32_t outer;
    int32_t channels;
    int32_t words;
    int32_t zero_point; /* int8: bit set <=> x < zero_point */
} evo_lce_quantize_params_t;

evo_status_t evo_lce_quantize_f32(const evo_lce_quantize_params_t *p, const float *input, int32_t *output);
evo_status_t evo_lce_quantize_s8(const evo_lce_quantize_params_t *p, const int8_t *input, int32_t *output);

/* LceDequantize: [outer, words] packed -> [outer, channels] +-1 (float) or q(+-1) (int8). */
typedef struct {
    int32_t outer;
    int32_t channels;
    int32_t words;
    int32_t q_plus, q_minus; /* int8 output: the quantized +1 and -1 */
} evo_lce_dequantize_params_t;

evo_status_t evo_lce_dequantize_f32(const evo_lce_dequantize_params_t *p, const int32_t *input, float *output);
evo_status_t evo_lce_dequantize_s8(const evo_lce_dequantize_params_t *p, const int32_t *input, int8_t *output);

/* Integer output transform of binary layers made from int8 TFLite layers (evo/passes/binarize.py),
 * bit-exact with the int8 CONV_2D / FULLY_CONNECTED they replace: per output channel c the int32
 * accumulator is acc = offset[c] + factor[c] * accum (accum = XOR-popcount, or the signed +-1 sum
 * for QBConv2D), minus pad_term[c] * (padded bits - 2 * popcount(filter at padded taps)) for
 * zero-padded taps, then TFLM's requantisation, output zero point and activation clamp. */
typedef struct {
    const int32_t *offset;
    const int32_t *factor;
    const int32_t *pad_term;
    const int32_t *multiplier;
    const int32_t *shift;
    int32_t out_zp;
    int32_t act_min, act_max;
} evo_bnn_requant_t;

static inline int8_t evo_bnn_requant_s8(const evo_bnn_requant_t *rq, int32_t c, int32_t acc)
{
#if defined(__ARM_FEATURE_DSP)
    const int32_t out = evo_requantize_dsp(acc, rq->multiplier[c], rq->shift[c]) + rq->out_zp; /* same results */
#else
    const int32_t out = evo_requantize(acc, rq->multiplier[c], rq->shift[c]) + rq->out_zp;
#endif
    return (int8_t)EVO_CLAMP(out, rq->act_min, rq->act_max);
}

/* Binary 2-D convolution. `in.c` is channels_in (unpacked), `words` = ceil(channels_in / 32);
 * the filter is packed OHWI [out.c, kh, kw, words]. pad_value 1 pads with +1 (bit 0: padded
 * taps add popcount(filter)); pad_value 0 pads with 0 (padded taps drop out of K).
 * Output transforms (per output channel c, v = clamp(K_eff - 2 * accum, clamp_min, clamp_max)):
 *   f32: v * multiplier[c] + bias[c]
 *   s8:  round_half_away(v * multiplier[c] + bias[c]) saturated (output scale/zero point folded)
 *   bin: bit c set <=> accum > threshold[c] (one-padding or VALID only) */
typedef struct {
    evo_dims4_t in;
    evo_dims4_t out;
    int32_t words;
    int32_t out_words; /* packed output words (bin) */
    int32_t kh, kw;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t pad_value;
    int32_t clamp_min, clamp_max;
    const float *multiplier;
    const float *bias;
    const int32_t *threshold;
    evo_bnn_requant_t rq; /* q8 output only */
    int32_t tap_pack;    /* tiled kernels (evo/bnn_tiled.h): taps per field word (0: one tap per `words` words) */
    int32_t field_words; /* tiled kernels: gathered field words, a multiple of 3 */
    int32_t row_blocks;  /* tiled kernels: blocks per row of filter taps when rows are whole blocks, else 0 */
    int32_t edge_blocks; /* tiled kernels: 1 when a padded edge column covers a row's first or last block */
} evo_bconv2d_params_t;

/* `scratch`: kh * kw * words int32 (the gathered receptive field). */
evo_status_t evo_bconv2d_f32(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, float *output, int32_t *scratch);
evo_status_t evo_bconv2d_s8(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, int8_t *output, int32_t *scratch);
evo_status_t evo_bconv2d_bin(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, int32_t *output, int32_t *scratch);
/* int8 output through `rq` (binarized int8 CONV_2D), bit-exact with it. */
evo_status_t evo_bconv2d_q8(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, int8_t *output, int32_t *scratch);
/* 1x1, stride 1, no padding: one contiguous dot product per pixel and channel. */
evo_status_t evo_bconv2d_pw_f32(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, float *output);
evo_status_t evo_bconv2d_pw_bin(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, int32_t *output);

/* Cortex-M-tuned path: gather one output pixel's receptive field into `buf` ([kh*kw*words],
 * padded taps = 0, i.e. +1), so each output channel is a single contiguous XOR-popcount over
 * kh*kw*words words against its (contiguous OHWI) filter. Returns the number of padded taps. */
static inline int32_t evo_bconv2d_gather(const evo_bconv2d_params_t *p, const int32_t *in_b, int32_t y0, int32_t x0, int32_t *buf)
{
    const int32_t words = p->words;
    int32_t fy, fx, i, npad = 0;
    for (fy = 0; fy < p->kh; ++fy) {
        const int32_t iy = y0 + fy * p->dil_h;
        const int32_t row_ok = iy >= 0 && iy < p->in.h;
        for (fx = 0; fx < p->kw; ++fx) {
            const int32_t ix = x0 + fx * p->dil_w;
            if (row_ok && ix >= 0 && ix < p->in.w) {
                const int32_t *src = in_b + ((size_t)iy * p->in.w + ix) * words;
                for (i = 0; i < words; ++i) {
                    buf[i] = src[i];
                }
            } else {
                for (i = 0; i < words; ++i) {
                    buf[i] = 0;
                }
                ++npad;
            }
            buf += words;
        }
    }
    return npad;
}

/* Walk over a binary convolution's output pixels in row-major (b, oy, ox) order, so that every
 * bconv kernel shares one loop nest: `pix` is the output pixel index, `in_b` the batch's input,
 * (y0, x0) the input position of the window's top-left tap. */
typedef struct {
    const int32_t *in_b;
    size_t pix;
    int32_t b, oy, ox;
    int32_t y0, x0;
} evo_bconv2d_pixel_t;

static inline void evo_bconv2d_pixel_place(const evo_bconv2d_params_t *p, const int32_t *input, evo_bconv2d_pixel_t *px)
{
    px->in_b = input + (size_t)px->b * p->in.h * p->in.w * p->words;
    px->y0 = px->oy * p->stride_h - p->pad_h;
    px->x0 = px->ox * p->stride_w - p->pad_w;
}

/* The first output pixel; 0 when the output is empty. */
static inline int evo_bconv2d_pixel_first(const evo_bconv2d_params_t *p, const int32_t *input, evo_bconv2d_pixel_t *px)
{
    px->pix = 0;
    px->b = px->oy = px->ox = 0;
    evo_bconv2d_pixel_place(p, input, px);
    return p->in.n > 0 && p->out.h > 0 && p->out.w > 0;
}

/* Step to the next output pixel; 0 after the last. */
static inline int evo_bconv2d_pixel_next(const evo_bconv2d_params_t *p, const int32_t *input, evo_bconv2d_pixel_t *px)
{
    ++px->pix;
    if (!evo_next_bhw(&px->b, &px->oy, &px->ox, p->in.n, p->out.h, p->out.w)) {
        return 0;
    }
    evo_bconv2d_pixel_place(p, input, px);
    return 1;
}

/* Zero-padding correction: popcount of the filter words at the padded taps of this pixel. */
static inline int32_t evo_bconv2d_pad_popcount(const evo_bconv2d_params_t *p, const int32_t *filt_c, int32_t y0, int32_t x0)
{
    int32_t fy, fx, total = 0;
    for (fy = 0; fy < p->kh; ++fy) {
        const int32_t iy = y0 + fy * p->dil_h;
        for (fx = 0; fx < p->kw; ++fx) {
            const int32_t ix = x0 + fx * p->dil_w;
            if (!(iy >= 0 && iy < p->in.h && ix >= 0 && ix < p->in.w)) {
                total += evo_popcount_words(filt_c + (size_t)(fy * p->kw + fx) * p->words, p->words);
            }
        }
    }
    return total;
}

/* v = clamp(K_eff - 2 * accum, clamp_min, clamp_max) of one output pixel and channel, from the
 * receptive field that evo_bconv2d_gather put in `field` (returning npad) and the channel's
 * filter `filt_c`. */
static inline int32_t evo_bconv2d_value(const evo_bconv2d_params_t *p, const int32_t *field, const int32_t *filt_c,
                                        int32_t y0, int32_t x0, int32_t npad)
{
    int32_t k_eff = p->kh * p->kw * p->in.c;
    int32_t accum = evo_xor_popcount(field, filt_c, p->kh * p->kw * p->words);
    if (npad > 0 && !p->pad_value) { /* padded taps drop out: remove their +1 contribution */
        accum -= evo_bconv2d_pad_popcount(p, filt_c, y0, x0);
        k_eff -= npad * p->in.c;
    }
    return EVO_CLAMP(k_eff - 2 * accum, p->clamp_min, p->clamp_max);
}

/* Float and int8 outputs of the plain kernels: clamp(K_eff - 2 accum) * multiplier + bias,
 * stored as float (to_s8 0) or rounded and saturated to int8 (to_s8 1). Each kernel passes a
 * constant, so the choice folds away. */
static inline evo_status_t evo_bconv2d_affine(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, void *output,
                                              int32_t to_s8, int32_t *scratch)
{
    const int32_t fsize = p->kh * p->kw * p->words;
    evo_bconv2d_pixel_t px;
    int32_t co, more;
    for (more = evo_bconv2d_pixel_first(p, input, &px); more; more = evo_bconv2d_pixel_next(p, input, &px)) {
        const int32_t npad = evo_bconv2d_gather(p, px.in_b, px.y0, px.x0, scratch);
        const size_t out = px.pix * p->out.c;
        for (co = 0; co < p->out.c; ++co) {
            const int32_t v = evo_bconv2d_value(p, scratch, filter + (size_t)co * fsize, px.y0, px.x0, npad);
            const float y = (float)v * p->multiplier[co] + p->bias[co];
            if (to_s8) {
                ((int8_t *)output)[out + (size_t)co] = evo_bnn_round_s8(y);
            } else {
                ((float *)output)[out + (size_t)co] = y;
            }
        }
    }
    return EVO_OK;
}

/* LceBMaxPool2d on packed words: bitwise AND over the in-bounds window (max of +-1 values is -1
 * only when every value is -1). `in.c`/`out.c` are words. */
typedef struct {
    evo_dims4_t in;
    evo_dims4_t out;
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
} evo_bmaxpool2d_params_t;

evo_status_t evo_bmaxpool2d(const evo_bmaxpool2d_params_t *p, const int32_t *input, int32_t *output);

/* Binary fully connected: packed [batches, words] x packed weights [units, words].
 * bbfc_bin: bit u set <=> accum > threshold[u]; bbqfc_s8: int8 as evo_bconv2d_s8;
 * bbfc_f32: (K - 2 accum) * multiplier[u] + bias[u]. */
typedef struct {
    int32_t batches;
    int32_t channels; /* K */
    int32_t words;
    int32_t units;
    int32_t out_words;
    int32_t clamp_min, clamp_max;
    const float *multiplier;
    const float *bias;
    const int32_t *threshold;
    evo_bnn_requant_t rq; /* q8 output only */
} evo_bfc_params_t;

evo_status_t evo_bbfc_bin(const evo_bfc_params_t *p, const int32_t *input, const int32_t *weights, int32_t *output);
evo_status_t evo_bbqfc_s8(const evo_bfc_params_t *p, const int32_t *input, const int32_t *weights, int8_t *output);
evo_status_t evo_bbfc_f32(const evo_bfc_params_t *p, const int32_t *input, const int32_t *weights, float *output);
/* int8 output through `rq` (binarized int8 FULLY_CONNECTED), bit-exact with it. */
evo_status_t evo_bbfc_q8(const evo_bfc_params_t *p, const int32_t *input, const int32_t *weights, int8_t *output);

/* QBConv2D: int8 input, binary weights (an int8 CONV_2D whose per-channel weights are all
 * +-w[c]). The filter holds each output channel's flattened HWI filter as one bit string,
 * [out.c, words], words = ceil(kh * kw * in.c / 32) (bit set = -w[c]); the kernel
 * sums the zero-point-corrected inputs with add/sub (table lookups of signed sums of four inputs),
 * T = sum(+-(x - zp)) over in-bounds taps
 * (TFLM's zero-point padding adds nothing), then acc = rq.offset[c] + rq.factor[c] * T
 * (offset = bias, factor = w[c]), exactly the int8 convolution's accumulator. */
typedef struct {
    evo_dims4_t in;
    evo_dims4_t out;
    int32_t words; /* per output channel */
    int32_t kh, kw;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t input_offset; /* -zero_point of the input */
    evo_bnn_requant_t rq;
} evo_qbconv2d_params_t;

/* `scratch`: 4 * out.c + 256 + 64 * words bytes (partial sums per channel, the 16-entry tables of
 * signed sums of four field values for one word, the int16 receptive field minus zero point). */
evo_status_t evo_qbconv2d_s8(const evo_qbconv2d_params_t *p, const int8_t *input, const int32_t *filter, int8_t *output, int32_t *scratch);

/* SIGN float32 (stock-converter ste_sign left in place): -1, 0 or +1. */
typedef struct {
    int32_t size;
} evo_sign_params_t;

evo_status_t evo_sign_f32(const evo_sign_params_t *p, const float *input, float *output);

#endif
