/* MUL on int16 (16x8 mode, zero points 0) with broadcasting, bit-exact with TFLM's reference
 * kernel: evo_mul_one (evo/elementwise.h), as for int8. */
#include "evo/elementwise.h"

static inline int16_t mul_one(const evo_mul_s8_params_t *p, int32_t a, int32_t b)
{
    return (int16_t)evo_mul_one(p, a, b);
}

evo_status_t evo_mul_s16(const evo_mul_s8_params_t *p, const int16_t *in1, const int16_t *in2, int16_t *out)
{
    EVO_BCAST_APPLY(&p->bcast, int16_t, in1, in2, out, mul_one, p);
    return EVO_OK;
}
