"""The shape family's C kernels, called directly (cffi ABI mode) with the parameters that
`prepare`/`emit` produce, against the NumPy reference. Independent of the code generator."""
from __future__ import annotations

import numpy as np
import pytest

from evo.ir import DTYPES
from evo.ops.base import ConstArray, TensorArg, TensorList, impl_for
from tests.support.kernels import header_cdef, load_kernels
from tests.support.single_op import TensorSpec as T
from tests.support.single_op import single_op_graph

cffi = pytest.importorskip("cffi")

SOURCES = ["copy_any.c", "pad_any.c", "concatenation_any.c", "split_any.c", "strided_slice_any.c", "transpose_any.c"]


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    return load_kernels(tmp_path_factory.mktemp("shape_kernels"), SOURCES, header_cdef("shape.h"))


def run_c(lib, g, op, inputs: dict[int, np.ndarray]) -> list[np.ndarray]:
    """Run op's emitted kernel call on `inputs` ({tensor index: array}); returns its outputs."""
    ffi, dll = lib
    impl = impl_for(op)
    impl.check(g, op)
    call = impl.emit(g, op, impl.prepare(g, op))
    keep = []  # keeps cffi buffers alive during the call

    def const_array(a: ConstArray):
        arr = np.ascontiguousarray(a.data)
        keep.append(arr)
        return ffi.cast("void *", ffi.from_buffer(arr))

    fields = {}
    for k, v in call.params.items():
        if isinstance(v, ConstArray):
            buf = ffi.new("int32_t[]", [int(x) for x in np.asarray(v.data).reshape(-1)])
            keep.append(buf)
            fields[k] = buf
        else:
            fields[k] = v
    params = ffi.new(f"{call.params_type} *", fields)
    outputs = {t: np.zeros(g.tensor(t).shape, dtype=DTYPES[g.tensor(t).dtype]) for t in op.outputs}
    args = []
    for a in call.args:
        if isinstance(a, TensorArg):
            arr = outputs[a.index] if a.index in outputs else np.ascontiguousarray(inputs[a.index])
            keep.append(arr)
            args.append(ffi.cast("void *", ffi.from_buffer(arr)))
        elif isinstance(a, TensorList):
            ptrs = []
            for i in a.indices:
                arr = outputs[i] if i in outputs else np.ascontiguousarray(inputs[i])
                keep.append(arr)
                ptrs.append(ffi.cast("void *", ffi.from_buffer(arr)))
            plist = ffi.new("void *[]", ptrs)
            keep.append(plist)
            args.append(plist)
        elif isinstance(a, ConstArray):
            args.append(const_array(a))
        else:
            raise AssertionError(f"unexpected kernel argument {a!r}")
    status = getattr(dll, call.func)(params, *args)
    assert status == 0, f"{call.func} returned {status}"
    return [outputs[t] for t in op.outputs]


def run_both(lib, g, rng):
    op = g.ops[0]
    values = {}
    for t in g.tensors:
        if t.is_const:
            values[t.index] = t.data
    for i in g.inputs:
        t = g.tensor(i)
        if t.dtype == "float32":
            values[i] = rng.standard_normal(t.shape).astype(np.float32)
        elif t.dtype == "bool":
            values[i] = rng.integers(0, 2, size=t.shape).astype(np.bool_)
        else:
            info = np.iinfo(DTYPES[t.dtype])
            values[i] = rng.integers(info.min, info.max, size=t.shape, endpoint=True).astype(DTYPES[t.dtype])
    impl = impl_for(op)
    impl.check(g, op)
    ref = impl.reference(g, op, impl.prepare(g, op), [values.get(i) if i >= 0 else None for i in op.inputs])
    got = run_c(lib, g, op, values)
    for r, c, o in zip(ref, got, op.outputs):
        r = np.asarray(r).reshape(g.tensor(o).shape)
        assert r.dtype == c.dtype
        np.testing.assert_array_equal(c.view(np.uint8) if c.dtype == np.bool_ else c, r.view(np.uint8) if r.dtype == np.bool_ else r)


def _c(values) -> T:
    arr = np.asarray(values, dtype=np.int32)
    return T(arr.shape, "int32", data=arr)


def _t(shape, dtype, **kw) -> T:
    if dtype == "int8":
        return T(shape, dtype, scale=0.25, zero_point=-7, **kw)
    return T(shape, dtype, **kw)


DTYPE_LIST = ["int8", "int16", "int32", "float32", "int64", "uint8"]


