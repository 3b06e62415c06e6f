/* Int16 matrix-product engine (layouts and requantisation: evo/mm_s16.h).
 *
 * Cortex-M DSP (M4/M7/M33): a 2-pixel x 2-channel register tile in hand-written assembly, because
 * the tile needs all 14 allocatable registers (4 accumulators, 4 input and 4 weight words, 2
 * pointers) and LDM needs its registers in ascending order, which C cannot ask for:
 *   ldm x!, {r1-r4}; ldm w!, {r5-r8}; 8 x smlad          10 instructions per 16 MACs
 * The K loop is 16 such steps unrolled (every instruction 32-bit, 40 bytes per step); a call jumps
 * into it so that the first pass runs S mod 16 steps (Duff's device) and later passes 16. The loop
 * state that does not fit in registers (input start, entry address, output pointer) lives in a
 * small stack frame; `ldm sp, {r0, pc}` rewinds the input and enters the unrolled block in one
 * instruction. Elsewhere the portable C below computes the same sums and requantisation. */
#include <string.h>

#include "evo/mm_s16.h"
#if defined(__ARM_FEATURE_DSP)
#include "evo/arm_dsp.h"
#endif

#define MM_UNROLL 16 /* steps per pass of the unrolled block */

#if defined(__ARM_FEATURE_DSP)
/* `steps` whole steps of pixels a and b from fa and fb into x; returns the advanced x.
 * Per step: two (unaligned) word loads, four SXTAB16, one STM (fixed registers r8-r11: STM
 * stores in register order); two steps per loop iteration. */
__attribute__((always_inline)) static inline uint32_t *widen_steps(const int8_t *fa, const int8_t *fb, int32_t steps, uint32_t off, uint32_t *x)
{
    uint32_t va, vb;
    int32_t n = steps >> 1;
    if (fb == NULL) { /* one pixel: two words per step */
        for (; steps > 0; --steps) {
            __asm__ volatile(
                "ldr %[va], [%[fa]], #4\n\t"
                "sxtab16 r8, %[off], %[va]\n\t"
                "sxtab16 r9, %[off], %[va], ror #8\n\t"
                "stmia %[x]!, {r8, r9}\n\t"
                : [va] "=&r"(va), [fa] "+r"(fa), [x] "+r"(x)
                : [off] "r"(off)
                : "r8", "r9", "memory");
        }
        return x;
    }
    if ((((uintptr_t)fa | (uintptr_t)fb) & 3u) == 0 && n > 0) {
        /* word-aligned fields (channel counts that are multiples of 4): LDRD, two steps per load */
        uint32_t va1, vb1;
        __asm__ volatile(
            "1:\n\t"
            "ldrd %[va], %[va1], [%[fa]], #8\n\t"
            "ldrd %[vb], %[vb1], [%[fb]], #8\n\t"
            "sxtab16 r8, %[off], %[va]\n\t"
            "sxtab16 r9, %[off], %[va], ror #8\n\t"
            "sxtab16 r10, %[off], %[vb]\n\t"
            "sxtab16 r11, %[off], %[vb], ror #8\n\t"
            "stmia %[x]!, {r8-r11}\n\t"
            "sxtab16 r8, %[off], %[va1]\n\t"
            "sxtab16 r9, %[off], %[va1], ror #8\n\t"
            "sxtab16 r10, %[off], %[vb1]\n\t"
            "sxtab16 r11, %[off], %[vb1], ror #8\n\t"
            "stmia %[x]!, {r8-r11}\n\t"
            "subs %[n], %[n], #1\n\t"
            "bne 1b\n\t"
            : [va] "=&r"(va), [vb] "=&r"(vb), [va1] "=&r"(va1), [vb1] "=&r"(vb1), [fa] "+r"(fa), [fb] "+r"(fb),
              [x] "+r"(x), [n] "+r"(n)
            : [off] "r"(off)
            : "r8", "r9", "r10", "r11", "cc", "memory");
    }
    if (steps & 1) {
        __asm__ volatile(
            "ldr %[va], [%[fa]], #4\n\t"
            "ldr %[vb], [%[fb]], #4\n\t"
            "sxtab16 r8, %[off], %[va]\n\t"
            "sxtab16 r9, %[off], %[va], ror #8\n\t"
            "sxtab16 r10, %[off], %[vb]\n\t"
            "sxtab16 r11, %[off], %[vb], ror #8\n\t"
            "stmia %[x]!, {r8-r11}\n\t"
            : [va] "=&r"(va), [vb] "=&r"(vb), [fa] "+r"(fa), [fb] "+r"(fb), [x] "+r"(x)
            : [off] "r"(off)
            : "r8", "r9", "r10", "r11", "memory");
    }
    if (n > 0) {
        __asm__ volatile(
            "1:\n\t"
            "ldr %[va], [%[fa]], #4\n\t"
            "ldr %[vb], [%[fb]], #4\n\t"
            "sxtab16 r8, %[off], %[va]\n\t"
            "sxtab16 r9, %[off], %[va], ror #8\n\t"
            "sxtab16 r10, %[off], %[vb]\n\t"
            "sxtab16 r11, %[off], %[vb], ror #8\n\t"
            "stmia %[x]!, {r8-r11}\n\t"
            "ldr %[va], [%[fa]], #4\n\t"
            "ldr %[vb], [%[fb]], #4\n\t"
            "sxtab16 r8, %[off], %[va]\n\t"
            "sxtab16 r9, %[off], %[va], ror #8\n\t"
            "sxtab16 r10, %[off], %[vb]\n\t"
            "sxtab16 r11, %[off], %[vb], ror #8\n\t"
            "stmia %[x]!, {r8-r11}\n\t"
            "subs %[n], %[n], #1\n\t"
            "bne 1b\n\t"
            : [va] "=&r"(va), [vb] "=&r"(vb), [fa] "+r"(fa), [fb] "+r"(fb), [x] "+r"(x), [n] "+r"(n)
            : [off] "r"(off)
            : "r8", "r9", "r10", "r11", "cc", "memory");
    }
    return x;
}

