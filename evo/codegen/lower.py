"""Lowering: graph -> a static program (kernel calls, aliases, memory plan).

Python decides everything here; the templates only lay the result out as C."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from evo.errors import EvoError
from evo.ir import Graph, Op
from evo.memory.inplace import InPlace, candidates, decide
from evo.memory.lifetimes import Buffer, alias_roots, buffers, lower_bound
from evo.memory.planner import Plan, plan_best
from evo.memory.schedule import best_order
from evo.ops.base import KernelCall, Scratch, TensorArg, TensorList, impl_for, registry, unsupported
from evo.target import HOST, Target

if TYPE_CHECKING:
    from evo.memory.pools import PoolPlan


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
    inplace: dict[int, InPlace] = field(default_factory=dict)  # op index -> in-place decision
    file_order: bool = True  # False when the schedule optimiser reordered the ops
    # Replacement strategy (evo/memory/evict.py): tensors held in the external memory.
    ext_plan: Plan | None = None
    ext_tensor_buffer: dict[int, int] = field(default_factory=dict)  # tensor -> buffer in ext_plan
    moved_bytes: int = 0  # bytes copied between arena and ext per inference
    ram_budget: int | None = None
    target: Target = HOST
    # Memory pools (evo/memory/pools.py): the arena's buffers split over named RAM regions.
    pool_plan: "PoolPlan | None" = None
    # Row streaming (evo/memory/stream.py): EVO_STREAM op index -> its simulated program.
    streams: dict = field(default_factory=dict)
    whole_lower_bound_bytes: int = 0  # lower bound of the best schedule with whole tensors only
    calls: dict = field(default_factory=dict)  # op -> its call before row-streaming wrappers (eviction reruns from it)
    # Kernel specialisation (evo/codegen/specialise.py): ops running the target's specialised kernel,
    # and ops that have one but keep the portable call because it would raise the arena.
    specialised: list[int] = field(default_factory=list)
    memory_fallback: list[int] = field(default_factory=list)
    stream_specialised: list[int] = field(default_factory=list)  # fused stream members on a specialised row kernel
    prefer: str = "memory"

    @property
    def streamed_tensors(self) -> set[int]:
        """Tensors that only exist as line buffers inside a row-streamed group (never whole)."""
        return {st.out for sp in self.streams.values() for st in sp.stages if st.out != sp.sink}

    @property
    def stream_moved_bytes(self) -> int:
        """Bytes memmoved inside streamed groups per inference (window slides, row copies)."""
        return sum(sp.moved_bytes for sp in self.streams.values())

    @property
    def ext_bytes(self) -> int:
        return self.ext_plan.arena_bytes if self.ext_plan is not None else 0

    def tensor_base(self, t: int) -> str:
        """C name of the memory that holds tensor `t` ('arena', 'arena_<pool>' or 'ext')."""
        if t in self.ext_tensor_buffer:
            return "ext"
        b = self.tensor_buffer.get(t)
        return self.buffer_base(b) if b is not None else "arena"

    def tensor_offset(self, t: int) -> int | None:
        """Arena offset of tensor `t`, or None for constants (they live in flash)."""
        if t in self.ext_tensor_buffer:
            return self.ext_plan.offsets[self.ext_tensor_buffer[t]]
        b = self.tensor_buffer.get(t)
        return None if b is None else self.buffer_offset(b)

    def buffer_base(self, b: int) -> str:
        return "arena" if self.pool_plan is None else f"arena_{self.pool_plan.pool_name(b)}"

    def buffer_offset(self, b: int) -> int:
        return self.plan.offsets[b] if self.pool_plan is None else self.pool_plan.offset(b)


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


PREFER = ("memory", "speed")  # kernel choice policies (evo/codegen/specialise.py)

# Kernels that run without their scratch buffer (NULL), only slower.
OPTIONAL_SCRATCH = {"evo_conv2d_s8"}
ROWS_KERNELS = {"evo_conv2d_s8", "evo_conv2d_s8_m0", "evo_conv2d_s8_dsp", "evo_conv2d_s8_dsp_direct", "evo_conv2d_s8_dsp_win", "evo_conv2d_s8_mve", "evo_conv2d_f32", "evo_depthwise_conv2d_s8",
                "evo_depthwise_conv2d_f32", "evo_depthwise_conv2d_s8_pairs", "evo_depthwise_conv2d_s8_planar",
                "evo_depthwise_conv2d_s8_m0", "evo_depthwise_conv2d_s8_m0t", "evo_depthwise_conv2d_s8_mve", "evo_depthwise_conv2d_s8_direct",
                "evo_depthwise_conv2d_s8_blocked"}
# Their _rows entries read the input in place, with no input-row window (evo/memory/inplace.py):
# each input row is widened into the kernel's own ring (window) before any output row that overlaps it.
ROWS_NO_WINDOW = {"evo_depthwise_conv2d_s8_blocked", "evo_depthwise_conv2d_s8_planar", "evo_conv2d_s8_dsp_win"}


@dataclass
class _Layout:
    graph: Graph
    bufs: list[Buffer]
    tensor_buffer: dict[int, int]
    scratch_buffer: dict[int, int]
    inplace: dict[int, InPlace]
    links: list[tuple[int, int, int]]
    lower_bound: int


def _layout(g: Graph, alias_ops: set[int], scratch: dict[int, int], options: dict[int, list], enabled: set[int] | None = None,
            skip: set[int] | frozenset = frozenset()) -> _Layout:
    bufs, tb, _ = buffers(g, alias_ops, scratch, skip)
    steps = {op.index: k for k, op in enumerate(g.ops)}
    ip = decide(g, bufs, tb, options, steps, enabled)
    scratch2 = dict(scratch)
    for d in ip.values():
        if d.scratch:
            scratch2[d.op] = scratch2.get(d.op, 0) + d.scratch
    bufs, tb, sb = buffers(g, alias_ops, scratch2, skip)
    links = [(tb[d.input], tb[d.output], d.delta) for d in ip.values()]
    return _Layout(g, bufs, tb, sb, ip, links, lower_bound(bufs, len(g.ops), links))


def _without_scratch(call: KernelCall) -> KernelCall:
    """The same call running its direct loop: no scratch (the kernel reads patch_bytes)."""
    return replace(call, scratch_bytes=0, params={**call.params, "patch_bytes": 0})


def _rows_call(call: KernelCall, window: int) -> KernelCall:
    """The row-streaming wrapper of a conv call: its scratch is the kernel's own buffer followed
    by the input-row window (evo/inplace.h)."""
    base = call.func[len("evo_"):]
    header = "inplace.h" if call.header == "conv.h" else call.header  # specialised kernels declare their own
    return replace(call, func=call.func + "_rows", sources=list(call.sources) + [f"{base}_rows.c"], header=header,
                   scratch_bytes=call.scratch_bytes + window)


def inplace_options(g: Graph, calls: dict[int, KernelCall | None]) -> dict[int, list]:
    reg = registry()
    options = {}
    for op in g.ops:
        call = calls.get(op.index)
        if call is None or op.type not in reg:
            continue
        rows_ok = call.func in ROWS_KERNELS and isinstance(call.args[-1], Scratch)
        opts = candidates(g, op, reg[op.type], call.params if rows_ok else None, window=call.func not in ROWS_NO_WINDOW)
        if opts:
            options[op.index] = opts
    return options


def lower(g: Graph, ram_budget: int | None = None, strategies: tuple[str, ...] | None = None,
          optimize_schedule: bool = True, inplace: bool = True, stream: str = "auto", pools: list | None = None,
          target: Target = HOST, prefer: str = "memory") -> Program:
    """Graph -> Program. `strategies`: placement strategies to try (default: all, best kept);
    `ram_budget`: arena limit in bytes, met by evicting tensors to an external memory and, below
    what eviction alone reaches, by row-streaming single operators between memories.
    `stream`: "auto" fuses groups of spatial ops into row-streamed calls where that lowers the
    peak (evo/memory/stream.py), "off" never; "groups" fuses every group and "ops" streams every
    streamable op on its own, whatever the peak.
    `pools`: PoolSpecs, fastest first, to split the arena over (one arena when None);
    `target`: the core the C is generated for (kernels may specialise by it);
    `prefer`: "memory" keeps a specialised kernel only where the arena stays at the portable
    program's, "speed" specialises every op whatever the RAM (evo/codegen/specialise.py)."""
    from evo.codegen.specialise import choose_kernels
    from evo.codegen.stream_choice import streamed

    if prefer not in PREFER:
        raise EvoError(f"unknown --prefer '{prefer}'", f"use one of: {', '.join(PREFER)}")
    check_supported(g)
    portable, special, macs, alias_ops = _calls(g, target)
    prog, calls = choose_kernels(g, portable, special, macs, alias_ops, strategies, optimize_schedule, inplace, stream, prefer)
    whole_bound = prog.whole_lower_bound_bytes
    if ram_budget is not None and prog.plan.arena_bytes > ram_budget:
        from evo.memory.evict import apply_budget, budget_error

        tried = []
        # Streaming every op alone only knows the portable kernels: memory-first takes them there.
        op_calls = portable if prefer == "memory" else calls
        for mode in ("current", "ops"):
            cand = prog if mode == "current" else streamed(g, op_calls, macs, alias_ops, strategies, optimize_schedule, inplace, "ops")
            if cand is None:
                continue
            try:
                out = apply_budget(cand, ram_budget, alias_ops, _step_calls(cand), _step_macs(cand), strategies)
            except EvoError as e:
                tried.append(e)
                continue
            out.whole_lower_bound_bytes = whole_bound
            out.ram_budget = ram_budget
            out.specialised, out.memory_fallback, out.prefer = prog.specialised, prog.memory_fallback, prefer
            if mode == "ops" and op_calls is portable:
                out.specialised, out.memory_fallback = [], sorted(prog.specialised + prog.memory_fallback)
            return _finish(out, target, pools, strategies)
        raise budget_error(ram_budget, tried)
    prog.ram_budget = ram_budget
    return _finish(prog, target, pools, strategies)


