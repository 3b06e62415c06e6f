/* DEPTHWISE_CONV_2D, int8, depth multiplier 1, for MVE cores (Cortex-M55): four channels per
 * vector (evo/mve.h), the input offset folded into the bias, vector requantisation bit-exact
 * with TFLM. An output pixel whose window lies inside the image reads the input in place; a
 * border pixel first gathers its window into the scratch with the zero point in the outside taps
 * (which the folded offset turns into 0, as TFLM skips them), then takes the same loop. */
#include "evo/mve.h"

/* The kh x kw x C window of a border pixel, zero point outside the image. */
static void gather_window(const evo_depthwise_conv2d_s8_mve_params_t *p, const int8_t *input, int32_t n, int32_t iy0, int32_t ix0,
                          int8_t *dst)
{
    const int32_t ch = p->in.c;
    int32_t ky, kx;
    for (ky = 0; ky < p->kh; ++ky) {
        const int32_t iy = iy0 + ky * p->dil_h;
        for (kx = 0; kx < p->kw; ++kx, dst += ch) {
            const int32_t ix = ix0 + kx * p->dil_w;
            if (iy < 0 || iy >= p->in.h || ix < 0 || ix >= p->in.w) {
                evo_mve_fill(dst, (int8_t)p->pad_value, ch);
            } else {
                evo_mve_copy(dst, input + ((n * p->in.h + iy) * p->in.w + ix) * ch, ch);
            }
        }
    }
}

/* One group of four channels (c..c+3) of one output pixel: `x` its window at channel c, `ts` and
 * `rs` the byte steps between taps and between filter rows, `w` the group's weights. */
static inline void pixel_group(const int8_t *x, int32_t ts, int32_t rs, const int8_t *w, const int32_t *q, int32_t kh, int32_t kw,
                               int32_t left, int32_t out_offset, int32_t act_min, int32_t act_max, int8_t *y)
{
#if EVO_MVE
    const mve_pred16_t lanes = vctp32q((uint32_t)left);
    int32x4_t acc = vld1q_s32(q);
    if (kh == 3 && kw == 3) { /* the common 3x3: taps unrolled, weight offsets immediate */
        acc = vaddq_s32(acc, vmulq_s32(vldrbq_z_s32(x, lanes), vldrbq_s32(w)));
        acc = vaddq_s32(acc, vmulq_s32(vldrbq_z_s32(x + ts, lanes), vldrbq_s32(w + 4)));
        acc = vaddq_s32(acc, vmulq_s32(vldrbq_z_s32(x + 2 * ts, lanes), vldrbq_s32(w + 8)));
        x += rs;
        acc = vaddq_s32(acc, vmulq_s32(vldrbq_z_s32(x, lanes), vldrbq_s32(w + 12)));
        acc = vaddq_s32(acc, vmulq_s32(vldrbq_z_s32(x + ts, lanes), vldrbq_s32(w + 16)));
        acc = vaddq_s32(acc, vmulq_s32(vldrbq_z_s32(x + 2 * ts, lanes), vldrbq_s32(w + 20)));
        x += rs;
        acc = vaddq_s32(acc, vmulq_s32(vldrbq_z_s32(x, lanes), vldrbq_s32(w + 24)));
        acc = vaddq_s32(acc, vmulq_s32(vldrbq_z_s32(x + ts, lanes), vldrbq_s32(w + 28)));
        acc = vaddq_s32(acc, vmulq_s32(vldrbq_z_s32(x + 2 * ts, lanes), vldrbq_s32(w + 32)));
    } else {
        int32_t ky, kx;
        for (ky = 0; ky < kh; ++ky, x += rs) {
            for (kx = 0; kx < kw; ++kx, w += 4) {
                acc = vaddq_s32(acc, vmulq_s32(vldrbq_z_s32(x + kx * ts, lanes), vldrbq_s32(w)));
            }
        }
    }
    acc = vaddq_n_s32(evo_mve_requantize(acc, q + 4), out_offset);
    acc = vminq_s32(vmaxq_s32(acc, vdupq_n_s32(act_min)), vdupq_n_s32(act_max));
    vstrbq_p_s32(y, acc, lanes);
#else
    int32_t l, ky, kx;
    for (l = 0; l < 4 && l < left; ++l) {
        uint32_t a = (uint32_t)q[l]; /* wraps like the 32-bit vector lanes */
        int32_t v;
        for (ky = 0; ky < kh; ++ky) {
            for (kx = 0; kx < kw; ++kx) {
                a += (uint32_t)(x[ky * rs + kx * ts + l] * w[(ky * kw + kx) * 4 + l]);
            }
        }
        v = evo_requantize((int32_t)a, q[4 + l], q[8 + l] + q[12 + l]) + out_offset;
        v = v < act_min ? act_min : v;
        y[l] = (int8_t)(v > act_max ? act_max : v);
    }
#endif
}

