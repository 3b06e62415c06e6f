/* QBConv2D: int8 input, binary (+-w[c]) weights stored as sign bits, add/sub accumulation,
 * bit-exact with the int8 CONV_2D it replaces: T[c] = sum over the receptive field of
 * +-(x - zero_point), acc = offset[c] + factor[c] * T[c] (bias + w[c] * T[c]).
 *
 * Per output pixel, each group of four field values gets a 16-entry table of its signed sums
 * (one entry per sign pattern, 15 subtractions); every output channel then adds one table
 * entry per four weights, picked by a nibble of its sign bits. That costs about one
 * instruction per weight and channel on any Cortex-M (no multiplies, no DSP extension), where
 * the int8 convolution needs one multiply-accumulate per weight. */
#include "evo/bnn.h"

/* Gather one output pixel's receptive field as x - zero_point (int16) in HWI order; padded taps
 * are 0, which is what TFLM's zero-point padding contributes. */
static void qbconv_gather(const evo_qbconv2d_params_t *p, const int8_t *in_b, int32_t y0, int32_t x0, int16_t *buf)
{
    const int32_t c = p->in.c;
    int32_t fy, fx, i;
    for (fy = 0; fy < p->kh; ++fy) {
        const int32_t iy = y0 + fy * p->dil_h;
        const int32_t row_ok = iy >= 0 && iy < p->in.h;
        for (fx = 0; fx < p->kw; ++fx) {
            const int32_t ix = x0 + fx * p->dil_w;
            if (row_ok && ix >= 0 && ix < p->in.w) {
                const int8_t *src = in_b + ((size_t)iy * p->in.w + ix) * c;
                for (i = 0; i < c; ++i) {
                    buf[i] = (int16_t)(src[i] + p->input_offset);
                }
            } else {
                for (i = 0; i < c; ++i) {
                    buf[i] = 0;
                }
            }
            buf += c;
        }
    }
}

/* table[16 g + m] = sum_j (bit j of m ? -v[4g + j] : v[4g + j]) for each group g of four. */
static void qbconv_tables(const int16_t *v, int32_t groups, int16_t *table)
{
    int32_t g;
    for (g = 0; g < groups; ++g, v += 4, table += 16) {
        const int32_t d0 = 2 * v[0], d1 = 2 * v[1], d2 = 2 * v[2], d3 = 2 * v[3];
        const int32_t e0 = v[0] + v[1] + v[2] + v[3];
        const int32_t e2 = e0 - d1, e4 = e0 - d2, e6 = e4 - d1;
        table[0] = (int16_t)e0;
        table[1] = (int16_t)(e0 - d0);
        table[2] = (int16_t)e2;
        table[3] = (int16_t)(e2 - d0);
        table[4] = (int16_t)e4;
        table[5] = (int16_t)(e4 - d0);
        table[6] = (int16_t)e6;
        table[7] = (int16_t)(e6 - d0);
        table[8] = (int16_t)(e0 - d3);
        table[9] = (int16_t)(e0 - d0 - d3);
        table[10] = (int16_t)(e2 - d3);
        table[11] = (int16_t)(e2 - d0 - d3);
        table[12] = (int16_t)(e4 - d3);
        table[13] = (int16_t)(e4 - d0 - d3);
        table[14] = (int16_t)(e6 - d3);
        table[15] = (int16_t)(e6 - d0 - d3);
    }
}

/* One word of sign bits: one table entry per nibble. */
static int32_t qbconv_word_sum(const int16_t *table, uint32_t bits)
{
    int32_t acc = table[bits & 15u];
    acc += table[16 + ((bits >> 4) & 15u)];
    acc += table[32 + ((bits >> 8) & 15u)];
    acc += table[48 + ((bits >> 12) & 15u)];
    acc += table[64 + ((bits >> 16) & 15u)];
    acc += table[80 + ((bits >> 20) & 15u)];
    acc += table[96 + ((bits >> 24) & 15u)];
    return acc + table[112 + (bits >> 28)];
}

evo_status_t evo_qbconv2d_s8(const evo_qbconv2d_params_t *p, const int8_t *input, const int32_t *filter, int8_t *output, int32_t *scratch)
{
    const int32_t k = p->kh * p->kw * p->in.c;
    const int32_t words = p->words;
    const int32_t padded = 32 * words;
    int32_t *sums = scratch;                      /* [out.c] partial T per channel (words > 1) */
    int16_t *table = (int16_t *)(sums + p->out.c); /* [128] tables of one word's 8 groups */
    int16_t *field = table + 128;                  /* [32 * words] */
    int32_t b, oy, ox, co, i, wi;
    for (i = k; i < padded; ++i) {
        field[i] = 0; /* past the field (last word's unused sign bits are 0): never written by the gather */
    }
    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * p->in.h * p->in.w * p->in.c;
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out.w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                const size_t pix = ((size_t)b * p->out.h + oy) * p->out.w + ox;
                int8_t *out = output + pix * p->out.c;
                qbconv_gather(p, in_b, y0, x0, field);
                /* one word (32 weights) at a time keeps the tables at 256 bytes */
                for (wi = 0; wi + 1 < words; ++wi) {
                    qbconv_tables(field + 32 * wi, 8, table);
                    for (co = 0; co < p->out.c; ++co) {
                        const int32_t s = qbconv_word_sum(table, (uint32_t)filter[(size_t)co * words + wi]);
                        sums[co] = wi ? sums[co] + s : s;
                    }
                }
                qbconv_tables(field + 32 * wi, 8, table);
                for (co = 0; co < p->out.c; ++co) {
                    int32_t t = qbconv_word_sum(table, (uint32_t)filter[(size_t)co * words + wi]);
                    if (wi) {
                        t += sums[co];
                    }
                    out[co] = evo_bnn_requant_s8(&p->rq, co, p->rq.offset[co] + p->rq.factor[co] * t);
                }
            }
        }
    }
    return EVO_OK;
}
