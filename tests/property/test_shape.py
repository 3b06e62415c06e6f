"""Data-movement ops against TFLM: single-op models over random shapes, axes, masks, dtypes
and quantization; TFLM, the NumPy reference (and the generated C once the host target exists)
must agree bit for bit."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from evo.errors import EvoError
from evo.ops.base import impl_for
from tests.support.differential import check_model
from tests.support.single_op import TensorSpec as T
from tests.support.single_op import single_op_graph, single_op_model

RUN_C = importlib.util.find_spec("evo.targets.host") is not None
N = 10  # examples per test (each builds and compiles a C model when RUN_C)

DTYPES = ["int8", "float32", "int16", "int32"]
ZERO_POINTS = st.one_of(st.sampled_from([-128, 127, 0]), st.integers(-128, 127))


@st.composite
def quant(draw, dtype):
    """(scale, zero_point) for dtype: random for int8, symmetric for int16, none otherwise."""
    if dtype == "int8":
        return draw(st.floats(1e-4, 10.0)), draw(ZERO_POINTS)
    if dtype == "int16":
        return draw(st.floats(1e-5, 1.0)), 0
    return None, None


def spec(shape, dtype, q, **kw) -> T:
    scale, zp = q
    return T(tuple(shape), dtype, scale=scale, zero_point=zp, **kw)


def ints(values) -> T:
    arr = np.asarray(values, dtype=np.int32)
    return T(arr.shape, "int32", data=arr)


def shapes(min_rank=1, max_rank=4, max_dim=4):
    return st.lists(st.integers(1, max_dim), min_size=min_rank, max_size=max_rank).map(tuple)


def run(op_type, inputs, outputs, attrs=None, seed=0):
    g = single_op_graph(op_type, inputs, outputs, attrs)
    impl_for(g.ops[0]).check(g, g.ops[0])
    check_model(single_op_model(op_type, inputs, outputs, attrs), seed=seed, run_c=RUN_C)


# --------------------------------------------------------------------------- copies


@settings(max_examples=N, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(DTYPES), shape=shapes())
def test_reshape(data, dtype, shape):
    q = data.draw(quant(dtype))
    size = int(np.prod(shape))
    target = data.draw(st.sampled_from([(size,), (1, size), tuple(reversed(shape)), shape + (1,)]))
    run("RESHAPE", [spec(shape, dtype, q), ints(list(target))], [spec(target, dtype, q)])


@settings(max_examples=N, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(DTYPES), shape=shapes(1, 3))
def test_squeeze(data, dtype, shape):
    q = data.draw(quant(dtype))
    ones = data.draw(st.lists(st.integers(0, len(shape)), min_size=1, max_size=3))
    full = list(shape)
    for pos in sorted(ones, reverse=True):
        full.insert(pos, 1)
    explicit = data.draw(st.booleans())
    if explicit:
        dims = [i for i, d in enumerate(full) if d == 1]
        chosen = data.draw(st.lists(st.sampled_from(dims), min_size=1, unique=True))
        squeeze_dims = [d - len(full) if data.draw(st.booleans()) else d for d in chosen]
        out = [d for i, d in enumerate(full) if i not in chosen]
    else:
        squeeze_dims = []
        out = [d for d in full if d != 1]
    run("SQUEEZE", [spec(full, dtype, q)], [spec(out, dtype, q)], {"squeeze_dims": squeeze_dims})


@settings(max_examples=N, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(["int8", "float32", "int16"]), shape=shapes(1, 4))
def test_expand_dims(data, dtype, shape):  # TFLM's EXPAND_DIMS has no int32
    q = data.draw(quant(dtype))
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    a = axis + len(shape) + 1 if axis < 0 else axis
    out = shape[:a] + (1,) + shape[a:]
    run("EXPAND_DIMS", [spec(shape, dtype, q), ints([axis])], [spec(out, dtype, q)])


# --------------------------------------------------------------------------- pad


@settings(max_examples=N, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(DTYPES), shape=shapes(1, 5, 3), v2=st.booleans())
def test_pad(data, dtype, shape, v2):
    q = data.draw(quant(dtype))
    pads = [[data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))] for _ in shape]
    if data.draw(st.booleans()) and len(shape) == 4:  # TFLM's "image style" path
        pads[0] = [0, 0]
        pads[3] = [0, 0]
    out = [d + a + b for d, (a, b) in zip(shape, pads)]
    inputs = [spec(shape, dtype, q), ints(pads)]
    if v2:
        if dtype == "float32":
            value = data.draw(st.floats(-100, 100, width=32))
        else:
            info = np.iinfo(np.dtype(dtype))
            value = data.draw(st.integers(int(max(info.min, -(2**31))), int(min(info.max, 2**31 - 1))))
        inputs.append(spec((), dtype, q, data=np.array(value)))
    run("PADV2" if v2 else "PAD", inputs, [spec(out, dtype, q)])


# --------------------------------------------------------------------------- concat / split


@settings(max_examples=N, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(DTYPES), shape=shapes(1, 4), n=st.integers(1, 5))
def test_concatenation(data, dtype, shape, n):
    q = data.draw(quant(dtype))
    rank = len(shape)
    axis = data.draw(st.integers(-rank, rank - 1))
    a = axis % rank
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))
    ins = [spec(shape[:a] + (s,) + shape[a + 1 :], dtype, q) for s in sizes]
    out = spec(shape[:a] + (sum(sizes),) + shape[a + 1 :], dtype, q)
    run("CONCATENATION", ins, [out], {"axis": axis, "fused_activation_function": "NONE"})


@settings(max_examples=N, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(DTYPES), shape=shapes(1, 4), n=st.integers(1, 4))
def test_split(data, dtype, shape, n):
    q = data.draw(quant(dtype))
    rank = len(shape)
    axis = data.draw(st.integers(-rank, rank - 1))
    a = axis % rank
    part = data.draw(st.integers(1, 3))
    src = shape[:a] + (part * n,) + shape[a + 1 :]
    outs = [spec(shape[:a] + (part,) + shape[a + 1 :], dtype, q) for _ in range(n)]
    run("SPLIT", [ints(axis), spec(src, dtype, q)], outs, {"num_splits": n})


@settings(max_examples=N, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(DTYPES), shape=shapes(1, 4), n=st.integers(1, 4))
def test_split_v(data, dtype, shape, n):
    q = data.draw(quant(dtype))
    rank = len(shape)
    axis = data.draw(st.integers(-rank, rank - 1))
    a = axis % rank
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))  # TFLM cannot allocate empty outputs
    size_splits = list(sizes)
    if data.draw(st.booleans()):
        size_splits[data.draw(st.integers(0, n - 1))] = -1
    src = shape[:a] + (sum(sizes),) + shape[a + 1 :]
    outs = [spec(shape[:a] + (s,) + shape[a + 1 :], dtype, q) for s in sizes]
    run("SPLIT_V", [spec(src, dtype, q), ints(size_splits), ints(axis)], outs, {"num_splits": n})


@settings(max_examples=N, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(DTYPES), shape=shapes(1, 3), n=st.integers(1, 4))
def test_pack(data, dtype, shape, n):
    q = data.draw(quant(dtype))
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    a = axis % (len(shape) + 1)
    out = shape[:a] + (n,) + shape[a:]
    run("PACK", [spec(shape, dtype, q) for _ in range(n)], [spec(out, dtype, q)], {"values_count": n, "axis": axis})


@settings(max_examples=N, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(DTYPES), shape=shapes(1, 4))
def test_unpack(data, dtype, shape):
    q = data.draw(quant(dtype))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    a = axis % len(shape)
    out = shape[:a] + shape[a + 1 :]
    n = shape[a]
    run("UNPACK", [spec(shape, dtype, q)], [spec(out, dtype, q) for _ in range(n)], {"num": n, "axis": axis})


# --------------------------------------------------------------------------- strided slice / transpose


@settings(max_examples=2 * N, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(DTYPES), shape=shapes(1, 4, 5))
def test_strided_slice(data, dtype, shape):
    q = data.draw(quant(dtype))
    rank = len(shape)
    idx = st.integers(-7, 7)
    begin = data.draw(st.lists(idx, min_size=rank, max_size=rank))
    end = data.draw(st.lists(idx, min_size=rank, max_size=rank))
    strides = data.draw(st.lists(st.sampled_from([1, 1, 2, 3, -1, -2]), min_size=rank, max_size=rank))
    masks = {k: data.draw(st.integers(0, (1 << rank) - 1)) for k in ("begin_mask", "end_mask")}
    masks["shrink_axis_mask"] = data.draw(st.sampled_from([0, 0, data.draw(st.integers(0, (1 << rank) - 1))]))
    inputs = [spec(shape, dtype, q), ints(begin), ints(end), ints(strides)]
    # The output shape EVO derives; TFLM's Prepare checks it independently.
    probe = single_op_graph("STRIDED_SLICE", inputs, [spec(shape, dtype, q)], masks)
    axes = impl_for(probe.ops[0])._axes(probe, probe.ops[0])
    assume(all(c == 1 for _, _, c, s in axes if s))  # TFLM writes nothing for a shrunk negative-stride axis
    out = [c for _, _, c, s in axes if not s]
    assume(all(c > 0 for c in out))
    run("STRIDED_SLICE", inputs, [spec(out, dtype, q)], masks)


@settings(max_examples=N, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(["int8", "float32", "int16"]), shape=shapes(1, 5))
def test_transpose(data, dtype, shape):  # TFLM's TRANSPOSE has no int32
    q = data.draw(quant(dtype))
    perm = data.draw(st.permutations(list(range(len(shape)))))
    out = tuple(shape[a] for a in perm)
    run("TRANSPOSE", [spec(shape, dtype, q), ints(perm)], [spec(out, dtype, q)])


# --------------------------------------------------------------------------- rejections


def _check(op_type, inputs, outputs, attrs=None):
    g = single_op_graph(op_type, inputs, outputs, attrs)
    impl_for(g.ops[0]).check(g, g.ops[0])


def test_concatenation_rejects_mismatched_quantization():
    # TFLM copies the int8 bytes without rescaling; EVO refuses rather than reproduce that.
    with pytest.raises(EvoError, match="quantization"):
        _check(
            "CONCATENATION",
            [T((2, 2), "int8", scale=0.5, zero_point=0), T((2, 2), "int8", scale=0.25, zero_point=0)],
            [T((2, 4), "int8", scale=0.5, zero_point=0)],
            {"axis": 1},
        )


def test_reshape_rejects_mismatched_quantization():
    with pytest.raises(EvoError, match="quantization"):
        _check("RESHAPE", [T((2, 2), "int8", scale=0.5, zero_point=1)], [T((4,), "int8", scale=0.5, zero_point=2)])


def test_concatenation_rejects_fused_activation():
    with pytest.raises(EvoError, match="RELU"):
        _check("CONCATENATION", [T((2,), "float32"), T((2,), "float32")], [T((4,), "float32")], {"axis": 0, "fused_activation_function": "RELU"})


@pytest.mark.parametrize("attrs", [{"offset": True}, {"ellipsis_mask": 1}, {"new_axis_mask": 1}])
def test_strided_slice_rejects_unsupported_options(attrs):
    with pytest.raises(EvoError, match="STRIDED_SLICE"):
        _check("STRIDED_SLICE", [T((4,), "float32"), ints([0]), ints([2]), ints([1])], [T((2,), "float32")], attrs)


def test_strided_slice_rejects_shrink_with_negative_stride():
    with pytest.raises(EvoError, match="shrunk"):
        _check("STRIDED_SLICE", [T((4, 3), "float32"), ints([1, 0]), ints([2, 3]), ints([-1, 1])], [T((3,), "float32")], {"shrink_axis_mask": 1})


def test_pad_rejects_negative_and_padv2_int8_constant_quantization():
    with pytest.raises(EvoError, match="negative"):
        _check("PAD", [T((4,), "float32"), ints([[-1, 0]])], [T((3,), "float32")])
    with pytest.raises(EvoError, match="pad value"):
        _check(
            "PADV2",
            [T((2,), "int8", scale=0.5, zero_point=3), ints([[1, 1]]), T((), "int8", scale=0.25, zero_point=3, data=np.array(1))],
            [T((4,), "int8", scale=0.5, zero_point=3)],
        )


def test_transpose_and_strided_slice_rank_limits():
    with pytest.raises(EvoError, match="at most 5"):
        _check("TRANSPOSE", [T((1,) * 6, "float32"), ints(list(range(6)))], [T((1,) * 6, "float32")])
    with pytest.raises(EvoError, match="at most 4"):
        _check("STRIDED_SLICE", [T((1,) * 5, "float32"), ints([0] * 5), ints([1] * 5), ints([1] * 5)], [T((1,) * 5, "float32")])


def test_concatenation_of_int8_with_extreme_quantization():
    q = dict(scale=1e-6, zero_point=-128)
    run("CONCATENATION", [T((1, 2, 2, 3), "int8", **q), T((1, 2, 2, 5), "int8", **q)], [T((1, 2, 2, 8), "int8", **q)], {"axis": 3})


def test_pad_int16_pads_with_zero_not_zero_point():
    # TFLM's PAD uses the output zero point only for int8; int16 (and int32/float) pad with 0.
    q = dict(scale=0.01, zero_point=5)
    run("PAD", [T((2, 3), "int16", **q), ints([[1, 1], [0, 2]])], [T((4, 5), "int16", **q)])
    g = single_op_graph("PAD", [T((1,), "int16", **q), ints([[1, 0]])], [T((2,), "int16", **q)])
    op = g.ops[0]
    impl = impl_for(op)
    (out,) = impl.reference(g, op, impl.prepare(g, op), [np.array([7], np.int16), g.tensor(1).data])
    assert out.tolist() == [0, 7]


def test_padv2_with_runtime_pad_value():
    # The constant_values input need not be constant in TFLM: the kernel reads it at run time.
    run("PADV2", [T((2, 3), "float32"), ints([[1, 0], [2, 1]]), T((1,), "float32")], [T((3, 6), "float32")])


@pytest.mark.parametrize("seed", [0, 1])
def test_concatenation_int64_and_single_input(seed):
    run("CONCATENATION", [T((2, 3), "int64"), T((2, 2), "int64")], [T((2, 5), "int64")], {"axis": -1}, seed=seed)
    run("CONCATENATION", [T((3, 2), "int8", scale=0.1, zero_point=127)], [T((3, 2), "int8", scale=0.1, zero_point=127)], {"axis": 0}, seed=seed)
