/* MUL on int8 with broadcasting, bit-exact with TFLM's reference kernel (evo_mul_one in
 * evo/elementwise.h). */
#include "evo/elementwise.h"

static inline int8_t mul_one(const evo_mul_s8_params_t *p, int32_t a, int32_t b)
{
    return (int8_t)evo_mul_one(p, a, b);
}

evo_status_t evo_mul_s8(const evo_mul_s8_params_t *p, const int8_t *in1, const int8_t *in2, int8_t *out)
{
    EVO_BCAST_APPLY(&p->bcast, int8_t, in1, in2, out, mul_one, p);
    return EVO_OK;
}
