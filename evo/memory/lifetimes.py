"""Buffers and their lifetimes over a static schedule.

A *buffer* is a piece of arena memory: one activation tensor, a group of tensors that alias
each other (RESHAPE output sharing its input), or one kernel call's scratch space. A buffer is
live from the step that first writes it to the step that last reads it, inclusive; graph inputs
are live from step 0 and graph outputs until the last step."""
from __future__ import annotations

from dataclasses import dataclass, field

from evo.ir import Graph

ALIGN = 16  # every buffer starts on a 16-byte boundary (SIMD loads, DMA, float/int32 data)


def align_up(n: int, a: int = ALIGN) -> int:
    return (n + a - 1) // a * a


@dataclass
class Buffer:
    name: str
    size: int  # bytes, before alignment padding
    first: int  # first step at which it is live
    last: int  # last step at which it is live
    tensors: list[int] = field(default_factory=list)  # tensor indices stored here (aliases share)

    def overlaps_in_time(self, other: "Buffer") -> bool:
        return self.first <= other.last and other.first <= self.last


def alias_roots(g: Graph, alias_ops: set[int]) -> dict[int, int]:
    """tensor -> the tensor whose memory it uses. `alias_ops` are op indices whose output 0
    shares input 0's memory (only when the input is not a constant)."""
    root = {t.index: t.index for t in g.tensors}
    for op in g.ops:
        if op.index in alias_ops:
            src, dst = op.inputs[0], op.outputs[0]
            root[dst] = root[src]
    return root


def buffers(g: Graph, alias_ops: set[int], scratch: dict[int, int], skip: set[int] | frozenset = frozenset()) -> tuple[list[Buffer], dict[int, int], dict[int, int]]:
    """Activation buffers of `g` for its op order. `scratch` maps op index -> scratch bytes.

    Returns the buffers, tensor index -> buffer index (constants are absent) and
    op index -> buffer index of its scratch. Tensors in `skip` (held in another memory pool)
    get no buffer."""
    root = alias_roots(g, alias_ops)
    last_step = max(len(g.ops) - 1, 0)
    spans: dict[int, list[int]] = {}  # root tensor -> [first, last]

    def touch(t: int, step: int) -> None:
        r = root[t]
        if g.tensor(r).is_const or r in skip:
            return
        span = spans.setdefault(r, [step, step])
        span[0] = min(span[0], step)
        span[1] = max(span[1], step)

    for t in g.inputs:
        touch(t, 0)
    for step, op in enumerate(g.ops):
        for t in op.inputs:
            if t >= 0:
                touch(t, step)
        for t in op.outputs:
            touch(t, step)
    for t in g.outputs:
        touch(t, last_step)

    members: dict[int, list[int]] = {}
    for t in range(len(g.tensors)):
        if root[t] in spans:
            members.setdefault(root[t], []).append(t)
    bufs: list[Buffer] = []
    tensor_buffer: dict[int, int] = {}
    for r in sorted(spans):
        size = max(g.tensor(t).nbytes for t in members[r])
        bufs.append(Buffer(name=g.tensor(r).name, size=size, first=spans[r][0], last=spans[r][1], tensors=members[r]))
        for t in members[r]:
            tensor_buffer[t] = len(bufs) - 1
    scratch_buffer: dict[int, int] = {}
    for step, op in enumerate(g.ops):
        if scratch.get(op.index, 0) > 0:
            scratch_buffer[op.index] = len(bufs)
            bufs.append(Buffer(name=f"{op.name}_scratch", size=scratch[op.index], first=step, last=step))
    return bufs, tensor_buffer, scratch_buffer


def lower_bound(bufs: list[Buffer], steps: int, links: list[tuple[int, int, int]] | None = None) -> int:
    """Largest total of live (aligned) buffer bytes at any step: no plan can be smaller.

    Buffers joined by in-place `links` (a, b, delta: b sits at a + delta) count once where they
    overlap: a step's total adds the length of the union of each linked group's live members."""
    if not links:
        best = 0
        for s in range(max(steps, 1)):
            best = max(best, sum(align_up(b.size) for b in bufs if b.first <= s <= b.last))
        return best
    from evo.memory.planner import blocks

    best = 0
    blks = blocks(bufs, links)
    for s in range(max(steps, 1)):
        total = 0
        for blk in blks:
            ivs = sorted((blk.rel[i], blk.rel[i] + align_up(bufs[i].size)) for i in blk.members if bufs[i].first <= s <= bufs[i].last)
            end = None
            for lo, hi in ivs:
                if end is None or lo >= end:
                    total += hi - lo
                    end = hi
                elif hi > end:
                    total += hi - end
                    end = hi
        best = max(best, total)
    return best
