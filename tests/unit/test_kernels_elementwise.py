"""The element-wise C kernels, called directly through cffi, against the NumPy reference.

Each case builds a one-operator graph, takes the parameters from the operator's `prepare` and
`emit` (so the struct layout in elementwise.h and the Python field names are checked too), runs
the kernel and compares with `reference` bit for bit (float: exactly as well, since both follow
the same IEEE single-precision operations)."""
from __future__ import annotations

import shutil
import zlib

import numpy as np
import pytest

from evo.ops.base import TensorArg, impl_for
from tests.support.kernels import header_cdef, load_kernels
from tests.support.single_op import TensorSpec as T
from tests.support.single_op import single_op_graph

cffi = pytest.importorskip("cffi")

SOURCES = [
    "add_s8", "sub_s8", "mul_s8", "add_f32", "sub_f32", "mul_f32",
    "maximum_s8", "minimum_s8", "maximum_f32", "minimum_f32",
    "quantize_s8", "quantize_s16", "dequantize_s8", "dequantize_s16",
    "requantize_s8_s8", "requantize_s8_s16", "requantize_s16_s8", "requantize_s16_s16",
]

CTYPES = {np.dtype(np.int8): "int8_t", np.dtype(np.int16): "int16_t", np.dtype(np.float32): "float"}


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc not available")
    return load_kernels(tmp_path_factory.mktemp("ew"), [f"{s}.c" for s in SOURCES], header_cdef("elementwise.h"))


def run_both(lib, g, inputs):
    """Reference outputs and C outputs of the graph's single op for the given input arrays."""
    ffi, C = lib
    op = g.ops[0]
    impl = impl_for(op)
    impl.check(g, op)
    p = impl.prepare(g, op)
    values = {}
    for t in g.tensors:
        if t.is_const:
            values[t.index] = t.data
    for t, x in zip(g.inputs, inputs):
        values[t] = np.ascontiguousarray(x)
    ref = impl.reference(g, op, p, [values[i] for i in op.inputs])[0]
    call = impl.emit(g, op, p)
    out_t = g.tensor(op.outputs[0])
    out = np.zeros(out_t.shape, dtype=out_t.np_dtype)
    values[op.outputs[0]] = out
    params = ffi.new(call.params_type + " *", call.params)
    args = []
    keep = []
    for a in call.args:
        assert isinstance(a, TensorArg)
        arr = np.ascontiguousarray(values[a.index])
        keep.append(arr)
        args.append(ffi.from_buffer(CTYPES[arr.dtype] + "[]", arr))
    assert getattr(C, call.func)(params, *args) == 0
    for src in call.sources:
        assert src[:-2] in SOURCES, src
    return np.asarray(ref).reshape(out_t.shape), out


def rand(rng, shape, dtype):
    if dtype == "float32":
        return (rng.standard_normal(shape) * 3).astype(np.float32)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)


SHAPES = [
    ((1, 8, 8, 16), (1, 1, 1, 16)),
    ((2, 3, 4, 5), (3, 1, 5)),
    ((4, 1, 3), (1, 5, 1)),
    ((7,), ()),
    ((), (2, 3)),
    ((2, 1, 3, 1, 2, 2), (1, 4, 1, 5, 1, 2)),
    ((3, 5), (3, 5)),
]


