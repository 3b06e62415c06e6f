"""The activation family's C kernels against the NumPy reference, called directly through cffi.

Each case builds a one-op graph, runs `check` + `prepare` + `reference` in Python, feeds the
struct `emit` produces to the compiled kernel and compares bit for bit (int8) or within float
tolerance (float32). int8 cases run every one of the 256 input values through each of many
quantization configurations. No TFLM, no codegen."""
from __future__ import annotations

import math

import numpy as np
import pytest

from evo.errors import EvoError
from evo.ops.base import impl_for
from evo.ref import gemmlowp as gl
from tests.support.differential import assert_same
from tests.support.kernels import header_cdef, load_kernels
from tests.support.single_op import TensorSpec as T
from tests.support.single_op import single_op_graph

SOURCES = [
    f"{op}_{s}.c"
    for op in ("softmax", "logistic", "tanh", "relu", "leaky_relu", "hard_swish")
    for s in ("s8", "f32")
]

FUNCS = {
    "evo_softmax_s8": "evo_softmax_params_t",
    "evo_softmax_f32": "evo_softmax_f32_params_t",
    "evo_logistic_s8": "evo_logistic_params_t",
    "evo_logistic_f32": "evo_act_f32_params_t",
    "evo_tanh_s8": "evo_tanh_params_t",
    "evo_tanh_f32": "evo_act_f32_params_t",
    "evo_relu_s8": "evo_relu_params_t",
    "evo_relu_f32": "evo_relu_f32_params_t",
    "evo_leaky_relu_s8": "evo_leaky_relu_params_t",
    "evo_leaky_relu_f32": "evo_leaky_relu_f32_params_t",
    "evo_hard_swish_s8": "evo_hard_swish_params_t",
    "evo_hard_swish_f32": "evo_act_f32_params_t",
}


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    return load_kernels(tmp_path_factory.mktemp("actk"), SOURCES, header_cdef("activation.h"), libs=["-lm"])


def run_case(lib, op_type, in_spec, out_spec, attrs, x):
    """Reference vs C for one configuration and input; returns the (shared) output."""
    ffi, so = lib
    g = single_op_graph(op_type, [in_spec], [out_spec], attrs)
    op = g.ops[0]
    impl = impl_for(op)
    impl.check(g, op)
    p = impl.prepare(g, op)
    call = impl.emit(g, op, p)
    assert FUNCS[call.func] == call.params_type
    x = np.ascontiguousarray(x.reshape(in_spec.shape))
    try:
        (expected,) = impl.reference(g, op, p, [x])
        expected = np.asarray(expected).astype(x.dtype).reshape(out_spec.shape)
        ref_error = False
    except EvoError:
        ref_error = True
    params = ffi.new(f"{call.params_type} *", call.params)
    out = np.zeros(out_spec.shape, dtype=x.dtype)
    ct = "int8_t *" if x.dtype == np.int8 else "float *"
    status = getattr(so, call.func)(params, ffi.cast(ct, x.ctypes.data), ffi.cast(ct, out.ctypes.data))
    if ref_error:
        assert status != 0, "the reference rejected the input but the kernel did not"
        return None
    assert status == 0
    assert_same(out, expected, f"{op_type} C vs reference")
    return out


ALL_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)


def _log_uniform(rng, lo, hi):
    return float(np.float32(math.exp(rng.uniform(math.log(lo), math.log(hi)))))


def _zp(rng):
    return int(rng.choice([-128, 127, 0, int(rng.integers(-128, 128))]))


# ---------------------------------------------------------------------------------------------
# int8, every input value, many quantizations
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("op_type", ["LOGISTIC", "TANH"])
def test_sigmoidal_s8_exhaustive(lib, op_type):
    rng = np.random.default_rng(1)
    scales = [1e-5, 2.0**-27, 0.0078125, 0.0625, 0.1, 1.0, 7.9, 16.0, 100.0]
    scales += [_log_uniform(rng, 1e-4, 50.0) for _ in range(60)]
    for scale in scales:
        zp = _zp(rng)
        out = T((1, 256), "int8", 1 / 256, -128) if op_type == "LOGISTIC" else T((1, 256), "int8", 1 / 128, 0)
        run_case(lib, op_type, T((1, 256), "int8", scale, zp), out, {}, ALL_INT8)


def test_logistic_tanh_monotone_and_accurate(lib):
    """Sanity of the fixed-point path itself: within 1 LSB of the real function, monotone."""
    for op_type, fn, qo in (
        ("LOGISTIC", lambda v: 1 / (1 + np.exp(-v)), (1 / 256, -128)),
        ("TANH", np.tanh, (1 / 128, 0)),
    ):
        scale = 0.05
        y = run_case(lib, op_type, T((1, 256), "int8", scale, 0), T((1, 256), "int8", *qo), {}, ALL_INT8).astype(np.int64)
        real = fn(np.arange(-128, 128) * scale) / qo[0] + qo[1]
        assert np.all(np.diff(y) >= 0)
        assert np.max(np.abs(y - np.clip(real, -128, 127))) <= 1.0


@pytest.mark.parametrize("op_type", ["RELU", "RELU6", "RELU_N1_TO_1"])
def test_relu_s8_exhaustive(lib, op_type):
    rng = np.random.default_rng(2)
    for i in range(80):
        si = _log_uniform(rng, 1e-3, 4.0)
        so = si if i % 4 == 0 else _log_uniform(rng, 1e-3, 4.0)
        zi = _zp(rng)
        zo = zi if i % 4 == 0 else _zp(rng)
        run_case(lib, op_type, T((1, 256), "int8", si, zi), T((1, 256), "int8", so, zo), {}, ALL_INT8)


