"""The pool family's C kernels against the NumPy reference, called directly through cffi.

Each case builds a one-op graph, runs `prepare` + `reference` in Python, feeds the prepared
numbers (the same struct `emit` produces) to the compiled kernel, and compares bit for bit
(int8) or within float tolerance (float32). No TFLM, no codegen."""
from __future__ import annotations

import numpy as np
import pytest

from evo.errors import EvoError
from evo.ops.base import impl_for
from evo.ops.pool import mean_params, pool_params
from tests.support.kernels import header_cdef, load_kernels
from tests.support.single_op import TensorSpec as T
from tests.support.single_op import single_op_graph

SOURCES = ["avg_pool2d_s8.c", "avg_pool2d_f32.c", "max_pool2d_s8.c", "max_pool2d_f32.c", "mean_s8.c", "mean_f32.c"]

@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    return load_kernels(tmp_path_factory.mktemp("poolk"), SOURCES, header_cdef("pool.h"))


def _call(lib, func: str, params_type: str, params: dict, x: np.ndarray, out_shape, dtype) -> np.ndarray:
    ffi, so = lib
    ctype = "int8_t" if dtype == np.int8 else "float"
    x = np.ascontiguousarray(x)
    y = np.zeros(out_shape, dtype=dtype)
    p = ffi.new(f"{params_type} *", params)
    rc = getattr(so, func)(p, ffi.cast(f"{ctype} *", ffi.from_buffer(x)), ffi.cast(f"{ctype} *", ffi.from_buffer(y)))
    assert rc == 0
    return y


def _compare(c_out: np.ndarray, ref: np.ndarray) -> None:
    if ref.dtype == np.float32:
        tol = 1e-5 * max(1.0, float(np.max(np.abs(ref))))
        assert float(np.max(np.abs(c_out.astype(np.float64) - ref))) <= tol
    else:
        np.testing.assert_array_equal(c_out, ref)


def _random_input(rng, shape, dtype):
    if dtype == "int8":
        return rng.integers(-128, 128, size=shape).astype(np.int8)
    return (rng.standard_normal(shape) * 3).astype(np.float32)


def _pool_case(seed: int, op_type: str, dtype: str):
    rng = np.random.default_rng(seed)
    n, h, w, c = int(rng.integers(1, 3)), int(rng.integers(1, 9)), int(rng.integers(1, 9)), int(rng.integers(1, 5))
    fh, fw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    padding = ["SAME", "VALID"][int(rng.integers(0, 2))]
    if padding == "VALID":
        fh, fw = min(fh, h), min(fw, w)
    act = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"][int(rng.integers(0, 4))]
    if padding == "SAME":
        oh, ow = -(-h // sh), -(-w // sw)
    else:
        oh, ow = (h - fh) // sh + 1, (w - fw) // sw + 1
    q = (float(rng.choice([0.003, 0.02, 0.1, 0.7])), int(rng.integers(-128, 128))) if dtype == "int8" else (None, None)
    attrs = dict(padding=padding, stride_h=sh, stride_w=sw, filter_height=fh, filter_width=fw, fused_activation_function=act)
    g = single_op_graph(op_type, [T((n, h, w, c), dtype, *q)], [T((n, oh, ow, c), dtype, *q)], attrs)
    return g, rng


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("op_type", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("seed", range(40))
def test_pool_kernel_matches_reference(lib, seed, op_type, dtype):
    g, rng = _pool_case(seed, op_type, dtype)
    op = g.ops[0]
    impl = impl_for(op)
    impl.check(g, op)
    p = impl.prepare(g, op)
    x = _random_input(rng, g.tensor(op.inputs[0]).shape, dtype)
    ref = impl.reference(g, op, p, [x])[0]
    call = impl.emit(g, op, p)
    assert call.params == pool_params(p)
    out = _call(lib, call.func, "evo_pool2d_params_t", call.params, x, g.tensor(op.outputs[0]).shape, ref.dtype)
    _compare(out, ref)


def _mean_case(seed: int, dtype: str):
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 5))
    shape = tuple(int(v) for v in rng.integers(1, 7, size=rank))
    if rank == 4 and seed % 2 == 0:
        axes = [1, 2]
    else:
        k = int(rng.integers(1, min(rank, 2) + 1))
        axes = [int(a) for a in rng.choice(rank, size=k, replace=False)]
        axes = [a - rank if rng.integers(0, 2) else a for a in axes]
    keep = bool(rng.integers(0, 2))
    res = {a % rank for a in axes}
    out_shape = tuple(1 if i in res else d for i, d in enumerate(shape)) if keep else tuple(d for i, d in enumerate(shape) if i not in res)
    if dtype == "int8":
        qi = (float(rng.choice([0.003, 0.02, 0.1, 0.7])), int(rng.integers(-128, 128)))
        qo = qi if rng.integers(0, 3) == 0 else (float(qi[0] * rng.choice([0.01, 0.3, 1.0, 2.5, 40.0])), int(rng.integers(-128, 128)))
    else:
        qi = qo = (None, None)
    g = single_op_graph(
        "MEAN", [T(shape, dtype, *qi), T((len(axes),), "int32", data=np.array(axes, dtype=np.int32))], [T(out_shape, dtype, *qo)], dict(keep_dims=keep)
    )
    return g, rng


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("seed", range(60))
def test_mean_kernel_matches_reference(lib, seed, dtype):
    g, rng = _mean_case(seed, dtype)
    op = g.ops[0]
    impl = impl_for(op)
    impl.check(g, op)
    p = impl.prepare(g, op)
    x = _random_input(rng, g.tensor(op.inputs[0]).shape, dtype)
    ref = impl.reference(g, op, p, [x, g.tensor(op.inputs[1]).data])[0]
    call = impl.emit(g, op, p)
    assert call.params == mean_params(p)
    out = _call(lib, call.func, "evo_mean_params_t", call.params, x, g.tensor(op.outputs[0]).shape, ref.dtype)
    _compare(out, ref)


