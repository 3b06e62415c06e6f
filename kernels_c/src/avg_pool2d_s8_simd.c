/* AVERAGE_POOL_2D, int8, four channels per 32-bit word (evo/pool_fast.h). Per window pixel and
 * group of four channels: one load and two SXTAB16 into two int16-lane sums (channels 0/2 and
 * 1/3). The division and clamp are TFLM's (round half away from zero, C division). */
#include "evo/pool_fast.h"
#include "evo/simd32.h"

static inline int8_t avg_finish(int32_t acc, int32_t count, int32_t lo, int32_t hi)
{
    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
    return (int8_t)EVO_CLAMP(acc, lo, hi);
}

evo_status_t evo_avg_pool2d_s8_simd(const evo_avg_pool2d_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t ih = p->in.h, iw = p->in.w, c = p->in.c;
    int32_t b, oy, ox, ch, fy, fx;
    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * ih * iw * c;
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t y_origin = oy * p->stride_h - p->pad_h;
            const int32_t fy0 = EVO_MAX(0, -y_origin);
            const int32_t fy1 = EVO_MIN(p->filter_h, ih - y_origin);
            for (ox = 0; ox < p->out.w; ++ox) {
                const int32_t x_origin = ox * p->stride_w - p->pad_w;
                const int32_t fx0 = EVO_MAX(0, -x_origin);
                const int32_t fx1 = EVO_MIN(p->filter_w, iw - x_origin);
                const int32_t count = (fy1 - fy0) * (fx1 - fx0);
                const int8_t *win = in_b + ((size_t)(y_origin + fy0) * iw + (x_origin + fx0)) * c;
                const size_t row_step = (size_t)iw * c;
                int8_t *out = output + (((size_t)b * p->out.h + oy) * p->out.w + ox) * c;
                if (fy1 <= fy0 || fx1 <= fx0 || count > 255) {
                    return EVO_ERR_ARG;
                }
                for (ch = 0; ch + 4 <= c; ch += 4) {
                    uint32_t s02 = 0, s13 = 0;
                    const int8_t *row = win + ch;
                    for (fy = fy0; fy < fy1; ++fy, row += row_step) {
                        const int8_t *px = row;
                        for (fx = fx0; fx < fx1; ++fx, px += c) {
                            const uint32_t v = evo_s32_ld(px);
                            s02 = evo_s32_sxtab16(s02, v);
                            s13 = evo_s32_sxtab16_r8(s13, v);
                        }
                    }
                    out[ch] = avg_finish(evo_s32_lane(s02, 0), count, p->act_min, p->act_max);
                    out[ch + 1] = avg_finish(evo_s32_lane(s13, 0), count, p->act_min, p->act_max);
                    out[ch + 2] = avg_finish(evo_s32_lane(s02, 1), count, p->act_min, p->act_max);
                    out[ch + 3] = avg_finish(evo_s32_lane(s13, 1), count, p->act_min, p->act_max);
                }
                for (; ch < c; ++ch) {
                    int32_t acc = 0;
                    const int8_t *row = win + ch;
                    for (fy = fy0; fy < fy1; ++fy, row += row_step) {
                        for (fx = 0; fx < fx1 - fx0; ++fx) {
                            acc += row[(size_t)fx * c];
                        }
                    }
                    out[ch] = avg_finish(acc, count, p->act_min, p->act_max);
                }
            }
        }
    }
    return EVO_OK;
}
