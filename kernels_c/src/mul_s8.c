/* MUL on int8 with broadcasting, bit-exact with TFLM's reference kernel: the product of the
 * offset inputs is requantised with one multiplier (in1_scale * in2_scale / out_scale). */
#include "evo/elementwise.h"
#include "evo/fixedpoint.h"

static inline int8_t mul_one(const evo_mul_s8_params_t *p, int32_t a, int32_t b)
{
    const int32_t prod = (a + p->input1_offset) * (b + p->input2_offset);
    int32_t out = (int32_t)((uint32_t)evo_requantize(prod, p->output_multiplier, p->output_shift) + (uint32_t)p->output_offset);
    out = EVO_CLAMP(out, p->act_min, p->act_max);
    return (int8_t)out;
}

evo_status_t evo_mul_s8(const evo_mul_s8_params_t *p, const int8_t *in1, const int8_t *in2, int8_t *out)
{
    EVO_BCAST_APPLY(&p->bcast, int8_t, in1, in2, out, mul_one, p);
    return EVO_OK;
}
