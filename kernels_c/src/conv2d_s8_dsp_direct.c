/* CONV_2D, int8, for DSP cores with (almost) no scratch: the receptive field is widened in
 * registers straight from the input rows (evo/mm_quad.h, four output channels per record, input
 * offset folded into the accumulator starts) instead of into a widened copy of a pixel pair
 * (conv2d_s8_dsp.c: 24 bytes of arena per step of four). This is what runs inside fused
 * row-streamed groups (conv2d_s8_dsp_row.c), where that copy would raise the line-buffer arena.
 *
 * The offset being folded in, a padded tap must read the input zero point (x + offset = 0):
 * filter rows above or below the image and taps left or right of it read `pad`, a constant row of
 * zero points in flash, so taps stay whole steps when in_c is a multiple of 4. Otherwise (first
 * layers: a few channels) each pixel's field is staged with its padding into the only scratch.
 *
 * Given scratch for a widened pixel (8 bytes per step) or pixel pair (16), the kernel runs the
 * matrix engine's 1-pixel or 2x2 tile instead (`widened`, with the pair stream): faster, with no
 * byte staging when in_c % 4 == 0. The generator picks the mode (evo/ops/conv_dsp.py) by the
 * scratch it plans (evo_conv2d_s8_dsp_widened_bytes), with the matching stream. Bit-exact with TFLM's ConvPerChannel: requantisation as evo/mm_s16.h. */
#include <string.h>

#include "evo/conv_dsp.h"
#include "evo/mm_quad.h"
#include "evo/mm_s16.h"

typedef struct {
    int32_t a0, a1, a2, a3;
} acc4_t;

/* acc += the record's four channels . n input bytes at x (a multiple of 4: whole steps); returns
 * the weights that follow. */
static EVO_ALWAYS_INLINE const int32_t *dot_run(const int8_t *x, int32_t n, const int32_t *w, acc4_t *acc)
{
    return evo_mm_dot_quad(x, w, n >> 2, &acc->a0, &acc->a1, &acc->a2, &acc->a3);
}

/* The receptive field of a pixel as `steps` whole steps: kh rows of row_bytes, the input zero
 * point at padded taps and zeros past the last row (zero weights there). */
static void stage_field(const evo_conv2d_s8_dsp_params_t *p, const int8_t *in_b, int32_t iy0, int32_t ix0, int32_t fx0,
                        int32_t fx1, int32_t row_bytes, int32_t steps, int8_t *stg)
{
    const size_t k = (size_t)(p->kh * row_bytes);
    int32_t fy;
    memset(stg, -p->input_offset, k);
    memset(stg + k, 0, (size_t)(4 * steps) - k);
    for (fy = 0; fy < p->kh && fx1 > fx0; ++fy) {
        const int32_t iy = iy0 + fy * p->dil_h;
        if (iy >= 0 && iy < p->in.h) {
            memcpy(stg + (size_t)fy * row_bytes + (size_t)fx0 * p->in.c, in_b + ((size_t)iy * p->in.w + ix0 + fx0) * p->in.c,
                   (size_t)(fx1 - fx0) * (size_t)p->in.c);
        }
    }
}

/* Requantise the four channels of a record whose requantisations start at q; returns the next record. */
static EVO_ALWAYS_INLINE const int32_t *store_quad(int8_t *out, const int32_t *q, int32_t a0, int32_t a1, int32_t a2, int32_t a3,
                                                   int32_t lo, int32_t hi)
{
    /* pair B first: a dummy B stores to A's channels, which A then overwrites */
    evo_mm_requant1(out, a2, q + 8, lo, hi);
    evo_mm_requant1(out, a3, q + 12, lo, hi);
    evo_mm_requant1(out, a0, q, lo, hi);
    evo_mm_requant1(out, a1, q + 4, lo, hi);
    return q + 16;
}

/* The valid taps [*fx0, *fx1) of output column ox (dil_w 1 or kw 1). */
static EVO_ALWAYS_INLINE void taps(const evo_conv2d_s8_dsp_params_t *p, int32_t ox, int32_t *ix0, int32_t *fx0, int32_t *fx1)
{
    const int32_t x0 = ox * p->stride_w - p->pad_w, kw = p->kw;
    const int32_t f0 = x0 < 0 ? (-x0 < kw ? -x0 : kw) : 0;
    *ix0 = x0;
    *fx0 = f0;
    *fx1 = p->in.w - x0 < kw ? (p->in.w - x0 > f0 ? p->in.w - x0 : f0) : kw;
}

/* Filter row fy of one pixel (xw words per step: 2 alone, 4 in a pair, at x) widened from its
 * valid taps [fx0, fx1) (whole steps: in_c % 4 == 0), zeros (x + offset = 0) elsewhere. */
