/* ADD on float32 with broadcasting and a fused activation clamp (TFLM's reference order:
 * the result is clamped as min(max(v, act_min), act_max)). */
#include "evo/elementwise.h"

static inline float add_one(const evo_binary_f32_params_t *p, float a, float b)
{
    float v = a + b;
    v = v < p->act_min ? p->act_min : v;
    v = p->act_max < v ? p->act_max : v;
    return v;
}

evo_status_t evo_add_f32(const evo_binary_f32_params_t *p, const float *in1, const float *in2, float *out)
{
    EVO_BCAST_APPLY(&p->bcast, float, in1, in2, out, add_one, p);
    return EVO_OK;
}
