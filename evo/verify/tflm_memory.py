"""TFLM's own memory figures for a model (from its RecordingMicroAllocator), for comparisons."""
from __future__ import annotations

import os
import re
import tempfile

import numpy as np

from evo.ir import Graph


def tflm_arena(model: bytes, g: Graph) -> dict[str, int]:
    """{'total', 'head' (activations + scratch, planned by TFLM's greedy planner), 'tail'
    (persistent runtime structures)} in bytes on this 64-bit host."""
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(bytes(model), arena_size=max(len(model) * 10, 4 << 20))
    for i, t in enumerate(g.file_inputs):
        tensor = g.tensor(t)
        interp.set_input(np.zeros(tensor.shape, tensor.np_dtype), i)
    saved = os.dup(2)
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            interp.invoke()
            interp.print_allocations()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        log.seek(0)
        text = log.read().decode(errors="replace")
    found = dict(re.findall(r"Arena allocation (total|head|tail) (\d+) bytes", text))
    return {k: int(v) for k, v in found.items()}
