"""EVO's post-training quantizer: float32 .tflite -> full-integer int8 (TFLite's scheme).

    from evo.quant import quantize_file, quantize
    quantize_file("m_float.tflite", "calib.npz", "m_int8.tflite", method="minmax")

Pipeline: `data.load_calibration` -> `calibrate.calibrate` (EVO's NumPy reference over the
calibration set) -> `ranges.tensor_range` (minmax / percentile / mse) -> `rewrite.quantize_graph`
(scale rules of `scheme`, scale sharing, fixed softmax/logistic/tanh outputs, depthwise bias
correction) -> `write_tflite`.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from evo.errors import EvoError
from evo.ir import Graph
from evo.quant.calibrate import calibrate
from evo.quant.data import load_calibration
from evo.quant.ranges import METHODS
from evo.quant.rewrite import QuantReport, check_float_graph, mean_tensors, quantize_graph

__all__ = ["quantize", "quantize_file", "load_calibration", "METHODS", "QuantReport"]


def _check_int16(int16_activations) -> None:
    if int16_activations:
        raise EvoError(
            "--int16-activations (16x8 mixed precision) is not implemented yet",
            "quantize to int8 (leave the option out)",
        )


def quantize(g: Graph, samples: list[list[np.ndarray]], method: str = "minmax", per_channel: bool = True,
             float_io: bool = False, bias_correction: bool = True, int16_activations=None) -> tuple[Graph, QuantReport]:
    """Quantize float graph `g` with calibration `samples` (a list of per-input array lists)."""
    if method not in METHODS:
        raise EvoError(f"unknown range method {method!r}", f"use one of {', '.join(METHODS)}")
    _check_int16(int16_activations)
    check_float_graph(g)
    if not samples:
        raise EvoError("the calibration set is empty", "pass at least one sample")
    stats = calibrate(g, samples, keep_samples=method != "minmax", mean_tensors=mean_tensors(g) if bias_correction else set())
    return quantize_graph(g, stats, method, per_channel, float_io, bias_correction, samples=len(samples))


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write all of `data` or nothing: a temp file beside the target, then rename."""
    path = Path(path)
    parent = path.resolve().parent
    if not parent.is_dir():
        raise EvoError(f"cannot write {path}: folder {parent} does not exist", "create it or choose another -o path")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise EvoError(f"cannot write {path}: {e.strerror}", "check the path and permissions") from None


def quantize_model(model_path: str | Path, calib: str | Path, method: str = "minmax", per_channel: bool = True,
                   float_io: bool = False, bias_correction: bool = True, int16_activations=None,
                   image_range: tuple[float, float] = (0.0, 1.0), limit: int | None = None) -> tuple[Graph, QuantReport]:
    """Load a float model and its calibration data; return the int8 IR graph and a report."""
    from evo.frontend.tflite_reader import load_model

    _check_int16(int16_activations)
    _, g = load_model(model_path)
    check_float_graph(g)
    samples = load_calibration(g, calib, image_range, limit)
    return quantize(g, samples, method, per_channel, float_io, bias_correction)


def quantize_file(model_path: str | Path, calib: str | Path, out_path: str | Path, **kw) -> tuple[Graph, QuantReport, bytes]:
    """Quantize `model_path` and write the int8 .tflite to `out_path` (atomically)."""
    from evo.frontend.tflite_reader import read_tflite
    from evo.frontend.tflite_writer import write_tflite

    q, report = quantize_model(model_path, calib, **kw)
    q.name = Path(out_path).stem
    data = write_tflite(q)
    read_tflite(data, name=q.name)  # the written file must read back
    write_atomic(out_path, data)
    return q, report, data
