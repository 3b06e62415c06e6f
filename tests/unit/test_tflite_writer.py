"""The writer must produce models that the reference interpreters accept and that round-trip
through EVO's reader unchanged: every single-operator property test depends on it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tflite

from evo.frontend.tflite_writer import options_name, write_tflite
from evo.ir.graph import Graph
from tests.support.single_op import TensorSpec, single_op_graph

MODELS = Path(__file__).resolve().parents[2].parent / "shared" / "models"
SKIP_MODELS = {"audio_preprocessor_int8.tflite"}


def run_tflm(data: bytes, inputs: list[np.ndarray], n_outputs: int) -> list[np.ndarray]:
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(data)
    for i, x in enumerate(inputs):
        interp.set_input(x, i)
    interp.invoke()
    return [interp.get_output(i) for i in range(n_outputs)]


def run_litert(data: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(
        model_content=data, experimental_op_resolver_type=OpResolverType.BUILTIN_REF
    )
    interp.allocate_tensors()
    for d, x in zip(interp.get_input_details(), inputs):
        interp.set_tensor(d["index"], x)
    interp.invoke()
    return [interp.get_tensor(d["index"]) for d in interp.get_output_details()]


def fully_connected_graph(rng: np.random.Generator) -> Graph:
    return single_op_graph(
        "FULLY_CONNECTED",
        [
            TensorSpec((1, 16), "int8", scale=0.05, zero_point=-3),
            TensorSpec((8, 16), "int8", scale=0.02, zero_point=0,
                       data=rng.integers(-127, 128, (8, 16))),
            TensorSpec((8,), "int32", scale=0.001, zero_point=0,
                       data=rng.integers(-500, 500, 8)),
        ],
        [TensorSpec((1, 8), "int8", scale=0.1, zero_point=5)],
        {"fused_activation_function": "RELU", "weights_format": "DEFAULT",
         "keep_num_dims": False},
    )


def conv_graph(rng: np.random.Generator) -> Graph:
    w_scale = rng.uniform(0.005, 0.02, 4).astype(np.float32)
    return single_op_graph(
        "CONV_2D",
        [
            TensorSpec((1, 6, 6, 3), "int8", scale=0.04, zero_point=2),
            TensorSpec((4, 3, 3, 3), "int8", scale=w_scale, zero_point=0, axis=0,
                       data=rng.integers(-127, 128, (4, 3, 3, 3))),
            TensorSpec((4,), "int32", scale=w_scale * 0.04, zero_point=0, axis=0,
                       data=rng.integers(-2000, 2000, 4)),
        ],
        [TensorSpec((1, 3, 3, 4), "int8", scale=0.08, zero_point=-1)],
        {"padding": "SAME", "stride_w": 2, "stride_h": 2, "fused_activation_function": "RELU6"},
    )


@pytest.mark.parametrize("make", [fully_connected_graph, conv_graph])
def test_written_model_runs_on_tflm_and_litert(make):
    rng = np.random.default_rng(0)
    g = make(rng)
    data = write_tflite(g)
    assert data[4:8] == b"TFL3"
    x = rng.integers(-128, 128, g.tensor(g.inputs[0]).shape).astype(np.int8)

    (got_tflm,) = run_tflm(data, [x], 1)
    (got_litert,) = run_litert(data, [x])

    assert got_tflm.shape == g.tensor(g.outputs[0]).shape
    np.testing.assert_array_equal(got_tflm, got_litert)
    assert np.unique(got_tflm).size > 1  # not saturated / degenerate


def test_signature_and_io_names():
    from ai_edge_litert.interpreter import Interpreter

    g = fully_connected_graph(np.random.default_rng(1))
    runner = Interpreter(model_content=write_tflite(g)).get_signature_runner("serving_default")
    x = np.zeros((1, 16), np.int8)
    assert set(runner(input_0=x)) == {"output_0"}
    model = tflite.Model.GetRootAs(write_tflite(g, signature=False))
    assert model.SignatureDefsLength() == 0


def _reader():
    path = Path(__file__).resolve().parents[2] / "evo" / "frontend" / "tflite_reader.py"
    if not path.exists():
        pytest.skip("evo/frontend/tflite_reader.py not written yet")
    from evo.frontend import tflite_reader

    if not hasattr(tflite_reader, "read_tflite"):
        pytest.skip("tflite_reader has no read_tflite yet")
    return tflite_reader.read_tflite


def _assert_same_graph(a: Graph, b: Graph, what: str) -> None:
    assert (a.inputs, a.outputs) == (b.inputs, b.outputs), what
    assert (a.input_names, a.output_names) == (b.input_names, b.output_names), what
    assert (a.file_inputs, a.file_outputs) == (b.file_inputs, b.file_outputs), what
    assert len(a.ops) == len(b.ops), what
    for x, y in zip(a.ops, b.ops):
        assert (x.type, x.inputs, x.outputs) == (y.type, y.inputs, y.outputs), f"{what} op{x.index}"
        assert x.attrs == y.attrs, f"{what} op{x.index} attrs"
        assert (x.custom_options or b"") == (y.custom_options or b""), f"{what} op{x.index}"
    assert len(a.tensors) == len(b.tensors), what
    for s, t in zip(a.tensors, b.tensors):
        where = f"{what} tensor {s.index} {s.name!r}"
        assert (s.name, tuple(s.shape), s.dtype) == (t.name, tuple(t.shape), t.dtype), where
        assert (s.quant is None) == (t.quant is None), where
        if s.quant is not None:
            np.testing.assert_array_equal(s.quant.scale, t.quant.scale, where)
            np.testing.assert_array_equal(s.quant.zero_point, t.quant.zero_point, where)
            assert s.quant.axis == t.quant.axis, where
        assert (s.data is None) == (t.data is None), where
        if s.data is not None:
            assert s.data.dtype == t.data.dtype, where
            np.testing.assert_array_equal(s.data, t.data, where)


def test_options_tables():
    """Operators whose options table is not named after them, and ones without a table."""
    expected = {
        "CONV_2D": "Conv2DOptions", "DEPTHWISE_CONV_2D": "DepthwiseConv2DOptions",
        "AVERAGE_POOL_2D": "Pool2DOptions", "MAX_POOL_2D": "Pool2DOptions",
        "MEAN": "ReducerOptions", "MAXIMUM": "MaximumMinimumOptions",
        "MINIMUM": "MaximumMinimumOptions", "SPLIT_V": "SplitVOptions", "PADV2": "PadV2Options",
        "TRANSPOSE_CONV": "TransposeConvOptions", "RELU": None, "LOGISTIC": None, "TANH": None,
    }
    assert {op: options_name(op) for op in expected} == expected


def test_read_attrs_roundtrip():
    """Attrs written from snake_case names come back from the reader under the same names."""
    read_tflite = _reader()
    cases = {
        "CONV_2D": {"padding": "VALID", "stride_w": 2, "stride_h": 1,
                    "fused_activation_function": "RELU6", "dilation_w_factor": 1,
                    "dilation_h_factor": 2, "quantized_bias_type": "INT32"},
        "DEPTHWISE_CONV_2D": {"padding": "SAME", "stride_w": 1, "stride_h": 1,
                              "depth_multiplier": 2, "fused_activation_function": "RELU_N1_TO_1"},
        "FULLY_CONNECTED": {"fused_activation_function": "TANH", "weights_format": "DEFAULT",
                            "keep_num_dims": True, "asymmetric_quantize_inputs": False,
                            "quantized_bias_type": "FLOAT32"},
        "ADD": {"fused_activation_function": "RELU", "pot_scale_int16": False},
        "RESHAPE": {"new_shape": [1, -1, 4]},
        "MEAN": {"keep_dims": True},
        "MAX_POOL_2D": {"padding": "SAME", "stride_w": 2, "stride_h": 2, "filter_width": 3,
                        "filter_height": 3, "fused_activation_function": "NONE"},
        "SOFTMAX": {"beta": 0.5},
        "SPLIT_V": {"num_splits": 3},
        "SQUEEZE": {"squeeze_dims": [1, 2]},
        "ARG_MAX": {"output_type": "INT32"},
        "MIRROR_PAD": {"mode": "SYMMETRIC"},
        "STRIDED_SLICE": {"begin_mask": 1, "end_mask": 2, "shrink_axis_mask": 0,
                          "ellipsis_mask": 0, "new_axis_mask": 0, "offset": False},
        "LOGISTIC": {},
    }
    spec = TensorSpec((1, 4), "float32")
    for op_type, attrs in cases.items():
        (op,) = read_tflite(write_tflite(single_op_graph(op_type, [spec], [spec], attrs))).ops
        assert op.type == op_type
        assert {k: op.attrs[k] for k in attrs} == attrs, op_type
        assert (op.attrs == {}) == (attrs == {}), op_type


@pytest.mark.parametrize(
    "model",
    sorted(p.name for p in MODELS.glob("*.tflite") if p.name not in SKIP_MODELS)
    if MODELS.is_dir() else [],
)
def test_reader_writer_roundtrip(model):
    read_tflite = _reader()
    g1 = read_tflite((MODELS / model).read_bytes())
    g2 = read_tflite(write_tflite(g1))
    _assert_same_graph(g1, g2, model)


@pytest.mark.parametrize(
    "model", ["hello_world_int8.tflite", "micro_speech_quantized.tflite", "kws_ref_model.tflite"]
)
def test_rewritten_model_runs_like_original_on_tflm(model):
    """Real models written back from the IR compute the same outputs on TFLM."""
    read_tflite = _reader()
    if not (MODELS / model).exists():
        pytest.skip(f"{MODELS / model} absent")
    original = (MODELS / model).read_bytes()
    g = read_tflite(original)
    rng = np.random.default_rng(0)
    inputs = []
    for i in g.file_inputs:
        t = g.tensor(i)
        if t.dtype == "float32":
            inputs.append(rng.standard_normal(t.shape).astype(np.float32))
        else:
            info = np.iinfo(t.np_dtype)
            inputs.append(rng.integers(info.min, info.max, t.shape, endpoint=True).astype(t.np_dtype))
    n = len(g.file_outputs)
    for want, got in zip(run_tflm(original, inputs, n), run_tflm(write_tflite(g), inputs, n)):
        np.testing.assert_array_equal(got, want)


def test_custom_op_roundtrip():
    read_tflite = _reader()
    spec = TensorSpec((1, 4), "int8", scale=0.5, zero_point=1)
    g = single_op_graph("CUSTOM:MyOp", [spec], [spec], custom_options=b"\x01\x02\x03")
    (op,) = read_tflite(write_tflite(g)).ops
    assert (op.type, op.custom_options, op.attrs) == ("CUSTOM:MyOp", b"\x01\x02\x03", {})
    code = tflite.Model.GetRootAs(write_tflite(g)).OperatorCodes(0)
    assert (code.BuiltinCode(), code.DeprecatedBuiltinCode()) == (tflite.BuiltinOperator.CUSTOM,) * 2
