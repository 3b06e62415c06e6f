"""16x8 models (int16 activations, int8 weights) under QEMU: EVO-quantized digits (every
operator in 16x8, and a mixed int8/16x8 layer list) and ResNet-8 (every layer but none of the
borders) run bit-exact with the host build and with TFLM on M4F, M33 and M0."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from evo.compiler import compile_graph
from evo.frontend.tflite_reader import load_model, read_tflite
from evo.frontend.tflite_writer import write_tflite
from evo.inputs import random_inputs
from evo.quant import load_calibration, quantize
from evo.targets.boards import load_board
from evo.targets.firmware import build_firmware
from evo.targets.host import HostModel
from evo.targets.qemu import run_qemu
from evo.verify.tflm import run_tflm
from tests.conftest import MODELS

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "examples" / "digits"
pytestmark = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="the Arm toolchain or qemu-system-arm is not installed",
)


def _model(case: str) -> bytes:
    if case.startswith("digits"):
        _, g = load_model(DIGITS / "digits_float.tflite")
        samples = load_calibration(g, DIGITS / "digits_calib.npz", limit=8)
        layers = "0,1,2,3,4,5,6,7,8" if case == "digits-all" else "1,4,7"
    else:
        if not MODELS.is_dir():
            pytest.skip("../shared/models is not present")
        _, g = load_model(MODELS / "pretrainedResnet.tflite")
        samples = [[x.astype(np.float32)] for x in np.random.default_rng(0).uniform(0, 255, (8, 1, 32, 32, 3))]
        layers = ",".join(str(op.index) for op in g.ops)
    q, _ = quantize(g, samples, int16_activations=layers)
    return write_tflite(q)


@pytest.mark.parametrize("case,board", [
    ("digits-all", "qemu-mps2-an386"), ("digits-all", "qemu-microbit"), ("digits-mixed", "qemu-mps2-an505"),
    ("resnet-all", "qemu-mps2-an386"),
])
def test_16x8_on_board_is_bit_exact(case, board, tmp_path):
    model = _model(case)
    g = read_tflite(model)
    assert "int16" in {t.dtype for t in g.tensors}
    compiled = compile_graph(g)
    inputs = random_inputs(g, 0)
    fw = build_firmware(compiled, load_board(board), inputs, tmp_path / "fw")
    r = run_qemu(fw)
    assert r.exit_code == 0 and r.status == 0
    with HostModel.build(g, compiled=compiled) as host:
        host_out = host.run(inputs)
    tflm_out, _ = run_tflm(model, g, inputs)
    for i in range(len(g.outputs)):
        assert np.array_equal(r.outputs[i], host_out[i]) and np.array_equal(r.outputs[i], tflm_out[i])
