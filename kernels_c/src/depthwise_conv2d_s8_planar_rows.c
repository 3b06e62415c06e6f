/* The row-streaming entry of evo_depthwise_conv2d_s8_planar (evo/inplace.h's contract: output may
 * overlap input). That kernel reads each input row only when copying it into its ring, before
 * writing the output row that first needs it, so it runs in place as it is, and the planner
 * reserves no input-row window for it (ROWS_NO_WINDOW in evo/codegen/lower.py). */
#include "evo/depthwise_fast.h"

evo_status_t evo_depthwise_conv2d_s8_planar_rows(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                                 const int32_t *wpack, const int32_t *qpack, int8_t *output,
                                                 void *scratch)
{
    if (p->in.n != 1 || p->out.n != 1) {
        return EVO_ERR_ARG;
    }
    return evo_depthwise_conv2d_s8_planar(p, input, wpack, qpack, output, scratch);
}