def _finish(prog: Program, target: Target, pools: list | None, strategies) -> Program:
    prog.target = target
    if pools:
        from evo.memory.pools import assign_pools

        prog.pool_plan = assign_pools(prog, pools, strategies)
    return prog


def _step_calls(prog: Program) -> dict:
    return dict(prog.calls)


def _step_macs(prog: Program) -> dict:
    return {s.op.index: s.macs for s in prog.steps}


def lower_streams(g, calls, macs, alias_ops, strategies, optimize_schedule: bool, inplace: bool, stream: str) -> Program:
    """The program of fixed calls, with row streaming chosen by `stream` (see `lower`)."""
    from evo.codegen.stream_choice import auto_stream, streamed

    whole = _lower_fixed(g, calls, macs, alias_ops, strategies, optimize_schedule, inplace)
    prog = whole
    if stream == "auto":
        prog = auto_stream(g, calls, macs, alias_ops, strategies, optimize_schedule, inplace, whole)
    elif stream in ("ops", "groups"):  # forced (tests, experiments)
        prog = streamed(g, calls, macs, alias_ops, strategies, optimize_schedule, inplace, stream) or whole
    elif stream != "off":
        raise ValueError(f"unknown stream mode {stream}")
    prog.whole_lower_bound_bytes = whole.lower_bound_bytes
    return prog


