/* The row-streaming entry of evo_conv2d_s8_dsp_win (evo/inplace.h's contract: output may overlap
 * input). That kernel reads each input row only when widening it into its window, before writing
 * the output row that first needs it, so it runs in place as it is, with no input-row window
 * (evo/codegen/lower.py ROWS_NO_WINDOW). */
#include "evo/conv_dsp.h"

evo_status_t evo_conv2d_s8_dsp_win_rows(const evo_conv2d_s8_dsp_params_t *p, const int8_t *input, const int32_t *stream,
                                        const int32_t *bias, int8_t *output, void *scratch)
{
    if (p->in.n != 1 || p->out.n != 1) {
        return EVO_ERR_ARG;
    }
    return evo_conv2d_s8_dsp_win(p, input, stream, bias, output, scratch);
}