void evo_mm_widen2_rows(const int8_t *fa, const int8_t *fb, int32_t rows, int32_t run, int32_t stride, int32_t input_offset,
                        uint32_t *x)
{
    const uint32_t off = evo_pack_off16(input_offset);
    int32_t r;
    for (r = 0; r < rows; ++r) {
        x = widen_steps(fa + (size_t)r * stride, fb != NULL ? fb + (size_t)r * stride : NULL, run >> 2, off, x);
    }
}

void evo_mm_widen2(const int8_t *fa, const int8_t *fb, int32_t k, int32_t input_offset, uint32_t *x)
{
    const uint32_t off = evo_pack_off16(input_offset);
    const int32_t full = k >> 2;
    x = widen_steps(fa, fb, full, off, x);
    fa += 4 * full;
    if (k & 3) {
        /* the last, partial step: bytes past k stay 0 (their weights are 0; never read past k) */
        uint32_t va = 0, vb = 0;
        memcpy(&va, fa, (size_t)(k & 3));
        x[0] = evo_sxtab16(off, va);
        x[1] = evo_sxtab16_ror8(off, va);
        if (fb != NULL) {
            memcpy(&vb, fb + 4 * full, (size_t)(k & 3));
            x[2] = evo_sxtab16(off, vb);
            x[3] = evo_sxtab16_ror8(off, vb);
        }
    }
}

/* ---------------------------------------------------------------- the assembly tile
 * Frame: the job's first 7 words, copied onto the stack:
 *   [sp, #0] input start   [sp, #4] entry | 1 (from skip)   [sp, #8] out_a   [sp, #12] out_b
 *   [sp, #16] input end    [sp, #20] act_min   [sp, #24] act_max;   the job's word 7 is the stream.
 * Registers in the K loop: r0 input, r12 weights, r1-r4 input words, r5-r8 weight words,
 * r9 = acc(ch0, a), r10 = acc(ch0, b), r11 = acc(ch1, a), lr = acc(ch1, b). */

/* One step of the 2-pixel tile: 16 MACs in 10 instructions (40 bytes). */
#define MM_STEP2                                                                                    \
    "ldmia.w r0!, {r1-r4}\n\t"                                                                      \
    "ldmia.w r12!, {r5-r8}\n\t"                                                                     \
    "smlad r9, r1, r5, r9\n\t"                                                                      \
    "smlad r9, r2, r6, r9\n\t"                                                                      \
    "smlad r10, r3, r5, r10\n\t"                                                                    \
    "smlad r10, r4, r6, r10\n\t"                                                                    \
    "smlad r11, r1, r7, r11\n\t"                                                                    \
    "smlad r11, r2, r8, r11\n\t"                                                                    \
    "smlad lr, r3, r7, lr\n\t"                                                                      \
    "smlad lr, r4, r8, lr\n\t"
