"""Generation-time specialisation of int8 DEPTHWISE_CONV_2D for a Cortex-M core.

`pairs_call` re-lays the filter and the requantisation constants out for a DSP core: 3x3 filters
at stride_w 1 or 2 with the fast requantisation get the channel-planar kernel
(kernels_c/src/depthwise_conv2d_s8_planar.c: two outputs of a channel share their input words),
or, for rows three, five or six outputs wide at stride 1 (KWS, VWW's last layers), the
channel-blocked planar kernel (depthwise_conv2d_s8_blocked.c: a whole output row of a channel in
registers); other shapes the
tap-pair kernel (depthwise_conv2d_s8_pairs.c); layouts in evo/depthwise_fast.h. All take doubled
int16 weight pairs and per channel {2 * bias} and {M, T, e}. All keep a ring of widened rows in the
arena, so each call carries lean variants (KernelCall.lean) for the memory-first kernel choice:
the blocked kernel with a ring of a few channels (channel groups outermost, in place without an
input-row window), then the scratch-free kernel depthwise_conv2d_s8_direct.c, which reads the int8
input in place (two taps of four channels per SMLAD, input offset folded into the accumulator
starts) and has a row function for fused stream groups.

Why the fast requantisation is exact (mode 0/1). TFLM computes, for shift = -e <= -1 (no left
shift) and multiplier M in [0, 2^31):
    hm  = SaturatingRoundingDoublingHighMul(a, M) = floor((a * M + 2^30) / 2^31)
          (no saturation: M != INT32_MIN; equality with TFLM's nudge form: evo/arm_dsp.h),
    out = RoundingDivideByPOT(hm, e) + zp = floor((hm + 2^(e-1) - [hm < 0]) / 2^e) + zp.
With a2 = 2a (the kernel accumulates doubled weights), SMMLAR(a2, M, t) = t + floor((2aM + 2^31)
/ 2^32) = t + hm. [hm < 0] may be replaced by [a < 0] (= -(a2 >> 31)): a < 0 with hm >= 0
forces hm = 0, whose rounding is 0 either way for e >= 1. Adding zp * 2^e before the shift adds
zp after it. So out = (SMMLAR(a2, M, T + (a2 >> 31)) >> e) with T = 2^(e-1) + zp * 2^e, provided
nothing overflows int32: |2a| < 2^31 and |hm| + |T| + 1 < 2^31, both bounded here from the
weights, the bias and the input offset. Otherwise (e = 0, a left shift, huge T) mode 2 uses the
exact requantisation; a doubled accumulator that could overflow keeps the portable kernel.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from evo.ops.base import CExpr, ConstArray, KernelCall, TensorArg

MODE_FAST, MODE_FAST_CLAMP, MODE_EXACT = 0, 1, 2
MAX_KH = 16  # DWP_MAX_KH in depthwise_conv2d_s8_pairs.c
_LIM = 2**31


def _fits(p: dict[str, Any]) -> bool:
    """int8, no dilation, kh <= MAX_KH, and depth multiplier 1 or a single input channel (then every
    output channel reads it). Filters one tap wide (1-D convolutions along H, e.g. str_ww) stay on
    the portable kernel: a row window buys nothing there and measured slower under QEMU."""
    return (p["dtype"] == "int8" and (p["depth_multiplier"] == 1 or p["in"][3] == 1)
            and (p["dil_h"], p["dil_w"]) == (1, 1) and p["kh"] <= MAX_KH and p["kw"] >= 2)


def pairs_geometry(p: dict[str, Any]) -> dict[str, int]:
    """dwp_geometry in depthwise_conv2d_s8_pairs.c."""
    layouts = 1 if p["stride_w"] % 2 == 0 else 2  # odd strides also start windows at odd columns
    ng = (p["kw"] + 1) // 2 if layouts == 1 else p["kw"] // 2 + 1
    return {"ng": ng, "slots": (p["stride_w"] * (p["out"][2] - 1)) // 2 + ng, "quads": (p["out"][3] + 3) // 4,
            "layouts": layouts}


def pairs_scratch_bytes(p: dict[str, Any]) -> int:
    """evo_depthwise_conv2d_s8_pairs_get_buffer_size: a ring of kh widened rows (int16 per element)."""
    geo = pairs_geometry(p)
    ring_quads = 1 if p["in"][3] == 1 and p["out"][3] > 1 else geo["quads"]  # one input channel: one copy
    return (p["kh"] * ring_quads * geo["slots"] * 16 + 15) & ~15


def acc_bound(p: dict[str, Any], w: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """Per channel, the largest |accumulator| any int8 input can give."""
    off = p["input_offset"]
    xmax = max(abs(-128 + off), abs(127 + off))
    wsum = np.abs(w.astype(np.int64)).reshape(-1, w.shape[-1]).sum(axis=0)
    b = np.zeros(w.shape[-1], np.int64) if bias is None else np.abs(bias.astype(np.int64))
    return b + xmax * wsum


def requant_mode(p: dict[str, Any], bound: np.ndarray) -> int:
    shifts = p["shift"].astype(np.int64)
    e = -shifts
    if (shifts > -1).any() or (e > 30).any():
        return MODE_EXACT
    t = (1 << (e - 1)) + p["output_offset"] * (1 << e)
    if (bound + 2 + np.abs(t) >= _LIM).any():
        return MODE_EXACT
    return MODE_FAST if (p["act_min"], p["act_max"]) == (-128, 127) else MODE_FAST_CLAMP


def pack_pairs(p: dict[str, Any], w: np.ndarray, bias: np.ndarray | None, mode: int) -> tuple[np.ndarray, np.ndarray]:
    """(wpack, qpack) int32 arrays in the layout of evo/depthwise_fast.h."""
    geo = pairs_geometry(p)
    kh, kw, c = p["kh"], p["kw"], p["out"][3]
    ng, quads = geo["ng"], geo["quads"]
    layouts = []
    for shift in range(geo["layouts"]):  # layout 1: windows starting at an odd column, taps shifted by one
        wk = np.zeros((kh, 2 * ng, 4 * quads), np.int64)
        wk[:, shift : shift + kw, :c] = 2 * w.reshape(kh, kw, c).astype(np.int64)
        lo, hi = wk[:, 0::2, :] & 0xFFFF, (wk[:, 1::2, :] & 0xFFFF) << 16  # [kh, ng, C']
        words = (lo | hi).astype(np.uint32).view(np.int32)
        layouts.append(words.reshape(kh, ng, quads, 4).transpose(2, 0, 1, 3))  # [quad, r, j, c]
    wpack = np.stack(layouts, axis=1)  # [quad, layout, r, j, c]

    n = 4 * quads
    b2 = np.zeros(n, np.int64)
    if bias is not None:
        b2[:c] = 2 * bias.astype(np.int64)
    m = np.zeros(n, np.int64)
    m[:c] = p["multiplier"]
    sh = np.zeros(n, np.int64)
    sh[:c] = p["shift"]
    if mode == MODE_EXACT:
        t, e = np.zeros(n, np.int64), sh
    else:
        e = np.where(np.arange(n) < c, -sh, 1)
        t = (1 << (e - 1)) + p["output_offset"] * (1 << e)
    per = np.stack([m, t, e], axis=1).reshape(quads, 12)
    q = np.concatenate([b2.reshape(quads, 4), per], axis=1).reshape(-1)
    qpack = np.concatenate([np.array([mode, 0, 0, 0], np.int64), q]).astype(np.int32)
    return wpack.reshape(-1), qpack


def _weights_and_bias(g, op) -> tuple[np.ndarray, np.ndarray | None]:
    """The depthwise op's filter data and its bias data (None without a bias)."""
    w = g.tensor(op.inputs[1]).data
    b_idx = op.inputs[2] if len(op.inputs) > 2 else -1
    return w, (g.tensor(b_idx).data if b_idx >= 0 else None)


