/* AVERAGE_POOL_2D, int8, four channels per 32-bit word (evo/pool_fast.h). Per window pixel and
 * group of four channels: one load and two SXTAB16 into two int16-lane sums (channels 0/2 and
 * 1/3). The division and clamp are TFLM's (round half away from zero, C division). */
#include "evo/pool_fast.h"
#include "evo/simd32.h"

static inline int8_t avg_finish(int32_t acc, int32_t count, int32_t lo, int32_t hi)
{
    acc = evo_pool_avg_round(acc, count);
    return (int8_t)EVO_CLAMP(acc, lo, hi);
}

evo_status_t evo_avg_pool2d_s8_simd(const evo_avg_pool2d_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t c = p->in.c;
    const size_t row_step = (size_t)p->in.w * c;
    evo_pool_window_t w;
    int32_t ch, fy, fx, more;
    for (more = evo_pool_window_first(p, &w); more; more = evo_pool_window_next(p, &w)) {
        const int32_t count = (w.fy1 - w.fy0) * (w.fx1 - w.fx0);
        const int8_t *win;
        int8_t *out = output + w.pix * c;
        if (w.fy1 <= w.fy0 || w.fx1 <= w.fx0 || count > 255) {
            return EVO_ERR_ARG;
        }
        win = input + evo_pool_tap(p, &w, w.fy0, w.fx0);
        for (ch = 0; ch + 4 <= c; ch += 4) {
            uint32_t s02 = 0, s13 = 0;
            const int8_t *row = win + ch;
            for (fy = w.fy0; fy < w.fy1; ++fy, row += row_step) {
                const int8_t *px = row;
                for (fx = w.fx0; fx < w.fx1; ++fx, px += c) {
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
            for (fy = w.fy0; fy < w.fy1; ++fy, row += row_step) {
                for (fx = 0; fx < w.fx1 - w.fx0; ++fx) {
                    acc += row[(size_t)fx * c];
                }
            }
            out[ch] = avg_finish(acc, count, p->act_min, p->act_max);
        }
    }
    return EVO_OK;
}
