"""Generation-time specialisation of int8 CONV_2D and FULLY_CONNECTED for cores with the DSP
extension (Cortex-M4/M7/M33): the kernels of kernels_c/src/conv2d_s8_dsp.c and
fully_connected_s8_dsp.c on the int16 matrix-product engine (kernels_c/include/evo/mm_s16.h,
which documents the weight stream and the requantisation built here). FULLY_CONNECTED's lean
variant, fully_connected_s8_dsp_direct.c, runs the same stream re-laid by quad_stream with no
arena scratch (the widened-input kernel needs 2 * depth bytes, which sets AD's arena), at about
1.2x the widened kernel's instructions on 128-deep layers.

The stream stores the weights as doubled int16 pairs, about twice the int8 weight bytes; the
bias and requantisation parameters are folded into it (the original bias, multiplier, shift and
weight-sum arrays are not emitted). `specialise_*` return the portable call unchanged when a
layer does not meet the engine's exactness preconditions (right shift >= 1, multiplier > 2^30,
a proven bound |acc| < 2^30) outside channels whose weights are all zero (constant outputs), so
results stay bit-exact with TFLM everywhere."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from evo.ops.base import ConstArray, KernelCall, Scratch, TensorArg
from evo.ref import fixedpoint as fx
from evo.target import Target

HEADER = "conv_dsp.h"
ENGINE = "mm_s16.c"


def record_words(steps: int) -> int:
    """int32 words per output-channel pair (evo_mm_record_words)."""
    return 4 + 4 * steps + 9


def _exact_channels(w: np.ndarray, bias: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """Per output channel: the engine's requantisation equals TFLM's for every possible input.
    `w`: [OC, K] weights as TFLM applies them (int8, plus a fully-connected weights offset)."""
    e = -p["shift"].astype(np.int64)
    mult = p["multiplier"].astype(np.int64)
    off = int(p["input_offset"])
    xmax = max(abs(-128 + off), abs(127 + off))
    bound = np.abs(bias) + np.abs(w.astype(np.int64)).sum(axis=1) * xmax
    es = np.clip(e, 1, 31)
    rc = (1 << (es - 1)) + int(p["output_offset"]) * (1 << es)
    return (e >= 1) & (e <= 31) & (mult > 1 << 30) & (bound < (1 << 30) - 1) & (bound + np.abs(rc) < (1 << 31) - 2)


def constant_channels(w: np.ndarray, bias: np.ndarray, p: dict[str, Any]) -> dict[int, int] | None:
    """The layer's channels with all-zero weights (pruned channels) and their output, the constant
    requant(bias) TFLM computes: the stream lists them instead of computing them. None when some
    other channel is outside the engine's exact range: the layer keeps the portable kernel."""
    zero = ~np.any(w != 0, axis=1)
    if np.any(~_exact_channels(w, bias, p) & ~zero):
        return None
    chans = np.flatnonzero(zero)
    out = fx.multiply_by_quantized_multiplier(bias[chans], p["multiplier"][chans].astype(np.int64), p["shift"][chans].astype(np.int64))
    out = np.clip(out + int(p["output_offset"]), int(p["act_min"]), int(p["act_max"]))
    return {int(c): int(v) for c, v in zip(chans, out)}


def build_stream(w: np.ndarray, bias: np.ndarray, p: dict[str, Any], const: dict[int, int]) -> np.ndarray:
    """The weight stream of evo/mm_s16.h for [OC, K] weights in [-255, 255]; the channels in
    `const` (all-zero weights) are listed with their value instead of computed."""
    oc, k = w.shape
    steps = (k + 3) // 4
    live = [c for c in range(oc) if c not in const]
    if len(live) % 2:
        live = [-1] + live  # dummy first channel of the first pair, stores where its partner does
    chans = np.array(live, dtype=np.int64).reshape(-1, 2)
    pairs = len(chans)
    head = [pairs, len(const)] + [v for c in sorted(const) for v in (c, const[c])]
    if pairs == 0:
        return np.array(head, dtype=np.int64).astype(np.int32)
    dummy = chans < 0
    real = np.where(dummy, chans[:, ::-1], chans)  # the dummy stores to its partner's channel
    wp = np.zeros((pairs, 2, 4 * steps), dtype=np.int64)
    wp[:, :, :k] = np.where(dummy[..., None], 0, 2 * w.astype(np.int64)[real])
    q = wp.reshape(pairs, 2, steps, 4) & 0xFFFF
    words = q[..., 0:2] | (q[..., 2:4] << 16)  # (pair, channel, step, t): lo = k_t, hi = k_t+2
    words = words.transpose(0, 2, 1, 3).reshape(pairs, 4 * steps)
    b2 = np.where(dummy, 0, 2 * bias[real])
    e = np.where(dummy, 1, -p["shift"].astype(np.int64)[real])
    m = np.where(dummy, (1 << 30) + 1, p["multiplier"].astype(np.int64)[real])
    rc = np.where(dummy, 0, (1 << (e - 1)) + int(p["output_offset"]) * (1 << e))
    init = np.stack([b2[:, 0], b2[:, 0], b2[:, 1], b2[:, 1]], axis=1)
    quant = np.stack([m[:, 0], rc[:, 0], e[:, 0], real[:, 0], m[:, 1], rc[:, 1], e[:, 1], real[:, 1]], axis=1)
    more = (np.arange(pairs) + 1 < pairs).astype(np.int64)[:, None]
    rec = np.concatenate([init, words, quant, more], axis=1)
    assert rec.shape[1] == record_words(steps)
    stream = np.concatenate([np.array(head, dtype=np.int64), rec.reshape(-1)])
    return (stream & 0xFFFFFFFF).astype(np.uint32).view(np.int32)


