/* evo_conv2d_s8_dsp_direct computed so that its output may overlap its input: the row-streaming
 * wrapper of evo/inplace.h (input rows copied into a window after the kernel's own scratch). */
#include "evo/inplace.h"

evo_status_t evo_conv2d_s8_dsp_direct_rows(const evo_conv2d_s8_dsp_params_t *p, const int8_t *input, const int32_t *filter,
                                           const int8_t *bias, int8_t *output, void *scratch)
{
    EVO_ROWSTREAM_BODY(evo_conv2d_s8_dsp_params_t, int8_t, evo_conv2d_s8_dsp_direct);
}
