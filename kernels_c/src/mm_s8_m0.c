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

/* The fast requantisations (evo/conv_m0.h), same steps as the assembly's RQ bodies: out - act_min
 * before the clamp. RQ16: x = 2a, q = {mh, ml, mh, ml, T, e}. */
static int32_t m0_rq16(int32_t x, const int32_t *q)
{
    const int32_t xl = (int32_t)((uint32_t)x & 0xFFFFu);
    const int32_t xh = x >> 16;
    uint32_t mid = (uint32_t)((xl * q[1]) >> 16) + (uint32_t)EVO_M0_BIAS_2P29 + (1u << 15);
    mid += (uint32_t)(xh * q[3]) + (uint32_t)(xl * q[0]);
    return (int32_t)((uint32_t)(int32_t)(mid >> 16) + (uint32_t)(xh * q[2]) + (uint32_t)(xh >> 31) + (uint32_t)q[4]) >> q[5];
}

/* RQ11: a, q = {m0, m1, m2, T', e + 9}. */
static int32_t m0_rq11(int32_t a, const int32_t *q)
{
    const int32_t v = a * q[2] + ((a * q[1] + ((a * q[0]) >> 11)) >> 11);
    return (v - 512 * (a < 0) + q[3]) >> q[4];
}

/* out[j] for channel j of a block from its accumulator and constants q; returns the next record. */
static const int32_t *m0_store(int32_t acc, const int32_t *q, const evo_m0_rq_t *rq, int8_t *out)
{
    const int32_t range = rq->act_max - rq->act_min;
    int32_t v = rq->mode == EVO_M0_RQ11 ? m0_rq11(acc, q) : m0_rq16(acc, q);
    if ((uint32_t)v > (uint32_t)range) {
        v = v < 0 ? 0 : range;
    }
    *out = (int8_t)(v + rq->act_min);
    return q + (rq->mode == EVO_M0_RQ11 ? EVO_M0_QUANT11_WORDS : EVO_M0_QUANT_WORDS);
}

/* Depthwise, any channel count and alignment (and the assembly's twin on other builds): tap i
 * of channel c + j (c = 4 * block) reads tab[i][c + j]; `channels` bounds the bytes read (a
 * partial last block reads 0 past it). */
static void m0_dw_bytes(const int8_t *const *tab, int32_t k, const int32_t *stream, int32_t channels, const evo_m0_rq_t *rq,
                        int8_t *out)
{
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
        for (j = 0; j < 4; ++j) {
            int8_t v;
            w = m0_store(acc[j], w, rq, &v);
            if (c + j < channels) {
                out[c + j] = v;
            }
        }
        stream = w;
    }
}

#if !EVO_M0_ASM
/* `blocks` blocks of `lanes` (4 or 5) channels from stream on (layouts in evo/conv_m0.h);
 * returns the stream after them. */
static const int32_t *m0_blocks(const int8_t *x, int32_t k, const int32_t *stream, int32_t blocks, int32_t lanes,
                                const evo_m0_rq_t *rq, int8_t *out)
{
    int32_t b, i, j;
    for (b = 0; b < blocks; ++b) {
        int32_t acc[5];
        const int32_t *w = stream + lanes;
        for (j = 0; j < lanes; ++j) {
            acc[j] = stream[j];
        }
        for (i = 0; i < k; ++i, w += lanes) {
            const int32_t v = x[i];
            for (j = 0; j < lanes; ++j) {
                acc[j] = (int32_t)((uint32_t)acc[j] + (uint32_t)(v * w[j]));
            }
        }
        for (i = 0; i < lanes; ++i) {
            const int32_t c = lanes == 5 ? (i + 4) % 5 : i; /* 5 lanes: channel 4's constants come first */
            w = m0_store(acc[c], w, rq, out + c);
        }
        out += lanes;
        stream = w;
    }
    return stream;
}

