/* Dot products of one int16 vector with several int8 rows, the inner loop of the portable
 * convolution and fully-connected kernels. int16 x int8 (activations widened once, weights
 * widened in the loop) is the form gcc turns into multiply-add SIMD (pmaddwd on SSE2); the
 * int8 x int8 form vectorises far worse there. Four rows per pass reuse each loaded input. */
#ifndef EVO_DOT_S16_H
#define EVO_DOT_S16_H

#include <stddef.h>
#include <stdint.h>

/* acc[j] += sum_{i < m} x[i] * w[j * row_stride + i] for j < n. */
static inline void evo_dot_s16_s8_rows(const int16_t *x, int32_t m, const int8_t *w, size_t row_stride, int32_t n,
                                       int32_t *acc)
{
    int32_t j = 0, i;
    for (; j + 4 <= n; j += 4) {
        const int8_t *w0 = w + (size_t)j * row_stride;
        const int8_t *w1 = w0 + row_stride, *w2 = w1 + row_stride, *w3 = w2 + row_stride;
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (i = 0; i < m; ++i) {
            const int32_t xv = x[i];
            a0 += xv * w0[i];
            a1 += xv * w1[i];
            a2 += xv * w2[i];
            a3 += xv * w3[i];
        }
        acc[j] += a0;
        acc[j + 1] += a1;
        acc[j + 2] += a2;
        acc[j + 3] += a3;
    }
    for (; j < n; ++j) {
        const int8_t *w0 = w + (size_t)j * row_stride;
        int32_t a0 = 0;
        for (i = 0; i < m; ++i) {
            a0 += (int32_t)x[i] * w0[i];
        }
        acc[j] += a0;
    }
}

#endif
