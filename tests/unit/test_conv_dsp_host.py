"""The Cortex-M DSP matrix-product kernels (generation-time weight streams, evo/ops/conv_dsp.py)
built for the M4 target and run on the host through their portable C twins: bit-exact with TFLM
over random shapes (channels and depths that are not multiples of 4, odd pixel counts, strides,
padding, dilation, per-tensor / per-channel weights, every fused activation)."""
from __future__ import annotations

import numpy as np
import pytest

from evo.compiler import compile_graph
from evo.frontend.tflite_reader import read_tflite
from evo.inputs import random_inputs
from evo.target import Target
from evo.targets.host import HostModel
from evo.verify.tflm import run_tflm
from tests.property.test_conv import _conv_model, _fc_model
from tests.support.single_op import TensorSpec as T
from tests.support.single_op import single_op_model

M4 = Target("M4")


def _conv(seed, **kw):
    rng = np.random.default_rng(seed)
    case = dict(seed=seed, dt="int8", n=1, dil=(1, 1), pad="SAME", act="RELU6", per_channel=True, bias=True,
                in_zp=int(rng.integers(-128, 128)), out_zp=int(rng.integers(-128, 128)),
                in_scale=float(10 ** rng.uniform(-2, 0)), out_scale=float(10 ** rng.uniform(-1.5, 0.5)))
    case.update(kw)
    return _conv_model(**case)


def _random_conv(seed):
    rng = np.random.default_rng(1000 + seed)
    kh, kw = [(1, 1), (3, 3), (1, 3), (2, 5), (10, 4)][seed % 5]
    return _conv(seed, n=int(rng.integers(1, 3)), h=int(rng.integers(kh, kh + 7)), w=int(rng.integers(kw, kw + 7)),
                 cin=int(rng.integers(1, 40)), cout=int(rng.integers(1, 20)), kh=kh, kw=kw,
                 stride=(int(rng.integers(1, 3)), int(rng.integers(1, 3))), pad=["SAME", "VALID"][seed % 2],
                 act=["NONE", "RELU", "RELU6", "RELU_N1_TO_1"][seed % 4], per_channel=bool(seed % 3),
                 bias=bool(seed % 4), dil=(1 + (seed % 7 == 3), 1 + (seed % 7 == 3)))


