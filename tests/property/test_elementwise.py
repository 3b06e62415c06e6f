"""ADD, SUB, MUL, MAXIMUM, MINIMUM, QUANTIZE, DEQUANTIZE: TFLM (oracle) == NumPy reference == generated C."""
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

ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]
ZPS = [-128, -127, -5, 0, 17, 126, 127]

scales = st.one_of(
    st.sampled_from([1e-3, 0.0078125, 0.02, 0.1, 0.5, 1.0, 2.0]),
    st.floats(1e-3, 4.0).map(lambda v: float(np.float32(v))),
)
zero_points = st.one_of(st.sampled_from(ZPS), st.integers(-128, 127))


@st.composite
def broadcast_shapes(draw, max_rank: int = 5):
    """(input 1 shape, input 2 shape, output shape) that broadcast NumPy-style."""
    rank = draw(st.integers(0, max_rank))
    out = tuple(draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank)))

    def operand():
        r = draw(st.integers(0, rank))
        dims = list(out[rank - r:])
        for i in range(len(dims)):
            if draw(st.booleans()):
                dims[i] = 1
        return tuple(dims)

    a, b = operand(), operand()
    if draw(st.booleans()):  # often make one operand full-size
        a = out
    if draw(st.booleans()):
        a, b = b, a
    return a, b, tuple(np.broadcast_shapes(a, b))


def _fix_scalars(a, b, const):
    """Rank-0 graph inputs do not survive run_tflm's np.ascontiguousarray (it makes them 1-D),
    so scalars are only used as constants."""
    a = a or (1,)
    if not const:
        b = b or (1,)
    return a, b, tuple(np.broadcast_shapes(a, b))


def _int8_inputs(shapes, seed, mode):
    rng = np.random.default_rng(seed)
    if mode == "full":
        return [rng.integers(-128, 128, size=s).astype(np.int8) for s in shapes]
    return [rng.choice(np.array([-128, -127, 127, 126, 0], dtype=np.int8), size=s) for s in shapes]


@pytest.mark.parametrize("op_type", ["ADD", "SUB", "MUL"])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_arith_int8(op_type, data):
    a, b, o = data.draw(broadcast_shapes())
    q1, q2, qo = [(data.draw(scales), data.draw(zero_points)) for _ in range(3)]
    act = data.draw(st.sampled_from(ACTS))
    const = data.draw(st.booleans())
    a, b, o = _fix_scalars(a, b, const)
    seed = data.draw(st.integers(0, 2**16))
    mode = data.draw(st.sampled_from(["full", "extremes"]))
    x1, x2 = _int8_inputs([a, b], seed, mode)
    spec2 = T(b, "int8", *q2, data=x2) if const else T(b, "int8", *q2)
    model = single_op_model(op_type, [T(a, "int8", *q1), spec2], [T(o, "int8", *qo)], {"fused_activation_function": act})
    check_model(model, inputs=[x1] if const else [x1, x2], run_c=RUN_C)


@pytest.mark.parametrize("op_type", ["ADD", "SUB", "MUL"])
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_arith_int8_all_pairs(op_type, data):
    """Every (int8, int8) input pair at once through a [256,1] x [1,256] broadcast: a last-bit
    difference in any multiplier (e.g. float vs double arithmetic in Prepare) shows up here."""
    q1, q2, qo = [(data.draw(scales), data.draw(zero_points)) for _ in range(3)]
    act = data.draw(st.sampled_from(ACTS))
    x1 = np.arange(-128, 128, dtype=np.int8).reshape(256, 1)
    x2 = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)
    model = single_op_model(op_type, [T((256, 1), "int8", *q1), T((1, 256), "int8", *q2)], [T((256, 256), "int8", *qo)],
                            {"fused_activation_function": act})
    check_model(model, inputs=[x1, x2], run_c=RUN_C)


