"""Memory pools: split a planned arena over several named RAM regions of different speed
(DTCM + SRAM on a Cortex-M7, SRAM banks, internal + external RAM).

Pools are given fastest first, each with a capacity (the last may be unbounded). This runs
after planning, on the planned buffers: buffers joined by in-place links move together (one
block). Blocks are ranked by *heat*, the work of the steps that touch them per byte they
occupy, so kernel scratch and small, often-used tensors come first; each pool in turn takes
the hottest remaining blocks whose live bytes still fit its capacity at every step, then fills
the room left with the largest blocks that fit, and the last pool takes the rest. Each pool is then placed on its own by the usual strategies; if
fragmentation pushes a pool past its capacity, its coldest block moves on to the next pool."""
from __future__ import annotations

import re
from dataclasses import dataclass

from evo.errors import EvoError
from evo.memory.lifetimes import Buffer, align_up
from evo.memory.planner import Plan, blocks, plan_best

POOL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,15}$")
RESERVED = {"ext", "arena", "pools"}  # names the generated C already uses


@dataclass(frozen=True)
class PoolSpec:
    name: str
    capacity: int | None  # bytes; None: as much as the model needs (last pool only)


@dataclass
class PoolPlan:
    pools: list[PoolSpec]
    plans: list[Plan]  # per pool, over the buffers it holds
    buffer_pool: list[int]  # buffer index (in the single-arena plan) -> pool index
    buffer_slot: list[int]  # buffer index -> its index in plans[pool].buffers

    def offset(self, b: int) -> int:
        return self.plans[self.buffer_pool[b]].offsets[self.buffer_slot[b]]

    def pool_name(self, b: int) -> str:
        return self.pools[self.buffer_pool[b]].name

    @property
    def sizes(self) -> dict[str, int]:
        return {p.name: plan.arena_bytes for p, plan in zip(self.pools, self.plans)}


def parse_pools(text: str) -> list[PoolSpec]:
    """'dtcm:65536,sram:262144' (fastest first; sizes accept k/K, m/M suffixes and 0x; the
    last size may be left out)."""
    pools: list[PoolSpec] = []
    for item in (x.strip() for x in text.split(",")):
        name, _, size = item.partition(":")
        name = name.strip().lower()
        if not POOL_NAME.match(name) or name in RESERVED:
            raise EvoError(f"bad pool name '{name}' in --pools {text}",
                           "use lowercase C identifiers other than ext/arena/pools, e.g. --pools dtcm:64k,sram:256k")
        if any(p.name == name for p in pools):
            raise EvoError(f"pool '{name}' is given twice in --pools {text}", "name every pool once")
        pools.append(PoolSpec(name, _parse_size(size, text) if size.strip() else None))
    if not pools:
        raise EvoError("--pools is empty", "pass e.g. --pools dtcm:64k,sram:256k")
    for p in pools[:-1]:
        if p.capacity is None:
            raise EvoError(f"pool '{p.name}' has no size in --pools {text}", "only the last pool may leave its size out")
    return pools


def _parse_size(s: str, text: str) -> int:
    s = s.strip().lower()
    scale = {"k": 1024, "m": 1024 * 1024}.get(s[-1:], 1)
    try:
        n = int(s[:-1] if scale > 1 else s, 0) * scale
    except ValueError:
        n = -1
    if n < 0:
        raise EvoError(f"bad pool size '{s}' in --pools {text}", "sizes are bytes, e.g. 65536, 64k or 0x10000")
    return n


def _heat(prog, bufs: list[Buffer]) -> list[float]:
    """Per buffer: work of the steps that touch it (MACs, or bytes for MAC-free ops) per byte."""
    work = [max(s.macs, sum(prog.graph.tensor(t).nbytes for t in s.op.outputs)) for s in prog.steps]
    touched: dict[int, int] = {}
    for k, s in enumerate(prog.steps):
        seen = set()
        for t in list(s.op.inputs) + list(s.op.outputs):
            b = prog.tensor_buffer.get(t)
            if b is not None and b not in seen:
                seen.add(b)
                touched[b] = touched.get(b, 0) + work[k]
    for op_index, b in prog.scratch_buffer.items():
        k = next(k for k, s in enumerate(prog.steps) if s.op.index == op_index)
        touched[b] = touched.get(b, 0) + work[k]
    return [touched.get(b, 0) / max(align_up(buf.size), 1) for b, buf in enumerate(bufs)]


def _plan_subset(bufs, links, members: list[int], steps: int, strategies) -> tuple[Plan, dict[int, int]]:
    slot = {b: i for i, b in enumerate(members)}
    sub_links = [(slot[a], slot[b], d) for a, b, d in links if a in slot]
    return plan_best([bufs[b] for b in members], sub_links, steps, strategies), slot


def assign_pools(prog, pools: list[PoolSpec], strategies=None) -> PoolPlan:
    bufs, links = prog.plan.buffers, prog.plan.links
    steps = max(len(prog.steps), 1)
    heat = _heat(prog, bufs)
    blks = blocks(bufs, links)
    # hottest first; ties: smaller, then earlier (deterministic)
    order = sorted(range(len(blks)), key=lambda a: (-max(heat[i] for i in blks[a].members), blks[a].extent, a))
    remaining = list(order)
    buffer_pool = [0] * len(bufs)
    buffer_slot = [0] * len(bufs)
    plans: list[Plan] = []
    for p_index, pool in enumerate(pools):
        last = p_index == len(pools) - 1
        if last:
            taken = remaining
        else:
            live = [0] * steps
            taken = []
            # hottest first; then the room left goes to the largest blocks that still fit,
            # which lowers what the slower pools must hold
            for a in remaining + sorted(remaining, key=lambda a: (-blks[a].extent, a)):
                blk = blks[a]
                span = range(blk.first, blk.last + 1)
                if a not in taken and all(live[k] + blk.extent <= pool.capacity for k in span):
                    for k in span:
                        live[k] += blk.extent
                    taken.append(a)
        while True:
            members = sorted(i for a in taken for i in blks[a].members)
            plan, slot = _plan_subset(bufs, links, members, steps, strategies)
            if pool.capacity is None or plan.arena_bytes <= pool.capacity or not taken:
                break
            if last:
                need = plan.arena_bytes
                raise EvoError(f"the model does not fit the memory pools: pool '{pool.name}' needs {need:,} B "
                               f"but has {pool.capacity:,} B",
                               "give the pools more memory, or lower the arena with --ram-budget")
            taken = taken[:-1]  # fragmentation: the coldest block moves on
        taken_set = set(taken)
        remaining = [a for a in remaining if a not in taken_set]
        for b in members:
            buffer_pool[b], buffer_slot[b] = p_index, slot[b]
        plans.append(plan)
    return PoolPlan(pools=list(pools), plans=plans, buffer_pool=buffer_pool, buffer_slot=buffer_slot)
