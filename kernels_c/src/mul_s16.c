/* MUL on int16 (16x8 mode, zero points 0) with broadcasting, bit-exact with TFLM's reference
 * kernel: the int8 arithmetic of mul_s8.c; the product of two int16 values fits int32. */
#include "evo/elementwise.h"
#include "evo/fixedpoint.h"

static inline int16_t mul_one(const evo_mul_s8_params_t *p, int32_t a, int32_t b)
{
    const int32_t prod = (int32_t)((uint32_t)(a + p->input1_offset) * (uint32_t)(b + p->input2_offset));
    const int32_t out = (int32_t)((uint32_t)evo_requantize(prod, p->output_multiplier, p->output_shift) + (uint32_t)p->output_offset);
    return (int16_t)EVO_CLAMP(out, p->act_min, p->act_max);
}

evo_status_t evo_mul_s16(const evo_mul_s8_params_t *p, const int16_t *in1, const int16_t *in2, int16_t *out)
{
    EVO_BCAST_APPLY(&p->bcast, int16_t, in1, in2, out, mul_one, p);
    return EVO_OK;
}