@pytest.mark.parametrize("op_type", ["ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM"])
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_binary_float(op_type, data):
    a, b, o = data.draw(broadcast_shapes())
    attrs = {"fused_activation_function": data.draw(st.sampled_from(ACTS))} if op_type in ("ADD", "SUB", "MUL") else {}
    const = data.draw(st.booleans())
    a, b, o = _fix_scalars(a, b, const)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x1 = (rng.standard_normal(a) * 3).astype(np.float32)
    x2 = (rng.standard_normal(b) * 3).astype(np.float32)
    spec2 = T(b, "float32", data=x2) if const else T(b, "float32")
    model = single_op_model(op_type, [T(a, "float32"), spec2], [T(o, "float32")], attrs)
    check_model(model, inputs=[x1] if const else [x1, x2], run_c=RUN_C)


@pytest.mark.parametrize("op_type", ["MAXIMUM", "MINIMUM"])
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_maxmin_int8(op_type, data):
    a, b, o = data.draw(broadcast_shapes())
    q = (data.draw(scales), data.draw(zero_points))
    a, b, o = _fix_scalars(a, b, False)
    x1, x2 = _int8_inputs([a, b], data.draw(st.integers(0, 2**16)), data.draw(st.sampled_from(["full", "extremes"])))
    model = single_op_model(op_type, [T(a, "int8", *q), T(b, "int8", *q)], [T(o, "int8", *q)])
    check_model(model, inputs=[x1, x2], run_c=RUN_C)


def test_six_dims():
    """The kernels iterate up to six dimensions."""
    a, b = (2, 1, 3, 1, 2, 2), (1, 4, 1, 5, 1, 2)
    o = tuple(np.broadcast_shapes(a, b))
    x1, x2 = _int8_inputs([a, b], 7, "full")
    for op_type in ("ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM"):
        q = [(0.05, 3)] * 3 if op_type in ("MAXIMUM", "MINIMUM") else [(0.05, 3), (0.02, -9), (0.07, 1)]
        attrs = {} if op_type in ("MAXIMUM", "MINIMUM") else {"fused_activation_function": "NONE"}
        model = single_op_model(op_type, [T(a, "int8", *q[0]), T(b, "int8", *q[1])], [T(o, "int8", *q[2])], attrs)
        check_model(model, inputs=[x1, x2], run_c=RUN_C)


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_quantize_float(data):
    dtype = data.draw(st.sampled_from(["int8", "int16"]))
    shape = tuple(data.draw(st.lists(st.integers(1, 6), min_size=1, max_size=4)))
    scale = data.draw(scales)
    zp = data.draw(zero_points) if dtype == "int8" else 0
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    span = 150.0 if dtype == "int8" else 40000.0
    x = (rng.uniform(-span, span, size=shape) * scale).astype(np.float32)
    flat = x.reshape(-1)
    # exact ties (k + 0.5) * scale where representable, and zeros
    k = rng.integers(-130, 130, size=flat.size)
    ties = rng.random(flat.size) < 0.3
    flat[ties] = ((k[ties] + 0.5) * np.float32(scale)).astype(np.float32)
    flat[rng.random(flat.size) < 0.05] = 0.0
    model = single_op_model("QUANTIZE", [T(shape, "float32")], [T(shape, dtype, scale, zp)])
    check_model(model, inputs=[x], run_c=RUN_C)


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_requantize(data):
    src = data.draw(st.sampled_from(["int8", "int16"]))
    dst = data.draw(st.sampled_from(["int8", "int16"]))
    shape = tuple(data.draw(st.lists(st.integers(1, 6), min_size=1, max_size=4)))
    si, so = data.draw(scales), data.draw(scales)
    zi = data.draw(zero_points) if src == "int8" else 0
    zo = data.draw(zero_points) if dst == "int8" else 0
    model = single_op_model("QUANTIZE", [T(shape, src, si, zi)], [T(shape, dst, so, zo)])
    check_model(model, seed=data.draw(st.integers(0, 2**16)), run_c=RUN_C)


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_dequantize(data):
    src = data.draw(st.sampled_from(["int8", "int16"]))
    shape = tuple(data.draw(st.lists(st.integers(1, 6), min_size=1, max_size=4)))
    scale = data.draw(st.one_of(scales, st.floats(1e-6, 1e3).map(lambda v: float(np.float32(v)))))
    zp = data.draw(zero_points) if src == "int8" else 0
    model = single_op_model("DEQUANTIZE", [T(shape, src, scale, zp)], [T(shape, "float32")])
    check_model(model, seed=data.draw(st.integers(0, 2**16)), run_c=RUN_C)


