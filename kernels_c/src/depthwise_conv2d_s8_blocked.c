/* DEPTHWISE_CONV_2D, int8, 3x3 filter, stride_w 1 or 2, depth multiplier 1, dilation 1: the
 * channel-blocked planar kernel (evo/depthwise_fast.h).
 *
 * Why blocked: the channel-planar kernel's ring of three widened rows covers every channel, and
 * in the memory-first build that ring can set the arena. Depthwise channels are independent, so
 * this kernel runs the whole layer for G channels at a time (channel groups outermost) with a ring
 * of G channels only. In place it is still safe: within a group it reads an input row (widening it
 * into the ring) before writing any output row that overlaps it, as the row-streaming contract
 * asks (evo/inplace.h), and a group's outputs land only on the same channels of the input when
 * the output starts a whole number of pixels before the input (checked below), so no later
 * group's input is overwritten. No input-row window is needed.
 *
 * Ring, per channel of the group: three slots (padded rows, slot = padded row index mod 3) of P
 * words, word k = padded columns 2k, 2k + 1 as int16 (input offset added, 0 in the padding); the
 * last pair the rows read is left out when it is all padding (reads of it are 0). A channel's 3P
 * words are contiguous, so three LDM walk one channel and land on the next. Two adjacent outputs
 * share words (as in the planar kernel):
 * an output starting at an even column 2k is SMLAD(P[k], (w0, w1)) + SMLABT(P[k + 1], (w1, w2)),
 * one starting at 2k + 1 is SMLATB(P[k], (w0, w1)) + SMLAD(P[k + 1], (w1, w2)). Which kernel row
 * sits in which slot rotates with the output row; each channel's weights list the rows r0 r1 r2 r0
 * r1, so slot order 0, 1, 2 reads them from the rotation on.
 *
 * On Cortex-M with the DSP extension, rows three, five or six outputs wide at stride 1 (KWS's 25x5
 * maps, MobileNet's last 6x6 and 3x3 ones) run one assembly loop over the group's channels with a
 * whole output row in registers, and rows are widened in assembly; other shapes run the same
 * arithmetic in C (the host's build, and the reference for the assembly). */
#include <stddef.h>
#include <stdint.h>

#include "evo/depthwise_fast.h"
#include "evo/simd32.h"

#define DWB_CONSTS 8  /* words per channel: 2 * bias five times (accumulator starts), M, T, e */
#define DWB_WEIGHTS 10 /* words per channel: (2w0, 2w1), (2w1, 2w2) for rows r0 r1 r2 r0 r1 */

/* Column pairs a row reads: the last output reads pair ((ow - 1) * sw + 2) / 2. */
static int32_t dwb_pairs_read(const evo_depthwise_conv2d_s8_params_t *p)
{
    return ((p->out.w - 1) * p->stride_w + 2) / 2 + 1;
}

/* Whether the last of them is all padding (0 in every row; the ring does not hold it). */
static int dwb_last_pad(const evo_depthwise_conv2d_s8_params_t *p)
{
    return 2 * (dwb_pairs_read(p) - 1) - p->pad_w >= p->in.w;
}

/* Column pairs per ring slot. */
static int32_t dwb_pairs(const evo_depthwise_conv2d_s8_params_t *p)
{
    return dwb_pairs_read(p) - dwb_last_pad(p);
}

int32_t evo_depthwise_conv2d_s8_blocked_get_buffer_size(const evo_depthwise_conv2d_s8_params_t *p, int32_t group)
{
    return (3 * group * dwb_pairs(p) * 4 + 15) & ~15;
}

/* What one output row of a group reads and writes. On the DSP path the first six fields are also
 * the assembly's stack frame (addressed by offset). */
typedef struct {
    int8_t *out;            /* 0: the group's first channel, output pixel 0 of the row */
    int32_t cs;             /* 4: output bytes per pixel (C) */
    int32_t cs3;            /* 8: 3 C */
    const uint32_t *end;    /* 12: past the group's last ring word */
    int32_t lo, hi;         /* 16, 20: activation clamp (mode 1) */
    const uint32_t *ring;   /* 24: the group's first channel, slot 0 */
    const int32_t *consts;  /* 28: the group's first channel's constants */
    const uint32_t *wrow;   /* 32: its weights at the row's rotation */
    int32_t n;              /* channels in the group */
    int32_t np;             /* P: pairs per slot (a read of pair P is 0) */
    int32_t ow, sw;
    int32_t last_pad;       /* the last column pair read is all padding (the ring does not hold it) */
} dwb_row_t;

