/* CONV_2D, float32. Same loop structure as TFLite's reference Conv (taps outside the image are
 * skipped, bias added after the dot product, then the activation clamp).
 *
 * Small receptive fields (kh * kw * in_c <= EVO_CONV_F32_PATCH, e.g. a 3x3 first layer on a
 * one-channel image) go through a patch instead: the pixel's field is copied once into a stack
 * array (padded taps = 0), then four output channels are accumulated together from it, so the
 * per-multiply cost is a load of the weight and one multiply-add instead of the tap and channel
 * loop bookkeeping (on single-precision FPU cores four taps of the patch and of each channel
 * come in one VLDM each: about 1.5 instructions a multiply). Each sum still runs over the taps
 * in the reference order; a padded tap adds 0 * w = 0, which leaves the sum unchanged (finite
 * weights). */
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

/* *a0..*a3 = the sums over the k patch values of four channels' weights (rows of k floats from w0),
 * in tap order per channel. On FPU cores four taps a turn: one VLDM for the patch and one for
 * each channel, then the VMLAs (as conv_f32_mla); the last k % 4 taps (all of them elsewhere) in C. */
static inline void conv_f32_dot4(const float *x, const float *w0, int32_t k, float *a0, float *a1, float *a2, float *a3)
{
    const float *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    int32_t i, rest = k;
#if defined(__ARM_FP) && (__ARM_FP & 4) && defined(__thumb2__) && defined(__GNUC__)
    int32_t n = k >> 2;
    rest = k & 3;
    if (n > 0) {
        __asm__ volatile("1:\n\t"
                         "vldmia %[x]!, {s16-s19}\n\t"
                         "vldmia %[w0]!, {s0-s3}\n\t"
                         "vldmia %[w1]!, {s4-s7}\n\t"
                         "vldmia %[w2]!, {s8-s11}\n\t"
                         "vldmia %[w3]!, {s12-s15}\n\t"
                         "vmla.f32 %[a0], s16, s0\n\t"
                         "vmla.f32 %[a1], s16, s4\n\t"
                         "vmla.f32 %[a2], s16, s8\n\t"
                         "vmla.f32 %[a3], s16, s12\n\t"
                         "vmla.f32 %[a0], s17, s1\n\t"
                         "vmla.f32 %[a1], s17, s5\n\t"
                         "vmla.f32 %[a2], s17, s9\n\t"
                         "vmla.f32 %[a3], s17, s13\n\t"
                         "vmla.f32 %[a0], s18, s2\n\t"
                         "vmla.f32 %[a1], s18, s6\n\t"
                         "vmla.f32 %[a2], s18, s10\n\t"
                         "vmla.f32 %[a3], s18, s14\n\t"
                         "vmla.f32 %[a0], s19, s3\n\t"
                         "vmla.f32 %[a1], s19, s7\n\t"
                         "vmla.f32 %[a2], s19, s11\n\t"
                         "vmla.f32 %[a3], s19, s15\n\t"
                         "subs %[n], %[n], #1\n\t"
                         "bne 1b\n\t"
                         : [a0] "+t"(s0), [a1] "+t"(s1), [a2] "+t"(s2), [a3] "+t"(s3), [x] "+r"(x), [w0] "+r"(w0), [w1] "+r"(w1), [w2] "+r"(w2),
                           [w3] "+r"(w3), [n] "+r"(n)
                         :
                         : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13", "s14", "s15", "s16", "s17",
                           "s18", "s19", "cc", "memory");
    }
#endif
    for (i = 0; i < rest; ++i) {
        const float xi = x[i];
        s0 = conv_f32_mla(s0, xi, w0[i]);
        s1 = conv_f32_mla(s1, xi, w1[i]);
        s2 = conv_f32_mla(s2, xi, w2[i]);
        s3 = conv_f32_mla(s3, xi, w3[i]);
    }
    *a0 = s0;
    *a1 = s1;
    *a2 = s2;
    *a3 = s3;
}

/* One output pixel from its gathered field `patch` (k values) into out[0 .. out.c). */
static void conv_f32_patch_pixel(const evo_conv2d_f32_params_t *p, const float *patch, int32_t k, const float *filter, const float *bias,
                                 float *out)
{
    const int32_t out_c = p->out.c;
    const float lo = p->act_min, hi = p->act_max;
    int32_t oc = 0, i;
    for (; oc + 4 <= out_c; oc += 4) {
        float a0, a1, a2, a3;
        conv_f32_dot4(patch, filter + (size_t)oc * k, k, &a0, &a1, &a2, &a3);
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
