"""The conv family's C kernels against the NumPy reference, called directly through cffi.

Each case builds a one-op graph, runs check + prepare + reference in Python, fills the C
parameter struct from exactly what `emit` returns (ConstArrays become C arrays), calls the
compiled kernel and compares bit for bit (int8) or within float tolerance (float32). No TFLM and
no codegen, so configurations TFLM cannot run (e.g. depthwise without bias) are covered too."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evo.errors import EvoError
from evo.ops.base import ConstArray, Scratch, TensorArg, impl_for
from evo.ops.conv import compute_out_size, compute_padding
from tests.support.kernels import header_cdef, load_kernels
from tests.support.single_op import TensorSpec as T
from tests.support.single_op import single_op_graph

SOURCES = [
    "conv2d_s8.c",
    "conv2d_f32.c",
    "depthwise_conv2d_s8.c",
    "depthwise_conv2d_f32.c",
    "fully_connected_s8.c",
    "fully_connected_f32.c",
]
ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    return load_kernels(tmp_path_factory.mktemp("convk"), SOURCES, header_cdef("conv.h"))


CTYPE = {np.dtype(np.int8): "int8_t", np.dtype(np.int32): "int32_t", np.dtype(np.float32): "float"}


def run_c(lib, g, values: dict[int, np.ndarray]) -> np.ndarray:
    """Run the graph's single op through its emitted C kernel."""
    ffi, so = lib
    op = g.ops[0]
    impl = impl_for(op)
    call = impl.emit(g, op, impl.prepare(g, op))
    keep = []

    def conv(v):
        if isinstance(v, ConstArray):
            arr = np.ascontiguousarray(v.data)
            c = ffi.new(f"{CTYPE[arr.dtype]}[]", arr.tolist())
            keep.append(c)
            return c
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v

    params = ffi.new(f"{call.params_type} *", {k: conv(v) for k, v in call.params.items()})
    yt = g.tensor(op.outputs[0])
    y = np.zeros(yt.shape, dtype=yt.np_dtype)
    args = []
    for a in call.args:
        if a is None:
            args.append(ffi.NULL)
            continue
        if isinstance(a, Scratch):
            # poison the scratch buffer: the kernel must not depend on its contents
            buf = ffi.new("uint8_t[]", [0xA5] * call.scratch_bytes) if call.scratch_bytes else ffi.NULL
            keep.append(buf)
            args.append(buf)
            continue
        assert isinstance(a, TensorArg)
        arr = y if a.index == op.outputs[0] else np.ascontiguousarray(values[a.index])
        keep.append(arr)
        args.append(ffi.cast(f"{CTYPE[arr.dtype]} *", ffi.from_buffer(arr)))
    rc = getattr(so, call.func)(params, *args)
    assert rc == 0
    return y


def run_both(lib, g, seed: int = 0):
    rng = np.random.default_rng(seed)
    op = g.ops[0]
    impl = impl_for(op)
    impl.check(g, op)
    values = {}
    for t in g.tensors:
        if t.is_const:
            values[t.index] = t.data
        elif t.index in g.inputs:
            if t.dtype == "float32":
                values[t.index] = rng.standard_normal(t.shape).astype(np.float32)
            else:
                values[t.index] = rng.integers(-128, 128, size=t.shape).astype(np.int8)
    p = impl.prepare(g, op)
    ref = impl.reference(g, op, p, [values[i] if i >= 0 else None for i in op.inputs])[0]
    ref = np.asarray(ref).reshape(g.tensor(op.outputs[0]).shape)
    c = run_c(lib, g, values)
    if ref.dtype == np.float32:
        tol = 1e-5 * max(1.0, float(np.max(np.abs(ref))))
        assert float(np.max(np.abs(c.astype(np.float64) - ref))) <= tol
    else:
        assert c.dtype == ref.dtype
        np.testing.assert_array_equal(c, ref)
    return ref


# ----------------------------------------------------------------------------- graph builders


