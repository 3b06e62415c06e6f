"""FULLY_CONNECTED on DSP cores without arena scratch (kernels_c/src/fully_connected_s8_dsp_direct.c,
quad_stream in evo/ops/conv_dsp.py), built for the M4 target and run on the host through the
plain-C twins: bit-exact with TFLM for unit counts 1..9 (dummy channel and dummy pair), depths
that are not multiples of 4 (tail step), several batches, weights zero points, input offsets at
both ends; and the program needs no scratch for it."""
from __future__ import annotations

import numpy as np
import pytest

from evo.compiler import compile_graph
from evo.frontend.tflite_reader import read_tflite
from evo.inputs import random_inputs
from evo.target import Target
from evo.targets.host import HostModel
from evo.verify.tflm import run_tflm
from tests.property.test_conv import _fc_model

M4 = Target("M4")

CASES = [  # seed, batches, units, depth, act, per_channel, in_zp, out_zp, w_zp
    (1, 1, 1, 1, "NONE", True, -128, 0, 0),
    (2, 1, 2, 5, "RELU", True, 127, -128, 0),
    (3, 2, 3, 7, "RELU6", False, 0, 5, 3),
    (4, 1, 4, 16, "NONE", True, -5, 7, 0),
    (5, 3, 5, 33, "RELU_N1_TO_1", True, 100, -100, 0),
    (6, 1, 9, 64, "RELU", False, -128, -128, -7),
    (7, 1, 16, 130, "NONE", True, 3, 0, 0),
    (8, 2, 7, 18, "RELU", True, -90, 20, 0),
]


@pytest.mark.parametrize("case", CASES, ids=[f"u{c[2]}_k{c[3]}_b{c[1]}" for c in CASES])
def test_fc_direct_bit_exact(case):
    seed, batches, units, depth, act, per_channel, in_zp, out_zp, w_zp = case
    model = _fc_model(seed, "int8", (batches, depth), units, depth, act, per_channel, True, in_zp, out_zp, w_zp, 0.03, 0.2,
                      False)
    g = read_tflite(model)
    compiled = compile_graph(g, target=M4)
    steps = [s for s in compiled.program.steps if s.call is not None]
    assert [s.call.func for s in steps] == ["evo_fully_connected_s8_dsp_direct"]
    assert all(s.call.scratch_bytes == 0 for s in steps)
    inputs = random_inputs(g, seed)
    flat = inputs[0].reshape(-1)
    flat[0], flat[-1] = -128, 127
    tflm, _ = run_tflm(model, g, inputs)
    with HostModel.build(g, compiled=compiled) as m:
        got = m.run(inputs)
    assert np.array_equal(got[0], tflm[0])


def test_fc_direct_keeps_the_portable_arena():
    model = _fc_model(9, "int8", (1, 640), 128, 640, "RELU", True, True, -3, -128, 0, 0.03, 0.2, False)
    g = read_tflite(model)
    host = compile_graph(g).program.plan.arena_bytes
    assert compile_graph(g, target=M4).program.plan.arena_bytes == host
