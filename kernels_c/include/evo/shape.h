/* Data-movement kernels (RESHAPE, SQUEEZE, EXPAND_DIMS, PAD, PADV2, CONCATENATION, SPLIT,
 * SPLIT_V, PACK, UNPACK, STRIDED_SLICE, TRANSPOSE).
 *
 * Every kernel here is type-agnostic: it moves elements of `elem_size` bytes and never looks
 * at their values, so one kernel serves int8, int16, int32, float32 (and any other type of
 * size 1, 2, 4 or 8). Quantization passes through unchanged: EVO only accepts these ops when
 * input and output share their quantization, exactly like the bytes TFLM copies.
 *
 * Concatenation-like and split-like kernels take a variable number of tensors, passed as
 * trailing `...` pointer arguments (any object pointer type; they are read back as
 * `const void *` / `void *`). */
#ifndef EVO_SHAPE_H
#define EVO_SHAPE_H

#include "evo/common.h"

#define EVO_SHAPE_MAX_DIMS 6
#define EVO_PAD_MAX_DIMS 5

/* RESHAPE / SQUEEZE / EXPAND_DIMS when the planner does not alias output and input. */
typedef struct {
    int32_t nbytes;
} evo_copy_params_t;

evo_status_t evo_copy_any(const evo_copy_params_t *p, const void *input, void *output);

/* PAD / PADV2: shapes right-aligned to 5 dims (leading dims of size 1, no padding there).
 * `pad_value` points at one element of the tensor's type. */
typedef struct {
    int32_t elem_size;
    int32_t in_dims[EVO_PAD_MAX_DIMS];
    int32_t out_dims[EVO_PAD_MAX_DIMS];
    int32_t left[EVO_PAD_MAX_DIMS];
} evo_pad_params_t;

evo_status_t evo_pad_any(const evo_pad_params_t *p, const void *input, const void *pad_value,
                         void *output);

/* CONCATENATION / PACK: the output is `outer` rows of `row_bytes`; each row is the
 * concatenation of one `part_bytes[i]` chunk of each of the `count` inputs.
 * Call: evo_concatenation_any(&p, output, inputs) with inputs[count] pointers. */
typedef struct {
    int32_t count;
    int32_t outer;
    int32_t row_bytes;
    const int32_t *part_bytes;
} evo_concatenation_params_t;

evo_status_t evo_concatenation_any(const evo_concatenation_params_t *p, void *output, const void *const *inputs);

/* SPLIT / SPLIT_V / UNPACK: the inverse of concatenation.
 * Call: evo_split_any(&p, input, outputs) with outputs[count] pointers. */
typedef struct {
    int32_t count;
    int32_t outer;
    int32_t row_bytes;
    const int32_t *part_bytes;
} evo_split_params_t;

evo_status_t evo_split_any(const evo_split_params_t *p, const void *input, void *const *outputs);

/* STRIDED_SLICE: output element (i0..i5), in row-major order, is input element
 * start + sum(i_k * step[k]) (steps in elements, possibly negative). */
typedef struct {
    int32_t elem_size;
    int32_t start;
    int32_t count[EVO_SHAPE_MAX_DIMS];
    int32_t step[EVO_SHAPE_MAX_DIMS];
} evo_strided_slice_params_t;

evo_status_t evo_strided_slice_any(const evo_strided_slice_params_t *p, const void *input,
                                   void *output);

/* TRANSPOSE: output dims `count` (right-aligned to 6 dims); `step[k]` is the input stride
 * (in elements) of the input axis that output axis k reads. */
typedef struct {
    int32_t elem_size;
    int32_t count[EVO_SHAPE_MAX_DIMS];
    int32_t step[EVO_SHAPE_MAX_DIMS];
} evo_transpose_params_t;

evo_status_t evo_transpose_any(const evo_transpose_params_t *p, const void *input, void *output);

#endif
