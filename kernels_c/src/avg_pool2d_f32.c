/* AVERAGE_POOL_2D, float32: sequential window sum / in-bounds count, then the activation clamp. */
#include "evo/pool.h"

evo_status_t evo_avg_pool2d_f32(const evo_avg_pool2d_params_t *p, const float *input, float *output)
{
    const int32_t c = p->in.c;
    evo_pool_window_t w;
    int32_t ch, fy, fx, more;
    for (more = evo_pool_window_first(p, &w); more; more = evo_pool_window_next(p, &w)) {
        float *out = output + w.pix * c;
        if (w.fy1 <= w.fy0 || w.fx1 <= w.fx0) {
            return EVO_ERR_ARG;
        }
        for (ch = 0; ch < c; ++ch) {
            float total = 0.0f;
            float count = 0.0f;
            float avg;
            for (fy = w.fy0; fy < w.fy1; ++fy) {
                size_t t = evo_pool_tap(p, &w, fy, w.fx0) + (size_t)ch;
                for (fx = w.fx0; fx < w.fx1; ++fx, t += (size_t)c) {
                    total += input[t];
                    count += 1.0f;
                }
            }
            avg = total / count;
            out[ch] = EVO_MIN(EVO_MAX(avg, p->act_min_f), p->act_max_f);
        }
    }
    return EVO_OK;
}
