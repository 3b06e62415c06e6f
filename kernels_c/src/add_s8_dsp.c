/* ADD, int8, same-shape inputs: two table loads, one SMMLAR and a shift per element
 * (evo/add_dsp.h derives it; bit-exact with TFLM). Four elements per iteration. */
#include "evo/add_dsp.h"
#include "evo/simd32.h"

static EVO_ALWAYS_INLINE int8_t add_one(const int32_t *t1, const int32_t *t2, uint8_t a, uint8_t b, int32_t m, int32_t rc,
                                        int32_t e, int32_t lo, int32_t hi)
{
    const int32_t raw2 = (int32_t)((uint32_t)t1[a] + (uint32_t)t2[b]);
    int32_t o = evo_s32_smmlar(raw2, m, rc + (raw2 >> 31)) >> e;
    o = o < lo ? lo : o;
    return (int8_t)(o > hi ? hi : o);
}

evo_status_t evo_add_s8_dsp(const evo_add_s8_dsp_params_t *p, const int8_t *in1, const int8_t *in2, const int32_t *table,
                            int8_t *out)
{
    const int32_t *t1 = table, *t2 = table + 256;
    const int32_t m = p->multiplier, rc = p->rc, e = p->shift, lo = p->act_min, hi = p->act_max;
    const uint8_t *a = (const uint8_t *)in1, *b = (const uint8_t *)in2;
    int32_t i = 0;
    if (p->size < 0 || e < 1 || e > 31) {
        return EVO_ERR_ARG;
    }
    /* each element is read before its output is written (in-place safe) */
    for (; i + 4 <= p->size; i += 4) {
        out[i] = add_one(t1, t2, a[i], b[i], m, rc, e, lo, hi);
        out[i + 1] = add_one(t1, t2, a[i + 1], b[i + 1], m, rc, e, lo, hi);
        out[i + 2] = add_one(t1, t2, a[i + 2], b[i + 2], m, rc, e, lo, hi);
        out[i + 3] = add_one(t1, t2, a[i + 3], b[i + 3], m, rc, e, lo, hi);
    }
    for (; i < p->size; ++i) {
        out[i] = add_one(t1, t2, a[i], b[i], m, rc, e, lo, hi);
    }
    return EVO_OK;
}
