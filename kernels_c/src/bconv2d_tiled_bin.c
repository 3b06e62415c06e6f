/* LceBconv2d (BBConv2D), bit-packed output, channel pairs sharing each field load (evo/bnn_tiled.h). */
#include "evo/bnn_tiled.h"

evo_status_t evo_bconv2d_tiled_bin(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, int32_t *output, int32_t *scratch)
{
    const int32_t *accum = scratch + p->field_words;
    evo_bconv2d_pixel_t px;
    int32_t co, more;
    for (more = evo_bconv2d_pixel_first(p, input, &px); more; more = evo_bconv2d_pixel_next(p, input, &px)) {
        int32_t *out = output + px.pix * p->out_words;
        uint32_t word = 0;
        (void)evo_bnn_count_pixel(p, filter, &px, scratch); /* one-padding (or VALID) only */
        for (co = 0; co < p->out.c; ++co) {
            word |= (uint32_t)(accum[co] > p->threshold[co]) << (co & 31);
            if ((co & 31) == 31 || co == p->out.c - 1) {
                out[co >> 5] = (int32_t)word;
                word = 0;
            }
        }
    }
    return EVO_OK;
}
