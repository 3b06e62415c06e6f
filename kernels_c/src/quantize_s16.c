/* QUANTIZE float32 -> int16_t: evo_quantize_value (zero_point + round(x / scale), as TFLM's
 * AffineQuantize) saturated to the int16_t range. */
#include "evo/elementwise.h"

evo_status_t evo_quantize_s16(const evo_quantize_params_t *p, const float *in, int16_t *out)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t q = evo_quantize_value(p, in[i]);
        out[i] = (int16_t)EVO_CLAMP(q, -32768, 32767);
    }
    return EVO_OK;
}