static void widen_row(const evo_conv2d_s8_dsp_params_t *p, const int8_t *row, int32_t fx0, int32_t fx1, uint32_t *x)
{
    const int32_t steps_c = p->in.c >> 2;
    memset(x, 0, (size_t)(8 * steps_c * fx0));
    evo_mm_widen2(row + (size_t)fx0 * p->in.c, NULL, (fx1 - fx0) * p->in.c, p->input_offset, x + 2 * steps_c * fx0);
    memset(x + 2 * steps_c * fx1, 0, (size_t)(8 * steps_c * (p->kw - fx1)));
}

/* Widened mode (the pair stream of evo/mm_s16.h; scratch evo_conv2d_s8_dsp_widened_bytes): pixels
 * run the 2x2 engine (`pairs`: two neighbours whose taps all lie inside the row) or its 1-pixel
 * tile on their fields widened straight from the input rows, padded taps and rows as zeros
 * (x + offset = 0). When in_c % 4 (taps are not whole steps) the fields are staged first. */
static void widened(const evo_conv2d_s8_dsp_params_t *p, const int8_t *in_b, const int32_t *stream, int8_t *out, uint32_t *x,
                    int pairs)
{
    const int32_t in_c = p->in.c, out_c = p->out.c, out_w = p->out.w, run = p->kw * in_c;
    const int32_t row_bytes = evo_conv2d_s8_dsp_row_bytes(p), row_steps = run >> 2, steps = (p->kh * row_bytes + 3) >> 2;
    int8_t *const stg = (int8_t *)(x + (pairs ? 4 : 2) * steps);
    evo_mm_job_t pair, one;
    int32_t oy, ox, fy;
    pair.x = one.x = x;
    pair.rec = one.rec = evo_mm_records(stream);
    pair.steps = one.steps = steps;
    pair.act_min = one.act_min = p->act_min;
    pair.act_max = one.act_max = p->act_max;
    pair.out_a = one.out_a = out;
    pair.out_b = out;
    one.out_b = NULL;
    evo_mm_prepare(&pair);
    evo_mm_prepare(&one);
    for (oy = 0; oy < p->out.h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_h;
        for (ox = 0; ox < out_w; out += out_c) {
            int32_t ix0, fx0, fx1, jx0 = 0, gx0 = 0, gx1 = 0;
            const int two = pairs && ox + 1 < out_w;
            taps(p, ox, &ix0, &fx0, &fx1);
            if (two) {
                taps(p, ox + 1, &jx0, &gx0, &gx1);
            }
            if (in_c & 3) {
                stage_field(p, in_b, iy0, ix0, fx0, fx1, row_bytes, steps, stg);
                if (two) {
                    stage_field(p, in_b, iy0, jx0, gx0, gx1, row_bytes, steps, stg + 4 * steps);
                }
                evo_mm_widen2(stg, two ? stg + 4 * steps : NULL, 4 * steps, p->input_offset, x);
            } else if (two && fx0 == 0 && fx1 == p->kw && gx0 == 0 && gx1 == p->kw) {
                for (fy = 0; fy < p->kh; ++fy) {
                    const int32_t iy = iy0 + fy * p->dil_h;
                    uint32_t *xr = x + 4 * row_steps * fy;
                    if (iy < 0 || iy >= p->in.h) {
                        memset(xr, 0, (size_t)(16 * row_steps));
                    } else {
                        const int8_t *r = in_b + (size_t)iy * p->in.w * in_c;
                        evo_mm_widen2(r + (size_t)ix0 * in_c, r + (size_t)jx0 * in_c, run, p->input_offset, xr);
                    }
                }
            } else {
                for (fy = 0; fy < p->kh; ++fy) {
                    const int32_t iy = iy0 + fy * p->dil_h;
                    uint32_t *xr = x + 2 * row_steps * fy;
                    if (iy < 0 || iy >= p->in.h) {
                        memset(xr, 0, (size_t)(8 * row_steps));
                    } else {
                        widen_row(p, in_b + ((size_t)iy * p->in.w + ix0) * in_c, fx0, fx1, xr);
                    }
                }
                if (stream[0] > 0) {
                    one.out_a = out;
                    one.run(&one);
                }
                evo_mm_constants(stream, out);
                ox += 1;
                continue;
            }
            if (two) {
                if (stream[0] > 0) {
                    pair.out_a = out;
                    pair.out_b = out + out_c;
                    pair.run(&pair);
                }
                evo_mm_constants(stream, out);
                evo_mm_constants(stream, out + out_c);
                out += out_c;
                ox += 2;
            } else {
                if (stream[0] > 0) {
                    one.out_a = out;
                    one.run(&one);
                }
                evo_mm_constants(stream, out);
                ox += 1;
            }
        }
    }
}

/* One pixel whose taps are not whole steps (in_c % 4): its field staged into `stg`, or, when the
 * kernel has no scratch for it (a field of at most EVO_DSP_STACK_FIELD bytes), into a stack buffer
 * that only this path's frame holds. */