def out_shape(a, b):
    return tuple(np.broadcast_shapes(a, b))


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("act", ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"])
def test_arith_s8(lib, op, shapes, act):
    rng = np.random.default_rng(zlib.crc32(repr((op, shapes, act)).encode()))
    a, b = shapes
    o = out_shape(a, b)
    for trial in range(4):
        s1, s2, so = (float(x) for x in 10.0 ** rng.uniform(-3, 0, 3))
        z1, z2, zo = (int(x) for x in rng.integers(-128, 128, 3))
        g = single_op_graph(op, [T(a, "int8", s1, z1), T(b, "int8", s2, z2)], [T(o, "int8", so, zo)],
                            {"fused_activation_function": act})
        try:
            impl_for(g.ops[0]).check(g, g.ops[0])
        except Exception:
            continue
        ref, c = run_both(lib, g, [rand(rng, a, np.int8), rand(rng, b, np.int8)])
        np.testing.assert_array_equal(c, ref)


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM"])
@pytest.mark.parametrize("shapes", SHAPES)
def test_binary_f32(lib, op, shapes):
    rng = np.random.default_rng(1)
    a, b = shapes
    attrs = {"fused_activation_function": "RELU6"} if op in ("ADD", "SUB", "MUL") else {}
    g = single_op_graph(op, [T(a, "float32"), T(b, "float32")], [T(out_shape(a, b), "float32")], attrs)
    ref, c = run_both(lib, g, [rand(rng, a, "float32"), rand(rng, b, "float32")])
    np.testing.assert_array_equal(c, ref)


@pytest.mark.parametrize("op", ["MAXIMUM", "MINIMUM"])
@pytest.mark.parametrize("shapes", SHAPES)
def test_maxmin_s8(lib, op, shapes):
    rng = np.random.default_rng(2)
    a, b = shapes
    g = single_op_graph(op, [T(a, "int8", 0.1, -5), T(b, "int8", 0.1, -5)], [T(out_shape(a, b), "int8", 0.1, -5)])
    ref, c = run_both(lib, g, [rand(rng, a, np.int8), rand(rng, b, np.int8)])
    np.testing.assert_array_equal(c, ref)


def test_constant_operand(lib):
    rng = np.random.default_rng(3)
    g = single_op_graph("ADD", [T((2, 4, 4, 3), "int8", 0.05, 10), T((3,), "int8", 0.02, -7, data=rand(rng, (3,), np.int8))],
                        [T((2, 4, 4, 3), "int8", 0.07, 1)], {"fused_activation_function": "NONE"})
    ref, c = run_both(lib, g, [rand(rng, (2, 4, 4, 3), np.int8)])
    np.testing.assert_array_equal(c, ref)


@pytest.mark.parametrize("dtype", ["int8", "int16"])
@pytest.mark.parametrize("zp", [-128, 0, 5, 127])
def test_quantize(lib, dtype, zp):
    rng = np.random.default_rng(4)
    if dtype == "int16":
        zp = 0
    for scale in (1e-3, 0.0078125, 0.0371, 0.5, 3.0):
        x = (rng.standard_normal(200) * 200 * scale).astype(np.float32)
        # exact halves, signed zero, huge values and NaN
        x[:6] = np.float32([0.5, -0.5, 2.5, -2.5, 1.5, -0.0]) * np.float32(scale)
        x[6:10] = [np.inf, -np.inf, np.nan, 3e38]
        g = single_op_graph("QUANTIZE", [T((200,), "float32")], [T((200,), dtype, scale, zp)])
        ref, c = run_both(lib, g, [x])
        np.testing.assert_array_equal(c, ref)


@pytest.mark.parametrize("src", ["int8", "int16"])
@pytest.mark.parametrize("dst", ["int8", "int16"])
def test_requantize(lib, src, dst):
    rng = np.random.default_rng(5)
    for _ in range(8):
        si, so = (float(x) for x in 10.0 ** rng.uniform(-4, 0, 2))
        zi = int(rng.integers(-128, 128)) if src == "int8" else 0
        zo = int(rng.integers(-128, 128)) if dst == "int8" else 0
        g = single_op_graph("QUANTIZE", [T((3, 50), src, si, zi)], [T((3, 50), dst, so, zo)])
        ref, c = run_both(lib, g, [rand(rng, (3, 50), np.dtype(src))])
        np.testing.assert_array_equal(c, ref)


@pytest.mark.parametrize("src", ["int8", "int16"])
def test_dequantize(lib, src):
    rng = np.random.default_rng(6)
    for _ in range(8):
        s = float(10.0 ** rng.uniform(-5, 1))
        z = int(rng.integers(-128, 128)) if src == "int8" else 0
        g = single_op_graph("DEQUANTIZE", [T((4, 64), src, s, z)], [T((4, 64), "float32")])
        ref, c = run_both(lib, g, [rand(rng, (4, 64), np.dtype(src))])
        np.testing.assert_array_equal(c, ref)
