"""Generation-time specialisation of int8 CONV_2D, FULLY_CONNECTED and DEPTHWISE_CONV_2D for
Cortex-M0/M0+ (ARMv6-M, no DSP extension): the weight stream of evo/conv_m0.h for the engines of
kernels_c/src/mm_s8_m0.c, used by conv2d_s8_m0.c, fully_connected_s8_m0.c and
depthwise_conv2d_s8_m0t.c.

The stream holds, per block of four (or five) output channels, the accumulators' starts (bias
and input offset folded in), the weights as int32 (so one LDM feeds four or five multiplications
with no sign extension), and per channel the constants of the requantisation (modes and proofs
in evo/conv_m0.h). The int32 weights take four times the int8 bytes: layers get them, most MACs
per byte first, while the board's flash keeps FLASH_RESERVE bytes for code; the others keep the
portable kernel.

Exactness: each layer takes the cheapest requantisation that is exact for every accumulator it
can produce (bounded from the weights, the bias and the input offset): RQ11 (|acc| < 2^20),
RQ16 (|2 acc| < 2^30), both for right shifts, else the exact mode (TFLM's arithmetic in C,
|2 acc| < 2^31); a layer outside even that keeps the portable kernel."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from evo.ops.base import ConstArray, KernelCall, Scratch, TensorArg
from evo.ref import fixedpoint as fx
from evo.target import Target

HEADER = "conv_m0.h"
ENGINE = "mm_s8_m0.c"
MODE_FAST, MODE_EXACT, MODE_FAST11 = 0, 2, 3  # EVO_M0_RQ16, EVO_M0_EXACT, EVO_M0_RQ11
QUANT_WORDS = 6  # EVO_M0_QUANT_WORDS
QUANT11_WORDS = 5  # EVO_M0_QUANT11_WORDS
FLASH_RESERVE = 64 * 1024  # flash kept for code and everything else
MAX_TAPS = 32  # EVO_M0T_MAX_TAPS
STACK_PATCH = 128  # EVO_M0_STACK_PATCH
LANES5_MAX_K = 128  # EVO_M0_LANES5_MAX_K
_LIM = 2**31


def block_words(k: int) -> int:
    """int32 words of one block of four channels for a field of k taps (at most)."""
    return 4 + 4 * k + 4 * QUANT_WORDS


def stream_bytes(k: int, oc: int) -> int:
    return 4 * ((oc + 3) // 4) * block_words(k)


def acc_bound(w: np.ndarray, bias: np.ndarray, input_offset: int) -> np.ndarray:
    """Per output channel, the largest |accumulator| any int8 input gives; `w` is [OC, K] as
    TFLM applies it (padded taps add 0, like a zero-weight tap). Channels whose weights are all
    zero (pruned) are constants in the stream: 0."""
    xmax = max(abs(-128 + input_offset), abs(127 + input_offset))
    return np.where(np.any(w != 0, axis=1), np.abs(bias) + np.abs(w.astype(np.int64)).sum(axis=1) * xmax, 0)


def constant_outputs(w: np.ndarray, bias: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """Per channel, TFLM's output for an all-zero weight row: requant(bias) + zp, clamped."""
    oc = w.shape[0]
    mult = np.broadcast_to(np.asarray(p["multiplier"], dtype=np.int64), (oc,))
    shift = np.broadcast_to(np.asarray(p["shift"], dtype=np.int64), (oc,))
    out = fx.multiply_by_quantized_multiplier(fx.wrap_int32(bias), mult, shift) + int(p["output_offset"])
    return np.clip(out, int(p["act_min"]), int(p["act_max"])).astype(np.int64)


def _shifts(p: dict[str, Any], bound: np.ndarray) -> np.ndarray:
    """Per channel the right shift e the fast modes use: -shift, or 1 where any e gives the
    same (multiplier 0: zp; constant channels, bound 0: their own constants)."""
    mult = np.broadcast_to(np.asarray(p["multiplier"], dtype=np.int64), bound.shape)
    e = np.where(mult == 0, 1, -np.broadcast_to(np.asarray(p["shift"], dtype=np.int64), bound.shape))
    return np.where(bound == 0, 1, e)


