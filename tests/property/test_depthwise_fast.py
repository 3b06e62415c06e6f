"""The core-specialised depthwise kernels (evo/ops/depthwise_fast.py) built for the host: the
re-laid-out weights and the fast requantisation give TFLM's int8 results bit for bit. The tap-pair
kernel compiles with plain-C twins of its DSP instructions here, so these cases check the layout
and the arithmetic; tests/qemu/test_kernels_qemu.py runs the same kernels on the cores."""
from __future__ import annotations

import numpy as np
import pytest

from evo.compiler import compile_graph
from evo.frontend.tflite_reader import read_tflite
from evo.inputs import random_inputs
from evo.target import Target
from evo.targets.host import HostModel
from evo.verify.tflm import run_tflm
from tests.property.test_conv import _conv_model

# (h, w, channels, kh, kw, stride, padding, activation, zero points, per_channel, mult)
SHAPES = [
    (25, 5, 64, 3, 3, (1, 1), "SAME", "RELU", (-128, -128), True, 1),  # KWS-like
    (9, 9, 8, 3, 3, (2, 2), "SAME", "RELU6", (5, -128), True, 1),  # stride 2 (one weight layout)
    (7, 6, 10, 3, 3, (1, 1), "SAME", "NONE", (-128, 3), True, 1),  # channel tail (10 = 2 quads + 2)
    (6, 11, 1, 3, 3, (1, 2), "VALID", "RELU_N1_TO_1", (127, -5), False, 1),  # one channel, clamp
    (5, 8, 70, 3, 3, (2, 1), "SAME", "RELU6", (-3, 7), True, 1),  # 70 channels, non-square strides
    (8, 7, 13, 5, 5, (1, 1), "SAME", "NONE", (0, 0), True, 1),  # 5x5: three tap pairs
    (6, 9, 7, 2, 4, (1, 3), "VALID", "RELU", (-100, -128), True, 1),  # even kernel width, stride 3
    (7, 5, 5, 1, 1, (1, 1), "VALID", "NONE", (12, -12), False, 1),  # 1x1: portable kernel (kw = 1)
    (4, 10, 33, 3, 2, (2, 2), "SAME", "NONE", (-128, 0), True, 1),
    (5, 5, 3, 3, 3, (1, 1), "SAME", "RELU6", (-128, -128), True, 2),  # multiplier 2: portable kernel
    (6, 7, 1, 3, 3, (1, 1), "SAME", "RELU", (9, -128), True, 4),  # one input channel, multiplier 4
    (49, 40, 1, 10, 8, (2, 2), "SAME", "RELU", (-128, -128), True, 8),  # micro_speech's layer
    # channel-planar kernel (3x3, stride_w 1 or 2): widths 1..9, odd/even/1 channels, clamps
    (5, 1, 1, 3, 3, (1, 1), "SAME", "RELU6", (3, -128), True, 1),
    (6, 4, 3, 3, 3, (1, 1), "VALID", "NONE", (-7, 20), True, 1),
    (4, 9, 8, 3, 3, (1, 2), "SAME", "RELU_N1_TO_1", (-128, 4), True, 1),
    (7, 3, 5, 3, 3, (2, 2), "VALID", "RELU", (100, -100), False, 1),
    (5, 7, 64, 3, 3, (1, 1), "SAME", "NONE", (-1, 0), True, 1),
    (6, 8, 3, 3, 3, (1, 2), "VALID", "RELU6", (-128, -128), True, 1),
    (3, 6, 9, 3, 3, (2, 1), "SAME", "RELU", (0, -128), True, 1),
    (4, 2, 1, 3, 3, (1, 1), "SAME", "NONE", (-128, 127), False, 1),
    (3, 5, 2, 3, 3, (1, 2), "SAME", "NONE", (20, -3), True, 1),
]


def _model(i, h, w, c, kh, kw, stride, pad, act, zps, per_channel, mult):
    rng = np.random.default_rng(100 + i)
    return _conv_model(seed=100 + i, dt="int8", n=1 + (i % 3 == 2), h=h, w=w, cin=c, cout=0, kh=kh, kw=kw, stride=stride,
                       dil=(1, 1), pad=pad, act=act, per_channel=per_channel, bias=True, in_zp=zps[0], out_zp=zps[1],
                       in_scale=float(10 ** rng.uniform(-2, 0)), out_scale=float(10 ** rng.uniform(-1.5, 0.5)),
                       depthwise=True, mult=mult)


@pytest.mark.parametrize("core", ["M4", "M0"])
@pytest.mark.parametrize("i", range(len(SHAPES)))
def test_specialised_depthwise_matches_tflm(i, core):
    model = _model(i, *SHAPES[i])
    g = read_tflite(model)
    inputs = random_inputs(g, i)
    want, _ = run_tflm(model, g, inputs)
    compiled = compile_graph(g, target=Target(core), prefer="speed")
    funcs = {s.call.func for s in compiled.program.steps if s.call is not None}
    specialised = (SHAPES[i][-1] == 1 or SHAPES[i][2] == 1) and SHAPES[i][4] >= 2
    if core == "M0":  # evo/ops/conv_m0.py: the tap-table kernel (multiplier 1) or, one input channel, the conv engine
        specialised = SHAPES[i][-1] == 1 or SHAPES[i][2] == 1
    kernels = {"M4": ["evo_depthwise_conv2d_s8_pairs", "evo_depthwise_conv2d_s8_planar", "evo_depthwise_conv2d_s8_blocked",
                      "evo_conv2d_s8_dsp", "evo_conv2d_s8_dsp_direct", "evo_conv2d_s8_dsp_win"],  # one input channel: a convolution
               "M0": ["evo_depthwise_conv2d_s8_m0", "evo_depthwise_conv2d_s8_m0t", "evo_conv2d_s8_m0"]}[core]
    assert bool(funcs & {k + sfx for k in kernels for sfx in ("", "_rows")}) == specialised, funcs
    with HostModel.build(g, compiled=compiled) as m:
        got = m.run(inputs)
    for a, b in zip(got, want):
        assert np.array_equal(a, b)


def test_fast_requantisation_bounds_choose_exact_mode():
    """A shift of 0 (real multiplier in [0.5, 1)) cannot use the SMMLAR form: exact mode, same results."""
    from evo.ops import depthwise_fast as dw

    p = {"shift": np.array([0, -3]), "output_offset": 0, "act_min": -128, "act_max": 127}
    assert dw.requant_mode(p, np.array([100, 100])) == dw.MODE_EXACT
    p["shift"] = np.array([-1, -3])
    assert dw.requant_mode(p, np.array([100, 100])) == dw.MODE_FAST
    p["act_min"] = -100
    assert dw.requant_mode(p, np.array([100, 100])) == dw.MODE_FAST_CLAMP
    assert dw.requant_mode(p, np.array([2**31 - 3, 0])) == dw.MODE_EXACT


@pytest.mark.parametrize("i", [0, 2, 5])
def test_exact_mode_matches_tflm(i, monkeypatch):
    """The kernel's exact-requantisation path (forced) on the same shapes."""
    from evo.ops import depthwise_fast as dw

    monkeypatch.setattr(dw, "requant_mode", lambda p, bound: dw.MODE_EXACT)
    model = _model(i, *SHAPES[i])
    g = read_tflite(model)
    inputs = random_inputs(g, i)
    want, _ = run_tflm(model, g, inputs)
    with HostModel.build(g, compiled=compile_graph(g, target=Target("M4"), prefer="speed")) as m:
        got = m.run(inputs)
    for a, b in zip(got, want):
        assert np.array_equal(a, b)
