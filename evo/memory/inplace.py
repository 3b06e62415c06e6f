"""In-place execution: which op may write its output over a dead input, and where.

An in-place op links two buffers: offset(output) = offset(input) + delta. Two kinds:

* element-wise (`OpImpl.inplace_inputs`): the kernel walks the output in ascending element
  order and reads input element i (same shape as the output) before writing output element i.
  Writing output element i must not clobber input elements j > i:
  delta + (i + 1) * so <= (i + 1) * si for every i, so delta = 0 when so <= si, else
  delta <= n * (si - so) (the output ends where the input ends).
* row streaming (`OpImpl.inplace_rows`): convolutions through `evo_<conv>_rows` (evo/inplace.h),
  which copies each input row into a scratch window the first time an output row needs it.
  Output rows 0..r(i)-1 are written before row i is copied, so
  delta <= min_i (i * in_row - r(i) * out_row). A kernel that reads its input rows in place
  (`window=False`: it widens each row into a ring of its own first, e.g. the channel-blocked
  depthwise, which runs channel groups outermost) needs no window, but a delta that is a whole
  number of input pixels, so that a channel's outputs only ever land on that channel's inputs.

delta is rounded down to a multiple of 16 and capped at 0 (a positive delta only widens the
footprint). An input qualifies only when its buffer dies at this op (no later reader, not a
graph output) and no other in-place op has claimed it."""
from __future__ import annotations

import math
from dataclasses import dataclass

from evo.ir import Graph, Op
from evo.memory.lifetimes import ALIGN, Buffer, align_up


@dataclass(frozen=True)
class InPlace:
    op: int  # op index
    input: int  # tensor index whose buffer is reused
    output: int  # output tensor index
    delta: int  # offset(output) - offset(input), bytes, multiple of 16, <= 0
    kind: str  # "elementwise" | "rows"
    scratch: int = 0  # extra scratch bytes the in-place kernel needs (row window)


def _align_down(n: int) -> int:
    return n // ALIGN * ALIGN


def elementwise_delta(n: int, si: int, so: int) -> int:
    """n elements, input itemsize si, output itemsize so."""
    if so <= si:
        return 0
    return min(0, _align_down(n * (si - so)))


def rows_geometry(g: Graph, op: Op, params: dict) -> dict | None:
    """Row geometry of a convolution KernelCall's params (None when not row-streamable)."""
    try:
        pin, pout = params["in"], params["out"]
        geo = dict(h=int(pin["h"]), oh=int(pout["h"]), kh=int(params["kh"]), sh=int(params["stride_h"]),
                   dh=int(params["dil_h"]), pad=int(params["pad_h"]))
        if int(pin["n"]) != 1 or int(pout["n"]) != 1:
            return None
    except (KeyError, TypeError):
        return None
    x, y = g.tensor(op.inputs[0]), g.tensor(op.outputs[0])
    geo["in_row"] = int(pin["w"]) * int(pin["c"]) * x.itemsize
    geo["out_row"] = int(pout["w"]) * int(pout["c"]) * y.itemsize
    return geo


def rows_delta(geo: dict) -> tuple[int, int]:
    """(delta, scratch bytes) for the row-streaming wrapper, mirroring EVO_ROWSTREAM_BODY."""
    h, oh, kh, sh, dh, pad = geo["h"], geo["oh"], geo["kh"], geo["sh"], geo["dh"], geo["pad"]
    ri, ro = geo["in_row"], geo["out_row"]
    hi = 0
    best = 0  # delta bound from rows never needed is unconstrained; start at 0 (cap)
    window = 0
    for r in range(oh):
        top = r * sh - pad
        bottom = top + (kh - 1) * dh + 1
        w0 = min(max(top, 0), h)
        w1 = max(min(max(bottom, 0), h), w0)
        window = max(window, w1 - w0)
        hi = max(hi, w0)
        for i in range(hi, w1):  # rows copied for the first time at output row r
            best = min(best, i * ri - r * ro)
        hi = max(hi, w1)
    return min(0, _align_down(best)), window * ri


def footprint(in_bytes: int, out_bytes: int, delta: int) -> int:
    """Bytes covered by an input at 0 and an output at delta (delta <= 0), both aligned."""
    return max(align_up(in_bytes), delta + align_up(out_bytes)) - delta


def candidates(g: Graph, op: Op, impl, params: dict | None, window: bool = True) -> list[tuple[int, int, str, int]]:
    """(input position, delta, kind, scratch) options for `op`, before liveness is known.
    `window`: the row-streaming entry reads its input through the input-row window (else in
    place, module docstring)."""
    out = []
    if not op.outputs or op.outputs[0] < 0:
        return out
    y = g.tensor(op.outputs[0])
    for pos in getattr(impl, "inplace_inputs", ()):
        if pos >= len(op.inputs) or op.inputs[pos] < 0:
            continue
        x = g.tensor(op.inputs[pos])
        if x.is_const or x.size != y.size:
            continue
        if len(op.inputs) > 1 and tuple(x.shape) != tuple(y.shape):
            continue  # binary op: this input must not be broadcast
        out.append((pos, elementwise_delta(y.size, x.itemsize, y.itemsize), "elementwise", 0))
    # row streaming exists for the int8 and float32 convolutions only (not the 16x8 ones)
    if getattr(impl, "inplace_rows", False) and params is not None and params.get("dtype") != "int16" and op.inputs and op.inputs[0] >= 0:
        x = g.tensor(op.inputs[0])
        geo = rows_geometry(g, op, params)
        if geo is not None and not x.is_const and geo["in_row"] * geo["h"] == x.nbytes and geo["out_row"] * geo["oh"] == y.nbytes:
            delta, scratch = rows_delta(geo)
            if not window:
                pixel = int(params["in"]["c"]) * x.itemsize
                step = ALIGN * pixel // math.gcd(ALIGN, pixel)
                delta, scratch = delta // step * step, 0
            out.append((0, delta, "rows", scratch))
    return out


def decide(g: Graph, bufs: list[Buffer], tensor_buffer: dict[int, int], options: dict[int, list], steps: dict[int, int],
           enabled: set[int] | None = None) -> dict[int, InPlace]:
    """Pick at most one in-place input per op. `options`: op index -> candidates(); `steps`: op
    index -> its step. `enabled`: restrict row-streaming to these ops (None = all)."""
    outputs = set(g.outputs)
    claimed: set[int] = set()
    chosen: dict[int, InPlace] = {}
    for op in g.ops:
        opts = options.get(op.index) or []
        best = None
        for pos, delta, kind, scratch in opts:
            if kind == "rows" and enabled is not None and op.index not in enabled:
                continue
            t = op.inputs[pos]
            b = tensor_buffer.get(t)
            ob = tensor_buffer.get(op.outputs[0])
            if b is None or ob is None or b == ob or b in claimed:
                continue
            buf = bufs[b]
            if buf.last != steps[op.index] or any(m in outputs for m in buf.tensors):
                continue
            # every reader of the input buffer is at or before this step: it dies here
            x_bytes, y_bytes = buf.size, bufs[ob].size
            gain = align_up(x_bytes) + align_up(y_bytes) - footprint(x_bytes, y_bytes, delta) - align_up(scratch)
            if gain <= 0:
                continue
            if best is None or gain > best[0]:
                best = (gain, InPlace(op=op.index, input=t, output=op.outputs[0], delta=delta, kind=kind, scratch=scratch))
        if best is not None:
            chosen[op.index] = best[1]
            claimed.add(tensor_buffer[best[1].input])
    return chosen