#else
/* The assembly. Registers while accumulating: r8-r11 (and r12 in the 5-channel engine) the
 * accumulators, r7 the stream. While requantising: r0 the accumulator, r1-r5 scratch, r6 the
 * output pointer, r7 the stream, r12 the constant 2^15 + 2^29 (RQ16), lr act_max - act_min
 * (clamp kind 0). Every engine's frame keeps act_min at [sp, #20]. Tap loops are unrolled (four
 * or eight times); the k % 4 (or 8) first taps are taken by entering the loop at the matching
 * step (ADD PC), so the loop's test holds exactly after the last tap. Each engine exists for RQ16 and RQ11 (suffix 11), each
 * in its own section, so that a build links only what its layers use.
 *
 * evo_mm_s8_m0_blocks (4 channels): r0-r3 the weights, r4 the input, r5 the end of the field, r6
 * the tap index (-k .. 0). Frame: 0 -k, 4 entry offset (22 bytes per step), 8 blocks left, 12
 * end of the field, 16 out, 20 act_min.
 * evo_mm5_s8_m0_blocks (5 channels): the field is first widened to int32 on the stack, so a tap
 * is one LDM of the input and one of five weights (r0-r4), r5 the input, r6 the widened field,
 * lr its end; its tap loop is unrolled eight times. Frame: 0 entry offset (24 bytes per step),
 * 4 blocks left, 8 field, 12 its end, 16 out, 20 act_min, 24 act_max - act_min, 28 the
 * constant, 32 bytes of the widened field; the field above. Channel 4's constants come first in its block (its accumulator, r12, is
 * requantised first, to free r12 for the constant).
 * evo_dw_s8_m0_blocks (4 channels, depthwise): r4 the tap table, r5 the block's channel offset,
 * r6 the table's end, r3 the tap's four input bytes, r0-r1 weights, r2 the sign-extended input.
 * Frame: 0 table, 4 entry offset (36 bytes per step), 8 blocks left, 12 table end, 16 out,
 * 20 act_min, 24 channel offset. */
#define EVO_M0_ENGINES(name)                                                                             \
    const int32_t *evo_mm_s8_m0_blocks##name(const int8_t *x_end, int32_t k, const int32_t *stream, const int32_t *job); \
    const int32_t *evo_mm5_s8_m0_blocks##name(const int8_t *x, int32_t k, const int32_t *stream, const int32_t *job);    \
    const int32_t *evo_dw_s8_m0_blocks##name(const int8_t *const *tab, int32_t k, const int32_t *stream, const int32_t *job);
