"""Replacement strategy: meet a RAM budget below the plan's peak by evicting tensors to a second,
slower memory (`ext`, a buffer the caller passes to `<name>_invoke_ext`).

The schedule is simulated step by step with a byte target T. Before each op, the tensors it
reads are copied back in if they were evicted; when the resident bytes (plus the op's outputs
and scratch) exceed T, the resident tensor the op does not touch whose next use is farthest
away is evicted (Belady's rule). A tensor is copied out once (tensors never change after they
are written); every later eviction only drops the RAM copy. Each reload is a new tensor (a
fresh buffer that the planner may put anywhere), and the ops after it read that copy.

The rewritten graph holds the copies as ops (`EVO_COPY_OUT` / `EVO_COPY_IN`, kernel
`evo_move_bytes`), so lifetimes, in-place decisions and placement are recomputed on it. If the
placed arena still exceeds the budget, T is lowered by the overshoot and the simulation rerun;
the last resort evicts every tensor between any two steps, which makes each step's buffers
independent, so the arena equals the largest single step's working set (the smallest feasible
budget)."""
from __future__ import annotations

from dataclasses import replace

from evo.errors import EvoError
from evo.ir import Graph, Op, Tensor
from evo.memory.lifetimes import Buffer, align_up, alias_roots
from evo.memory.planner import plan_best
from evo.ops.base import KernelCall, TensorArg

COPY_OUT, COPY_IN = "EVO_COPY_OUT", "EVO_COPY_IN"
MAX_TRIES = 8


def _copy_call(src: int, dst: int, nbytes: int) -> KernelCall:
    return KernelCall(func="evo_move_bytes", sources=["move_bytes.c"], header="inplace.h", args=[TensorArg(src), TensorArg(dst), nbytes])


def _retarget(call: KernelCall | None, mapping: dict[int, int]) -> KernelCall | None:
    if call is None or not mapping:
        return call
    from evo.ops.base import TensorList

    def fix(a):
        if isinstance(a, TensorArg) and a.index in mapping:
            return TensorArg(mapping[a.index])
        if isinstance(a, TensorList):
            return TensorList(tuple(mapping.get(i, i) for i in a.indices))
        return a

    return replace(call, args=[fix(a) for a in call.args])


