/* CONV_2D, int8, generation-time specialised for the int16 matrix-product engine (evo/mm_s16.h):
 * bit-exact with TFLite Micro's reference ConvPerChannel (the generator checks the engine's
 * preconditions per layer and otherwise emits the portable evo_conv2d_s8).
 *
 * Output pixels are taken in pairs (in NHWC order). A pixel's receptive field (kh * kw * in_c
 * int8, filter order) is read straight from the input when it is one contiguous run (1x1
 * convolutions, a single filter row inside the image), else gathered into byte staging with the
 * input zero point as padding (so input + input_offset is 0 there, exactly like a skipped tap).
 * Interior pixels whose filter rows are whole steps widen straight from the input rows instead.
 * The two fields are widened once into the engine's int16 layout, then every output channel
 * pair of the stream runs as one 2x2 register tile over them. */
#include <string.h>

#include "evo/conv_dsp.h"
#include "evo/mm_s16.h"

/* memcpy for the short runs of first layers (a few channels): word moves inline, no call. */
static void copy_run(int8_t *d, const int8_t *s, size_t n)
{
    if (n >= 16) {
        memcpy(d, s, n);
        return;
    }
    for (; n >= 4; n -= 4, s += 4, d += 4) {
        uint32_t v;
        memcpy(&v, s, 4);
        memcpy(d, &v, 4);
    }
    for (; n > 0; --n) {
        *d++ = *s++;
    }
}

/* memset for the same short runs. */
static void fill_run(int8_t *d, int8_t v, size_t n)
{
    const uint32_t w = (uint32_t)(uint8_t)v * 0x01010101u;
    if (n >= 16) {
        memset(d, v, n);
        return;
    }
    for (; n >= 4; n -= 4, d += 4) {
        memcpy(d, &w, 4);
    }
    for (; n > 0; --n) {
        *d++ = v;
    }
}

/* The receptive field of output pixel (oy, ox) as contiguous bytes: in the input or staged. */
static const int8_t *field(const evo_conv2d_s8_dsp_params_t *p, const int8_t *in_b, int32_t oy, int32_t ox, int8_t *stg)
{
    const int32_t in_h = p->in.h, in_w = p->in.w, in_c = p->in.c, kw = p->kw;
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    const int zp = -p->input_offset;
    const size_t run = (size_t)kw * (size_t)in_c;
    const size_t row_bytes = (size_t)evo_conv2d_s8_dsp_row_bytes(p); /* staging row stride */
    const int inside_x = (p->dil_w == 1 || kw == 1) && ix0 >= 0 && ix0 + kw <= in_w;
    int8_t *dst = stg;
    int32_t fy, fx;

    if (p->kh == 1 && inside_x && iy0 >= 0 && iy0 < in_h) {
        return in_b + ((size_t)iy0 * in_w + ix0) * in_c;
    }
    for (fy = 0; fy < p->kh; ++fy) {
        const int32_t iy = iy0 + fy * p->dil_h;
        if (iy < 0 || iy >= in_h) {
            fill_run(dst, (int8_t)zp, run);
        } else if (inside_x) {
            copy_run(dst, in_b + ((size_t)iy * in_w + ix0) * in_c, run);
        } else if (in_c == 1) { /* first layers on one channel: a byte per tap, no calls */
            for (fx = 0; fx < kw; ++fx) {
                const int32_t ix = ix0 + fx * p->dil_w;
                dst[fx] = (ix < 0 || ix >= in_w) ? (int8_t)zp : in_b[(size_t)iy * in_w + ix];
            }
        } else {
            for (fx = 0; fx < kw; ++fx) {
                const int32_t ix = ix0 + fx * p->dil_w;
                if (ix < 0 || ix >= in_w) {
                    fill_run(dst + (size_t)fx * in_c, (int8_t)zp, (size_t)in_c);
                } else {
                    copy_run(dst + (size_t)fx * in_c, in_b + ((size_t)iy * in_w + ix) * in_c, (size_t)in_c);
                }
            }
        }
        dst += row_bytes;
    }
    return stg;
}

/* Output pixel (oy, ox)'s filter rows all lie inside the image, each one contiguous run, and
 * each padded row (row_bytes >= kw * in_c) can be read without leaving the input. */
static int rows_inside(const evo_conv2d_s8_dsp_params_t *p, int32_t oy, int32_t ox, int32_t row_bytes)
{
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    const int32_t iy_last = iy0 + (p->kh - 1) * p->dil_h;
    return iy0 >= 0 && iy_last < p->in.h && (p->dil_w == 1 || p->kw == 1) && ix0 >= 0 && ix0 + p->kw <= p->in.w &&
           (iy_last * p->in.w + ix0) * p->in.c + row_bytes <= p->in.h * p->in.w * p->in.c;
}

/* Widen the receptive fields of output pixels a and b (b < 0: a alone) into the engine's input
 * layout: filter row by filter row straight from the input when there are several rows and they
 * lie inside the image (the bytes between a row's end and its whole steps meet zero weights),
 * else from contiguous fields (evo_mm_widen2 handles a partial last step). */
