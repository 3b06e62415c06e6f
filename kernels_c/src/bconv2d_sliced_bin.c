/* LceBconv2d (BBConv2D), bit-packed output, 32 output channels per bit-sliced sum (evo/bnn_sliced.h). */
#include "evo/bnn_sliced.h"

evo_status_t evo_bconv2d_sliced_bin(const evo_bconv2d_sliced_params_t *p, const int32_t *input, const int32_t *table, const int32_t *init,
                                    int32_t *output, int32_t *scratch)
{
    const int32_t k = p->kh * p->kw * p->in.c, planes = p->planes, groups = p->out_words;
    const int32_t tail = p->out.c % 32;
    int32_t *list = scratch;
    uint32_t *m = (uint32_t *)(scratch + k / 2 + 36); /* after the list and the carry-save state m[-4..-1] */
    int32_t b, oy, ox, g;
    for (b = 0; b < p->in.n; ++b) {
        const int32_t *in_b = input + (size_t)b * p->in.h * p->in.w * p->words;
        for (oy = 0; oy < p->out.h; ++oy) {
            for (ox = 0; ox < p->out.w; ++ox) {
                const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
                int32_t *out = output + (((size_t)b * p->out.h + oy) * p->out.w + ox) * groups;
                uint32_t flip = 0, n1;
                int32_t n = evo_bsl_list(p, in_b, y0, x0, 0u, k / 2, list);
                if (n < 0) { /* more than half the field set: sum over its zero bits */
                    flip = ~0u;
                    n = evo_bsl_list(p, in_b, y0, x0, flip, k, list);
                    n1 = (uint32_t)(k - n);
                } else {
                    n1 = (uint32_t)n;
                }
                while (n % EVO_BSL_BLOCK) {
                    list[n++] = 4 * k; /* the table's zero word */
                }
                for (g = 0; g < groups; ++g) {
                    const int32_t *x = init + (size_t)(2 * g + (flip ? 1 : 0)) * (planes + 1);
                    uint32_t word;
                    evo_bsl_start(x, flip ? n1 : 0u - n1, m, planes);
                    evo_bsl_blocks(list, table + (size_t)g * (k + 1), list + n, m);
                    word = evo_bsl_top(m, planes) ^ ~flip;
                    if (g == groups - 1 && tail) {
                        word &= (1u << tail) - 1u;
                    }
                    out[g] = (int32_t)word;
                }
            }
        }
    }
    return EVO_OK;
}
