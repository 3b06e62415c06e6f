/* The engines of the Cortex-M0 CONV_2D / FULLY_CONNECTED / DEPTHWISE_CONV_2D kernels: all output
 * channels of one pixel from the weight stream of evo/conv_m0.h (layout, fast requantisation and
 * its proof there), four channels per block. evo_mm_s8_m0: every channel reads the same field of
 * k raw int8 inputs (one LDRSB per tap). evo_dw_s8_m0: channel c reads byte c of each of the k
 * tap pixels given by a table of addresses (one word load per tap gives four channels).
 * ARMv6-M builds run the assembly below; other builds (host tests) the C twins, which do the same
 * integer steps on the same stream. */
#include "evo/conv_m0.h"
#include "evo/fixedpoint.h"

#include <string.h>

#if defined(__ARM_ARCH_6M__) && defined(__GNUC__)
#define EVO_M0_ASM 1
#else
#define EVO_M0_ASM 0
#endif

/* The fast requantisation of the doubled accumulator x (see evo/conv_m0.h), q = {mh, ml, mh,
 * ml, T, e}: out - act_min before the clamp. Same steps as the RQ macro of the assembly. */
static int32_t m0_rq_fast(int32_t x, const int32_t *q)
{
    const int32_t xl = (int32_t)((uint32_t)x & 0xFFFFu);
    const int32_t xh = x >> 16;
    uint32_t mid = (uint32_t)((xl * q[1]) >> 16) + (uint32_t)EVO_M0_BIAS_2P29 + (1u << 15);
    mid += (uint32_t)(xh * q[3]) + (uint32_t)(xl * q[0]);
    return (int32_t)((uint32_t)(int32_t)(mid >> 16) + (uint32_t)(xh * q[2]) + (uint32_t)(xh >> 31) + (uint32_t)q[4]) >> q[5];
}

/* Depthwise, any channel count and alignment (the assembly's twin on other builds): tap i of channel c + j (c = 4 * block) reads tab[i][c + j]; `channels` bounds the
 * bytes read (a partial last block reads 0 past it). */
static void m0_dw_bytes(const int8_t *const *tab, int32_t k, const int32_t *stream, int32_t channels, const evo_m0_rq_t *rq,
                         int8_t *out)
{
    const int32_t range = rq->act_max - rq->act_min;
    int32_t c, i, j;
    for (c = 0; c < channels; c += 4) {
        int32_t acc[4];
        const int32_t *w = stream + 4;
        for (j = 0; j < 4; ++j) {
            acc[j] = stream[j];
        }
        for (i = 0; i < k; ++i, w += 4) {
            for (j = 0; j < 4; ++j) {
                const int32_t v = c + j < channels ? tab[i][c + j] : 0;
                acc[j] = (int32_t)((uint32_t)acc[j] + (uint32_t)(v * w[j]));
            }
        }
        for (j = 0; j < 4; ++j, w += EVO_M0_QUANT_WORDS) {
            int32_t v = m0_rq_fast(acc[j], w);
            if ((uint32_t)v > (uint32_t)range) {
                v = v < 0 ? 0 : range;
            }
            if (c + j < channels) {
                out[c + j] = (int8_t)(v + rq->act_min);
            }
        }
        stream = w;
    }
}
#if !EVO_M0_ASM
/* `blocks` blocks of four channels from stream on; returns the stream after them. */
static const int32_t *m0_blocks(const int8_t *x, int32_t k, const int32_t *stream, int32_t blocks, const evo_m0_rq_t *rq,
                                int8_t *out)
{
    const int32_t range = rq->act_max - rq->act_min;
    int32_t b, i, j;
    for (b = 0; b < blocks; ++b) {
        int32_t acc[4];
        const int32_t *w = stream + 4;
        for (j = 0; j < 4; ++j) {
            acc[j] = stream[j];
        }
        for (i = 0; i < k; ++i, w += 4) {
            const int32_t v = x[i];
            for (j = 0; j < 4; ++j) {
                acc[j] = (int32_t)((uint32_t)acc[j] + (uint32_t)(v * w[j]));
            }
        }
        for (j = 0; j < 4; ++j, w += EVO_M0_QUANT_WORDS) {
            int32_t v = m0_rq_fast(acc[j], w);
            if ((uint32_t)v > (uint32_t)range) {
                v = v < 0 ? 0 : range;
            }
            out[j] = (int8_t)(v + rq->act_min);
        }
        out += 4;
        stream = w;
    }
    return stream;
}