static void gather(const evo_conv2d_s8_dsp_params_t *p, const int8_t *in_b, int32_t ya, int32_t xa, int32_t yb, int32_t xb,
                   int8_t *stage, int32_t steps, uint32_t *x)
{
    const int32_t row_bytes = evo_conv2d_s8_dsp_row_bytes(p);
    if (p->kh > 1 && rows_inside(p, ya, xa, row_bytes) && (yb < 0 || rows_inside(p, yb, xb, row_bytes))) {
        const int32_t row_step = p->dil_h * p->in.w * p->in.c;
        const int8_t *ra = in_b + ((size_t)(ya * p->stride_h - p->pad_h) * p->in.w + (xa * p->stride_w - p->pad_w)) * p->in.c;
        const int8_t *rb = in_b + ((size_t)(yb * p->stride_h - p->pad_h) * p->in.w + (xb * p->stride_w - p->pad_w)) * p->in.c;
        evo_mm_widen2_rows(ra, yb < 0 ? NULL : rb, p->kh, row_bytes, row_step, p->input_offset, x);
    } else {
        const int8_t *fa = field(p, in_b, ya, xa, stage);
        const int8_t *fb = yb < 0 ? NULL : field(p, in_b, yb, xb, stage + 4 * steps);
        if (fa == stage && (fb == NULL || fb == stage + 4 * steps)) {
            /* staged fields end in zeros up to whole steps (evo_conv2d_s8_dsp) */
            evo_mm_widen2_rows(fa, fb, 1, 4 * steps, 0, p->input_offset, x);
        } else {
            evo_mm_widen2(fa, fb, p->kh * row_bytes, p->input_offset, x);
        }
    }
}

evo_status_t evo_conv2d_s8_dsp(const evo_conv2d_s8_dsp_params_t *p, const int8_t *input, const int32_t *stream,
                               const int32_t *bias, int8_t *output, void *scratch)
{
    const int32_t out_w = p->out.w, out_c = p->out.c;
    const int32_t k = p->kh * evo_conv2d_s8_dsp_row_bytes(p);
    const int32_t steps = (k + 3) / 4;
    const int32_t pixels = p->out.h * out_w;
    const int pointwise = p->kh == 1 && p->kw == 1 && p->stride_h == 1 && p->stride_w == 1 && stream[0] > 0;
    uint32_t *x = (uint32_t *)scratch;
    int8_t *stage = (int8_t *)scratch + 16 * steps;
    evo_mm_job_t job;
    int32_t b, q;

    if (bias != NULL || scratch == NULL || p->scratch_bytes < evo_conv2d_s8_dsp_scratch_bytes(p) || p->in.n != p->out.n) {
        return EVO_ERR_ARG;
    }
    if (!(p->kh == 1 && p->kw == 1)) {
        memset(stage, 0, (size_t)(8 * steps)); /* zeros past k in both staging areas, kept by field() */
    }
    job.x = x;
    job.rec = evo_mm_records(stream);
    job.steps = steps;
    job.act_min = p->act_min;
    job.act_max = p->act_max;
    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * p->in.h * p->in.w * p->in.c;
        int8_t *out_n = output + (size_t)b * pixels * out_c;
        job.out_b = out_n; /* prepare the two-pixel tile once; an odd last pixel prepares its own */
        evo_mm_prepare(&job);
        if (pointwise && stream[1] == 0) { /* 1x1, stride 1: input pixel q is output pixel q */
            for (q = 0; q + 1 < pixels; q += 2) {
                const int8_t *fa = in_b + (size_t)q * p->in.c;
                job.out_a = out_n + (size_t)q * out_c;
                job.out_b = job.out_a + out_c;
                evo_mm_widen2(fa, fa + p->in.c, k, p->input_offset, x);
                job.run(&job);
            }
            if (q < pixels) {
                job.out_a = out_n + (size_t)q * out_c;
                job.out_b = NULL;
                evo_mm_widen2(in_b + (size_t)q * p->in.c, NULL, k, p->input_offset, x);
                evo_mm_2x2(&job);
            }
            continue;
        }
        for (q = 0; q < pixels; q += 2) {
            const int32_t ya = q / out_w, xa = q - ya * out_w;
            const int both = q + 1 < pixels;
            const int32_t yb = xa + 1 < out_w ? ya : ya + 1, xb = xa + 1 < out_w ? xa + 1 : 0;
            job.out_a = out_n + (size_t)q * out_c;
            job.out_b = both ? job.out_a + out_c : NULL; /* an odd last pixel runs the 1-pixel tile */
            if (stream[0] > 0) {
                gather(p, in_b, ya, xa, both ? yb : -1, xb, stage, steps, x);
                if (both) {
                    job.run(&job);
                } else {
                    evo_mm_2x2(&job);
                }
            }
            evo_mm_constants(stream, job.out_a);
            if (both) {
                evo_mm_constants(stream, job.out_b);
            }
        }
    }
    return EVO_OK;
}
