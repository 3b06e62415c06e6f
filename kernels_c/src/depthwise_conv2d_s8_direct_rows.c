/* The row-streaming entry of evo_depthwise_conv2d_s8_direct (evo/inplace.h's contract: output may
 * overlap input). */
#include <string.h>

#include "evo/depthwise_fast.h"

/* Its scratch is the planner's input-row window, (kh - 1) * dil_h + 1 rows, used here as a ring: each input row is
 * copied once, into slot (row mod span), at the first output row that needs it and before that
 * row is written (the window's safety argument), and the kernel reads the ring only. */
evo_status_t evo_depthwise_conv2d_s8_direct_rows(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                                 const int32_t *wpack, const int32_t *qpack, int8_t *output, void *scratch)
{
    const int32_t ih = p->in.h, span = (p->kh - 1) * p->dil_h + 1;
    const size_t in_row = (size_t)p->in.w * p->in.c, out_row = (size_t)p->out.w * p->out.c;
    int8_t *const ring = (int8_t *)scratch;
    const int8_t *rows[EVO_DWD_MAX_TAPS];
    int32_t next = 0, oy, fy; /* next: first input row not yet in the ring */

    if (p->in.n != 1 || p->out.n != 1 || p->in.c != p->out.c || p->depth_multiplier != 1 ||
        p->kh < 1 || p->kw < 1 || p->kh * p->kw > EVO_DWD_MAX_TAPS || p->stride_h < 1 || p->dil_h < 1 || ring == NULL ||
        qpack[0] < EVO_DWP_MODE_FAST || qpack[0] > EVO_DWP_MODE_EXACT) {
        return EVO_ERR_ARG;
    }
    for (oy = 0; oy < p->out.h; ++oy) {
        const int32_t top = oy * p->stride_h - p->pad_h;
        const int32_t end = top + span < ih ? top + span : ih;
        for (next = next > top ? next : (top > 0 ? top : 0); next < end; ++next) {
            memcpy(ring + (size_t)(next % span) * in_row, input + (size_t)next * in_row, in_row);
        }
        for (fy = 0; fy < p->kh; ++fy) {
            const int32_t iy = top + fy * p->dil_h;
            rows[fy] = (iy >= 0 && iy < ih) ? ring + (size_t)(iy % span) * in_row : NULL;
        }
        evo_depthwise_conv2d_s8_direct_row_of(p, rows, wpack, qpack, output);
        output += out_row;
    }
    return EVO_OK;
}
