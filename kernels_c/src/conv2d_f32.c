/* CONV_2D, float32. Same loop structure as TFLite's reference Conv (taps outside the image are
 * skipped, bias added after the dot product, then the activation clamp).
 *
 * Small receptive fields (kh * kw * in_c <= EVO_CONV_F32_PATCH, e.g. a 3x3 first layer on a
 * one-channel image) go through a patch instead: the pixel's field is copied once into a stack
 * array (padded taps = 0), then four output channels are accumulated together from it, so the
 * per-multiply cost is a load of the weight and one multiply-add instead of the tap and channel
 * loop bookkeeping. Each sum still runs over the taps in the reference order; a padded tap adds
 * 0 * w = 0, which leaves the sum unchanged (finite weights). */
#include "evo/conv.h"

#define EVO_CONV_F32_PATCH 64

/* acc + x * w with the product rounded before the sum, as the reference computes it. On
 * single-precision VFP that is one VMLA (not fused: it rounds twice, unlike VFMA); GCC emits
 * VMUL + VADD for it in ISO C mode (no contraction). */
static inline float conv_f32_mla(float acc, float x, float w)
{
#if defined(__ARM_FP) && (__ARM_FP & 4) && defined(__thumb2__) && defined(__GNUC__)
    __asm__("vmla.f32 %0, %1, %2" : "+t"(acc) : "t"(x), "t"(w));
    return acc;
#else
    return acc + x * w;
#endif
}

static inline float conv_f32_finish(float acc, const float *bias, int32_t oc, float lo, float hi)
{
    if (bias != NULL) {
        acc += bias[oc];
    }
    return EVO_MIN(EVO_MAX(acc, lo), hi);
}

/* One output pixel from its gathered field `patch` (k values) into out[0 .. out.c). */
static void conv_f32_patch_pixel(const evo_conv2d_f32_params_t *p, const float *patch, int32_t k, const float *filter, const float *bias,
                                 float *out)
{
    const int32_t out_c = p->out.c;
    const float lo = p->act_min, hi = p->act_max;
    int32_t oc = 0, i;
    for (; oc + 4 <= out_c; oc += 4) {
        const float *w0 = filter + (size_t)oc * k;
        const float *w1 = w0 + k;
        const float *w2 = w1 + k;
        const float *w3 = w2 + k;
        float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
        for (i = 0; i < k; ++i) {
            const float x = patch[i];
            a0 = conv_f32_mla(a0, x, w0[i]);
            a1 = conv_f32_mla(a1, x, w1[i]);
            a2 = conv_f32_mla(a2, x, w2[i]);
            a3 = conv_f32_mla(a3, x, w3[i]);
        }
        out[oc] = conv_f32_finish(a0, bias, oc, lo, hi);
        out[oc + 1] = conv_f32_finish(a1, bias, oc + 1, lo, hi);
        out[oc + 2] = conv_f32_finish(a2, bias, oc + 2, lo, hi);
        out[oc + 3] = conv_f32_finish(a3, bias, oc + 3, lo, hi);
    }
    for (; oc < out_c; ++oc) {
        const float *w = filter + (size_t)oc * k;
        float a = 0.0f;
        for (i = 0; i < k; ++i) {
            a = conv_f32_mla(a, patch[i], w[i]);
        }
        out[oc] = conv_f32_finish(a, bias, oc, lo, hi);
    }
}

/* Copy n floats (n = 0: nothing) or, with src NULL, write n zeros; returns dst + n. */
static inline float *conv_f32_fill(float *dst, const float *src, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        dst[i] = src != NULL ? src[i] : 0.0f;
    }
    return dst + n;
}