def _t0(p: dict[str, Any], e: np.ndarray) -> np.ndarray:
    """2^(e-1) + (zp - act_min) * 2^e: TFLM's rounding, the zero point and the clamp's offset."""
    return (1 << (e - 1)) + (int(p["output_offset"]) - int(p["act_min"])) * (1 << e)


def fast11_ok(p: dict[str, Any], bound: np.ndarray) -> bool:
    """RQ11 is exact for every accumulator: |a| < 2^20 (each product of a with an 11-bit piece of
    the multiplier fits int32), a right shift with 9 + e <= 31, and V + T' - 512 within int32
    (|V| <= |a| * M / 2^22 + 1 < 2^9 |a| + 1)."""
    e = _shifts(p, bound)
    if (bound >= 1 << 20).any() or (e < 1).any() or (e > 22).any():
        return False
    return bool((np.abs(256 + 512 * _t0(p, e)) + 512 * bound + 1024 < _LIM).all())


def fast16_ok(p: dict[str, Any], bound: np.ndarray) -> bool:
    """RQ16 is exact for every accumulator: |2a| < 2^30, a right shift, and T + hm - 1 within
    int32 (|hm| <= |a| + 1)."""
    e = _shifts(p, bound)
    if (2 * bound >= 1 << 30).any() or (e < 1).any() or (e > 24).any():
        return False
    return bool((np.abs(_t0(p, e) - (1 << 13)) + bound + 2 < _LIM).all())


def requant_mode(p: dict[str, Any], bound: np.ndarray) -> int | None:
    """The layer's requantisation mode (the cheapest exact one), or None when not even the exact
    mode's doubled accumulator |2a| < 2^31 holds. `bound`: per channel the largest |accumulator|."""
    if (2 * bound >= _LIM).any():
        return None
    if fast11_ok(p, bound):
        return MODE_FAST11
    return MODE_FAST if fast16_ok(p, bound) else MODE_EXACT


def quant_words(mode: int) -> int:
    return QUANT11_WORDS if mode == MODE_FAST11 else QUANT_WORDS


def scale(mode: int) -> int:
    """The factor on the stream's starts and weights: RQ16 and the exact mode take 2a."""
    return 1 if mode == MODE_FAST11 else 2


def quant_records(p: dict[str, Any], mode: int, oc: int) -> np.ndarray:
    """[OC, quant_words(mode)] per-channel requantisation constants (evo/conv_m0.h)."""
    mult = np.broadcast_to(np.asarray(p["multiplier"], dtype=np.int64), (oc,))
    shift = np.broadcast_to(np.asarray(p["shift"], dtype=np.int64), (oc,))
    zp = int(p["output_offset"])
    if mode == MODE_EXACT:
        z = np.zeros(oc, dtype=np.int64)
        return np.stack([mult, shift, np.full(oc, zp, dtype=np.int64), z, z, z], axis=1)
    e = np.maximum(np.where(mult == 0, 1, -shift), 1)  # < 1 only on constant channels (replaced)
    if mode == MODE_FAST11:
        return np.stack([mult & 0x7FF, (mult >> 11) & 0x7FF, mult >> 22, 256 + 512 * _t0(p, e), e + 9], axis=1)
    ml = ((mult & 0xFFFF) ^ 0x8000) - 0x8000
    mh = (mult - ml) >> 16
    return np.stack([mh, ml, mh, ml, _t0(p, e) - (1 << 13), e], axis=1)


def constant_records(p: dict[str, Any], mode: int, c: np.ndarray) -> np.ndarray:
    """Records that requantise an accumulator of 0 to the outputs c (all-zero weight rows)."""
    z = np.zeros(c.size, dtype=np.int64)
    lo = int(p["act_min"])
    if mode == MODE_EXACT:  # multiplier 0, c as the output offset
        return np.stack([z, z, c, z, z, z], axis=1)
    if mode == MODE_FAST11:  # V = 0: T' >> 10 with e = 1
        return np.stack([z, z, z, (c - lo) << 10, z + 10], axis=1)
    return np.stack([z, z, z, z, 2 * (c - lo) - (1 << 13), z + 1], axis=1)  # (2^13 + T) >> 1


