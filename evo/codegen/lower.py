"""Lowering: graph -> a static program (kernel calls, aliases, memory plan).

Python decides everything here; the templates only lay the result out as C."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

from evo.errors import EvoError
from evo.ir import Graph, Op
from evo.memory.lifetimes import Buffer, alias_roots, buffers, lower_bound
from evo.memory.planner import Plan, greedy_by_size
from evo.ops.base import KernelCall, TensorArg, TensorList, impl_for, registry, unsupported


@dataclass
class Step:
    op: Op
    call: KernelCall | None  # None when the op is an alias (no code)
    macs: int


@dataclass
class Program:
    graph: Graph
    steps: list[Step]
    plan: Plan
    tensor_buffer: dict[int, int]  # tensor -> buffer index in plan.buffers
    root: dict[int, int]  # tensor -> tensor whose storage it uses
    scratch_buffer: dict[int, int]  # op index -> buffer index of its scratch
    lower_bound_bytes: int

    def tensor_offset(self, t: int) -> int | None:
        """Arena offset of tensor `t`, or None for constants (they live in flash)."""
        b = self.tensor_buffer.get(t)
        return None if b is None else self.plan.offsets[b]


def check_supported(g: Graph) -> None:
    missing = unsupported(g)
    if missing:
        raise EvoError(
            f"unsupported operator(s): {', '.join(missing)}",
            "EVO cannot compile this model; `evo inspect` lists its operators",
        )
    for t in g.tensors:
        if t.dtype.startswith("unsupported:"):
            raise EvoError(f"tensor {t.name} has type {t.dtype.split(':', 1)[1]}", "EVO supports int8/int16/int32/uint8/float32 tensors")
    for op in g.ops:
        with op_context(op):
            impl_for(op).check(g, op)


@contextlib.contextmanager
def op_context(op: Op):
    """Turn an unexpected failure inside an operator's check/prepare/emit into a clean error:
    it means the operator's shapes or options are inconsistent (usually a corrupt file)."""
    try:
        yield
    except EvoError as e:
        if e.problem.startswith("operator "):
            raise
        raise EvoError(f"operator {op.index} ({op.type}): {e.problem}", e.fix) from None
    except (ValueError, IndexError, KeyError, TypeError, ZeroDivisionError, AssertionError, OverflowError) as e:
        raise EvoError(
            f"operator {op.index} ({op.type}) has inconsistent shapes or options ({type(e).__name__}: {e})",
            "the model may be corrupt; check it with `evo inspect`",
        ) from None


def lower(g: Graph) -> Program:
    check_supported(g)
    reg = registry()
    steps: list[Step] = []
    alias_ops: set[int] = set()
    for op in g.ops:
        impl = reg[op.type]
        if impl.alias_output_to_input and op.inputs and op.inputs[0] >= 0 and not g.tensor(op.inputs[0]).is_const:
            alias_ops.add(op.index)
            steps.append(Step(op=op, call=None, macs=0))
            continue
        with op_context(op):
            p = impl.prepare(g, op)
            steps.append(Step(op=op, call=impl.emit(g, op, p), macs=impl.macs(g, op)))
    scratch = {s.op.index: s.call.scratch_bytes for s in steps if s.call is not None and s.call.scratch_bytes}
    bufs, tensor_buffer, scratch_buffer = buffers(g, alias_ops, scratch)
    plan = greedy_by_size(bufs)
    return Program(
        graph=g,
        steps=steps,
        plan=plan,
        tensor_buffer=tensor_buffer,
        root=alias_roots(g, alias_ops),
        scratch_buffer=scratch_buffer,
        lower_bound_bytes=lower_bound(bufs, len(g.ops)),
    )


def used_constants(prog: Program) -> list[int]:
    """Constant tensors that some kernel reads (other constants, e.g. shapes, stay in Python)."""
    used = set()
    for s in prog.steps:
        if s.call is None:
            continue
        for a in s.call.args:
            indices = [a.index] if isinstance(a, TensorArg) else list(a.indices) if isinstance(a, TensorList) else []
            for i in indices:
                r = prog.root[i]
                if prog.graph.tensor(r).is_const:
                    used.add(r)
    return sorted(used)


def buffer_of(prog: Program, t: int) -> Buffer | None:
    b = prog.tensor_buffer.get(t)
    return None if b is None else prog.plan.buffers[b]
