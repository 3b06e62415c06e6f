"""The Cortex-M0 kernels (evo/ops/conv_m0.py: the ARMv6-M assembly of kernels_c/src/mm_s8_m0.c)
under QEMU on the micro:bit, bit-exact with TFLM: the small cases of tests/unit/test_conv_m0_host.py
(1x1 and kxk convolutions, fully connected, depthwise on both engines, both fast-requantisation
clamps, the exact mode, pruned channels, the 5-channel engine at every k % 8) side by side in one model, and two rounding models whose
accumulators sweep exact ties of the requantisation at every right shift 1..14, both signs,
built for both kernel-choice policies (every requantisation mode: RQ11, RQ16, exact)."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from evo.compiler import compile_graph
from evo.frontend.tflite_reader import read_tflite
from evo.frontend.tflite_writer import write_tflite
from evo.inputs import random_inputs
from evo.ops import conv_m0
from evo.targets.boards import load_board
from evo.targets.firmware import build_firmware, target_for_board
from evo.targets.qemu import run_qemu
from evo.verify.tflm import run_tflm
from tests.support.merge import merge_graphs
from tests.support.single_op import TensorSpec as T
from tests.support.single_op import single_op_model

pytestmark = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="the Arm toolchain or qemu-system-arm is not installed",
)

M0_KERNELS = {"evo_conv2d_s8_m0", "evo_fully_connected_s8_m0", "evo_depthwise_conv2d_s8_m0t"}


def _ties_model(big: bool) -> bytes:
    """FULLY_CONNECTED, depth 1, 256 batches (the input sweeps every int8 value), units with real
    multipliers 2^-k (M = 2^30): out = round-half-away(a / 2^k) hits a tie every 2^k accumulators;
    biases put the sweeps on both sides of 0 and near the int8 clamps. big: one more unit with a
    bias of 2^21, which takes the layer from RQ11 (|acc| < 2^20) to RQ16."""
    units = 14 + big
    k = np.arange(units) % 14 + 2  # shifts -1..-14 (k = 1 would be a left shift of 0: the exact mode)
    ws = (2.0 ** -k).astype(np.float32)
    w = np.where(np.arange(units) % 3 == 0, 1, np.where(np.arange(units) % 3 == 1, -1, 127)).reshape(units, 1)
    bias = (np.arange(units) * 997 % 600 - 300) * (1 << np.minimum(k, 8))
    if big:
        bias[-1] = 1 << 21
    ins = [T((256, 1), "int8", 1.0, -3), T((units, 1), "int8", ws, 0, 0, w), T((units,), "int32", ws, 0, 0, bias)]
    return single_op_model("FULLY_CONNECTED", ins, [T((256, units), "int8", 1.0, 2)],
                           dict(fused_activation_function="NONE", keep_num_dims=False, weights_format="DEFAULT"))


def _cases():
    from tests.unit.test_conv_m0_host import CASES

    names = ["conv1x1_odd", "conv1x1_k5_odd", "conv1x1_k1", "conv10x4_kws", "conv_full_width_rows", "conv3x3_k2", "conv3x3_deep",
             "fc_odd", "fc_k1", "fc_wide", "fc_batches", "conv1x1_exact", "fc_exact", "conv_pruned_odd", "fc_pruned",
             "dw3x3_c12_s2", "dw3x3_c10", "dw5x1_c8", "dw2x5_dil", "dw1x1_c3", "dw3x3_c1_m3", "win3x3_c3_s2", "conv_random5",
             "conv1x1_lanes5", "conv3x3_lanes5", "conv3x3_lanes5_k9", "fc_lanes5", "fc_lanes5_k12", "fc_lanes5_k2", "fc_lanes5_k1",
             "fc_lanes5_k127", "conv1x1_lanes5_k22"]
    return [CASES[n]() for n in names] + [_ties_model(False), _ties_model(True)]


@pytest.mark.parametrize("prefer", ["speed", "memory"])
def test_m0_kernels_bit_exact_on_microbit(prefer, tmp_path):
    b = load_board("qemu-microbit")
    graphs = [read_tflite(m) for m in _cases()]
    g = merge_graphs(graphs, "m0")
    inputs = random_inputs(g, 21)
    for i in (-1, -2):  # the ties models sweep every input
        inputs[i] = np.arange(-128, 128, dtype=np.int8).reshape(256, 1)
    pos, want = 0, []
    for gk in graphs:
        n = len(gk.inputs)
        out, _ = run_tflm(write_tflite(gk), gk, inputs[pos:pos + n])
        want += list(out)
        pos += n
    compiled = compile_graph(g, target=target_for_board(b), prefer=prefer)
    funcs = {s.call.func.removesuffix("_rows") for s in compiled.program.steps if s.call}
    assert M0_KERNELS <= funcs, funcs
    modes = {s.call.params["rq"]["mode"] for s in compiled.program.steps if s.call and "rq" in s.call.params}
    assert modes == {conv_m0.MODE_FAST, conv_m0.MODE_FAST11, conv_m0.MODE_EXACT}, modes
    lanes = {s.call.params["rq"]["lanes"] for s in compiled.program.steps if s.call and "rq" in s.call.params}
    assert lanes == {4, 5}, lanes
    r = run_qemu(build_firmware(compiled, b, inputs, tmp_path / prefer))
    assert r.exit_code == 0 and r.status == 0, f"exit {r.exit_code}, status {r.status}"
    for i, w in enumerate(want):
        assert np.array_equal(np.asarray(r.outputs[i]).reshape(w.shape), w), f"case output {i} differs from TFLM"