def conv_row_bytes(p: dict[str, Any]) -> int:
    """evo_conv2d_s8_dsp_row_bytes: stream bytes per filter row (padded to whole steps when kh > 1)."""
    run = p["kw"] * p["in"][3]
    return (run + 3) & ~3 if p["kh"] > 1 else run


def conv_scratch_bytes(p: dict[str, Any]) -> int:
    """evo_conv2d_s8_dsp_scratch_bytes (evo/conv_dsp.h)."""
    steps = (p["kh"] * conv_row_bytes(p) + 3) // 4
    stage = 0 if p["kh"] == 1 and p["kw"] == 1 else 8 * steps
    return 16 * steps + stage


STACK_FIELD = 256  # EVO_DSP_STACK_FIELD: staged fields up to this size live on the stack


def direct_scratch_bytes(p: dict[str, Any]) -> int:
    """evo_conv2d_s8_dsp_direct_scratch_bytes (evo/conv_dsp.h): one staged field when in_c % 4 and
    it does not fit the kernel's stack buffer."""
    field = 4 * ((p["kh"] * conv_row_bytes(p) + 3) // 4)
    return field if p["in"][3] % 4 and field > STACK_FIELD else 0


def conv_direct(op, p: dict[str, Any], call: KernelCall, stream: np.ndarray, pixels: int) -> KernelCall | None:
    """conv2d_s8_dsp_direct.c, which needs no widened copy of a pixel pair's byte-staged fields.
    pixels 0, register mode: the stream re-laid by quad_stream, the input widened in registers,
    scratch only for a staged field when in_c % 4. pixels 1 or 2, widened mode: the pair stream
    on the matrix engine's 1-pixel or 2x2 tile, each pixel widened from the input rows into 8
    bytes per step of scratch (plus its staged field when in_c % 4). A flash row of input zero
    points serves padded taps. Its row function runs inside fused row-streamed groups. None:
    dilated in x (taps not contiguous)."""
    if p["dil_w"] != 1 and p["kw"] != 1:
        return None
    steps = (p["kh"] * conv_row_bytes(p) + 3) // 4
    widened_bytes = (12 if p["in"][3] % 4 else 8) * steps  # evo_conv2d_s8_dsp_widened_bytes
    scratch = pixels * widened_bytes if pixels else direct_scratch_bytes(p)
    data = stream if pixels else quad_stream(stream, steps, int(p["input_offset"]))
    pad = np.full(conv_row_bytes(p), -int(p["input_offset"]), dtype=np.int8)
    return replace(call, func="evo_conv2d_s8_dsp_direct", sources=["conv2d_s8_dsp_direct.c", ENGINE],
                   lean=None, params={**call.params, "scratch_bytes": scratch},
                   args=[call.args[0], ConstArray("mm" if pixels else "mmq", data), ConstArray("pad", pad), call.args[3], Scratch()],
                   scratch_bytes=scratch)


# Flash kept free for code and everything else when the weight streams are sized against the board.
FLASH_RESERVE = 64 * 1024


def streams_fit(g, target: Target) -> bool:
    """The int16 streams (at most twice the int8 weights, whatever layers get them) leave the
    board's flash room for the rest: else every layer keeps its int8 weights. Unknown flash: yes."""
    if target.flash_bytes is None:
        return True
    weights = sum(t.data.nbytes for t in g.tensors if t.is_const and t.data is not None)
    return 2 * weights + FLASH_RESERVE <= target.flash_bytes


def _bias(g, op, n: int) -> np.ndarray:
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        return g.tensor(op.inputs[2]).data.astype(np.int64).reshape(n)
    return np.zeros(n, dtype=np.int64)


def specialise_conv(g, op, p: dict[str, Any], call: KernelCall, target: Target, w: np.ndarray | None = None) -> KernelCall:
    """The DSP convolution chain for `op` (weights [OC, KH, KW, C]: the op's own, or `w`, e.g. a
    depthwise layer on one input channel seen as a convolution), or `call` unchanged."""
    if not target.has_dsp or p["dtype"] != "int8" or call.func not in ("evo_conv2d_s8", "evo_depthwise_conv2d_s8") or not streams_fit(g, target):
        return call
    w = g.tensor(op.inputs[1]).data if w is None else w
    oc = int(w.shape[0])
    rows = np.zeros((oc, p["kh"], conv_row_bytes(p)), dtype=np.int64)  # filter rows padded with zeros
    rows[:, :, : p["kw"] * p["in"][3]] = w.reshape(oc, p["kh"], -1)
    w2 = rows.reshape(oc, -1)
    bias = _bias(g, op, oc)
    const = constant_channels(w2, bias, p)
    if const is None:
        return call
    scratch = conv_scratch_bytes(p)
    params = {k: call.params[k] for k in ("in", "out", "kh", "kw", "stride_h", "stride_w", "dil_h", "dil_w", "pad_h", "pad_w",
                                          "input_offset", "act_min", "act_max")}
    params["scratch_bytes"] = scratch
    stream = build_stream(w2, bias, p, const)
    dsp = replace(call, func="evo_conv2d_s8_dsp", sources=["conv2d_s8_dsp.c", ENGINE], header=HEADER,
                  params_type="evo_conv2d_s8_dsp_params_t", params=params,
                  args=[TensorArg(op.inputs[0]), ConstArray("mm", stream), None, TensorArg(op.outputs[0]), Scratch()],
                  scratch_bytes=scratch)
    # leaner variants (the memory-first choice, and fused row-streamed groups): widened pixel
    # pairs, single widened pixels, then the input widened in registers
    lean = None
    for pixels in (0, 1, 2):
        v = conv_direct(op, p, dsp, stream, pixels)
        lean = replace(v, lean=lean) if v is not None else None
    dsp = replace(dsp, lean=lean)
    return window_call(op, p, dsp, w, bias, const) or dsp


def window_scratch_bytes(p: dict[str, Any]) -> int:
    """evo_conv2d_s8_dsp_win_scratch_bytes (evo/conv_dsp.h): the window of widened pixel pairs
    (padded columns x kh slots x in_c rounded up to 4 words) and a dummy output pixel."""
    cols = (2 * ((p["out"][2] + 1) // 2) - 2) * p["stride_w"] + p["kw"]
    return 4 * cols * p["kh"] * ((p["in"][3] + 3) & ~3) + ((p["out"][3] + 3) & ~3)


def window_call(op, p: dict[str, Any], dsp: KernelCall, w: np.ndarray, bias: np.ndarray, const: dict[int, int]) -> KernelCall | None:
    """conv2d_s8_dsp_win.c: each input row widened once into a window of pixel pairs that the
    engine reads in place (no per-pixel-pair im2col), its stream's K in (fx, fy, c) order with c
    padded to a multiple of 4 (zero weights: the kernel may widen whatever bytes follow a pixel);
    `dsp` (the im2col kernel, then its lean variants) is the lean variant. None: dilation, a 1x1
    filter (which reads its input directly anyway), or more padded terms than the im2col stream's
    (e.g. one input channel: 4x the multiply-accumulates)."""
    oc, cin = int(w.shape[0]), p["in"][3]
    if (p["dil_h"], p["dil_w"]) != (1, 1) or p["kh"] * p["kw"] == 1 or p["kw"] * ((cin + 3) & ~3) > conv_row_bytes(p):
        return None
    wp = np.zeros((oc, p["kh"], p["kw"], (cin + 3) & ~3), dtype=np.int64)
    wp[..., :cin] = w.reshape(oc, p["kh"], p["kw"], cin)
    scratch = window_scratch_bytes(p)
    return replace(dsp, func="evo_conv2d_s8_dsp_win", sources=["conv2d_s8_dsp_win.c", ENGINE],
                   params={**dsp.params, "scratch_bytes": scratch},
                   args=[dsp.args[0], ConstArray("mm", build_stream(wp.transpose(0, 2, 1, 3).reshape(oc, -1), bias, p, const)), None,
                         dsp.args[3], Scratch()],
                   scratch_bytes=scratch, lean=dsp)


def quad_stream(stream: np.ndarray, steps: int, input_offset: int) -> np.ndarray:
    """The pair stream of `build_stream` re-laid for fully_connected_s8_dsp_direct.c: records of
    two channel pairs A, B (4 + 8 * steps + 16 words: the four accumulator starts, per step A's
    four weight words then B's, then A's two and B's two (m, rc, e, channel) requantisations).
    The input offset is folded into the starts (+ 2 * offset * sum of the channel's weights:
    the final sums are unchanged), so the kernel widens the raw input bytes. An odd last pair
    gets a dummy B with zero weights storing to A's channels, which the kernel stores first."""
    s = stream.astype(np.int64)
    pairs, nconst = int(s[0]), int(s[1])
    head = s[: 2 + 2 * nconst].copy()
    if pairs == 0:
        return stream
    rw = record_words(steps)
    rec = s[len(head):].reshape(pairs, rw)
    w = rec[:, 4: 4 + 4 * steps].reshape(pairs, steps, 4)
    halves = ((w & 0xFFFF) ^ 0x8000) - 0x8000 + ((((w >> 16) & 0xFFFF) ^ 0x8000) - 0x8000)
    sums = halves.reshape(pairs, steps, 2, 2).sum(axis=(1, 3))  # (pair, channel): 2 * sum of weights
    starts = np.stack([rec[:, 0], rec[:, 2]], axis=1) + input_offset * sums
    quant = rec[:, 4 + 4 * steps: 4 + 4 * steps + 8]
    if pairs % 2:
        dummy_q = np.array([(1 << 30) + 1, 0, 1, quant[-1, 3], (1 << 30) + 1, 0, 1, quant[-1, 7]], dtype=np.int64)
        starts = np.concatenate([starts, np.zeros((1, 2), dtype=np.int64)])
        w = np.concatenate([w, np.zeros((1, steps, 4), dtype=np.int64)])
        quant = np.concatenate([quant, dummy_q[None]])
    quads = len(starts) // 2
    out = np.concatenate([starts.reshape(quads, 4), w.reshape(quads, 2, steps, 4).transpose(0, 2, 1, 3).reshape(quads, 8 * steps),
                          quant.reshape(quads, 16)], axis=1)
    head[0] = quads
    full = np.concatenate([head, out.reshape(-1)])
    return (full & 0xFFFFFFFF).astype(np.uint32).view(np.int32)


def specialise_fc(g, op, p: dict[str, Any], call: KernelCall, target: Target) -> KernelCall:
    if not target.has_dsp or p["dtype"] != "int8" or not streams_fit(g, target):
        return call
    units = p["units"]
    w = g.tensor(op.inputs[1]).data.astype(np.int64) + int(p["weights_offset"])
    bias = _bias(g, op, units)
    const = constant_channels(w, bias, p)
    if const is None:
        return call
    pairs = build_stream(w, bias, p, const)
    params = {k: call.params[k] for k in ("batches", "units", "depth", "input_offset", "act_min", "act_max")}
    # The direct kernel widens the input in registers (no arena scratch); the faster one keeps a
    # widened copy of the input (8 bytes per 4 of depth), which can set the arena (AD's): it is
    # the lean variant the memory-first kernel choice falls back to before the portable kernel.
    quads = quad_stream(pairs, (p["depth"] + 3) // 4, int(p["input_offset"]))
    direct = replace(call, func="evo_fully_connected_s8_dsp_direct", sources=["fully_connected_s8_dsp_direct.c"],
                     header=HEADER, params_type="evo_fully_connected_s8_dsp_params_t", params={**params, "scratch_bytes": 0},
                     args=[TensorArg(op.inputs[0]), ConstArray("mm", quads), TensorArg(op.outputs[0])], scratch_bytes=0)
    scratch = (16 if p["batches"] > 1 else 8) * ((p["depth"] + 3) // 4)  # evo_fully_connected_s8_dsp
    params["scratch_bytes"] = scratch
    return replace(call, func="evo_fully_connected_s8_dsp", sources=["fully_connected_s8_dsp.c", ENGINE], header=HEADER,
                   params_type="evo_fully_connected_s8_dsp_params_t", params=params,
                   args=[TensorArg(op.inputs[0]), ConstArray("mm", pairs), TensorArg(op.outputs[0]), Scratch()],
                   scratch_bytes=scratch, lean=direct)
