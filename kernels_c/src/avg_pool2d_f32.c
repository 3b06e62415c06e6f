/* AVERAGE_POOL_2D, float32: sequential window sum / in-bounds count, then the activation clamp. */
#include "evo/pool.h"

evo_status_t evo_avg_pool2d_f32(const evo_avg_pool2d_params_t *p, const float *input, float *output)
{
    const int32_t ih = p->in.h, iw = p->in.w, c = p->in.c;
    int32_t b, oy, ox, ch, fy, fx;
    for (b = 0; b < p->in.n; ++b) {
        const float *in_b = input + (size_t)b * ih * iw * c;
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t y_origin = oy * p->stride_h - p->pad_h;
            const int32_t fy0 = EVO_MAX(0, -y_origin);
            const int32_t fy1 = EVO_MIN(p->filter_h, ih - y_origin);
            for (ox = 0; ox < p->out.w; ++ox) {
                const int32_t x_origin = ox * p->stride_w - p->pad_w;
                const int32_t fx0 = EVO_MAX(0, -x_origin);
                const int32_t fx1 = EVO_MIN(p->filter_w, iw - x_origin);
                float *out = output + (((size_t)b * p->out.h + oy) * p->out.w + ox) * c;
                if (fy1 <= fy0 || fx1 <= fx0) {
                    return EVO_ERR_ARG;
                }
                for (ch = 0; ch < c; ++ch) {
                    float total = 0.0f;
                    float count = 0.0f;
                    float avg;
                    for (fy = fy0; fy < fy1; ++fy) {
                        const float *row = in_b + ((size_t)(y_origin + fy) * iw + x_origin) * c + ch;
                        for (fx = fx0; fx < fx1; ++fx) {
                            total += row[(size_t)fx * c];
                            count += 1.0f;
                        }
                    }
                    avg = total / count;
                    out[ch] = EVO_MIN(EVO_MAX(avg, p->act_min_f), p->act_max_f);
                }
            }
        }
    }
    return EVO_OK;
}