def _packed_call(op, call: KernelCall, func: str, tag: str, wpack: np.ndarray, qpack: np.ndarray, scratch: int) -> KernelCall:
    """`call` turned into a call of the specialised kernel `func` (one source file of the same name),
    which takes packed weights and per-channel constants instead of the multiplier arrays."""
    null = CExpr("NULL")
    params = {**call.params, "multiplier": null, "shift": null, "w_offset_sum": null}
    return replace(
        call,
        func=func,
        sources=[func.removeprefix("evo_") + ".c"],
        header="depthwise_fast.h",
        params=params,
        args=[TensorArg(op.inputs[0]), ConstArray(tag + "w", wpack), ConstArray(tag + "q", qpack), TensorArg(op.outputs[0]), call.args[-1]],
        scratch_bytes=scratch,
    )


def pairs_call(g, op, p: dict[str, Any], call: KernelCall) -> KernelCall:
    """The tap-pair kernel's call, or the portable `call` when the shape does not fit it."""
    if not _fits(p):
        return call
    w, bias = _weights_and_bias(g, op)
    bound = acc_bound(p, w, bias)
    if (2 * bound >= _LIM).any():
        return call
    mode = requant_mode(p, bound)
    lean = direct_call(op, p, call, w, bias, mode)
    if _fits_planar(p, mode) and blocked_fast(p):  # all channels in one group, then a ring that fits the window
        c, group = p["out"][3], blocked_group(p)
        lean = blocked_call(op, p, call, w, bias, mode, group, lean) if group < c else lean
        return blocked_call(op, p, call, w, bias, mode, c, lean)
    if _fits_planar(p, mode):
        wpack = pack_planar(p, w, bias)
        qpack = np.array([mode, 0, 0, 0], np.int32)
        fast = _packed_call(op, call, "evo_depthwise_conv2d_s8_planar", "dw3", wpack, qpack, planar_scratch_bytes(p))
    else:
        wpack, qpack = pack_pairs(p, w, bias, mode)
        fast = _packed_call(op, call, "evo_depthwise_conv2d_s8_pairs", "dwp", wpack, qpack, pairs_scratch_bytes(p))
    return replace(fast, lean=lean)