def _simulate(g: Graph, alias_ops: set[int], scratch: dict[int, int], target: int, split: bool, inputs_ext: bool = False):
    """Returns {step: (copy_out roots, copy_in roots, roots a stream op reads from ext, roots a
    stream op writes straight to ext)}, final reloads, and the sizes. A row-streamed op
    (EVO_STREAM) copies its rows in and out itself, so its tensors may stay in ext; with
    `inputs_ext` the graph inputs start there (the caller writes them into ext)."""
    from evo.memory.stream import STREAM

    root = alias_roots(g, alias_ops)
    members: dict[int, list[int]] = {}
    for t in g.tensors:
        if not t.is_const and not g.tensor(root[t.index]).is_const:
            members.setdefault(root[t.index], []).append(t.index)
    size = {r: align_up(max(g.tensor(t).nbytes for t in ms)) for r, ms in members.items()}
    outputs = {root[t] for t in g.outputs}
    uses: dict[int, list[int]] = {r: [] for r in size}  # steps reading r
    need: list[set[int]] = []
    made: list[set[int]] = []
    streamed: list[bool] = []
    for k, op in enumerate(g.ops):
        reads = {root[t] for t in op.inputs if t >= 0 and root[t] in size}
        writes = {root[t] for t in op.outputs if root[t] in size} if op.index not in alias_ops else set()
        for r in reads:
            uses[r].append(k)
        streamed.append(op.type == STREAM)
        need.append(writes if streamed[-1] else reads | writes)
        made.append(writes)
    # only single-tensor storage can move (aliased groups stay put)
    movable = {r for r, ms in members.items() if len(ms) == 1}
    last_use = {r: max(uses[r], default=-1) for r in size}
    n = len(g.ops)

    def next_use(r: int, k: int) -> int:
        for s in uses[r]:
            if s > k:
                return s
        return n + 1 if r in outputs else -1

    starts = {r for r in (root[t] for t in g.inputs) if r in size}
    resident = set() if inputs_ext else set(starts)
    in_ext: set[int] = set(starts) if inputs_ext else set()
    events: dict[int, tuple[list[int], list[int], list[int], list[int]]] = {}
    for k in range(n):
        outs, ins, ext_reads, born = [], [], [], []
        # drop dead residents
        resident = {r for r in resident if r in outputs or last_use[r] >= k}
        if streamed[k]:
            reads = sorted({root[t] for t in g.ops[k].inputs if t >= 0 and root[t] in size})
            ext_reads = [r for r in reads if r not in resident or (split and r in movable)]
            for r in ext_reads:
                if r in resident:
                    if r not in in_ext:
                        outs.append(r)
                        in_ext.add(r)
                    resident.discard(r)
            outs_k = sorted(made[k])
            usage = sum(size[r] for r in resident) + sum(size[r] for r in outs_k) + align_up(scratch.get(g.ops[k].index, 0))
            for r in outs_k:
                if (split or usage > target) and r in movable:
                    born.append(r)
                    in_ext.add(r)
                    usage -= size[r]
        for r in sorted(need[k] - made[k]):
            if split and r in resident and r in movable and k > 0:
                # last resort: no buffer spans two steps, so every step packs on its own
                if r not in in_ext:
                    outs.append(r)
                    in_ext.add(r)
                resident.discard(r)
            if r not in resident:
                ins.append(r)
                resident.add(r)
        resident |= made[k] - set(born)
        usage = sum(size[r] for r in resident) + align_up(scratch.get(g.ops[k].index, 0))
        pinned = need[k] | {root[t] for t in g.ops[k].inputs if t >= 0 and root[t] in resident}  # read in RAM at this step
        victims = sorted((r for r in resident if r not in pinned and r in movable), key=lambda r: (-next_use(r, k), r))
        for r in victims:
            if usage <= target and not split:
                break
            if next_use(r, k) < 0:
                continue
            if r not in in_ext:
                outs.append(r)
                in_ext.add(r)
            resident.discard(r)
            usage -= size[r]
        # copy-ins must not also appear as victims; inputs reloaded this step are in need[k]
        if outs or ins or ext_reads or born:
            events[k] = (outs, ins, ext_reads, born)
    final = sorted(r for r in outputs if r not in resident and r in in_ext)
    return events, final, size


