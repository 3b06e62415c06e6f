/* MINIMUM with broadcasting: compares the stored values (as TFLM does: el1 < el2 ? el1 : el2). */
#include "evo/elementwise.h"

static inline int8_t minimum_one(const evo_maxmin_params_t *p, int8_t x, int8_t y)
{
    (void)p;
    return x < y ? x : y;
}

evo_status_t evo_minimum_s8(const evo_maxmin_params_t *p, const int8_t *in1, const int8_t *in2, int8_t *out)
{
    EVO_BCAST_APPLY(&p->bcast, int8_t, in1, in2, out, minimum_one, p);
    return EVO_OK;
}
