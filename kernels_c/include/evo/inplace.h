/* In-place execution and memory-movement kernels (EVO memory planner).
 *
 * Row streaming: evo_<conv>_rows(...) computes the same result as evo_<conv>(...) one output
 * row at a time, so that the output may overlap the input in the arena. `scratch` starts with
 * the wrapped kernel's own buffer (evo_<conv>_get_buffer_size bytes); input rows are copied
 * into the rest of it (a sliding window of at most KH (dilated) rows) the first time an output row
 * needs them; each output row is then computed by the unchanged kernel from the window alone
 * (a 1-row problem with adjusted height and top padding) and written to the arena. The kernel
 * therefore never reads arena memory that an earlier output row has overwritten, whatever its
 * internal loop order. The planner places the output at offset(input) + delta with
 * delta <= min over input rows i of (i * in_row_bytes - r(i) * out_row_bytes), where r(i) is
 * the first output row whose window contains row i (evo/memory/inplace.py computes it):
 * output rows written before row i is copied end before row i starts. Batch must be 1.
 *
 * evo_move_bytes: copy-out / copy-in of evicted tensors between the arena and the external
 * memory (replacement strategy). */
#ifndef EVO_INPLACE_H
#define EVO_INPLACE_H

#include <string.h>

#include "evo/common.h"
#include "evo/conv.h"
#include "evo/conv_dsp.h"

/* Rows [lo, hi) of the input are held contiguously at the start of the scratch buffer. */
typedef struct {
    int32_t lo, hi;
} evo_rowwin_t;

/* Make the window hold input rows [w0, w1) (w0, w1 never decrease from call to call). */
static inline void evo_rowwin_slide(evo_rowwin_t *s, uint8_t *scratch, const uint8_t *input, size_t row_bytes, int32_t w0,
                                    int32_t w1)
{
    if (w0 >= s->hi) {
        s->lo = w0;
        s->hi = w0;
    } else if (w0 > s->lo) {
        memmove(scratch, scratch + (size_t)(w0 - s->lo) * row_bytes, (size_t)(s->hi - w0) * row_bytes);
        s->lo = w0;
    }
    if (w1 > s->hi) {
        memcpy(scratch + (size_t)(s->hi - s->lo) * row_bytes, input + (size_t)s->hi * row_bytes,
               (size_t)(w1 - s->hi) * row_bytes);
        s->hi = w1;
    }
}

/* The body shared by every row-streaming wrapper: PT is the params type, T the element type,
 * KERNEL the wrapped kernel (params, input, filter, bias, output, scratch). */
#define EVO_ROWSTREAM_BODY(PT, T, KERNEL)                                                              \
    do {                                                                                               \
        const size_t in_row_ = (size_t)p->in.w * (size_t)p->in.c;                                      \
        const size_t out_row_ = (size_t)p->out.w * (size_t)p->out.c;                                   \
        evo_rowwin_t win_ = {0, 0};                                                                    \
        uint8_t *const window_ = (uint8_t *)scratch + KERNEL##_get_buffer_size(p);                     \
        int32_t r_;                                                                                    \
        if (p->in.n != 1 || p->out.n != 1) {                                                           \
            return EVO_ERR_ARG;                                                                        \
        }                                                                                              \
        for (r_ = 0; r_ < p->out.h; ++r_) {                                                            \
            const int32_t top_ = r_ * p->stride_h - p->pad_h;                                          \
            const int32_t bottom_ = top_ + (p->kh - 1) * p->dil_h + 1;                                 \
            const int32_t w0_ = EVO_CLAMP(top_, 0, p->in.h);                                           \
            const int32_t w1_ = EVO_MAX(EVO_CLAMP(bottom_, 0, p->in.h), w0_);                          \
            PT q_ = *p;                                                                                \
            evo_status_t st_;                                                                          \
            evo_rowwin_slide(&win_, window_, (const uint8_t *)input, in_row_ * sizeof(T), w0_, w1_);     \
            q_.in.h = w1_ - w0_;                                                                       \
            q_.out.h = 1;                                                                              \
            q_.pad_h = w0_ - top_;                                                                     \
            st_ = KERNEL(&q_, (const T *)(const void *)window_, filter, bias, output + (size_t)r_ * out_row_, scratch); \
            if (st_ != EVO_OK) {                                                                       \
                return st_;                                                                            \
            }                                                                                          \
        }                                                                                              \
        return EVO_OK;                                                                                 \
    } while (0)

evo_status_t evo_conv2d_s8_dsp_rows(const evo_conv2d_s8_dsp_params_t *p, const int8_t *input, const int32_t *filter,
                                    const int32_t *bias, int8_t *output, void *scratch);
evo_status_t evo_conv2d_s8_rows(const evo_conv2d_s8_params_t *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, int8_t *output, void *scratch);
evo_status_t evo_conv2d_f32_rows(const evo_conv2d_f32_params_t *p, const float *input, const float *filter,
                                 const float *bias, float *output, void *scratch);
evo_status_t evo_depthwise_conv2d_s8_rows(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                          const int8_t *filter, const int32_t *bias, int8_t *output, void *scratch);
evo_status_t evo_depthwise_conv2d_f32_rows(const evo_depthwise_conv2d_f32_params_t *p, const float *input,
                                           const float *filter, const float *bias, float *output, void *scratch);

/* Copy `nbytes` from src to dst (arena <-> external memory; the two never overlap). */
evo_status_t evo_move_bytes(const void *src, void *dst, int32_t nbytes);

#endif
