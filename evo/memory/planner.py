"""Arena placement: give every buffer an offset so that buffers live at the same time never
overlap, except in-place pairs, whose relative offset is fixed (`links`).

Buffers joined by links form *blocks* that are placed as one unit (their members keep their
relative offsets). Several deterministic strategies place the blocks; the smallest arena wins:

* greedy_by_size      - largest block first, each at the lowest offset that fits (TFLM's planner)
* greedy_by_conflicts - blocks that overlap in time with the most bytes first, lowest offset
* best_fit_lifetime   - blocks in order of birth, each into the tightest gap that holds it
* hill_climb          - bounded search over placement orders from the best so far (seeded swaps)
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from evo.memory.lifetimes import Buffer, align_up

Link = tuple[int, int, int]  # (input buffer a, output buffer b, delta): offsets[b] == offsets[a] + delta

STRATEGIES = ("greedy_by_size", "greedy_by_conflicts", "best_fit_lifetime", "hill_climb")
HILL_CLIMB_STEPS = 150


@dataclass
class Plan:
    buffers: list[Buffer]
    offsets: list[int]
    arena_bytes: int
    links: list[Link] = field(default_factory=list)
    strategy: str = "greedy_by_size"
    candidates: dict[str, int] = field(default_factory=dict)  # strategy -> arena bytes it reached


# ----------------------------------------------------------------------------- blocks


@dataclass
class _Block:
    members: list[int]  # buffer indices
    rel: dict[int, int]  # buffer -> offset inside the block
    extent: int
    first: int
    last: int


def blocks(bufs: list[Buffer], links: list[Link]) -> list[_Block]:
    adj: dict[int, list[tuple[int, int]]] = {}
    for a, b, d in links:
        adj.setdefault(a, []).append((b, d))
        adj.setdefault(b, []).append((a, -d))
    seen: dict[int, int] = {}
    out = []
    for start in range(len(bufs)):
        if start in seen:
            continue
        rel = {start: 0}
        stack = [start]
        while stack:
            i = stack.pop()
            for j, d in adj.get(i, ()):
                if j in rel:
                    if rel[j] != rel[i] + d:
                        raise AssertionError(f"inconsistent in-place links between {bufs[i].name} and {bufs[j].name}")
                    continue
                rel[j] = rel[i] + d
                stack.append(j)
        lo = min(rel.values())
        rel = {i: r - lo for i, r in rel.items()}
        members = sorted(rel)
        for i in members:
            seen[i] = len(out)
        out.append(_Block(members, rel, max(rel[i] + align_up(bufs[i].size) for i in members),
                          min(bufs[i].first for i in members), max(bufs[i].last for i in members)))
    return out


def _constraints(bufs: list[Buffer], blks: list[_Block]) -> list[dict[int, list[tuple[int, int]]]]:
    """cons[A][B] = open intervals (lo, hi) that X_A - X_B must avoid."""
    cons: list[dict[int, list[tuple[int, int]]]] = [dict() for _ in blks]
    for a, A in enumerate(blks):
        for b in range(a + 1, len(blks)):
            B = blks[b]
            if A.last < B.first or B.last < A.first:
                continue
            ivs = []
            for i in A.members:
                bi, si = bufs[i], align_up(bufs[i].size)
                if not si:
                    continue
                for j in B.members:
                    bj, sj = bufs[j], align_up(bufs[j].size)
                    if sj and bi.overlaps_in_time(bj):
                        ivs.append((B.rel[j] - A.rel[i] - si, B.rel[j] + sj - A.rel[i]))
            if ivs:
                cons[a][b] = ivs
                cons[b][a] = [(-hi, -lo) for lo, hi in ivs]
    return cons


def _forbidden(a: int, cons, pos: dict[int, int]) -> list[tuple[int, int]]:
    ivs = []
    for b, lst in cons[a].items():
        x = pos.get(b)
        if x is not None:
            ivs.extend((x + lo, x + hi) for lo, hi in lst)
    ivs.sort()
    return ivs


def _first_fit(ivs: list[tuple[int, int]]) -> int:
    cand = 0
    for s, e in ivs:
        if cand <= s:
            break
        cand = max(cand, e)
    return cand


def _best_fit(ivs: list[tuple[int, int]], extent: int) -> int:
    """Feasible offset whose free space above is smallest (ties: lowest); unbounded gaps last."""
    best = None
    for x in sorted({0, *(e for _, e in ivs if e > 0)}):
        if any(s < x < e for s, e in ivs):
            continue
        above = [s - x for s, _ in ivs if s >= x]
        slack = min(above) if above else None
        if slack is not None and slack < 0:
            continue
        key = (slack is None, slack if slack is not None else 0, x)
        if best is None or key < best[0]:
            best = (key, x)
    return best[1] if best else _first_fit(ivs)


def _place(order: list[int], blks: list[_Block], cons, fit: str = "first") -> tuple[dict[int, int], int]:
    pos: dict[int, int] = {}
    top = 0
    for a in order:
        ivs = _forbidden(a, cons, pos)
        x = _first_fit(ivs) if fit == "first" else _best_fit(ivs, blks[a].extent)
        pos[a] = x
        top = max(top, x + blks[a].extent)
    return pos, top


def _to_plan(bufs, links, blks, pos, strategy) -> Plan:
    offsets = [0] * len(bufs)
    for a, blk in enumerate(blks):
        for i in blk.members:
            offsets[i] = pos[a] + blk.rel[i]
    arena = max((offsets[i] + align_up(bufs[i].size) for i in range(len(bufs))), default=0)
    return Plan(buffers=bufs, offsets=offsets, arena_bytes=arena, links=list(links), strategy=strategy)


# ----------------------------------------------------------------------------- strategies


def plan_best(bufs: list[Buffer], links: list[Link] | None = None, steps: int | None = None,
              strategies: tuple[str, ...] | None = None) -> Plan:
    """Run every strategy (or the given ones) and keep the smallest arena (ties: listed order)."""
    from evo.memory.lifetimes import lower_bound

    links = list(links or [])
    strategies = tuple(strategies or STRATEGIES)
    for s in strategies:
        if s not in STRATEGIES:
            raise ValueError(f"unknown strategy {s}; choose from {', '.join(STRATEGIES)}")
    blks = blocks(bufs, links)
    cons = _constraints(bufs, blks)
    n_steps = steps if steps is not None else max((b.last for b in bufs), default=0) + 1
    bound = lower_bound(bufs, n_steps, links)
    size = {a: blk.extent for a, blk in enumerate(blks)}
    conflict = {a: sum(size[b] for b in cons[a]) for a in range(len(blks))}
    orders = {
        "greedy_by_size": sorted(range(len(blks)), key=lambda a: (-size[a], blks[a].first, a)),
        "greedy_by_conflicts": sorted(range(len(blks)), key=lambda a: (-(conflict[a] + size[a]), -size[a], a)),
        "best_fit_lifetime": sorted(range(len(blks)), key=lambda a: (blks[a].first, -size[a], a)),
    }
    results: dict[str, tuple[int, dict[int, int], list[int]]] = {}
    for name in ("greedy_by_size", "greedy_by_conflicts", "best_fit_lifetime"):
        if name in strategies or "hill_climb" in strategies:
            pos, top = _place(orders[name], blks, cons, "best" if name == "best_fit_lifetime" else "first")
            results[name] = (top, pos, orders[name])
    if "hill_climb" in strategies:
        start = min((results[n] for n in ("greedy_by_size", "greedy_by_conflicts", "best_fit_lifetime")), key=lambda r: r[0])
        top, pos, order = start
        order = list(order)
        rng = random.Random(0)
        n = len(order)
        for _ in range(HILL_CLIMB_STEPS if n > 1 else 0):
            if top <= bound:
                break
            i, j = rng.randrange(n), rng.randrange(n)
            if i == j:
                continue
            cand = list(order)
            if rng.random() < 0.5:
                cand[i], cand[j] = cand[j], cand[i]
            else:
                cand.insert(j, cand.pop(i))
            p2, t2 = _place(cand, blks, cons)
            if t2 <= top:
                order, pos, top = cand, p2, t2
        results["hill_climb"] = (top, pos, order)
    kept = [s for s in strategies if s in results]
    best = min(kept, key=lambda s: (results[s][0], kept.index(s)))
    plan = _to_plan(bufs, links, blks, results[best][1], best)
    plan.candidates = {s: results[s][0] for s in kept}
    check_plan(plan)
    return plan


def greedy_by_size(bufs: list[Buffer], links: list[Link] | None = None) -> Plan:
    return plan_best(bufs, links, strategies=("greedy_by_size",))


def check_plan(plan: Plan) -> None:
    """Assert that no two buffers alive at the same time share a byte (in-place pairs excepted:
    they must sit at exactly their declared relative offset), and all fit the arena."""
    bufs, offs = plan.buffers, plan.offsets
    linked = {}
    for a, b, d in plan.links:
        assert offs[b] - offs[a] == d, f"in-place pair {bufs[a].name} -> {bufs[b].name} is not at delta {d}"
        assert bufs[a].last == bufs[b].first, f"in-place pair {bufs[a].name} -> {bufs[b].name}: input outlives the op"
        linked[(min(a, b), max(a, b))] = d
    for i, a in enumerate(bufs):
        assert offs[i] % 16 == 0, f"buffer {a.name} is misaligned"
        assert offs[i] >= 0 and offs[i] + a.size <= plan.arena_bytes, f"buffer {a.name} exceeds the arena"
        for j in range(i + 1, len(bufs)):
            b = bufs[j]
            if (i, j) in linked:
                continue
            if a.overlaps_in_time(b) and a.size and b.size:
                disjoint = offs[i] + a.size <= offs[j] or offs[j] + b.size <= offs[i]
                assert disjoint, f"buffers {a.name} and {b.name} are alive together and overlap"
