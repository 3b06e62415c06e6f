"""The shared BNN models: LCE-converted (custom ops) and stock-converter (binarized by
evo.passes.binarize) run in EVO's NumPy reference and generated C and match the stored
reference outputs (LCE 0.16 interpreter / TF Lite) within 1e-5 relative; bit-packed
intermediates agree bit for bit between the reference and the C."""
from __future__ import annotations

import numpy as np
import pytest

from evo.codegen.lower import lower
from evo.frontend.tflite_reader import load_model
from evo.inspect import inspect_graph
from evo.ref import executor
from evo.targets.host import HostModel

RTOL = 1e-5
MODELS = ["bnn_lce_float", "bnn_lce_int8", "bnn_keras_float", "bnn_keras_int8"]


def _close(actual, expected, what):
    actual = np.asarray(actual).reshape(expected.shape)
    if expected.dtype == np.float32:
        tol = RTOL * max(1.0, float(np.max(np.abs(expected))))
        diff = float(np.max(np.abs(actual.astype(np.float64) - expected)))
        assert diff <= tol, f"{what}: max abs diff {diff} > {tol}"
    else:
        assert np.array_equal(actual, expected), what


@pytest.mark.parametrize("name", MODELS)
def test_matches_stored_outputs(shared_models, name):
    _, g = load_model(shared_models / "synthetic" / f"{name}.tflite")
    z = np.load(shared_models / "synthetic" / f"{name}.io.npz")
    with HostModel.build(g, trace=True) as host:
        for i in range(len(z["input"])):
            x, want = z["input"][i : i + 1], z["output"][i : i + 1]
            ref = executor.run(g, [x])
            c_out, c_tensors = host.run([x], trace=True)
            _close(ref[g.outputs[0]], want, f"{name} sample {i}: reference")
            _close(c_out[0], want, f"{name} sample {i}: C")
            for t, v in c_tensors.items():
                if g.tensor(t).dtype != "float32":  # packed and int8 tensors: bit-exact
                    assert np.array_equal(np.asarray(v).reshape(ref[t].shape), ref[t]), f"{name} sample {i}: tensor {t}"


def test_lce_model_structure_and_packed_memory(shared_models):
    _, g = load_model(shared_models / "synthetic" / "bnn_lce_float.tflite")
    types = [op.type for op in g.ops]
    # the binary dense layer (LceQuantize -> LceDequantize -> FULLY_CONNECTED) is binarized
    assert "FULLY_CONNECTED" not in types and "CUSTOM:EvoBFullyConnected" in types and "CUSTOM:LceDequantize" not in types
    prog = lower(g)
    kernels = [s.call.func for s in prog.steps if s.call]
    # the last bconv's float output -> MAX_POOL -> RESHAPE -> LceQuantize is folded into bit-packed
    # output (thresholds) -> BMaxPool -> RESHAPE: no float activation between binary layers
    assert kernels.count("evo_bconv2d_bin") == 3 and "evo_bconv2d_f32" not in kernels and kernels.count("evo_bmaxpool2d") == 1
    # bit-packed activations are planned at their packed size (int32 [1,32,32,1] = 4 KiB)
    sizes = {b.tensors[0]: b.size for b in prog.plan.buffers if b.tensors}
    for t, size in sizes.items():
        tensor = g.tensor(t)
        assert size == tensor.nbytes
        if tensor.dtype == "int32":
            assert tensor.nbytes == int(np.prod(tensor.shape)) * 4


def test_stock_converter_model_is_binarized(shared_models):
    _, g = load_model(shared_models / "synthetic" / "bnn_keras_float.tflite")
    types = [op.type for op in g.ops]
    assert "SIGN" not in types and "PADV2" not in types and "ADD" not in types
    assert types.count("CUSTOM:LceBconv2d") == 3 and types.count("CUSTOM:EvoBFullyConnected") == 1
    assert types.count("CONV_2D") == 1  # the first layer has float input
    bconvs = [op for op in g.ops if op.type == "CUSTOM:LceBconv2d"]
    assert [(o.attrs["padding"], o.attrs["stride_height"]) for o in bconvs] == [("SAME", 1), ("SAME", 2), ("VALID", 1)]


def test_inspect_reports_binary_layers(shared_models):
    _, g = load_model(shared_models / "synthetic" / "bnn_lce_float.tflite")
    info = inspect_graph(g)
    b = info["binary"]
    assert len(b["layers"]) == 4
    assert b["packed_weight_bytes"] * 7 < b["int8_weight_bytes"]
    assert b["saved_vs_int8_bytes"] == b["int8_weight_bytes"] - b["packed_weight_bytes"]


def test_stock_int8_model_is_binarized(shared_models):
    """bnn_keras_int8 keeps SIGN in float between DEQUANTIZE/QUANTIZE: the chains become
    LceQuantize thresholds, the binary convs/dense int8-exact bit-packed layers, the first layer
    (int8 input, +-127 weights) QBConv2D."""
    _, g = load_model(shared_models / "synthetic" / "bnn_keras_int8.tflite")
    kernels = [s.call.func for s in lower(g).steps if s.call]
    assert kernels == ["evo_qbconv2d_s8", "evo_lce_quantize_s8", "evo_bconv2d_bin", "evo_bmaxpool2d", "evo_bconv2d_bin",
                       "evo_bconv2d_bin", "evo_bbfc_q8", "evo_softmax_s8"]
    b = inspect_graph(g)["binary"]
    assert len(b["layers"]) == 5 and b["packed_weight_bytes"] * 7 < b["int8_weight_bytes"]


def test_stock_int8_model_runs_unbinarized(shared_models, monkeypatch):
    """Without the pass the same file runs as written (SIGN as an op) and gives the same bytes."""
    from evo.passes import binarize

    z = np.load(shared_models / "synthetic" / "bnn_keras_int8.io.npz")
    monkeypatch.setattr(binarize, "run", lambda g: g)
    _, g = load_model(shared_models / "synthetic" / "bnn_keras_int8.tflite")
    assert "SIGN" in [op.type for op in g.ops]
    for i in range(len(z["input"])):
        assert np.array_equal(executor.run(g, [z["input"][i : i + 1]])[g.outputs[0]], z["output"][i : i + 1])


def test_bnn_digits_example_matches_lce():
    """examples/bnn_digits: EVO's C gives LCE's outputs (1e-5 relative) and accuracy on the test set."""
    from pathlib import Path

    ex = Path(__file__).resolve().parents[2] / "examples" / "bnn_digits"
    if not (ex / "bnn_digits.tflite").exists():
        pytest.skip("examples/bnn_digits artefacts are not present")
    _, g = load_model(ex / "bnn_digits.tflite")
    z = np.load(ex / "test_set.npz")
    x, y, lce = z["x"], z["y"], z["lce_output"]
    with HostModel.build(g) as host:
        out = np.concatenate([host.run([x[i : i + 1]])[0].reshape(1, -1) for i in range(len(x))])
    _close(out.astype(np.float32), lce.astype(np.float32), "bnn_digits")
    assert (out.argmax(1) == y).mean() == (lce.argmax(1) == y).mean()
