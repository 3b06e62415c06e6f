/* LceBconv2d (BBConv2D), bit-packed output, 32 output channels per bit-sliced sum (evo/bnn_sliced.h). */
#include "evo/bnn_sliced.h"

evo_status_t evo_bconv2d_sliced_bin(const evo_bconv2d_sliced_params_t *p, const int32_t *input, const int32_t *table, const int32_t *init,
                                    int32_t *output, int32_t *scratch)
{
    const int32_t k = p->kh * p->kw * p->in.c, planes = p->planes, groups = p->out_words;
    const uint32_t tail = p->out.c % 32 ? (1u << (p->out.c % 32)) - 1u : ~0u; /* the last group's channels */
    int32_t *list = scratch;
    uint32_t *m = (uint32_t *)(scratch + k / 2 + 15); /* the counter, after the list */
    evo_bsl_window_t win;
    int32_t b, oy, ox, g;
    for (b = 0; b < p->in.n; ++b) {
        const int32_t *in_b = input + (size_t)b * p->in.h * p->in.w * p->words;
        for (oy = 0; oy < p->out.h; ++oy) {
            for (ox = 0; ox < p->out.w; ++ox) {
                const int32_t *tab = table, *x;
                uint32_t flip, y, word = 0;
                int32_t n;
                evo_bsl_window(p, in_b, oy * p->stride_h - p->pad_h, ox * p->stride_w - p->pad_w, &win);
                flip = evo_bsl_ones(p, &win) > k / 2 ? ~0u : 0u; /* list the fewer: at most K / 2 */
                n = evo_bsl_list(p, &win, flip, list);
                y = flip ? (uint32_t)(k - n) : 0u - (uint32_t)n; /* n1 (zero bits listed) or -n1 (set bits) */
                x = init + (flip ? planes + 1 : 0);
                while (n % EVO_BSL_BLOCK) {
                    list[n++] = 4 * k; /* the table's zero word */
                }
                for (g = 0; g < groups; ++g, tab += k + 1, x += 2 * (planes + 1)) {
                    evo_bsl_start(x, y, m, planes);
                    word = evo_bsl_blocks(list, tab, list + n, m, planes) ^ ~flip;
                    *output++ = (int32_t)word;
                }
                output[-1] = (int32_t)(word & tail);
            }
        }
    }
    return EVO_OK;
}
