/* DEPTHWISE_CONV_2D, int8, depth multiplier 1, for Cortex-M0/M0+, without scratch
 * (evo/conv_m0.h): per output pixel a table of its taps' input pixels (a pixel of zero points for
 * padded taps, so with the input offset folded into the starts every tap is the same
 * multiply-add), then the depthwise engine (mm_s8_m0.c) for all channels, four per word load.
 * Output pixels are written in order, each after its taps were read. */
#include "evo/conv_m0.h"

evo_status_t evo_depthwise_conv2d_s8_m0t(const evo_depthwise_conv2d_s8_m0t_params_t *p, const int8_t *input,
                                         const int32_t *stream, const int32_t *zp, int8_t *output, void *scratch)
{
    const int32_t kh = p->kh, kw = p->kw, h = p->in.h, w = p->in.w, c = p->in.c;
    const int8_t *const pad = (const int8_t *)zp;
    /* four channels per word load where every tap pixel is word aligned */
    const int words = (c & 3) == 0 && ((uintptr_t)input & 3) == 0 && ((uintptr_t)pad & 3) == 0;
    const int8_t *tab[EVO_M0T_MAX_TAPS];
    const size_t step = (size_t)p->dil_w * c;
    int32_t b, oy, ox, fy, fx;

    (void)scratch;
    if (p->in.n != p->out.n || p->out.c != c || kh * kw > EVO_M0T_MAX_TAPS || kh < 1 || kw < 1 || p->stride_h < 1 ||
        p->stride_w < 1 || p->dil_h < 1 || p->dil_w < 1) {
        return EVO_ERR_ARG;
    }
    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * h * w * c;
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out.w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                const int cols_in = ix0 >= 0 && ix0 + (kw - 1) * p->dil_w < w;
                const int8_t **t = tab;
                for (fy = 0; fy < kh; ++fy) {
                    const int32_t iy = iy0 + fy * p->dil_h;
                    if (iy < 0 || iy >= h) {
                        for (fx = 0; fx < kw; ++fx) {
                            *t++ = pad;
                        }
                    } else if (cols_in) { /* the common case: kw taps dil_w pixels apart */
                        const int8_t *q = in_b + ((size_t)iy * w + ix0) * c;
                        for (fx = 0; fx < kw; ++fx, q += step) {
                            *t++ = q;
                        }
                    } else {
                        const int8_t *row = in_b + (size_t)iy * w * c;
                        for (fx = 0; fx < kw; ++fx) {
                            const int32_t ix = ix0 + fx * p->dil_w;
                            *t++ = (ix >= 0 && ix < w) ? row + (size_t)ix * c : pad;
                        }
                    }
                }
                evo_dw_s8_m0(tab, kh * kw, stream, c, &p->rq, words, output);
                output += c;
            }
        }
    }
    return EVO_OK;
}
