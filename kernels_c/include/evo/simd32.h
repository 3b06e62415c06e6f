/* 32-bit SIMD and multiply helpers of the specialised Cortex-M kernels, with a plain-C twin of each
 * so that the same kernel (and its generation-time weight layout) builds and runs on the host and
 * on cores without the DSP extension. Each helper computes exactly what the named Armv7E-M
 * instruction computes (wrapping int32 sums), so results are identical on every build.
 *
 * Pairs are two int16 lanes in one word: lane 0 in bits 0-15, lane 1 in bits 16-31. */
#ifndef EVO_SIMD32_H
#define EVO_SIMD32_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#endif

#if defined(__GNUC__)
#define EVO_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define EVO_ALWAYS_INLINE inline
#endif

/* An unaligned little-endian 32-bit load. */
static inline uint32_t evo_s32_ld(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

#if defined(__ARM_FEATURE_DSP)
/* PKHBT a, b, LSL #16: (a.lane0, b.lane0). (GCC does not form PKH from the C expression.) */
static inline uint32_t evo_s32_pkhbt(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* PKHTB b, a, ASR #16: (a.lane1, b.lane1). */
static inline uint32_t evo_s32_pkhtb(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("pkhtb %0, %2, %1, asr #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
#else
static inline uint32_t evo_s32_pkhbt(uint32_t a, uint32_t b) { return (a & 0xFFFFu) | (b << 16); }
static inline uint32_t evo_s32_pkhtb(uint32_t a, uint32_t b) { return (b & 0xFFFF0000u) | (a >> 16); }
#endif

static inline int32_t evo_s32_lane(uint32_t x, int hi) { return (int32_t)(int16_t)(uint16_t)(hi ? x >> 16 : x); }

#if defined(__ARM_FEATURE_DSP)

/* SXTAB16 off, x: (off.lane0 + int8 byte 0, off.lane1 + int8 byte 2). */
static inline uint32_t evo_s32_sxtab16(uint32_t off, uint32_t x) { return (uint32_t)__sxtab16((int16x2_t)off, (int8x4_t)x); }

/* SXTAB16 off, x, ROR #8: bytes 1 and 3. */
static inline uint32_t evo_s32_sxtab16_r8(uint32_t off, uint32_t x)
{
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(off), "r"(x));
    return r;
}

/* SMLAD: acc + a.lane0 * b.lane0 + a.lane1 * b.lane1. */
static inline int32_t evo_s32_smlad(uint32_t a, uint32_t b, int32_t acc) { return __smlad((int16x2_t)a, (int16x2_t)b, acc); }

/* SMMLAR: (acc * 2^32 + a * b + 2^31) >> 32. */
static inline int32_t evo_s32_smmlar(int32_t a, int32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

/* SSAT #8. */
static inline int32_t evo_s32_ssat8(int32_t x) { return __ssat(x, 8); }

#else

static inline uint32_t evo_s32_sxtab16(uint32_t off, uint32_t x)
{
    const uint32_t lo = (uint32_t)((int32_t)(int8_t)(uint8_t)x + evo_s32_lane(off, 0)) & 0xFFFFu;
    const uint32_t hi = (uint32_t)((int32_t)(int8_t)(uint8_t)(x >> 16) + evo_s32_lane(off, 1)) & 0xFFFFu;
    return lo | (hi << 16);
}

static inline uint32_t evo_s32_sxtab16_r8(uint32_t off, uint32_t x) { return evo_s32_sxtab16(off, (x >> 8) | (x << 24)); }

static inline int32_t evo_s32_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    const uint32_t p0 = (uint32_t)(evo_s32_lane(a, 0) * evo_s32_lane(b, 0));
    const uint32_t p1 = (uint32_t)(evo_s32_lane(a, 1) * evo_s32_lane(b, 1));
    return (int32_t)((uint32_t)acc + p0 + p1);
}

static inline int32_t evo_s32_smmlar(int32_t a, int32_t b, int32_t acc)
{
    const int64_t t = (int64_t)a * b + (int64_t)0x80000000LL;
    /* (acc * 2^32 + t) >> 32 == acc + (t >> 32), wrapping like the instruction */
    return (int32_t)((uint32_t)acc + (uint32_t)(t >> 32));
}

static inline int32_t evo_s32_ssat8(int32_t x) { return x < -128 ? -128 : (x > 127 ? 127 : x); }

#endif

#endif
