/* CONV_2D, int8, no dilation: the int16 matrix engine (evo/mm_s16.h) fed from
 * a window of widened pixel pairs instead of a per-pixel-pair im2col copy.
 *
 * Why: conv2d_s8_dsp.c widens each pixel pair's receptive field afresh, so every input value is
 * widened kh * kw times (9 for 3x3), about 0.05-0.1 instructions per MAC when out_c is small (16
 * channels: eight channel pairs share each widened field). Here each input row is widened once per
 * use as pixel a and once as pixel b, into a window the engine reads in place.
 *
 * Window: for every padded input column x (x = -pad_w + j, j < ncols) a block Q_x of kh slots; slot
 * fy holds, for input row iy = oy * stride_h - pad_h + fy and channel steps s (four channels each),
 * the engine's pixel-pair step [col x: SXTAB16, SXTAB16 ROR 8 | col x + stride_w: the same], input
 * offset added, 0 outside the image. The output pixels ox, ox + 1 (ox even) then read one contiguous
 * run Q_x0 .. Q_x0+kw-1 (x0 = ox * stride_w - pad_w): kw * kh * in_c / 4 steps in (fx, fy, c) order,
 * the order the generator lays the weight stream out in (evo/ops/conv_dsp.py, window_call).
 * Moving down an output row moves each block's slots up stride_h places and widens only the new
 * input rows into its last slots.
 *
 * In place: input rows are read only when widened, before the output row that first needs them is
 * written, so the kernel also runs as its own row-streaming entry (conv2d_s8_dsp_win_rows.c). An
 * odd last pixel of a row runs as a pair whose second pixel stores to a dummy row in scratch. */
#include <string.h>

#include "evo/conv_dsp.h"
#include "evo/mm_s16.h"
#include "evo/simd32.h"

/* Channels of a slot's pixel: in_c rounded up to whole steps of four (the stream's weights for the
 * extra channels are zero, so whatever bytes follow a pixel may fill them). */
static int32_t win_cpad(const evo_conv2d_s8_dsp_params_t *p) { return (p->in.c + 3) & ~3; }

/* Words of a block Q_x: kh slots of win_cpad / 4 steps of four words. */
static int32_t win_block_words(const evo_conv2d_s8_dsp_params_t *p) { return p->kh * win_cpad(p); }

/* Down one output row: in every block the last `keep` words of slots move to its start (the rows
 * still in the window), making room for the new rows' slots. */
typedef struct {
    int32_t from;   /* bytes from a block's start to the words kept */
    int32_t chunks; /* kept words / 8 (or / 4 for win_shift4) */
} win_shift_t;

#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__)
/* Registers: r0 destination, r1 blocks left, r3 source (at the next block when a block is done),
 * r4-r5 the config, lr chunks left, the others the words moved: LDM/STM of eight words
 * (newlib-nano's memmove moves bytes). */
#define WIN_SHIFT_FN(NAME, REGS)                                                                    \
    __attribute__((naked, noinline)) static void NAME(uint32_t *blk __attribute__((unused)),        \
                                                      int32_t n __attribute__((unused)),            \
                                                      const win_shift_t *cfg __attribute__((unused))) \
    {                                                                                               \
        __asm__ volatile("push {r4-r11, lr}\n\t"                                                    \
                         "ldm r2, {r4, r5}\n"                                                       \
                         "1:\n\t"                                                                   \
                         "add r3, r0, r4\n\t"                                                       \
                         "mov lr, r5\n"                                                             \
                         "2:\n\t"                                                                   \
                         "ldmia r3!, " REGS "\n\t"                                                  \
                         "stmia r0!, " REGS "\n\t"                                                  \
                         "subs lr, lr, #1\n\t"                                                      \
                         "bne 2b\n\t"                                                               \
                         "mov r0, r3\n\t"                                                           \
                         "subs r1, r1, #1\n\t"                                                      \
                         "bne 1b\n\t"                                                               \
                         "pop {r4-r11, pc}\n\t");                                                   \
    }
WIN_SHIFT_FN(win_shift8, "{r2, r6-r12}")
WIN_SHIFT_FN(win_shift4, "{r8-r11}")
#endif

static void win_shift(uint32_t *win, int32_t ncols, int32_t bw, int32_t fresh_words)
{
    const int32_t keep = bw - fresh_words;
    int32_t j, i;
#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__)
    if (keep % 8 == 0 && keep > 0) {
        const win_shift_t cfg = {4 * fresh_words, keep / 8};
        win_shift8(win, ncols, &cfg);
        return;
    }
    if (keep > 0) { /* slots are whole steps: keep % 4 == 0 */
        const win_shift_t cfg = {4 * fresh_words, keep / 4};
        win_shift4(win, ncols, &cfg);
        return;
    }
#endif
    for (j = 0; j < ncols; ++j, win += bw) {
        for (i = 0; i < keep; ++i) {
            win[i] = win[fresh_words + i];
        }
    }
}

