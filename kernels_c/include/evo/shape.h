/* Data-movement kernels (RESHAPE, SQUEEZE, EXPAND_DIMS, PAD, PADV2, CONCATENATION, SPLIT,
 * SPLIT_V, PACK, UNPACK, STRIDED_SLICE, TRANSPOSE).
 *
 * Every kernel here is type-agnostic: it moves elements of `elem_size` bytes and never looks
 * at their values, so one kernel serves int8, int16, int32, float32 (and any other type of
 * size 1, 2, 4 or 8). Quantization passes through unchanged: EVO only accepts these ops when
 * input and output share their quantization, exactly like the bytes TFLM copies.
 *
 * Concatenation-like and split-like kernels take a variable number of tensors, passed as an
 * array of pointers (`const void *const *` inputs / `void *const *` outputs). */
#ifndef EVO_SHAPE_H
#define EVO_SHAPE_H

#include <string.h>

#include "evo/common.h"

#define EVO_SHAPE_MAX_DIMS 6
#define EVO_PAD_MAX_DIMS 5

/* The 6-D strided gather behind STRIDED_SLICE and TRANSPOSE: output element (i0..i5), in
 * row-major order, is input element start + sum(i_k * step[k]) (steps in elements, possibly
 * negative); a unit innermost step copies whole runs. */
static inline void evo_strided_gather(const uint8_t *in, uint8_t *out, size_t es, int32_t start,
                                      const int32_t *n, const int32_t *s)
{
    int32_t i0, i1, i2, i3, i4, i5;
    for (i0 = 0; i0 < n[0]; ++i0) {
        const int32_t o0 = start + i0 * s[0];
        for (i1 = 0; i1 < n[1]; ++i1) {
            const int32_t o1 = o0 + i1 * s[1];
            for (i2 = 0; i2 < n[2]; ++i2) {
                const int32_t o2 = o1 + i2 * s[2];
                for (i3 = 0; i3 < n[3]; ++i3) {
                    const int32_t o3 = o2 + i3 * s[3];
                    for (i4 = 0; i4 < n[4]; ++i4) {
                        const int32_t o4 = o3 + i4 * s[4];
                        if (s[5] == 1) {
                            memcpy(out, in + (ptrdiff_t)o4 * (ptrdiff_t)es, (size_t)n[5] * es);
                            out += (size_t)n[5] * es;
                        } else {
                            for (i5 = 0; i5 < n[5]; ++i5) {
                                memcpy(out, in + (ptrdiff_t)(o4 + i5 * s[5]) * (ptrdiff_t)es, es);
                                out += es;
                            }
                        }
                    }
                }
            }
        }
    }
}

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
