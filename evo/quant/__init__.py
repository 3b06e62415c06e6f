"""EVO's post-training quantizer: float32 .tflite -> full-integer int8 (TFLite's scheme), or
mixed int8 / 16x8 (int16 activations on chosen layers, evo/quant/mixed.py and select.py).

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
from evo.quant import mixed
from evo.quant.calibrate import calibrate
from evo.quant.data import load_calibration
from evo.quant.ranges import METHODS
from evo.quant.rewrite import QuantReport, check_float_graph, mean_tensors, quantize_graph
from evo.quant.select import choose

__all__ = ["quantize", "quantize_file", "load_calibration", "METHODS", "QuantReport"]


def quantize(g: Graph, samples: list[list[np.ndarray]], method: str = "minmax", per_channel: bool = True,
             float_io: bool = False, bias_correction: bool = True, int16_activations=None,
             ram_budget: int | None = None) -> tuple[Graph, QuantReport]:
    """Quantize float graph `g` with calibration `samples` (a list of per-input array lists).

    `int16_activations`: None (all int8), "auto" (evo/quant/select.py, within `ram_budget`
    bytes of arena when given) or operator indices / output tensor names (a list or a
    comma-separated string) that run in 16x8."""
    if method not in METHODS:
        raise EvoError(f"unknown range method {method!r}", f"use one of {', '.join(METHODS)}")
    check_float_graph(g)
    if ram_budget is not None and ram_budget <= 0:
        raise EvoError(f"--ram-budget {ram_budget} must be positive", "pass a size in bytes")
    auto = isinstance(int16_activations, str) and int16_activations.strip() == "auto"
    layers = None if auto or not int16_activations else mixed.parse_layers(g, int16_activations)
    if not samples:
        raise EvoError("the calibration set is empty", "pass at least one sample")
    stats = calibrate(g, samples, keep_samples=method != "minmax", mean_tensors=mean_tensors(g) if bias_correction else set())

    def build(ops):
        return quantize_graph(g, stats, method, per_channel, float_io, bias_correction, samples=len(samples), int16_ops=ops)

    selection = None
    if auto:
        selection = choose(g, samples, lambda ops: build(ops)[0], ram_budget)
        layers = selection.ops
    elif layers:
        layers = mixed.absorb(g, layers)
    q, report = build(layers or set())
    report.int16_ops = sorted(layers or ())
    report.selection = selection
    return q, report


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
                   image_range: tuple[float, float] = (0.0, 1.0), limit: int | None = None,
                   ram_budget: int | None = None) -> tuple[Graph, QuantReport]:
    """Load a float model and its calibration data; return the int8 IR graph and a report."""
    from evo.frontend.tflite_reader import load_model

    _, g = load_model(model_path)
    check_float_graph(g)
    if int16_activations and not (isinstance(int16_activations, str) and int16_activations.strip() == "auto"):
        mixed.parse_layers(g, int16_activations)  # a bad layer list fails before calibration
    samples = load_calibration(g, calib, image_range, limit)
    return quantize(g, samples, method, per_channel, float_io, bias_correction, int16_activations, ram_budget)


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
