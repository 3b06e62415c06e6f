/* STRIDED_SLICE for any element size: a 6-D strided gather. Python resolves masks, negative
 * indices and clamping (as TFLM's Eval does) into a start offset, per-axis counts and steps. */
#include <string.h>

#include "evo/shape.h"

static void copy_elem(uint8_t *dst, const uint8_t *src, size_t es)
{
    switch (es) {
    case 1: *dst = *src; break;
    case 2: memcpy(dst, src, 2); break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, es); break;
    }
}

evo_status_t evo_strided_slice_any(const evo_strided_slice_params_t *p, const void *input,
                                   void *output)
{
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    const size_t es = (size_t)p->elem_size;
    const int32_t *n = p->count;
    const int32_t *s = p->step;
    int32_t i0, i1, i2, i3, i4, i5;

    if (p->elem_size <= 0) {
        return EVO_ERR_ARG;
    }
    for (i0 = 0; i0 < n[0]; ++i0) {
        const int32_t o0 = p->start + i0 * s[0];
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
                                copy_elem(out, in + (ptrdiff_t)(o4 + i5 * s[5]) * (ptrdiff_t)es, es);
                                out += es;
                            }
                        }
                    }
                }
            }
        }
    }
    return EVO_OK;
}
