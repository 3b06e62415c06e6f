"""Property tests for the 16x8 conv family (int16 activations, int8 weights, int64 bias):
CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED single-op models through TFLM (the oracle), EVO's
NumPy reference and EVO's generated C, bit for bit.

Scales are drawn so that outputs use the int16 range without pushing the int64 rescale past
int32 (TFLM truncates there; EVO does the same, but such a model is meaningless)."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.property.test_conv import conv_layout
from tests.support.differential import check_model
from tests.support.single_op import TensorSpec as T
from tests.support.single_op import single_op_model

ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]


def _scales(rng, per_channel: bool, n: int):
    return (10 ** rng.uniform(-3, -1, n)).astype(np.float32) if per_channel else np.float32(10 ** rng.uniform(-3, -1))


def conv_s16_model(seed, n, h, w, cin, cout, kh, kw, stride, dil, pad, act, per_channel, bias, in_scale, out_scale,
                   depthwise=False, mult=1) -> bytes:
    rng = np.random.default_rng(seed)
    oh, ow, cout, wshape, axis, attrs = conv_layout(h, w, cin, cout, kh, kw, stride, dil, pad, act, depthwise, mult)
    fs = _scales(rng, per_channel, cout)
    bs = (np.float32(in_scale) * np.atleast_1d(fs)).astype(np.float32)
    ins = [T((n, h, w, cin), "int16", in_scale, 0),
           T(wshape, "int8", fs, 0, axis, rng.integers(-127, 128, wshape)),
           T((cout,), "int64", bs, 0, 0, rng.integers(-(2**24), 2**24, cout)) if bias else None]
    outs = [T((n, oh, ow, cout), "int16", out_scale, 0)]
    return single_op_model("DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", ins, outs, attrs)


def fc_s16_model(seed, xshape, units, depth, act, per_channel, bias, in_scale, out_scale) -> bytes:
    rng = np.random.default_rng(seed)
    batches = int(np.prod(xshape)) // depth
    fs = _scales(rng, per_channel, units)
    bs = (np.float32(in_scale) * np.atleast_1d(fs)).astype(np.float32)
    ins = [T(xshape, "int16", in_scale, 0),
           T((units, depth), "int8", fs, 0, 0, rng.integers(-127, 128, (units, depth))),
           T((units,), "int64", bs, 0, 0, rng.integers(-(2**24), 2**24, units)) if bias else None]
    attrs = dict(fused_activation_function=act, keep_num_dims=False, weights_format="DEFAULT")
    return single_op_model("FULLY_CONNECTED", ins, [T((batches, units), "int16", out_scale, 0)], attrs)


@st.composite
def conv_cases(draw, depthwise: bool):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    return dict(
        seed=draw(st.integers(0, 2**32 - 1)),
        n=draw(st.integers(1, 2)),
        h=draw(st.integers((kh - 1) * dil[0] + 1, 9)),
        w=draw(st.integers((kw - 1) * dil[1] + 1, 9)),
        cin=draw(st.integers(1, 5)),
        cout=draw(st.integers(1, 6)),
        kh=kh, kw=kw, stride=stride, dil=dil,
        pad=draw(st.sampled_from(["SAME", "VALID"])),
        act=draw(st.sampled_from(ACTS)),
        per_channel=draw(st.booleans()),
        bias=True if depthwise else draw(st.booleans()),  # TFLM's depthwise needs a bias
        in_scale=10 ** draw(st.floats(-5, -3)),
        out_scale=10 ** draw(st.floats(-3, -1)),
        depthwise=depthwise,
        mult=draw(st.integers(1, 3)),
    )


@settings(max_examples=20, deadline=None)
@given(case=conv_cases(False))
def test_conv2d_s16(case):
    check_model(conv_s16_model(**case), seed=case["seed"] % 1000)


@settings(max_examples=20, deadline=None)
@given(case=conv_cases(True))
def test_depthwise_conv2d_s16(case):
    check_model(conv_s16_model(**case), seed=case["seed"] % 1000)


@st.composite
def fc_cases(draw):
    rank = draw(st.integers(1, 3))
    xshape = tuple(draw(st.lists(st.integers(1, 6), min_size=rank, max_size=rank)))
    total = int(np.prod(xshape))
    return dict(
        seed=draw(st.integers(0, 2**32 - 1)),
        xshape=xshape,
        units=draw(st.integers(1, 8)),
        depth=draw(st.sampled_from([d for d in range(1, total + 1) if total % d == 0])),
        act=draw(st.sampled_from(ACTS)),
        per_channel=draw(st.booleans()),
        bias=draw(st.booleans()),
        in_scale=10 ** draw(st.floats(-5, -3)),
        out_scale=10 ** draw(st.floats(-3, -1)),
    )


@settings(max_examples=20, deadline=None)
@given(case=fc_cases())
def test_fully_connected_s16(case):
    check_model(fc_s16_model(**case), seed=case["seed"] % 1000)


def test_conv2d_s16_wide_input():
    # 600 input channels: the C kernel's int64 path (no int32 partial sums)
    check_model(conv_s16_model(7, 1, 3, 3, 600, 3, 1, 1, (1, 1), (1, 1), "SAME", "NONE", True, True, 1e-5, 1e-2), seed=1)
