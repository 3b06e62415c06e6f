"""The scratch-free DSP depthwise kernel (evo_depthwise_conv2d_s8_direct, its inline assembly)
on M4F / M7 / M33 under QEMU: every case of tests/property/test_depthwise_direct.py (channel tails,
widths 1..9, strides, SAME/VALID, clamps; batch 2 on some: the plain kernel, else its in-place
row entry) side by side in one model per board, bit-exact with TFLM."""
from __future__ import annotations

import shutil

import pytest

from evo.frontend.tflite_reader import read_tflite

pytestmark = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="the Arm toolchain or qemu-system-arm is not installed",
)


@pytest.mark.parametrize("board", ["qemu-mps2-an386", "qemu-mps2-an500", "qemu-mps2-an505"])
def test_direct_depthwise_bit_exact_on_core(board, tmp_path, monkeypatch):
    from tests.property.test_depthwise_direct import SHAPES, _direct
    from tests.property.test_depthwise_fast import _model
    from tests.support.merge import run_merged_on_board

    _direct(monkeypatch)
    compiled = run_merged_on_board([read_tflite(_model(i, *s)) for i, s in enumerate(SHAPES)], board, 17, tmp_path / "dwd")
    funcs = {s.call.func for s in compiled.program.steps if s.call}
    assert "evo_depthwise_conv2d_s8_direct" in funcs or "evo_depthwise_conv2d_s8_direct_rows" in funcs, funcs