def _rewrite(g: Graph, alias_ops: set[int], calls: dict, macs: dict, events, final, inputs_ext: bool = False):
    """The graph with copy ops inserted; returns (graph, calls, macs, ext tensors, moved bytes)."""
    tensors = list(g.tensors)
    calls, macs = dict(calls), dict(macs)
    next_op = max((op.index for op in g.ops), default=-1) + 1
    current: dict[int, int] = {}  # original root -> tensor holding its current RAM copy
    ext_of: dict[int, int] = {}
    ext: set[int] = set()
    ops: list[Op] = []
    moved = 0

    def new_tensor(src: int, suffix: str) -> int:
        t = g.tensor(src)
        nt = Tensor(index=len(tensors), name=f"{t.name}{suffix}", shape=t.shape, dtype=t.dtype, quant=t.quant)
        tensors.append(nt)
        return nt.index

    def add_copy(kind: str, src: int, dst: int) -> None:
        nonlocal next_op, moved
        op = Op(index=next_op, type=kind, inputs=[src], outputs=[dst])
        next_op += 1
        nbytes = tensors[src].nbytes
        calls[op.index] = _copy_call(src, dst, nbytes)
        macs[op.index] = 0
        moved += nbytes
        ops.append(op)

    def reload(r: int, k: int | None) -> None:
        dst = new_tensor(r, f"@in{'end' if k is None else k}")
        add_copy(COPY_IN, ext_of[r], dst)
        current[r] = dst

    if inputs_ext:
        for t in g.inputs:  # the caller writes them straight into ext
            ext.add(t)
            ext_of[t] = t
    for k, op in enumerate(g.ops):
        outs, ins, ext_reads, born = events.get(k, ([], [], [], []))
        for r in outs:
            e = new_tensor(r, "@ext")
            ext.add(e)
            ext_of[r] = e
            add_copy(COPY_OUT, current.get(r, r), e)
        for r in ins:
            reload(r, k)
        mapping = {t: current[t] for t in op.inputs if t in current}
        for r in ext_reads:  # a row-streamed op copies these rows in from ext itself
            mapping[r] = ext_of[r]
            moved += tensors[ext_of[r]].nbytes
        if mapping:
            op = replace(op, inputs=[mapping.get(t, t) for t in op.inputs])
            calls[op.index] = _retarget(calls[op.index], mapping)
        for r in born:  # ... and copies these rows out to ext: the tensor lives there
            ext.add(r)
            ext_of[r] = r
            moved += tensors[r].nbytes
        ops.append(op)
    for r in final:
        reload(r, None)
    outputs = [current.get(t, t) for t in g.outputs]
    g2 = replace(g, tensors=tensors, ops=ops, outputs=outputs)
    return g2, calls, macs, ext, moved


def _ext_plan(g2: Graph, ext: set[int]):
    first: dict[int, int] = {t: 0 for t in g2.inputs if t in ext}
    last: dict[int, int] = {t: 0 for t in g2.inputs if t in ext}
    for k, op in enumerate(g2.ops):
        for t in list(op.inputs) + list(op.outputs):
            if t in ext:
                first.setdefault(t, k)
                last[t] = k
    order = sorted(ext)
    bufs = [Buffer(name=g2.tensor(t).name, size=g2.tensor(t).nbytes, first=first[t], last=last[t], tensors=[t]) for t in order]
    plan = plan_best(bufs, [], len(g2.ops), ("greedy_by_size", "best_fit_lifetime"))
    return plan, {t: i for i, t in enumerate(order)}


def min_budget(prog, inputs_ext: bool = True) -> int:
    """The largest single step's working set: every op's inputs, outputs and scratch (in-place
    pairs counted once; a row-streamed op only its scratch and aliased tensors, since the others
    may stay in ext),
    and the graph's outputs, which sit in the arena after an inference (and its inputs before
    one, unless `inputs_ext`: the caller writes them into ext). No budget below this can work."""
    from evo.memory.inplace import footprint
    from evo.memory.stream import STREAM

    g = prog.graph
    best = 0
    for io in ([g.outputs] if inputs_ext else [g.inputs, g.outputs]):
        bs = {prog.tensor_buffer[t] for t in io if t in prog.tensor_buffer}
        best = max(best, sum(align_up(prog.plan.buffers[b].size) for b in bs))
    links = {(prog.tensor_buffer.get(d.input), prog.tensor_buffer.get(d.output)): d for d in prog.inplace.values()}
    for k, s in enumerate(prog.steps):
        total = 0
        if s.op.type == STREAM:  # only aliased storage (which never moves) must be in the arena
            bs = {prog.tensor_buffer[t] for t in list(s.op.inputs) + list(s.op.outputs) if t in prog.tensor_buffer}
            total = sum(align_up(prog.plan.buffers[b].size) for b in bs if len(prog.plan.buffers[b].tensors) > 1)
        else:
            bs = {prog.tensor_buffer[t] for t in list(s.op.inputs) + list(s.op.outputs) if t in prog.tensor_buffer}
            total = sum(align_up(prog.plan.buffers[b].size) for b in bs)
            for (a, b), d in links.items():
                if a in bs and b in bs and d.op == s.op.index:
                    sa, sb = prog.plan.buffers[a].size, prog.plan.buffers[b].size
                    total -= align_up(sa) + align_up(sb) - footprint(sa, sb, d.delta)
        if s.op.index in prog.scratch_buffer:
            total += align_up(prog.plan.buffers[prog.scratch_buffer[s.op.index]].size)
        best = max(best, total)
    return best