def test_mean_int8_extremes(lib):
    """Saturating sums, extreme zero points and scale ratios (tiny and huge multipliers)."""
    for xval in (-128, 127):
        for (si, zi), (so, zo) in [((1.0, -128), (1e-3, 127)), ((1e-3, 127), (10.0, -128)), ((0.5, 0), (0.5, 0)), ((1e-6, 5), (1.0, 0))]:
            shape = (1, 7, 9, 3)
            g = single_op_graph(
                "MEAN", [T(shape, "int8", si, zi), T((2,), "int32", data=np.array([1, 2], np.int32))], [T((1, 3), "int8", so, zo)], dict(keep_dims=False)
            )
            op = g.ops[0]
            impl = impl_for(op)
            p = impl.prepare(g, op)
            x = np.full(shape, xval, dtype=np.int8)
            ref = impl.reference(g, op, p, [x, None])[0]
            out = _call(lib, "evo_mean_s8", "evo_mean_params_t", mean_params(p), x, (1, 3), np.int8)
            np.testing.assert_array_equal(out, ref)


def test_rejections():
    # three reduced axes
    g = single_op_graph("MEAN", [T((1, 2, 3, 4), "float32"), T((3,), "int32", data=np.array([0, 1, 2], np.int32))], [T((4,), "float32")], dict(keep_dims=False))
    with pytest.raises(EvoError, match="at most two axes"):
        impl_for(g.ops[0]).check(g, g.ops[0])
    # int16 pool (16x8) with different input/output quantization
    attrs = dict(padding="VALID", stride_h=1, stride_w=1, filter_height=2, filter_width=2, fused_activation_function="NONE")
    g = single_op_graph("MAX_POOL_2D", [T((1, 4, 4, 1), "int16", 0.1, 0)], [T((1, 3, 3, 1), "int16", 0.2, 0)], attrs)
    with pytest.raises(EvoError, match="int16 MAX_POOL_2D with different"):
        impl_for(g.ops[0]).check(g, g.ops[0])
    # int8 pool with different input/output quantization
    g = single_op_graph("AVERAGE_POOL_2D", [T((1, 4, 4, 1), "int8", 0.1, 0)], [T((1, 3, 3, 1), "int8", 0.2, 0)], attrs)
    with pytest.raises(EvoError, match="different input and output quantization"):
        impl_for(g.ops[0]).check(g, g.ops[0])
    # non-constant axes
    g = single_op_graph("MEAN", [T((1, 2, 3, 4), "float32"), T((2,), "int32")], [T((1, 4), "float32")], dict(keep_dims=False))
    with pytest.raises(EvoError, match="non-constant"):
        impl_for(g.ops[0]).check(g, g.ops[0])
    # no axes at all
    g = single_op_graph("MEAN", [T((1, 2, 3, 4), "float32"), T((0,), "int32", data=np.zeros(0, np.int32))], [T((1, 2, 3, 4), "float32")], dict(keep_dims=True))
    with pytest.raises(EvoError, match="without reduction axes"):
        impl_for(g.ops[0]).check(g, g.ops[0])
