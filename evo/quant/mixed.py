"""Mixed precision (TFLite's 16x8 mode): which operators run with int16 activations, and the
int8 <-> int16 QUANTIZE operators at the borders between the two precisions.

* A "layer" is one operator. Operators that can run in 16x8 (`INT16_TYPES`) take int16 data
  inputs and produce int16 outputs; weights stay int8 (per channel), biases become int64.
* int16 activations are symmetric: zero point 0, scale max(|min|, |max|) / 32767.
* A tensor has its producer's precision; a model input is int16 when every consumer is an
  int16 operator. Where a consumer wants the other precision, a QUANTIZE operator placed just
  before it writes a converted copy (one copy per tensor and precision), as TFLite's converter
  does. Model outputs keep their producer's precision.
* Pools, RESHAPE, PAD and CONCATENATION fed only by int16 operators run in int16 too
  (`absorb`): they add no error of their own, and this moves the int16 -> int8 border behind
  them (for pools, onto a smaller tensor).
"""
from __future__ import annotations

from collections.abc import Iterable

from evo.errors import EvoError
from evo.ir import Graph, Op, Tensor

INT16_TYPES = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB", "MUL", "MEAN", "SOFTMAX",
               "AVERAGE_POOL_2D", "MAX_POOL_2D", "RESHAPE", "PAD", "CONCATENATION")
PASS_THROUGH = ("AVERAGE_POOL_2D", "MAX_POOL_2D", "RESHAPE", "PAD", "CONCATENATION")


def parse_layers(g: Graph, spec: str | Iterable) -> set[int]:
    """`--int16-activations` values other than `auto`: comma-separated operator indices or
    tensor names (an operator is named by its output tensor)."""
    tokens = [t.strip() for t in spec.split(",")] if isinstance(spec, str) else [str(t).strip() for t in spec]
    tokens = [t for t in tokens if t]
    if not tokens:
        raise EvoError("--int16-activations got an empty layer list", "pass operator indices or tensor names, or auto")
    by_name = {g.tensor(o).name: op.index for op in g.ops for o in op.outputs if o >= 0}
    chosen: set[int] = set()
    for tok in tokens:
        if tok.lstrip("-").isdigit():
            k = int(tok)
            if not 0 <= k < len(g.ops):
                raise EvoError(f"--int16-activations: operator {k} does not exist (the model has {len(g.ops)})",
                               "pass operator indices from `evo inspect`, or tensor names")
        elif tok in by_name:
            k = by_name[tok]
        else:
            raise EvoError(f"--int16-activations: no operator index or output tensor named {tok!r}",
                           "pass operator indices or tensor names from `evo inspect`")
        op = g.ops[k]
        if op.type not in INT16_TYPES:
            raise EvoError(f"--int16-activations: operator {k} ({op.type}) has no 16x8 form in EVO",
                           f"choose among {', '.join(INT16_TYPES)} operators")
        chosen.add(k)
    return chosen


def candidates(g: Graph) -> list[int]:
    """Operators that can run in int16 and have quantization error of their own."""
    return [op.index for op in g.ops if op.type in INT16_TYPES and op.type not in PASS_THROUGH]


def absorb(g: Graph, ops: set[int]) -> set[int]:
    """`ops` plus the pass-through operators (pools, RESHAPE, PAD, CONCATENATION) whose data
    inputs int16 operators produce."""
    out = set(ops)
    producer = {t: op.index for op in g.ops for t in op.outputs}
    for op in g.ops:  # file order is topological: chains of pass-through ops are followed
        fed = [producer[t] for t in op.inputs if t in producer]
        if op.type in PASS_THROUGH and fed and all(k in out for k in fed):
            out.add(op.index)
    return out


def insert_boundaries(q: Graph, int16_ops: set[int], ranges: dict[int, tuple[float, float]]) -> tuple[set[int], dict[int, int]]:
    """Rewrite float graph `q` (before quantization) for mixed precision: add the converting
    QUANTIZE operators and their tensors (each takes its source's range in `ranges`).

    Returns (tensors that become int16, {new tensor: the tensor it converts})."""
    def data_inputs(op: Op) -> list[tuple[int, int]]:
        return [(pos, t) for pos, t in enumerate(op.inputs) if t >= 0 and t in ranges]

    producer = {t: op for op in q.ops for t in op.outputs}
    consumers: dict[int, list[Op]] = {}
    for op in q.ops:
        for _, t in data_inputs(op):
            consumers.setdefault(t, []).append(op)
    wide: set[int] = set()
    for t in ranges:
        p = producer.get(t)
        if p is not None:
            if p.index in int16_ops:
                wide.add(t)
            continue
        cs = consumers.get(t, [])
        if cs and all(c.index in int16_ops for c in cs):
            wide.add(t)
        elif q.tensor(t).is_const and any(c.index in int16_ops for c in cs):
            raise EvoError(f"constant {q.tensor(t).name} feeds both int8 and int16 operators",
                           "choose the same precision for the operators that share it")
    origin: dict[int, int] = {}
    converted: dict[tuple[int, bool], int] = {}
    ops: list[Op] = []
    for op in q.ops:
        want16 = op.index in int16_ops
        for pos, t in data_inputs(op):
            if (t in wide) == want16:
                continue
            key = (t, want16)
            if key not in converted:
                src = q.tensor(t)
                nt = Tensor(len(q.tensors), f"{src.name}_{'int16' if want16 else 'int8'}", tuple(src.shape), "float32")
                q.tensors.append(nt)
                ranges[nt.index] = ranges[t]
                origin[nt.index] = t
                if want16:
                    wide.add(nt.index)
                ops.append(Op(0, "QUANTIZE", [t], [nt.index]))
                converted[key] = nt.index
            op.inputs[pos] = converted[key]
        ops.append(op)
    q.ops = ops
    for k, op in enumerate(q.ops):
        op.index = k
    return wide, origin
