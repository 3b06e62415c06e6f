"""`--int16-activations auto`: pick the layers that gain most from int16 activations.

Per-layer error: every candidate operator is run alone (EVO's NumPy reference) on the float
values its inputs take over the calibration set, quantized once as in the pure int8 model and
once as in the all-16x8 model; its local noise is the output's squared error against the float
output, relative to the float output's power (1 / local SQNR). A layer's gain is its int8 noise
minus its 16x8 noise: what switching it to int16 removes (weight rounding stays in both).

Rule: layers in decreasing gain;
* with a RAM budget, every layer with a positive gain whose addition keeps EVO's planned arena
  within the budget (int16 tensors and the QUANTIZE copies at the borders cost RAM);
* without one, the fewest layers that together hold GAIN_SHARE (80%) of the total gain: past
  that point the remaining layers add little (the gain curve has flattened).
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
MAX_SAMPLES = 8  # calibration samples used to measure per-layer errors


@dataclass
class Selection:
    ops: set[int]
    gains: dict[int, float] = field(default_factory=dict)  # op index -> int8 noise - int16 noise
    noise8: dict[int, float] = field(default_factory=dict)
    arena_int8: int | None = None
    arena: int | None = None
    rule: str = ""


def _source(qg: Graph, t: int, n_float: int) -> int:
    """The float-graph tensor that quantized tensor `t` carries (through boundary QUANTIZEs)."""
    while t >= n_float:
        t = next(op.inputs[0] for op in qg.ops if t in op.outputs)
    return t


def _local_noise(g: Graph, qg: Graph, out_tensor: int, fvals: list[dict]) -> float:
    from evo.ops.base import impl_for

    op = next(o for o in qg.ops if out_tensor in o.outputs and o.type != "QUANTIZE")
    impl = impl_for(op)
    p = impl.prepare(qg, op)
    err = power = 0.0
    for values in fvals:
        ins = []
        for t in op.inputs:
            if t < 0:
                ins.append(None)
            elif qg.tensor(t).is_const:
                ins.append(qg.tensor(t).data)
            else:
                ins.append(quantize_to(qg.tensor(t), values[_source(qg, t, len(g.tensors))]).reshape(qg.tensor(t).shape))
        y = dequantize(qg.tensor(out_tensor), impl.reference(qg, op, p, ins)[0]).astype(np.float64)
        f = np.asarray(values[out_tensor], np.float64).reshape(y.shape)
        err += float(np.sum((y - f) ** 2))
        power += float(np.sum(f**2))
    return err / max(power, 1e-30)


def layer_gains(g: Graph, q8: Graph, q16: Graph, samples: list[list[np.ndarray]]) -> tuple[dict[int, float], dict[int, float]]:
    """(gain, int8 noise) per candidate operator index of `g`."""
    fvals = [executor.run(g, s) for s in samples[:MAX_SAMPLES]]
    gains: dict[int, float] = {}
    noise8: dict[int, float] = {}
    for k in mixed.candidates(g):
        out = g.ops[k].outputs[0]
        n8 = _local_noise(g, q8, out, fvals)
        n16 = _local_noise(g, q16, out, fvals)
        gains[k], noise8[k] = n8 - n16, n8
    return gains, noise8


def arena_bytes(q: Graph) -> int:
    from evo.codegen.lower import lower

    return lower(q).plan.arena_bytes


def choose(g: Graph, samples, build, ram_budget: int | None = None) -> Selection:
    """`build(ops)` quantizes `g` with operators `ops` in int16 and returns the graph."""
    q8 = build(set())
    q16 = build(mixed.absorb(g, set(mixed.candidates(g))))
    gains, noise8 = layer_gains(g, q8, q16, samples)
    order = sorted((k for k in gains if gains[k] > 0), key=lambda k: (-gains[k], k))
    sel = Selection(set(), gains, noise8)
    if ram_budget is None:
        total = sum(gains[k] for k in order)
        acc = 0.0
        for k in order:
            if acc >= GAIN_SHARE * total:
                break
            sel.ops.add(k)
            acc += gains[k]
        sel.ops = mixed.absorb(g, sel.ops)
        sel.rule = f"fewest layers holding {GAIN_SHARE:.0%} of the total int16 gain"
        return sel
    sel.arena_int8 = arena_bytes(q8)
    if sel.arena_int8 > ram_budget:
        raise EvoError(f"--ram-budget {ram_budget} B is below the pure int8 arena ({sel.arena_int8} B)",
                       f"raise the budget to at least {sel.arena_int8} B or leave out --int16-activations")
    sel.rule = f"layers by gain while the arena stays within {ram_budget} B"
    everything = mixed.absorb(g, set(order))
    full = arena_bytes(build(everything))
    if full <= ram_budget:
        sel.ops, sel.arena = everything, full
        return sel
    sel.arena = sel.arena_int8
    for k in order:
        trial = mixed.absorb(g, sel.ops | {k})
        a = arena_bytes(build(trial))
        if a <= ram_budget:
            sel.ops, sel.arena = trial, a
    return sel