#else
/* Registers: r0-r3 the four channels' weights, r4 the input, r5 the end of the field, r6 the
 * tap index (-k .. 0), r7 the stream, r8-r11 the accumulators, r12 the constant 2^15 + 2^29,
 * lr act_max - act_min. Frame (sp): 0 -k, 4 entry offset into the unrolled tap loop, 8 blocks
 * left, 12 end of the field, 16 out, 20 act_min; then r8-r11, r4-r7, lr as pushed.
 * The tap loop is unrolled four times; k % 4 taps are taken by entering it at the matching step
 * (ADD PC: 22 bytes per step), so the index reaches 0 exactly at the loop's end. */
const int32_t *evo_mm_s8_m0_blocks(const int8_t *x_end, int32_t k, const int32_t *stream, const int32_t *job);
const int32_t *evo_dw_s8_m0_blocks(const int8_t *const *tab, int32_t k, const int32_t *stream, const int32_t *job);
__asm__(
    "    .pushsection .text.evo_mm_s8_m0_blocks,\"ax\",%progbits\n"
    "    .syntax unified\n"
    "    .thumb\n"
    "    .balign 4\n"
    "    .global evo_mm_s8_m0_blocks\n"
    "    .type evo_mm_s8_m0_blocks, %function\n"
    "    .thumb_func\n"
    /* one tap: x = field[index]; acc_j += x * w_j */
    "    .macro EVO_M0_TAP\n"
    "    ldrsb r4, [r5, r6]\n"
    "    ldm r7!, {r0-r3}\n"
    "    muls r0, r4, r0\n"
    "    add r8, r0\n"
    "    muls r1, r4, r1\n"
    "    add r9, r1\n"
    "    muls r2, r4, r2\n"
    "    add r10, r2\n"
    "    muls r3, r4, r3\n"
    "    add r11, r3\n"
    "    adds r6, #1\n"
    "    .endm\n"
    /* requantise the accumulator `acc`, store it at out (r6) + j; clamp: 1 act range [-128, 127]
     * (a range check against 255), 0 the range in lr */
    "    .macro EVO_M0_RQ acc, j, wide\n"
    "    mov r0, \\acc\n"
    "    ldm r7!, {r2-r5}\n"          /* mh ml mh ml */
    "    uxth r1, r0\n"               /* xl */
    "    asrs r0, r0, #16\n"          /* xh */
    "    muls r3, r1, r3\n"           /* xl * ml */
    "    asrs r3, r3, #16\n"
    "    add r3, r12\n"               /* + 2^15 + 2^29 */
    "    muls r5, r0, r5\n"           /* xh * ml */
    "    adds r3, r5\n"
    "    muls r2, r1, r2\n"           /* xl * mh */
    "    adds r3, r2\n"
    "    lsrs r3, r3, #16\n"
    "    muls r4, r0, r4\n"           /* xh * mh */
    "    adds r3, r4\n"
    "    asrs r0, r0, #31\n"          /* -[x < 0] */
    "    adds r3, r0\n"
    "    ldm r7!, {r4, r5}\n"         /* T e */
    "    adds r3, r4\n"
    "    asrs r3, r5\n"               /* out - act_min */
    "    .if \\wide\n"
    "    lsrs r0, r3, #8\n"
    "    beq 1f\n"
    "    asrs r3, r3, #31\n"          /* below: 0, above: -1 ... */
    "    mvns r3, r3\n"               /* ... as 255 after the +act_min */
    "1:\n"
    "    subs r3, #128\n"
    "    .else\n"
    "    cmp r3, lr\n"
    "    bls 1f\n"
    "    asrs r3, r3, #31\n"
    "    mvns r3, r3\n"
    "    mov r0, lr\n"
    "    ands r3, r0\n"               /* below: 0, above: the range */
    "1:\n"
    "    ldr r0, [sp, #20]\n"
    "    adds r3, r0\n"
    "    .endif\n"
    "    strb r3, [r6, #\\j]\n"
    "    .endm\n"
    /* all blocks with one clamp kind */
    "    .macro EVO_M0_BLOCKS wide\n"
    "2:\n"
    "    ldm r7!, {r0-r3}\n"          /* starts */
    "    mov r8, r0\n"
    "    mov r9, r1\n"
    "    mov r10, r2\n"
    "    mov r11, r3\n"
    "    ldr r5, [sp, #12]\n"
    "    ldr r6, [sp, #0]\n"
    "    ldr r0, [sp, #4]\n"
    "    add pc, r0\n"                /* to 3f + r0 (pc reads 4 ahead) */
    "    nop\n"
    "3:\n"
    "    EVO_M0_TAP\n"
    "    EVO_M0_TAP\n"
    "    EVO_M0_TAP\n"
    "    EVO_M0_TAP\n"
    "    bne 3b\n"
    "    ldr r6, [sp, #16]\n"
    "    EVO_M0_RQ r8, 0, \\wide\n"
    "    EVO_M0_RQ r9, 1, \\wide\n"
    "    EVO_M0_RQ r10, 2, \\wide\n"
    "    EVO_M0_RQ r11, 3, \\wide\n"
    "    adds r6, #4\n"
    "    str r6, [sp, #16]\n"
    "    ldr r0, [sp, #8]\n"
    "    subs r0, #1\n"
    "    str r0, [sp, #8]\n"
    "    beq 8f\n"
    "    b 2b\n"                     /* beyond a conditional branch's reach */
    "8:\n"
    "    .endm\n"
    /* depthwise tap: the tap pixel's address from the table (r4), its four channels at + c_off (r5)
     * in one word (r3), each sign-extended into r2 */
    "    .macro EVO_M0_DWTAP\n"
    "    ldm r4!, {r2}\n"
    "    ldr r3, [r2, r5]\n"
    "    ldm r7!, {r0, r1}\n"
    "    sxtb r2, r3\n"
    "    muls r0, r2, r0\n"
    "    add r8, r0\n"
    "    asrs r2, r3, #8\n"
    "    sxtb r2, r2\n"
    "    muls r1, r2, r1\n"
    "    add r9, r1\n"
    "    ldm r7!, {r0, r1}\n"
    "    asrs r2, r3, #16\n"
    "    sxtb r2, r2\n"
    "    muls r0, r2, r0\n"
    "    add r10, r0\n"
    "    asrs r3, r3, #24\n"
    "    muls r1, r3, r1\n"
    "    add r11, r1\n"
    "    .endm\n"
    /* frame: 0 table, 4 entry offset, 8 blocks left, 12 table end, 16 out, 20 act_min, 24 c_off */
    "    .macro EVO_M0_DWBLOCKS wide\n"
    "2:\n"
    "    ldm r7!, {r0-r3}\n"
    "    mov r8, r0\n"
    "    mov r9, r1\n"
    "    mov r10, r2\n"
    "    mov r11, r3\n"
    "    ldr r4, [sp, #0]\n"
    "    ldr r5, [sp, #24]\n"
    "    ldr r6, [sp, #12]\n"
    "    ldr r0, [sp, #4]\n"
    "    add pc, r0\n"
    "    nop\n"
    "3:\n"
    "    EVO_M0_DWTAP\n"
    "    EVO_M0_DWTAP\n"
    "    EVO_M0_DWTAP\n"
    "    EVO_M0_DWTAP\n"
    "    cmp r4, r6\n"
    "    bne 3b\n"
    "    ldr r6, [sp, #16]\n"
    "    EVO_M0_RQ r8, 0, \\wide\n"
    "    EVO_M0_RQ r9, 1, \\wide\n"
    "    EVO_M0_RQ r10, 2, \\wide\n"
    "    EVO_M0_RQ r11, 3, \\wide\n"
    "    adds r6, #4\n"
    "    str r6, [sp, #16]\n"
    "    ldr r5, [sp, #24]\n"
    "    adds r5, #4\n"
    "    str r5, [sp, #24]\n"
    "    ldr r0, [sp, #8]\n"
    "    subs r0, #1\n"
    "    str r0, [sp, #8]\n"
    "    beq 8f\n"
    "    b 2b\n"
    "8:\n"
    "    .endm\n"
    /* const int32_t *evo_mm_s8_m0_blocks(x_end, k, stream, job = {blocks, out, act_min, act_max}) */
    "evo_mm_s8_m0_blocks:\n"
    "    push {r4-r7, lr}\n"
    "    mov r4, r8\n"
    "    mov r5, r9\n"
    "    mov r6, r10\n"
    "    mov r7, r11\n"
    "    push {r4-r7}\n"
    "    sub sp, #24\n"
    "    mov r7, r2\n"
    "    str r0, [sp, #12]\n"
    "    rsbs r1, r1, #0\n"
    "    str r1, [sp, #0]\n"
    "    lsls r1, r1, #30\n"
    "    lsrs r1, r1, #30\n"          /* (-k) & 3: steps to skip */
    "    movs r0, #22\n"
    "    muls r1, r0, r1\n"
    "    str r1, [sp, #4]\n"
    "    ldm r3!, {r0-r2}\n"          /* blocks out act_min */
    "    str r0, [sp, #8]\n"
    "    str r1, [sp, #16]\n"
    "    str r2, [sp, #20]\n"
    "    ldr r3, [r3]\n"              /* act_max */
    "    subs r3, r3, r2\n"
    "    mov lr, r3\n"
    "    movs r1, #1\n"
    "    lsls r1, r1, #15\n"
    "    movs r2, #1\n"
    "    lsls r2, r2, #29\n"
    "    adds r1, r2\n"
    "    mov r12, r1\n"
    "    cmp r3, #255\n"
    "    beq 6f\n"
    "    b 4f\n"
    "6:\n"
    "    EVO_M0_BLOCKS 1\n"
    "    b 5f\n"
    "4:\n"
    "    EVO_M0_BLOCKS 0\n"
    "5:\n"
    "    mov r0, r7\n"
    "    add sp, #24\n"
    "    pop {r4-r7}\n"
    "    mov r8, r4\n"
    "    mov r9, r5\n"
    "    mov r10, r6\n"
    "    mov r11, r7\n"
    "    pop {r4-r7, pc}\n"
    "    .size evo_mm_s8_m0_blocks, .-evo_mm_s8_m0_blocks\n"
    /* const int32_t *evo_dw_s8_m0_blocks(tab, k, stream, job = {blocks, out, act_min, act_max}) */
    "    .balign 4\n"
    "    .global evo_dw_s8_m0_blocks\n"
    "    .type evo_dw_s8_m0_blocks, %function\n"
    "    .thumb_func\n"
    "evo_dw_s8_m0_blocks:\n"
    "    push {r4-r7, lr}\n"
    "    mov r4, r8\n"
    "    mov r5, r9\n"
    "    mov r6, r10\n"
    "    mov r7, r11\n"
    "    push {r4-r7}\n"
    "    sub sp, #28\n"
    "    mov r7, r2\n"
    "    str r0, [sp, #0]\n"
    "    lsls r2, r1, #2\n"
    "    adds r2, r0, r2\n"
    "    str r2, [sp, #12]\n"
    "    rsbs r1, r1, #0\n"
    "    lsls r1, r1, #30\n"
    "    lsrs r1, r1, #30\n"          /* (-k) & 3: steps to skip */
    "    movs r0, #36\n"
    "    muls r1, r0, r1\n"
    "    str r1, [sp, #4]\n"
    "    ldm r3!, {r0-r2}\n"
    "    str r0, [sp, #8]\n"
    "    str r1, [sp, #16]\n"
    "    str r2, [sp, #20]\n"
    "    ldr r3, [r3]\n"
    "    subs r3, r3, r2\n"
    "    mov lr, r3\n"
    "    movs r0, #0\n"
    "    str r0, [sp, #24]\n"
    "    movs r1, #1\n"
    "    lsls r1, r1, #15\n"
    "    movs r2, #1\n"
    "    lsls r2, r2, #29\n"
    "    adds r1, r2\n"
    "    mov r12, r1\n"
    "    cmp r3, #255\n"
    "    beq 6f\n"
    "    b 4f\n"
    "6:\n"
    "    EVO_M0_DWBLOCKS 1\n"
    "    b 5f\n"
    "4:\n"
    "    EVO_M0_DWBLOCKS 0\n"
    "5:\n"
    "    mov r0, r7\n"
    "    add sp, #28\n"
    "    pop {r4-r7}\n"
    "    mov r8, r4\n"
    "    mov r9, r5\n"
    "    mov r10, r6\n"
    "    mov r11, r7\n"
    "    pop {r4-r7, pc}\n"
    "    .size evo_dw_s8_m0_blocks, .-evo_dw_s8_m0_blocks\n"
    "    .purgem EVO_M0_TAP\n"
    "    .purgem EVO_M0_RQ\n"
    "    .purgem EVO_M0_BLOCKS\n"
    "    .purgem EVO_M0_DWTAP\n"
    "    .purgem EVO_M0_DWBLOCKS\n"
    "    .popsection\n");

