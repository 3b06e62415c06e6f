"""Range methods: from calibration statistics of one tensor to the real range to quantize.

* minmax     - the observed minimum and maximum (TFLite's converter does this);
* percentile - clip the tails at the 0.01 / 99.99 percentiles (a tensor that never goes
               below 0 keeps 0 as its minimum);
* mse        - the clipping range (a shrink factor of [min, max]) that minimises the mean
               squared int8 quantization error over the calibration values.
"""
from __future__ import annotations

import numpy as np

METHODS = ("minmax", "percentile", "mse")
PERCENTILE = 99.99
_MSE_FACTORS = np.linspace(0.25, 1.0, 61)


def _qerror(x: np.ndarray, lo: float, hi: float) -> float:
    from evo.quant.scheme import activation_quant

    q = activation_quant(lo, hi)
    s, z = float(q.scale[0]), int(q.zero_point[0])
    r = (np.clip(np.round(x / s) + z, -128, 127) - z) * s
    return float(np.mean((r - x) ** 2))


def tensor_range(method: str, vmin: float, vmax: float, sample: np.ndarray | None) -> tuple[float, float]:
    if method == "minmax" or sample is None or sample.size == 0:
        return vmin, vmax
    x = sample.astype(np.float64)
    if method == "percentile":
        lo = vmin if vmin >= 0 else float(np.percentile(x, 100 - PERCENTILE))
        hi = vmax if vmax <= 0 else float(np.percentile(x, PERCENTILE))
        return lo, hi
    if method == "mse":
        best, best_err = (vmin, vmax), _qerror(x, vmin, vmax)
        for f in _MSE_FACTORS[:-1]:
            err = _qerror(x, vmin * f, vmax * f)
            if err < best_err:
                best, best_err = (vmin * f, vmax * f), err
        return best
    raise ValueError(method)
