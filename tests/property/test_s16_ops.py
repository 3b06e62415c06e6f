"""Property tests for the int16 (16x8 mode) element-wise, pooling and softmax kernels: ADD and
SUB with broadcasting (TFLM rescales int16 inputs by 2^15 instead of 2^20), MUL,
AVERAGE_POOL_2D, MAX_POOL_2D and SOFTMAX. TFLM (oracle) == NumPy reference == generated C, bit
for bit."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evo.ops.pool import compute_out_size
from tests.support.differential import check_model
from tests.support.single_op import TensorSpec as T
from tests.support.single_op import single_op_model

ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]


def _full_or_extreme(rng, shape, mode):
    if mode == "full":
        return rng.integers(-32768, 32768, size=shape).astype(np.int16)
    return rng.choice(np.array([-32768, -32767, 32767, 32766, 0], dtype=np.int16), size=shape)


@st.composite
def broadcast_shapes(draw):
    rank = draw(st.integers(1, 4))
    out = tuple(draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank)))
    a = tuple(d if draw(st.booleans()) else 1 for d in out)
    b = tuple(d if draw(st.booleans()) else 1 for d in out)
    b = b[draw(st.integers(0, rank - 1)):]  # a lower-rank second operand
    return a, b, tuple(np.broadcast_shapes(a, b))


@pytest.mark.parametrize("op_type", ["ADD", "SUB", "MUL"])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_addsub_s16(op_type, data):
    a, b, o = data.draw(broadcast_shapes())
    scales = [10 ** data.draw(st.floats(-4, -1)) for _ in range(3)]
    act = data.draw(st.sampled_from(ACTS))
    model = single_op_model(op_type, [T(a, "int16", scales[0], 0), T(b, "int16", scales[1], 0)], [T(o, "int16", scales[2], 0)],
                            {"fused_activation_function": act})
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    mode = data.draw(st.sampled_from(["full", "extreme"]))
    check_model(model, inputs=[_full_or_extreme(rng, a, mode), _full_or_extreme(rng, b, mode)])


@pytest.mark.parametrize("op_type", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_pool_s16(op_type, data):
    n, c = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 5))
    fh, fw = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    h, w = data.draw(st.integers(fh, 9)), data.draw(st.integers(fw, 9))
    sh, sw = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    padding = data.draw(st.sampled_from(["SAME", "VALID"]))
    act = data.draw(st.sampled_from(ACTS))
    q = (10 ** data.draw(st.floats(-4, -1)), 0)
    attrs = dict(padding=padding, stride_h=sh, stride_w=sw, filter_height=fh, filter_width=fw, fused_activation_function=act)
    out = (n, compute_out_size(padding, h, fh, sh), compute_out_size(padding, w, fw, sw), c)
    model = single_op_model(op_type, [T((n, h, w, c), "int16", *q)], [T(out, "int16", *q)], attrs)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    check_model(model, inputs=[_full_or_extreme(rng, (n, h, w, c), data.draw(st.sampled_from(["full", "extreme"])))])


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_softmax_s16(data):
    rank = data.draw(st.integers(1, 3))
    shape = tuple(data.draw(st.lists(st.integers(1, 12), min_size=rank, max_size=rank)))
    in_scale = 10 ** data.draw(st.floats(-5, -1))
    beta = data.draw(st.sampled_from([1.0, 0.5, 2.0]))
    model = single_op_model("SOFTMAX", [T(shape, "int16", in_scale, 0)], [T(shape, "int16", 1.0 / 32768, 0)], {"beta": beta})
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    check_model(model, inputs=[_full_or_extreme(rng, shape, data.draw(st.sampled_from(["full", "extreme"])))])


def test_softmax_s16_every_difference():
    # one row per input difference 0 .. -65535 (paired with a maximum of 32767): every exp table
    # entry and interpolation fraction, and many reciprocal entries
    d = np.arange(0, 65536, dtype=np.int64)
    rows = np.stack([np.full(d.size, 32767), 32767 - d], axis=1).astype(np.int16)
    for scale in (1e-4, 10.0 / 65535.0, 3e-3):
        model = single_op_model("SOFTMAX", [T(rows.shape, "int16", scale, 0)], [T(rows.shape, "int16", 1.0 / 32768, 0)], {"beta": 1.0})
        check_model(model, inputs=[rows], run_c=scale == 1e-4)


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_mean_s16(data):
    rank = data.draw(st.integers(2, 4))
    shape = tuple(data.draw(st.lists(st.integers(1, 6), min_size=rank, max_size=rank)))
    axes = sorted(data.draw(st.sets(st.integers(0, rank - 1), min_size=1, max_size=2)))
    keep = data.draw(st.booleans())
    out = tuple(1 if i in axes else d for i, d in enumerate(shape)) if keep else tuple(d for i, d in enumerate(shape) if i not in axes)
    s_in = 10 ** data.draw(st.floats(-4, -1))
    s_out = s_in * data.draw(st.sampled_from([1.0, 0.7, 1.9]))
    model = single_op_model("MEAN", [T(shape, "int16", s_in, 0), T((len(axes),), "int32", data=np.array(axes))],
                            [T(out or (1,), "int16", s_out, 0)], dict(keep_dims=keep))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    check_model(model, inputs=[_full_or_extreme(rng, shape, data.draw(st.sampled_from(["full", "extreme"])))])
