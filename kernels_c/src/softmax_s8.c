/* SOFTMAX int8 -> int8 (output scale 1/256, zero point -128), TFLM's gemmlowp path:
 * exp of the scaled differences in Q5.26 -> Q0.31, sum in Q12.19, reciprocal via GetReciprocal. */
#include "evo/activation.h"
#include "evo/gemmlowp_fixedpoint.h"

#define EVO_SOFTMAX_DIFF_BITS 5
#define EVO_SOFTMAX_ACCUM_BITS 12

static int32_t evo_softmax_exp_q0(const evo_softmax_params_t *p, int32_t diff)
{
    const int32_t scaled = evo_requantize_gt1(diff, p->input_multiplier, p->input_left_shift);
    return evo_gl_exp_on_negative_values(scaled, EVO_SOFTMAX_DIFF_BITS);
}

evo_status_t evo_softmax_s8(const evo_softmax_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->outer; ++i) {
        const int8_t *in = input + (size_t)i * (size_t)p->depth;
        int8_t *out = output + (size_t)i * (size_t)p->depth;
        int32_t max_in_row = -128;
        int32_t sum = 0;
        int32_t c;
        int num_bits_over_unit;
        int32_t scale;
        int exponent;
        for (c = 0; c < p->depth; ++c) {
            max_in_row = EVO_MAX(max_in_row, (int32_t)in[c]);
        }
        for (c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)in[c] - max_in_row;
            if (diff >= p->diff_min) {
                sum = evo_gl_add(sum, evo_rounding_divide_by_pot(evo_softmax_exp_q0(p, diff), EVO_SOFTMAX_ACCUM_BITS));
            }
        }
        scale = evo_gl_get_reciprocal(sum, EVO_SOFTMAX_ACCUM_BITS, &num_bits_over_unit);
        exponent = num_bits_over_unit + 31 - 8;
        if (exponent < 0 || exponent > 31) {
            return EVO_ERR_ARG;
        }
        for (c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)in[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t e = evo_softmax_exp_q0(p, diff);
                const int32_t v = evo_rounding_divide_by_pot(evo_sat_rounding_doubling_high_mul(scale, e), exponent) - 128;
                out[c] = (int8_t)EVO_CLAMP(v, -128, 127);
            } else {
                out[c] = -128;
            }
        }
    }
    return EVO_OK;
}
