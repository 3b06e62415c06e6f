"""Binary kernels under QEMU on M4F (mps2-an386) and M0 (microbit), bit-exact with EVO's NumPy
reference (float within 1e-5 relative), plus the LCE and the stock int8 models on M4F.

To keep the run short, many small independent layers are merged into one graph (one input and
one output each), so a single firmware per board covers: BBConv2D with input channels 1, 5, 16,
31, 32, 33, 48, 64, 96, 128, 200, non-square inputs, strides 1 and 2, SAME/VALID, pad_values 0 and 1,
dilation, float / int8 / bit-packed output and the 1x1 path (bit-packed outputs through the
bit-sliced kernel and, separately, the tiled one); BMaxPool2D; BBFC/BBQFC; QBConv2D (int8 input,
sign-bit weights) on 1, 31, 33 and 200 channels; the int8-exact binarized stock chains (zero- and
one-padding, the folded bit-packed output, the int8 dense layer); SIGN; the bit-sliced kernel over
input densities from all clear to all set; float LceQuantize."""
from __future__ import annotations

import copy
import shutil
from unittest import mock

import numpy as np
import pytest

import evo.ops.bnn_tiled as bnn_tiled
from evo.compiler import compile_graph
from evo.frontend.tflite_reader import read_tflite
from evo.ir import Graph
from evo.ops.bnn import pack_bits
from evo.passes import binarize
from evo.ref import executor
from evo.targets.boards import load_board
from evo.targets.firmware import build_firmware, target_for_board
from evo.targets.qemu import run_qemu
from tests.unit.test_bnn_int8 import _Builder, chain_graph, qbconv_model
from tests.unit.test_bnn_kernels import assert_close, bfc_graph, bmaxpool_graph, bnn_graph, random_packed

pytestmark = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="the Arm toolchain or qemu-system-arm is not installed",
)

BOARDS = ["qemu-mps2-an386", "qemu-microbit"]


def merge(graphs: list[Graph]) -> Graph:
    """Independent graphs side by side in one graph (inputs and outputs concatenated)."""
    tensors, ops, inputs, outputs = [], [], [], []
    for g in graphs:
        g = copy.deepcopy(g)
        base = len(tensors)
        for t in g.tensors:
            t.index += base
            t.name = f"g{len(inputs)}_{t.name}"
            tensors.append(t)
        for op in g.ops:
            op.inputs = [i + base if i >= 0 else -1 for i in op.inputs]
            op.outputs = [i + base for i in op.outputs]
            op.index = len(ops)
            ops.append(op)
        inputs += [i + base for i in g.inputs]
        outputs += [i + base for i in g.outputs]
    return Graph(tensors=tensors, ops=ops, inputs=inputs, outputs=outputs, input_names=[f"in{i}" for i in range(len(inputs))],
                 output_names=[f"out{i}" for i in range(len(outputs))], name="bnn_batch", file_inputs=list(inputs), file_outputs=list(outputs))


def _packed_input(g: Graph, rng) -> np.ndarray:
    a = g.ops[0].attrs
    channels = a.get("channels_in") or a.get("channels") or 48  # unused high bits of a packed word are 0
    return random_packed(rng, tuple(g.tensor(g.inputs[0]).shape[:-1]) + (channels,))


def _int8_input(g: Graph, rng) -> np.ndarray:
    return rng.integers(-128, 128, g.tensor(g.inputs[0]).shape).astype(np.int8)


def _bconv_cases():
    # (cin, cout, h, w, kh, kw, stride, dil, padding, pad_values, out)
    specs = [
        (1, 8, 5, 7, 3, 3, (1, 1), (1, 1), "SAME", 1, "f32"),
        (31, 9, 7, 5, 3, 3, (2, 2), (1, 1), "SAME", 0, "s8"),
        (32, 12, 4, 6, 3, 3, (1, 2), (1, 1), "VALID", 0, "bin"),
        (33, 40, 8, 6, 3, 2, (1, 1), (2, 1), "VALID", 0, "bin"),
        (48, 10, 6, 7, 3, 3, (1, 1), (1, 2), "SAME", 1, "bin"),
        (64, 7, 5, 4, 3, 3, (2, 2), (1, 1), "SAME", 0, "f32"),
        (96, 20, 4, 3, 1, 1, (1, 1), (1, 1), "VALID", 0, "f32"),  # pointwise path
        (200, 33, 5, 6, 3, 3, (2, 1), (1, 1), "SAME", 1, "bin"),
        (16, 13, 6, 5, 3, 3, (1, 1), (1, 1), "SAME", 1, "bin"),  # taps packed two to a word (M4)
        (5, 7, 5, 6, 3, 2, (1, 2), (1, 1), "SAME", 0, "s8"),  # six taps a word, zero-padding
        (16, 11, 6, 6, 3, 3, (1, 1), (2, 1), "VALID", 0, "f32"),
        (128, 10, 4, 4, 3, 3, (1, 1), (1, 1), "SAME", 1, "bin"),  # border rows and edge blocks skipped (M4)
        (96, 9, 5, 6, 3, 3, (1, 1), (1, 2), "SAME", 0, "s8"),
        (40, 5, 4, 5, 2, 2, (1, 1), (1, 1), "SAME", 0, "s8"),  # 8-word field: two blocks and a two-word tail
    ]
    gs = [bnn_graph(*s, seed=i)[0] for i, s in enumerate(specs)]
    gs += [bmaxpool_graph(48, 7, 6, 3, 3, 2, "SAME"), bfc_graph(64, 96, "bin")[0], bfc_graph(200, 10, "s8")[0]]
    return gs


