/* Pooling kernels specialised at generation time for a core (evo/ops/pool.py's specialise()).
 * Same parameters and results as evo_avg_pool2d_s8 (evo/pool.h).
 *
 * evo_avg_pool2d_s8_simd (Cortex-M4/M7/M33, plain C elsewhere): four channels per word, window
 * sums in int16 lanes (SXTAB16 adds two sign-extended bytes per instruction). Exact when every
 * window holds at most 255 elements (|sum| <= 255 * 128 < 2^15); the generator checks that. */
#ifndef EVO_POOL_FAST_H
#define EVO_POOL_FAST_H

#include "evo/pool.h"

evo_status_t evo_avg_pool2d_s8_simd(const evo_avg_pool2d_params_t *p, const int8_t *input, int8_t *output);

#endif