EVO_M0_ENGINES(16)
EVO_M0_ENGINES(11)
__asm__(
    "    .syntax unified\n"
    /* clamp `reg` (out - act_min) and store it as out at out (r6) + j; wide: act range
     * [-128, 127] (a range check against 255), else the range in lr */
    "    .macro EVO_M0_STORE reg, j, wide\n"
    "    .if \\wide\n"
    "    lsrs r0, \\reg, #8\n"
    "    beq 1f\n"
    "    asrs \\reg, \\reg, #31\n"    /* below: 0, above: -1 ... */
    "    mvns \\reg, \\reg\n"         /* ... as 255 after the +act_min */
    "1:\n"
    "    subs \\reg, #128\n"
    "    .else\n"
    "    cmp \\reg, lr\n"
    "    bls 1f\n"
    "    asrs \\reg, \\reg, #31\n"
    "    mvns \\reg, \\reg\n"
    "    mov r0, lr\n"
    "    ands \\reg, r0\n"            /* below: 0, above: the range */
    "1:\n"
    "    ldr r0, [sp, #20]\n"
    "    adds \\reg, r0\n"
    "    .endif\n"
    "    strb \\reg, [r6, #\\j]\n"
    "    .endm\n"
    /* requantise r0 (RQ16: x = 2a) */
    "    .macro EVO_M0_RQ16 j, wide\n"
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
    "    EVO_M0_STORE r3, \\j, \\wide\n"
    "    .endm\n"
    /* requantise r0 (RQ11: a) */
    "    .macro EVO_M0_RQ11 j, wide\n"
    "    ldm r7!, {r1-r5}\n"          /* m0 m1 m2 T' e+9 */
    "    muls r1, r0, r1\n"           /* a * m0 */
    "    asrs r1, r1, #11\n"
    "    muls r2, r0, r2\n"           /* a * m1 */
    "    adds r1, r2\n"
    "    asrs r1, r1, #11\n"
    "    muls r3, r0, r3\n"           /* a * m2 */
    "    adds r1, r3\n"
    "    asrs r0, r0, #31\n"
    "    lsls r0, r0, #9\n"
    "    adds r1, r0\n"               /* - 512 [a < 0] */
    "    adds r1, r4\n"
    "    asrs r1, r5\n"               /* out - act_min */
    "    EVO_M0_STORE r1, \\j, \\wide\n"
    "    .endm\n"
    "    .macro EVO_M0_RQ rq, j, wide\n"
    "    .if \\rq == 11\n"
    "    EVO_M0_RQ11 \\j, \\wide\n"
    "    .else\n"
    "    EVO_M0_RQ16 \\j, \\wide\n"
    "    .endif\n"
    "    .endm\n"
    /* channels 0-3 from their accumulators in r8-r11 */
    "    .macro EVO_M0_RQ_HIGH rq, wide\n"
    "    mov r0, r8\n"
    "    EVO_M0_RQ \\rq, 0, \\wide\n"
    "    mov r0, r9\n"
    "    EVO_M0_RQ \\rq, 1, \\wide\n"
    "    mov r0, r10\n"
    "    EVO_M0_RQ \\rq, 2, \\wide\n"
    "    mov r0, r11\n"
    "    EVO_M0_RQ \\rq, 3, \\wide\n"
    "    .endm\n"
    /* the constant 2^15 + 2^29 into r12 (r1, r2 scratch) */
    "    .macro EVO_M0_CONST\n"
    "    movs r1, #1\n"
    "    lsls r1, r1, #15\n"
    "    movs r2, #1\n"
    "    lsls r2, r2, #29\n"
    "    adds r1, r2\n"
    "    mov r12, r1\n"
    "    .endm\n"
    /* save r4-r11 and lr */
    "    .macro EVO_M0_ENTER\n"
    "    push {r4-r7, lr}\n"
    "    mov r4, r8\n"
    "    mov r5, r9\n"
    "    mov r6, r10\n"
    "    mov r7, r11\n"
    "    push {r4-r7}\n"
    "    .endm\n"
    "    .macro EVO_M0_LEAVE\n"
    "    pop {r4-r7}\n"
    "    mov r8, r4\n"
    "    mov r9, r5\n"
    "    mov r10, r6\n"
    "    mov r11, r7\n"
    "    pop {r4-r7, pc}\n"
    "    .endm\n"
    "    .macro EVO_M0_FUNC name\n"
    "    .pushsection .text.\\name,\"ax\",%progbits\n"
    "    .thumb\n"
    "    .balign 4\n"
    "    .global \\name\n"
    "    .type \\name, %function\n"
    "    .thumb_func\n"
    "\\name:\n"
    "    .endm\n"
    "    .macro EVO_M0_ENDFUNC name\n"
    "    .size \\name, .-\\name\n"
    "    .popsection\n"
    "    .endm\n"
    /* ---- 4 channels, field read with LDRSB */
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
    "    .macro EVO_M0_BLOCKS rq, wide\n"
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
    "    .if . - 3b != 4 * 22\n"     /* the entry offsets assume 22-byte steps */
    "    .error \"EVO_M0_TAP is not 22 bytes\"\n"
    "    .endif\n"
    "    bne 3b\n"
    "    ldr r6, [sp, #16]\n"
    "    EVO_M0_RQ_HIGH \\rq, \\wide\n"
    "    adds r6, #4\n"
    "    str r6, [sp, #16]\n"
    "    ldr r0, [sp, #8]\n"
    "    subs r0, #1\n"
    "    str r0, [sp, #8]\n"
    "    beq 8f\n"
    "    b 2b\n"                      /* beyond a conditional branch's reach */
    "8:\n"
    "    .endm\n"
    "    .macro EVO_M0_MM4 name, rq\n"
    "    EVO_M0_FUNC \\name\n"
    "    EVO_M0_ENTER\n"
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
    "    EVO_M0_CONST\n"
    "    cmp r3, #255\n"
    "    beq 6f\n"
    "    b 4f\n"
    "6:\n"
    "    EVO_M0_BLOCKS \\rq, 1\n"
    "    b 5f\n"
    "4:\n"
    "    EVO_M0_BLOCKS \\rq, 0\n"
    "5:\n"
    "    mov r0, r7\n"
    "    add sp, #24\n"
    "    EVO_M0_LEAVE\n"
    "    EVO_M0_ENDFUNC \\name\n"
    "    .endm\n"
    /* ---- 5 channels, widened field */
    "    .macro EVO_M0_TAP5\n"
    "    ldm r6!, {r5}\n"
    "    ldm r7!, {r0-r4}\n"
    "    muls r0, r5, r0\n"
    "    add r8, r0\n"
    "    muls r1, r5, r1\n"
    "    add r9, r1\n"
    "    muls r2, r5, r2\n"
    "    add r10, r2\n"
    "    muls r3, r5, r3\n"
    "    add r11, r3\n"
    "    muls r4, r5, r4\n"
    "    add r12, r4\n"
    "    .endm\n"
    "    .macro EVO_M0_BLOCKS5 rq, wide\n"
    "2:\n"
    "    ldm r7!, {r0-r4}\n"          /* starts */
    "    mov r8, r0\n"
    "    mov r9, r1\n"
    "    mov r10, r2\n"
    "    mov r11, r3\n"
    "    mov r12, r4\n"
    "    ldr r0, [sp, #12]\n"
    "    mov lr, r0\n"
    "    ldr r6, [sp, #8]\n"
    "    ldr r0, [sp, #0]\n"
    "    add pc, r0\n"
    "    nop\n"
    "3:\n"
    "    .rept 8\n"
    "    EVO_M0_TAP5\n"
    "    .endr\n"
    "    .if . - 3b != 8 * 24\n"
    "    .error \"EVO_M0_TAP5 is not 24 bytes\"\n"
    "    .endif\n"
    "    cmp r6, lr\n"
    "    bne 3b\n"
    "    ldr r6, [sp, #16]\n"
    "    mov r0, r12\n"
    "    .if \\rq == 16\n"
    "    ldr r1, [sp, #28]\n"
    "    mov r12, r1\n"
    "    .endif\n"
    "    .if \\wide == 0\n"
    "    ldr r1, [sp, #24]\n"
    "    mov lr, r1\n"
    "    .endif\n"
    "    EVO_M0_RQ \\rq, 4, \\wide\n"
    "    EVO_M0_RQ_HIGH \\rq, \\wide\n"
    "    adds r6, #5\n"
    "    str r6, [sp, #16]\n"
    "    ldr r0, [sp, #4]\n"
    "    subs r0, #1\n"
    "    str r0, [sp, #4]\n"
    "    beq 8f\n"
    "    b 2b\n"
    "8:\n"
    "    .endm\n"
    "    .macro EVO_M0_MM5 name, rq\n"
    "    EVO_M0_FUNC \\name\n"
    "    EVO_M0_ENTER\n"
    "    lsls r4, r1, #2\n"
    "    adds r4, #7\n"
    "    lsrs r4, r4, #3\n"
    "    lsls r4, r4, #3\n"           /* the widened field's bytes, rounded up to 8 */
    "    rsbs r5, r4, #0\n"
    "    add sp, r5\n"
    "    sub sp, #40\n"
    "    str r4, [sp, #32]\n"
    "    mov r7, r2\n"
    "    add r2, sp, #40\n"           /* the widened field */
    "    str r2, [sp, #8]\n"
    "    adds r5, r0, r1\n"           /* widen: field[i] for i = -k .. -1 from the end */
    "    rsbs r6, r1, #0\n"
    "7:\n"
    "    ldrsb r4, [r5, r6]\n"
    "    stm r2!, {r4}\n"
    "    adds r6, #1\n"
    "    bne 7b\n"
    "    str r2, [sp, #12]\n"
    "    rsbs r1, r1, #0\n"
    "    lsls r1, r1, #29\n"
    "    lsrs r1, r1, #29\n"          /* (-k) & 7: steps to skip */
    "    movs r0, #24\n"
    "    muls r1, r0, r1\n"
    "    str r1, [sp, #0]\n"
    "    ldm r3!, {r0-r2}\n"          /* blocks out act_min */
    "    str r0, [sp, #4]\n"
    "    str r1, [sp, #16]\n"
    "    str r2, [sp, #20]\n"
    "    ldr r3, [r3]\n"              /* act_max */
    "    subs r3, r3, r2\n"
    "    str r3, [sp, #24]\n"
    "    EVO_M0_CONST\n"
    "    mov r1, r12\n"
    "    str r1, [sp, #28]\n"
    "    cmp r3, #255\n"
    "    beq 6f\n"
    "    b 4f\n"
    "6:\n"
    "    EVO_M0_BLOCKS5 \\rq, 1\n"
    "    b 5f\n"
    "4:\n"
    "    EVO_M0_BLOCKS5 \\rq, 0\n"
    "5:\n"
    "    mov r0, r7\n"
    "    ldr r1, [sp, #32]\n"
    "    add sp, #40\n"
    "    add sp, r1\n"
    "    EVO_M0_LEAVE\n"
    "    EVO_M0_ENDFUNC \\name\n"
    "    .endm\n"
    /* ---- 4 channels, depthwise: the tap's pixel address from the table (r4), its four channels
     * at + the channel offset (r5) in one word (r3), each sign-extended into r2 */
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
    "    .macro EVO_M0_DWBLOCKS rq, wide\n"
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
    "    .if . - 3b != 4 * 36\n"
    "    .error \"EVO_M0_DWTAP is not 36 bytes\"\n"
    "    .endif\n"
    "    cmp r4, r6\n"
    "    bne 3b\n"
    "    ldr r6, [sp, #16]\n"
    "    EVO_M0_RQ_HIGH \\rq, \\wide\n"
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
    "    .macro EVO_M0_DW name, rq\n"
    "    EVO_M0_FUNC \\name\n"
    "    EVO_M0_ENTER\n"
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
    "    EVO_M0_CONST\n"
    "    cmp r3, #255\n"
    "    beq 6f\n"
    "    b 4f\n"
    "6:\n"
    "    EVO_M0_DWBLOCKS \\rq, 1\n"
    "    b 5f\n"
    "4:\n"
    "    EVO_M0_DWBLOCKS \\rq, 0\n"
    "5:\n"
    "    mov r0, r7\n"
    "    add sp, #28\n"
    "    EVO_M0_LEAVE\n"
    "    EVO_M0_ENDFUNC \\name\n"
    "    .endm\n"
    "    EVO_M0_MM4 evo_mm_s8_m0_blocks16, 16\n"
    "    EVO_M0_MM4 evo_mm_s8_m0_blocks11, 11\n"
    "    EVO_M0_MM5 evo_mm5_s8_m0_blocks16, 16\n"
    "    EVO_M0_MM5 evo_mm5_s8_m0_blocks11, 11\n"
    "    EVO_M0_DW evo_dw_s8_m0_blocks16, 16\n"
    "    EVO_M0_DW evo_dw_s8_m0_blocks11, 11\n"
    "    .purgem EVO_M0_STORE\n"
    "    .purgem EVO_M0_RQ16\n"
    "    .purgem EVO_M0_RQ11\n"
    "    .purgem EVO_M0_RQ\n"
    "    .purgem EVO_M0_CONST\n"
    "    .purgem EVO_M0_ENTER\n"
    "    .purgem EVO_M0_LEAVE\n"
    "    .purgem EVO_M0_FUNC\n"
    "    .purgem EVO_M0_ENDFUNC\n"
    "    .purgem EVO_M0_TAP\n"
    "    .purgem EVO_M0_BLOCKS\n"
    "    .purgem EVO_M0_MM4\n"
    "    .purgem EVO_M0_TAP5\n"
    "    .purgem EVO_M0_BLOCKS5\n"
    "    .purgem EVO_M0_MM5\n"
    "    .purgem EVO_M0_DWTAP\n"
    "    .purgem EVO_M0_DWBLOCKS\n"
    "    .purgem EVO_M0_DW\n");

