"""Row-band streaming: run a group of spatial operators as one call whose intermediate tensors
never exist whole (line-buffer streaming, no recomputation).

A *group* is a set of streamable ops (CONV_2D, DEPTHWISE_CONV_2D, AVERAGE/MAX_POOL_2D, RELU-family,
same-shape ADD; NHWC, batch 1)
with exactly one tensor leaving it (the *sink*); every other tensor an op of the group writes is
read only inside the group. The group becomes one op, `EVO_STREAM`, whose inputs are the tensors
the group reads from outside and whose output is the sink. Its scratch holds one *line buffer*
per tensor the group reads (a window of consecutive rows, oldest first), one staging row for
the sink and the kernels' own scratch.

The compiler simulates the execution, pulling the sink's rows in order: computing row j of a
stage first makes its input windows present (producing rows of internal tensors recursively, or
copying rows of outside tensors in), then calls the stage's kernel on that one-row problem. Before
a new row enters a line buffer, rows that no consumer will read again are dropped (the window
slides down with one memmove). The simulation is recorded as a static program (evo/stream.h) and
checked by `check_program`, which replays it on labelled bytes: every window a call reads must
hold exactly the rows its geometry needs, in order, and every sink row must reach the output.

Line buffers only grow to the largest number of rows live at once, so the group's memory is
its outside inputs and output plus a few rows per tensor; no MAC is computed twice."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from evo.ir import Graph, Op
from evo.memory.lifetimes import align_up
from evo.ops.base import CExpr, ConstArray, KernelCall, Scratch, TensorArg, TensorList

STREAM = "EVO_STREAM"
MOVE, CALL = 0, 1
REGION_LINES, REGION_OUT = 0, 1  # region 2 + k: the group's input k
# the stage struct's fields after p: (name, index of the call's argument); else filter, bias
STAGE_FIELDS = {"evo_conv2d_s8_dsp_stage_t": (("stream", 1), ("pad", 2)), "evo_add_s8_dsp_stage_t": (("table", 2),),
                "evo_depthwise_conv2d_s8_direct_stage_t": (("wpack", 1), ("qpack", 2)),
                "evo_conv2d_s8_m0_stage_t": (("stream", 1), ("zp", 2)), "evo_depthwise_conv2d_s8_m0t_stage_t": (("stream", 1), ("zp", 2))}
ROW_FUNCS = {  # member kernel -> (row function, source, stage struct or None for ADD)
    "evo_conv2d_s8": ("evo_conv2d_s8_row", "conv2d_s8_row.c", "evo_conv2d_s8_stage_t"),
    "evo_conv2d_s8_dsp_direct": ("evo_conv2d_s8_dsp_row", "conv2d_s8_dsp_row.c", "evo_conv2d_s8_dsp_stage_t"),
    "evo_conv2d_s8_m0": ("evo_conv2d_s8_m0_row", "conv2d_s8_m0_row.c", "evo_conv2d_s8_m0_stage_t"),
    "evo_conv2d_f32": ("evo_conv2d_f32_row", "conv2d_f32_row.c", "evo_conv2d_f32_stage_t"),
    "evo_depthwise_conv2d_s8": ("evo_depthwise_conv2d_s8_row", "depthwise_conv2d_s8_row.c", "evo_depthwise_conv2d_s8_stage_t"),
    "evo_depthwise_conv2d_s8_direct": ("evo_depthwise_conv2d_s8_direct_row", "depthwise_conv2d_s8_direct_row.c",
                                       "evo_depthwise_conv2d_s8_direct_stage_t"),
    "evo_depthwise_conv2d_s8_m0t": ("evo_depthwise_conv2d_s8_m0t_row", "depthwise_conv2d_s8_m0t_row.c",
                                    "evo_depthwise_conv2d_s8_m0t_stage_t"),
    "evo_depthwise_conv2d_f32": ("evo_depthwise_conv2d_f32_row", "depthwise_conv2d_f32_row.c", "evo_depthwise_conv2d_f32_stage_t"),
    "evo_add_s8": ("evo_add_s8_row", "add_s8_row.c", None),
    "evo_add_s8_dsp": ("evo_add_s8_dsp_row", "add_s8_dsp_row.c", "evo_add_s8_dsp_stage_t"),
    "evo_add_f32": ("evo_add_f32_row", "add_f32_row.c", None),
    "evo_relu_s8": ("evo_relu_s8_row", "relu_s8_row.c", None),
    "evo_relu_f32": ("evo_relu_f32_row", "relu_f32_row.c", None),
    "evo_avg_pool2d_s8": ("evo_avg_pool2d_s8_row", "avg_pool2d_s8_row.c", None),
    "evo_avg_pool2d_f32": ("evo_avg_pool2d_f32_row", "avg_pool2d_f32_row.c", None),
    "evo_max_pool2d_s8": ("evo_max_pool2d_s8_row", "max_pool2d_s8_row.c", None),
    "evo_max_pool2d_f32": ("evo_max_pool2d_f32_row", "max_pool2d_f32_row.c", None),
}


@dataclass(frozen=True)
class Edge:
    """Input `tensor` of a stage: output row j reads rows [j*stride - pad, +(kh-1)*dil+1) clamped."""

    tensor: int
    kh: int = 1
    stride: int = 1
    dil: int = 1
    pad: int = 0

    def window(self, j: int, h: int) -> tuple[int, int, int]:
        """(first row, end row, top of the receptive field) of output row j; h = input rows."""
        top = j * self.stride - self.pad
        bottom = top + (self.kh - 1) * self.dil + 1
        w0 = min(max(top, 0), h)
        return w0, max(min(max(bottom, 0), h), w0), top


@dataclass
class Stage:
    op: Op
    call: KernelCall
    edges: list[Edge]
    out: int
    out_h: int


@dataclass
class StreamProgram:
    stages: list[Stage]
    inputs: list[int]  # outside tensors, region 2 + k
    sink: int
    words: list[int]  # the encoded program
    line_base: dict[int, int]  # tensor (or -1: sink staging row) -> offset in the line buffers
    line_rows: dict[int, int]  # capacity in rows
    row_bytes: dict[int, int]
    lines_bytes: int
    kernel_scratch: int
    moved_bytes: int  # bytes memmoved per inference (window slides, copy-in, copy-out)

    @property
    def scratch_bytes(self) -> int:
        return self.lines_bytes + align_up(self.kernel_scratch)


def _hw(g: Graph, t: int) -> tuple[int, int] | None:
    """(rows, bytes per row) of an NHWC batch-1 activation tensor."""
    x = g.tensor(t)
    if len(x.shape) != 4 or x.shape[0] != 1 or x.is_const:
        return None
    return int(x.shape[1]), int(x.shape[2]) * int(x.shape[3]) * x.itemsize


def stage_of(g: Graph, op: Op, call: KernelCall | None) -> Stage | None:
    """The op as a stream stage, or None when it cannot stream."""
    if call is None or call.func not in ROW_FUNCS or not op.outputs or op.outputs[0] < 0:
        return None
    y = _hw(g, op.outputs[0])
    if y is None:
        return None
    if call.func.startswith("evo_add"):
        if len(op.inputs) != 2 or any(i < 0 or g.tensor(i).is_const or tuple(g.tensor(i).shape) != tuple(g.tensor(op.outputs[0]).shape)
                                      for i in op.inputs):
            return None
        return Stage(op, call, [Edge(op.inputs[0]), Edge(op.inputs[1])], op.outputs[0], y[0])
    if call.func.startswith("evo_relu"):
        if len(op.inputs) < 1 or _hw(g, op.inputs[0]) != y or call.params.get("size") != g.tensor(op.outputs[0]).size:
            return None
        return Stage(op, call, [Edge(op.inputs[0])], op.outputs[0], y[0])
    if "pool2d" in call.func:
        pin, pout = call.params["in"], call.params["out"]
        x = _hw(g, op.inputs[0])
        if x is None or pin["n"] != 1 or pin["h"] != x[0] or pout["h"] != y[0]:
            return None
        return Stage(op, call, [Edge(op.inputs[0], int(call.params["filter_h"]), int(call.params["stride_h"]), 1, int(call.params["pad_h"]))],
                     op.outputs[0], y[0])
    from evo.memory.inplace import rows_geometry

    geo = rows_geometry(g, op, call.params)
    x = _hw(g, op.inputs[0]) if op.inputs and op.inputs[0] >= 0 else None
    if geo is None or x is None or geo["h"] != x[0] or geo["oh"] != y[0]:
        return None
    return Stage(op, call, [Edge(op.inputs[0], geo["kh"], geo["sh"], geo["dh"], geo["pad"])], op.outputs[0], y[0])


# ----------------------------------------------------------------------------- groups


def find_groups(g: Graph, stages: dict[int, Stage]) -> list[list[int]]:
    """Maximal groups (op indices in graph order) of streamable ops joined by tensors that only
    group ops read; groups with more than one sink or fewer than two ops are dropped."""
    readers = readers_of(g)
    outputs = set(g.outputs)
    parent = {i: i for i in stages}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, st in stages.items():
        rs = readers.get(st.out, [])
        if st.out in outputs or not rs or not all(r in stages for r in rs):
            continue
        for r in rs:
            parent[find(r)] = find(i)
    comps: dict[int, list[int]] = {}
    for op in g.ops:
        if op.index in stages:
            comps.setdefault(find(op.index), []).append(op.index)
    return [members for members in comps.values() if valid_group(g, stages, members, readers)]


def readers_of(g: Graph) -> dict[int, list[int]]:
    readers: dict[int, list[int]] = {}
    for op in g.ops:
        for t in op.inputs:
            if t >= 0:
                readers.setdefault(t, []).append(op.index)
    return readers


def valid_group(g: Graph, stages, members: list[int], readers=None) -> bool:
    """At least two streamable ops with exactly one sink (so no path leaves and re-enters)."""
    readers = readers_of(g) if readers is None else readers
    return len(members) >= 2 and all(m in stages for m in members) and len(_sinks(g, stages, members, readers)) == 1


def _sinks(g: Graph, stages, members: list[int], readers) -> list[int]:
    inside = set(members)
    outputs = set(g.outputs)
    return [i for i in members if stages[i].out in outputs or any(r not in inside for r in readers.get(stages[i].out, [])) or not readers.get(stages[i].out)]


# ----------------------------------------------------------------------------- simulation


@dataclass
class _Line:
    h: int
    row_bytes: int
    lo: int = 0
    hi: int = 0
    cap: int = 0


@dataclass
class _Sim:
    g: Graph
    stages: list[Stage]
    inputs: list[int]
    sink: int
    lines: dict[int, _Line] = field(default_factory=dict)
    producer: dict[int, int] = field(default_factory=dict)  # tensor -> stage position
    consumers: dict[int, list[tuple[int, Edge]]] = field(default_factory=dict)
    next_row: list[int] = field(default_factory=list)
    code: list[tuple] = field(default_factory=list)  # symbolic instructions

    def need(self, t: int) -> int:
        """Lowest row of `t` that some consumer will still read."""
        h = self.lines[t].h
        best = h
        for s, e in self.consumers[t]:
            j = self.next_row[s]
            if j < self.stages[s].out_h:
                best = min(best, e.window(j, h)[0])
        return best

    def slide(self, t: int) -> None:
        ln = self.lines[t]
        lo = min(self.need(t), ln.hi)
        if lo > ln.lo:
            if ln.hi > lo:
                self.code.append(("move", (t, 0), (t, lo - ln.lo), (ln.hi - lo) * ln.row_bytes))
            ln.lo = lo

    def produce(self, t: int) -> None:
        """Bring row lines[t].hi of `t` into its line buffer."""
        ln = self.lines[t]
        self.slide(t)
        row, slot = ln.hi, ln.hi - ln.lo
        ln.hi += 1
        ln.cap = max(ln.cap, ln.hi - ln.lo)
        if t in self.producer:
            self.compute(self.producer[t], row, (t, slot))
        else:
            self.code.append(("copy_in", (t, slot), self.inputs.index(t), row * ln.row_bytes, ln.row_bytes))

    def compute(self, s: int, j: int, out_at: tuple[int, int]) -> None:
        st = self.stages[s]
        wins = []
        for e in st.edges:
            w0, w1, top = e.window(j, self.lines[e.tensor].h)
            while self.lines[e.tensor].hi < w1:
                self.produce(e.tensor)
            wins.append((w0, w1, top))
        ins = [(e.tensor, w0 - self.lines[e.tensor].lo) for e, (w0, _, _) in zip(st.edges, wins)]
        w0, w1, top = wins[0]
        self.code.append(("call", s, w1 - w0, w0 - top, out_at, ins))
        self.next_row[s] = j + 1


def build_program(g: Graph, stages: list[Stage]) -> StreamProgram:
    """Simulate the group (stages in a topological order) and encode its program."""
    made = {st.out: k for k, st in enumerate(stages)}
    inputs: list[int] = []
    for st in stages:
        for e in st.edges:
            if e.tensor not in made and e.tensor not in inputs:
                inputs.append(e.tensor)
    read = {e.tensor for st in stages for e in st.edges}
    sinks = [st.out for st in stages if st.out not in read]
    assert len(sinks) == 1, "a stream group has exactly one sink"
    sink = sinks[0]
    sim = _Sim(g, stages, inputs, sink, next_row=[0] * len(stages))
    for t in list(inputs) + [st.out for st in stages if st.out != sink]:
        h, rb = _hw(g, t)
        sim.lines[t] = _Line(h, rb)
        sim.consumers[t] = [(k, e) for k, st in enumerate(stages) for e in st.edges if e.tensor == t]
        if t in made:
            sim.producer[t] = made[t]
    sh, srb = _hw(g, sink)
    sim.lines[-1] = _Line(1, srb, cap=1)
    last = made[sink]
    for j in range(sh):
        sim.compute(last, j, (-1, 0))
        sim.code.append(("copy_out", j * srb, srb))
    # line buffer layout: each tensor's window, 16-byte aligned, in first-use order
    base, off = {}, 0
    for t in list(sim.lines):
        base[t] = off
        off += align_up(sim.lines[t].cap * sim.lines[t].row_bytes)
    at = lambda loc: base[loc[0]] + loc[1] * sim.lines[loc[0]].row_bytes  # noqa: E731
    words: list[int] = []
    moved = 0
    for ins in sim.code:
        if ins[0] == "move":
            words += [MOVE, REGION_LINES, at(ins[1]), REGION_LINES, at(ins[2]), ins[3]]
            moved += ins[3]
        elif ins[0] == "copy_in":
            words += [MOVE, REGION_LINES, at(ins[1]), 2 + ins[2], ins[3], ins[4]]
            moved += ins[4]
        elif ins[0] == "copy_out":
            words += [MOVE, REGION_OUT, ins[1], REGION_LINES, base[-1], ins[2]]
            moved += ins[2]
        else:
            _, s, rows, pad_top, out_at, ins_at = ins
            words += [CALL, s, rows, pad_top, at(out_at), len(ins_at)] + [at(x) for x in ins_at]
    kscratch = max((st.call.scratch_bytes for st in stages), default=0)
    return StreamProgram(stages=stages, inputs=inputs, sink=sink, words=words, line_base=base,
                         line_rows={t: ln.cap for t, ln in sim.lines.items()}, row_bytes={t: ln.row_bytes for t, ln in sim.lines.items()},
                         lines_bytes=off, kernel_scratch=kscratch, moved_bytes=moved)


# ----------------------------------------------------------------------------- checker


def check_program(g: Graph, sp: StreamProgram) -> None:
    """Replay the program on labelled bytes (each byte: which tensor row it holds). Raises
    AssertionError when a call reads a window that is not exactly the rows its geometry needs,
    writes outside its line buffer, or a sink row never reaches the output."""
    labels = np.full(max(sp.lines_bytes, 1), -1, dtype=np.int64)
    tid = {t: k for k, t in enumerate(sorted({e.tensor for st in sp.stages for e in st.edges} | {st.out for st in sp.stages}))}
    key = lambda t, r: tid[t] * 1_000_000 + r  # noqa: E731
    hw = {t: _hw(g, t) for t in tid}
    out_h, out_rb = hw[sp.sink]
    out_labels = np.full(out_h * out_rb, -1, dtype=np.int64)
    inputs = [np.repeat(np.arange(hw[t][0], dtype=np.int64) + tid[t] * 1_000_000, hw[t][1]) for t in sp.inputs]
    done = [0] * len(sp.stages)
    w, pc = sp.words, 0
    extent = {t: (sp.line_base[t], sp.line_base[t] + sp.line_rows[t] * sp.row_bytes[t]) for t in sp.line_base}

    def inside(t: int, lo: int, n: int) -> None:
        a, b = extent[t]
        assert a <= lo and lo + n <= b, f"access [{lo}, {lo + n}) outside the line buffer of tensor {t} [{a}, {b})"

    while pc < len(w):
        if w[pc] == MOVE:
            _, dr, do, sr, so, n = w[pc:pc + 6]
            src = labels if sr == REGION_LINES else out_labels if sr == REGION_OUT else inputs[sr - 2]
            data = src[so:so + n].copy()
            assert len(data) == n, "move reads past its region"
            dst = labels if dr == REGION_LINES else out_labels
            assert dr in (REGION_LINES, REGION_OUT) and do + n <= len(dst), "move writes past its region"
            dst[do:do + n] = data
            pc += 6
        else:
            assert w[pc] == CALL, f"bad instruction {w[pc]} at word {pc}"
            _, s, rows, pad_top, out_off, n_in = w[pc:pc + 6]
            st = sp.stages[s]
            j = done[s]
            for k, e in enumerate(st.edges):
                h, rb = hw[e.tensor]
                w0, w1, top = e.window(j, h)
                off = w[pc + 6 + k]
                inside(e.tensor, off, (w1 - w0) * rb)
                want = np.repeat(np.arange(w0, w1, dtype=np.int64) + tid[e.tensor] * 1_000_000, rb)
                assert np.array_equal(labels[off:off + len(want)], want), f"stage {s} row {j}: input window of tensor {e.tensor} is wrong"
                if k == 0:
                    assert rows == w1 - w0 and pad_top == w0 - top, f"stage {s} row {j}: wrong window geometry"
            rb = hw[st.out][1]
            inside(st.out if st.out != sp.sink else -1, out_off, rb)
            labels[out_off:out_off + rb] = key(st.out, j)
            done[s] = j + 1
            pc += 6 + n_in
    # an internal stage may stop early: trailing rows no consumer reads are never computed
    assert done[-1] == sp.stages[-1].out_h, "the sink stage did not compute every row"
    want = np.repeat(np.arange(out_h, dtype=np.int64) + tid[sp.sink] * 1_000_000, out_rb)
    assert np.array_equal(out_labels, want), "the output does not hold every sink row in order"


# ----------------------------------------------------------------------------- the fused call


def fused_op(g: Graph, sp: StreamProgram, index: int) -> Op:
    members = [st.op.index for st in sp.stages]
    return Op(index=index, type=STREAM, inputs=list(sp.inputs), outputs=[sp.sink],
              attrs={"members": members, "name": f"stream_{'_'.join(str(m) for m in members)}"})


def fused_call(g: Graph, sp: StreamProgram, index: int) -> KernelCall:
    """evo_stream_run(&params, inputs, output, scratch), with the members' params and stage
    structs emitted before it (KernelCall.prelude)."""
    prelude = []
    stage_entries = []
    sources = ["stream_run.c"]
    from evo.ops.elementwise import broadcast_layout

    for st in sp.stages:
        m = st.op.index
        fn, src, stype = ROW_FUNCS[st.call.func]
        sources += [s for s in list(st.call.sources) + [src] if s not in sources]
        params = st.call.params
        w = g.tensor(st.out).shape[2] * g.tensor(st.out).shape[3]
        if "bcast" in params:  # ADD: the kernel's params for one row (W * C elements)
            params = {**params, "bcast": broadcast_layout((w,), (w,), (w,))}
        elif "size" in params:  # RELU and the DSP ADD: likewise
            params = {**params, "size": w}
        prelude.append((st.call.params_type, f"op{m}_params", _rename_arrays(params, f"m{m}_")))
        if stype is None:
            stage_entries.append({"row": CExpr(fn), "stage": CExpr(f"&op{m}_params")})
            continue
        fields = {name: st.call.args[k] for name, k in STAGE_FIELDS.get(stype, (("filter", 1), ("bias", 2)))}
        prelude.append((stype, f"op{m}_stage", {"p": CExpr(f"&op{m}_params"), **_rename_arrays(fields, f"m{m}_")}))
        stage_entries.append({"row": CExpr(fn), "stage": CExpr(f"&op{m}_stage")})
    prelude.append(("evo_stream_stage_t", f"op{index}_stages[]", stage_entries))
    params = {"stages": CExpr(f"op{index}_stages"), "program": ConstArray("program", np.asarray(sp.words, dtype=np.int32)),
              "length": len(sp.words), "lines_bytes": sp.lines_bytes}
    return KernelCall(func="evo_stream_run", sources=sources, header="stream.h", params_type="evo_stream_params_t", params=params,
                      args=[TensorList(tuple(sp.inputs)), TensorArg(sp.sink), Scratch()], scratch_bytes=sp.scratch_bytes,
                      prelude=prelude)


def _rename_arrays(v, prefix: str):
    """Member params with their ConstArrays renamed apart (codegen names them by the fused op)."""
    if isinstance(v, ConstArray):
        return ConstArray(prefix + v.suffix, v.data)
    if isinstance(v, dict):
        return {k: _rename_arrays(x, prefix) for k, x in v.items()}
    if isinstance(v, list):
        return [_rename_arrays(x, prefix) for x in v]
    return v


def fuse(g: Graph, calls: dict, macs: dict, groups: list[list[int]]) -> tuple[Graph, dict, dict, dict[int, StreamProgram]]:
    """The graph with each group replaced by one EVO_STREAM op at its sink's position."""
    if not groups:
        return g, calls, macs, {}
    calls, macs = dict(calls), dict(macs)
    next_index = max(op.index for op in g.ops) + 1
    by_index = {op.index: op for op in g.ops}
    member_of = {}
    programs = {}
    for grp in groups:
        stages = [stage_of(g, by_index[i], calls[i]) for i in grp]
        sp = build_program(g, stages)
        check_program(g, sp)
        idx = next_index
        next_index += 1
        programs[idx] = sp
        calls[idx] = fused_call(g, sp, idx)
        macs[idx] = sum(macs[i] for i in grp)
        for i in grp:
            member_of[i] = idx
    sink_op = {programs[idx].stages[-1].op.index: idx for idx in programs}
    ops = []
    for op in g.ops:
        if op.index in sink_op:
            ops.append(fused_op(g, programs[sink_op[op.index]], sink_op[op.index]))
        elif op.index not in member_of:
            ops.append(op)
    return replace(g, ops=ops), calls, macs, programs