def _cases(dt):
    return [
        ("RESHAPE", [_t((2, 3, 4), dt), _c([6, 4])], [_t((6, 4), dt)], {}),
        ("SQUEEZE", [_t((1, 3, 1, 4), dt)], [_t((3, 4), dt)], {"squeeze_dims": [0, -2]}),
        ("EXPAND_DIMS", [_t((3, 4), dt), _c([-1])], [_t((3, 4, 1), dt)], {}),
        ("CONCATENATION", [_t((2, 3, 2), dt), _t((2, 1, 2), dt), _t((2, 4, 2), dt)], [_t((2, 8, 2), dt)], {"axis": 1}),
        ("CONCATENATION", [_t((3,), dt), _t((5,), dt)], [_t((8,), dt)], {"axis": -1}),
        ("SPLIT", [_c(0), _t((4, 3), dt)], [_t((2, 3), dt)] * 2, {"num_splits": 2}),
        ("SPLIT_V", [_t((2, 7), dt), _c([3, -1, 1]), _c(-1)], [_t((2, 3), dt), _t((2, 3), dt), _t((2, 1), dt)], {"num_splits": 3}),
        ("PACK", [_t((2, 3), dt)] * 4, [_t((2, 3, 4), dt)], {"values_count": 4, "axis": -1}),
        ("PACK", [_t((2, 3), dt)] * 2, [_t((2, 2, 3), dt)], {"values_count": 2, "axis": 0}),
        ("UNPACK", [_t((2, 3, 4), dt)], [_t((3, 4), dt)] * 2, {"num": 2, "axis": 0}),
        ("UNPACK", [_t((2, 3, 4), dt)], [_t((2, 3), dt)] * 4, {"num": 4, "axis": 2}),
        ("STRIDED_SLICE", [_t((3, 5, 4), dt), _c([0, 1, -1]), _c([3, 5, 0]), _c([1, 2, -1])], [_t((3, 2, 3), dt)], {}),
        ("STRIDED_SLICE", [_t((3, 5, 4), dt), _c([2, 1, 0]), _c([0, 5, 4]), _c([-1, 3, 1])], [_t((3, 4), dt)], {"begin_mask": 1, "end_mask": 1, "shrink_axis_mask": 2}),
        ("STRIDED_SLICE", [_t((6,), dt), _c([-2]), _c([-100]), _c([-2])], [_t((3,), dt)], {}),
        ("TRANSPOSE", [_t((2, 3, 4), dt), _c([2, 0, 1])], [_t((4, 2, 3), dt)], {}),
        ("TRANSPOSE", [_t((2, 3, 1, 2, 3), dt), _c([4, 3, 2, 1, 0])], [_t((3, 2, 1, 3, 2), dt)], {}),
        ("TRANSPOSE", [_t((2, 3, 4), dt), _c([1, 0, 2])], [_t((3, 2, 4), dt)], {}),
    ]


@pytest.mark.parametrize("dtype", DTYPE_LIST)
def test_data_movement_kernels(lib, dtype):
    rng = np.random.default_rng(1)
    for op_type, ins, outs, attrs in _cases(dtype):
        run_both(lib, single_op_graph(op_type, ins, outs, attrs), rng)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "float32"])
def test_pad_kernel(lib, dtype):
    rng = np.random.default_rng(2)
    cases = [
        ("PAD", [_t((1, 3, 4, 2), dtype), _c([[0, 1], [2, 0], [1, 1], [0, 3]])], [_t((2, 5, 6, 5), dtype)]),
        ("PAD", [_t((2, 1, 3, 1, 2), dtype), _c([[1, 0], [0, 2], [1, 1], [2, 0], [1, 1]])], [_t((3, 3, 5, 3, 4), dtype)]),
        ("PAD", [_t((3,), dtype), _c([[0, 0]])], [_t((3,), dtype)]),
        ("PADV2", [_t((3, 4), dtype), _c([[1, 1], [2, 0]]), _t((), dtype, data=np.array(5))], [_t((5, 6), dtype)]),
    ]
    for op_type, ins, outs in cases:
        run_both(lib, single_op_graph(op_type, ins, outs), rng)


def test_pad_value_int8_is_output_zero_point(lib):
    g = single_op_graph("PAD", [_t((2, 2), "int8"), _c([[1, 0], [0, 1]])], [_t((3, 3), "int8")])
    x = np.array([[1, 2], [3, 4]], dtype=np.int8)
    (out,) = run_c(lib, g, g.ops[0], {g.inputs[0]: x, 1: g.tensor(1).data})
    np.testing.assert_array_equal(out, [[-7, -7, -7], [1, 2, -7], [3, 4, -7]])


def test_copy_in_place(lib):
    ffi, dll = lib
    buf = np.arange(10, dtype=np.int8)
    p = ffi.new("evo_copy_params_t *", {"nbytes": 10})
    ptr = ffi.cast("void *", ffi.from_buffer(buf))
    assert dll.evo_copy_any(p, ptr, ptr) == 0
    np.testing.assert_array_equal(buf, np.arange(10))