def test_relu6_int8_clamps_in_input_quantization(lib):
    """TFLM's RELU6 ignores the output quantization: out = clamp(in, zp_in, q(6))."""
    y = run_case(lib, "RELU6", T((1, 256), "int8", 0.05, -10), T((1, 256), "int8", 0.5, 3), {}, ALL_INT8)
    assert y.min() == -10 and y.max() == 110


def test_leaky_relu_s8_exhaustive(lib):
    rng = np.random.default_rng(3)
    alphas = [0.0, 0.01, 0.2, 0.5, 1.0, 2.5, -0.3, -1.0]
    for i in range(80):
        alpha = float(np.float32(alphas[i % len(alphas)] if i < 40 else rng.uniform(-2, 2)))
        si, so = _log_uniform(rng, 1e-3, 4.0), _log_uniform(rng, 1e-3, 4.0)
        run_case(lib, "LEAKY_RELU", T((1, 256), "int8", si, _zp(rng)), T((1, 256), "int8", so, _zp(rng)), {"alpha": alpha}, ALL_INT8)


def test_hard_swish_s8_exhaustive(lib):
    rng = np.random.default_rng(4)
    done = 0
    for i in range(200):
        si = _log_uniform(rng, 1e-4, 50.0)
        so = si * _log_uniform(rng, 1.0 / 127, 3000.0)
        try:
            run_case(lib, "HARD_SWISH", T((1, 256), "int8", si, _zp(rng)), T((1, 256), "int8", so, _zp(rng)), {}, ALL_INT8)
            done += 1
        except EvoError:
            assert si / 128 >= so * 0.999
    assert done > 150


def test_hard_swish_s8_rejects_large_output_multiplier(lib):
    with pytest.raises(EvoError):
        run_case(lib, "HARD_SWISH", T((1, 256), "int8", 1.0, 0), T((1, 256), "int8", 1 / 256, 0), {}, ALL_INT8)


# ---------------------------------------------------------------------------------------------
# SOFTMAX
# ---------------------------------------------------------------------------------------------


def test_softmax_s8_random(lib):
    rng = np.random.default_rng(5)
    for i in range(150):
        depth = int(rng.choice([1, 2, 3, 10, 37, 100, 1001]))
        outer = int(rng.integers(1, 4))
        scale = _log_uniform(rng, 1e-4, 60.0)
        beta = float(np.float32(rng.choice([1.0, 0.5, 2.0, rng.uniform(0.05, 4.0)])))
        shape = (outer, depth)
        if i % 5 == 0:  # narrow spread: many values near the row max
            x = rng.integers(100, 128, size=shape).astype(np.int8)
        else:
            x = rng.integers(-128, 128, size=shape).astype(np.int8)
        y = run_case(lib, "SOFTMAX", T(shape, "int8", scale, _zp(rng)), T(shape, "int8", 1 / 256, -128), {"beta": beta}, x)
        assert y is not None or depth >= 512  # long near-uniform rows overflow TFLM's sum range


def test_softmax_s8_uniform_rows(lib):
    """All-equal rows: the sum of exponentials is depth * 2^19; TFLM's exponent check fails
    from depth 512 on, which EVO reports (reference: EvoError, C: EVO_ERR_ARG)."""
    for depth in (1, 2, 255, 256, 511, 512, 700):
        x = np.full((1, depth), 7, dtype=np.int8)
        y = run_case(lib, "SOFTMAX", T((1, depth), "int8", 0.1, 0), T((1, depth), "int8", 1 / 256, -128), {"beta": 1.0}, x)
        if depth < 512:
            assert y is not None and int(y.max()) - int(y.min()) == 0
        else:
            assert y is None


def test_softmax_f32(lib):
    rng = np.random.default_rng(6)
    for depth in (1, 5, 64, 1001):
        for beta in (1.0, 0.3, 2.5):
            x = (rng.standard_normal((3, depth)) * 5).astype(np.float32)
            y = run_case(lib, "SOFTMAX", T((3, depth), "float32"), T((3, depth), "float32"), {"beta": beta}, x)
            np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-4)


# ---------------------------------------------------------------------------------------------
# float32
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "op_type,attrs",
    [("LOGISTIC", {}), ("TANH", {}), ("RELU", {}), ("RELU6", {}), ("RELU_N1_TO_1", {}), ("HARD_SWISH", {}),
     ("LEAKY_RELU", {"alpha": 0.2}), ("LEAKY_RELU", {"alpha": -1.5})],
)
def test_float_ops(lib, op_type, attrs):
    rng = np.random.default_rng(7)
    x = np.concatenate([np.linspace(-40, 40, 801), rng.standard_normal(300) * 5, [0.0, -0.0, 3.0, -3.0, 6.0, 1.0, -1.0]])
    x = x.astype(np.float32).reshape(1, -1)
    run_case(lib, op_type, T(x.shape, "float32"), T(x.shape, "float32"), attrs, x)


# ---------------------------------------------------------------------------------------------
# gemmlowp helpers: the Python emulation is close to the real functions
# ---------------------------------------------------------------------------------------------


def test_gemmlowp_python_accuracy():
    a = np.linspace(-31.9, 0, 4001)
    raw = np.round(a * 2**26).astype(np.int64)
    e = gl.exp_on_negative_values(raw, 5) / 2**31
    assert np.max(np.abs(e - np.exp(raw / 2**26))) < 1e-6
    x = np.linspace(0, 0.999, 1000)
    r = gl.one_over_one_plus_x_for_x_in_0_1(np.round(x * 2**31).astype(np.int64)) / 2**31
    assert np.max(np.abs(r - 1 / (1 + x))) < 1e-6
    recip, bits = gl.get_reciprocal(np.array([3 << 19]), 12)
    assert abs(recip[0] / 2**31 * 2.0 ** -int(bits[0]) - 1 / 3) < 1e-6
