"""Property tests for the conv family (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED).

Single-op models with random shapes, options and quantization are run through TFLM (the oracle),
EVO's NumPy reference and EVO's generated C (`check_model`): int8 must match bit for bit.

TFLM quirk: its DEPTHWISE_CONV_2D Prepare dereferences the bias unconditionally, so a
depthwise model without bias crashes TFLM; that case is covered only against the reference in
tests/unit/test_kernels_conv.py."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evo.ops.conv import compute_out_size
from tests.support.differential import check_model
from tests.support.single_op import TensorSpec as T
from tests.support.single_op import single_op_model

ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]
RUN_C = True

zero_points = st.one_of(st.sampled_from([-128, 127, 0]), st.integers(-128, 127))
log_scales = st.floats(-3.5, 0.5)  # scale = 10 ** x


def conv_layout(h, w, cin, cout, kh, kw, stride, dil, pad, act, depthwise, mult):
    """(oh, ow, cout, filter shape, filter quantized axis, operator attributes) of a CONV_2D or
    DEPTHWISE_CONV_2D single-op model (depthwise: cout = cin * mult); shared with test_conv_s16."""
    oh = compute_out_size(pad, h, kh, stride[0], dil[0])
    ow = compute_out_size(pad, w, kw, stride[1], dil[1])
    if depthwise:
        cout = cin * mult
        wshape, axis = (1, kh, kw, cout), 3
    else:
        wshape, axis = (cout, kh, kw, cin), 0
    attrs = dict(padding=pad, stride_h=stride[0], stride_w=stride[1], dilation_h_factor=dil[0],
                 dilation_w_factor=dil[1], fused_activation_function=act)
    if depthwise:
        attrs["depth_multiplier"] = mult
    return oh, ow, cout, wshape, axis, attrs


def _conv_model(seed, dt, n, h, w, cin, cout, kh, kw, stride, dil, pad, act, per_channel, bias, in_zp, out_zp,
                in_scale, out_scale, depthwise=False, mult=1) -> bytes:
    rng = np.random.default_rng(seed)
    oh, ow, cout, wshape, axis, attrs = conv_layout(h, w, cin, cout, kh, kw, stride, dil, pad, act, depthwise, mult)
    if dt == "int8":
        fs = (10 ** rng.uniform(-3, -1, cout)).astype(np.float32) if per_channel else np.float32(10 ** rng.uniform(-3, -1))
        bs = (np.float32(in_scale) * np.atleast_1d(fs)).astype(np.float32)
        ins = [T((n, h, w, cin), "int8", in_scale, in_zp),
               T(wshape, "int8", fs, 0, axis, rng.integers(-127, 128, wshape)),
               T((cout,), "int32", bs, 0, 0, rng.integers(-30000, 30000, cout)) if bias else None]
        outs = [T((n, oh, ow, cout), "int8", out_scale, out_zp)]
    else:
        ins = [T((n, h, w, cin), "float32"), T(wshape, "float32", data=rng.standard_normal(wshape)),
               T((cout,), "float32", data=rng.standard_normal(cout)) if bias else None]
        outs = [T((n, oh, ow, cout), "float32")]
    return single_op_model("DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", ins, outs, attrs)


def _fc_model(seed, dt, xshape, units, depth, act, per_channel, bias, in_zp, out_zp, w_zp, in_scale, out_scale,
              keep_num_dims) -> bytes:
    rng = np.random.default_rng(seed)
    batches = int(np.prod(xshape)) // depth
    oshape = tuple(xshape[:-1]) + (units,) if keep_num_dims else (batches, units)
    attrs = dict(fused_activation_function=act, keep_num_dims=keep_num_dims, weights_format="DEFAULT")
    if dt == "int8":
        fs = (10 ** rng.uniform(-3, -1, units)).astype(np.float32) if per_channel else np.float32(10 ** rng.uniform(-3, -1))
        bs = (np.float32(in_scale) * np.atleast_1d(fs)).astype(np.float32)
        ins = [T(xshape, "int8", in_scale, in_zp),
               T((units, depth), "int8", fs, w_zp, 0, rng.integers(-127, 128, (units, depth))),
               T((units,), "int32", bs, 0, 0, rng.integers(-30000, 30000, units)) if bias else None]
        outs = [T(oshape, "int8", out_scale, out_zp)]
    else:
        ins = [T(xshape, "float32"), T((units, depth), "float32", data=rng.standard_normal((units, depth))),
               T((units,), "float32", data=rng.standard_normal(units)) if bias else None]
        outs = [T(oshape, "float32")]
    return single_op_model("FULLY_CONNECTED", ins, outs, attrs)


@st.composite
def conv_cases(draw, depthwise: bool):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dil = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    h = draw(st.integers((kh - 1) * dil[0] + 1, 10))
    w = draw(st.integers((kw - 1) * dil[1] + 1, 10))
    return dict(
        seed=draw(st.integers(0, 2**32 - 1)),
        dt=draw(st.sampled_from(["int8", "float32"])),
        n=draw(st.integers(1, 2)),
        h=h,
        w=w,
        cin=draw(st.integers(1, 5)),
        cout=draw(st.integers(1, 6)),
        kh=kh,
        kw=kw,
        stride=stride,
        dil=dil,
        pad=draw(st.sampled_from(["SAME", "VALID"])),
        act=draw(st.sampled_from(ACTS)),
        per_channel=draw(st.booleans()),
        # TFLM's depthwise Prepare crashes without a bias tensor (see module docstring).
        bias=True if depthwise else draw(st.booleans()),
        in_zp=draw(zero_points),
        out_zp=draw(zero_points),
        in_scale=10 ** draw(log_scales),
        out_scale=10 ** draw(log_scales),
        depthwise=depthwise,
        mult=draw(st.integers(1, 3)),
    )


@settings(max_examples=35, deadline=None)
@given(case=conv_cases(False))
def test_conv2d(case):
    check_model(_conv_model(**case), seed=case["seed"] % 1000, run_c=RUN_C)


@settings(max_examples=30, deadline=None)
@given(case=conv_cases(True))
def test_depthwise_conv2d(case):
    check_model(_conv_model(**case), seed=case["seed"] % 1000, run_c=RUN_C)


@st.composite
def fc_cases(draw):
    rank = draw(st.integers(1, 4))
    xshape = tuple(draw(st.lists(st.integers(1, 6), min_size=rank, max_size=rank)))
    keep = draw(st.booleans()) and rank >= 2
    total = int(np.prod(xshape))
    depth = xshape[-1] if keep else draw(st.sampled_from([d for d in range(1, total + 1) if total % d == 0]))
    per_channel = draw(st.booleans())
    return dict(
        seed=draw(st.integers(0, 2**32 - 1)),
        dt=draw(st.sampled_from(["int8", "float32"])),
        xshape=xshape,
        units=draw(st.integers(1, 8)),
        depth=depth,
        act=draw(st.sampled_from(ACTS)),
        per_channel=per_channel,
        bias=draw(st.booleans()),
        in_zp=draw(zero_points),
        out_zp=draw(zero_points),
        w_zp=draw(st.integers(-4, 4)) if draw(st.booleans()) else 0,
        in_scale=10 ** draw(log_scales),
        out_scale=10 ** draw(log_scales),
        keep_num_dims=keep,
    )


@settings(max_examples=35, deadline=None)
@given(case=fc_cases())
def test_fully_connected(case):
    check_model(_fc_model(**case), seed=case["seed"] % 1000, run_c=RUN_C)


# Fixed configurations shaped like the layers of the real models (kws, vww, person_detect,
# micro_speech, str_ww): guard the common paths even in a minimal hypothesis profile.
@pytest.mark.parametrize(
    "kw",
    [
        dict(n=1, h=13, w=5, cin=1, cout=8, kh=10, kw=4, stride=(2, 2), dil=(1, 1), pad="SAME", act="RELU"),  # kws stem
        dict(n=1, h=7, w=7, cin=8, cout=16, kh=1, kw=1, stride=(1, 1), dil=(1, 1), pad="SAME", act="RELU6"),  # pointwise
        dict(n=1, h=9, w=9, cin=3, cout=8, kh=3, kw=3, stride=(2, 2), dil=(1, 1), pad="SAME", act="RELU"),  # vww stem
        dict(n=1, h=1, w=1, cin=16, cout=2, kh=1, kw=1, stride=(1, 1), dil=(1, 1), pad="SAME", act="NONE"),  # head
        dict(n=1, h=10, w=1, cin=6, cout=4, kh=1, kw=1, stride=(1, 1), dil=(1, 1), pad="VALID", act="RELU"),  # str_ww
    ],
)
def test_conv2d_model_like(kw):
    check_model(_conv_model(seed=11, dt="int8", per_channel=True, bias=True, in_zp=-128, out_zp=-128,
                            in_scale=0.0235, out_scale=0.0235, **kw), seed=3, run_c=RUN_C)


@pytest.mark.parametrize(
    "kw",
    [
        dict(n=1, h=12, w=10, cin=1, kh=10, kw=8, stride=(2, 2), dil=(1, 1), pad="SAME", act="RELU", mult=8),  # micro_speech
        dict(n=1, h=8, w=8, cin=8, kh=3, kw=3, stride=(2, 2), dil=(1, 1), pad="SAME", act="RELU6", mult=1),  # mobilenet
        dict(n=1, h=10, w=1, cin=5, kh=3, kw=1, stride=(1, 1), dil=(1, 1), pad="VALID", act="NONE", mult=1),  # str_ww
    ],
)
def test_depthwise_model_like(kw):
    check_model(_conv_model(seed=12, dt="int8", cout=0, per_channel=True, bias=True, in_zp=-1, out_zp=-128,
                            in_scale=0.05, out_scale=0.0235, depthwise=True, **kw), seed=4, run_c=RUN_C)


@pytest.mark.parametrize("per_channel", [False, True])
def test_fully_connected_model_like(per_channel):
    # micro_speech's head flattens a [1, 25, 20, 8] tensor into 4000 features.
    check_model(_fc_model(seed=13, dt="int8", xshape=(1, 5, 4, 8), units=4, depth=160, act="NONE",
                          per_channel=per_channel, bias=True, in_zp=-128, out_zp=10, w_zp=0, in_scale=0.0235,
                          out_scale=0.12, keep_num_dims=False), seed=5, run_c=RUN_C)


# (input scale, filter scale, output scale, accumulator, expected output): for these scales the
# multiplier from a float32 scale product differs from the double one, and the accumulator sits
# on a rounding boundary, so only the double formula reproduces TFLM (the float formula gives
# 28, -21, 66 and 29).
ROUNDING_CASES = [
    (0.0011209414, 0.042319495, 0.547352, 328842, 29),
    (0.070170626, 0.0058526844, 0.98091143, -48963, -20),
    (0.018866263, 0.0173951, 0.9666951, 195883, 67),
    (0.010787726, 0.007254333, 0.7910178, 298181, 30),
]


@pytest.mark.parametrize("case", ROUNDING_CASES)
@pytest.mark.parametrize("per_channel", [False, True])
def test_fully_connected_multiplier_rounding(case, per_channel):
    """Which scale product TFLM's FULLY_CONNECTED Prepare uses (double for both weight kinds)."""
    si, sw, so = (np.float32(v) for v in case[:3])
    acc, expected = case[3], case[4]
    units = 2 if per_channel else 1
    fs = np.full(units, sw, dtype=np.float32) if per_channel else sw
    x = np.array([[3]], dtype=np.int8)
    bias = np.full(units, acc - 3)  # acc = x * w + bias with x = 3, w = 1
    model = single_op_model(
        "FULLY_CONNECTED",
        [T((1, 1), "int8", si, 0), T((units, 1), "int8", fs, 0, 0, np.ones((units, 1))),
         T((units,), "int32", np.float32(si * sw), 0, 0, bias)],
        [T((1, units), "int8", so, 0)],
        dict(fused_activation_function="NONE", keep_num_dims=False, weights_format="DEFAULT"),
    )
    check_model(model, inputs=[x], run_c=RUN_C)
    from evo.frontend.tflite_reader import read_tflite
    from evo.ref import executor

    g = read_tflite(model)
    out = executor.outputs(g, executor.run(g, [x]))[0]
    assert out.reshape(-1).tolist() == [expected] * units


