"""The channel-blocked planar depthwise kernel (evo_depthwise_conv2d_s8_blocked, its inline
assembly for rows five outputs wide) on M4F / M7 / M33 under QEMU: every case of
tests/property/test_depthwise_blocked.py (group sizes, channel tails, clamps, SAME/VALID, in place
and not, the plain-C widths) side by side in one model per board, bit-exact with TFLM."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from evo.compiler import compile_graph
from evo.frontend.tflite_reader import read_tflite
from evo.frontend.tflite_writer import write_tflite
from evo.inputs import random_inputs
from evo.targets.boards import load_board
from evo.targets.firmware import build_firmware, target_for_board
from evo.targets.qemu import run_qemu
from evo.verify.tflm import run_tflm

pytestmark = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="the Arm toolchain or qemu-system-arm is not installed",
)


@pytest.mark.parametrize("board", ["qemu-mps2-an386", "qemu-mps2-an500", "qemu-mps2-an505"])
def test_blocked_depthwise_bit_exact_on_core(board, tmp_path, monkeypatch):
    from tests.property.test_depthwise_blocked import SEED, SHAPES, force_blocked
    from tests.property.test_depthwise_fast import _model
    from tests.support.merge import merge_graphs

    force_blocked(monkeypatch)
    graphs = [read_tflite(_model(SEED + i, *s)) for i, (s, _) in enumerate(SHAPES)]
    g = merge_graphs(graphs, "dw_blocked")
    inputs = random_inputs(g, 19)
    want = []
    for k, gk in enumerate(graphs):
        out, _ = run_tflm(write_tflite(gk), gk, [inputs[k]])
        want += list(out)
    b = load_board(board)
    compiled = compile_graph(g, target=target_for_board(b), prefer="speed")
    funcs = [s.call.func for s in compiled.program.steps if s.call]
    assert sum(f.startswith("evo_depthwise_conv2d_s8_blocked") for f in funcs) == len(SHAPES), funcs
    assert "evo_depthwise_conv2d_s8_blocked_rows" in funcs
    r = run_qemu(build_firmware(compiled, b, inputs, tmp_path / "dwb"))
    assert r.exit_code == 0 and r.status == 0, f"{board}: exit {r.exit_code}, status {r.status}"
    for i, w in enumerate(want):
        assert np.array_equal(np.asarray(r.outputs[i]).reshape(w.shape), w), f"{board}: depthwise case output {i} differs from TFLM"
