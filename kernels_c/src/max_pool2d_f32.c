/* MAX_POOL_2D, float32: maximum of the in-bounds window, then the activation clamp. */
#include <float.h>

#include "evo/pool.h"

evo_status_t evo_max_pool2d_f32(const evo_max_pool2d_params_t *p, const float *input, float *output)
{
    const int32_t c = p->in.c;
    evo_pool_window_t w;
    int32_t ch, fy, fx, more;
    for (more = evo_pool_window_first(p, &w); more; more = evo_pool_window_next(p, &w)) {
        float *out = output + w.pix * c;
        for (ch = 0; ch < c; ++ch) {
            float m = -FLT_MAX;
            for (fy = w.fy0; fy < w.fy1; ++fy) {
                size_t t = evo_pool_tap(p, &w, fy, w.fx0) + (size_t)ch;
                for (fx = w.fx0; fx < w.fx1; ++fx, t += (size_t)c) {
                    const float v = input[t];
                    m = EVO_MAX(m, v);
                }
            }
            out[ch] = EVO_MIN(EVO_MAX(m, p->act_min_f), p->act_max_f);
        }
    }
    return EVO_OK;
}