static const int32_t *m0_blocks(const int8_t *x, int32_t k, const int32_t *stream, int32_t blocks, const evo_m0_rq_t *rq,
                                int8_t *out)
{
    int32_t job[4];
    job[0] = blocks;
    job[1] = (int32_t)(intptr_t)out;
    job[2] = rq->act_min;
    job[3] = rq->act_max;
    return evo_mm_s8_m0_blocks(x + k, k, stream, job);
}

/* Word loads of four channels: whole blocks only, every tap pixel 4-byte aligned. */
static void m0_dw_words(const int8_t *const *tab, int32_t k, const int32_t *stream, int32_t channels, const evo_m0_rq_t *rq,
                         int8_t *out)
{
    int32_t job[4];
    job[0] = channels >> 2;
    job[1] = (int32_t)(intptr_t)out;
    job[2] = rq->act_min;
    job[3] = rq->act_max;
    (void)evo_dw_s8_m0_blocks(tab, k, stream, job);
}
#endif

/* Exact mode: TFLM's requantisation of the (halved) accumulators, in C. */
static void m0_exact(const int8_t *x, int32_t k, const int32_t *stream, int32_t channels, const evo_m0_rq_t *rq, int8_t *out)
{
    int32_t c0, i, j;
    for (c0 = 0; c0 < channels; c0 += 4) {
        const int32_t n = channels - c0 < 4 ? channels - c0 : 4;
        const int32_t *w = stream + 4;
        uint32_t acc[4];
        for (j = 0; j < 4; ++j) {
            acc[j] = (uint32_t)stream[j];
        }
        for (i = 0; i < k; ++i, w += 4) {
            for (j = 0; j < 4; ++j) {
                acc[j] += (uint32_t)(x[i] * w[j]);
            }
        }
        for (j = 0; j < n; ++j) {
            const int32_t *q = w + j * EVO_M0_QUANT_WORDS;
            const int32_t v = evo_requantize((int32_t)acc[j] >> 1, q[0], q[1]) + q[2];
            out[c0 + j] = (int8_t)EVO_CLAMP(v, rq->act_min, rq->act_max);
        }
        stream = w + 4 * EVO_M0_QUANT_WORDS;
    }
}

