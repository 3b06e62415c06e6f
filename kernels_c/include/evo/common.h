/* Common definitions shared by every EVO kernel. Portable C99, no allocation, no globals. */
#ifndef EVO_COMMON_H
#define EVO_COMMON_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    EVO_OK = 0,
    EVO_ERR_ARG = -1, /* an argument is out of range */
} evo_status_t;

/* Shape of a 4-D NHWC tensor. */
typedef struct {
    int32_t n, h, w, c;
} evo_dims4_t;

/* Step a row-major (b, y, x) position over n x h x w (the output-pixel walks of the pool and
 * convolution kernels); 0 after the last position. */
static inline int evo_next_bhw(int32_t *b, int32_t *y, int32_t *x, int32_t n, int32_t h, int32_t w)
{
    if (++*x < w) {
        return 1;
    }
    *x = 0;
    if (++*y < h) {
        return 1;
    }
    *y = 0;
    return ++*b < n;
}

#define EVO_MIN(a, b) ((a) < (b) ? (a) : (b))
#define EVO_MAX(a, b) ((a) > (b) ? (a) : (b))
#define EVO_CLAMP(x, lo, hi) EVO_MIN(EVO_MAX((x), (lo)), (hi))

#endif
