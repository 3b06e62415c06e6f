/* MINIMUM with broadcasting: compares the stored values (as TFLM does: el1 < el2 ? el1 : el2). */
#include "evo/elementwise.h"

static inline float minimum_one(const evo_maxmin_params_t *p, float x, float y)
{
    (void)p;
    return x < y ? x : y;
}

evo_status_t evo_minimum_f32(const evo_maxmin_params_t *p, const float *in1, const float *in2, float *out)
{
    EVO_BCAST_APPLY(&p->bcast, float, in1, in2, out, minimum_one, p);
    return EVO_OK;
}