@pytest.mark.parametrize("case", ROUNDING_CASES)
@pytest.mark.parametrize("depthwise", [False, True])
def test_conv_multiplier_rounding(case, depthwise):
    """CONV_2D / DEPTHWISE_CONV_2D (PopulateConvolutionQuantizationParams): double product too."""
    si, sw, so = (np.float32(v) for v in case[:3])
    acc, expected = case[3], case[4]
    x = np.array([[[[3]]]], dtype=np.int8)
    op = "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D"
    attrs = dict(padding="VALID", stride_h=1, stride_w=1, dilation_h_factor=1, dilation_w_factor=1,
                 fused_activation_function="NONE")
    if depthwise:
        attrs["depth_multiplier"] = 1
    model = single_op_model(
        op,
        [T((1, 1, 1, 1), "int8", si, 0), T((1, 1, 1, 1), "int8", sw, 0, 3 if depthwise else 0, np.ones((1, 1, 1, 1))),
         T((1,), "int32", np.float32(si * sw), 0, 0, np.array([acc - 3]))],
        [T((1, 1, 1, 1), "int8", so, 0)],
        attrs,
    )
    check_model(model, inputs=[x], run_c=RUN_C)
    from evo.frontend.tflite_reader import read_tflite
    from evo.ref import executor

    g = read_tflite(model)
    assert int(executor.outputs(g, executor.run(g, [x]))[0].reshape(-1)[0]) == expected


@pytest.mark.parametrize("depthwise", [False, True])
def test_conv_filter_zero_point_ignored(depthwise):
    """TFLM's int8 conv/depthwise kernels never apply the filter zero point; EVO matches."""
    rng = np.random.default_rng(21)
    wshape = (1, 3, 3, 4) if depthwise else (4, 3, 3, 4)
    attrs = dict(padding="SAME", stride_h=1, stride_w=1, dilation_h_factor=1, dilation_w_factor=1,
                 fused_activation_function="NONE")
    if depthwise:
        attrs["depth_multiplier"] = 1
    model = single_op_model(
        "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D",
        [T((1, 5, 5, 4), "int8", 0.05, 3), T(wshape, "int8", np.float32(0.01), 7, 3 if depthwise else 0,
                                            rng.integers(-100, 100, wshape)),
         T((4,), "int32", np.float32(0.0005), 0, 0, rng.integers(-100, 100, 4))],
        [T((1, 5, 5, 4), "int8", 0.1, 0)],
        attrs,
    )
    check_model(model, run_c=RUN_C)
