"""The Cortex-M0 engine's requantisations (evo/conv_m0.h: RQ16, the doubled accumulator's high
product from 16-bit pieces; RQ11, the accumulator times 11-bit pieces of the multiplier; rounding,
zero point and clamp folded into one constant) called through the C twin of
kernels_c/src/mm_s8_m0.c with streams built by evo/ops/conv_m0.py, against TFLM's
MultiplyByQuantizedMultiplier: multipliers at the ends of their range (and 0), every right shift
the modes take, accumulators up to each mode's limit, exact ties of both roundings, small
negatives (the [a < 0] rounding term), both clamp kinds; and the exact mode (left shifts)
through the same stream."""
from __future__ import annotations

import numpy as np
import pytest

from evo.ops import conv_m0
from evo.ref import fixedpoint as fx
from tests.support.kernels import header_cdef, load_kernels

LIMITS = {conv_m0.MODE_FAST: (1 << 29) - 1, conv_m0.MODE_FAST11: (1 << 20) - 1}  # RQ16: |2a| < 2^30; RQ11: |a| < 2^20


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    return load_kernels(tmp_path_factory.mktemp("m0rq"), ["mm_s8_m0.c"], header_cdef("conv_m0.h"))


def _accumulators(rng, n: int, e: np.ndarray, mult: np.ndarray, limit: int) -> np.ndarray:
    kind = rng.integers(0, 6, n)
    a = rng.integers(-limit, limit + 1, n)
    a = np.where(kind == 1, rng.integers(-300, 301, n), a)
    a = np.where(kind == 2, rng.choice([-limit, limit, -limit + 1, limit - 1, 0, -1, 1], n), a)
    # ties of the final rounding when M = 2^30 (a * 2^-(e+1)): a = (2j + 1) 2^e
    j = rng.integers(-(1 << 10), 1 << 10, n)
    a = np.where((kind == 3) & (mult == 1 << 30), (2 * j + 1) << e, a)
    a = np.where(kind == 4, rng.integers(-(1 << 20), 1 << 20, n), a)
    return np.clip(a, -limit, limit)


def _run(engine, a: np.ndarray, p: dict, mode: int) -> np.ndarray:
    ffi, lib = engine
    n = a.size
    stream = conv_m0.build_stream(np.ones((n, 1), dtype=np.int64), a.astype(np.int64), p, mode)
    x = ffi.new("int8_t[1]", [0])
    s = ffi.from_buffer("int32_t[]", np.ascontiguousarray(stream))
    rq = ffi.new("evo_m0_rq_t *", {"mode": mode, "act_min": p["act_min"], "act_max": p["act_max"], "lanes": 4})
    out = ffi.new("int8_t[]", n)
    lib.evo_mm_s8_m0(x, 1, s, n, rq, out)
    return np.frombuffer(ffi.buffer(out), dtype=np.int8).astype(np.int64)


@pytest.mark.parametrize("mode", [conv_m0.MODE_FAST, conv_m0.MODE_FAST11])
@pytest.mark.parametrize("trial", range(30))
def test_fast_requantisation_matches_tflm(engine, trial, mode):
    rng = np.random.default_rng(trial)
    n = 4001  # not a multiple of 4: the last block's padding channels
    limit = LIMITS[mode]
    e = rng.integers(1, 23 if mode == conv_m0.MODE_FAST else 14, n)
    mult = rng.choice([1 << 30, (1 << 31) - 1, (1 << 30) + 1, 0], n, p=[0.5, 0.2, 0.2, 0.1])
    mult = np.where(rng.random(n) < 0.5, rng.integers(1 << 30, 1 << 31, n), mult)
    zp = int(rng.integers(-128, 128))
    lo, hi = (-128, 127) if trial % 2 else (max(zp, -128), min(zp + int(rng.integers(1, 200)), 127))
    p = {"multiplier": mult, "shift": -e, "output_offset": zp, "act_min": lo, "act_max": hi, "input_offset": 0}
    a = _accumulators(rng, n, e, mult, limit)
    bound = np.full(n, limit)
    assert (conv_m0.fast11_ok if mode == conv_m0.MODE_FAST11 else conv_m0.fast16_ok)(p, bound)
    want = np.clip(fx.multiply_by_quantized_multiplier(a, mult, -e) + zp, lo, hi)
    got = _run(engine, a, p, mode)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, [(int(a[i]), int(mult[i]), int(e[i]), int(got[i]), int(want[i])) for i in bad[:5]]


def test_exact_mode_matches_tflm(engine):
    """Left shifts (real multipliers >= 0.5) and accumulators up to |2a| < 2^31."""
    rng = np.random.default_rng(7)
    n = 2003
    shift = rng.integers(-3, 8, n)
    mult = rng.integers(1 << 30, 1 << 31, n)
    a = np.clip(rng.integers(-(1 << 30) + 1, 1 << 30, n) >> rng.integers(0, 30, n), -(1 << 30) + 1, (1 << 30) - 1)
    p = {"multiplier": mult, "shift": shift, "output_offset": -5, "act_min": -128, "act_max": 127, "input_offset": 0}
    assert conv_m0.requant_mode(p, np.abs(a)) == conv_m0.MODE_EXACT
    want = np.clip(fx.multiply_by_quantized_multiplier(a, mult, shift) - 5, -128, 127)
    assert np.array_equal(_run(engine, a, p, conv_m0.MODE_EXACT), want)


def test_mode_limits():
    p = {"multiplier": np.array([1 << 30]), "shift": np.array([-3]), "output_offset": 0, "act_min": -128, "act_max": 127}
    assert conv_m0.requant_mode(p, np.array([(1 << 20) - 1])) == conv_m0.MODE_FAST11
    assert conv_m0.requant_mode(p, np.array([1 << 20])) == conv_m0.MODE_FAST
    assert conv_m0.requant_mode(p, np.array([(1 << 29) - 1])) == conv_m0.MODE_FAST
    assert conv_m0.requant_mode(p, np.array([1 << 29])) == conv_m0.MODE_EXACT  # |2a| may reach 2^30
    assert conv_m0.requant_mode(p, np.array([(1 << 30) - 1])) == conv_m0.MODE_EXACT
    assert conv_m0.requant_mode(p, np.array([1 << 30])) is None  # the doubled sum could overflow int32
    p["shift"] = np.array([0])
    assert conv_m0.requant_mode(p, np.array([5])) == conv_m0.MODE_EXACT