MAX_TAPS = 32  # EVO_DWD_MAX_TAPS in evo/depthwise_fast.h


def pack_direct(p: dict[str, Any], w: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """wpack of evo_depthwise_conv2d_s8_direct (evo/depthwise_fast.h): per quad, tap pair, channel
    the doubled weight pair (w[2j][c], w[2j + 1][c]); then a pixel of zero points."""
    c = p["out"][3]
    taps = p["kh"] * p["kw"]
    npairs, quads = (taps + 1) // 2, (c + 3) // 4
    wk = np.zeros((2 * npairs, 4 * quads), np.int64)
    wk[:taps, :c] = 2 * w.reshape(taps, c).astype(np.int64)
    words = ((wk[0::2] & 0xFFFF) | ((wk[1::2] & 0xFFFF) << 16)).astype(np.uint32).view(np.int32)  # [pair, C']
    wpack = words.reshape(npairs, quads, 4).transpose(1, 0, 2).reshape(-1)
    zp = np.zeros(4 * quads, np.int8)
    zp[:c] = -p["input_offset"]
    return np.concatenate([wpack, zp.view("<i4")])


def direct_call(op, p: dict[str, Any], call: KernelCall, w: np.ndarray, bias: np.ndarray | None, mode: int) -> KernelCall | None:
    """The scratch-free kernel's call (the lean variant the memory-first kernel choice takes when
    a ring would raise the arena), or None: depth multiplier 1 only, at most MAX_TAPS taps."""
    if p["in"][3] != p["out"][3] or p["depth_multiplier"] != 1 or p["kh"] * p["kw"] > MAX_TAPS:
        return None
    _, qpack = pack_pairs(p, w, bias, mode)  # its per-quad constants, with the input offset folded in:
    c, quads = p["out"][3], (p["out"][3] + 3) // 4  # the kernel widens raw bytes (padding reads -offset)
    share = np.zeros(4 * quads, np.int64)
    share[:c] = 2 * p["input_offset"] * w.reshape(-1, c).astype(np.int64).sum(axis=0)
    q = qpack.astype(np.int64)
    starts = q[4:].reshape(quads, 16)[:, :4] + share.reshape(quads, 4)  # |.| <= 2 * acc_bound < 2^31
    q[4:].reshape(quads, 16)[:, :4] = starts
    qpack = q.astype(np.int32)
    return _packed_call(op, call, "evo_depthwise_conv2d_s8_direct", "dwd", pack_direct(p, w, bias), qpack, 0)


def _fits_planar(p: dict[str, Any], mode: int) -> bool:
    """The channel-planar kernel: 3x3, stride_w 1 or 2, depth multiplier 1 (in.c == out.c), fast requantisation."""
    return ((p["kh"], p["kw"]) == (3, 3) and p["stride_w"] in (1, 2) and p["in"][3] == p["out"][3]
            and p["depth_multiplier"] == 1 and mode != MODE_EXACT)


def planar_scratch_bytes(p: dict[str, Any]) -> int:
    """evo_depthwise_conv2d_s8_planar_get_buffer_size: three padded rows, int16 per element, in column pairs."""
    pairs = ((p["out"][2] - 1) * p["stride_w"] + 2) // 2 + 1
    return (3 * p["out"][3] * pairs * 4 + 15) & ~15


def pack_planar(p: dict[str, Any], w: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """Per channel 15 int32 words (evo/depthwise_fast.h): {2b, 2b, M, T, e} then, for kernel rows
    r0 r1 r2 r0 r1 (the kernel picks the row's rotation), the pairs (2w0, 2w1) and (2w1, 2w2);
    then one input pixel of zero points (C bytes, zero-filled to a word), which padding reads."""
    c = p["out"][3]
    w2 = 2 * w.reshape(3, 3, c).astype(np.int64)  # [r, k, c]

    def word(lo, hi):
        return ((lo & 0xFFFF) | ((hi & 0xFFFF) << 16)).astype(np.uint32).view(np.int32).astype(np.int64)

    rows = np.stack([np.stack([word(w2[r, 0], w2[r, 1]), word(w2[r, 1], w2[r, 2])], axis=1) for r in (0, 1, 2, 0, 1)],
                    axis=1).reshape(c, 10)  # [c, row, pair] -> [c, 10]
    b2 = np.zeros(c, np.int64) if bias is None else 2 * bias.astype(np.int64)
    e = -p["shift"].astype(np.int64)
    t = (1 << (e - 1)) + p["output_offset"] * (1 << e)
    m = np.broadcast_to(np.asarray(p["multiplier"], np.int64), (c,))
    consts = np.stack([b2, b2, m, t, e], axis=1)
    zp = np.zeros(4 * ((c + 3) // 4), np.int8)
    zp[:c] = -p["input_offset"]
    return np.concatenate([np.concatenate([consts, rows], axis=1).reshape(-1).astype(np.int32), zp.view("<i4")])


def _blocked_pairs(p: dict[str, Any]) -> int:
    """Column pairs a slot of the blocked kernel's ring holds (dwb_pairs): those the rows read, less
    the last when it is all padding."""
    pairs = ((p["out"][2] - 1) * p["stride_w"] + 2) // 2 + 1
    return pairs - (2 * (pairs - 1) - p["pad_w"] >= p["in"][2])


def blocked_fast(p: dict[str, Any]) -> bool:
    """Shapes whose channel-blocked kernel has an assembly loop with a whole output row in registers
    (rows three, five or six outputs wide at stride 1; six with four column pairs a slot), where it
    beats the planar and scratch-free kernels; elsewhere it would run its plain-C loop."""
    ow = p["out"][2]
    return p["stride_w"] == 1 and (ow in (3, 5) or (ow == 6 and _blocked_pairs(p) == 4))


def blocked_scratch_bytes(p: dict[str, Any], group: int) -> int:
    """evo_depthwise_conv2d_s8_blocked_get_buffer_size: three padded rows of `group` channels, int16 in
    column pairs, less the last pair the rows read when it is all padding."""
    return (3 * group * _blocked_pairs(p) * 4 + 15) & ~15


def blocked_group(p: dict[str, Any]) -> int:
    """Channels per group of the blocked kernel's lean use: the ring fits in the input-row window
    that the scratch-free kernel's in-place entry takes (kh input rows), in as few groups as that
    allows, a multiple of 4 channels each (the ring widens four at a time); 0 if none fits."""
    c = p["out"][3]
    window = p["kh"] * p["in"][2] * p["in"][3]
    per = blocked_scratch_bytes(p, 4) // 4  # bytes per channel (a multiple of 4 keeps the rounding exact)
    most = min(c, window // per) // 4 * 4
    if most < 4:
        return 0
    groups = -(-c // most)
    return min(most, (-(-c // groups) + 3) // 4 * 4) if c > most else c


def pack_blocked(p: dict[str, Any], w: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """wpack of evo_depthwise_conv2d_s8_blocked (evo/depthwise_fast.h): per channel {2b x 5, M, T, e},
    then per channel the ten weight words of rows r0 r1 r2 r0 r1, then a pixel of zero points."""
    c = p["out"][3]
    planar = pack_planar(p, w, bias)
    per = planar[: 15 * c].astype(np.int64).reshape(c, 15)  # {2b, 2b, M, T, e, 10 weight words}
    consts = np.concatenate([np.repeat(per[:, :1], 5, axis=1), per[:, 2:5]], axis=1)
    return np.concatenate([consts.reshape(-1), per[:, 5:].reshape(-1), planar[15 * c :]]).astype(np.int32)


def blocked_call(op, p: dict[str, Any], call: KernelCall, w: np.ndarray, bias: np.ndarray | None, mode: int, group: int,
                 lean: KernelCall | None) -> KernelCall | None:
    """The channel-blocked kernel's call with `group` channels per group (its lean variant `lean`),
    or `lean` when no group fits."""
    if group < 1:
        return lean
    qpack = np.array([mode, group, 0, 0], np.int32)
    c = _packed_call(op, call, "evo_depthwise_conv2d_s8_blocked", "dwb", pack_blocked(p, w, bias), qpack,
                     blocked_scratch_bytes(p, group))
    return replace(c, lean=lean)


def m0_scratch_bytes(p: dict[str, Any]) -> int:
    """evo_depthwise_conv2d_s8_m0_get_buffer_size: kh zero-point-padded int8 rows and one zero-point row."""
    need = p["stride_w"] * (p["out"][2] - 1) + p["kw"]
    wp = max(need, p["pad_w"] + p["in"][2])
    return ((p["kh"] + 1) * wp * p["in"][3] + 15) & ~15


def pack_m0(p: dict[str, Any], w: np.ndarray, bias: np.ndarray | None, mode: int) -> tuple[np.ndarray, np.ndarray]:
    """(wpack, qpack) of evo_depthwise_conv2d_s8_m0 (evo/depthwise_fast.h)."""
    kh, kw, c = p["kh"], p["kw"], p["out"][3]
    wk = w.reshape(kh * kw, c).astype(np.int64)
    wpack = wk.T.astype(np.int32).reshape(-1)  # [channel][tap]
    b = np.zeros(c, np.int64) if bias is None else bias.astype(np.int64)
    start = b + p["input_offset"] * wk.sum(axis=0)  # TFLM's int32 sum; |.| < 2^31 by acc_bound
    m = p["multiplier"].astype(np.int64)
    sh = p["shift"].astype(np.int64)
    if mode == MODE_EXACT:
        per = np.stack([start, m, np.zeros(c, np.int64), np.zeros(c, np.int64), sh], axis=1)
    else:
        e = -sh
        t = (1 << (e - 1)) + p["output_offset"] * (1 << e)
        per = np.stack([start, m >> 16, m & 0xFFFF, t, e], axis=1)
    qpack = np.concatenate([np.array([mode, 0, 0, 0], np.int64), per.reshape(-1)]).astype(np.int32)
    return wpack, qpack


def m0_call(g, op, p: dict[str, Any], call: KernelCall) -> KernelCall:
    """The Cortex-M0 kernel's call, or the portable `call` when the shape does not fit it."""
    if not _fits(p):
        return call
    w, bias = _weights_and_bias(g, op)
    bound = acc_bound(p, w, bias)
    if (bound >= _LIM).any():
        return call
    mode = requant_mode(p, bound) if (2 * bound < _LIM).all() else MODE_EXACT
    wpack, qpack = pack_m0(p, w, bias, mode)
    return _packed_call(op, call, "evo_depthwise_conv2d_s8_m0", "dwm", wpack, qpack, m0_scratch_bytes(p))
