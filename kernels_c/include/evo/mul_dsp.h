/* MUL, int8, same-shape inputs, specialised at generation time (evo/ops/elementwise_dsp.py).
 *
 * TFLM requantises prod = (a - zp1) * (b - zp2) (|prod| <= 255^2) with
 * MultiplyByQuantizedMultiplier(prod, m, shift). For a right shift e = -shift >= 1, with
 * x2 = prod << 1 (|x2| < 2^17):
 *   (SMMLAR(x2, m, rc + (x2 >> 31))) >> e,  rc = 2^(e-1) + zp_out * 2^e
 * equals it plus the output zero point, as in evo/add_dsp.h (the high product is negative only
 * when prod is, and 0 where prod < 0 and it is not). The generator also checks all 65,536 input
 * pairs against TFLM's arithmetic and keeps the portable kernel if any differs. */
#ifndef EVO_MUL_DSP_H
#define EVO_MUL_DSP_H

#include "evo/common.h"

typedef struct {
    int32_t size;          /* elements */
    int32_t input1_offset; /* -zero point of input 1 */
    int32_t input2_offset;
    int32_t multiplier; /* m (> 0) */
    int32_t rc;         /* 2^(e-1) + output zero point * 2^e */
    int32_t shift;      /* e, 1..31 */
    int32_t act_min, act_max;
} evo_mul_s8_dsp_params_t;

/* In place (out == in1 or in2) is allowed. */
evo_status_t evo_mul_s8_dsp(const evo_mul_s8_dsp_params_t *p, const int8_t *in1, const int8_t *in2, int8_t *out);

#endif
