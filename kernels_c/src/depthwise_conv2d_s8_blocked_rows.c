/* The row-streaming entry of evo_depthwise_conv2d_s8_blocked (evo/inplace.h's contract: output may
 * overlap input). That kernel reads each input row of a channel group only when widening it into
 * its ring, before writing the group's output rows that overlap it, and checks that the output
 * starts a whole number of pixels before the input; so it runs in place as it is, with no
 * input-row window (the planner reserves none for it). */
#include "evo/depthwise_fast.h"

evo_status_t evo_depthwise_conv2d_s8_blocked_rows(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                                  const int32_t *wpack, const int32_t *qpack, int8_t *output,
                                                  void *scratch)
{
    if (p->in.n != 1 || p->out.n != 1) {
        return EVO_ERR_ARG;
    }
    return evo_depthwise_conv2d_s8_blocked(p, input, wpack, qpack, output, scratch);
}
