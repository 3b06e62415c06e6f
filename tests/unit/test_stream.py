"""Row-band streaming (evo/memory/stream.py): the row program of a small conv -> depthwise ->
ADD group, its replay checker (which must reject a corrupted program), and bit-exactness of
the fused call with TFLM."""
from __future__ import annotations

import numpy as np
import pytest

from evo.codegen.lower import lower
from evo.compiler import compile_graph
from evo.frontend.tflite_reader import read_tflite
from evo.frontend.tflite_writer import write_tflite
from evo.inputs import random_inputs
from evo.ir.graph import Graph, Op, Quant, Tensor
from evo.memory.stream import CALL, MOVE, build_program, check_program, find_groups, stage_of
from evo.targets.host import HostModel
from evo.verify.tflm import run_tflm
from tests.support.differential import assert_same


def _q(scale, zp=0, n=1, axis=0):
    return Quant(scale=np.full(n, scale, np.float32), zero_point=np.full(n, zp, np.int64), axis=axis)


def _residual_graph(h=10, c=4) -> Graph:
    """input -> conv 3x3 s1 -> depthwise 3x3 s2 -> conv 1x1; input -> conv 1x1 s2; ADD; RELU;
    3x3 s2 pool (max when h % 4, else average)."""
    rng = np.random.default_rng(1)
    tensors: list[Tensor] = []
    ops: list[Op] = []

    def act(shape, name):
        tensors.append(Tensor(len(tensors), name, shape, "int8", _q(float(rng.uniform(0.03, 0.08)), int(rng.integers(-10, 10)))))
        return len(tensors) - 1

    def conv(src, oc, k, stride, depthwise=False):
        s = tensors[src]
        cc = s.shape[3]
        ws = rng.uniform(0.005, 0.02, oc).astype(np.float32)
        shape = (1, k, k, cc) if depthwise else (oc, k, k, cc)
        tensors.append(Tensor(len(tensors), f"w{len(ops)}", shape, "int8", Quant(ws, np.zeros(oc, np.int64), 3 if depthwise else 0),
                              rng.integers(-127, 128, shape).astype(np.int8)))
        w = len(tensors) - 1
        tensors.append(Tensor(len(tensors), f"b{len(ops)}", (oc,), "int32", Quant((ws * s.quant.scale[0]).astype(np.float32), np.zeros(oc, np.int64)),
                              rng.integers(-300, 300, oc).astype(np.int32)))
        b = len(tensors) - 1
        oh = (s.shape[1] + stride - 1) // stride
        y = act((1, oh, oh, oc), f"y{len(ops)}")
        attrs = {"padding": "SAME", "stride_h": stride, "stride_w": stride, "dilation_h_factor": 1, "dilation_w_factor": 1,
                 "fused_activation_function": "RELU"}
        if depthwise:
            attrs["depth_multiplier"] = 1
        ops.append(Op(len(ops), "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", [src, w, b], [y], attrs))
        return y

    x = act((1, h, h, c), "input")
    a = conv(x, 8, 3, 1)
    d = conv(a, 8, 3, 2, depthwise=True)
    p = conv(d, 8, 1, 1)
    s = conv(x, 8, 1, 2)
    y = act(tensors[p].shape, "sum")
    ops.append(Op(len(ops), "ADD", [p, s], [y], {"fused_activation_function": "NONE"}))
    r = len(tensors)
    tensors.append(Tensor(r, "relu", tensors[y].shape, "int8", tensors[y].quant))
    ops.append(Op(len(ops), "RELU", [y], [r]))
    oh = (tensors[r].shape[1] + 1) // 2
    tensors.append(Tensor(r + 1, "pool", (1, oh, oh, 8), "int8", tensors[y].quant))
    ops.append(Op(len(ops), "MAX_POOL_2D" if h % 4 else "AVERAGE_POOL_2D", [r], [r + 1],
                  {"padding": "SAME", "stride_h": 2, "stride_w": 2, "filter_height": 3, "filter_width": 3, "fused_activation_function": "NONE"}))
    y = r + 1
    return Graph(tensors=tensors, ops=ops, inputs=[x], outputs=[y], input_names=["input"], output_names=["out"], name="res",
                 file_inputs=[x], file_outputs=[y])


