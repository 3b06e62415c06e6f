/* LceBconv2d (BBConv2D), bit-packed output, channel pairs sharing each field load (evo/bnn_tiled.h). */
#include "evo/bnn_tiled.h"

evo_status_t evo_bconv2d_tiled_bin(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, const int32_t *row_pop,
                                   int32_t *output, int32_t *scratch)
{
    const int32_t *accum = scratch + p->field_words;
    evo_bconv2d_pixel_t px;
    int32_t w, j, more;
    for (more = evo_bconv2d_pixel_first(p, input, &px); more; more = evo_bconv2d_pixel_next(p, input, &px)) {
        int32_t *out = output + px.pix * p->out_words;
        (void)evo_bnn_count_pixel(p, filter, row_pop, &px, scratch); /* one-padding (or VALID) only */
        for (w = 0; w < p->out_words; ++w) {
            const int32_t c0 = 32 * w;
            const int32_t n = p->out.c - c0 < 32 ? p->out.c - c0 : 32;
            const int32_t *thr = p->threshold + c0, *cnt = accum + c0;
            uint32_t word = 0;
            /* Highest channel first: each step shifts the word up one bit. Counts and thresholds
             * lie in [-1, K] (K < 2^30): the sign of threshold - count is the bit. Four at a time
             * for the loop overhead. */
            for (j = n - 1; j >= 3; j -= 4) {
                word = (word << 1) | ((uint32_t)(thr[j] - cnt[j]) >> 31);
                word = (word << 1) | ((uint32_t)(thr[j - 1] - cnt[j - 1]) >> 31);
                word = (word << 1) | ((uint32_t)(thr[j - 2] - cnt[j - 2]) >> 31);
                word = (word << 1) | ((uint32_t)(thr[j - 3] - cnt[j - 3]) >> 31);
            }
            for (; j >= 0; --j) {
                word = (word << 1) | ((uint32_t)(thr[j] - cnt[j]) >> 31);
            }
            out[w] = (int32_t)word;
        }
    }
    return EVO_OK;
}
