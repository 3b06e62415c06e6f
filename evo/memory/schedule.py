"""Schedule optimisation: the operator order with the smallest peak memory the graph allows.

The search runs over *downsets* (sets of executed ops closed under dependencies) with a
minimax Dijkstra: the cost of a path is its largest step footprint (live buffers + the op's
new outputs + its scratch, minus what an in-place op saves when its input dies there). Chains
have n + 1 downsets; branching graphs (residual blocks, multi-exit heads) a few more. When the
graph has too many downsets the search gives up and a greedy order (cheapest ready op first)
is used. Deterministic: ties keep the file's order where possible.

The caller compares the result with the file's order on the exact lower bound and keeps the
file's order unless the new one is strictly better."""
from __future__ import annotations

import heapq

from evo.ir import Graph
from evo.memory.inplace import footprint
from evo.memory.lifetimes import alias_roots, align_up

MAX_STATES = 20000


class _Model:
    def __init__(self, g: Graph, alias_ops: set[int], scratch: dict[int, int], options: dict[int, list]):
        self.g = g
        self.ops = list(g.ops)
        n = len(self.ops)
        self.pos = {op.index: i for i, op in enumerate(self.ops)}
        root = alias_roots(g, alias_ops)
        self.root = root
        outputs = {root[t] for t in g.outputs}
        size: dict[int, int] = {}
        for t in g.tensors:
            if not g.tensor(root[t.index]).is_const and not t.is_const:
                size[root[t.index]] = max(size.get(root[t.index], 0), align_up(t.nbytes))
        producer: dict[int, int] = {}
        readers: dict[int, int] = {r: 0 for r in size}
        for i, op in enumerate(self.ops):
            for t in op.outputs:
                if root[t] == t and t in size:
                    producer[t] = i
            for t in op.inputs:
                if t >= 0 and root[t] in size:
                    readers[root[t]] |= 1 << i
            for t in op.outputs:
                if op.index in alias_ops:
                    readers[root[t]] |= 1 << i
        self.size, self.producer, self.readers, self.outputs = size, producer, readers, outputs
        made = {t: i for i, op in enumerate(self.ops) for t in op.outputs}
        self.pred = [0] * n
        for i, op in enumerate(self.ops):
            for t in op.inputs:
                if t >= 0 and t in made:
                    self.pred[i] |= 1 << made[t]
        self.new_out = [sum(size[t] for t in op.outputs if t in size and root[t] == t) if op.index not in alias_ops else 0
                        for op in self.ops]
        self.scratch = [align_up(scratch.get(op.index, 0)) for op in self.ops]
        self.opts = []
        for op in self.ops:
            lst = []
            for p, delta, kind, scr in options.get(op.index) or []:
                r_in = root[op.inputs[p]]
                r_out = root[op.outputs[0]]
                if r_in not in size or r_out not in size:
                    continue
                gain = size[r_in] + size[r_out] - footprint(size[r_in], size[r_out], delta) - align_up(scr)
                if gain > 0:
                    lst.append((r_in, gain))
            self.opts.append(lst)
        self.full = (1 << n) - 1

    def live(self, done: int) -> int:
        total = 0
        for r, s in self.size.items():
            p = self.producer.get(r)
            if p is not None and not done >> p & 1:
                continue
            if r in self.outputs or self.readers[r] & ~done:
                total += s
        return total

    def step_cost(self, done: int, i: int, live: int) -> int:
        cost = live + self.new_out[i] + self.scratch[i]
        after = done | 1 << i
        gain = 0
        for r_in, gn in self.opts[i]:
            if r_in not in self.outputs and not self.readers[r_in] & ~after:
                gain = max(gain, gn)
        return cost - gain

    def ready(self, done: int) -> list[int]:
        return [i for i in range(len(self.ops)) if not done >> i & 1 and self.pred[i] & ~done == 0]

    def peak(self, order: list[int]) -> int:
        done, best = 0, 0
        for i in order:
            best = max(best, self.step_cost(done, i, self.live(done)))
            done |= 1 << i
        return best


def best_order(g: Graph, alias_ops: set[int], scratch: dict[int, int], options: dict[int, list]) -> list[int]:
    """Op indices in the order with the smallest estimated peak (file order on ties)."""
    m = _Model(g, alias_ops, scratch, options)
    n = len(m.ops)
    file_order = list(range(n))
    if n <= 1:
        return [op.index for op in m.ops]
    result = _search(m) or _greedy(m)
    if m.peak(result) >= m.peak(file_order):
        result = file_order
    return [m.ops[i].index for i in result]


def _search(m: _Model) -> list[int] | None:
    start = 0
    dist = {start: 0}
    parent: dict[int, tuple[int, int]] = {}
    heap = [(0, 0, start)]
    seq = 1
    while heap:
        peak, _, done = heapq.heappop(heap)
        if peak > dist.get(done, peak):
            continue
        if done == m.full:
            order = []
            while done:
                prev, i = parent[done]
                order.append(i)
                done = prev
            return order[::-1]
        live = m.live(done)
        for i in m.ready(done):
            nxt = done | 1 << i
            p = max(peak, m.step_cost(done, i, live))
            if p < dist.get(nxt, 1 << 62):
                dist[nxt] = p
                parent[nxt] = (done, i)
                heapq.heappush(heap, (p, seq, nxt))
                seq += 1
                if len(dist) > MAX_STATES:
                    return None
    return None


def _greedy(m: _Model) -> list[int]:
    done, order = 0, []
    while done != m.full:
        live = m.live(done)
        i = min(m.ready(done), key=lambda i: (m.step_cost(done, i, live), m.live(done | 1 << i), i))
        order.append(i)
        done |= 1 << i
    return order