/* One output row of every channel of the group, in C: output x starts at padded column x * sw. */
static void dwb_row_c(const dwb_row_t *a, int mode)
{
    int32_t j, x, s;
    for (j = 0; j < a->n; ++j) {
        const int32_t *q = a->consts + (size_t)j * DWB_CONSTS;
        const uint32_t *w = a->wrow + (size_t)j * DWB_WEIGHTS;
        const uint32_t *rc = a->ring + (size_t)j * 3 * a->np;
        for (x = 0; x < a->ow; ++x) {
            const int32_t k = x * a->sw / 2;
            uint32_t A[3], B[3];
            for (s = 0; s < 3; ++s) {
                A[s] = rc[s * a->np + k];
                B[s] = k + 1 < a->np ? rc[s * a->np + k + 1] : 0;
            }
            a->out[(size_t)x * a->cs + j] = evo_dw3_planar_out(A, B, w, (x * a->sw) & 1, q[0], q[5], q[6], q[7], mode, a->lo, a->hi);
        }
    }
}

#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__)

typedef char dwb_frame_is_first[offsetof(dwb_row_t, wrow) == 32 ? 1 : -1]; /* the assembly's LDM */

/* Registers: r0 ring, r1-r5 the five accumulators, r6-r9 a slot's four words, r10/r11 the slot's
 * weights (w0, w1), (w1, w2), r12 weights, lr constants; frame at sp (out, C, 3C, end, lo, hi). */
#define DWB5_HEAD                                                                                              \
    "push {r0-r12, lr}\n\t"                                                                                    \
    "mov lr, %[a]\n\t"                                                                                         \
    "ldm lr, {r0-r8}\n\t"                                                                                      \
    "sub sp, sp, #24\n\t"                                                                                      \
    "stm sp, {r0-r5}\n\t"                                                                                      \
    "mov r0, r6\n\t"                                                                                           \
    "mov lr, r7\n\t"                                                                                           \
    "mov r12, r8\n"                                                                                            \
    "1:\n\t"                                                                                                   \
    "ldm lr!, {r1-r5}\n\t"

/* One slot: its words (LDM), its weights (W: the LDRD), ten multiplies for the five outputs; when
 * the last pair is all padding the ring holds three words a slot and the tenth multiply goes
 * (LAST: it, or nothing). */
#define DWB5_SLOT(LDM, W, LAST)                                                                                \
    LDM W                                                                                                      \
    "smlad r1, r6, r10, r1\n\t"                                                                                \
    "smlabt r1, r7, r11, r1\n\t"                                                                               \
    "smlatb r2, r6, r10, r2\n\t"                                                                               \
    "smlad r2, r7, r11, r2\n\t"                                                                                \
    "smlad r3, r7, r10, r3\n\t"                                                                                \
    "smlabt r3, r8, r11, r3\n\t"                                                                               \
    "smlatb r4, r7, r10, r4\n\t"                                                                               \
    "smlad r4, r8, r11, r4\n\t"                                                                                \
    "smlad r5, r8, r10, r5\n\t" LAST

#define DWB5_LDM4 "ldm r0!, {r6-r9}\n\t"
#define DWB5_LDM3 "ldm r0!, {r6-r8}\n\t"
#define DWB5_LAST "smlabt r5, r9, r11, r5\n\t"
#define DWB5_SLOTS(LDM, LAST)                                                                                  \
    DWB5_SLOT(LDM, "ldrd r10, r11, [r12], #40\n\t", LAST)                                                      \
    DWB5_SLOT(LDM, "ldrd r10, r11, [r12, #-32]\n\t", LAST) DWB5_SLOT(LDM, "ldrd r10, r11, [r12, #-24]\n\t", LAST)

/* Requantise R (SMMLAR form, evo/depthwise_fast.h) with M, T, e in registers and scratch X. */
#define DWB_REQX(R, M, T, E, X)                                                                                \
    "add " X ", " T ", " R ", asr #31\n\t"                                                                     \
    "smmlar " R ", " R ", " M ", " X "\n\t"                                                                    \
    "asr " R ", " R ", " E "\n\t"                                                                              \
    "ssat " R ", #8, " R "\n\t"
#define DWB_REQ(R) DWB_REQX(R, "r6", "r7", "r8", "r9")

/* Clamp R to [LO, HI] (mode 1). */
#define DWB_CLAMPX(R, LO, HI) "cmp " R ", " LO "\n\tit lt\n\tmovlt " R ", " LO "\n\tcmp " R ", " HI "\n\tit gt\n\tmovgt " R ", " HI "\n\t"
#define DWB_CLAMP_R(R) DWB_CLAMPX(R, "r10", "r11")
#define DWB5_CLAMP                                                                                             \
    "ldrd r10, r11, [sp, #16]\n\t" DWB_CLAMP_R("r1") DWB_CLAMP_R("r2") DWB_CLAMP_R("r3") DWB_CLAMP_R("r4")      \
        DWB_CLAMP_R("r5")

