"""Arena placement: give every buffer an offset so that buffers live at the same time never
overlap. First version: greedy by size, like TFLM's greedy planner (largest first, each at the
lowest offset that fits between the buffers already placed and alive at the same time)."""
from __future__ import annotations

from dataclasses import dataclass

from evo.memory.lifetimes import Buffer, align_up


@dataclass
class Plan:
    buffers: list[Buffer]
    offsets: list[int]
    arena_bytes: int


def greedy_by_size(bufs: list[Buffer]) -> Plan:
    order = sorted(range(len(bufs)), key=lambda i: (-align_up(bufs[i].size), bufs[i].first, i))
    offsets = [0] * len(bufs)
    placed: list[int] = []
    for i in order:
        b = bufs[i]
        need = align_up(b.size)
        live = sorted((offsets[j], offsets[j] + align_up(bufs[j].size)) for j in placed if bufs[j].overlaps_in_time(b))
        candidate = 0
        for start, end in live:
            if candidate + need <= start:
                break
            candidate = max(candidate, end)
        offsets[i] = candidate
        placed.append(i)
    arena = max((offsets[i] + align_up(bufs[i].size) for i in range(len(bufs))), default=0)
    plan = Plan(buffers=bufs, offsets=offsets, arena_bytes=arena)
    check_plan(plan)
    return plan


def check_plan(plan: Plan) -> None:
    """Assert that no two buffers alive at the same time share a byte, and all fit the arena."""
    bufs, offs = plan.buffers, plan.offsets
    for i, a in enumerate(bufs):
        assert offs[i] % 16 == 0, f"buffer {a.name} is misaligned"
        assert offs[i] + a.size <= plan.arena_bytes, f"buffer {a.name} exceeds the arena"
        for j in range(i + 1, len(bufs)):
            b = bufs[j]
            if a.overlaps_in_time(b) and a.size and b.size:
                disjoint = offs[i] + a.size <= offs[j] or offs[j] + b.size <= offs[i]
                assert disjoint, f"buffers {a.name} and {b.name} are alive together and overlap"
