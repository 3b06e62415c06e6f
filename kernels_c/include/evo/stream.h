/* Row-band streaming of fused spatial operator chains (EVO memory planner, evo/memory/stream.py).
 *
 * A fused group of operators (convolutions, depthwise convolutions, pooling, same-shape ADD,
 * RELU) runs as one
 * call: the intermediate tensors of the group never exist whole, only as line buffers of a few
 * rows in `scratch`. The compiler simulates the whole execution and emits a static program of
 * two instructions, which evo_stream_run interprets:
 *
 *   MOVE dst_region dst_off src_region src_off nbytes      memmove between regions
 *   CALL stage in_rows pad_top out_off n_in in_off...      one output row of one stage
 *
 * Regions: 0 = the line buffers (scratch), 1 = the group's output tensor, 2 + k = its input k.
 * CALL reads its inputs from line buffers (contiguous windows of input rows; in_rows and
 * pad_top describe the window of input 0) and writes one output row into a line buffer; the
 * group's output rows are then moved out. The kernels' own scratch follows the line buffers
 * (at `lines_bytes`). Each stage's row function runs its unchanged kernel on a one-row problem,
 * so results are bit-identical to the whole-tensor call. */
#ifndef EVO_STREAM_H
#define EVO_STREAM_H

#include <string.h>

#include "evo/common.h"
#include "evo/add_dsp.h"
#include "evo/conv.h"
#include "evo/conv_dsp.h"
#include "evo/conv_m0.h"
#include "evo/depthwise_fast.h"
#include "evo/elementwise.h"

#define EVO_STREAM_MOVE 0
#define EVO_STREAM_CALL 1
#define EVO_STREAM_MAX_INPUTS 2

/* One output row of a stage: `in` holds n_in window pointers, `in_rows` rows of input 0 starting
 * `pad_top` rows below the (possibly padded) top of the receptive field. */
typedef evo_status_t (*evo_stage_row_fn)(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top,
                                         void *out, void *scratch);

typedef struct {
    evo_stage_row_fn row;
    const void *stage; /* the kernel's params and constant operands (evo_*_stage_t) */
} evo_stream_stage_t;

typedef struct {
    const evo_stream_stage_t *stages;
    const int32_t *program;
    int32_t length;      /* int32 words in `program` */
    int32_t lines_bytes; /* line buffers at the start of scratch; kernel scratch follows */
} evo_stream_params_t;

typedef struct {
    const evo_conv2d_s8_params_t *p;
    const int8_t *filter;
    const int32_t *bias;
} evo_conv2d_s8_stage_t;

typedef struct {
    const evo_conv2d_s8_dsp_params_t *p;
    const int32_t *stream; /* evo/ops/conv_dsp.py quad_stream */
    const int8_t *pad;     /* the input zero point, one filter row's bytes */
} evo_conv2d_s8_dsp_stage_t;

typedef struct {
    const evo_depthwise_conv2d_s8_params_t *p;
    const int32_t *wpack; /* evo/ops/depthwise_fast.py pack_direct */
    const int32_t *qpack;
} evo_depthwise_conv2d_s8_direct_stage_t;

typedef struct {
    const evo_add_s8_dsp_params_t *p; /* for one row */
    const int32_t *table;
} evo_add_s8_dsp_stage_t;

typedef struct {
    const evo_conv2d_f32_params_t *p;
    const float *filter;
    const float *bias;
} evo_conv2d_f32_stage_t;

typedef struct {
    const evo_depthwise_conv2d_s8_params_t *p;
    const int8_t *filter;
    const int32_t *bias;
} evo_depthwise_conv2d_s8_stage_t;

typedef struct {
    const evo_depthwise_conv2d_f32_params_t *p;
    const float *filter;
    const float *bias;
} evo_depthwise_conv2d_f32_stage_t;

/* ADD and RELU stages take the kernel's params for one row (W * C elements) directly (the DSP
 * ADD with its table, evo_add_s8_dsp_stage_t); pooling
 * stages the kernel's params, whose heights the row function adjusts like a convolution's. */

evo_status_t evo_stream_run(const evo_stream_params_t *p, const void *const *inputs, void *output, void *scratch);

evo_status_t evo_conv2d_s8_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top, void *out,
                               void *scratch);
evo_status_t evo_conv2d_s8_dsp_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top, void *out,
                                   void *scratch);
evo_status_t evo_conv2d_f32_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top, void *out,
                                void *scratch);
evo_status_t evo_depthwise_conv2d_s8_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top,
                                         void *out, void *scratch);
evo_status_t evo_depthwise_conv2d_s8_direct_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top,
                                                void *out, void *scratch);
evo_status_t evo_depthwise_conv2d_f32_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top,
                                          void *out, void *scratch);
evo_status_t evo_add_s8_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top, void *out,
                            void *scratch);
evo_status_t evo_relu_s8_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top, void *out,
                         void *scratch);
evo_status_t evo_relu_f32_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top, void *out,
                         void *scratch);
evo_status_t evo_avg_pool2d_s8_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top, void *out,
                         void *scratch);
evo_status_t evo_avg_pool2d_f32_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top, void *out,
                         void *scratch);
evo_status_t evo_max_pool2d_s8_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top, void *out,
                         void *scratch);
evo_status_t evo_max_pool2d_f32_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top, void *out,
                         void *scratch);
evo_status_t evo_add_s8_dsp_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top, void *out,
                                void *scratch);
evo_status_t evo_add_f32_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top, void *out,
                             void *scratch);

/* The row function of a convolution-like stage: the wrapped kernel on a one-row problem. */
#define EVO_STAGE_ROW_BODY(ST, PT, T, KERNEL)                                                          \
    do {                                                                                               \
        const ST *s_ = (const ST *)stage;                                                              \
        PT q_ = *s_->p;                                                                                \
        q_.in.h = in_rows;                                                                             \
        q_.out.h = 1;                                                                                  \
        q_.pad_h = pad_top;                                                                            \
        return KERNEL(&q_, (const T *)in[0], s_->filter, s_->bias, (T *)out, scratch);                 \
    } while (0)

#endif
