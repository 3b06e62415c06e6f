/* QUANTIZE int16_t -> int16_t (requantisation), as TFLM's Requantize: (q - in_zero_point) is
 * rescaled by QuantizeMultiplier(in_scale / out_scale), offset by the output zero point and
 * saturated to the int16_t range. */
#include "evo/elementwise.h"
#include "evo/fixedpoint.h"

evo_status_t evo_requantize_s16_s16(const evo_requantize_params_t *p, const int16_t *in, int16_t *out)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)in[i] - p->input_zero_point;
        /* wrap like the reference build if a huge rescale saturates */
        const int32_t y = (int32_t)((uint32_t)evo_requantize(x, p->multiplier, p->shift) + (uint32_t)p->output_zero_point);
        out[i] = (int16_t)EVO_CLAMP(y, -32768, 32767);
    }
    return EVO_OK;
}