def _pruned_conv(seed, cout, kh, act="RELU", fc=False):
    """Channels with all-zero weights, +-2^30 biases and tiny scales (as in pruned MobileNets):
    outside the engine's exact range, so the stream lists them as constants."""
    rng = np.random.default_rng(seed)
    h, w, cin = 4, 3, 10
    wshape = (cout, cin) if fc else (cout, kh, kh, cin)
    wt = rng.integers(-127, 128, wshape)
    fs = (10 ** rng.uniform(-3, -1, cout)).astype(np.float32)
    bias = rng.integers(-30000, 30000, cout)
    dead = rng.permutation(cout)[: cout // 2 + 1]
    wt[dead] = 0
    fs[dead] = 1e-9
    bias[dead] = rng.choice([-(1 << 30), 1 << 30], dead.size)
    x = T((1, cin) if fc else (1, h, w, cin), "int8", 0.05, -3)
    ins = [x, T(wshape, "int8", fs, 0, 0, wt), T((cout,), "int32", (np.float32(0.05) * fs).astype(np.float32), 0, 0, bias)]
    if fc:
        return single_op_model("FULLY_CONNECTED", ins, [T((1, cout), "int8", 0.2, -128)],
                               dict(fused_activation_function=act, keep_num_dims=False, weights_format="DEFAULT"))
    outs = [T((1, h, w, cout), "int8", 0.2, -128)]
    return single_op_model("CONV_2D", ins, outs, dict(padding="SAME", stride_h=1, stride_w=1, dilation_h_factor=1,
                                                      dilation_w_factor=1, fused_activation_function=act))


CASES = {f"conv_random{i}": (lambda i=i: _random_conv(i)) for i in range(16)}
CASES.update({
    "conv1x1_odd": lambda: _conv(1, h=5, w=3, cin=13, cout=7, kh=1, kw=1, stride=(1, 1)),
    "conv1x1_k64": lambda: _conv(2, h=5, w=5, cin=64, cout=64, kh=1, kw=1, stride=(1, 1), act="RELU", out_zp=-128),
    "conv3x3_deep": lambda: _conv(3, h=4, w=5, cin=70, cout=6, kh=3, kw=3, stride=(1, 1), act="NONE"),
    "conv1x1_one_channel": lambda: _conv(4, h=3, w=3, cin=5, cout=1, kh=1, kw=1, stride=(1, 1)),
    # fully connected: odd units, depth 4k + 3, one batch (1-pixel tile) / three (pair + odd), per-tensor
    # weights with a zero point (folded into the stream), deep (several unrolled passes)
    "fc_odd": lambda: _fc_model(9, "int8", (1, 43), 9, 43, "RELU", True, True, 5, -3, 0, 0.05, 0.3, False),
    "fc_batches": lambda: _fc_model(10, "int8", (3, 32), 12, 32, "NONE", False, True, -128, 10, 7, 0.02, 0.1, False),
    "fc_deep": lambda: _fc_model(11, "int8", (1, 300), 16, 300, "RELU6", True, True, 3, -128, 0, 0.02, 0.4, False),
    "conv_pruned_odd": lambda: _pruned_conv(12, 9, 1),
    "conv_pruned_even": lambda: _pruned_conv(13, 8, 3, act="NONE"),
    "fc_pruned": lambda: _pruned_conv(14, 7, 1, fc=True),
})
# the window-of-pixel-pairs kernel (in_c % 4 == 0, no dilation): odd output widths (dummy partner),
# strides in both directions (rows shifted by 1 or 2 slots, or all new), one-row and one-column
# filters, batches, VALID padding, more than 16 steps (several unrolled passes)
WIN = {
    "win3x3_odd_w": lambda: _conv(20, h=6, w=7, cin=8, cout=5, kh=3, kw=3, stride=(1, 1)),
    "win3x3_s2": lambda: _conv(21, n=2, h=9, w=8, cin=16, cout=6, kh=3, kw=3, stride=(2, 2), act="RELU"),
    "win3x3_s12": lambda: _conv(22, h=7, w=9, cin=4, cout=3, kh=3, kw=3, stride=(1, 2), pad="VALID", act="NONE"),
    "win3x3_s21": lambda: _conv(23, h=8, w=5, cin=12, cout=16, kh=3, kw=3, stride=(2, 1)),
    "win1x3": lambda: _conv(24, h=3, w=6, cin=8, cout=4, kh=1, kw=3, stride=(1, 1), act="NONE"),
    "win5x1_s3": lambda: _conv(25, h=11, w=4, cin=4, cout=9, kh=5, kw=1, stride=(3, 1), pad="VALID"),
    "win3x3_deep": lambda: _conv(26, h=5, w=4, cin=32, cout=7, kh=3, kw=3, stride=(1, 1), act="RELU6"),
    # in_c % 4 (channels padded with zero weights; the input's last pixel read without over-reading):
    # first-layer shapes, an odd width reaching the last pixel, a tail on a deep field
    "win3x3_c3_s2": lambda: _conv(27, n=2, h=9, w=9, cin=3, cout=8, kh=3, kw=3, stride=(2, 2), in_zp=127),
    "win3x3_c3_odd": lambda: _conv(28, h=6, w=7, cin=3, cout=5, kh=3, kw=3, stride=(1, 1), pad="VALID", in_zp=-128),
    "win3x3_c7": lambda: _conv(29, h=5, w=6, cin=7, cout=6, kh=3, kw=3, stride=(1, 1), act="NONE"),
    "win2x1_c2_s2": lambda: _conv(30, h=6, w=8, cin=2, cout=4, kh=2, kw=1, stride=(2, 2), pad="VALID"),
}
CASES.update(WIN)
# cases that must take the DSP kernel (the others may fall back where the engine is not exact)
DSP = set(WIN) | {"conv_pruned_odd", "conv_pruned_even", "fc_pruned", "conv1x1_k64", "conv3x3_deep", "conv1x1_one_channel", "fc_odd",
       "fc_batches", "fc_deep"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_dsp_kernels_on_host_bit_exact(name):
    model = CASES[name]()
    g = read_tflite(model)
    compiled = compile_graph(g, target=M4, prefer="speed")
    funcs = {s.call.func for s in compiled.program.steps if s.call is not None}
    inputs = random_inputs(g, 3)
    tflm, _ = run_tflm(model, g, inputs)
    with HostModel.build(g, compiled=compiled) as m:
        got = m.run(inputs)
    if name in DSP:
        assert any(f.endswith(("_dsp", "_dsp_rows", "_dsp_direct", "_dsp_win", "_dsp_win_rows")) for f in funcs), funcs
    if name in WIN:
        assert any(f.startswith("evo_conv2d_s8_dsp_win") for f in funcs), funcs
    for a, b in zip(got, tflm):
        assert np.array_equal(a, b), f"{name} ({sorted(funcs)}) differs from TFLM"


def test_streams_respect_the_board_flash():
    """Twice the int8 weights must fit the board's flash (less a reserve), else every layer keeps
    its int8 weights and the portable kernel; unknown flash (no board) specialises."""
    g = read_tflite(CASES["conv1x1_k64"]())

    def funcs(target):
        return {s.call.func.removesuffix("_rows") for s in compile_graph(g, target=target, prefer="speed").program.steps if s.call}

    assert funcs(Target("M4", flash_bytes=80 * 1024)) == {"evo_conv2d_s8_dsp"}
    assert funcs(Target("M4", flash_bytes=64 * 1024)) == {"evo_conv2d_s8"}
    assert funcs(Target("M4")) == {"evo_conv2d_s8_dsp"}
    assert funcs(Target("M0", flash_bytes=1 << 20)) == {"evo_conv2d_s8_m0"}  # no DSP stream: the M0 engine (evo/ops/conv_m0.py)