/* After a channel's stores: step to the next channel's output, loop until the ring's end. */
#define DWB_NEXT_CHANNEL                                                                                       \
    "add r9, r9, #1\n\t"                                                                                       \
    "str r9, [sp]\n\t"                                                                                         \
    "ldr r9, [sp, #12]\n\t"                                                                                    \
    "cmp r0, r9\n\t"                                                                                           \
    "bne 1b\n\t"                                                                                               \
    "add sp, sp, #24\n\t"                                                                                      \
    "pop {r0-r12, lr}"

/* Store the five outputs C bytes apart, then on to the next channel. */
#define DWB5_TAIL                                                                                              \
    "ldm sp, {r9-r11}\n\t"                                                                                     \
    "strb r1, [r9]\n\t"                                                                                        \
    "strb r2, [r9, r10]\n\t"                                                                                   \
    "strb r3, [r9, r10, lsl #1]\n\t"                                                                           \
    "strb r4, [r9, r11]\n\t"                                                                                   \
    "strb r5, [r9, r10, lsl #2]\n\t"                                                                           \
    DWB_NEXT_CHANNEL

#define DWB5_BODY(LDM, LAST, CLAMP)                                                                            \
    DWB5_HEAD DWB5_SLOTS(LDM, LAST) "ldm lr!, {r6-r8}\n\t" DWB_REQ("r1") DWB_REQ("r2") DWB_REQ("r3") DWB_REQ("r4")   \
        DWB_REQ("r5") CLAMP DWB5_TAIL

/* One routine per clamp and last pair (constants inside, no per-channel tests): W outputs wide,
 * LDMF/LDMP a slot's loads with the last pair held / dropped as padding (LAST its multiply). */
#define DWB_ROUTINE(NAME, BODY) \
    static void NAME(const dwb_row_t *a) { __asm__ volatile(BODY : : [a] "r"(a) : "memory", "cc"); }
