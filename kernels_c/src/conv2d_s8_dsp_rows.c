/* evo_conv2d_s8_dsp computed so that its output may overlap its input (in-place execution; see
 * evo/inplace.h for the row-streaming safety argument and the planner's offset delta <= 0).
 *
 * A 1x1 convolution with out_c <= in_c needs no row window: the kernel widens output pixels q and
 * q + 1 (input pixels at index >= q, stride >= 1) before it stores them, and those stores end at
 * byte delta + (q + 2) * out_c <= (q + 2) * in_c, where the input of the pixels still to be read
 * begins. So it runs directly on the arena (pairing pixels across rows, no row copies). */
#include "evo/inplace.h"

evo_status_t evo_conv2d_s8_dsp_rows(const evo_conv2d_s8_dsp_params_t *p, const int8_t *input, const int32_t *filter,
        const int32_t *bias, int8_t *output, void *scratch)
{
    if (p->kh == 1 && p->kw == 1 && p->out.c <= p->in.c && p->in.n == 1) {
        return evo_conv2d_s8_dsp(p, input, filter, bias, output, scratch);
    }
    EVO_ROWSTREAM_BODY(evo_conv2d_s8_dsp_params_t, int8_t, evo_conv2d_s8_dsp);
}
