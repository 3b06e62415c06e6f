"""Scale rules and range methods of the quantizer (evo.quant.scheme, evo.quant.ranges)."""
from __future__ import annotations

import numpy as np
import pytest

from evo.quant import scheme
from evo.quant.ranges import tensor_range


def test_activation_quant_matches_tflite_rules():
    q = scheme.activation_quant(0.0, 1.0)  # the digits input: TF gives 1/255, -128
    assert np.float32(q.scale[0]) == np.float32(1 / 255) and q.zero_point[0] == -128
    q = scheme.activation_quant(-1.0, 3.0)
    assert np.isclose(q.scale[0], 4 / 255) and q.zero_point[0] == round(-128 + 1 / (4 / 255))
    q = scheme.activation_quant(0.5, 2.0)  # the range is widened to contain 0
    assert q.zero_point[0] == -128 and np.isclose(q.scale[0], 2 / 255)
    q = scheme.activation_quant(-3.0, -1.0)
    assert q.zero_point[0] == 127
    q = scheme.activation_quant(0.0, 0.0)  # degenerate: still a positive scale
    assert q.scale[0] > 0 and q.zero_point[0] == -128
    assert q.scale.dtype == np.float32 and q.zero_point.dtype == np.int64


def test_zero_is_exact():
    for lo, hi in [(-0.37, 5.1), (-10.0, 0.3), (-1e-3, 7.0)]:
        q = scheme.activation_quant(lo, hi)
        assert scheme.quantize_values(np.array([0.0]), q)[0] == q.zero_point[0]


@pytest.mark.parametrize("axis", [0, 3])
def test_weight_quant_per_channel_symmetric(axis):
    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 3, 3, 4)) * np.array([1, 2, 3, 4]).reshape([-1 if i == axis else 1 for i in range(4)])
    q, quant = scheme.weight_quant(w, axis)
    assert q.dtype == np.int8 and quant.axis == axis and quant.scale.size == 4
    assert np.all(quant.zero_point == 0) and q.min() >= -127
    assert np.all(np.max(np.abs(np.moveaxis(q, axis, 0).reshape(4, -1)), axis=1) == 127)
    err = np.abs(scheme.dequantize_weights(q, quant) - w)
    assert np.all(err <= np.repeat(quant.scale, 36).reshape(np.moveaxis(w, axis, 0).shape).transpose(
        np.argsort([axis] + [i for i in range(4) if i != axis])) / 2 + 1e-7)


def test_weight_quant_per_tensor_and_zero_channel():
    w = np.zeros((2, 3))
    w[1] = [0.5, -1.0, 0.25]
    q, quant = scheme.weight_quant(w, 0)
    assert quant.scale[0] == 1.0 and np.all(q[0] == 0)  # an all-zero channel keeps a valid scale
    q, quant = scheme.weight_quant(w, None)
    assert quant.scale.size == 1 and np.isclose(quant.scale[0], 1 / 127) and q[1, 1] == -127


def test_bias_quant_scale_is_input_times_weight():
    b, quant = scheme.bias_quant(np.array([0.1, -0.2]), 0.02, np.array([0.5, 0.25], np.float32), 2)
    assert b.dtype == np.int32 and np.allclose(quant.scale, [0.01, 0.005])
    assert list(b) == [10, -40]


def test_rounding_is_half_away_from_zero():
    assert list(scheme.round_away(np.array([0.5, 1.5, -0.5, -2.5]))) == [1, 2, -1, -3]


def test_range_methods():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(size=100000), [40.0]]).astype(np.float32)
    assert tensor_range("minmax", float(x.min()), 40.0, x) == (float(x.min()), 40.0)
    lo, hi = tensor_range("percentile", float(x.min()), 40.0, x)
    assert hi < 6 and lo > -6
    lo, hi = tensor_range("mse", float(x.min()), 40.0, x)
    assert hi < 40.0

    def err(r):
        q = scheme.activation_quant(*r)
        s, z = float(q.scale[0]), int(q.zero_point[0])
        return np.mean(((np.clip(np.round(x / s) + z, -128, 127) - z) * s - x) ** 2)

    assert err((lo, hi)) < err((float(x.min()), 40.0))
    relu = np.abs(x)  # a tensor that never goes below 0 keeps 0 as its minimum
    assert tensor_range("percentile", 0.0, 40.0, relu)[0] == 0.0
