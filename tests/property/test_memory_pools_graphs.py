"""Random int8 graphs split over memory pools: every pool's plan is valid and within its
capacity, in-place pairs stay in one pool, and the C stays bit-exact with TFLM on every tensor."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from evo.codegen.lower import lower
from evo.compiler import compile_graph
from evo.frontend.tflite_reader import read_tflite
from evo.frontend.tflite_writer import write_tflite
from evo.inputs import random_inputs
from evo.memory.planner import check_plan
from evo.memory.pools import PoolSpec
from evo.targets.host import HostModel
from evo.verify.tflm import run_tflm
from tests.property.test_memory_graphs import graphs
from tests.support.differential import assert_same


@settings(max_examples=6, deadline=None)
@given(graphs(), st.sampled_from([0.25, 0.5, 0.8]), st.booleans())
def test_random_graph_pools_bit_exact(g, share, three):
    model = write_tflite(g)
    g = read_tflite(model)
    arena = lower(g).plan.arena_bytes
    fast = (int(arena * share) // 16) * 16
    pools = [PoolSpec("fast", fast)] + ([PoolSpec("mid", fast // 2)] if three else []) + [PoolSpec("slow", None)]
    c = compile_graph(g, "m", pools=pools)
    pp = c.program.pool_plan
    for spec, plan in zip(pools, pp.plans):
        check_plan(plan)
        assert spec.capacity is None or plan.arena_bytes <= spec.capacity
    for a, b, _ in c.program.plan.links:
        assert pp.buffer_pool[a] == pp.buffer_pool[b]
    inputs = random_inputs(g, 0)
    want, oracle = run_tflm(model, g, inputs, preserve_all=True)
    with HostModel.build(g, trace=True, compiled=c) as host:
        got, tensors = host.run(inputs, trace=True)
    for t, v in oracle.items():
        assert_same(tensors[t], v, f"tensor {t}")
    for a, b in zip(got, want):
        assert_same(a, b, "output")
