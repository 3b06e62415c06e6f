/* CONV_2D, int8, for MVE cores (Cortex-M55) as a matrix product (evo/mve.h): per output pixel,
 * its receptive field as one row of kh * kw * C bytes (im2col into the scratch; a 1x1 filter
 * without padding reads the input pixel in place), then four output channels per pass. Padded
 * taps hold the input zero point, which the folded input offset turns into 0, as in TFLM. */
#include "evo/mve.h"

/* The receptive field of output pixel (n, oy, ox) as one contiguous row in `row`. */
static void gather_row(const evo_conv2d_s8_mve_params_t *p, const int8_t *input, int32_t n, int32_t oy, int32_t ox, int8_t *row)
{
    const int32_t c = p->in.c, kw = p->kw, in_w = p->in.w;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    const int32_t x1 = x0 + (kw - 1) * p->dil_w; /* last tap */
    const int8_t pad = (int8_t)p->pad_value;
    int32_t ky, kx;
    for (ky = 0; ky < p->kh; ++ky, row += kw * c) {
        const int32_t iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
        const int8_t *src = input + ((n * p->in.h + iy) * in_w) * c;
        if (iy < 0 || iy >= p->in.h) {
            evo_mve_fill(row, pad, kw * c);
        } else if (p->dil_w == 1 && x0 >= 0 && x1 < in_w) {
            evo_mve_copy(row, src + x0 * c, kw * c); /* the whole filter row is one run of the input */
        } else {
            for (kx = 0; kx < kw; ++kx) {
                const int32_t ix = x0 + kx * p->dil_w;
                if (ix < 0 || ix >= in_w) {
                    evo_mve_fill(row + kx * c, pad, c);
                } else {
                    evo_mve_copy(row + kx * c, src + ix * c, c);
                }
            }
        }
    }
}

evo_status_t evo_conv2d_s8_mve(const evo_conv2d_s8_mve_params_t *p, const int8_t *input, const int8_t *weights,
                               const int32_t *quant, int8_t *output, void *scratch)
{
    const int32_t depth = p->kh * p->kw * p->in.c;
    const int32_t group_bytes = 64 * ((depth + 15) / 16);
    const int32_t oc = p->out.c, oh = p->out.h, ow = p->out.w;
    const int32_t out_offset = p->output_offset, act_min = p->act_min, act_max = p->act_max;
    const int32_t groups = quant[0], nconst = quant[1];
    const int32_t *konst = quant + 2 + groups * EVO_MVE_QUANT_WORDS;
    const int direct = p->scratch_bytes == 0; /* 1x1, no padding: the row is the input pixel */
    int32_t n, oy, ox, i;
    for (n = 0; n < p->out.n; ++n) {
        for (oy = 0; oy < oh; ++oy) {
            for (ox = 0; ox < ow; ++ox) {
                const int8_t *row;
                const int8_t *w = weights;
                const int32_t *q = quant + 2;
                int8_t *y = output + ((n * oh + oy) * ow + ox) * oc;
                if (direct) {
                    row = input + ((n * p->in.h + oy * p->stride_h) * p->in.w + ox * p->stride_w) * p->in.c;
                } else {
                    gather_row(p, input, n, oy, ox, (int8_t *)scratch);
                    row = (const int8_t *)scratch;
                }
                for (i = 0; i < groups; ++i, w += group_bytes, q += EVO_MVE_QUANT_WORDS) {
                    int32_t acc[4];
                    evo_mve_dot4(row, w, depth, acc);
                    evo_mve_requant4(acc, q, out_offset, act_min, act_max, y);
                }
                evo_mve_constants(konst, nconst, y);
            }
        }
    }
    return EVO_OK;
}
