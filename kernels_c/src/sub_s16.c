/* SUB on int16 (symmetric, zero points 0) with broadcasting, bit-exact with TFLM's reference
 * kernel: the int8 scheme of sub_s8.c with the inputs scaled up by 2^15 instead of 2^20
 * (left_shift comes from the parameters). */
#include "evo/elementwise.h"
#include "evo/fixedpoint.h"

static inline int16_t sub_one(const evo_addsub_s8_params_t *p, int32_t a, int32_t b)
{
    const int32_t x1 = (int32_t)((uint32_t)(a + p->input1_offset) << p->left_shift);
    const int32_t x2 = (int32_t)((uint32_t)(b + p->input2_offset) << p->left_shift);
    const int32_t y1 = evo_requantize_lt1(x1, p->input1_multiplier, p->input1_shift);
    const int32_t y2 = evo_requantize_lt1(x2, p->input2_multiplier, p->input2_shift);
    const int32_t raw = (int32_t)((uint32_t)y1 - (uint32_t)y2);
    const int32_t out = evo_requantize_lt1(raw, p->output_multiplier, p->output_shift) + p->output_offset;
    return (int16_t)EVO_CLAMP(out, p->act_min, p->act_max);
}

evo_status_t evo_sub_s16(const evo_addsub_s8_params_t *p, const int16_t *in1, const int16_t *in2, int16_t *out)
{
    EVO_BCAST_APPLY(&p->bcast, int16_t, in1, in2, out, sub_one, p);
    return EVO_OK;
}
