"""AVERAGE_POOL_2D, MAX_POOL_2D and MEAN: TFLM (oracle) == NumPy reference == generated C."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.differential import check_model
from tests.support.single_op import TensorSpec as T
from tests.support.single_op import single_op_model

try:  # the C path needs the host target
    import evo.targets.host  # noqa: F401

    RUN_C = True
except ImportError:  # pragma: no cover
    RUN_C = False

ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]
SCALES = [1e-3, 0.0078125, 0.02, 0.1, 0.5, 2.0]


def _out_size(padding: str, size: int, f: int, s: int) -> int:
    return (size + s - 1) // s if padding == "SAME" else (size - f) // s + 1


@st.composite
def pool_cases(draw, dtype: str):
    n = draw(st.integers(1, 2))
    h, w, c = draw(st.integers(1, 9)), draw(st.integers(1, 9)), draw(st.integers(1, 6))
    padding = draw(st.sampled_from(["SAME", "VALID"]))
    fh, fw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    if padding == "VALID":
        fh, fw = min(fh, h), min(fw, w)
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    act = draw(st.sampled_from(ACTS))
    if dtype == "int8":
        q = (draw(st.sampled_from(SCALES)), draw(st.sampled_from([-128, -5, 0, 17, 127])))
    else:
        q = (None, None)
    attrs = dict(padding=padding, stride_h=sh, stride_w=sw, filter_height=fh, filter_width=fw, fused_activation_function=act)
    out = (n, _out_size(padding, h, fh, sh), _out_size(padding, w, fw, sw), c)
    return (n, h, w, c), out, q, attrs


def _inputs(shape, dtype, seed, mode):
    rng = np.random.default_rng(seed)
    if dtype == "float32":
        return [(rng.standard_normal(shape) * 4).astype(np.float32)]
    if mode == "full":
        return [rng.integers(-128, 128, size=shape).astype(np.int8)]
    # extremes: mostly saturated values, to stress sums and clamps
    return [rng.choice(np.array([-128, -127, 127, 126, 0], dtype=np.int8), size=shape)]


@pytest.mark.parametrize("op_type", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("dtype", ["int8", "float32"])
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_pool(op_type, dtype, data):
    in_shape, out_shape, q, attrs = data.draw(pool_cases(dtype))
    model = single_op_model(op_type, [T(in_shape, dtype, *q)], [T(out_shape, dtype, *q)], attrs)
    mode = data.draw(st.sampled_from(["full", "extreme"]))
    check_model(model, inputs=_inputs(in_shape, dtype, data.draw(st.integers(0, 2**16)), mode), run_c=RUN_C)


@st.composite
def mean_cases(draw, dtype: str):
    rank = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=rank, max_size=rank)))
    if rank == 4 and draw(st.booleans()):
        axes = draw(st.sampled_from([[1, 2], [2, 1], [-3, -2], [1, 2, 1]]))  # the spatial mean, spelled variously
    else:
        axes = draw(st.lists(st.integers(-rank, rank - 1), min_size=1, max_size=2, unique_by=lambda a: a % rank))
    keep = draw(st.booleans())
    res = {a % rank for a in axes}
    out = tuple(1 if i in res else d for i, d in enumerate(shape)) if keep else tuple(d for i, d in enumerate(shape) if i not in res)
    if dtype == "int8":
        qi = (draw(st.sampled_from(SCALES)), draw(st.integers(-128, 127)))
        if draw(st.booleans()):
            qo = qi
        else:
            qo = (qi[0] * draw(st.sampled_from([0.01, 0.3, 0.9999, 1.0, 1.7, 40.0])), draw(st.integers(-128, 127)))
    else:
        qi = qo = (None, None)
    return shape, axes, keep, out, qi, qo


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_mean(dtype, data):
    shape, axes, keep, out, qi, qo = data.draw(mean_cases(dtype))
    model = single_op_model(
        "MEAN", [T(shape, dtype, *qi), T((len(axes),), "int32", data=np.array(axes, dtype=np.int32))], [T(out, dtype, *qo)], dict(keep_dims=keep)
    )
    mode = data.draw(st.sampled_from(["full", "extreme"]))
    check_model(model, inputs=_inputs(shape, dtype, data.draw(st.integers(0, 2**16)), mode), run_c=RUN_C)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("keep", [False, True])
def test_global_average_pool_shapes(dtype, keep):
    """Keras GlobalAveragePooling2D -> MEAN over [1, 2] on typical CNN feature maps."""
    for shape in [(1, 7, 7, 32), (2, 5, 1, 8), (1, 12, 12, 16)]:
        q_in = (0.05, -12) if dtype == "int8" else (None, None)
        q_out = (0.021, -3) if dtype == "int8" else (None, None)
        out = (shape[0], 1, 1, shape[3]) if keep else (shape[0], shape[3])
        model = single_op_model(
            "MEAN", [T(shape, dtype, *q_in), T((2,), "int32", data=np.array([1, 2], dtype=np.int32))], [T(out, dtype, *q_out)], dict(keep_dims=keep)
        )
        check_model(model, seed=sum(shape), run_c=RUN_C)