def _calls(g: Graph, target: Target = HOST):
    """Each op's portable call and its call specialised for `target` (the same object when the
    op has no specialisation), MACs, and the ops that only alias their input."""
    reg = registry()
    calls: dict[int, KernelCall | None] = {}
    special: dict[int, KernelCall | None] = {}
    macs: dict[int, int] = {}
    alias_ops: set[int] = set()
    for op in g.ops:
        impl = reg[op.type]
        if impl.alias_output_to_input and op.inputs and op.inputs[0] >= 0 and not g.tensor(op.inputs[0]).is_const:
            alias_ops.add(op.index)
            calls[op.index] = special[op.index] = None
            macs[op.index] = 0
            continue
        with op_context(op):
            p = impl.prepare(g, op)
            calls[op.index] = impl.emit(g, op, p)
            special[op.index] = impl.specialise(g, op, p, calls[op.index], target)
            macs[op.index] = impl.macs(g, op)
    return calls, special, macs, alias_ops


def _lower_fixed(g: Graph, calls: dict, macs: dict, alias_ops: set[int], strategies, optimize_schedule: bool, inplace: bool) -> Program:
    """Schedule, in-place decisions and placement of a graph whose calls are decided."""
    calls = dict(calls)
    scratch = {i: c.scratch_bytes for i, c in calls.items() if c is not None and c.scratch_bytes}
    options = inplace_options(g, calls) if inplace else {}

    lay = _best_layout(g, alias_ops, scratch, options)
    # A kernel whose scratch only buys speed gives it up where it would raise the peak.
    for i in sorted(i for i in scratch if calls[i].func in OPTIONAL_SCRATCH):
        trial_scratch = {k: v for k, v in scratch.items() if k != i}
        trial = _best_layout(g, alias_ops, trial_scratch, options)
        if trial.lower_bound < lay.lower_bound:
            scratch, lay = trial_scratch, trial
            calls[i] = _without_scratch(calls[i])
    if optimize_schedule and len(g.ops) > 1:
        order = best_order(g, alias_ops, scratch, options)
        if order != [op.index for op in g.ops]:
            by_index = {op.index: op for op in g.ops}
            alt = _best_layout(replace(g, ops=[by_index[i] for i in order]), alias_ops, scratch, options)
            if alt.lower_bound < lay.lower_bound:
                lay = alt
    plan = plan_best(lay.bufs, lay.links, len(lay.graph.ops), strategies)
    optional = [i for i in scratch if calls[i].func in OPTIONAL_SCRATCH]
    if plan.arena_bytes > lay.lower_bound and optional:
        # Placement missed the bound: small speed-only buffers may be what fragments the arena.
        lean_scratch = {k: v for k, v in scratch.items() if k not in optional}
        lean = _best_layout(lay.graph, alias_ops, lean_scratch, options)
        lean_plan = plan_best(lean.bufs, lean.links, len(lean.graph.ops), strategies)
        if lean_plan.arena_bytes < plan.arena_bytes:
            lay, plan = lean, lean_plan
            for i in optional:
                calls[i] = _without_scratch(calls[i])
    prog = _program(lay, calls, macs, alias_ops, plan)
    prog.calls = dict(calls)
    return prog


