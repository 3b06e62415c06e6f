"""Arena planner: no two buffers alive together overlap; the overlap checker catches violations."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evo.memory.lifetimes import Buffer, align_up, lower_bound
from evo.memory.planner import Plan, check_plan, greedy_by_size


@st.composite
def buffer_sets(draw):
    n = draw(st.integers(1, 30))
    steps = draw(st.integers(1, 20))
    bufs = []
    for i in range(n):
        first = draw(st.integers(0, steps - 1))
        last = draw(st.integers(first, steps - 1))
        bufs.append(Buffer(name=f"b{i}", size=draw(st.integers(1, 5000)), first=first, last=last))
    return bufs, steps


@settings(max_examples=300)
@given(buffer_sets())
def test_greedy_plan_is_valid_and_above_lower_bound(case):
    bufs, steps = case
    plan = greedy_by_size(bufs)  # runs check_plan itself
    check_plan(plan)
    assert plan.arena_bytes >= lower_bound(bufs, steps)
    assert plan.arena_bytes <= sum(align_up(b.size) for b in bufs)


def test_checker_rejects_overlap():
    a = Buffer("a", 100, 0, 2)
    b = Buffer("b", 100, 1, 3)
    with pytest.raises(AssertionError, match="overlap"):
        check_plan(Plan([a, b], [0, 64], 256))
    check_plan(Plan([a, b], [0, 112], 256))  # disjoint in space
    check_plan(Plan([a, Buffer("c", 100, 3, 4)], [0, 0], 112))  # disjoint in time


def test_chain_reuses_memory():
    # a -> b -> c -> d, each 1000 bytes: only two are alive at once
    bufs = [Buffer(f"t{i}", 1000, max(i - 1, 0), i) for i in range(4)]
    plan = greedy_by_size(bufs)
    assert plan.arena_bytes == 2 * align_up(1000)