/* Four bytes of a pixel from byte 4 * s on, or 0 for a pixel outside the image (a NULL). Only
 * `valid` bytes are read when fewer follow the pixel inside the input (its very last pixel). */
static uint32_t win_load(const int8_t *a, int32_t s, int32_t valid)
{
    uint32_t v = 0;
    if (a != NULL) {
        memcpy(&v, a + 4 * s, (size_t)(valid < 4 ? valid : 4));
    }
    return v;
}

/* Pixels a and b (NULL: outside the image, zeros) into one slot of a block: `steps` steps, reading
 * at most `avail` bytes from a and from b (a pixel near the end of the input). */
static void win_widen_edge(uint32_t *d, const int8_t *a, const int8_t *b, int32_t steps, int32_t avail_a, int32_t avail_b,
                           uint32_t off2)
{
    int32_t s;
    for (s = 0; s < steps; ++s, d += 4) {
        const uint32_t va = win_load(a, s, avail_a - 4 * s), vb = win_load(b, s, avail_b - 4 * s);
        d[0] = a != NULL ? evo_s32_sxtab16(off2, va) : 0u;
        d[1] = a != NULL ? evo_s32_sxtab16_r8(off2, va) : 0u;
        d[2] = b != NULL ? evo_s32_sxtab16(off2, vb) : 0u;
        d[3] = b != NULL ? evo_s32_sxtab16_r8(off2, vb) : 0u;
    }
}

/* Consecutive columns with both pixels inside the image: pixel a of column j + 1 is in_c bytes
 * after column j's; b = a + b_off. */
typedef struct {
    int32_t b_off;  /* bytes from pixel a to pixel b */
    int32_t steps;  /* steps per slot */
    int32_t gap;    /* bytes from a slot's end to the same slot of the next block */
    uint32_t off2;  /* input offset in both halves */
    int32_t back;   /* win_cpad - in_c: bytes a goes back after a slot's steps */
} win_cols_t;

#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__)
/* n >= 1 columns from a into d, GCC spilling around the C form. Registers: r0 d, r1 a, r2 columns
 * left, r3 back, r4-r7 the config, r12 b, lr steps left, r8-r11 a step's four words. */
#define WIN_STEP                                                                                    \
    "ldr r9, [r1], #4\n\t"                                                                          \
    "ldr r11, [r12], #4\n\t"                                                                        \
    "sxtab16 r8, r7, r9\n\t"                                                                        \
    "sxtab16 r9, r7, r9, ror #8\n\t"                                                                \
    "sxtab16 r10, r7, r11\n\t"                                                                      \
    "sxtab16 r11, r7, r11, ror #8\n\t"                                                              \
    "stmia r0!, {r8-r11}\n\t"
/* BODY: one pass of the step loop; SETUP turns the step count in r5 into passes. */
#define WIN_COLS_FN(NAME, SETUP, BODY)                                                              \
    __attribute__((naked, noinline)) static void NAME(uint32_t *d __attribute__((unused)),          \
                                                      const int8_t *a __attribute__((unused)),      \
                                                      int32_t n __attribute__((unused)),            \
                                                      const win_cols_t *cfg __attribute__((unused))) \
    {                                                                                               \
        __asm__ volatile("push {r4-r11, lr}\n\t"                                                    \
                         "ldm r3, {r4-r7}\n\t"                                                      \
                         "ldr r3, [r3, #16]\n\t" SETUP "1:\n\t"                                     \
                         "add r12, r1, r4\n\t"                                                      \
                         "mov lr, r5\n"                                                             \
                         "2:\n\t" BODY "subs lr, lr, #1\n\t"                                        \
                         "bne 2b\n\t"                                                               \
                         "sub r1, r1, r3\n\t"                                                       \
                         "add r0, r0, r6\n\t"                                                       \
                         "subs r2, r2, #1\n\t"                                                      \
                         "bne 1b\n\t"                                                               \
                         "pop {r4-r11, pc}\n\t");                                                   \
    }
WIN_COLS_FN(win_widen_cols1, "", WIN_STEP)
WIN_COLS_FN(win_widen_cols2, "lsr r5, r5, #1\n\t", WIN_STEP WIN_STEP) /* steps even: two per pass */

static void win_widen_cols(uint32_t *d, const int8_t *a, int32_t n, const win_cols_t *cfg)
{
    if (cfg->steps & 1) {
        win_widen_cols1(d, a, n, cfg);
    } else {
        win_widen_cols2(d, a, n, cfg);
    }
}
#else
static void win_widen_cols(uint32_t *d, const int8_t *a, int32_t n, const win_cols_t *cfg)
{
    const int32_t steps = cfg->steps;
    for (; n > 0; --n, a += 4 * steps - cfg->back, d += 4 * steps + cfg->gap / 4) {
        win_widen_edge(d, a, a + cfg->b_off, steps, 4 * steps, 4 * steps, cfg->off2);
    }
}
#endif

/* Slot `slot` of every block that a pixel pair reads: input row iy widened as pixel pairs (zeros
 * outside the image). `last`: this is the input's last row, after which nothing may be read. With
 * stride_w > 1 some columns start no pair's taps: skipped. */
