/* QUANTIZE float32 -> int16_t: zero_point + round(x / scale) with the division in float and
 * rounding half away from zero (TFLM's AffineQuantize: TfLiteRound(val / (float)scale)),
 * saturated to the int16_t range. NaN maps to the zero point and huge quotients saturate, as the
 * float-to-int conversion does on Arm cores. */
#include "evo/elementwise.h"

#define QUANT_LIMIT 1048576.0f /* |quotient| beyond 2^20 saturates for any zero point */

static inline int32_t round_half_away(float v)
{
    int32_t q = (int32_t)v; /* truncation toward zero; |v| <= 2^20 here */
    const float frac = v - (float)q; /* exact */
    if (frac >= 0.5f) {
        q += 1;
    } else if (frac <= -0.5f) {
        q -= 1;
    }
    return q;
}

evo_status_t evo_quantize_s16(const evo_quantize_params_t *p, const float *in, int16_t *out)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        float v = in[i] / p->scale;
        int32_t q;
        if (v != v) {
            v = 0.0f;
        }
        v = v > QUANT_LIMIT ? QUANT_LIMIT : v;
        v = v < -QUANT_LIMIT ? -QUANT_LIMIT : v;
        q = round_half_away(v) + p->output_zero_point;
        out[i] = (int16_t)EVO_CLAMP(q, -32768, 32767);
    }
    return EVO_OK;
}
