"""evo/requant_block.h (the vectorisable requantisation of a block of channels) gives exactly
evo_requantize's results: every shift TFLM can produce, multipliers at the edges of their range,
accumulators from small values to the int32 extremes, and ties of both roundings (small
accumulators with small shifts hit them often). Block lengths 1..16 cover the vector bodies
and their remainders."""
from __future__ import annotations

import subprocess

from tests.support.kernels import KERNELS, STRICT_FLAGS

PROGRAM = r"""
#include <stdio.h>
#include "evo/fixedpoint.h"
#include "evo/requant_block.h"

static uint64_t state = 88172645463325252ull;
static uint32_t rnd(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)state;
}

static int32_t pick_acc(void)
{
    switch (rnd() % 5) {
    case 0: return (int32_t)rnd();
    case 1: return (int32_t)(rnd() % 2000000u) - 1000000;
    case 2: return (int32_t)(rnd() % 400u) - 200;
    case 3: return (rnd() & 1u) ? INT32_MIN + (int32_t)(rnd() % 5u) : INT32_MAX - (int32_t)(rnd() % 5u);
    default: return (int32_t)(rnd() % 70000u) - 35000;
    }
}

static int32_t pick_mult(void)
{
    switch (rnd() % 5) {
    case 0: return 0;
    case 1: return INT32_MAX;
    case 2: return 1 << 30;
    default: return (int32_t)((rnd() >> 1) | (1u << 30));
    }
}

int main(void)
{
    long bad = 0, checked = 0;
    int32_t shift_value, it, j;
    for (shift_value = -31; shift_value <= 30; ++shift_value) {
        for (it = 0; it < 3000; ++it) {
            int32_t mult[EVO_RQ_LANES], shift[EVO_RQ_LANES], acc[EVO_RQ_LANES];
            int8_t out[EVO_RQ_LANES];
            const int32_t n = 1 + (int32_t)(rnd() % EVO_RQ_LANES);
            const int32_t off = (int32_t)(rnd() % 256u) - 128;
            const int32_t lo = (rnd() & 1u) ? -128 : off, hi = (rnd() & 1u) ? 127 : EVO_MIN(off + 6, 127);
            evo_rq_block_t rq;
            for (j = 0; j < n; ++j) {
                /* mostly this iteration's shift; some lanes with another one */
                shift[j] = (rnd() % 4u) ? shift_value : (int32_t)(rnd() % 62u) - 31;
                mult[j] = pick_mult();
                acc[j] = pick_acc();
            }
            if (!evo_rq_block_init(&rq, mult, shift, n)) {
                printf("init refused a valid block\n");
                return 1;
            }
            evo_rq_block_s8(&rq, acc, n, off, lo, hi, out);
            for (j = 0; j < n; ++j) {
                int32_t want = evo_requantize(acc[j], mult[j], shift[j]) + off;
                want = EVO_CLAMP(want, lo, hi);
                ++checked;
                if (want != out[j] && bad++ < 5) {
                    printf("x=%d m=%d s=%d want %d got %d\n", acc[j], mult[j], shift[j], want, out[j]);
                }
            }
        }
    }
    {
        /* out-of-range channels are reported, not computed wrongly */
        const int32_t neg_mult[1] = {-5}, ok_shift[1] = {0}, ok_mult[1] = {1 << 30}, big_shift[1] = {31};
        evo_rq_block_t rq;
        if (evo_rq_block_init(&rq, neg_mult, ok_shift, 1) || evo_rq_block_init(&rq, ok_mult, big_shift, 1)) {
            printf("init accepted an out-of-range channel\n");
            return 1;
        }
    }
    printf("%ld mismatches in %ld\n", bad, checked);
    return bad != 0;
}
"""


def test_block_requantisation_matches_scalar(tmp_path):
    src = tmp_path / "rq.c"
    src.write_text(PROGRAM)
    exe = tmp_path / "rq"
    for opt in ("-O3", "-O0"):  # vectorised and plain code paths
        flags = [f for f in STRICT_FLAGS if not f.startswith("-O")] + [opt]
        build = subprocess.run(["gcc", *flags, "-I", str(KERNELS / "include"), "-o", str(exe), str(src)],
                               capture_output=True, text=True)
        assert build.returncode == 0, build.stderr
        run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr
        assert run.stdout.startswith("0 mismatches"), run.stdout
