/* MUL, int8, same-shape inputs: one multiply, one SMMLAR and a shift per element
 * (evo/mul_dsp.h derives it; bit-exact with TFLM), SSAT and at most two compares for the clamp.
 * Four elements per iteration. */
#include "evo/mul_dsp.h"
#include "evo/simd32.h"

/* `hi127`: the upper clamp is SSAT's (activation NONE or RELU). */
static EVO_ALWAYS_INLINE int8_t mul_one(int32_t a, int32_t b, const evo_mul_s8_dsp_params_t *p, int32_t m, int32_t rc, int32_t e,
                                        int32_t lo, int32_t hi, int hi127)
{
    const int32_t x2 = (a + p->input1_offset) * (b + p->input2_offset) * 2;
    int32_t o = evo_s32_ssat8(evo_s32_smmlar(x2, m, rc + (x2 >> 31)) >> e);
    o = o < lo ? lo : o;
    if (!hi127) {
        o = o > hi ? hi : o;
    }
    return (int8_t)o;
}

static EVO_ALWAYS_INLINE void mul_run(const evo_mul_s8_dsp_params_t *p, const int8_t *a, const int8_t *b, int8_t *out, int hi127)
{
    const evo_mul_s8_dsp_params_t q = *p; /* a local copy: the stores may alias p */
    const int32_t m = q.multiplier, rc = q.rc, e = q.shift, lo = q.act_min, hi = q.act_max, n = q.size;
    int32_t i = 0;
    /* each element is read before its output is written (in-place safe) */
    for (; i + 4 <= n; i += 4) {
        out[i] = mul_one(a[i], b[i], &q, m, rc, e, lo, hi, hi127);
        out[i + 1] = mul_one(a[i + 1], b[i + 1], &q, m, rc, e, lo, hi, hi127);
        out[i + 2] = mul_one(a[i + 2], b[i + 2], &q, m, rc, e, lo, hi, hi127);
        out[i + 3] = mul_one(a[i + 3], b[i + 3], &q, m, rc, e, lo, hi, hi127);
    }
    for (; i < n; ++i) {
        out[i] = mul_one(a[i], b[i], &q, m, rc, e, lo, hi, hi127);
    }
}

evo_status_t evo_mul_s8_dsp(const evo_mul_s8_dsp_params_t *p, const int8_t *in1, const int8_t *in2, int8_t *out)
{
    if (p->size < 0 || p->shift < 1 || p->shift > 31) {
        return EVO_ERR_ARG;
    }
    if (p->act_max == 127) {
        mul_run(p, in1, in2, out, 1);
    } else {
        mul_run(p, in1, in2, out, 0);
    }
    return EVO_OK;
}
