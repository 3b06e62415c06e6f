/* HARD_SWISH int8 with TFLM's 16-bit fixed-point scheme: the input on a "hires" scale
 * (x * 2^7), a relu-ish factor in [0, 1] on a 3/32768 scale, their product on the output scale.
 * Every intermediate is an int16 value (held in int32_t, wrapped explicitly). */
#include "evo/activation.h"

static int32_t evo_hs_wrap16(int32_t v)
{
    int32_t w = (int32_t)((uint32_t)v & 0xFFFFu);
    return w >= 32768 ? w - 65536 : w;
}

/* gemmlowp SaturatingRoundingDoublingHighMul on int16. */
static int32_t evo_hs_srdhm16(int32_t a, int32_t b)
{
    const int32_t ab = a * b;
    const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    if (a == b && a == -32768) {
        return 32767;
    }
    return evo_hs_wrap16((ab + nudge) / (1 << 15));
}

/* Doubling high multiply rounding toward zero (SQDMULH) on int16. */
static int32_t evo_hs_sdhm16(int32_t a, int32_t b)
{
    if (a == b && a == -32768) {
        return 32767;
    }
    return evo_hs_wrap16((a * b) / (1 << 15));
}

static int32_t evo_hs_sat_left_shift16(int32_t v, int amount)
{
    const int64_t r = (int64_t)v * ((int64_t)1 << amount);
    return (int32_t)(r > 32767 ? 32767 : (r < -32768 ? -32768 : r));
}

/* gemmlowp RoundingDivideByPOT instantiated for int16 (mask and sums in int16). */
static int32_t evo_hs_rdivpot16(int32_t x, int exponent)
{
    const int32_t mask = evo_hs_wrap16((int32_t)(((int64_t)1 << exponent) - 1));
    const int32_t remainder = evo_hs_wrap16(x & mask);
    const int32_t threshold = evo_hs_wrap16((mask >> 1) + (x < 0 ? 1 : 0));
    return evo_hs_wrap16((x >> exponent) + (remainder > threshold ? 1 : 0));
}

evo_status_t evo_hard_swish_s8(const evo_hard_swish_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = evo_hs_wrap16((int32_t)input[i] - p->input_zero_point);
        const int32_t hires = evo_hs_wrap16(x * 128);
        const int32_t preshift_out = evo_hs_srdhm16(hires, p->output_multiplier_fixedpoint_int16);
        int32_t reluish = hires;
        int32_t v;
        if (p->reluish_multiplier_exponent > 0) {
            reluish = evo_hs_sat_left_shift16(reluish, p->reluish_multiplier_exponent - 1);
        }
        reluish = evo_hs_srdhm16(reluish, p->reluish_multiplier_fixedpoint_int16);
        if (p->reluish_multiplier_exponent > 0) {
            reluish = evo_hs_sat_left_shift16(reluish, 1);
        }
        if (p->reluish_multiplier_exponent < 0) {
            reluish = evo_hs_rdivpot16(reluish, -p->reluish_multiplier_exponent);
        }
        reluish = evo_hs_wrap16((reluish + (1 << 15)) >> 1);
        v = evo_hs_sdhm16(reluish, preshift_out);
        v = evo_hs_rdivpot16(v, -p->output_multiplier_exponent);
        v = evo_hs_wrap16(v + p->output_zero_point);
        output[i] = (int8_t)EVO_CLAMP(v, -128, 127);
    }
    return EVO_OK;
}
