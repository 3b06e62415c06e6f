"""AVERAGE_POOL_2D's four-channels-per-word kernel (evo_avg_pool2d_s8_simd, chosen for M4/M7/M33)
built for the host (plain-C twins of SXTAB16): bit-exact with TFLM, saturated inputs included
(the int16 lane sums' worst case). tests/qemu/test_kernels_qemu.py runs it on the cores."""
from __future__ import annotations

import numpy as np
import pytest

from evo.compiler import compile_graph
from evo.frontend.tflite_reader import read_tflite
from evo.target import Target
from evo.targets.host import HostModel
from evo.verify.tflm import run_tflm
from tests.support.single_op import TensorSpec as T
from tests.support.single_op import single_op_model

# (n, h, w, c), filter, stride, padding, activation, (scale, zero point)
POOLS = [
    ((1, 25, 5, 64), (25, 5), (1, 1), "VALID", "NONE", (0.05, -128)),  # KWS: global 125-element window
    ((1, 7, 6, 10), (3, 3), (2, 2), "SAME", "RELU", (0.1, 3)),  # borders, channel tail
    ((2, 5, 9, 7), (2, 4), (1, 3), "SAME", "RELU6", (0.02, -5)),
    ((1, 17, 15, 4), (17, 15), (1, 1), "VALID", "NONE", (0.5, 0)),  # 255 elements: the lane limit
    ((1, 17, 16, 5), (17, 16), (1, 1), "VALID", "NONE", (0.5, 0)),  # 272: portable kernel
]


def _model(shape, f, s, pad, act, q):
    oh = (shape[1] + s[0] - 1) // s[0] if pad == "SAME" else (shape[1] - f[0]) // s[0] + 1
    ow = (shape[2] + s[1] - 1) // s[1] if pad == "SAME" else (shape[2] - f[1]) // s[1] + 1
    attrs = dict(padding=pad, stride_h=s[0], stride_w=s[1], filter_height=f[0], filter_width=f[1], fused_activation_function=act)
    return single_op_model("AVERAGE_POOL_2D", [T(shape, "int8", *q)], [T((shape[0], oh, ow, shape[3]), "int8", *q)], attrs)


@pytest.mark.parametrize("i", range(len(POOLS)))
@pytest.mark.parametrize("fill", ["random", "saturated"])
def test_simd_average_pool_matches_tflm(i, fill):
    shape = POOLS[i][0]
    model = _model(*POOLS[i])
    g = read_tflite(model)
    rng = np.random.default_rng(i)
    x = rng.integers(-128, 128, shape) if fill == "random" else rng.choice(np.array([-128, 127]), shape)
    inputs = [x.astype(np.int8)]
    want, _ = run_tflm(model, g, inputs)
    compiled = compile_graph(g, target=Target("M4"), prefer="speed")
    func = compiled.program.steps[0].call.func
    assert func == ("evo_avg_pool2d_s8" if i == 4 else "evo_avg_pool2d_s8_simd")
    with HostModel.build(g, compiled=compiled) as m:
        got = m.run(inputs)
    assert np.array_equal(got[0], want[0])