def apply_budget(prog, budget: int, alias_ops: set[int], calls: dict, macs: dict, strategies):
    """The program rewritten to fit `budget` bytes of arena. Graph inputs stay in the arena when
    that can work, else they start in ext (written there by the caller)."""
    floor = min_budget(prog)
    if budget < floor:
        raise EvoError(f"RAM budget {budget:,} B is below the largest single operator's working set ({floor:,} B)",
                       f"pass --ram-budget {floor} or more")
    errors = []
    for inputs_ext in (False, True):
        if not inputs_ext and budget < min_budget(prog, inputs_ext=False):
            continue
        try:
            return _apply_budget(prog, budget, alias_ops, calls, macs, strategies, inputs_ext)
        except EvoError as e:
            errors.append(e)
    raise errors[-1]


def _apply_budget(prog, budget: int, alias_ops: set[int], calls: dict, macs: dict, strategies, inputs_ext: bool):
    from evo.codegen.lower import _best_layout, _program, inplace_options

    g = prog.graph
    scratch = {i: c.scratch_bytes for i, c in calls.items() if c is not None and c.scratch_bytes}
    best = None
    target, split = budget, False
    for attempt in range(MAX_TRIES + 2):
        events, final, _ = _simulate(g, alias_ops, scratch, target, split, inputs_ext)
        g2, calls2, macs2, ext, moved = _rewrite(g, alias_ops, calls, macs, events, final, inputs_ext)
        options = inplace_options(g2, calls2)
        lay = _best_layout(g2, alias_ops, scratch, options, skip=ext)
        plan = plan_best(lay.bufs, lay.links, len(g2.ops), strategies)
        if plan.arena_bytes <= budget:
            if best is None or moved < best[0]:
                best = (moved, lay, plan, calls2, macs2, ext, g2)
            break
        if split:
            break
        over = plan.arena_bytes - budget
        if attempt >= MAX_TRIES - 1 or target <= 0:
            target, split = 0, True
        else:
            target = max(target - over, 0)
    if best is None:
        raise EvoError(f"no eviction schedule fits the RAM budget {budget:,} B", f"pass --ram-budget {plan.arena_bytes} or more")
    moved, lay, plan, calls2, macs2, ext, g2 = best
    prog2 = _program(lay, calls2, macs2, alias_ops, plan)
    prog2.file_order = prog.file_order
    prog2.ext_plan, prog2.ext_tensor_buffer = _ext_plan(g2, ext)
    prog2.moved_bytes = moved
    prog2.streams = dict(prog.streams)
    prog2.calls = dict(calls2)
    return prog2


def budget_error(budget: int, errors: list) -> EvoError:
    """The clean error for a budget no strategy met: the smallest figure any of them named."""
    import re

    floors = [int(m.group(1)) for e in errors if (m := re.search(r"--ram-budget (\d+)", e.fix))]
    if not floors:
        return errors[0] if errors else EvoError(f"no schedule fits the RAM budget {budget:,} B", "pass a larger --ram-budget")
    floor = min(floors)
    return EvoError(f"RAM budget {budget:,} B is below the smallest working set EVO can schedule ({floor:,} B)",
                    f"pass --ram-budget {floor} or more")


def smallest_budget(g: Graph) -> int:
    """The smallest --ram-budget `lower` can meet for `g`: the default program's working-set
    floor, or that of every streamable op row-streamed on its own, whichever is lower."""
    from evo.codegen.lower import lower

    return min(min_budget(lower(g)), min_budget(lower(g, stream="ops")))