def conv_graph(rng, dt, n, h, w, cin, cout, kh, kw, stride, dil, pad, act, per_channel=True, bias=True,
               in_zp=0, out_zp=0, in_scale=0.05, out_scale=0.1, depthwise=False, mult=1):
    oh = compute_out_size(pad, h, kh, stride[0], dil[0])
    ow = compute_out_size(pad, w, kw, stride[1], dil[1])
    if depthwise:
        cout = cin * mult
        wshape = (1, kh, kw, cout)
        axis = 3
    else:
        wshape = (cout, kh, kw, cin)
        axis = 0
    attrs = dict(padding=pad, stride_h=stride[0], stride_w=stride[1], dilation_h_factor=dil[0],
                 dilation_w_factor=dil[1], fused_activation_function=act)
    if depthwise:
        attrs["depth_multiplier"] = mult
    if dt == "int8":
        fs = rng.uniform(0.002, 0.03, cout).astype(np.float32) if per_channel else np.float32(rng.uniform(0.002, 0.03))
        wdata = rng.integers(-127, 128, wshape)
        bs = (np.float32(in_scale) * np.atleast_1d(fs)).astype(np.float32)
        ins = [T((n, h, w, cin), "int8", in_scale, in_zp),
               T(wshape, "int8", fs, 0, axis, wdata),
               T((cout,), "int32", bs, 0, 0, rng.integers(-20000, 20000, cout)) if bias else None]
        outs = [T((n, oh, ow, cout), "int8", out_scale, out_zp)]
    else:
        ins = [T((n, h, w, cin), "float32"), T(wshape, "float32", data=rng.standard_normal(wshape)),
               T((cout,), "float32", data=rng.standard_normal(cout)) if bias else None]
        outs = [T((n, oh, ow, cout), "float32")]
    return single_op_graph("DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", ins, outs, attrs)


def fc_graph(rng, dt, xshape, units, act, per_channel=False, bias=True, in_zp=0, out_zp=0, w_zp=0,
             in_scale=0.05, out_scale=0.2, keep_num_dims=False):
    depth = xshape[-1] if keep_num_dims else int(rng.choice([d for d in _divisors(int(np.prod(xshape)))]))
    batches = int(np.prod(xshape)) // depth
    oshape = tuple(xshape[:-1]) + (units,) if keep_num_dims else (batches, units)
    attrs = dict(fused_activation_function=act, keep_num_dims=keep_num_dims, weights_format="DEFAULT")
    if dt == "int8":
        fs = rng.uniform(0.002, 0.03, units).astype(np.float32) if per_channel else np.float32(rng.uniform(0.002, 0.03))
        bs = (np.float32(in_scale) * np.atleast_1d(fs)).astype(np.float32)
        ins = [T(xshape, "int8", in_scale, in_zp),
               T((units, depth), "int8", fs, w_zp, 0, rng.integers(-127, 128, (units, depth))),
               T((units,), "int32", bs, 0, 0, rng.integers(-20000, 20000, units)) if bias else None]
        outs = [T(oshape, "int8", out_scale, out_zp)]
    else:
        ins = [T(xshape, "float32"), T((units, depth), "float32", data=rng.standard_normal((units, depth))),
               T((units,), "float32", data=rng.standard_normal(units)) if bias else None]
        outs = [T(oshape, "float32")]
    return single_op_graph("FULLY_CONNECTED", ins, outs, attrs)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


# ----------------------------------------------------------------------------- fixed cases


@pytest.mark.parametrize("dt", ["int8", "float32"])
@pytest.mark.parametrize("pad", ["SAME", "VALID"])
@pytest.mark.parametrize("stride,dil", [((1, 1), (1, 1)), ((2, 2), (1, 1)), ((1, 2), (2, 1)), ((3, 1), (2, 3))])
def test_conv2d(lib, dt, pad, stride, dil):
    rng = np.random.default_rng(1)
    g = conv_graph(rng, dt, 2, 9, 8, 3, 5, 3, 2, stride, dil, pad, "RELU6", in_zp=-7, out_zp=3)
    run_both(lib, g)


