"""`--int16-activations auto`: pick the layers whose int8 error costs the model most.

Per-layer contribution: the quantized model's output noise (squared error of the dequantized
outputs against the float model over up to MAX_SAMPLES calibration samples) is measured with
every candidate layer in 16x8, then again with one layer k switched back to int8 (its inputs
and outputs requantized to int8 at QUANTIZE borders). The increase is layer k's contribution
to the output noise in int8 - its share of the output SQNR loss. Measured at the model output
(not at the layer), it accounts for how the network amplifies or averages each layer's
rounding, and for the weakest-link effect of a chain (one int8 tensor caps everything after).

Rule: layers in decreasing contribution;
* with a RAM budget: every layer with a positive contribution whose addition keeps EVO's
  planned arena within the budget (int16 tensors and the border copies cost RAM);
* without one: the fewest layers that hold GAIN_SHARE (80%) of the summed contributions, i.e.
  until the predicted SQNR gain flattens (the remaining layers would add at most a fifth of
  the possible noise reduction).
In both cases the choice must beat pure int8 on the calibration samples, else no layer is
chosen (the rule says so).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evo.errors import EvoError
from evo.inputs import dequantize, quantize_to
from evo.ir import Graph
from evo.quant import mixed
from evo.ref import executor

GAIN_SHARE = 0.8
MAX_SAMPLES = 16  # calibration samples each candidate model runs on (fewer give noisy contributions)


@dataclass
class Selection:
    ops: set[int]
    contributions: dict[int, float] = field(default_factory=dict)  # op index -> output noise added in int8
    sqnr_int8_db: float | None = None  # on the calibration samples used
    sqnr_db: float | None = None
    arena_int8: int | None = None
    arena: int | None = None
    rule: str = ""


class _Scorer:
    """Output noise power of quantized graphs on fixed samples, against the float graph."""

    def __init__(self, g: Graph, samples):
        self.samples = samples[:MAX_SAMPLES]
        self.ref = [[np.asarray(v, np.float64) for v in executor.outputs(g, executor.run(g, s))] for s in self.samples]
        self.power = sum(float(np.sum(v**2)) for outs in self.ref for v in outs)

    def noise(self, q: Graph) -> float:
        err = 0.0
        for s, ref in zip(self.samples, self.ref):
            xs = [quantize_to(q.tensor(t), x) if q.tensor(t).dtype != "float32" else x for t, x in zip(q.inputs, s)]
            outs = executor.outputs(q, executor.run(q, xs))
            for t, y, f in zip(q.outputs, outs, ref):
                err += float(np.sum((dequantize(q.tensor(t), y).astype(np.float64).reshape(f.shape) - f) ** 2))
        return err

    def sqnr(self, noise: float) -> float:
        return float("inf") if noise <= 0 else 10 * np.log10(max(self.power, 1e-30) / noise)


def arena_bytes(q: Graph) -> int:
    from evo.codegen.lower import lower

    return lower(q).plan.arena_bytes


def choose(g: Graph, samples, build, ram_budget: int | None = None) -> Selection:
    """`build(ops)` quantizes `g` with operators `ops` in int16 and returns the graph."""
    score = _Scorer(g, samples)
    cands = mixed.candidates(g)
    q8 = build(set())
    n8 = score.noise(q8)
    base = score.noise(build(mixed.absorb(g, set(cands))))
    contrib = {k: score.noise(build(mixed.absorb(g, set(cands) - {k}))) - base for k in cands}
    order = sorted((k for k in cands if contrib[k] > 0), key=lambda k: (-contrib[k], k))
    sel = Selection(set(), contrib, sqnr_int8_db=score.sqnr(n8), sqnr_db=score.sqnr(n8))
    if ram_budget is None:
        total = sum(contrib[k] for k in order)
        acc = 0.0
        for k in order:
            if acc >= GAIN_SHARE * total:
                break
            sel.ops.add(k)
            acc += contrib[k]
        sel.ops = mixed.absorb(g, sel.ops)
        sel.rule = f"fewest layers holding {GAIN_SHARE:.0%} of the int8 noise contributions"
    else:
        sel.arena_int8 = sel.arena = arena_bytes(q8)
        if sel.arena_int8 > ram_budget:
            raise EvoError(f"--ram-budget {ram_budget} B is below the pure int8 arena ({sel.arena_int8} B)",
                           f"raise the budget to at least {sel.arena_int8} B or leave out --int16-activations")
        sel.rule = f"layers by int8 noise contribution while the arena stays within {ram_budget:,} B"
        everything = mixed.absorb(g, set(order))
        full = arena_bytes(build(everything)) if order else sel.arena_int8
        if full <= ram_budget:
            sel.ops, sel.arena = everything, full
        else:
            for k in order:
                trial = mixed.absorb(g, sel.ops | {k})
                a = arena_bytes(build(trial))
                if a <= ram_budget:
                    sel.ops, sel.arena = trial, a
    if sel.ops:
        n = score.noise(build(sel.ops))
        if n < n8:
            sel.sqnr_db = score.sqnr(n)
        else:
            sel.ops, sel.arena = set(), sel.arena_int8
            sel.rule += "; no choice beat pure int8 on the calibration samples, so none is int16"
    return sel