/* Exact mode, depthwise. */
static void m0_dw_exact(const int8_t *const *tab, int32_t k, const int32_t *stream, int32_t channels, const evo_m0_rq_t *rq,
                        int8_t *out)
{
    int32_t c, i, j;
    for (c = 0; c < channels; c += 4) {
        const int32_t *w = stream + 4;
        uint32_t acc[4];
        for (j = 0; j < 4; ++j) {
            acc[j] = (uint32_t)stream[j];
        }
        for (i = 0; i < k; ++i, w += 4) {
            for (j = 0; j < 4 && c + j < channels; ++j) {
                acc[j] += (uint32_t)(tab[i][c + j] * w[j]);
            }
        }
        for (j = 0; j < 4 && c + j < channels; ++j) {
            const int32_t *q = w + j * EVO_M0_QUANT_WORDS;
            const int32_t v = evo_requantize((int32_t)acc[j] >> 1, q[0], q[1]) + q[2];
            out[c + j] = (int8_t)EVO_CLAMP(v, rq->act_min, rq->act_max);
        }
        stream = w + 4 * EVO_M0_QUANT_WORDS;
    }
}

void evo_dw_s8_m0(const int8_t *const *tab, int32_t k, const int32_t *stream, int32_t channels, const evo_m0_rq_t *rq,
                  int words, int8_t *out)
{
    if (rq->mode == EVO_M0_EXACT) {
        m0_dw_exact(tab, k, stream, channels, rq, out);
        return;
    }
#if EVO_M0_ASM
    if (words && (channels & 3) == 0) {
        m0_dw_words(tab, k, stream, channels, rq, out);
        return;
    }
#else
    (void)words;
#endif
    m0_dw_bytes(tab, k, stream, channels, rq, out);
}

void evo_mm_s8_m0(const int8_t *x, int32_t k, const int32_t *stream, int32_t channels, const evo_m0_rq_t *rq, int8_t *out)
{
    const int32_t full = channels >> 2;
    if (rq->mode == EVO_M0_EXACT) {
        m0_exact(x, k, stream, channels, rq, out);
        return;
    }
    if (full > 0) {
        stream = m0_blocks(x, k, stream, full, rq, out);
    }
    if (channels & 3) { /* the last block into a buffer: stores past `channels` could hit live data */
        int8_t tail[4];
        m0_blocks(x, k, stream, 1, rq, tail);
        memcpy(out + 4 * full, tail, (size_t)(channels & 3));
    }
}
