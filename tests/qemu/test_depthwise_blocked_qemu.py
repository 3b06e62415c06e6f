"""The channel-blocked planar depthwise kernel (evo_depthwise_conv2d_s8_blocked, its inline
assembly for rows five outputs wide) on M4F / M7 / M33 under QEMU: every case of
tests/property/test_depthwise_blocked.py (group sizes, channel tails, clamps, SAME/VALID, in place
and not, the plain-C widths) side by side in one model per board, bit-exact with TFLM."""
from __future__ import annotations

import shutil

import pytest

from evo.frontend.tflite_reader import read_tflite

pytestmark = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="the Arm toolchain or qemu-system-arm is not installed",
)


@pytest.mark.parametrize("board", ["qemu-mps2-an386", "qemu-mps2-an500", "qemu-mps2-an505"])
def test_blocked_depthwise_bit_exact_on_core(board, tmp_path, monkeypatch):
    from tests.property.test_depthwise_blocked import SEED, SHAPES, force_blocked
    from tests.property.test_depthwise_fast import _model
    from tests.support.merge import run_merged_on_board

    force_blocked(monkeypatch)
    compiled = run_merged_on_board([read_tflite(_model(SEED + i, *s)) for i, (s, _) in enumerate(SHAPES)], board, 19, tmp_path / "dwb")
    funcs = [s.call.func for s in compiled.program.steps if s.call]
    assert sum(f.startswith("evo_depthwise_conv2d_s8_blocked") for f in funcs) == len(SHAPES), funcs
    assert "evo_depthwise_conv2d_s8_blocked_rows" in funcs
