"""SOFTMAX, LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU, HARD_SWISH: TFLM (oracle) == NumPy
reference == generated C. (RELU_N1_TO_1 has no TFLM kernel; its C is checked against the
reference in tests/unit/test_kernels_activation.py.)"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evo.errors import EvoError
from evo.ops.base import impl_for
from tests.support.differential import check_model
from tests.support.single_op import TensorSpec as T
from tests.support.single_op import single_op_graph, single_op_model

try:  # the C path needs the host target
    import evo.targets.host  # noqa: F401

    RUN_C = True
except ImportError:  # pragma: no cover
    RUN_C = False

SCALES = [1e-3, 0.0078125, 0.02, 0.05, 0.1, 0.25, 1.0, 3.0]
ZPS = [-128, -127, -60, -1, 0, 1, 33, 126, 127]


def _shape(draw, max_rank: int = 4, max_dim: int = 7) -> tuple[int, ...]:
    rank = draw(st.integers(1, max_rank))
    return tuple(draw(st.lists(st.integers(1, max_dim), min_size=rank, max_size=rank)))


def _inputs(shape, dtype, seed, mode):
    rng = np.random.default_rng(seed)
    if dtype == "float32":
        spread = {"full": 4.0, "extreme": 30.0}[mode]
        return [(rng.standard_normal(shape) * spread).astype(np.float32)]
    if mode == "full":
        return [rng.integers(-128, 128, size=shape).astype(np.int8)]
    return [rng.choice(np.array([-128, -127, 127, 126, 0, -1, 1], dtype=np.int8), size=shape)]


def _run(data, op_type, in_spec, out_spec, attrs):
    model = single_op_model(op_type, [in_spec], [out_spec], attrs)
    mode = data.draw(st.sampled_from(["full", "extreme"]), label="mode")
    seed = data.draw(st.integers(0, 2**16), label="seed")
    check_model(model, inputs=_inputs(in_spec.shape, in_spec.dtype, seed, mode), run_c=RUN_C)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_softmax(dtype, data):
    shape = _shape(data.draw, max_rank=3)
    shape = shape[:-1] + (data.draw(st.integers(1, 40), label="depth"),)
    beta = data.draw(st.sampled_from([1.0, 0.5, 2.0, 0.1, 1.7]), label="beta")
    if dtype == "int8":
        # includes scales large enough that beta * scale * 2^26 hits the 2^31 - 1 cap
        scale = data.draw(st.sampled_from(SCALES + [0.0003, 40.0]), label="scale")
        in_spec = T(shape, "int8", scale, data.draw(st.sampled_from(ZPS), label="zp"))
        out_spec = T(shape, "int8", 1.0 / 256, -128)
    else:
        in_spec, out_spec = T(shape, "float32"), T(shape, "float32")
    _run(data, "SOFTMAX", in_spec, out_spec, {"beta": beta})


@pytest.mark.parametrize("op_type", ["LOGISTIC", "TANH"])
@pytest.mark.parametrize("dtype", ["int8", "float32"])
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_logistic_tanh(op_type, dtype, data):
    shape = _shape(data.draw)
    if dtype == "int8":
        scale = data.draw(st.sampled_from(SCALES + [1e-5, 0.0625, 20.0]), label="scale")
        in_spec = T(shape, "int8", scale, data.draw(st.sampled_from(ZPS), label="zp"))
        out_spec = T(shape, "int8", 1.0 / 256, -128) if op_type == "LOGISTIC" else T(shape, "int8", 1.0 / 128, 0)
    else:
        in_spec, out_spec = T(shape, "float32"), T(shape, "float32")
    _run(data, op_type, in_spec, out_spec, {})


@pytest.mark.parametrize("op_type", ["RELU", "RELU6"])
@pytest.mark.parametrize("dtype", ["int8", "float32"])
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_relu(op_type, dtype, data):
    shape = _shape(data.draw)
    if dtype == "int8":
        qi = (data.draw(st.sampled_from(SCALES), label="in_scale"), data.draw(st.sampled_from(ZPS), label="in_zp"))
        if data.draw(st.booleans(), label="same_quant"):
            qo = qi
        else:
            qo = (data.draw(st.sampled_from(SCALES), label="out_scale"), data.draw(st.sampled_from(ZPS), label="out_zp"))
        in_spec, out_spec = T(shape, "int8", *qi), T(shape, "int8", *qo)
    else:
        in_spec, out_spec = T(shape, "float32"), T(shape, "float32")
    _run(data, op_type, in_spec, out_spec, {})


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_leaky_relu(dtype, data):
    shape = _shape(data.draw)
    alpha = data.draw(st.sampled_from([0.01, 0.1, 0.2, 0.5, 1.0, 1.5, 0.0, -0.3]), label="alpha")
    if dtype == "int8":
        qi = (data.draw(st.sampled_from(SCALES), label="in_scale"), data.draw(st.sampled_from(ZPS), label="in_zp"))
        qo = (data.draw(st.sampled_from(SCALES), label="out_scale"), data.draw(st.sampled_from(ZPS), label="out_zp"))
        in_spec, out_spec = T(shape, "int8", *qi), T(shape, "int8", *qo)
    else:
        in_spec, out_spec = T(shape, "float32"), T(shape, "float32")
    _run(data, "LEAKY_RELU", in_spec, out_spec, {"alpha": alpha})


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_hard_swish(dtype, data):
    shape = _shape(data.draw)
    if dtype == "int8":
        in_scale = data.draw(st.sampled_from([1e-3, 0.01, 0.03, 0.05, 0.1, 0.5, 2.0, 8.0]), label="in_scale")
        # TFLM requires in_scale / 128 < out_scale; sweep ratios across that boundary region
        ratio = data.draw(st.sampled_from([1 / 100, 1 / 60, 0.1, 0.5, 1.0, 1.3, 4.0, 40.0, 900.0]), label="ratio")
        in_spec = T(shape, "int8", in_scale, data.draw(st.sampled_from(ZPS), label="in_zp"))
        out_spec = T(shape, "int8", in_scale * ratio, data.draw(st.sampled_from(ZPS), label="out_zp"))
    else:
        in_spec, out_spec = T(shape, "float32"), T(shape, "float32")
    _run(data, "HARD_SWISH", in_spec, out_spec, {})


# ---------------------------------------------------------------------------------------------
# Configurations TFLM rejects: EVO must reject them with a one-line EvoError.
# ---------------------------------------------------------------------------------------------


def _check(op_type, in_spec, out_spec, attrs=None):
    g = single_op_graph(op_type, [in_spec], [out_spec], attrs or {})
    op = g.ops[0]
    impl_for(op).check(g, op)


@pytest.mark.parametrize(
    "op_type,in_spec,out_spec,attrs",
    [
        ("SOFTMAX", T((1, 4), "int8", 0.1, 0), T((1, 4), "int8", 1 / 255, -128), {"beta": 1.0}),
        ("SOFTMAX", T((1, 4), "int8", 0.1, 0), T((1, 4), "int8", 1 / 256, 0), {"beta": 1.0}),
        ("SOFTMAX", T((1, 4), "int8", 1e-9, 0), T((1, 4), "int8", 1 / 256, -128), {"beta": 1.0}),
        ("SOFTMAX", T((1, 4), "int16", 0.1, 0), T((1, 4), "int16", 1 / 256, 0), {"beta": 1.0}),  # 16x8 needs 1/32768
        ("SOFTMAX", T((1, 4), "int16", 0.1, 5), T((1, 4), "int16", 1 / 32768, 0), {"beta": 1.0}),  # and zero points 0
        ("SOFTMAX", T((1, 4), "int16", 0.1, 0), T((1, 4), "int8", 1 / 256, -128), {"beta": 1.0}),
        ("LOGISTIC", T((1, 4), "int8", 0.1, 0), T((1, 4), "int8", 1 / 256, 0), {}),
        ("HARD_SWISH", T((1, 4), "int8", 1.0, 0), T((1, 4), "int8", 1 / 256, 0), {}),
        ("RELU", T((1, 4), "int8", 0.1, 0), T((1, 4), "float32"), {}),
        ("TANH", T((1, 4), "int32"), T((1, 4), "int32"), {}),
    ],
)
def test_rejected(op_type, in_spec, out_spec, attrs):
    with pytest.raises(EvoError):
        _check(op_type, in_spec, out_spec, attrs)


def test_rejected_hard_swish_matches_tflm():
    """The boundary of HARD_SWISH's output-scale requirement is the one TFLM's Prepare enforces."""
    from evo.verify.tflm import run_tflm
    from evo.frontend.tflite_reader import read_tflite

    model = single_op_model("HARD_SWISH", [T((1, 4), "int8", 1.0, 0)], [T((1, 4), "int8", 1 / 256, 0)])
    with pytest.raises(EvoError):
        g = read_tflite(model)
        run_tflm(model, g, [np.zeros((1, 4), np.int8)])