def _best_layout(g: Graph, alias_ops: set[int], scratch: dict[int, int], options: dict[int, list],
                 skip: set[int] | frozenset = frozenset()) -> _Layout:
    """In-place for every op that gains; then drop row streaming (slower) where the bound allows."""
    full = _layout(g, alias_ops, scratch, options, skip=skip)
    rows = sorted(i for i, d in full.inplace.items() if d.kind == "rows")
    enabled = set(rows)
    for i in rows:
        trial = _layout(g, alias_ops, scratch, options, enabled - {i}, skip)
        if trial.lower_bound <= full.lower_bound:
            enabled.discard(i)
    return _layout(g, alias_ops, scratch, options, enabled, skip) if enabled != set(rows) else full


def _program(lay: _Layout, calls, macs, alias_ops: set[int], plan: Plan) -> Program:
    g = lay.graph
    steps = []
    for op in g.ops:
        call = calls[op.index]
        d = lay.inplace.get(op.index)
        if call is not None and d is not None and d.kind == "rows":
            call = _rows_call(call, d.scratch)
        steps.append(Step(op=op, call=call, macs=macs[op.index]))
    return Program(
        graph=g,
        steps=steps,
        plan=plan,
        tensor_buffer=lay.tensor_buffer,
        root=alias_roots(g, alias_ops),
        scratch_buffer=lay.scratch_buffer,
        lower_bound_bytes=lay.lower_bound,
        inplace=dict(lay.inplace),
        file_order=[op.index for op in g.ops] == sorted(op.index for op in g.ops),
    )


def used_constants(prog: Program) -> list[int]:
    """Constant tensors that some kernel reads (other constants, e.g. shapes, stay in Python)."""
    used = set()
    for s in prog.steps:
        if s.call is None:
            continue
        for a in list(s.call.args) + _prelude_tensors(s.call.prelude):
            indices = [a.index] if isinstance(a, TensorArg) else list(a.indices) if isinstance(a, TensorList) else []
            for i in indices:
                r = prog.root[i]
                if prog.graph.tensor(r).is_const:
                    used.add(r)
    return sorted(used)


def _prelude_tensors(v) -> list:
    if isinstance(v, TensorArg):
        return [v]
    if isinstance(v, dict):
        v = list(v.values())
    if isinstance(v, (list, tuple)):
        return [a for x in v for a in _prelude_tensors(x)]
    return []


def buffer_of(prog: Program, t: int) -> Buffer | None:
    b = prog.tensor_buffer.get(t)
    return None if b is None else prog.plan.buffers[b]
