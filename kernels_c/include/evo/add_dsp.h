/* ADD, int8, same-shape inputs, specialised at generation time (evo/ops/elementwise_dsp.py).
 *
 * TFLM's ADD rescales each input on its own: y_i = RoundingDivideByPOT(SaturatingRoundingDoubling-
 * HighMul((x_i - zp_i) << 20, m_i), s_i) depends on one int8 value, so the generator tabulates
 * 2 * y_i for all 256 values (int32 table[512]: input 1 at [0, 256), input 2 at [256, 512), indexed
 * by the byte's unsigned value). With raw2 = table1[a] + table2[b] = 2 * (y1 + y2), |raw2| < 2^30:
 *   SMMLAR(raw2, m, rc) = rc + floor((raw m + 2^30) / 2^31) = rc + SaturatingRoundingDoublingHighMul(raw, m)
 * (m > 0: no saturation), and with rc = 2^(e-1) + zp * 2^e (e = -output_shift >= 1)
 *   (SMMLAR(raw2, m, rc + (raw2 >> 31))) >> e = RoundingDivideByPOT(high product, e) + zp
 * because the high product is negative only when raw is, and is 0 when raw < 0 and it is not
 * (where the -1 does not change the result). The generator also checks every one of the 65,536
 * input pairs against TFLM's arithmetic and keeps the portable kernel if any differs. */
#ifndef EVO_ADD_DSP_H
#define EVO_ADD_DSP_H

#include "evo/common.h"

typedef struct {
    int32_t size;       /* elements */
    int32_t multiplier; /* output multiplier m (> 0) */
    int32_t rc;         /* 2^(e-1) + output zero point * 2^e */
    int32_t shift;      /* e, 1..31 */
    int32_t act_min, act_max;
} evo_add_s8_dsp_params_t;

/* `table`: 512 int32 from the generator. In place (out == in1 or in2) is allowed. */
evo_status_t evo_add_s8_dsp(const evo_add_s8_dsp_params_t *p, const int8_t *in1, const int8_t *in2, const int32_t *table,
                            int8_t *out);

#endif
