/* QUANTIZE float32 -> int8_t: evo_quantize_value (zero_point + round(x / scale), as TFLM's
 * AffineQuantize) saturated to the int8_t range. */
#include "evo/elementwise.h"

evo_status_t evo_quantize_s8(const evo_quantize_params_t *p, const float *in, int8_t *out)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t q = evo_quantize_value(p, in[i]);
        out[i] = (int8_t)EVO_CLAMP(q, -128, 127);
    }
    return EVO_OK;
}
