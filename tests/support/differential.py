"""Differential checks: TFLM (oracle), EVO's NumPy reference and EVO's generated C must agree.

int8/int16/int32 tensors must match bit for bit; float32 tensors within FLOAT_TOL of the
oracle relative to the tensor's largest magnitude."""
from __future__ import annotations

import numpy as np

from evo.frontend.tflite_reader import read_tflite
from evo.inputs import random_inputs
from evo.ref import executor
from evo.verify.tflm import run_tflm

FLOAT_TOL = 1e-4  # max |a - b| <= FLOAT_TOL * max(1, max |oracle|)


def assert_same(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    actual = np.asarray(actual).reshape(np.shape(expected))
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    if expected.dtype == np.float32:
        tol = FLOAT_TOL * max(1.0, float(np.max(np.abs(expected))) if expected.size else 1.0)
        diff = float(np.max(np.abs(actual.astype(np.float64) - expected))) if expected.size else 0.0
        assert diff <= tol, f"{what}: max abs diff {diff} > {tol}"
    else:
        if not np.array_equal(actual, expected):
            d = np.abs(actual.astype(np.int64) - expected.astype(np.int64))
            raise AssertionError(f"{what}: not bit-exact, {int((d > 0).sum())} of {d.size} differ, max abs diff {int(d.max())}")


def check_model(model: bytes, inputs: list[np.ndarray] | None = None, seed: int = 0, run_c: bool = True) -> None:
    """Run `model` in TFLM, the NumPy reference and (when `run_c`) EVO's C; compare every tensor."""
    g = read_tflite(model)
    if inputs is None:
        inputs = random_inputs(g, seed)
    oracle_out, oracle_tensors = run_tflm(model, g, inputs, preserve_all=True)
    ref = executor.run(g, inputs)
    for t, v in oracle_tensors.items():
        assert_same(ref[t], v, f"reference, tensor {t} ({g.tensor(t).name})")
    for i, v in enumerate(oracle_out):
        assert_same(ref[g.outputs[i]], v, f"reference, output {i}")
    if run_c:
        from evo.targets.host import HostModel

        with HostModel.build(g, trace=True) as m:
            c_out, c_tensors = m.run(inputs, trace=True)
        for t, v in oracle_tensors.items():
            if t in c_tensors:
                assert_same(c_tensors[t], v, f"C, tensor {t} ({g.tensor(t).name})")
        for i, v in enumerate(oracle_out):
            assert_same(c_out[i], v, f"C, output {i}")