def _int8_cases():
    qb = [(1, 7, 5, 3, 3, (1, 1), (1, 1), "SAME"), (31, 6, 5, 3, 3, (2, 2), (1, 1), "SAME"),
          (33, 6, 6, 3, 3, (1, 1), (2, 2), "VALID"), (200, 4, 3, 3, 3, (2, 2), (1, 1), "SAME")]
    gs = [read_tflite(qbconv_model(c, 9, h, w, kh, kw, s, d, p, seed=c)) for c, h, w, kh, kw, s, d, p in qb]
    gs += [binarize.run(chain_graph(33, 6, 5, mode="pad1", seed=1)), binarize.run(chain_graph(64, 5, 6, stride=(2, 1), mode="pad0", codes="offset", seed=2)),
           binarize.run(chain_graph(48, 6, 6, dil=(2, 1), mode="valid", codes="unit", seed=3))]
    return gs


def _sign_graph():
    b = _Builder()
    x = b.t((3, 7), "float32")
    return b.graph([x], [b.op("SIGN", [x], (3, 7), "float32")])


def _run_batch(graphs, make_inputs, board, tmp_path, prefer="memory"):
    g = merge(graphs)
    rng = np.random.default_rng(7)
    xs = [make_inputs(gi, rng) for gi in graphs]
    fw = build_firmware(compile_graph(g, target=target_for_board(load_board(board)), prefer=prefer), load_board(board), xs, tmp_path / "fw")
    r = run_qemu(fw)
    assert r.exit_code == 0 and r.status == 0 and len(r.outputs) == len(graphs)
    ref = executor.run(g, xs)
    for i, t in enumerate(g.outputs):
        assert_close(np.asarray(r.outputs[i]), ref[t], f"layer {i} ({graphs[i].ops[-1].type}) on {board}")


@pytest.mark.parametrize("board,prefer,sliced", [(b, "memory", True) for b in BOARDS] + [("qemu-mps2-an386", "speed", True), ("qemu-mps2-an386", "speed", False)])
def test_binary_kernels_on_board(board, prefer, sliced, tmp_path):
    """prefer="speed" on M4F: every convolution through the tiled kernels, bit-packed outputs
    through the bit-sliced one (or, sliced False, the tiled one); the memory policy keeps the
    portable ones where their larger scratch would raise the arena."""
    with mock.patch.object(bnn_tiled, "uses_sliced", lambda p: sliced and p["out_kind"] == "bin"):
        _run_batch(_bconv_cases(), _packed_input, board, tmp_path, prefer)


def test_sliced_densities_on_m4f(tmp_path):
    """The bit-sliced kernel's assembly (list and carry-save loops) over inputs from all clear to
    all set: more than half of a field set sums its zero bits, padded taps included."""
    specs = [(16, 64, 8, 8, 3, 3, (1, 1), (1, 1), "SAME", 1), (128, 40, 4, 4, 3, 3, (1, 1), (1, 1), "SAME", 1),
             (33, 7, 5, 6, 3, 2, (2, 1), (1, 2), "SAME", 1), (200, 33, 4, 4, 3, 3, (1, 1), (1, 1), "VALID", 0)]
    densities = (0.0, 0.2, 0.5, 0.8, 1.0)
    graphs = [bnn_graph(*s, out="bin", seed=i)[0] for i, s in enumerate(specs) for _ in densities]

    def inputs(g, rng):
        d = densities[next(i for i, h in enumerate(graphs) if h is g) % len(densities)]
        return pack_bits(rng.random(tuple(g.tensor(g.inputs[0]).shape[:-1]) + (g.ops[0].attrs["channels_in"],)) < d)

    with mock.patch.object(bnn_tiled, "uses_sliced", lambda p: p["out_kind"] == "bin"):  # whatever the channel count
        _run_batch(graphs, inputs, "qemu-mps2-an386", tmp_path, "speed")


@pytest.mark.parametrize("board", BOARDS)
def test_int8_binarized_layers_on_board(board, tmp_path):
    graphs = _int8_cases() + [_sign_graph()]

    def inputs(g, rng):
        if g.tensor(g.inputs[0]).dtype == "float32":
            v = rng.normal(size=g.tensor(g.inputs[0]).shape).astype(np.float32)
            v.flat[0] = 0.0
            return v
        return _int8_input(g, rng)

    _run_batch(graphs, inputs, board, tmp_path)