def _blocks(w: np.ndarray, start: np.ndarray, q: np.ndarray, lanes: int) -> np.ndarray:
    """Blocks of `lanes` channels (evo/conv_m0.h): starts, weights [K][lanes], quant records
    (5 lanes: channel 4's first)."""
    n, k = w.shape
    blocks = n // lanes
    order = [4, 0, 1, 2, 3] if lanes == 5 else [0, 1, 2, 3]
    qb = q.reshape(blocks, lanes, q.shape[1])[:, order]
    return np.concatenate([start.reshape(blocks, lanes), w.reshape(blocks, lanes, k).transpose(0, 2, 1).reshape(blocks, lanes * k),
                           qb.reshape(blocks, -1)], axis=1).reshape(-1)


def build_stream(w: np.ndarray, bias: np.ndarray, p: dict[str, Any], mode: int, lanes: int = 4) -> np.ndarray:
    """The int32 stream of evo/conv_m0.h for [OC, K] weights (as TFLM applies them) and [OC] bias:
    blocks of `lanes` (4 or 5) channels, the channels left over in a last block of four padded
    with zero-weight channels, which the kernel computes but does not store. A channel whose
    weights are all zero starts at 0 with constants that requantise 0 to its output."""
    oc, k = w.shape
    dead = ~np.any(w != 0, axis=1)
    full = oc // lanes if lanes == 5 else 0
    n = lanes * full + 4 * ((oc - lanes * full + 3) // 4)
    s = scale(mode)
    wp = np.zeros((n, k), dtype=np.int64)
    wp[:oc] = s * w.astype(np.int64)
    start = np.zeros(n, dtype=np.int64)
    start[:oc] = np.where(dead, 0, s * (bias + int(p["input_offset"]) * w.astype(np.int64).sum(axis=1)))
    q = np.zeros((n, quant_words(mode)), dtype=np.int64)
    q[oc:] = constant_records(p, mode, np.zeros(n - oc, dtype=np.int64))  # padding channels
    q[:oc] = quant_records(p, mode, oc)
    if dead.any():
        q[:oc][dead] = constant_records(p, mode, constant_outputs(w, bias, p)[dead])
    m = lanes * full
    parts = [_blocks(wp[:m], start[:m], q[:m], lanes)] if full else []
    if n > m:
        parts.append(_blocks(wp[m:], start[m:], q[m:], 4))
    return (np.concatenate(parts) & 0xFFFFFFFF).astype(np.uint32).view(np.int32)


def _bias(g, op, n: int) -> np.ndarray:
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        return g.tensor(op.inputs[2]).data.astype(np.int64).reshape(n)
    return np.zeros(n, dtype=np.int64)


# ----------------------------------------------------------------------------- flash budget

_PLANS: list[tuple[Any, int | None, frozenset[int]]] = []  # (graph, flash, ops): a few recent graphs, held so ids stay theirs


def _candidates(g) -> list[tuple[int, int, int, int]]:
    """(op index, stream bytes, int8 weight and bias bytes it replaces, MACs) of the int8 CONV_2D,
    FULLY_CONNECTED and DEPTHWISE_CONV_2D ops."""
    out = []
    for op in g.ops:
        if op.type not in ("CONV_2D", "FULLY_CONNECTED", "DEPTHWISE_CONV_2D") or len(op.inputs) < 2 or op.inputs[1] < 0:
            continue
        w, y = g.tensor(op.inputs[1]), g.tensor(op.outputs[0])
        if w.dtype != "int8" or w.data is None or y.dtype != "int8":
            continue
        oc = int(w.shape[3] if op.type == "DEPTHWISE_CONV_2D" else w.shape[0])
        k = int(w.size) // max(oc, 1)
        replaced = sum(g.tensor(t).nbytes for t in op.inputs[1:3] if t >= 0)
        out.append((op.index, stream_bytes(k, oc), replaced, int(y.size) * k))
    return out


def stream_ops(g, target: Target) -> frozenset[int]:
    """The ops whose int32 streams fit the board's flash with FLASH_RESERVE bytes left for code:
    each stream costs its bytes less the int8 weights and bias it replaces; layers with the most
    MACs per stream byte first. Unknown flash: all."""
    for cg, flash, chosen in _PLANS:
        if cg is g and flash == target.flash_bytes:
            return chosen
    cands = _candidates(g)
    if target.flash_bytes is None:
        chosen = frozenset(c[0] for c in cands)
    else:
        consts = sum(t.nbytes for t in g.tensors if t.is_const and t.data is not None)
        room = target.flash_bytes - FLASH_RESERVE - consts
        picked = []
        for i, nbytes, replaced, _ in sorted(cands, key=lambda c: (-c[3] / c[1], c[0])):
            if nbytes - replaced <= room:
                picked.append(i)
                room -= nbytes - replaced
        chosen = frozenset(picked)
    _PLANS.insert(0, (g, target.flash_bytes, chosen))
    del _PLANS[4:]
    return chosen


# ----------------------------------------------------------------------------- calls


def lanes_for(k: int, oc: int, mode: int) -> int:
    """The 5-channel engine (field widened on the stack, 4 * k bytes) for fields of at most
    LANES5_MAX_K taps in the fast modes, where it takes fewer instructions per pixel: about 12.5
    per tap and block of five, 11.25 per tap and block of four (the channels left over, and the
    4-channel engine), 4 per tap to widen the field."""
    if mode == MODE_EXACT or k > LANES5_MAX_K:
        return 4
    five = (oc // 5) * 12.5 + (oc % 5 + 3) // 4 * 11.25 + 4
    return 5 if five < (oc + 3) // 4 * 11.25 else 4


def _rq(p: dict[str, Any], mode: int, lanes: int = 4) -> dict[str, int]:
    return {"mode": mode, "act_min": int(p["act_min"]), "act_max": int(p["act_max"]), "lanes": lanes}


def patch_bytes(p: dict[str, Any]) -> int:
    """evo_conv2d_s8_m0_get_buffer_size: a gathered field, unless every field is one contiguous run
    of the input (1x1 filters; filters whose rows span the whole input width without padding)."""
    kh, kw, cin = p["kh"], p["kw"], p["in"][3]
    h, w = p["in"][1], p["in"][2]
    oh, ow = p["out"][1], p["out"][2]
    rows_in = all(0 <= oy * p["stride_h"] - p["pad_h"] and oy * p["stride_h"] - p["pad_h"] + (kh - 1) * p["dil_h"] < h for oy in range(oh))
    cols = [ox * p["stride_w"] - p["pad_w"] for ox in range(ow)]
    cols_in = all(0 <= x and x + (kw - 1) * p["dil_w"] < w for x in cols)
    runs = kw == 1 or p["dil_w"] == 1
    contiguous = rows_in and cols_in and runs and (kh == 1 or (p["dil_h"] == 1 and kw == w and all(x == 0 for x in cols)))
    return 0 if contiguous else (kh * kw * cin + 3) & ~3


def specialise_conv(g, op, p: dict[str, Any], call: KernelCall, target: Target) -> KernelCall:
    if target.core != "M0" or p["dtype"] != "int8" or call.func != "evo_conv2d_s8" or op.index not in stream_ops(g, target):
        return call
    w = g.tensor(op.inputs[1]).data
    oc = int(w.shape[0])
    return _conv_call(op, p, call, w.reshape(oc, -1).astype(np.int64), _bias(g, op, oc))


def _conv_call(op, p: dict[str, Any], call: KernelCall, w2: np.ndarray, bias: np.ndarray) -> KernelCall:
    """evo_conv2d_s8_m0 for [OC, K] weights in the field's (fy, fx, c) order, or `call` unchanged
    when neither requantisation mode is exact."""
    mode = requant_mode(p, acc_bound(w2, bias, int(p["input_offset"])))
    if mode is None:
        return call
    scratch = patch_bytes(p)
    params = {k: call.params[k] for k in ("in", "out", "kh", "kw", "stride_h", "stride_w", "dil_h", "dil_w", "pad_h", "pad_w",
                                          "input_offset")}
    lanes = lanes_for(w2.shape[1], w2.shape[0], mode)
    params.update(rq=_rq(p, mode, lanes), scratch_bytes=scratch)
    zp = None  # what padded taps read: a filter row of input zero points (int32 words: aligned)
    if scratch:
        row = np.zeros(4 * ((p["kw"] * p["in"][3] + 3) // 4), dtype=np.int8)
        row[:] = -int(p["input_offset"])
        zp = ConstArray("zp", row.view("<i4"))
    fast = replace(call, func="evo_conv2d_s8_m0", sources=["conv2d_s8_m0.c", ENGINE], header=HEADER,
                   params_type="evo_conv2d_s8_m0_params_t", params=params,
                   args=[TensorArg(op.inputs[0]), ConstArray("m0", build_stream(w2, bias, p, mode, lanes)), zp, TensorArg(op.outputs[0]),
                         Scratch()],
                   scratch_bytes=scratch, lean=None)
    if 0 < scratch and p["kh"] * p["kw"] * p["in"][3] <= STACK_PATCH:  # lean: the patch on the stack
        fast = replace(fast, lean=replace(fast, params={**params, "scratch_bytes": 0}, scratch_bytes=0))
    return fast


def specialise_fc(g, op, p: dict[str, Any], call: KernelCall, target: Target) -> KernelCall:
    if target.core != "M0" or p["dtype"] != "int8" or op.index not in stream_ops(g, target):
        return call
    units = p["units"]
    w = g.tensor(op.inputs[1]).data.astype(np.int64) + int(p["weights_offset"])
    bias = _bias(g, op, units)
    mode = requant_mode(p, acc_bound(w, bias, int(p["input_offset"])))
    if mode is None:
        return call
    lanes = lanes_for(p["depth"], units, mode)
    params = {"batches": p["batches"], "units": units, "depth": p["depth"], "rq": _rq(p, mode, lanes)}
    return replace(call, func="evo_fully_connected_s8_m0", sources=["fully_connected_s8_m0.c", ENGINE], header=HEADER,
                   params_type="evo_fully_connected_s8_m0_params_t", params=params,
                   args=[TensorArg(op.inputs[0]), ConstArray("m0", build_stream(w, bias, p, mode, lanes)), TensorArg(op.outputs[0])],
                   scratch_bytes=0, lean=None)


def specialise_depthwise(g, op, p: dict[str, Any], call: KernelCall, target: Target) -> KernelCall:
    """One input channel (any depth multiplier): every output channel reads it, so the layer is a
    convolution with one input channel (evo_conv2d_s8_m0). Depth multiplier 1 with at most
    EVO_M0T_MAX_TAPS taps: evo_depthwise_conv2d_s8_m0t, which needs no scratch. Else None."""
    if target.core != "M0" or p["dtype"] != "int8" or call.func != "evo_depthwise_conv2d_s8" or op.index not in stream_ops(g, target):
        return None
    w = g.tensor(op.inputs[1]).data  # [1, KH, KW, OC]
    oc = int(w.shape[3])
    w2 = w.reshape(-1, oc).T.astype(np.int64)  # [OC, KH * KW]
    bias = _bias(g, op, oc)
    if p["in"][3] == 1:
        out = _conv_call(op, p, call, w2, bias)
        return out if out is not call else None
    if p["depth_multiplier"] != 1 or p["kh"] * p["kw"] > MAX_TAPS:
        return None
    mode = requant_mode(p, acc_bound(w2, bias, int(p["input_offset"])))
    if mode is None:
        return None
    params = {k: call.params[k] for k in ("in", "out", "kh", "kw", "stride_h", "stride_w", "dil_h", "dil_w", "pad_h", "pad_w")}
    params["rq"] = _rq(p, mode)
    zp = np.zeros(4 * ((oc + 3) // 4), dtype=np.int8)
    zp[:] = -int(p["input_offset"])
    return replace(call, func="evo_depthwise_conv2d_s8_m0t", sources=["depthwise_conv2d_s8_m0t.c", ENGINE], header=HEADER,
                   params_type="evo_depthwise_conv2d_s8_m0t_params_t", params=params,
                   args=[TensorArg(op.inputs[0]), ConstArray("m0", build_stream(w2, bias, p, mode)), ConstArray("zp", zp.view("<i4")),
                         TensorArg(op.outputs[0]), Scratch()],
                   scratch_bytes=0, lean=None)
