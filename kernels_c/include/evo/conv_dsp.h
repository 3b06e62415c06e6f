/* CONV_2D and FULLY_CONNECTED (int8) for cores with the DSP extension (Cortex-M4/M7/M33),
 * specialised at generation time: the weights, bias and requantisation parameters come as one
 * int16 weight stream laid out by evo/ops/conv_dsp.py for the int16 matrix-product engine
 * (evo/mm_s16.h), which also documents the layout and the exact requantisation. The same C runs
 * on the host (portable twin of the engine), so the layout is tested there too. */
#ifndef EVO_CONV_DSP_H
#define EVO_CONV_DSP_H

#include "evo/common.h"

typedef struct {
    evo_dims4_t in;  /* input  N, H, W, C */
    evo_dims4_t out; /* output N, OH, OW, OC */
    int32_t kh, kw;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w; /* leading (top/left) padding */
    int32_t input_offset; /* -input zero point */
    int32_t act_min, act_max;
    int32_t scratch_bytes; /* evo_conv2d_s8_dsp_scratch_bytes */
} evo_conv2d_s8_dsp_params_t;

typedef struct {
    int32_t batches; /* input flattened to [batches, depth] */
    int32_t units;
    int32_t depth;
    int32_t input_offset;
    int32_t act_min, act_max;
    int32_t scratch_bytes; /* the widened input: 16 bytes per step of 4 depth, 8 for one batch */
} evo_fully_connected_s8_dsp_params_t;

/* `stream`: the weight stream; `bias` is folded into it and must be NULL. */
evo_status_t evo_conv2d_s8_dsp(const evo_conv2d_s8_dsp_params_t *p, const int8_t *input, const int32_t *stream,
                               const int32_t *bias, int8_t *output, void *scratch);
evo_status_t evo_fully_connected_s8_dsp(const evo_fully_connected_s8_dsp_params_t *p, const int8_t *input,
                                        const int32_t *stream, int8_t *output, void *scratch);
/* CONV_2D with the input widened in registers (conv2d_s8_dsp_direct.c): `stream` laid out by
 * quad_stream, `pad` kh > 1 ? row_bytes : kw * in_c bytes of the input zero point; dil_w 1 or kw 1. */
evo_status_t evo_conv2d_s8_dsp_direct(const evo_conv2d_s8_dsp_params_t *p, const int8_t *input, const int32_t *stream,
                                      const int8_t *pad, int8_t *output, void *scratch);
/* CONV_2D from a window of widened pixel pairs (conv2d_s8_dsp_win.c): no dilation, `stream` of the
 * pair layout with K in (fx, fy, c) order, c padded to a multiple of 4; runs in place as it is. */
evo_status_t evo_conv2d_s8_dsp_win(const evo_conv2d_s8_dsp_params_t *p, const int8_t *input, const int32_t *stream,
                                   const int32_t *bias, int8_t *output, void *scratch);
evo_status_t evo_conv2d_s8_dsp_win_rows(const evo_conv2d_s8_dsp_params_t *p, const int8_t *input, const int32_t *stream,
                                        const int32_t *bias, int8_t *output, void *scratch);
evo_status_t evo_conv2d_s8_dsp_direct_rows(const evo_conv2d_s8_dsp_params_t *p, const int8_t *input, const int32_t *stream,
                                           const int8_t *pad, int8_t *output, void *scratch);
static inline int32_t evo_conv2d_s8_dsp_direct_get_buffer_size(const evo_conv2d_s8_dsp_params_t *p) { return p->scratch_bytes; }
/* The same without scratch (scratch_bytes 0): the input is widened in registers per channel pair. */
evo_status_t evo_fully_connected_s8_dsp_direct(const evo_fully_connected_s8_dsp_params_t *p, const int8_t *input,
                                               const int32_t *stream, int8_t *output);

/* The stream's K: filter rows padded to whole steps when there are several (so interior pixels
 * widen row by row straight from the input), else kw * in_c. Twin of conv_row_bytes in
 * evo/ops/conv_dsp.py. */
static inline int32_t evo_conv2d_s8_dsp_row_bytes(const evo_conv2d_s8_dsp_params_t *p)
{
    const int32_t run = p->kw * p->in.c;
    return p->kh > 1 ? (run + 3) & ~3 : run;
}

/* Scratch: the widened input of a pixel pair (16 bytes per step), byte staging of two receptive
 * fields (4 bytes per step each, unless the convolution is 1x1 and reads the input directly). Twin
 * of conv_scratch_bytes in evo/ops/conv_dsp.py. */
static inline int32_t evo_conv2d_s8_dsp_scratch_bytes(const evo_conv2d_s8_dsp_params_t *p)
{
    const int32_t steps = (p->kh * evo_conv2d_s8_dsp_row_bytes(p) + 3) / 4;
    const int32_t stage = (p->kh == 1 && p->kw == 1) ? 0 : 8 * steps;
    return 16 * steps + stage;
}
/* Fields of at most this many bytes are staged on the stack by evo_conv2d_s8_dsp_direct's register
 * mode (first layers: a few channels), so it needs no arena scratch. */
#define EVO_DSP_STACK_FIELD 256
/* evo_conv2d_s8_dsp_direct's scratch: one staged receptive field (whole steps) when in_c is not a
 * multiple of 4 and the field is larger than EVO_DSP_STACK_FIELD, else none. Twin of
 * direct_scratch_bytes in evo/ops/conv_dsp.py. */
static inline int32_t evo_conv2d_s8_dsp_direct_scratch_bytes(const evo_conv2d_s8_dsp_params_t *p)
{
    const int32_t field = 4 * ((p->kh * evo_conv2d_s8_dsp_row_bytes(p) + 3) / 4);
    return (p->in.c & 3) != 0 && field > EVO_DSP_STACK_FIELD ? field : 0;
}
/* Its widened modes' scratch, one pixel (pairs 0) or two: 8 bytes per step each, plus a staged
 * field each (4 bytes per step) when in_c % 4. Twin of conv_direct in evo/ops/conv_dsp.py. */
static inline int32_t evo_conv2d_s8_dsp_widened_bytes(const evo_conv2d_s8_dsp_params_t *p, int pairs)
{
    const int32_t steps = (p->kh * evo_conv2d_s8_dsp_row_bytes(p) + 3) / 4;
    return (pairs ? 2 : 1) * ((p->in.c & 3) != 0 ? 12 : 8) * steps;
}
/* evo_conv2d_s8_dsp_win (no dilation): padded input columns in its window of widened
 * pixel pairs, for output pixel pairs (ox, ox + 1), ox even (an odd last pixel pairs with a dummy). */
static inline int32_t evo_conv2d_s8_dsp_win_columns(const evo_conv2d_s8_dsp_params_t *p)
{
    const int32_t pairs = (p->out.w + 1) / 2;
    return (2 * pairs - 2) * p->stride_w + p->kw;
}
/* Its scratch: the window (columns x kh slots x in_c rounded up to 4 words) and a dummy output
 * pixel. Twin of window_scratch_bytes in evo/ops/conv_dsp.py. */
static inline int32_t evo_conv2d_s8_dsp_win_scratch_bytes(const evo_conv2d_s8_dsp_params_t *p)
{
    return 4 * evo_conv2d_s8_dsp_win_columns(p) * p->kh * ((p->in.c + 3) & ~3) + ((p->out.c + 3) & ~3);
}
static inline int32_t evo_conv2d_s8_dsp_get_buffer_size(const evo_conv2d_s8_dsp_params_t *p) { return p->scratch_bytes; }

#endif