@pytest.mark.parametrize("dt", ["int8", "float32"])
@pytest.mark.parametrize("pad", ["SAME", "VALID"])
@pytest.mark.parametrize("stride,dil,mult", [((1, 1), (1, 1), 1), ((2, 2), (1, 1), 2), ((1, 2), (2, 2), 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_depthwise(lib, dt, pad, stride, dil, mult, bias):
    rng = np.random.default_rng(2)
    g = conv_graph(rng, dt, 1, 8, 7, 4, 0, 3, 3, stride, dil, pad, "RELU", bias=bias, in_zp=-128, out_zp=-5,
                   depthwise=True, mult=mult)
    run_both(lib, g)


@pytest.mark.parametrize("dt", ["int8", "float32"])
@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("w_zp", [0, 5])
def test_fully_connected(lib, dt, per_channel, w_zp):
    rng = np.random.default_rng(3)
    g = fc_graph(rng, dt, (3, 4, 6), 7, "RELU", per_channel=per_channel, in_zp=17, out_zp=-9, w_zp=w_zp)
    run_both(lib, g)


def test_fully_connected_no_bias_keep_dims(lib):
    rng = np.random.default_rng(4)
    run_both(lib, fc_graph(rng, "int8", (2, 3, 5), 4, "NONE", bias=False, keep_num_dims=True))
    run_both(lib, fc_graph(rng, "float32", (2, 3, 5), 4, "RELU_N1_TO_1", bias=False, keep_num_dims=True))


def test_conv_kernel_larger_than_input(lib):
    # SAME padding with a kernel wider than the image: every window is partial.
    rng = np.random.default_rng(5)
    run_both(lib, conv_graph(rng, "int8", 1, 2, 3, 2, 3, 5, 5, (1, 1), (1, 1), "SAME", "NONE", in_zp=100))
    run_both(lib, conv_graph(rng, "int8", 1, 3, 3, 2, 4, 3, 3, (1, 1), (3, 3), "SAME", "NONE", in_zp=-100,
                             depthwise=True, mult=2))


def test_extreme_zero_points_and_scales(lib):
    rng = np.random.default_rng(6)
    for in_zp, out_zp, in_s, out_s in [(-128, 127, 1e-3, 10.0), (127, -128, 2.0, 1e-3), (0, 0, 0.5, 0.5)]:
        run_both(lib, conv_graph(rng, "int8", 1, 5, 5, 3, 4, 3, 3, (1, 1), (1, 1), "SAME", "NONE",
                                 in_zp=in_zp, out_zp=out_zp, in_scale=in_s, out_scale=out_s))
        run_both(lib, fc_graph(rng, "int8", (2, 8), 3, "NONE", in_zp=in_zp, out_zp=out_zp, in_scale=in_s, out_scale=out_s))


def test_padding_helpers():
    assert compute_out_size("SAME", 7, 3, 2, 1) == 4
    assert compute_out_size("VALID", 7, 3, 2, 1) == 3
    assert compute_out_size("VALID", 7, 3, 1, 3) == 1
    assert compute_padding(2, 1, 7, 3, 4) == 1
    assert compute_padding(1, 1, 7, 3, 5) == 0  # VALID: no padding
    assert compute_padding(2, 1, 6, 3, 3) == 0  # total padding 1 -> leading 0


def test_rejects():
    rng = np.random.default_rng(7)
    # grouped convolution
    ins = [T((1, 4, 4, 4), "int8", 0.1, 0), T((2, 3, 3, 2), "int8", 0.01, 0, 0, rng.integers(-5, 5, (2, 3, 3, 2))), None]
    g = single_op_graph("CONV_2D", ins, [T((1, 4, 4, 2), "int8", 0.1, 0)], dict(padding="SAME", stride_h=1, stride_w=1))
    with pytest.raises(EvoError, match="grouped"):
        impl_for(g.ops[0]).check(g, g.ops[0])
    # hybrid: float input, int8 weights
    ins = [T((1, 4, 4, 2), "float32"), T((2, 1, 1, 2), "int8", 0.01, 0, 0, np.ones((2, 1, 1, 2))), None]
    g = single_op_graph("CONV_2D", ins, [T((1, 4, 4, 2), "float32")], dict(padding="SAME", stride_h=1, stride_w=1))
    with pytest.raises(EvoError, match="hybrid"):
        impl_for(g.ops[0]).check(g, g.ops[0])
    # unsupported activation
    g = conv_graph(rng, "int8", 1, 4, 4, 2, 2, 1, 1, (1, 1), (1, 1), "SAME", "NONE")
    g.ops[0].attrs["fused_activation_function"] = "TANH"
    with pytest.raises(EvoError, match="TANH"):
        impl_for(g.ops[0]).check(g, g.ops[0])
    # 16x8: int32 bias (TFLM would take the int32-accumulator path EVO does not implement)
    ins = [T((1, 4), "int16", 0.1, 0), T((2, 4), "int8", 0.01, 0, 0, np.ones((2, 4))), T((2,), "int32", 0.001, 0, 0, np.ones(2))]
    g = single_op_graph("FULLY_CONNECTED", ins, [T((1, 2), "int16", 0.1, 0)], dict(fused_activation_function="NONE"))
    with pytest.raises(EvoError, match="int32 bias with int16 activations"):
        impl_for(g.ops[0]).check(g, g.ops[0])
    # 16x8: asymmetric int16 input
    ins = [T((1, 4), "int16", 0.1, 3), T((2, 4), "int8", 0.01, 0, 0, np.ones((2, 4))), None]
    g = single_op_graph("FULLY_CONNECTED", ins, [T((1, 2), "int16", 0.1, 0)], dict(fused_activation_function="NONE"))
    with pytest.raises(EvoError, match="zero point 0"):
        impl_for(g.ops[0]).check(g, g.ops[0])
    # shuffled weights
    g = fc_graph(rng, "int8", (1, 8), 4, "NONE")
    g.ops[0].attrs["weights_format"] = "SHUFFLED4x16INT8"
    with pytest.raises(EvoError, match="weights format"):
        impl_for(g.ops[0]).check(g, g.ops[0])
    # inconsistent depth multiplier
    g = conv_graph(rng, "int8", 1, 4, 4, 2, 0, 3, 3, (1, 1), (1, 1), "SAME", "NONE", depthwise=True, mult=2)
    g.ops[0].attrs["depth_multiplier"] = 1
    with pytest.raises(EvoError, match="depth_multiplier"):
        impl_for(g.ops[0]).check(g, g.ops[0])
    # wrong output shape
    g = conv_graph(rng, "float32", 1, 6, 6, 2, 2, 3, 3, (2, 2), (1, 1), "SAME", "NONE")
    g.ops[0].attrs["padding"] = "VALID"
    with pytest.raises(EvoError, match="output shape"):
        impl_for(g.ops[0]).check(g, g.ops[0])


def test_macs():
    rng = np.random.default_rng(8)
    g = conv_graph(rng, "int8", 1, 6, 6, 3, 4, 3, 3, (1, 1), (1, 1), "SAME", "NONE")
    assert impl_for(g.ops[0]).macs(g, g.ops[0]) == 6 * 6 * 4 * 3 * 3 * 3
    g = conv_graph(rng, "int8", 1, 6, 6, 3, 0, 3, 3, (2, 2), (1, 1), "SAME", "NONE", depthwise=True, mult=2)
    assert impl_for(g.ops[0]).macs(g, g.ops[0]) == 3 * 3 * 6 * 3 * 3
    g = fc_graph(rng, "int8", (2, 10), 5, "NONE", keep_num_dims=True)
    assert impl_for(g.ops[0]).macs(g, g.ops[0]) == 2 * 5 * 10


# ----------------------------------------------------------------------------- random sweep


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    dt=st.sampled_from(["int8", "float32"]),
    kind=st.sampled_from(["conv", "depthwise", "fc"]),
    act=st.sampled_from(ACTS),
    pad=st.sampled_from(["SAME", "VALID"]),
    per_channel=st.booleans(),
    bias=st.booleans(),
)
def test_random_sweep(lib, seed, dt, kind, act, pad, per_channel, bias):
    rng = np.random.default_rng(seed)
    in_zp, out_zp = int(rng.integers(-128, 128)), int(rng.integers(-128, 128))
    in_s, out_s = float(10 ** rng.uniform(-3, 0)), float(10 ** rng.uniform(-2, 0.5))
    if kind == "fc":
        xshape = tuple(int(d) for d in rng.integers(1, 6, size=int(rng.integers(2, 4))))
        g = fc_graph(rng, dt, xshape, int(rng.integers(1, 9)), act, per_channel=per_channel, bias=bias,
                     in_zp=in_zp, out_zp=out_zp, in_scale=in_s, out_scale=out_s,
                     w_zp=0 if per_channel else int(rng.integers(-3, 4)))
    else:
        kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        dil = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        h = int(rng.integers((kh - 1) * dil[0] + 1, 10))
        w = int(rng.integers((kw - 1) * dil[1] + 1, 10))
        g = conv_graph(rng, dt, int(rng.integers(1, 3)), h, w, int(rng.integers(1, 5)), int(rng.integers(1, 6)),
                       kh, kw, stride, dil, pad, act, per_channel=per_channel, bias=bias, in_zp=in_zp, out_zp=out_zp,
                       in_scale=in_s, out_scale=out_s, depthwise=kind == "depthwise", mult=int(rng.integers(1, 4)))
    run_both(lib, g, seed)


@pytest.mark.parametrize("cin,cout,kh,kw,pad", [(1, 16, 3, 3, "SAME"), (1, 7, 5, 5, "SAME"), (2, 6, 4, 4, "VALID"), (8, 6, 3, 3, "SAME")])
def test_conv2d_f32_patch_path(lib, cin, cout, kh, kw, pad):
    # receptive fields of <= 64 floats take the patch path of conv2d_f32.c (channel tails, padded
    # taps as zeros); 8 channels x 3x3 = 72 keeps the direct loop.
    rng = np.random.default_rng(cin * 10 + cout)
    run_both(lib, conv_graph(rng, "float32", 1, 8, 7, cin, cout, kh, kw, (1, 1), (1, 1), pad, "RELU6"))
    run_both(lib, conv_graph(rng, "float32", 2, 6, 9, cin, cout, kh, kw, (2, 1), (1, 2), pad, "NONE", bias=False))
