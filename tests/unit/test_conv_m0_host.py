"""The Cortex-M0 matrix engine (evo/ops/conv_m0.py, kernels_c/src/mm_s8_m0.c) built for the M0
target and run on the host through its portable C twin, which does the assembly's integer steps on
the same stream: bit-exact with TFLM over random shapes (channels and depths that are not
multiples of 4, odd pixel counts, strides, padding, dilation, per-tensor / per-channel weights,
every fused activation, both requantisation modes and the exact fallback), and the fast
requantisation against TFLM's arithmetic at its boundaries."""
from __future__ import annotations

import numpy as np
import pytest

from evo.compiler import compile_graph
from evo.frontend.tflite_reader import read_tflite
from evo.inputs import random_inputs
from evo.ops import conv_m0
from evo.target import Target
from evo.targets.host import HostModel
from evo.verify.tflm import run_tflm
from tests.property.test_conv import _fc_model
from tests.unit.test_conv_dsp_host import CASES as DSP_CASES
from tests.unit.test_conv_dsp_host import _conv

M0 = Target("M0")

CASES = dict(DSP_CASES)
CASES.update({
    "conv1x1_k64_wide": lambda: _conv(40, h=5, w=5, cin=64, cout=64, kh=1, kw=1, stride=(1, 1), act="RELU", out_zp=-128),
    "conv1x1_k5_odd": lambda: _conv(41, h=3, w=5, cin=5, cout=6, kh=1, kw=1, stride=(2, 1), act="NONE"),
    "conv1x1_k1": lambda: _conv(42, h=4, w=3, cin=1, cout=3, kh=1, kw=1, stride=(1, 1), act="RELU6"),
    "conv10x4_kws": lambda: _conv(43, h=13, w=10, cin=1, cout=9, kh=10, kw=4, stride=(2, 2), act="RELU", out_zp=-128),
    "conv_full_width_rows": lambda: _conv(44, h=9, w=1, cin=7, cout=5, kh=3, kw=1, stride=(2, 1), pad="VALID"),
    "conv3x3_k2": lambda: _conv(45, h=5, w=4, cin=2, cout=5, kh=3, kw=3, stride=(1, 2), act="RELU_N1_TO_1"),
    "fc_k1": lambda: _fc_model(46, "int8", (2, 1), 5, 1, "NONE", True, True, 3, -2, 0, 0.05, 0.3, False),
    "fc_wide": lambda: _fc_model(47, "int8", (1, 130), 13, 130, "RELU", False, True, -128, -128, 3, 0.02, 0.3, False),
    # the 5-channel engine (blocks of five, a tail block of four; every k % 8 entry of its loop)
    "conv1x1_lanes5": lambda: _conv(50, h=3, w=4, cin=13, cout=15, kh=1, kw=1, stride=(1, 1)),
    "conv3x3_lanes5": lambda: _conv(51, h=5, w=4, cin=3, cout=15, kh=3, kw=3, stride=(1, 1), act="RELU6"),
    "conv3x3_lanes5_k9": lambda: _conv(55, h=4, w=5, cin=1, cout=10, kh=3, kw=3, stride=(2, 1), act="NONE"),
    "fc_lanes5": lambda: _fc_model(52, "int8", (2, 7), 10, 7, "NONE", True, True, 3, -4, 0, 0.05, 0.3, False),
    "fc_lanes5_k12": lambda: _fc_model(56, "int8", (1, 12), 10, 12, "RELU6", False, True, 3, -4, 2, 0.05, 0.3, False),
    "fc_lanes5_k2": lambda: _fc_model(57, "int8", (3, 2), 15, 2, "NONE", True, True, 100, 7, 0, 0.05, 0.3, False),
    "fc_lanes5_k1": lambda: _fc_model(58, "int8", (4, 1), 15, 1, "RELU", True, True, -7, -128, 0, 0.05, 0.3, False),
    "fc_lanes5_k127": lambda: _fc_model(53, "int8", (1, 127), 21, 127, "RELU", True, True, -128, -128, 0, 0.02, 0.3, False),
    "conv1x1_lanes5_k22": lambda: _conv(54, h=2, w=3, cin=22, cout=13, kh=1, kw=1, stride=(1, 1), act="RELU_N1_TO_1"),
    # left shifts (real multiplier >= 0.5): the exact mode
    "conv1x1_exact": lambda: _conv(48, h=3, w=3, cin=6, cout=5, kh=1, kw=1, stride=(1, 1), act="NONE", in_scale=0.5, out_scale=0.01),
    "fc_exact": lambda: _fc_model(49, "int8", (1, 20), 6, 20, "NONE", True, True, 1, 2, 0, 0.9, 0.002, False),
})
# depthwise: the tap-table kernel (multiplier 1; word loads when channels % 4 == 0, the byte twin
# otherwise; padded taps, strides, dilation, kw = 1) and the conv engine (one input channel)
DW = {
    "dw3x3_kws": lambda: _conv(60, h=25, w=5, cin=64, cout=0, kh=3, kw=3, stride=(1, 1), depthwise=True, act="RELU", out_zp=-128),
    "dw3x3_c12_s2": lambda: _conv(61, n=2, h=7, w=8, cin=12, cout=0, kh=3, kw=3, stride=(2, 2), depthwise=True),
    "dw3x3_c10": lambda: _conv(62, h=5, w=6, cin=10, cout=0, kh=3, kw=3, stride=(1, 1), depthwise=True, act="RELU6"),
    "dw5x1_c8": lambda: _conv(63, h=12, w=1, cin=8, cout=0, kh=5, kw=1, stride=(1, 1), pad="VALID", depthwise=True, act="NONE"),
    "dw2x5_dil": lambda: _conv(64, h=9, w=11, cin=4, cout=0, kh=2, kw=5, stride=(1, 2), dil=(2, 2), depthwise=True),
    "dw1x1_c3": lambda: _conv(65, h=4, w=3, cin=3, cout=0, kh=1, kw=1, stride=(1, 1), depthwise=True, act="RELU_N1_TO_1"),
    "dw10x8_c1_m8": lambda: _conv(66, h=13, w=12, cin=1, cout=0, kh=10, kw=8, stride=(2, 2), depthwise=True, mult=8, act="RELU"),
    "dw3x3_c1_m3": lambda: _conv(67, h=5, w=5, cin=1, cout=0, kh=3, kw=3, stride=(1, 1), depthwise=True, mult=3),
}
CASES.update(DW)