@pytest.mark.parametrize("board", BOARDS)
def test_lce_quantize_f32_on_board(board, tmp_path):
    """Float LceQuantize (on Thumb-2 one compare and RRX a value): channel counts with odd and
    partial words, and the ends of the range (-0 is +1; the smallest negative subnormal, -FLT_MAX
    and -inf are -1; NaN is +1: x < 0 is false)."""
    from tests.unit.test_bnn_kernels import _graph

    chans = [1, 2, 16, 31, 32, 33, 200]
    graphs = [_graph("CUSTOM:LceQuantize", [((2, 3, c), "float32"), ((2, 3, (c + 31) // 32), "int32")], [0], 1, {}, [0]) for c in chans]
    f32 = np.finfo(np.float32)
    specials = np.array([-0.0, -1e-45, 1e-45, -f32.max, f32.max, -f32.tiny, 0.0, np.inf, -np.inf, np.nan, -np.nan], np.float32)

    def inputs(g, rng):
        x = rng.normal(size=g.tensor(g.inputs[0]).shape).astype(np.float32)
        x.flat[: min(x.size, specials.size)] = specials[: x.size]
        return x

    _run_batch(graphs, inputs, board, tmp_path)


def test_lce_model_on_m4f(shared_models, tmp_path):
    from evo.frontend.tflite_reader import load_model

    _, g = load_model(shared_models / "synthetic" / "bnn_lce_float.tflite")
    z = np.load(shared_models / "synthetic" / "bnn_lce_float.io.npz")
    x, want = z["input"][:1], z["output"][:1]
    fw = build_firmware(compile_graph(g, target=target_for_board(load_board("qemu-mps2-an386"))), load_board("qemu-mps2-an386"), [x], tmp_path / "fw")
    r = run_qemu(fw)
    assert r.exit_code == 0 and r.status == 0
    assert_close(np.asarray(r.outputs[0], np.float32), want.astype(np.float32), "bnn_lce_float on M4F")


def test_stock_int8_model_on_m4f(shared_models, tmp_path):
    from evo.frontend.tflite_reader import load_model

    _, g = load_model(shared_models / "synthetic" / "bnn_keras_int8.tflite")
    z = np.load(shared_models / "synthetic" / "bnn_keras_int8.io.npz")
    fw = build_firmware(compile_graph(g, target=target_for_board(load_board("qemu-mps2-an386"))), load_board("qemu-mps2-an386"), [z["input"][1:2]], tmp_path / "fw")
    r = run_qemu(fw)
    assert r.exit_code == 0 and r.status == 0
    assert np.array_equal(np.asarray(r.outputs[0]).reshape(1, -1), z["output"][1:2]), "bnn_keras_int8 on M4F"


def test_bnn_digits_on_m4f(tmp_path):
    from pathlib import Path

    from evo.frontend.tflite_reader import load_model

    ex = Path(__file__).resolve().parents[2] / "examples" / "bnn_digits"
    _, g = load_model(ex / "bnn_digits.tflite")
    z = np.load(ex / "test_set.npz")
    fw = build_firmware(compile_graph(g, target=target_for_board(load_board("qemu-mps2-an386"))), load_board("qemu-mps2-an386"), [z["x"][:1]], tmp_path / "fw")
    r = run_qemu(fw)
    assert r.exit_code == 0 and r.status == 0
    assert_close(np.asarray(r.outputs[0], np.float32), z["lce_output"][:1].astype(np.float32), "bnn_digits on M4F")


def test_popcount_is_inline_on_m0(tmp_path):
    """GCC's __builtin_popcount is a libgcc call (__popcountsi2) on Cortex-M: the binary kernels
    must not reference it (nor other bit-counting helpers) in a Cortex-M0 build."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    kernels = ["bconv2d_bin", "bconv2d_f32", "bconv2d_s8", "bconv2d_q8", "bconv2d_pw_bin", "bconv2d_pw_f32", "bbfc_bin", "bbfc_f32",
               "bbqfc_s8", "bbfc_q8", "bmaxpool2d", "qbconv2d_s8", "lce_quantize_s8", "lce_quantize_f32",
               "bconv2d_tiled_bin", "bconv2d_tiled_f32", "bconv2d_tiled_s8", "bconv2d_tiled_q8", "bconv2d_sliced_bin"]
    for k in kernels:
        obj = tmp_path / f"{k}.o"
        subprocess.run(["arm-none-eabi-gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft",
                        "-O2", f"-I{root / 'kernels_c' / 'include'}", "-c", str(root / "kernels_c" / "src" / f"{k}.c"), "-o", str(obj)], check=True)
        undefined = subprocess.run(["arm-none-eabi-nm", "-u", str(obj)], check=True, capture_output=True, text=True).stdout
        assert not any(s in undefined for s in ("popcount", "ctz", "clz")), f"{k}: {undefined.split()}"