@pytest.fixture(scope="module", params=[10, 12])
def model_and_graph(request):
    model = write_tflite(_residual_graph(request.param))
    return model, read_tflite(model)


def _program(g):
    prog = lower(g, stream="off")
    stages = {s.op.index: stage_of(g, s.op, prog.calls[s.op.index]) for s in prog.steps}
    stages = {i: st for i, st in stages.items() if st is not None}
    (group,) = find_groups(g, stages)
    return build_program(g, [stages[i] for i in group])


def test_group_and_program(model_and_graph):
    _, g = model_and_graph
    sp = _program(g)
    assert [st.op.type for st in sp.stages][:-1] == ["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D", "CONV_2D", "ADD", "RELU"]
    assert sp.stages[-1].op.type.endswith("POOL_2D")
    assert sp.inputs == list(g.inputs) and sp.sink == g.outputs[0]
    check_program(g, sp)
    # windows stay a few rows: 3 for the 3x3 inputs, about 1 for the rest
    whole = sum(g.tensor(st.out).nbytes for st in sp.stages[:-1])
    assert sp.lines_bytes < whole


def test_checker_rejects_a_corrupted_program(model_and_graph):
    _, g = model_and_graph
    sp = _program(g)
    w = sp.words
    # drop the first window slide (MOVE inside the line buffers): some later call reads stale rows
    pc = 0
    while pc < len(w):
        if w[pc] == MOVE and w[pc + 1] == 0 and w[pc + 3] == 0:
            break
        pc += 6 if w[pc] == MOVE else 6 + w[pc + 5]
    assert pc < len(w)
    sp.words = w[:pc] + w[pc + 6:]
    with pytest.raises(AssertionError):
        check_program(g, sp)
    # a call that writes one row too far
    sp.words = list(w)
    pc = sp.words.index(CALL)
    sp.words[pc + 4] += 10_000
    with pytest.raises(AssertionError):
        check_program(g, sp)


@pytest.mark.parametrize("mode", ["groups", "ops"])
def test_fused_call_bit_exact(model_and_graph, mode):
    model, g = model_and_graph
    prog = lower(g, stream=mode)
    assert prog.streams
    from evo.codegen.emit import generate
    from evo.codegen.report import build_report
    from evo.compiler import Compiled

    files = generate(prog, "m", "m.tflite")
    c = Compiled(program=prog, files=files, report=build_report(prog, "m", "m.tflite", files.weight_bytes), name="m")
    inputs = random_inputs(g, 3)
    want, oracle = run_tflm(model, g, inputs, preserve_all=True)
    with HostModel.build(g, trace=True, compiled=c) as host:
        got, tensors = host.run(inputs, trace=True)
    for t in set(oracle) & set(tensors):
        assert_same(tensors[t], oracle[t], f"tensor {t}")
    assert_same(got[0], want[0], "output")


def test_auto_mode_fuses_only_when_the_arena_shrinks(model_and_graph):
    _, g = model_and_graph
    auto, off = lower(g), lower(g, stream="off")
    assert auto.plan.arena_bytes <= off.plan.arena_bytes
    assert bool(auto.streams) == (auto.plan.arena_bytes < off.plan.arena_bytes)
    assert auto.whole_lower_bound_bytes == off.lower_bound_bytes


def test_budget_below_every_operator_streams_from_ext(model_and_graph):
    model, g = model_and_graph
    from evo.memory.evict import smallest_budget

    lo = smallest_budget(g)
    c = compile_graph(g, "m", ram_budget=lo)
    assert c.program.plan.arena_bytes <= lo
    inputs = random_inputs(g, 0)
    want = run_tflm(model, g, inputs)[0]
    with HostModel.build(g, compiled=c) as host:
        assert_same(host.run(inputs)[0], want[0], "output")
