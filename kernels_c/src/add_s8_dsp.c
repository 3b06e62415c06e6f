/* ADD, int8, same-shape inputs: two table loads, one SMMLAR and a shift per element
 * (evo/add_dsp.h derives it; bit-exact with TFLM), SSAT and at most two compares for the
 * clamp. Four elements per iteration. */
#include "evo/add_dsp.h"
#include "evo/simd32.h"

/* `hi127`: the upper clamp is SSAT's (activation NONE or RELU), one instruction. */
static EVO_ALWAYS_INLINE int8_t add_one(const int32_t *t1, const int32_t *t2, uint8_t a, uint8_t b, int32_t m, int32_t rc,
                                        int32_t e, int32_t lo, int32_t hi, int hi127)
{
    const int32_t raw2 = (int32_t)((uint32_t)t1[a] + (uint32_t)t2[b]);
    int32_t o = evo_s32_ssat8(evo_s32_smmlar(raw2, m, rc + (raw2 >> 31)) >> e);
    o = o < lo ? lo : o;
    if (!hi127) {
        o = o > hi ? hi : o;
    }
    return (int8_t)o;
}

static EVO_ALWAYS_INLINE void add_run(const evo_add_s8_dsp_params_t *p, const uint8_t *a, const uint8_t *b, const int32_t *table,
                                      int8_t *out, int hi127)
{
    const int32_t *t1 = table, *t2 = table + 256;
    const int32_t m = p->multiplier, rc = p->rc, e = p->shift, lo = p->act_min, hi = p->act_max, n = p->size;
    int32_t i = 0;
    /* each element is read before its output is written (in-place safe) */
    for (; i + 4 <= n; i += 4) {
        out[i] = add_one(t1, t2, a[i], b[i], m, rc, e, lo, hi, hi127);
        out[i + 1] = add_one(t1, t2, a[i + 1], b[i + 1], m, rc, e, lo, hi, hi127);
        out[i + 2] = add_one(t1, t2, a[i + 2], b[i + 2], m, rc, e, lo, hi, hi127);
        out[i + 3] = add_one(t1, t2, a[i + 3], b[i + 3], m, rc, e, lo, hi, hi127);
    }
    for (; i < n; ++i) {
        out[i] = add_one(t1, t2, a[i], b[i], m, rc, e, lo, hi, hi127);
    }
}

evo_status_t evo_add_s8_dsp(const evo_add_s8_dsp_params_t *p, const int8_t *in1, const int8_t *in2, const int32_t *table,
                            int8_t *out)
{
    const uint8_t *a = (const uint8_t *)in1, *b = (const uint8_t *)in2;
    if (p->size < 0 || p->shift < 1 || p->shift > 31) {
        return EVO_ERR_ARG;
    }
    if (p->act_max == 127) {
        add_run(p, a, b, table, out, 1);
    } else {
        add_run(p, a, b, table, out, 0);
    }
    return EVO_OK;
}