static void win_fill_slot(const evo_conv2d_s8_dsp_params_t *p, const int8_t *in_b, int32_t iy, int last, int32_t slot,
                          int32_t ncols, uint32_t *win)
{
    const int32_t c = p->in.c, steps = win_cpad(p) / 4, bw = win_block_words(p), sw = p->stride_w, iw = p->in.w;
    const int32_t pad = p->pad_w, kw = p->kw, period = 2 * sw, skips = kw < period; /* pairs start 2 * stride_w apart */
    const int row_ok = iy >= 0 && iy < p->in.h;
    const int8_t *row = in_b + (size_t)(row_ok ? iy : 0) * (size_t)iw * (size_t)c;
    /* columns whose pixels a (x = j - pad) and b (x + stride_w) both lie inside the row, and (in
     * the last row, with padded channels) whose b is not the input's last pixel */
    const int32_t b_max = iw - 1 - (last && c != 4 * steps);
    const int32_t lo = row_ok ? EVO_MIN(pad, ncols) : ncols, hi = row_ok ? EVO_CLAMP(b_max - sw + 1 + pad, lo, ncols) : ncols;
    const win_cols_t cfg = {sw * c, steps, 4 * (bw - 4 * steps), ((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u, 4 * steps - c};
    uint32_t *const base = win + (size_t)slot * 4 * steps;
    int32_t j = 0;
    while (j < ncols) {
        const int32_t phase = j % period, run_end = skips ? j - phase + kw : ncols;
        if (skips && phase >= kw) {
            j += period - phase; /* no pair reads these columns */
        } else if (j >= lo && j < hi) { /* interior: a run of used columns */
            const int32_t end = EVO_MIN(hi, run_end);
            win_widen_cols(base + (size_t)j * bw, row + (size_t)(j - pad) * c, end - j, &cfg);
            j = end;
        } else {
            const int32_t xa = j - pad, xb = xa + sw;
            const int32_t avail_a = last ? (iw - xa) * c : 4 * steps, avail_b = last ? (iw - xb) * c : 4 * steps;
            win_widen_edge(base + (size_t)j * bw, row_ok && xa >= 0 && xa < iw ? row + (size_t)xa * c : NULL,
                           row_ok && xb >= 0 && xb < iw ? row + (size_t)xb * c : NULL, steps, avail_a, avail_b, cfg.off2);
            ++j;
        }
    }
}

evo_status_t evo_conv2d_s8_dsp_win(const evo_conv2d_s8_dsp_params_t *p, const int8_t *input, const int32_t *stream,
                                   const int32_t *bias, int8_t *output, void *scratch)
{
    const int32_t out_w = p->out.w, out_c = p->out.c, kh = p->kh;
    const int32_t ncols = evo_conv2d_s8_dsp_win_columns(p), bw = win_block_words(p);
    const int32_t slot_words = win_cpad(p); /* 4 words per step */
    const int32_t fresh = p->stride_h < kh ? p->stride_h : kh; /* new rows per output row */
    uint32_t *win = (uint32_t *)scratch;
    int8_t *dummy = (int8_t *)(win + (size_t)ncols * bw); /* the odd last pixel's partner */
    evo_mm_job_t job;
    int32_t b, oy, ox, fy;

    if (bias != NULL || scratch == NULL || p->scratch_bytes < evo_conv2d_s8_dsp_win_scratch_bytes(p) || p->in.n != p->out.n ||
        p->dil_h != 1 || p->dil_w != 1) {
        return EVO_ERR_ARG;
    }
    job.rec = evo_mm_records(stream);
    job.steps = p->kw * kh * slot_words / 4;
    job.act_min = p->act_min;
    job.act_max = p->act_max;
    job.x = win;
    job.out_a = output;
    job.out_b = dummy;
    evo_mm_prepare(&job); /* every job is a two-pixel tile of the same steps */
    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * p->in.h * p->in.w * p->in.c;
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            int8_t *out_row = output + ((size_t)b * p->out.h + oy) * out_w * out_c;
            if (oy > 0 && fresh < kh) {
                win_shift(win, ncols, bw, fresh * slot_words);
            }
            for (fy = oy > 0 ? kh - fresh : 0; fy < kh; ++fy) {
                const int32_t iy = iy0 + fy;
                win_fill_slot(p, in_b, iy, b == p->in.n - 1 && iy == p->in.h - 1, fy, ncols, win);
            }
            for (ox = 0; ox < out_w; ox += 2) {
                job.x = win + (size_t)ox * p->stride_w * bw;
                job.x_end = job.x + 4 * job.steps;
                job.out_a = out_row + (size_t)ox * out_c;
                job.out_b = ox + 1 < out_w ? job.out_a + out_c : dummy;
                if (stream[0] > 0) {
                    job.run(&job);
                }
                if (stream[1] > 0) {
                    evo_mm_constants(stream, job.out_a);
                    evo_mm_constants(stream, job.out_b);
                }
            }
        }
    }
    return EVO_OK;
}
