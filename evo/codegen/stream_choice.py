"""Choosing what to row-stream (evo/memory/stream.py does the streaming itself).

`auto_stream` fuses groups where that lowers the arena: each maximal group of streamable ops
whole when it pays, else a window of its ops grown around the op at the peak (greedy,
bounded). `streamed` lowers a graph with given groups, or (mode "ops") with every streamable op
streamed alone - what RAM budgets below every operator's working set use."""
from __future__ import annotations

from evo.codegen.lower import Program, _best_layout, _Layout, _lower_fixed, inplace_options
from evo.ir import Graph
from evo.memory.stream import find_groups, fuse, readers_of, stage_of, valid_group


def stage_map(g: Graph, calls: dict) -> dict:
    """op index -> its stream Stage, for every op that can be row-streamed."""
    return {op.index: st for op in g.ops if (st := stage_of(g, op, calls.get(op.index))) is not None}


def streamed(g, calls, macs, alias_ops, strategies, optimize_schedule, inplace, mode, groups=None) -> Program | None:
    """The program with `groups` (or, mode "ops", every streamable op alone) row-streamed."""
    if groups is None:
        stages = stage_map(g, calls)
        groups = [[i] for i in stages] if mode == "ops" else find_groups(g, stages)
    if not groups:
        return None
    g2, calls2, macs2, programs = fuse(g, calls, macs, groups)
    prog = _lower_fixed(g2, calls2, macs2, alias_ops, strategies, optimize_schedule, inplace)
    prog.streams = programs
    return prog


AUTO_STREAM_TRIALS = 16  # candidate windows tried per maximal group while searching sub-groups


def auto_stream(g, calls, macs, alias_ops, strategies, optimize_schedule, inplace, whole: Program) -> Program:
    """Fuse groups of streamable ops where that lowers the peak: each maximal group whole if it
    helps, else a window of its ops grown around the op at the peak (greedy, bounded). Trials
    compare the lower bound of the file-order layout; the full lowering runs once at the end."""
    stages = stage_map(g, calls)
    groups = find_groups(g, stages)
    if not groups:
        return whole
    readers = readers_of(g)

    def quick(chosen):
        g2, calls2, _, _ = fuse(g, calls, macs, chosen)
        scratch = {i: c.scratch_bytes for i, c in calls2.items() if c is not None and c.scratch_bytes}
        return _best_layout(g2, alias_ops, scratch, inplace_options(g2, calls2) if inplace else {})

    best = quick([])
    kept: list[list[int]] = []
    for grp in groups:
        lay = quick(kept + [grp])
        if lay.lower_bound < best.lower_bound:
            best, kept = lay, kept + [grp]
            continue
        budget = AUTO_STREAM_TRIALS
        for _ in range(3):  # a few peaks, one window each
            at = _peak_op(best)
            if at not in grp or budget <= 0:
                break
            k = grp.index(at)
            win = None
            cands = [(k - 1, k + 1), (k, k + 2), (k - 1, k + 2)]
            while cands and budget > 0:
                found = None
                for lo, hi in cands:
                    members = grp[max(lo, 0):hi]
                    if not valid_group(g, stages, members, readers):
                        continue
                    budget -= 1
                    lay = quick(kept + [members])
                    if lay.lower_bound < best.lower_bound:
                        best, found = lay, (max(lo, 0), hi)
                if found is None:
                    break
                win = found
                cands = [(win[0] - 1, win[1]), (win[0], win[1] + 1)]
            if win is None:
                break
            chosen = grp[win[0]:win[1]]
            kept = kept + [chosen]
            grp = [m for m in grp if m not in chosen]
    if not kept:
        return whole
    prog = streamed(g, calls, macs, alias_ops, strategies, optimize_schedule, inplace, "groups", kept)
    return prog if prog.plan.arena_bytes < whole.plan.arena_bytes else whole


def _peak_op(lay: _Layout) -> int | None:
    """Index of the op at the step with the most live bytes (in-place overlap ignored)."""
    totals = [sum(b.size for b in lay.bufs if b.first <= s <= b.last) for s in range(len(lay.graph.ops))]
    return lay.graph.ops[max(range(len(totals)), key=totals.__getitem__)].index if totals else None
