/* SOFTMAX int16 -> int16 (16x8 mode), bit-exact with TFLM's reference SoftmaxInt16: table
 * lookups with linear interpolation for exp of the rescaled differences and for the
 * reciprocal of their sum (see evo/ops/softmax_s16.py for the arithmetic). */
#include "evo/activation.h"
#include "evo/fixedpoint.h"

/* 513-entry table, index 256 + (v >> 7), 7-bit fraction interpolated and rounded. */
static int16_t lut_lookup(int16_t v, const int16_t *lut)
{
    const int32_t idx = 256 + (v >> 7);
    const int32_t frac = v & 0x7f;
    const int16_t slope = (int16_t)(uint16_t)((uint16_t)lut[idx + 1] - (uint16_t)lut[idx]);
    const int32_t delta = ((int32_t)slope * frac + 64) >> 7;
    return (int16_t)(uint16_t)((uint32_t)(int32_t)lut[idx] + (uint32_t)delta);
}

static int32_t leading_zeros(uint32_t v)
{
    int32_t n = 0;
    if (v == 0) {
        return 32;
    }
    while ((v & 0x80000000u) == 0) {
        v <<= 1;
        ++n;
    }
    return n;
}

static int16_t sat16(int32_t v)
{
    return (int16_t)EVO_CLAMP(v, -32768, 32767);
}

evo_status_t evo_softmax_s16(const evo_softmax_s16_params_t *p, const int16_t *input, int16_t *output)
{
    int32_t i, c;
    for (i = 0; i < p->outer; ++i) {
        const int16_t *in = input + (size_t)i * (size_t)p->depth;
        int16_t *out = output + (size_t)i * (size_t)p->depth; /* holds the exponentials first */
        int32_t max_in_row = -32768;
        int32_t sum = 0;
        int32_t head, shifted, rshift;
        int16_t recip;
        for (c = 0; c < p->depth; ++c) {
            max_in_row = EVO_MAX(max_in_row, (int32_t)in[c]);
        }
        for (c = 0; c < p->depth; ++c) {
            const int32_t scaled = evo_requantize((int32_t)in[c] - max_in_row, p->input_multiplier, p->input_left_shift);
            out[c] = lut_lookup(sat16(scaled + 32767), p->exp_lut);
            sum = (int32_t)((uint32_t)sum + (uint32_t)(int32_t)out[c]);
        }
        head = leading_zeros((uint32_t)sum);
        if (head < 1 || head > 31) {
            return EVO_ERR_ARG; /* the row's maximum alone contributes about 32767: cannot happen */
        }
        shifted = (int32_t)((((int64_t)sum << (head - 1)) + (1 << 13)) >> 14);
        recip = lut_lookup(sat16(shifted - ((1 << 15) + (1 << 16))), p->recip_lut);
        rshift = 31 - head;
        for (c = 0; c < p->depth; ++c) {
            const int32_t r = (int32_t)(((int64_t)out[c] * recip + ((int64_t)1 << (rshift - 1))) >> rshift);
            out[c] = (int16_t)EVO_CLAMP(r, 0, 32767);
        }
    }
    return EVO_OK;
}
