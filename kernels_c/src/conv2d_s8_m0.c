/* CONV_2D, int8, for Cortex-M0/M0+ (evo/conv_m0.h): each output pixel's receptive field, read
 * in place where it is one contiguous run of the input (1x1 convolutions, full-width rows),
 * else gathered into the scratch patch with the input zero point in padded taps, goes through
 * the matrix engine (mm_s8_m0.c) for all output channels. Padded taps copy from `zp`, a filter
 * row of input zero points in flash (no fill loops: short ones cost more as libc calls than
 * inline, and the compiler would make them calls). Without a scratch patch (the lean
 * variant the memory-first build takes where the patch would raise the arena), fields of at most
 * EVO_M0_STACK_PATCH bytes are gathered on the stack. Output pixels are written in order, each
 * after its field was read (the row-streaming wrapper relies on nothing more). */
#include "evo/conv.h"
#include "evo/conv_m0.h"

/* Copy n bytes; fields are short runs (e.g. 4 taps of one channel), where a libc call costs
 * more than the copy. */
static void m0_copy(int8_t *dst, const int8_t *src, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        dst[i] = src[i];
    }
}

/* The receptive field of output pixel (oy, ox) as kh * kw * in_c contiguous bytes in filter
 * order, or NULL when it would need the patch and there is none. Taps outside the image read
 * `zp`, a filter row of input zero points (kw * in_c bytes). */
static const int8_t *m0_field(const evo_conv2d_s8_m0_params_t *p, const int8_t *in_b, int32_t oy, int32_t ox, int8_t *patch,
                              const int8_t *zp)
{
    const int32_t in_h = p->in.h, in_w = p->in.w, in_c = p->in.c, kh = p->kh, kw = p->kw;
    const int32_t iy0 = oy * p->stride_h - p->pad_h, ix0 = ox * p->stride_w - p->pad_w;
    const int32_t run = kw * in_c;
    const int rows_in = iy0 >= 0 && iy0 + (kh - 1) * p->dil_h < in_h;
    const int cols_in = ix0 >= 0 && ix0 + (kw - 1) * p->dil_w < in_w;
    const int row_runs = kw == 1 || p->dil_w == 1; /* a filter row inside the image is one run */
    int8_t *dst = patch;
    int32_t fy, fx, fx_lo, fx_hi;

    if (rows_in && cols_in && row_runs && (kh == 1 || (p->dil_h == 1 && run == in_w * in_c))) {
        return in_b + ((size_t)iy0 * in_w + ix0) * in_c;
    }
    if (patch == NULL) {
        return NULL;
    }
    if (p->dil_w == 1) { /* the taps inside the image, the same for every filter row */
        fx_lo = ix0 < 0 ? -ix0 : 0;
        fx_hi = in_w - ix0 < kw ? (ix0 < in_w ? in_w - ix0 : 0) : kw;
        fx_lo = fx_lo < fx_hi ? fx_lo : fx_hi;
    } else {
        evo_conv_tap_range(ix0, p->dil_w, in_w, kw, &fx_lo, &fx_hi); /* divides */
    }
    for (fy = 0; fy < kh; ++fy, dst += run) {
        const int32_t iy = iy0 + fy * p->dil_h;
        const int8_t *row = in_b + ((size_t)iy * in_w + ix0) * in_c;
        if (iy < 0 || iy >= in_h) {
            m0_copy(dst, zp, run);
        } else if (cols_in && row_runs) {
            m0_copy(dst, row, run);
        } else {
            m0_copy(dst, zp, fx_lo * in_c);
            for (fx = fx_lo; fx < fx_hi; ++fx) {
                m0_copy(dst + fx * in_c, row + (size_t)fx * p->dil_w * in_c, in_c);
            }
            m0_copy(dst + fx_hi * in_c, zp, (kw - fx_hi) * in_c);
        }
    }
    return patch;
}

evo_status_t evo_conv2d_s8_m0(const evo_conv2d_s8_m0_params_t *p, const int8_t *input, const int32_t *stream,
                              const int32_t *zp, int8_t *output, void *scratch)
{
    const int32_t k = p->kh * p->kw * p->in.c;
    int32_t local[EVO_M0_STACK_PATCH / 4]; /* int32: word aligned, like the arena's scratch */
    int8_t *const patch = (scratch != NULL && p->scratch_bytes >= k) ? (int8_t *)scratch
                          : k <= EVO_M0_STACK_PATCH                 ? (int8_t *)local
                                                                    : NULL;
    int32_t b, oy, ox;

    if (p->in.n != p->out.n || p->stride_h < 1 || p->stride_w < 1 || p->dil_h < 1 || p->dil_w < 1 || k < 1) {
        return EVO_ERR_ARG;
    }
    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * p->in.h * p->in.w * p->in.c;
        for (oy = 0; oy < p->out.h; ++oy) {
            for (ox = 0; ox < p->out.w; ++ox) {
                const int8_t *field = m0_field(p, in_b, oy, ox, patch, (const int8_t *)zp);
                if (field == NULL) {
                    return EVO_ERR_ARG; /* the generator gives a patch wherever a field needs one */
                }
                evo_mm_s8_m0(field, k, stream, p->out.c, &p->rq, output);
                output += p->out.c;
            }
        }
    }
    return EVO_OK;
}
