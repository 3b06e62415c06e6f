"""Run a model in the TFLite Micro interpreter (the `tflite-micro` package): EVO's oracle."""
from __future__ import annotations

import contextlib
import os

import numpy as np

from evo.errors import EvoError
from evo.ir import Graph


@contextlib.contextmanager
def _quiet_stderr():
    """TFLM prints allocation chatter on fd 2; keep the user's terminal clean."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _interpreter(model: bytes, preserve_all: bool, arena_size: int | None = None):
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise EvoError("the tflite-micro package is not installed", "pip install tflite-micro") from e
    config = runtime.InterpreterConfig.kPreserveAllTensors if preserve_all else runtime.InterpreterConfig.kAllocationRecording
    size = arena_size or max(len(model) * 10, 4 << 20)
    try:
        with _quiet_stderr():
            return runtime.Interpreter.from_bytes(bytes(model), arena_size=size, intrepreter_config=config)
    except RuntimeError as e:
        raise EvoError(f"TFLM cannot run this model: {e}", "check the model with `evo inspect`") from e


def run_tflm(model: bytes, g: Graph, inputs: list[np.ndarray], preserve_all: bool = False):
    """Run one inference. `inputs` follow `g.inputs` (signature order).

    Returns (outputs in `g.outputs` order, {tensor index: array} of every op output when
    `preserve_all`, else {})."""
    interp = _interpreter(model, preserve_all)
    for t, x in zip(g.inputs, inputs):
        interp.set_input(np.array(x, copy=True).reshape(g.tensor(t).shape), g.file_inputs.index(t))
    with _quiet_stderr():
        interp.invoke()
    outputs = [np.array(interp.get_output(g.file_outputs.index(t))) for t in g.outputs]
    tensors: dict[int, np.ndarray] = {}
    if preserve_all:
        for op in g.ops:
            for t in op.outputs:
                tensors[t] = np.array(interp.GetTensor(t, 0)["tensor_data"]).reshape(g.tensor(t).shape)
    return outputs, tensors