def _funcs(compiled):
    return {s.call.func for s in compiled.program.steps if s.call is not None}


@pytest.mark.parametrize("name", sorted(CASES))
def test_m0_kernels_on_host_bit_exact(name):
    model = CASES[name]()
    g = read_tflite(model)
    compiled = compile_graph(g, target=M0, prefer="speed")
    funcs = _funcs(compiled)
    assert funcs & {"evo_conv2d_s8_m0", "evo_conv2d_s8_m0_rows", "evo_fully_connected_s8_m0", "evo_depthwise_conv2d_s8_m0t",
                    "evo_depthwise_conv2d_s8_m0t_rows"}, funcs
    inputs = random_inputs(g, 3)
    tflm, _ = run_tflm(model, g, inputs)
    with HostModel.build(g, compiled=compiled) as m:
        got = m.run(inputs)
    for a, b in zip(got, tflm):
        assert np.array_equal(a, b), f"{name} ({sorted(funcs)}) differs from TFLM"


# ----------------------------------------------------------------------------- fused row-streamed groups
# The memory-first M0 build streams conv chains (and tiny_cnn's conv -> depthwise -> pool group) on
# the M0 row kernels (conv2d_s8_m0_row.c, depthwise_conv2d_s8_m0t_row.c) without raising the
# portable arena.


def _row_kernels(prog) -> set[str]:
    return {v["row"].text for sp in prog.steps if sp.call is not None and sp.call.func == "evo_stream_run"
            for _, sym, entries in sp.call.prelude if sym.endswith("_stages[]") for v in entries}


@pytest.mark.parametrize("name", ["rgb_first_layer", "deep_valid", "odd_channels", "wide_kernel", "tiny_cnn"])
def test_streamed_m0_kernels_bit_exact_at_the_portable_arena(name):
    from evo.codegen.lower import lower
    from evo.frontend.tflite_writer import write_tflite
    from evo.target import HOST
    from tests.conftest import MODELS
    from tests.support.conv_chain import conv_chain
    from tests.unit.test_stream_dsp import CHAINS

    if name == "tiny_cnn":
        path = MODELS / "synthetic" / "tiny_cnn_int8.tflite"
        if not path.exists():
            pytest.skip("../shared/models is not present")
        model = path.read_bytes()
        rows = {"evo_conv2d_s8_m0_row", "evo_depthwise_conv2d_s8_m0t_row"}
    else:
        model = write_tflite(conv_chain(*CHAINS[name]))
        rows = {"evo_conv2d_s8_m0_row"}
    g = read_tflite(model)
    compiled = compile_graph(g, target=M0)
    prog = compiled.program
    assert prog.streams and prog.stream_specialised
    assert rows <= _row_kernels(prog), _row_kernels(prog)
    assert prog.plan.arena_bytes <= lower(g, target=HOST).plan.arena_bytes
    inputs = random_inputs(g, 5)
    want, _ = run_tflm(model, g, inputs)
    with HostModel.build(g, compiled=compiled) as m:
        got = m.run(inputs)
    for a, b in zip(got, want):
        assert np.array_equal(a, b)


def test_int32_streams_respect_the_board_flash():
    """A 64x64 1x1 layer's int32 stream (~18 KB for 4 KB of int8 weights) is taken only where it
    fits the board's flash with conv_m0.FLASH_RESERVE bytes to spare; unknown flash: taken."""
    g = read_tflite(CASES["conv1x1_k64_wide"]())

    def funcs(target):
        return {s.call.func.removesuffix("_rows") for s in compile_graph(g, target=target, prefer="speed").program.steps if s.call}

    assert funcs(Target("M0", flash_bytes=conv_m0.FLASH_RESERVE + 24 * 1024)) == {"evo_conv2d_s8_m0"}
    assert funcs(Target("M0", flash_bytes=conv_m0.FLASH_RESERVE + 16 * 1024)) == {"evo_conv2d_s8"}
    assert funcs(Target("M0")) == {"evo_conv2d_s8_m0"}