static const int32_t *m0_blocks(const int8_t *x, int32_t k, const int32_t *stream, int32_t blocks, int32_t lanes,
                                const evo_m0_rq_t *rq, int8_t *out)
{
    int32_t job[4];
    job[0] = blocks;
    job[1] = (int32_t)(intptr_t)out;
    job[2] = rq->act_min;
    job[3] = rq->act_max;
    if (rq->mode == EVO_M0_RQ11) {
        return lanes == 5 ? evo_mm5_s8_m0_blocks11(x, k, stream, job) : evo_mm_s8_m0_blocks11(x + k, k, stream, job);
    }
    return lanes == 5 ? evo_mm5_s8_m0_blocks16(x, k, stream, job) : evo_mm_s8_m0_blocks16(x + k, k, stream, job);
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
    if (rq->mode == EVO_M0_RQ11) {
        (void)evo_dw_s8_m0_blocks11(tab, k, stream, job);
    } else {
        (void)evo_dw_s8_m0_blocks16(tab, k, stream, job);
    }
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
    int32_t full = channels >> 2, rest = channels & 3, done;
    if (rq->mode == EVO_M0_EXACT) { /* 4 lanes */
        m0_exact(x, k, stream, channels, rq, out);
        return;
    }
    if (rq->lanes == 5) { /* the generator: only with k <= EVO_M0_LANES5_MAX_K; the rest in blocks of four */
        for (full = 0, rest = channels; rest >= 5; rest -= 5) {
            ++full; /* channels / 5 without a library division */
        }
        if (full > 0) {
            stream = m0_blocks(x, k, stream, full, 5, rq, out);
        }
        done = 5 * full;
        full = rest >> 2;
        rest &= 3;
    } else {
        done = 0;
    }
    if (full > 0) {
        stream = m0_blocks(x, k, stream, full, 4, rq, out + done);
        done += 4 * full;
    }
    if (rest > 0) { /* a last partial block into a buffer: stores past `channels` could hit live data */
        int8_t tail[4];
        int32_t j;
        m0_blocks(x, k, stream, 1, 4, rq, tail);
        for (j = 0; j < rest; ++j) {
            out[done + j] = tail[j];
        }
    }
}