/* One step of the 1-pixel tile (input of one pixel, two words per step): 8 MACs in 6
 * instructions (24 bytes). For an odd last pixel and fully connected layers with one batch. */
#define MM_STEP1                                                                                    \
    "ldmia.w r0!, {r1, r2}\n\t"                                                                     \
    "ldmia.w r12!, {r5-r8}\n\t"                                                                     \
    "smlad r9, r1, r5, r9\n\t"                                                                      \
    "smlad r9, r2, r6, r9\n\t"                                                                      \
    "smlad r11, r1, r7, r11\n\t"                                                                    \
    "smlad r11, r2, r8, r11\n\t"
#define MM_X4(S) S S S S
#define MM_BLOCK(S) MM_X4(MM_X4(S)) /* MM_UNROLL steps */

/* Another pass while the input pointer has not reached the end. */
#define MM_PASS_CHECK                                                                               \
    "ldr r1, [sp, #16]\n\t"                                                                         \
    "cmp r0, r1\n\t"                                                                                \
    "bne 2b\n\t"

/* Requantise accumulator ACC with channel parameters m = r1, rc = r2, e = r3 into r5. */
#define MM_RQ(ACC)                                                                                  \
    "smmlar r5, " ACC ", r1, r2\n\t"                                                                \
    "sub r5, r5, " ACC ", lsr #31\n\t"                                                              \
    "asr r5, r5, r3\n\t"                                                                            \
    "ssat r5, #8, r5\n\t"
/* Activation clamp to [r6, r7] (bytes; ACC is free by now): SSUB8 sets the GE flag of byte 0 and
 * SEL picks per byte, a max and a min in two instructions each. */
#define MM_CLAMP(ACC)                                                                               \
    "ssub8 " ACC ", r5, r6\n\t"                                                                     \
    "sel r5, r5, r6\n\t"                                                                            \
    "ssub8 " ACC ", r7, r5\n\t"                                                                     \
    "sel r5, r5, r7\n\t"
#define MM_NOCLAMP(ACC) ""
#define MM_NOLOAD ""
#define MM_LOAD_CLAMP "ldrd r6, r7, [sp, #20]\n\t"

/* Requantise and store the tile: pixel a's outputs at r0, pixel b's at r8, channel in r4; the
 * record's last word (more) ends up in r6. Without the clamp r6 is free for the second channel's
 * load; with it, r6 holds act_min until the last store. */
#define MM_CH1_MORE "ldmia r12!, {r1-r4, r6}\n\t"
#define MM_CH1 "ldmia r12!, {r1-r4}\n\t"
#define MM_MORE "ldr r6, [r12], #4\n\t"
#define MM_OUT2(LOAD_CLAMP, CLAMP, CH1, MORE)                                                       \
    "ldrd r0, r8, [sp, #8]\n\t" LOAD_CLAMP                                                          \
    "ldmia r12!, {r1-r4}\n\t" MM_RQ("r9") CLAMP("r9")                                               \
    "strb r5, [r0, r4]\n\t" MM_RQ("r10") CLAMP("r10")                                               \
    "strb r5, [r8, r4]\n\t" CH1 MM_RQ("r11") CLAMP("r11")                                           \
    "strb r5, [r0, r4]\n\t" MM_RQ("lr") CLAMP("lr")                                                 \
    "strb r5, [r8, r4]\n\t" MORE
#define MM_OUT1(LOAD_CLAMP, CLAMP, CH1, MORE)                                                       \
    "ldr r0, [sp, #8]\n\t" LOAD_CLAMP                                                               \
    "ldmia r12!, {r1-r4}\n\t" MM_RQ("r9") CLAMP("r9")                                               \
    "strb r5, [r0, r4]\n\t" CH1 MM_RQ("r11") CLAMP("r11")                                           \
    "strb r5, [r0, r4]\n\t" MORE

