"""Single-operator CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED models with random shapes and
quantization, built as firmware for M4F (mps2-an386: the SXTB16/SMLAD paths), M7 (an500), M33
(an505) and M0 (microbit: the M0 kernels of evo/ops/conv_m0.py) and run under QEMU: int8 outputs must equal the host
C build and TFLM bit for bit. The shapes hit the DSP paths' edge cases: channel and depth counts
that are not multiples of 4 (scalar tails), odd channel / pixel counts (the 2x2 tile's leftovers),
padding, strides, dilation, a filter row that is one contiguous run (kh = 1), depth multiplier 2
(the general depthwise loop), extreme zero points. A one-operator model gives its optional im2col
scratch up to the memory planner (it would raise the peak), so these convolutions run the
no-scratch direct path; the staged path is covered by the shared models in test_qemu_models.py."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from evo.compiler import compile_graph
from evo.frontend.tflite_reader import read_tflite
from evo.inputs import random_inputs
from evo.targets.boards import load_board
from evo.targets.firmware import build_firmware, target_for_board
from evo.targets.host import HostModel
from evo.targets.qemu import run_qemu
from evo.verify.tflm import run_tflm
from tests.property.test_conv import _fc_model
from tests.unit.test_conv_dsp_host import _conv
from tests.unit.test_conv_dsp_host import _pruned_conv

pytestmark = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="the Arm toolchain or qemu-system-arm is not installed",
)

BOARDS = ["qemu-mps2-an386", "qemu-mps2-an500", "qemu-mps2-an505", "qemu-microbit"]


CASES = {
    # 1x1 (matrix product): odd pixels (5x3), odd out channels, depth 13 = 3 groups + tail
    "conv1x1_odd": lambda: _conv(1, h=5, w=3, cin=13, cout=7, kh=1, kw=1, stride=(1, 1)),
    # 1x1 stride 2, depth multiple of 4, extreme zero point
    "conv1x1_s2": lambda: _conv(2, h=7, w=6, cin=16, cout=10, kh=1, kw=1, stride=(2, 2), in_zp=-128, act="NONE"),
    # 3x3 stride 2 SAME on 3 channels (first-layer shape): padded fields
    "conv3x3_s2": lambda: _conv(3, h=9, w=8, cin=3, cout=8, kh=3, kw=3, stride=(2, 2), in_zp=127),
    # kh = 1: a filter row inside the image is one contiguous run; dilation 2 on another case
    "conv1x3_valid": lambda: _conv(4, h=4, w=9, cin=5, cout=6, kh=1, kw=3, stride=(1, 1), pad="VALID"),
    "conv3x3_dil2": lambda: _conv(5, h=8, w=8, cin=4, cout=5, kh=3, kw=3, stride=(1, 1), dil=(2, 2), per_channel=False),
    # depthwise 3x3 stride 1 / 2, channels 4k + 2 (tail), multiplier 2 (general loop)
    "dw3x3_s1": lambda: _conv(6, h=7, w=6, cin=10, cout=0, kh=3, kw=3, stride=(1, 1), depthwise=True, in_zp=-128),
    "dw3x3_s2": lambda: _conv(7, h=9, w=9, cin=8, cout=0, kh=3, kw=3, stride=(2, 2), depthwise=True),
    "dw3x3_m2": lambda: _conv(8, h=5, w=5, cin=3, cout=0, kh=3, kw=3, stride=(1, 1), depthwise=True, mult=2),
    # fully connected: odd units (last unit alone), depth 4k + 3
    "fc_odd": lambda: _fc_model(9, "int8", (1, 43), 9, 43, "RELU", True, True, 5, -3, 0, 0.05, 0.3, False),
    "fc_tensor": lambda: _fc_model(10, "int8", (2, 32), 12, 32, "NONE", False, True, -128, 10, 0, 0.02, 0.1, False),
    # int16 matrix-product engine (conv2d_s8_dsp / fully_connected_s8_dsp): one unrolled pass
    # (K = 64) with an odd last pixel, several passes plus a partial one (K = 3*3*21 = 189), the
    # activation-clamp variant, batches in pairs with a per-tensor weights zero point
    "mm_conv1x1_k64": lambda: _conv(11, h=3, w=3, cin=64, cout=12, kh=1, kw=1, stride=(1, 1), act="RELU", out_zp=-128),
    "mm_conv3x3_deep": lambda: _conv(12, h=5, w=4, cin=21, cout=5, kh=3, kw=3, stride=(1, 1), act="RELU_N1_TO_1",
                                     in_scale=0.02, out_scale=0.5),
    # pruned channels (constants in the stream) and an odd count of computed ones (dummy partner)
    "mm_conv3x3_pruned": lambda: _pruned_conv(13, 8, 3, act="NONE"),
    "mm_fc_batches": lambda: _fc_model(13, "int8", (3, 70), 6, 70, "RELU", False, True, 3, -100, 5, 0.02, 0.2, False),
}


@pytest.fixture(scope="module")
def expected():
    """model bytes, graph, inputs and the host/TFLM outputs per case (computed once)."""
    out = {}
    for name, make in CASES.items():
        model = make()
        g = read_tflite(model)
        inputs = random_inputs(g, 7)
        tflm, _ = run_tflm(model, g, inputs)
        with HostModel.build(g) as m:
            host = m.run(inputs)
        for a, b in zip(host, tflm):
            assert np.array_equal(a, b), f"{name}: host C differs from TFLM"
        out[name] = (g, inputs, tflm)
    return out


@pytest.mark.parametrize("board", BOARDS)
def test_single_op_kernels_bit_exact_on_core(board, expected, tmp_path):
    b = load_board(board)
    for name, (g, inputs, tflm) in expected.items():
        fw = build_firmware(compile_graph(g, target=target_for_board(b), prefer="speed"), b, inputs, tmp_path / name)
        r = run_qemu(fw)
        assert r.exit_code == 0 and r.status == 0, f"{name} on {board}: exit {r.exit_code}, status {r.status}"
        for i, want in enumerate(tflm):
            got = np.asarray(r.outputs[i]).reshape(want.shape)
            assert np.array_equal(got, want), f"{name} on {board}: output {i} differs from TFLM / host"


# ----------------------------------------------------------------------------- specialised depthwise, pool
# All SHAPES of tests/property/test_depthwise_fast.py and POOLS of test_avg_pool_fast.py (tap-pair and channel-planar kernels on M4F/M7/M33: channel tails,
# strides 1-3, SAME/VALID, 1x1 to 5x5, clamps, the exact-requantisation fallback's neighbours,
# multiplier 2 on the portable kernel) side by side in ONE model per board: one build, one run.


def _depthwise_merged(small: bool):
    from tests.property.test_depthwise_fast import SHAPES, _model
    from tests.support.merge import merge_graphs

    # the micro:bit (16 KB RAM) takes the small cases only
    from tests.property.test_avg_pool_fast import POOLS
    from tests.property.test_avg_pool_fast import _model as _pool_model

    graphs = [read_tflite(_model(i, *s)) for i, s in enumerate(SHAPES) if not small or s[0] * s[1] * s[2] <= 600]
    graphs += [read_tflite(_pool_model(*c)) for c in POOLS if not small or np.prod(c[0]) <= 600]
    g = merge_graphs(graphs, "dw_fast")  # average pools ride along (evo_avg_pool2d_s8_simd on DSP cores)
    inputs = random_inputs(g, 11)
    want = []
    for k, gk in enumerate(graphs):
        from evo.frontend.tflite_writer import write_tflite

        out, _ = run_tflm(write_tflite(gk), gk, [inputs[k]])
        want += list(out)
    return g, inputs, want


@pytest.mark.parametrize("board", BOARDS)
def test_specialised_depthwise_bit_exact_on_core(board, tmp_path):
    b = load_board(board)
    g, inputs, want = _depthwise_merged(small=b.core == "cortex-m0")
    compiled = compile_graph(g, target=target_for_board(b), prefer="speed")
    if b.core != "cortex-m0":
        assert any(s.call.func.startswith("evo_depthwise_conv2d_s8_pairs") for s in compiled.program.steps if s.call)
        assert any(s.call.func.startswith("evo_depthwise_conv2d_s8_planar") for s in compiled.program.steps if s.call)
    r = run_qemu(build_firmware(compiled, b, inputs, tmp_path / "dw"))
    assert r.exit_code == 0 and r.status == 0, f"{board}: exit {r.exit_code}, status {r.status}"
    for i, w in enumerate(want):
        assert np.array_equal(np.asarray(r.outputs[i]).reshape(w.shape), w), f"{board}: depthwise case output {i} differs from TFLM"


# ----------------------------------------------------------------------------- window convolution
# Every WIN case of tests/unit/test_conv_dsp_host.py (conv2d_s8_dsp_win.c: odd widths, strides 1-3,
# one-row / one-column filters, batches, several unrolled passes) in one model per DSP board.


@pytest.mark.parametrize("board", BOARDS[:3])
def test_window_conv_bit_exact_on_core(board, tmp_path):
    from tests.support.merge import run_merged_on_board
    from tests.unit.test_conv_dsp_host import WIN

    graphs = [read_tflite(WIN[name]()) for name in sorted(WIN)]
    compiled = run_merged_on_board(graphs, board, 17, tmp_path / "win")
    assert sum(s.call.func.startswith("evo_conv2d_s8_dsp_win") for s in compiled.program.steps if s.call) == len(graphs)


# ----------------------------------------------------------------------------- ADD, MUL, scratch-free FC
# The table ADD (add_s8_dsp.c) and MUL (mul_s8_dsp.c) on every int8 input pair for the scale sets
# of tests/unit/test_elementwise_dsp_host.py (DSP boards: 64 K elements each), odd-length random ones, and
# every scratch-free FULLY_CONNECTED case of tests/unit/test_fc_dsp_direct.py, in one model per board.


def _add_fc_merged(small: bool):
    from evo.frontend.tflite_writer import write_tflite
    from tests.support.merge import merge_graphs
    from tests.unit import test_elementwise_dsp_host as add
    from tests.unit.test_fc_dsp_direct import CASES as FC

    models = [_fc_model(s, "int8", (nb, k), u, k, act, pc, True, izp, ozp, wzp, 0.03, 0.2, False)
              for s, nb, u, k, act, pc, izp, ozp, wzp in FC]
    rng = np.random.default_rng(5)
    for i, shape in enumerate([(3,), (7, 5), (2, 3, 9, 1), (1, 4, 4, 17)]):
        for op in ("ADD", "MUL"):
            models.append(add._model(shape, add._random_q(rng), add._random_q(rng), add._random_q(rng), add.ACTS[i], op))
    pairs = []
    if not small:
        for i, name in enumerate(sorted(add.SCALES)):
            models.append(add._model((1, 256, 256), *add.SCALES[name], add.ACTS[i]))
            pairs.append(len(models) - 1)
        for i, name in enumerate(sorted(add.MUL_SCALES)):
            models.append(add._model((1, 256, 256), *add.MUL_SCALES[name], add.ACTS[i + 1], "MUL"))
            pairs.append(len(models) - 1)
    graphs = [read_tflite(m) for m in models]
    g = merge_graphs(graphs, "add_fc")
    inputs = random_inputs(g, 13)
    pos, want = 0, []
    for k, gk in enumerate(graphs):
        n = len(gk.inputs)
        if k in pairs:
            inputs[pos:pos + 2] = add._all_pairs()
        out, _ = run_tflm(write_tflite(gk), gk, inputs[pos:pos + n])
        want += list(out)
        pos += n
    return g, inputs, want


@pytest.mark.parametrize("board", BOARDS)
def test_add_and_scratch_free_fc_bit_exact_on_core(board, tmp_path):
    b = load_board(board)
    g, inputs, want = _add_fc_merged(small=b.core == "cortex-m0")
    compiled = compile_graph(g, target=target_for_board(b))
    funcs = {s.call.func for s in compiled.program.steps if s.call}
    if b.core != "cortex-m0":
        # FC takes its widened-input kernel where the arena has room, else the scratch-free one
        assert {"evo_add_s8_dsp", "evo_mul_s8_dsp"} <= funcs and {"evo_fully_connected_s8_dsp", "evo_fully_connected_s8_dsp_direct"} & funcs, funcs
    r = run_qemu(build_firmware(compiled, b, inputs, tmp_path / "add_fc"))
    assert r.exit_code == 0 and r.status == 0, f"{board}: exit {r.exit_code}, status {r.status}"
    for i, w in enumerate(want):
        assert np.array_equal(np.asarray(r.outputs[i]).reshape(w.shape), w), f"{board}: ADD/FC case output {i} differs from TFLM"
    if b.core != "cortex-m0":
        _scratch_free_fc_on_core(b, tmp_path)


def _scratch_free_fc_on_core(b, tmp_path):
    """A lone FC: its widened input would raise the arena, so memory-first takes the direct kernel."""
    from evo.frontend.tflite_writer import write_tflite
    from tests.unit.test_fc_dsp_direct import CASES as FC

    seed, batches, units, depth, act, per_channel, in_zp, out_zp, w_zp = FC[6]
    g = read_tflite(_fc_model(seed, "int8", (batches, depth), units, depth, act, per_channel, True, in_zp, out_zp, w_zp, 0.03, 0.2, False))
    compiled = compile_graph(g, target=target_for_board(b))
    assert [s.call.func for s in compiled.program.steps if s.call] == ["evo_fully_connected_s8_dsp_direct"]
    inputs = random_inputs(g, 3)
    want, _ = run_tflm(write_tflite(g), g, inputs)
    r = run_qemu(build_firmware(compiled, b, inputs, tmp_path / "fc_direct"))
    assert r.exit_code == 0 and r.status == 0
    assert np.array_equal(np.asarray(r.outputs[0]).reshape(want[0].shape), want[0])


# ----------------------------------------------------------------------------- float CONV_2D patch path
# Receptive fields of <= 64 floats (conv2d_f32.c's patch path; on FPU cores four channels a turn
# through VLDM/VMLA assembly): k % 4 = 0..3, channel tails, padded windows, stride, dilation, no
# bias, batches and activations, against the host C build bit for bit (same VMLA rounding order).
F32_CONVS = [  # (seed, n, h, w, cin, cout, kh, kw, stride, dil, pad, act, bias)
    (1, 1, 8, 8, 1, 16, 3, 3, (1, 1), (1, 1), "SAME", "NONE", True),
    (2, 1, 7, 9, 3, 10, 3, 3, (2, 2), (1, 1), "SAME", "RELU", True),
    (3, 2, 6, 5, 4, 7, 2, 2, (1, 1), (1, 1), "VALID", "RELU6", False),
    (4, 1, 9, 8, 2, 5, 5, 5, (1, 2), (1, 1), "SAME", "RELU_N1_TO_1", True),
    (5, 1, 8, 8, 7, 6, 3, 3, (1, 1), (2, 2), "SAME", "NONE", True),
    (6, 1, 5, 6, 1, 3, 1, 1, (1, 1), (1, 1), "VALID", "NONE", True),
]


@pytest.mark.parametrize("board", BOARDS)
def test_float_conv_patch_path_on_core(board, tmp_path):
    from tests.support.merge import merge_graphs
    from tests.unit.test_kernels_conv import conv_graph

    b = load_board(board)
    graphs = [conv_graph(np.random.default_rng(c[0]), "float32", *c[1:12], bias=c[12]) for c in F32_CONVS]
    g = merge_graphs(graphs, "f32_convs")
    inputs = random_inputs(g, 5)
    with HostModel.build(g) as m:
        want = m.run(inputs)
    r = run_qemu(build_firmware(compile_graph(g, target=target_for_board(b)), b, inputs, tmp_path / "f32"))
    assert r.exit_code == 0 and r.status == 0
    for i, w in enumerate(want):
        assert np.array_equal(np.asarray(r.outputs[i]).reshape(w.shape), w), f"{board}: float conv case {i} differs from the host C"
