"""Binary kernels as small single-op firmwares under QEMU on M4F (mps2-an386) and M0 (microbit),
bit-exact with EVO's NumPy reference (float within 1e-5 relative), plus the LCE model on M4F."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from evo.compiler import compile_graph
from evo.ref import executor
from evo.targets.boards import load_board
from evo.targets.firmware import build_firmware
from evo.targets.qemu import run_qemu
from tests.unit.test_bnn_kernels import assert_close, bfc_graph, bmaxpool_graph, bnn_graph, random_packed

pytestmark = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="the Arm toolchain or qemu-system-arm is not installed",
)

BOARDS = ["qemu-mps2-an386", "qemu-microbit"]


def _cases():
    # (id, graph builder) covering channel counts, non-square inputs, strides, both paddings,
    # dilation, every output kind, the pointwise path, BMaxPool and BBFC/BBQFC.
    return {
        "c1_same1_f32": lambda: bnn_graph(1, 8, 5, 7, 3, 3, (1, 1), (1, 1), "SAME", 1, "f32"),
        "c31_same0_s8_s2": lambda: bnn_graph(31, 9, 7, 5, 3, 3, (2, 2), (1, 1), "SAME", 0, "s8"),
        "c33_valid_bin_dil": lambda: bnn_graph(33, 40, 8, 6, 3, 2, (1, 1), (2, 1), "VALID", 0, "bin"),
        "c200_same1_bin_s2": lambda: bnn_graph(200, 33, 5, 6, 3, 3, (2, 1), (1, 1), "SAME", 1, "bin"),
        "c96_pointwise_f32": lambda: bnn_graph(96, 20, 4, 3, 1, 1, padding="VALID", out="f32"),
        "bmaxpool_c48": lambda: (bmaxpool_graph(48, 7, 6, 3, 3, 2, "SAME"), np.random.default_rng(3)),
        "bbfc_bin_64x96": lambda: bfc_graph(64, 96, "bin"),
        "bbqfc_s8_200x10": lambda: bfc_graph(200, 10, "s8"),
    }


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("case", list(_cases()))
def test_binary_kernel_on_board(case, board, tmp_path):
    g, rng = _cases()[case]()
    a = g.ops[0].attrs
    channels = a.get("channels_in") or a.get("channels") or 48  # unused high bits of a packed word are 0
    x = random_packed(rng, tuple(g.tensor(g.inputs[0]).shape[:-1]) + (channels,))
    compiled = compile_graph(g)
    fw = build_firmware(compiled, load_board(board), [x], tmp_path / "fw")
    r = run_qemu(fw)
    assert r.exit_code == 0 and r.status == 0
    assert_close(r.outputs[0], executor.run(g, [x])[g.outputs[0]], f"{case} on {board}")


def test_lce_model_on_m4f(shared_models, tmp_path):
    from evo.frontend.tflite_reader import load_model

    _, g = load_model(shared_models / "synthetic" / "bnn_lce_float.tflite")
    z = np.load(shared_models / "synthetic" / "bnn_lce_float.io.npz")
    x, want = z["input"][:1], z["output"][:1]
    fw = build_firmware(compile_graph(g), load_board("qemu-mps2-an386"), [x], tmp_path / "fw")
    r = run_qemu(fw)
    assert r.exit_code == 0 and r.status == 0
    assert_close(np.asarray(r.outputs[0], np.float32), want.astype(np.float32), "bnn_lce_float on M4F")


def test_bnn_digits_on_m4f(tmp_path):
    from pathlib import Path

    from evo.frontend.tflite_reader import load_model

    ex = Path(__file__).resolve().parents[2] / "examples" / "bnn_digits"
    _, g = load_model(ex / "bnn_digits.tflite")
    z = np.load(ex / "test_set.npz")
    fw = build_firmware(compile_graph(g), load_board("qemu-mps2-an386"), [z["x"][:1]], tmp_path / "fw")
    r = run_qemu(fw)
    assert r.exit_code == 0 and r.status == 0
    assert_close(np.asarray(r.outputs[0], np.float32), z["lce_output"][:1].astype(np.float32), "bnn_digits on M4F")
