/* evo_conv2d_s8_mve computed so that its output may overlap its input (in-place execution; see
 * evo/inplace.h for the row-streaming safety argument). Every output row reads its input rows
 * from the window copy: the kernel re-reads a pixel's row for each group of four channels, so
 * even a 1x1 convolution must not read the arena it writes. */
#include "evo/inplace.h"
#include "evo/mve.h"

evo_status_t evo_conv2d_s8_mve_rows(const evo_conv2d_s8_mve_params_t *p, const int8_t *input, const int8_t *filter,
                                    const int32_t *bias, int8_t *output, void *scratch)
{
    EVO_ROWSTREAM_BODY(evo_conv2d_s8_mve_params_t, int8_t, evo_conv2d_s8_mve);
}
