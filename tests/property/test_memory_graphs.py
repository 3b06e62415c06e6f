"""Random int8 graphs (convolutions, depthwise, residual ADDs, ReLUs, several exits): the plan
never overlaps live buffers, and EVO's C - with in-place execution, schedule optimisation,
row streaming and RAM budgets down to the minimum - stays bit-exact with TFLM on every tensor
that exists whole (a row-streamed group's intermediates only ever exist as line buffers)."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from evo.codegen.lower import lower
from evo.compiler import compile_graph
from evo.frontend.tflite_writer import write_tflite
from evo.inputs import random_inputs
from evo.ir.graph import Graph, Op, Quant, Tensor
from evo.memory.evict import min_budget, smallest_budget
from evo.memory.planner import check_plan
from evo.targets.host import HostModel
from evo.verify.tflm import run_tflm
from tests.support.differential import assert_same


def _q(scale, zp=0, n=1, axis=0):
    return Quant(scale=np.full(n, scale, np.float32), zero_point=np.full(n, zp, np.int64), axis=axis)


@st.composite
def graphs(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    tensors: list[Tensor] = []
    ops: list[Op] = []

    def act(shape, name):
        t = Tensor(len(tensors), name, tuple(shape), "int8", _q(float(rng.uniform(0.02, 0.1)), int(rng.integers(-20, 20))))
        tensors.append(t)
        return t.index

    def const(data, quant, name):
        dt = "int8" if data.dtype == np.int8 else "int32"
        t = Tensor(len(tensors), name, data.shape, dt, quant, data)
        tensors.append(t)
        return t.index

    h = draw(st.sampled_from([4, 6, 8]))
    c = draw(st.sampled_from([2, 4]))
    x = act((1, h, h, c), "input")
    avail = [x]
    for k in range(draw(st.integers(2, 7))):
        kind = draw(st.sampled_from(["conv", "dw", "add", "relu", "conv"]))
        src = avail[draw(st.integers(0, len(avail) - 1))]
        s = tensors[src]
        if kind == "add":
            same = [t for t in avail if t != src and tensors[t].shape == s.shape]
            if not same:
                kind = "relu"
            else:
                y = act(s.shape, f"add{k}")
                ops.append(Op(len(ops), "ADD", [src, same[0]], [y], {"fused_activation_function": "NONE"}))
                avail.append(y)
                continue
        if kind == "relu":
            y = len(tensors)
            tensors.append(Tensor(y, f"relu{k}", s.shape, "int8", s.quant))
            ops.append(Op(len(ops), "RELU", [src], [y]))
            avail.append(y)
            continue
        _, hh, ww, cc = s.shape
        k_ = draw(st.sampled_from([1, 3])) if kind == "conv" else 3
        stride = draw(st.sampled_from([1, 2])) if hh >= 4 else 1
        oh, ow = (hh + stride - 1) // stride, (ww + stride - 1) // stride
        oc = draw(st.sampled_from([2, 4, 8])) if kind == "conv" else cc
        ws = rng.uniform(0.005, 0.02, oc).astype(np.float32)
        if kind == "conv":
            w = const(rng.integers(-127, 128, (oc, k_, k_, cc)).astype(np.int8), Quant(ws, np.zeros(oc, np.int64), 0), f"w{k}")
        else:
            w = const(rng.integers(-127, 128, (1, k_, k_, cc)).astype(np.int8), Quant(ws, np.zeros(oc, np.int64), 3), f"w{k}")
        b = const(rng.integers(-500, 500, oc).astype(np.int32), Quant((ws * s.quant.scale[0]).astype(np.float32), np.zeros(oc, np.int64)), f"b{k}")
        y = act((1, oh, ow, oc), f"{kind}{k}")
        attrs = {"padding": "SAME", "stride_h": stride, "stride_w": stride, "dilation_h_factor": 1, "dilation_w_factor": 1,
                 "fused_activation_function": draw(st.sampled_from(["NONE", "RELU"]))}
        if kind == "dw":
            attrs["depth_multiplier"] = 1
        ops.append(Op(len(ops), "CONV_2D" if kind == "conv" else "DEPTHWISE_CONV_2D", [src, w, b], [y], attrs))
        avail.append(y)
    used = {t for op in ops for t in op.inputs}
    outs = [t for t in avail if t not in used and t != x] or [avail[-1]]
    return Graph(tensors=tensors, ops=ops, inputs=[x], outputs=outs, input_names=["input"],
                 output_names=[f"out{i}" for i in range(len(outs))], name="rand", file_inputs=[x], file_outputs=outs)


@settings(max_examples=10, deadline=None)
@given(graphs())
def test_random_graph_plans_bit_exact(g):
    model = write_tflite(g)
    from evo.frontend.tflite_reader import read_tflite

    g = read_tflite(model)
    prog = lower(g)
    check_plan(prog.plan)
    assert prog.plan.arena_bytes >= prog.lower_bound_bytes
    base = lower(g, optimize_schedule=False, inplace=False, strategies=("greedy_by_size",))
    assert prog.plan.arena_bytes <= base.plan.arena_bytes
    inputs = random_inputs(g, 0)
    want, oracle = run_tflm(model, g, inputs, preserve_all=True)
    for budget in sorted({None, min_budget(prog), smallest_budget(g)}, key=lambda b: b or 0):
        c = compile_graph(g, "m", ram_budget=budget)
        check_plan(c.program.plan)
        with HostModel.build(g, trace=True, compiled=c) as host:
            got, tensors = host.run(inputs, trace=True)
        assert set(oracle) - set(tensors) <= c.program.streamed_tensors  # row-streamed: never whole
        for t, v in oracle.items():
            if t in tensors:
                assert_same(tensors[t], v, f"budget {budget}: tensor {t}")
        for a, b in zip(got, want):
            assert_same(a, b, f"budget {budget}: output")


@settings(max_examples=8, deadline=None)
@given(graphs(), st.sampled_from(["groups", "ops"]))
def test_random_graph_streamed_bit_exact(g, mode):
    """Every group fused (or every op streamed alone), whether or not it saves memory: the row
    programs pass the replay checker, the plan has no overlap, and every tensor that exists
    whole - at the full peak and at the smallest feasible budget - is bit-exact with TFLM."""
    from evo.frontend.tflite_reader import read_tflite
    from evo.memory.stream import check_program

    model = write_tflite(g)
    g = read_tflite(model)
    prog = lower(g, stream=mode)
    check_plan(prog.plan)
    for sp in prog.streams.values():
        check_program(prog.graph, sp)
    inputs = random_inputs(g, 0)
    want, oracle = run_tflm(model, g, inputs, preserve_all=True)
    for budget in (None, smallest_budget(g)):
        c = compile_graph(g, "m", ram_budget=budget)
        check_plan(c.program.plan)
        assert budget is None or c.program.plan.arena_bytes <= budget
        if budget is None:
            c.program, c.files = prog, None
            from evo.codegen.emit import generate

            c.files = generate(prog, "m", "m.tflite")
        with HostModel.build(g, trace=True, compiled=c) as host:
            got, tensors = host.run(inputs, trace=True)
        assert set(oracle) - set(tensors) <= c.program.streamed_tensors
        for t, v in oracle.items():
            if t in tensors:
                assert_same(tensors[t], v, f"{mode}, budget {budget}: tensor {t}")
        for a, b in zip(got, want):
            assert_same(a, b, f"{mode}, budget {budget}: output")