def _rejects(g, words):
    with pytest.raises(EvoError) as e:
        impl_for(g.ops[0]).check(g, g.ops[0])
    msg = str(e.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg


def test_rejections():
    s4 = (1, 2, 2, 3)
    # int16 arithmetic needs symmetric (zero point 0) tensors
    _rejects(single_op_graph("ADD", [T(s4, "int16", 0.1, 3), T(s4, "int16", 0.1, 0)], [T(s4, "int16", 0.1, 0)],
                             {"fused_activation_function": "NONE"}), ["ADD", "int16"])
    # mixed dtypes
    _rejects(single_op_graph("MUL", [T(s4, "int8", 0.1, 0), T(s4, "float32")], [T(s4, "int8", 0.1, 0)],
                             {"fused_activation_function": "NONE"}), ["MUL", "float32"])
    # per-channel quantized operand
    _rejects(single_op_graph("ADD", [T(s4, "int8", np.array([0.1, 0.2, 0.3]), 0, axis=3), T(s4, "int8", 0.1, 0)],
                             [T(s4, "int8", 0.1, 0)], {"fused_activation_function": "NONE"}), ["per channel"])
    # unsupported fused activation
    _rejects(single_op_graph("SUB", [T(s4, "float32"), T(s4, "float32")], [T(s4, "float32")],
                             {"fused_activation_function": "TANH"}), ["TANH"])
    # MAXIMUM with different quantization
    _rejects(single_op_graph("MAXIMUM", [T(s4, "int8", 0.1, 0), T(s4, "int8", 0.2, 0)], [T(s4, "int8", 0.1, 0)]),
             ["MAXIMUM", "quantization"])
    # shapes that do not broadcast, and rank 7
    _rejects(single_op_graph("ADD", [T((2, 3), "float32"), T((4, 3), "float32")], [T((2, 3), "float32")],
                             {"fused_activation_function": "NONE"}), ["broadcast"])
    r7 = (1, 1, 1, 1, 1, 2, 2)
    _rejects(single_op_graph("ADD", [T(r7, "float32"), T(r7, "float32")], [T(r7, "float32")],
                             {"fused_activation_function": "NONE"}), ["rank 7"])
    # QUANTIZE / DEQUANTIZE type pairs
    _rejects(single_op_graph("QUANTIZE", [T(s4, "float32")], [T(s4, "uint8", 0.1, 128)]), ["QUANTIZE", "uint8"])
    _rejects(single_op_graph("QUANTIZE", [T(s4, "float32")], [T(s4, "int8", np.array([0.1, 0.2, 0.3]), 0, axis=3)]),
             ["per channel"])
    _rejects(single_op_graph("DEQUANTIZE", [T(s4, "uint8", 0.1, 128)], [T(s4, "float32")]), ["DEQUANTIZE", "uint8"])
    # ADD whose output scale is too small for TFLM's left-shift scheme
    _rejects(single_op_graph("ADD", [T(s4, "int8", 1.0, 0), T(s4, "int8", 1.0, 0)], [T(s4, "int8", 1e-7, 0)],
                             {"fused_activation_function": "NONE"}), ["ADD", "scale"])


def test_macs():
    s = (1, 4, 4, 8)
    g = single_op_graph("MUL", [T(s, "int8", 0.1, 0), T((8,), "int8", 0.1, 0)], [T(s, "int8", 0.1, 0)],
                        {"fused_activation_function": "NONE"})
    assert impl_for(g.ops[0]).macs(g, g.ops[0]) == 128
    g = single_op_graph("ADD", [T(s, "int8", 0.1, 0), T((8,), "int8", 0.1, 0)], [T(s, "int8", 0.1, 0)],
                        {"fused_activation_function": "NONE"})
    assert impl_for(g.ops[0]).macs(g, g.ops[0]) == 0