__attribute__((noinline)) static void staged_pixel(const evo_conv2d_s8_dsp_params_t *p, const int8_t *in_b, int32_t iy0, int32_t ix0,
                                                   int32_t fx0, int32_t fx1, const int32_t *stream, int8_t *out, int8_t *stg)
{
    const int32_t row_bytes = evo_conv2d_s8_dsp_row_bytes(p), steps = (p->kh * row_bytes + 3) >> 2;
    const int32_t lo = p->act_min, hi = p->act_max, quads = stream[0];
    const int32_t *rec = evo_mm_records(stream);
    uint32_t local[EVO_DSP_STACK_FIELD / 4];
    int8_t *const field = evo_conv2d_s8_dsp_direct_scratch_bytes(p) > 0 ? stg : (int8_t *)local;
    int32_t quad;
    stage_field(p, in_b, iy0, ix0, fx0, fx1, row_bytes, steps, field);
    for (quad = 0; quad < quads; ++quad) {
        int32_t a0 = rec[0], a1 = rec[1], a2 = rec[2], a3 = rec[3];
        const int32_t *w = evo_mm_dot_quad(field, rec + 4, steps, &a0, &a1, &a2, &a3);
        rec = store_quad(out, w, a0, a1, a2, a3, lo, hi);
    }
}

evo_status_t evo_conv2d_s8_dsp_direct(const evo_conv2d_s8_dsp_params_t *p, const int8_t *input, const int32_t *stream,
                                      const int8_t *pad, int8_t *output, void *scratch)
{
    const int32_t in_c = p->in.c, in_w = p->in.w, kw = p->kw, out_c = p->out.c;
    const int32_t row_bytes = evo_conv2d_s8_dsp_row_bytes(p), row_steps = row_bytes >> 2;
    const int32_t row_step = p->dil_h * in_w * in_c;
    const int32_t lo = p->act_min, hi = p->act_max, quads = stream[0]; /* locals: the stores may alias p */
    int8_t *const stg = (int8_t *)scratch;
    int32_t b, oy, ox, fy, quad;

    if (p->scratch_bytes < evo_conv2d_s8_dsp_direct_scratch_bytes(p) || (p->dil_w != 1 && kw != 1) || p->in.n != p->out.n) {
        return EVO_ERR_ARG;
    }
    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * p->in.h * in_w * in_c;
        int8_t *out = output + (size_t)b * p->out.h * p->out.w * out_c;
        if (p->scratch_bytes >= evo_conv2d_s8_dsp_widened_bytes(p, 0)) {
            widened(p, in_b, stream, out, (uint32_t *)scratch, p->scratch_bytes >= evo_conv2d_s8_dsp_widened_bytes(p, 1));
            continue;
        }
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out.w; ++ox, out += out_c) {
                int32_t ix0, fx0, fx1;
                taps(p, ox, &ix0, &fx0, &fx1);
                {
                const int whole = fx0 == 0 && fx1 == kw;
                const int rows_in = iy0 >= 0 && iy0 + (p->kh - 1) * p->dil_h < p->in.h;
                const int32_t left = fx0 * in_c, mid = (fx1 - fx0) * in_c, right = (kw - fx1) * in_c;
                const int32_t *rec = evo_mm_records(stream);
                if ((in_c & 3) != 0) { /* taps are not whole steps: the field, staged */
                    staged_pixel(p, in_b, iy0, ix0, fx0, fx1, stream, out, stg);
                } else if (whole && rows_in) { /* the common case: kh runs of whole steps in the input */
                    const int8_t *x0 = in_b + ((size_t)iy0 * in_w + ix0) * in_c;
                    for (quad = 0; quad < quads; ++quad) {
                        int32_t a0 = rec[0], a1 = rec[1], a2 = rec[2], a3 = rec[3];
                        const int32_t *w = rec + 4;
                        const int8_t *x = x0;
                        for (fy = 0; fy < p->kh; ++fy, x += row_step) {
                            w = evo_mm_dot_quad(x, w, row_steps, &a0, &a1, &a2, &a3);
                        }
                        rec = store_quad(out, w, a0, a1, a2, a3, lo, hi);
                    }
                } else { /* padded taps (in_c % 4 == 0: whole steps) read the zero-point row */
                    for (quad = 0; quad < quads; ++quad) {
                        acc4_t acc;
                        const int32_t *w = rec + 4;
                        acc.a0 = rec[0];
                        acc.a1 = rec[1];
                        acc.a2 = rec[2];
                        acc.a3 = rec[3];
                        for (fy = 0; fy < p->kh; ++fy) {
                            const int32_t iy = iy0 + fy * p->dil_h;
                            if (iy < 0 || iy >= p->in.h || mid == 0) {
                                w = dot_run(pad, row_bytes, w, &acc);
                            } else {
                                w = dot_run(pad, left, w, &acc);
                                w = dot_run(in_b + ((size_t)iy * in_w + ix0 + fx0) * in_c, mid, w, &acc);
                                w = dot_run(pad, right, w, &acc);
                            }
                        }
                        rec = store_quad(out, w, acc.a0, acc.a1, acc.a2, acc.a3, lo, hi);
                    }
                }
                }
                evo_mm_constants(stream, out);
            }
        }
    }
    return EVO_OK;
}