#define MM_ASM_FN(NAME, STEP, PASS_CHECK, OUT)                                                      \
    __attribute__((naked, noinline)) static void NAME(const evo_mm_job_t *f __attribute__((unused)))  \
    {                                                                                               \
        __asm__ volatile(                                                                           \
            "push {r4-r11, lr}\n\t"                                                                 \
            "sub sp, sp, #28\n\t"                                                                   \
            "ldm r0, {r1-r7}\n\t"                                                                   \
            "adr r8, 2f\n\t"                                                                        \
            "add r2, r2, r8\n\t"                                                                    \
            "orr r2, r2, #1\n\t" /* Thumb bit: the entry is loaded into pc */                      \
            "stm sp, {r1-r7}\n\t"                                                                   \
            "ldr r12, [r0, #28]\n\t" /* the stream */                                                                \
            "ldmia r12!, {r9, r10, r11, lr}\n\t" /* accumulators of the first pair */              \
            "ldm sp, {r0, pc}\n\t"                                                                  \
            "2:\n\t" MM_BLOCK(STEP) PASS_CHECK OUT                                                  \
            "cbz r6, 9f\n\t" /* more */                                                             \
            "ldmia r12!, {r9, r10, r11, lr}\n\t"                                                    \
            "ldm sp, {r0, pc}\n\t"                                                                  \
            "9:\n\t"                                                                                \
            "add sp, sp, #28\n\t"                                                                   \
            "pop {r4-r11, pc}\n\t");                                                                \
    }

MM_ASM_FN(mm_asm2_1pass, MM_STEP2, "", MM_OUT2(MM_NOLOAD, MM_NOCLAMP, MM_CH1_MORE, ""))
MM_ASM_FN(mm_asm2_npass, MM_STEP2, MM_PASS_CHECK, MM_OUT2(MM_NOLOAD, MM_NOCLAMP, MM_CH1_MORE, ""))
MM_ASM_FN(mm_asm2_1pass_clamp, MM_STEP2, "", MM_OUT2(MM_LOAD_CLAMP, MM_CLAMP, MM_CH1, MM_MORE))
MM_ASM_FN(mm_asm2_npass_clamp, MM_STEP2, MM_PASS_CHECK, MM_OUT2(MM_LOAD_CLAMP, MM_CLAMP, MM_CH1, MM_MORE))
MM_ASM_FN(mm_asm1_1pass, MM_STEP1, "", MM_OUT1(MM_NOLOAD, MM_NOCLAMP, MM_CH1_MORE, ""))
MM_ASM_FN(mm_asm1_npass, MM_STEP1, MM_PASS_CHECK, MM_OUT1(MM_NOLOAD, MM_NOCLAMP, MM_CH1_MORE, ""))
MM_ASM_FN(mm_asm1_1pass_clamp, MM_STEP1, "", MM_OUT1(MM_LOAD_CLAMP, MM_CLAMP, MM_CH1, MM_MORE))
MM_ASM_FN(mm_asm1_npass_clamp, MM_STEP1, MM_PASS_CHECK, MM_OUT1(MM_LOAD_CLAMP, MM_CLAMP, MM_CH1, MM_MORE))

typedef void (*mm_asm_fn)(const evo_mm_job_t *f);

/* [pixels - 1][passes > 1][clamp] */
static mm_asm_fn const mm_asm[2][2][2] = {
    {{mm_asm1_1pass, mm_asm1_1pass_clamp}, {mm_asm1_npass, mm_asm1_npass_clamp}},
    {{mm_asm2_1pass, mm_asm2_1pass_clamp}, {mm_asm2_npass, mm_asm2_npass_clamp}},
};

void evo_mm_prepare(evo_mm_job_t *job)
{
    const uint32_t first = ((uint32_t)job->steps - 1u) % MM_UNROLL + 1u;
    const int two = job->out_b != NULL;
    job->skip = (MM_UNROLL - first) * (two ? 40u : 24u);
    job->x_end = job->x + (two ? 4 : 2) * job->steps;
    job->run = mm_asm[two][job->steps > MM_UNROLL][job->act_min != -128 || job->act_max != 127];
}

#else /* portable C */

static int16_t lo16(uint32_t v) { return (int16_t)(uint16_t)(v & 0xFFFFu); }
static int16_t hi16(uint32_t v) { return (int16_t)(uint16_t)(v >> 16); }

