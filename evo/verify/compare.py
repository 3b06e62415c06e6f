"""`evo verify`: run EVO's C and TFLM on the same inputs and compare outputs (and every tensor)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evo.ir import Graph
from evo.targets.host import HostModel
from evo.verify.tflm import run_tflm

# Float outputs match when max |evo - tflm| <= FLOAT_TOL * max(1, max |tflm|).
FLOAT_TOL = 1e-4


@dataclass
class Comparison:
    name: str
    dtype: str
    bit_exact: bool
    max_abs_diff: float
    ok: bool  # exact for integers, within FLOAT_TOL for float


def compare(name: str, evo: np.ndarray, ref: np.ndarray) -> Comparison:
    evo = np.asarray(evo).reshape(ref.shape)
    exact = bool(np.array_equal(evo, ref))
    diff = float(np.max(np.abs(evo.astype(np.float64) - ref.astype(np.float64)))) if ref.size else 0.0
    if ref.dtype == np.float32:
        ok = diff <= FLOAT_TOL * max(1.0, float(np.max(np.abs(ref))) if ref.size else 1.0)
    else:
        ok = exact
    return Comparison(name=name, dtype=str(ref.dtype), bit_exact=exact, max_abs_diff=diff, ok=ok)


def _merge(a: Comparison | None, b: Comparison) -> Comparison:
    if a is None:
        return b
    return Comparison(a.name, a.dtype, a.bit_exact and b.bit_exact, max(a.max_abs_diff, b.max_abs_diff), a.ok and b.ok)


@dataclass
class VerifyResult:
    runs: int
    outputs: list[Comparison]
    layers: list[Comparison] = field(default_factory=list)
    # Intermediate tensors EVO never holds whole (row-streamed groups keep them as line buffers):
    # checked only through their group's output.
    streamed: int = 0

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.outputs + self.layers)

    @property
    def bit_exact(self) -> bool:
        return all(c.bit_exact for c in self.outputs + self.layers)

    @property
    def max_abs_diff(self) -> float:
        return max((c.max_abs_diff for c in self.outputs + self.layers), default=0.0)

    def to_json(self) -> dict:
        def row(c: Comparison) -> dict:
            return dict(name=c.name, dtype=c.dtype, bit_exact=c.bit_exact, max_abs_diff=c.max_abs_diff, match=c.ok)

        return dict(
            match=self.ok,
            bit_exact=self.bit_exact,
            max_abs_diff=self.max_abs_diff,
            float_tolerance=FLOAT_TOL,
            runs=self.runs,
            outputs=[row(c) for c in self.outputs],
            layers=[row(c) for c in self.layers],
            streamed_tensors=self.streamed,
        )


def verify(model: bytes, g: Graph, input_sets: list[list[np.ndarray]], layers: bool, host: HostModel) -> VerifyResult:
    outs: list[Comparison | None] = [None] * len(g.outputs)
    per_tensor: dict[int, Comparison] = {}
    streamed: set[int] = set()
    for inputs in input_sets:
        ref_out, ref_tensors = run_tflm(model, g, inputs, preserve_all=layers)
        if layers:
            evo_out, evo_tensors = host.run(inputs, trace=True)
            for t, v in ref_tensors.items():
                if t in evo_tensors:
                    label = f"op{_producer(g, t)} {g.tensor(t).name}"
                    per_tensor[t] = _merge(per_tensor.get(t), compare(label, evo_tensors[t], v))
                elif t in host.compiled.program.streamed_tensors:
                    streamed.add(t)
        else:
            evo_out = host.run(inputs)
        for i, (e, r) in enumerate(zip(evo_out, ref_out)):
            outs[i] = _merge(outs[i], compare(g.output_names[i], e, r))
    order = {t: i for i, t in enumerate(t for op in g.ops for t in op.outputs)}
    return VerifyResult(runs=len(input_sets), outputs=[c for c in outs if c is not None],
                        layers=[per_tensor[t] for t in sorted(per_tensor, key=order.get)], streamed=len(streamed))


def _producer(g: Graph, t: int) -> int:
    return g.producers().get(t, -1)
