"""The scratch-free DSP depthwise kernel (evo_depthwise_conv2d_s8_direct, the lean variant of the
ring kernels) built for the host with plain-C twins of its DSP instructions: bit-exact with TFLM
on random shapes (channel tails, widths 1..9, strides, padding, clamps, both requantisation
modes). tests/qemu/test_kernels_qemu.py runs it on the cores."""
from __future__ import annotations

import numpy as np
import pytest

from evo.compiler import compile_graph
from evo.frontend.tflite_reader import read_tflite
from evo.inputs import random_inputs
from evo.target import Target
from evo.targets.host import HostModel
from evo.verify.tflm import run_tflm
from tests.property.test_depthwise_fast import _model


def _shapes(n: int, seed: int = 7) -> list[tuple]:
    rng = np.random.default_rng(seed)
    acts = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]
    out = []
    for i in range(n):
        k = [(3, 3), (3, 3), (5, 5), (2, 4), (3, 2), (1, 3)][i % 6]
        s = int(rng.integers(1, 3))
        out.append((int(rng.integers(k[0], 8)), int(rng.integers(1, 10)), [1, 3, 4, 5, 8, 64][int(rng.integers(0, 6))], *k,
                    (s, int(rng.integers(1, 3))), ["SAME", "VALID"][int(rng.integers(0, 2))], acts[int(rng.integers(0, 4))],
                    (int(rng.integers(-128, 128)), int(rng.integers(-128, 128))), bool(rng.integers(0, 2)), 1))
    return [sh for sh in out if sh[8] == "SAME" or (sh[0] >= sh[3] and sh[1] >= sh[4])]


SHAPES = [
    (25, 5, 64, 3, 3, (1, 1), "SAME", "RELU", (-128, -128), True, 1),  # KWS-like
    (7, 6, 10, 3, 3, (1, 1), "SAME", "NONE", (-128, 3), True, 1),  # channel tail
    (9, 9, 8, 3, 3, (2, 2), "SAME", "RELU6", (5, -128), True, 1),
    (8, 7, 13, 5, 5, (1, 1), "SAME", "NONE", (0, 0), True, 1),
] + _shapes(14)


def _direct(monkeypatch):
    """Every depthwise layer with a lean variant runs it (as the memory-first choice may)."""
    from evo.ops import depthwise_fast as dw

    fast = dw.pairs_call

    def last(c):  # the end of the lean chain (planar, blocked, direct)
        while c.lean is not None:
            c = c.lean
        return c

    monkeypatch.setattr(dw, "pairs_call", lambda g, op, p, call: last(fast(g, op, p, call)))


def _check(i, shape, monkeypatch, mode=None):
    from evo.ops import depthwise_fast as dw

    _direct(monkeypatch)
    if mode is not None:
        monkeypatch.setattr(dw, "requant_mode", lambda p, bound: mode)
    model = _model(i, *shape)
    g = read_tflite(model)
    inputs = random_inputs(g, i)
    want, _ = run_tflm(model, g, inputs)
    compiled = compile_graph(g, target=Target("M4"), prefer="speed")
    funcs = {s.call.func for s in compiled.program.steps if s.call is not None}
    direct = {"evo_depthwise_conv2d_s8_direct", "evo_depthwise_conv2d_s8_direct_rows"}  # _rows: in place
    one_channel = shape[2] == 1  # a depthwise layer on one input channel runs as a convolution (conv_dsp)
    assert bool(funcs & direct) == (shape[4] >= 2 and not one_channel), funcs
    assert not one_channel or any(f.startswith("evo_conv2d_s8_dsp") for f in funcs), funcs
    with HostModel.build(g, compiled=compiled) as m:
        got = m.run(inputs)
    for a, b in zip(got, want):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("i", range(len(SHAPES)))
def test_direct_depthwise_matches_tflm(i, monkeypatch):
    _check(i, SHAPES[i], monkeypatch)


@pytest.mark.parametrize("i", [0, 1, 3])
def test_direct_depthwise_exact_mode_matches_tflm(i, monkeypatch):
    from evo.ops import depthwise_fast as dw

    _check(i, SHAPES[i], monkeypatch, dw.MODE_EXACT)


def test_direct_is_the_lean_variant_without_scratch():
    from evo.ops import depthwise_fast as dw

    g = read_tflite(_model(0, *SHAPES[0]))
    compiled = compile_graph(g, target=Target("M4"), prefer="speed")
    call = next(s.call for s in compiled.program.steps if s.call is not None and "depthwise" in s.call.func)
    lean = call.lean
    while lean is not None and lean.lean is not None:  # KWS's rows: blocked first (tests/property/test_depthwise_blocked.py)
        lean = lean.lean
    assert lean is not None and lean.func == "evo_depthwise_conv2d_s8_direct" and lean.scratch_bytes == 0
    assert dw.MAX_TAPS == 32