#define DWB_ROUTINES(W, LDMF, LDMP, LAST)                                                                      \
    DWB_ROUTINE(dwb_row##W##_fast, DWB##W##_BODY(LDMF, LAST, ""))                                            \
    DWB_ROUTINE(dwb_row##W##_clamp, DWB##W##_BODY(LDMF, LAST, DWB##W##_CLAMP))                               \
    DWB_ROUTINE(dwb_row##W##_fast_pad, DWB##W##_BODY(LDMP, "", ""))                                          \
    DWB_ROUTINE(dwb_row##W##_clamp_pad, DWB##W##_BODY(LDMP, "", DWB##W##_CLAMP))
DWB_ROUTINES(5, DWB5_LDM4, DWB5_LDM3, DWB5_LAST)

/* Rows three outputs wide: the five-wide routine's registers and frame, three accumulators (r1-r3)
 * and two or three words a slot (the third, P2, only feeds output 2's last tap). */
#define DWB3_SLOT(LDM, W, LAST)                                                                                \
    LDM W                                                                                                      \
    "smlad r1, r6, r10, r1\n\t"                                                                                \
    "smlabt r1, r7, r11, r1\n\t"                                                                               \
    "smlatb r2, r6, r10, r2\n\t"                                                                               \
    "smlad r2, r7, r11, r2\n\t"                                                                                \
    "smlad r3, r7, r10, r3\n\t" LAST

#define DWB3_LDM3 "ldm r0!, {r6-r8}\n\t"
#define DWB3_LDM2 "ldm r0!, {r6-r7}\n\t"
#define DWB3_LAST "smlabt r3, r8, r11, r3\n\t"
#define DWB3_SLOTS(LDM, LAST)                                                                                  \
    DWB3_SLOT(LDM, "ldrd r10, r11, [r12], #40\n\t", LAST)                                                      \
    DWB3_SLOT(LDM, "ldrd r10, r11, [r12, #-32]\n\t", LAST) DWB3_SLOT(LDM, "ldrd r10, r11, [r12, #-24]\n\t", LAST)
#define DWB3_CLAMP "ldrd r10, r11, [sp, #16]\n\t" DWB_CLAMP_R("r1") DWB_CLAMP_R("r2") DWB_CLAMP_R("r3")

#define DWB3_TAIL                                                                                              \
    "ldm sp, {r9-r11}\n\t"                                                                                     \
    "strb r1, [r9]\n\t"                                                                                        \
    "strb r2, [r9, r10]\n\t"                                                                                   \
    "strb r3, [r9, r10, lsl #1]\n\t"                                                                           \
    DWB_NEXT_CHANNEL

#define DWB3_BODY(LDM, LAST, CLAMP)                                                                            \
    DWB5_HEAD DWB3_SLOTS(LDM, LAST) "ldm lr!, {r6-r8}\n\t" DWB_REQ("r1") DWB_REQ("r2") DWB_REQ("r3") CLAMP      \
        DWB3_TAIL

DWB_ROUTINES(3, DWB3_LDM3, DWB3_LDM2, DWB3_LAST)

/* Rows six outputs wide (four words a slot): six accumulators take the register that held the
 * constants' pointer, which moves to the frame. Registers: r0 ring, r1-r6 accumulators, r7-r10 a
 * slot's words, r11/r12 its weights, lr weights; frame (out, C, 3C, end, lo, hi, constants). */
#define DWB6_HEAD                                                                                              \
    "push {r0-r12, lr}\n\t"                                                                                    \
    "mov lr, %[a]\n\t"                                                                                         \
    "ldm lr, {r0-r8}\n\t"                                                                                      \
    "sub sp, sp, #28\n\t"                                                                                      \
    "stm sp, {r0-r5, r7}\n\t"                                                                                  \
    "mov r0, r6\n\t"                                                                                           \
    "mov lr, r8\n"                                                                                              \
    "1:\n\t"                                                                                                   \
    "ldr r7, [sp, #24]\n\t"                                                                                    \
    "ldm r7!, {r1-r5}\n\t"                                                                                     \
    "mov r6, r1\n\t"                                                                                           \
    "str r7, [sp, #24]\n\t"

#define DWB6_SLOT(W)                                                                                           \
    "ldm r0!, {r7-r10}\n\t" W                                                                                  \
    "smlad r1, r7, r11, r1\n\t"                                                                                \
    "smlabt r1, r8, r12, r1\n\t"                                                                               \
    "smlatb r2, r7, r11, r2\n\t"                                                                               \
    "smlad r2, r8, r12, r2\n\t"                                                                                \
    "smlad r3, r8, r11, r3\n\t"                                                                                \
    "smlabt r3, r9, r12, r3\n\t"                                                                               \
    "smlatb r4, r8, r11, r4\n\t"                                                                               \
    "smlad r4, r9, r12, r4\n\t"                                                                                \
    "smlad r5, r9, r11, r5\n\t"                                                                                \
    "smlabt r5, r10, r12, r5\n\t"                                                                              \
    "smlatb r6, r9, r11, r6\n\t"                                                                               \
    "smlad r6, r10, r12, r6\n\t"

#define DWB6_REQ(R) DWB_REQX(R, "r7", "r8", "r9", "r10")
#define DWB6_CLAMP_R(R) DWB_CLAMPX(R, "r11", "r12")
#define DWB6_CLAMP                                                                                             \
    "ldrd r11, r12, [sp, #16]\n\t" DWB6_CLAMP_R("r1") DWB6_CLAMP_R("r2") DWB6_CLAMP_R("r3") DWB6_CLAMP_R("r4")  \
        DWB6_CLAMP_R("r5") DWB6_CLAMP_R("r6")

/* The constants {M, T, e} follow the five accumulator starts; the outputs go C bytes apart (the
 * sixth at 5 C = 4 C + C). */
#define DWB6_BODY(CLAMP)                                                                                       \
    DWB6_HEAD DWB6_SLOT("ldrd r11, r12, [lr], #40\n\t") DWB6_SLOT("ldrd r11, r12, [lr, #-32]\n\t")             \
        DWB6_SLOT("ldrd r11, r12, [lr, #-24]\n\t")                                                             \
    "ldr r11, [sp, #24]\n\t"                                                                                   \
    "ldm r11!, {r7-r9}\n\t"                                                                                    \
    "str r11, [sp, #24]\n\t" DWB6_REQ("r1") DWB6_REQ("r2") DWB6_REQ("r3") DWB6_REQ("r4") DWB6_REQ("r5")         \
        DWB6_REQ("r6") CLAMP                                                                                   \
    "ldm sp, {r10-r12}\n\t"                                                                                    \
    "strb r1, [r10]\n\t"                                                                                       \
    "strb r2, [r10, r11]\n\t"                                                                                  \
    "strb r3, [r10, r11, lsl #1]\n\t"                                                                          \
    "strb r4, [r10, r12]\n\t"                                                                                  \
    "strb r5, [r10, r11, lsl #2]\n\t"                                                                          \
    "add r7, r10, r11, lsl #2\n\t"                                                                             \
    "strb r6, [r7, r11]\n\t"                                                                                   \
    "add r10, r10, #1\n\t"                                                                                     \
    "str r10, [sp]\n\t"                                                                                        \
    "ldr r7, [sp, #12]\n\t"                                                                                    \
    "cmp r0, r7\n\t"                                                                                           \
    "bne 1b\n\t"                                                                                               \
    "add sp, sp, #28\n\t"                                                                                      \
    "pop {r0-r12, lr}"

DWB_ROUTINE(dwb_row6_fast, DWB6_BODY(""))
DWB_ROUTINE(dwb_row6_clamp, DWB6_BODY(DWB6_CLAMP))

#endif

typedef void (*dwb_row_fn)(const dwb_row_t *a);

static void dwb_row_c_fast(const dwb_row_t *a)
{
    dwb_row_c(a, EVO_DWP_MODE_FAST);
}

static void dwb_row_c_clamp(const dwb_row_t *a)
{
    dwb_row_c(a, EVO_DWP_MODE_FAST_CLAMP);
}

/* The routine that computes the layer's output rows (chosen once per call). */
static dwb_row_fn dwb_row_for(const dwb_row_t *a, int mode)
{
    const int clamp = mode == EVO_DWP_MODE_FAST_CLAMP;
#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__)
    static const dwb_row_fn fn5[2][2] = {{dwb_row5_fast, dwb_row5_fast_pad}, {dwb_row5_clamp, dwb_row5_clamp_pad}};
    static const dwb_row_fn fn3[2][2] = {{dwb_row3_fast, dwb_row3_fast_pad}, {dwb_row3_clamp, dwb_row3_clamp_pad}};
    if (a->ow == 5 && a->sw == 1) { /* P = 4 pairs read, the ring holds 3 or 4 */
        return fn5[clamp][a->last_pad];
    }
    if (a->ow == 3 && a->sw == 1) { /* P = 3 pairs read, the ring holds 2 or 3 */
        return fn3[clamp][a->last_pad];
    }
    if (a->ow == 6 && a->sw == 1 && a->np == 4) { /* the last pair read holds a pixel */
        return clamp ? dwb_row6_clamp : dwb_row6_fast;
    }
#else
    (void)a;
#endif
    return clamp ? dwb_row_c_clamp : dwb_row_c_fast;
}

/* The image's column pairs [k0, k1) of a row as runs whose pixels step by 2 C bytes: a left pair
 * half in the padding, the pairs wholly inside, a right pair half in the padding (each may be
 * absent). a, b: the first pair's two pixels as byte offsets from the row's start, -1 for the
 * zero-point pixel. The same for every row, so computed once per call. */
typedef struct {
    int32_t k, n, a, b;
} dwb_seg_t;

static int32_t dwb_segments(const evo_depthwise_conv2d_s8_params_t *p, int32_t k0, int32_t k1, dwb_seg_t *seg)
{
    const int32_t ch = p->in.c;
    int32_t k = k0, n = 0, m = 0;
    if (k < k1 && 2 * k - p->pad_w < 0) { /* (padding, pixel 0) */
        seg[m].k = k;
        seg[m].n = 1;
        seg[m].a = -1;
        seg[m].b = 0;
        ++m;
        ++k;
    }
    while (k + n < k1 && 2 * (k + n) - p->pad_w + 1 < p->in.w) {
        ++n;
    }
    if (n > 0) {
        seg[m].k = k;
        seg[m].n = n;
        seg[m].a = (2 * k - p->pad_w) * ch;
        seg[m].b = seg[m].a + ch;
        ++m;
        k += n;
    }
    if (k < k1) { /* (pixel w - 1, padding) */
        seg[m].k = k;
        seg[m].n = 1;
        seg[m].a = (2 * k - p->pad_w) * ch;
        seg[m].b = -1;
        ++m;
    }
    return m;
}

/* How a group's rows are widened into the ring: n channels from `row` (the group's first channel
 * of an input row), zero points from zrow. */
typedef struct {
    const dwb_seg_t *seg;
    int32_t nseg;
    int32_t n, np, ch;
    uint32_t off2;
    const int8_t *zrow;
} dwb_widen_t;

/* The plain-C widening of a row into the slot starting at dst: per four channels of a pair, two
 * loads, two PKH, four SXTAB16. */
static void dwb_widen_c(const dwb_widen_t *wd, uint32_t *dst, const int8_t *row)
{
    const size_t cstep = (size_t)3 * wd->np; /* words between channels */
    const int32_t off = (int32_t)(int16_t)(wd->off2 & 0xFFFFu), n = wd->n;
    int32_t i, k, c;
    for (i = 0; i < wd->nseg; ++i) {
        const dwb_seg_t *sg = &wd->seg[i];
        for (k = 0; k < sg->n; ++k) {
            const int8_t *a = sg->a < 0 ? wd->zrow : row + sg->a + (size_t)2 * k * wd->ch;
            const int8_t *b = sg->b < 0 ? wd->zrow : row + sg->b + (size_t)2 * k * wd->ch;
            uint32_t *d = dst + sg->k + k;
            for (c = 0; c + 4 <= n; c += 4) {
                const uint32_t va = evo_s32_ld(a + c), vb = evo_s32_ld(b + c);
                const uint32_t lo = evo_s32_pkhbt(va, vb), hi = evo_s32_pkhtb(va, vb);
                d[0] = evo_s32_sxtab16(wd->off2, lo);
                d[cstep] = evo_s32_sxtab16_r8(wd->off2, lo);
                d[2 * cstep] = evo_s32_sxtab16(wd->off2, hi);
                d[3 * cstep] = evo_s32_sxtab16_r8(wd->off2, hi);
                d += 4 * cstep;
            }
            for (; c < n; ++c) { /* a group's channels past its last four */
                *d = ((uint32_t)(a[c] + off) & 0xFFFFu) | ((uint32_t)(b[c] + off) << 16);
                d += cstep;
            }
        }
    }
}

#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__)

/* The assembly's arguments (a multiple of 4 channels; at most one pair on either border, which
 * dwb_segments guarantees): the first seven fields are LDM'd into r0-r6, the rest read by offset. */
typedef struct {
    uint32_t *dst;      /* 0, r0: the slot's word of channel 0 at the first image pair (per row) */
    int32_t step;       /* 4, r1: bytes from where a pair's pixels stop to the next pair's (2 C - n) */
    int32_t gap;        /* 8 */
    int32_t quads;      /* 12, r3: n / 4 */
    uint32_t s1;        /* 16, r4: bytes between channels */
    uint32_t s3;        /* 20, r5: 3 s1 */
    uint32_t off2;      /* 24, r6: input offset in both halves */
    const int8_t *row;  /* 28: the group's first channel of the input row (per row) */
    int32_t nl, ni, nr; /* 32, 36, 40: pairs (padding, pixel), (pixel, pixel), (pixel, padding) */
    int32_t aoff, roff; /* 44, 48: bytes from row to the inner run's first pixel, to the right pair's */
    uint32_t zp4;       /* 52: four zero points (what a padding pixel reads; they widen to 0) */
    int32_t ch;         /* 56: C */
} dwb_wrow_t;

typedef char dwb_wrow_is_15_words[sizeof(dwb_wrow_t) == 60 ? 1 : -1];

/* Four channels of a pair: two PKH, four SXTAB16, four stores a channel apart. A: how the pixel
 * words reach r7 (left) and r8 (right), P: the PKH operand for the left word. */
#define DWB_WQ(LOAD, L)                                                                                        \
    LOAD "pkhbt r9, " L ", r8, lsl #16\n\t"                                                                    \
    "pkhtb r8, r8, " L ", asr #16\n\t"                                                                         \
    "sxtab16 r7, r6, r9\n\t"                                                                                   \
    "str r7, [lr]\n\t"                                                                                         \
    "sxtab16 r7, r6, r9, ror #8\n\t"                                                                           \
    "str r7, [lr, r4]\n\t"                                                                                     \
    "sxtab16 r7, r6, r8\n\t"                                                                                   \
    "str r7, [lr, r4, lsl #1]\n\t"                                                                             \
    "sxtab16 r7, r6, r8, ror #8\n\t"                                                                           \
    "str r7, [lr, r5]\n\t"                                                                                     \
    "add lr, lr, r4, lsl #2\n\t"
#define DWB_WQ_IN DWB_WQ("ldr r7, [r10], #4\n\tldr r8, [r11], #4\n\t", "r7")  /* both pixels in the image */
#define DWB_WQ_LZ DWB_WQ("ldr r8, [r11], #4\n\t", "r10")                      /* r10: zero points */
#define DWB_WQ_RZ DWB_WQ("ldr r7, [r10], #4\n\tmov r8, r11\n\t", "r7")          /* r11: zero points */

/* Widen one input row into its slot: the left border pair, the inner run (two quads per trip after
 * an odd one), the right border pair. Registers: r0 the pair's channel-0 word, r1 step, r2 pairs
 * left, r3 quads, r4 s1, r5 s3, r6 offset, r7-r9 scratch, r10/r11 the pixels (or zero points),
 * r12 trips left, lr the store cursor; [sp] the arguments. */
static void dwb_widen_row(const dwb_wrow_t *w)
{
    __asm__ volatile("push {r0-r12, lr}\n\t"
                     "push {%[w]}\n\t"
                     "ldm %[w], {r0-r6}\n\t"
                     "ldr r7, [sp]\n\t"
                     "ldr r2, [r7, #32]\n\t"
                     "cmp r2, #0\n\t"
                     "beq 10f\n\t"
                     "ldr r10, [r7, #52]\n\t"
                     "ldr r11, [r7, #28]\n\t"
                     "mov lr, r0\n\t"
                     "mov r12, r3\n"
                     "11:\n\t" DWB_WQ_LZ "subs r12, r12, #1\n\t"
                     "bne 11b\n\t"
                     "add r0, r0, #4\n"
                     "10:\n\t"
                     "ldr r7, [sp]\n\t"
                     "ldr r2, [r7, #36]\n\t"
                     "cmp r2, #0\n\t"
                     "beq 20f\n\t"
                     "ldr r10, [r7, #28]\n\t"
                     "ldr r8, [r7, #44]\n\t"
                     "add r10, r10, r8\n\t"
                     "ldr r8, [r7, #56]\n\t"
                     "add r11, r10, r8\n"
                     "1:\n\t"
                     "mov lr, r0\n\t"
                     "lsrs r12, r3, #1\n\t"
                     "bcc 2f\n\t" DWB_WQ_IN "2:\n\t"
                     "cmp r12, #0\n\t"
                     "beq 4f\n"
                     "3:\n\t" DWB_WQ_IN DWB_WQ_IN "subs r12, r12, #1\n\t"
                     "bne 3b\n"
                     "4:\n\t"
                     "add r10, r10, r1\n\t"
                     "add r11, r11, r1\n\t"
                     "add r0, r0, #4\n\t"
                     "subs r2, r2, #1\n\t"
                     "bne 1b\n"
                     "20:\n\t"
                     "ldr r7, [sp]\n\t"
                     "ldr r2, [r7, #40]\n\t"
                     "cmp r2, #0\n\t"
                     "beq 30f\n\t"
                     "ldr r10, [r7, #28]\n\t"
                     "ldr r8, [r7, #48]\n\t"
                     "add r10, r10, r8\n\t"
                     "ldr r11, [r7, #52]\n\t"
                     "mov lr, r0\n\t"
                     "mov r12, r3\n"
                     "31:\n\t" DWB_WQ_RZ "subs r12, r12, #1\n\t"
                     "bne 31b\n"
                     "30:\n\t"
                     "add sp, sp, #4\n\t"
                     "pop {r0-r12, lr}"
                     :
                     : [w] "r"(w)
                     : "memory", "cc");
}

/* The assembly's arguments that hold for a whole group (first: the slot word of its first pair);
 * 0 when the assembly does not apply (channels past whole quads: the C loop widens them). */
static int dwb_wrow_init(dwb_wrow_t *wr, const dwb_widen_t *wd, int32_t input_offset, int32_t *first)
{
    int32_t i;
    if (wd->n % 4 != 0 || wd->nseg == 0) {
        return 0;
    }
    wr->nl = wr->ni = wr->nr = wr->aoff = wr->roff = wr->gap = 0;
    for (i = 0; i < wd->nseg; ++i) {
        const dwb_seg_t *sg = &wd->seg[i];
        if (sg->a < 0) {
            wr->nl = 1;
        } else if (sg->b < 0) {
            wr->nr = 1;
            wr->roff = sg->a;
        } else {
            wr->ni = sg->n;
            wr->aoff = sg->a;
        }
    }
    *first = wd->seg[0].k;
    wr->step = 2 * wd->ch - wd->n;
    wr->quads = wd->n / 4;
    wr->s1 = (uint32_t)wd->np * 12;
    wr->s3 = 3 * wr->s1;
    wr->off2 = wd->off2;
    wr->zp4 = ((uint32_t)-input_offset & 0xFFu) * 0x01010101u;
    wr->ch = wd->ch;
    return 1;
}

#endif

/* A padding row: the slot starting at dst is 0 for the group's channels over the image's pairs
 * (the others stay 0), four channels a trip: a few stores, where a memset per channel would cost
 * a call each. */
static void dwb_zero_slot(const dwb_widen_t *wd, uint32_t *dst)
{
    const size_t cstep = (size_t)3 * wd->np;
    const int32_t k0 = wd->nseg > 0 ? wd->seg[0].k : 0, k1 = wd->nseg > 0 ? wd->seg[wd->nseg - 1].k + wd->seg[wd->nseg - 1].n : 0;
    int32_t c, k;
    for (k = k0; k < k1; ++k) {
        uint32_t *d = dst + k;
        for (c = 0; c + 4 <= wd->n; c += 4, d += 4 * cstep) {
            d[0] = 0;
            d[cstep] = 0;
            d[2 * cstep] = 0;
            d[3 * cstep] = 0;
        }
        for (; c < wd->n; ++c, d += cstep) {
            *d = 0;
        }
    }
}

/* Zero the column pairs wholly outside the image (no row load writes them) in every slot of the
 * ring's channels. */
static void dwb_clear_padding(uint32_t *ring, const evo_depthwise_conv2d_s8_params_t *p, int32_t n, int32_t np)
{
    int32_t c, s, k;
    for (k = 0; k < np; ++k) {
        const int32_t x0 = 2 * k - p->pad_w;
        if (x0 + 1 < 0 || x0 >= p->in.w) {
            for (c = 0; c < n; ++c) {
                for (s = 0; s < 3; ++s) {
                    ring[((size_t)c * 3 + s) * np + k] = 0;
                }
            }
        }
    }
}

/* In place (output overlapping input) only when the output starts a whole number of pixels at or
 * before the input: then a group's output bytes fall on the same channels' input bytes. */
static int dwb_overlap_ok(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input, const int8_t *output)
{
    const uintptr_t i0 = (uintptr_t)input, o0 = (uintptr_t)output;
    const uintptr_t i1 = i0 + (size_t)p->in.n * p->in.h * p->in.w * p->in.c;
    const uintptr_t o1 = o0 + (size_t)p->out.n * p->out.h * p->out.w * p->out.c;
    if (o1 <= i0 || i1 <= o0) {
        return 1;
    }
    return o0 <= i0 && (i0 - o0) % (uintptr_t)p->in.c == 0;
}

evo_status_t evo_depthwise_conv2d_s8_blocked(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                             const int32_t *wpack, const int32_t *qpack, int8_t *output, void *scratch)
{
    const int32_t ch = p->out.c, ih = p->in.h, np = dwb_pairs(p), mode = qpack[0], group = qpack[1];
    const uint32_t off2 = ((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u;
    uint32_t *const ring = (uint32_t *)scratch;
    const int32_t *const consts = wpack;
    const uint32_t *const weights = (const uint32_t *)(wpack + (size_t)DWB_CONSTS * ch);
    const int8_t *const zrow = (const int8_t *)(wpack + (size_t)(DWB_CONSTS + DWB_WEIGHTS) * ch);
    const size_t in_row = (size_t)p->in.w * ch, out_row = (size_t)p->out.w * ch;
    const size_t in_img = (size_t)ih * in_row, out_img = (size_t)p->out.h * out_row;
    int32_t k1, b, g0, oy;
    dwb_seg_t seg[3];
    dwb_widen_t wd;
    dwb_row_t a;
    dwb_row_fn row;
#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__)
    dwb_wrow_t wr;
    int32_t first = 0;
    int fast = 0;
#endif

    if (p->in.n != p->out.n || p->in.c != ch || p->depth_multiplier != 1 || p->kh != 3 || p->kw != 3 ||
        p->dil_h != 1 || p->dil_w != 1 || p->stride_h < 1 || (p->stride_w != 1 && p->stride_w != 2) ||
        p->pad_h < 0 || p->pad_w < 0 || ch < 1 || p->out.w < 1 || scratch == NULL || group < 1 || group > ch ||
        (mode != EVO_DWP_MODE_FAST && mode != EVO_DWP_MODE_FAST_CLAMP) || !dwb_overlap_ok(p, input, output)) {
        return EVO_ERR_ARG;
    }
    k1 = (p->in.w - 1 + p->pad_w) / 2 + 1; /* pairs [pad_w / 2, k1) hold an image pixel */
    wd.seg = seg;
    wd.nseg = dwb_segments(p, p->pad_w / 2, k1 < np ? k1 : np, seg);
    wd.np = np;
    wd.ch = ch;
    wd.off2 = off2;
    dwb_clear_padding(ring, p, group, np);
    a.cs = ch;
    a.cs3 = 3 * ch;
    a.lo = p->act_min;
    a.hi = p->act_max;
    a.ring = ring;
    a.np = np;
    a.ow = p->out.w;
    a.sw = p->stride_w;
    a.last_pad = dwb_last_pad(p);
    row = dwb_row_for(&a, mode);
    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * in_img;
        int8_t *out_b = output + (size_t)b * out_img;
        for (g0 = 0; g0 < ch; g0 += group) {
            const uint32_t *w0 = weights + (size_t)DWB_WEIGHTS * g0;
            const int8_t *src = in_b + g0; /* the group's first channel of input row 0 */
            int32_t next = 0, slot = 0, pr0 = 0, rot = 0; /* next padded row to load, its slot; the output row's first, mod 3 */
            wd.n = ch - g0 < group ? ch - g0 : group;
            wd.zrow = zrow + g0;
#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__)
            fast = dwb_wrow_init(&wr, &wd, p->input_offset, &first);
#endif
            a.n = wd.n;
            a.end = ring + (size_t)3 * np * wd.n;
            a.consts = consts + (size_t)DWB_CONSTS * g0;
            a.out = out_b + g0;
            for (oy = 0; oy < p->out.h; ++oy) {
                if (next < pr0) { /* stride_h > 3: rows no output reads */
                    next = pr0;
                    slot = rot;
                }
                for (; next < pr0 + 3; ++next) {
                    uint32_t *dst = ring + (size_t)slot * np;
                    if (next >= p->pad_h && next < p->pad_h + ih) {
                        const int8_t *in_y = src + (size_t)(next - p->pad_h) * in_row;
#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__)
                        if (fast) {
                            wr.dst = dst + first;
                            wr.row = in_y;
                            dwb_widen_row(&wr);
                        } else
#endif
                        {
                            dwb_widen_c(&wd, dst, in_y);
                        }
                    } else {
                        dwb_zero_slot(&wd, dst);
                    }
                    slot = slot == 2 ? 0 : slot + 1;
                }
                a.wrow = w0 + 2 * (rot == 0 ? 0 : 3 - rot);
                row(&a);
                a.out += out_row;
                pr0 += p->stride_h;
                rot = pr0 % 3;
            }
        }
    }
    return EVO_OK;
}
