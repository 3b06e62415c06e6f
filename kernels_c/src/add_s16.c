/* ADD on int16 (16x8 mode, zero points 0) with broadcasting, bit-exact with TFLM's
 * reference kernel: evo_addsub_one (evo/elementwise.h) with the inputs scaled up by 2^15
 * (left_shift) where int8 uses 2^20. */
#include "evo/elementwise.h"

static inline int16_t add_one(const evo_addsub_s8_params_t *p, int32_t a, int32_t b)
{
    return (int16_t)evo_addsub_one(p, a, b, 1);
}

evo_status_t evo_add_s16(const evo_addsub_s8_params_t *p, const int16_t *in1, const int16_t *in2, int16_t *out)
{
    EVO_BCAST_APPLY(&p->bcast, int16_t, in1, in2, out, add_one, p);
    return EVO_OK;
}
