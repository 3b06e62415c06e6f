"""Firmware under QEMU: every int8 shared model that fits runs on M4F (mps2-an386, netduinoplus2),
M7 (mps2-an500), M33 (mps2-an505) and M55 (mps3-an547: the MVE kernels), bit-exact with the host build and with TFLM; the M0
(microbit, 16 KiB RAM) runs what fits and rejects the rest with the size message."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from evo.compiler import compile_graph
from evo.errors import EvoError
from evo.frontend.tflite_reader import load_model
from evo.inputs import random_inputs
from evo.targets.boards import load_board
from evo.target import target_for_core
from evo.targets.firmware import build_firmware, target_for_board
from evo.targets.host import HostModel
from evo.targets.qemu import run_qemu
from evo.verify.tflm import run_tflm
from tests.conftest import MODELS

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="the Arm toolchain or qemu-system-arm is not installed",
)

INT8_MODELS = [
    "kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8", "person_detect", "micro_speech_quantized",
    "str_ww_ref_model", "hello_world_int8", "synthetic/tiny_cnn_int8", "synthetic/two_exit_int8",
]
BOARDS = ["qemu-mps2-an386", "qemu-netduinoplus2", "qemu-mps2-an500", "qemu-mps2-an505", "qemu-mps3-an547"]
M0_FITS = ["hello_world_int8", "micro_speech_quantized"]
M0_TOO_BIG = ["vww_96_int8", "person_detect", "pretrainedResnet_quant", "ad01_int8"]


def _model_path(name: str) -> Path:
    if name == "digits_int8":
        return ROOT / "examples" / "digits" / "digits_int8.tflite"
    if not MODELS.is_dir():
        pytest.skip("../shared/models is not present")
    return MODELS / f"{name}.tflite"


def _run(name: str, board_name: str, tmp_path: Path, seed: int = 0, prefer: str = "memory"):
    model, g = load_model(_model_path(name))
    board = load_board(board_name)
    compiled = compile_graph(g, target=target_for_board(board), prefer=prefer)
    inputs = random_inputs(g, seed)
    fw = build_firmware(compiled, board, inputs, tmp_path / "fw")
    return model, g, compiled, inputs, fw, run_qemu(fw)


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("name", INT8_MODELS + ["digits_int8"])
def test_model_on_board_is_bit_exact(name, board, tmp_path, prefer="memory"):
    model, g, compiled, inputs, fw, r = _run(name, board, tmp_path, prefer=prefer)
    assert r.exit_code == 0 and r.status == 0
    with HostModel.build(g, compiled=compiled) as host:
        host_out = host.run(inputs)
    tflm_out, _ = run_tflm(model, g, inputs)
    for i in range(len(g.outputs)):
        assert np.array_equal(r.outputs[i], host_out[i]), f"output {i} differs from the host"
        assert np.array_equal(r.outputs[i], tflm_out[i]), f"output {i} differs from TFLM"
    assert r.instructions > 0 and len(r.layer_instructions) == len(compiled.program.steps)  # fused groups are one step
    assert sum(r.layer_instructions) == r.instructions
    assert 0 < r.stack_bytes < fw.board.stack_bytes


@pytest.mark.parametrize("name", INT8_MODELS)
def test_speed_build_on_m4_is_bit_exact(name, tmp_path):
    """The --prefer speed build (every op on the core's fastest kernel, whatever the RAM) too."""
    test_model_on_board_is_bit_exact(name, "qemu-mps2-an386", tmp_path, prefer="speed")


@pytest.mark.parametrize("name", INT8_MODELS + ["digits_int8"])
def test_m0_runs_what_fits_and_rejects_the_rest(name, tmp_path):
    """microbit has 16 KiB of RAM: a model either runs bit-exact or fails with the shortfall."""
    model, g = load_model(_model_path(name))
    compiled = compile_graph(g, target=target_for_core("cortex-m0"))
    inputs = random_inputs(g, 0)
    try:
        fw = build_firmware(compiled, load_board("qemu-microbit"), inputs, tmp_path / "fw")
    except EvoError as e:
        msg = str(e)
        assert name not in M0_FITS, msg
        assert "does not fit" in msg and "too much" in msg and "\n" not in msg
        return
    assert name not in M0_TOO_BIG, "a model needing far more than 16 KiB of RAM was accepted"
    r = run_qemu(fw)
    tflm_out, _ = run_tflm(model, g, inputs)
    assert r.exit_code == 0
    for a, b in zip(r.outputs, tflm_out):
        assert np.array_equal(a, b)
    assert r.stack_bytes < fw.board.stack_bytes


def test_instruction_counts_are_deterministic(tmp_path):
    *_, fw, first = _run("digits_int8", "qemu-mps2-an386", tmp_path)
    second = run_qemu(fw)
    assert first.instructions == second.instructions
    assert first.layer_instructions == second.layer_instructions
    assert first.total_instructions == second.total_instructions