/* (SMMLAR(acc2, m, rc) - (acc2 < 0)) >> e, clamped (evo/mm_s16.h). */
static int8_t mm_requant(int32_t acc2, const int32_t *q, int32_t act_min, int32_t act_max)
{
    const int64_t prod = (int64_t)acc2 * q[0] + (int64_t)q[1] * 4294967296LL + 2147483648LL;
    int32_t t = (int32_t)(prod >> 32);
    t = (t - (acc2 < 0 ? 1 : 0)) >> q[2];
    return (int8_t)EVO_CLAMP(t, act_min, act_max);
}

/* sum over the steps of x words `xi`, `xi` + 1 (of `xw` per step) times w words `wi`, `wi` + 1
 * (int16 pairs). */
static int32_t mm_dot(const uint32_t *x, int32_t xw, int32_t xi, const int32_t *w, int32_t wi, int32_t steps, int32_t acc)
{
    int32_t s, t;
    for (s = 0; s < steps; ++s) {
        for (t = 0; t < 2; ++t) {
            const uint32_t xv = x[xw * s + xi + t], wv = (uint32_t)w[4 * s + wi + t];
            acc += (int32_t)lo16(xv) * lo16(wv) + (int32_t)hi16(xv) * hi16(wv);
        }
    }
    return acc;
}


void evo_mm_widen2_rows(const int8_t *fa, const int8_t *fb, int32_t rows, int32_t run, int32_t stride, int32_t input_offset,
                        uint32_t *x)
{
    int32_t r;
    for (r = 0; r < rows; ++r) {
        evo_mm_widen2(fa + (size_t)r * stride, fb != NULL ? fb + (size_t)r * stride : NULL, run, input_offset,
                      x + (size_t)r * run / (fb != NULL ? 1 : 2));
    }
}

void evo_mm_widen2(const int8_t *fa, const int8_t *fb, int32_t k, int32_t input_offset, uint32_t *x)
{
    const int32_t steps = (k + 3) >> 2;
    const int32_t xw = fb != NULL ? 4 : 2;
    int32_t s, i;
    for (s = 0; s < steps; ++s) {
        int32_t va[4], vb[4];
        for (i = 0; i < 4; ++i) {
            const int32_t kk = 4 * s + i;
            va[i] = kk < k ? fa[kk] + input_offset : 0;
            vb[i] = kk < k && fb != NULL ? fb[kk] + input_offset : 0;
        }
        x[xw * s + 0] = ((uint32_t)va[0] & 0xFFFFu) | ((uint32_t)va[2] & 0xFFFFu) << 16;
        x[xw * s + 1] = ((uint32_t)va[1] & 0xFFFFu) | ((uint32_t)va[3] & 0xFFFFu) << 16;
        if (fb != NULL) {
            x[xw * s + 2] = ((uint32_t)vb[0] & 0xFFFFu) | ((uint32_t)vb[2] & 0xFFFFu) << 16;
            x[xw * s + 3] = ((uint32_t)vb[1] & 0xFFFFu) | ((uint32_t)vb[3] & 0xFFFFu) << 16;
        }
    }
}

static void mm_run(const evo_mm_job_t *job)
{
    const int32_t *rec = job->rec;
    const int32_t xw = job->out_b != NULL ? 4 : 2; /* input words per step */
    int32_t more = 1, c;
    while (more) {
        const int32_t *q = rec + 4 + 4 * job->steps;
        for (c = 0; c < 2; ++c) {
            const int32_t *qc = q + 4 * c;
            const int32_t acc = rec[2 * c];
            job->out_a[qc[3]] = mm_requant(mm_dot(job->x, xw, 0, rec + 4, 2 * c, job->steps, acc), qc, job->act_min, job->act_max);
            if (job->out_b != NULL) {
                job->out_b[qc[3]] = mm_requant(mm_dot(job->x, xw, 2, rec + 4, 2 * c, job->steps, acc), qc, job->act_min, job->act_max);
            }
        }
        more = q[8];
        rec = q + 9;
    }
}

void evo_mm_prepare(evo_mm_job_t *job)
{
    job->skip = 0;
    job->x_end = job->x + (job->out_b != NULL ? 4 : 2) * job->steps;
    job->run = mm_run;
}

#endif