/* A border pixel's group without scratch (the lean variant): outside taps take the zero point. */
static void border_group(const evo_depthwise_conv2d_s8_mve_params_t *p, const int8_t *input, int32_t n, int32_t iy0, int32_t ix0,
                         int32_t c, const int8_t *w, const int32_t *q, int8_t *y)
{
    const int32_t ch = p->in.c, left = ch - c;
    int32_t ky, kx;
#if EVO_MVE
    const mve_pred16_t lanes = vctp32q((uint32_t)left);
    const int32x4_t padv = vdupq_n_s32(p->pad_value);
    int32x4_t acc = vld1q_s32(q);
    for (ky = 0; ky < p->kh; ++ky) {
        const int32_t iy = iy0 + ky * p->dil_h;
        for (kx = 0; kx < p->kw; ++kx, w += 4) {
            const int32_t ix = ix0 + kx * p->dil_w;
            const int inside = iy >= 0 && iy < p->in.h && ix >= 0 && ix < p->in.w;
            const int32x4_t xv = inside ? vldrbq_z_s32(input + ((n * p->in.h + iy) * p->in.w + ix) * ch + c, lanes) : padv;
            acc = vaddq_s32(acc, vmulq_s32(xv, vldrbq_s32(w)));
        }
    }
    acc = vaddq_n_s32(evo_mve_requantize(acc, q + 4), p->output_offset);
    acc = vminq_s32(vmaxq_s32(acc, vdupq_n_s32(p->act_min)), vdupq_n_s32(p->act_max));
    vstrbq_p_s32(y, acc, lanes);
#else
    int32_t l;
    for (l = 0; l < 4 && l < left; ++l) {
        uint32_t a = (uint32_t)q[l];
        int32_t v;
        for (ky = 0; ky < p->kh; ++ky) {
            const int32_t iy = iy0 + ky * p->dil_h;
            for (kx = 0; kx < p->kw; ++kx) {
                const int32_t ix = ix0 + kx * p->dil_w;
                const int inside = iy >= 0 && iy < p->in.h && ix >= 0 && ix < p->in.w;
                const int32_t x = inside ? input[((n * p->in.h + iy) * p->in.w + ix) * ch + c + l] : p->pad_value;
                a += (uint32_t)(x * w[(ky * p->kw + kx) * 4 + l]);
            }
        }
        v = evo_requantize((int32_t)a, q[4 + l], q[8 + l] + q[12 + l]) + p->output_offset;
        v = v < p->act_min ? p->act_min : v;
        y[l] = (int8_t)(v > p->act_max ? p->act_max : v);
    }
#endif
}

evo_status_t evo_depthwise_conv2d_s8_mve(const evo_depthwise_conv2d_s8_mve_params_t *p, const int8_t *input,
                                         const int8_t *weights, const int32_t *quant, int8_t *output, void *scratch)
{
    const int32_t ch = p->in.c, kh = p->kh, kw = p->kw, ih = p->in.h, iw = p->in.w;
    const int32_t out_offset = p->output_offset, act_min = p->act_min, act_max = p->act_max;
    int32_t n, oy, ox, c;
    if (p->out.c != ch || (scratch == NULL && p->scratch_bytes != 0)) { /* scratch_bytes 0: the lean variant */
        return EVO_ERR_ARG;
    }
    for (n = 0; n < p->out.n; ++n) {
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            const int rows_in = iy0 >= 0 && iy0 + (kh - 1) * p->dil_h < ih;
            for (ox = 0; ox < p->out.w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                int8_t *y = output + ((n * p->out.h + oy) * p->out.w + ox) * ch;
                const int8_t *x;
                int32_t ts, rs;
                if (rows_in && ix0 >= 0 && ix0 + (kw - 1) * p->dil_w < iw) {
                    x = input + ((n * ih + iy0) * iw + ix0) * ch;
                    ts = p->dil_w * ch;
                    rs = p->dil_h * iw * ch;
                } else if (p->scratch_bytes == 0) {
                    for (c = 0; c < ch; c += 4) {
                        border_group(p, input, n, iy0, ix0, c, weights + c * kh * kw, quant + (c / 4) * EVO_MVE_DW_QUANT_WORDS, y + c);
                    }
                    continue;
                } else {
                    gather_window(p, input, n, iy0, ix0, (int8_t *)scratch);
                    x = (const int8_t *)scratch;
                    ts = ch;
                    rs = kw * ch;
                }
                for (c = 0; c < ch; c += 4) {
                    pixel_group(x + c, ts, rs, weights + c * kh * kw, quant + (c / 4) * EVO_MVE_DW_QUANT_WORDS, kh, kw, ch - c,
                                out_offset, act_min, act_max, y + c);
                }
            }
        }
    }
    return EVO_OK;
}