static void conv_f32_patched(const evo_conv2d_f32_params_t *p, const float *input, const float *filter, const float *bias, float *output)
{
    const int32_t in_h = p->in.h, in_w = p->in.w, in_c = p->in.c;
    const int32_t k = p->kh * p->kw * in_c;
    float patch[EVO_CONV_F32_PATCH];
    int32_t b, oy, ox, fy, fx;
    for (b = 0; b < p->in.n; ++b) {
        const float *in_b = input + (size_t)b * in_h * in_w * in_c;
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out.w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                int32_t fx_lo, fx_hi;
                float *dst = patch;
                evo_conv_tap_range(ix0, p->dil_w, in_w, p->kw, &fx_lo, &fx_hi);
                for (fy = 0; fy < p->kh; ++fy) {
                    const int32_t iy = iy0 + fy * p->dil_h;
                    if (iy < 0 || iy >= in_h) {
                        dst = conv_f32_fill(dst, NULL, p->kw * in_c);
                        continue;
                    }
                    dst = conv_f32_fill(dst, NULL, fx_lo * in_c);
                    if (p->dil_w == 1) { /* the row's in-bounds taps are contiguous in the input */
                        dst = conv_f32_fill(dst, in_b + ((size_t)iy * in_w + ix0 + fx_lo) * in_c, (fx_hi - fx_lo) * in_c);
                    } else {
                        for (fx = fx_lo; fx < fx_hi; ++fx) {
                            dst = conv_f32_fill(dst, in_b + ((size_t)iy * in_w + ix0 + fx * p->dil_w) * in_c, in_c);
                        }
                    }
                    dst = conv_f32_fill(dst, NULL, (p->kw - fx_hi) * in_c);
                }
                conv_f32_patch_pixel(p, patch, k, filter, bias, output);
                output += p->out.c;
            }
        }
    }
}

evo_status_t evo_conv2d_f32(const evo_conv2d_f32_params_t *p, const float *input, const float *filter,
                            const float *bias, float *output, void *scratch)
{
    (void)scratch;
    const int32_t in_h = p->in.h, in_w = p->in.w, in_c = p->in.c;
    const int32_t out_h = p->out.h, out_w = p->out.w, out_c = p->out.c;
    const int32_t kh = p->kh, kw = p->kw;
    const int32_t filter_oc_stride = kh * kw * in_c;
    int32_t b, oy, ox, oc, fy, fx, c;

    if (p->in.n != p->out.n || p->stride_h < 1 || p->stride_w < 1 || p->dil_h < 1 || p->dil_w < 1) {
        return EVO_ERR_ARG;
    }
    if (filter_oc_stride <= EVO_CONV_F32_PATCH) {
        conv_f32_patched(p, input, filter, bias, output);
        return EVO_OK;
    }
    for (b = 0; b < p->in.n; ++b) {
        const float *in_b = input + (size_t)b * in_h * in_w * in_c;
        for (oy = 0; oy < out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            int32_t fy_lo, fy_hi;
            evo_conv_tap_range(iy0, p->dil_h, in_h, kh, &fy_lo, &fy_hi);
            for (ox = 0; ox < out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                int32_t fx_lo, fx_hi;
                evo_conv_tap_range(ix0, p->dil_w, in_w, kw, &fx_lo, &fx_hi);
                for (oc = 0; oc < out_c; ++oc) {
                    const float *w_oc = filter + (size_t)oc * filter_oc_stride;
                    float acc = 0.0f;
                    for (fy = fy_lo; fy < fy_hi; ++fy) {
                        const float *in_row = in_b + (size_t)(iy0 + fy * p->dil_h) * in_w * in_c;
                        const float *w_row = w_oc + (size_t)fy * kw * in_c;
                        for (fx = fx_lo; fx < fx_hi; ++fx) {
                            const float *xp = in_row + (size_t)(ix0 + fx * p->dil_w) * in_c;
                            const float *wp = w_row + (size_t)fx * in_c;
                            for (c = 0; c < in_c; ++c) {
                                acc += xp[c] * wp[c];
                            }
                        }
                    }
                    if (bias != NULL) {
                        acc += bias[oc];
                    }
                    *output++ = EVO_MIN(EVO_MAX(acc, p->act_min), p->act_max);
                }
            }
        }
    }
    return EVO_OK;
}
