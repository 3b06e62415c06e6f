"""The channel-blocked planar depthwise kernel (evo_depthwise_conv2d_s8_blocked: the planar
kernel's arithmetic with a ring of one channel group) built for the host with plain-C twins of its
DSP instructions: bit-exact with TFLM over group sizes (one group, several, a short last one,
groups of fewer than four channels), widths (3, 5 and 6 have assembly loops), strides, SAME/VALID,
clamps, in place (its _rows entry) and not (batch 2). tests/qemu/test_depthwise_blocked_qemu.py runs
them on the cores."""
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

SEED = 30  # model seeds (their scales) whose requantisation takes the fast modes
# (h, w, channels, kh, kw, stride, padding, activation, zero points, per_channel, mult), group
SHAPES = [
    ((25, 5, 64, 3, 3, (1, 1), "SAME", "RELU", (-128, -128), True, 1), 16),  # KWS: four groups
    ((24, 5, 64, 3, 3, (1, 1), "SAME", "RELU", (-128, -128), True, 1), 64),  # one group
    ((9, 5, 24, 3, 3, (1, 1), "SAME", "RELU6", (5, -100), True, 1), 8),  # clamp
    ((8, 5, 10, 3, 3, (1, 1), "SAME", "NONE", (-128, 3), True, 1), 4),  # channel tail: groups 4, 4, 2
    ((7, 5, 3, 3, 3, (1, 1), "SAME", "RELU_N1_TO_1", (17, -5), False, 1), 3),  # a group under four channels
    ((6, 7, 12, 3, 3, (1, 1), "VALID", "NONE", (-7, 20), True, 1), 8),  # VALID: the last pair holds pixels
    ((5, 7, 8, 3, 3, (1, 1), "VALID", "RELU6", (3, -128), True, 1), 8),  # the same with a clamp
    ((7, 9, 8, 3, 3, (2, 2), "SAME", "RELU6", (5, -128), True, 1), 4),
    ((5, 5, 8, 3, 3, (1, 1), "SAME", "NONE", (100, 0), True, 1), 4),
    # rows three and six outputs wide (their own assembly loops)
    ((6, 6, 16, 3, 3, (1, 1), "SAME", "RELU", (-128, -128), True, 1), 8),
    ((5, 6, 8, 3, 3, (1, 1), "SAME", "RELU6", (5, -100), True, 1), 8),  # clamp
    ((5, 3, 12, 3, 3, (1, 1), "SAME", "NONE", (-3, 7), True, 1), 4),  # the last pair is padding
    ((4, 3, 8, 3, 3, (1, 1), "SAME", "RELU6", (0, -128), True, 1), 8),  # the same with a clamp
    ((6, 5, 8, 3, 3, (1, 1), "VALID", "RELU6", (3, -128), True, 1), 4),  # VALID: the last pair holds a pixel
    ((7, 5, 4, 3, 3, (1, 1), "VALID", "NONE", (-9, 2), True, 1), 4),
    # the plain-C loop (other widths, stride_w 2)
    ((6, 4, 12, 3, 3, (1, 1), "SAME", "NONE", (-1, 0), True, 1), 8),
    ((9, 5, 16, 3, 3, (2, 1), "SAME", "RELU", (0, -128), True, 1), 8),  # stride_h 2
    ((5, 1, 5, 3, 3, (1, 1), "SAME", "RELU", (3, -128), True, 1), 4),
    ((6, 8, 6, 3, 3, (1, 2), "VALID", "RELU6", (-128, -128), True, 1), 4),
]


def group_of(p) -> int:
    """The group size SHAPES give a layer of this input shape."""
    return next(gr for s, gr in SHAPES if (s[0], s[1], s[2]) == tuple(p["in"][1:]))


def force_blocked(monkeypatch):
    """Every planar-shaped depthwise layer runs the blocked kernel, in the groups SHAPES give."""
    from evo.ops import depthwise_fast as dw

    fast = dw.pairs_call
    monkeypatch.setattr(dw, "blocked_fast", lambda p: True)
    monkeypatch.setattr(dw, "blocked_group", group_of)
    blocked = "evo_depthwise_conv2d_s8_blocked"
    # the chain is blocked (all channels), blocked (the group, when smaller), scratch-free
    monkeypatch.setattr(dw, "pairs_call", lambda g, op, p, call: (lambda c: c.lean if c.lean is not None and c.lean.func == blocked else c)(fast(g, op, p, call)))


@pytest.mark.parametrize("i", range(len(SHAPES)))
def test_blocked_depthwise_matches_tflm(i, monkeypatch):
    shape = SHAPES[i][0]
    force_blocked(monkeypatch)
    model = _model(SEED + i, *shape)  # batch 2 where (SEED + i) % 3 == 2
    g = read_tflite(model)
    inputs = random_inputs(g, i)
    want, _ = run_tflm(model, g, inputs)
    compiled = compile_graph(g, target=Target("M4"), prefer="speed")
    funcs = {s.call.func for s in compiled.program.steps if s.call is not None}
    assert funcs & {"evo_depthwise_conv2d_s8_blocked", "evo_depthwise_conv2d_s8_blocked_rows"}, funcs
    if i < 2:  # KWS's layers run in place, through the _rows entry
        assert "evo_depthwise_conv2d_s8_blocked_rows" in funcs
    with HostModel.build(g, compiled=compiled) as m:
        got = m.run(inputs)
    for a, b in zip(got, want):
        assert np.array_equal(a, b)


def test_blocked_is_the_kernel_for_kws_rows():
    """KWS's 25x5x64 layers: blocked with every channel in one group (the speed build), then in
    groups whose ring fits the scratch-free kernel's in-place window (24 channels: 864 <= 960
    bytes; three column pairs a slot, the fourth the rows read being all padding), then the
    scratch-free kernel."""
    from evo.ops import depthwise_fast as dw

    g = read_tflite(_model(SEED, *SHAPES[0][0]))
    compiled = compile_graph(g, target=Target("M4"), prefer="speed")
    call = next(s.call for s in compiled.program.steps if s.call is not None and "depthwise" in s.call.func)
    p = {"in": [1, 25, 5, 64], "out": [1, 25, 5, 64], "stride_w": 1, "pad_w": 1}
    assert call.func == "evo_depthwise_conv2d_s8_blocked_rows" and call.scratch_bytes == 2304 == dw.blocked_scratch_bytes(p, 64)
    lean = call.lean
    assert lean.func == "evo_depthwise_conv2d_s8_blocked" and lean.scratch_bytes == 864 == dw.blocked_scratch_bytes(p, 24)
    assert lean.lean.func == "evo_depthwise_conv2d_s8_direct"
