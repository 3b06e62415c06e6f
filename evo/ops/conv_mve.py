"""Generation-time specialisation of int8 CONV_2D and FULLY_CONNECTED for cores with the
M-profile Vector Extension (Helium, Cortex-M55): the int8 matrix-product kernels of
kernels_c/src/conv2d_s8_mve.c and fully_connected_s8_mve.c. evo/mve.h documents the chunked
weight layout and the per-group requantisation record built here.

Unlike the DSP engine (evo/ops/conv_dsp.py) this path has no exactness preconditions: the int8
weights stay int8 (flash grows only by the padding to 4 channels x 16 depths), the input offset
is folded into the bias modulo 2^32 (int32 sums wrap, so the final sum is TFLM's), and the
vector requantisation is TFLM's for every multiplier and shift. The only case left to the other
kernels is a per-tensor FULLY_CONNECTED weights offset that takes a weight outside int8."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from evo.ops.base import ConstArray, KernelCall, Scratch, TensorArg
from evo.ref import fixedpoint as fx
from evo.target import Target

HEADER = "mve.h"
QUANT_WORDS = 24  # EVO_MVE_QUANT_WORDS


def _groups(chans: np.ndarray) -> np.ndarray:
    """Channel indices in groups of four; a last partial group repeats its first channel."""
    if len(chans) % 4:
        chans = np.concatenate([chans, np.full(4 - len(chans) % 4, chans[4 * (len(chans) // 4)])])
    return chans.reshape(-1, 4)


def _int32(a: np.ndarray) -> np.ndarray:
    return (np.asarray(a, dtype=np.int64) & 0xFFFFFFFF).astype(np.uint32).view(np.int32)


def layout(w: np.ndarray, bias: np.ndarray, p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """[OC, K] weights (as TFLM applies them, within int8) -> (the chunked int8 weights of the
    computed channels, the int32 `quant` array of evo/mve.h). All-zero channels become constants:
    requant(bias) + output offset, clamped, as TFLM computes them."""
    oc, k = w.shape
    shift = np.broadcast_to(np.asarray(p["shift"], dtype=np.int64), (oc,))
    mult = np.broadcast_to(np.asarray(p["multiplier"], dtype=np.int64), (oc,))
    zero = ~np.any(w != 0, axis=1)
    live, const = np.flatnonzero(~zero), np.flatnonzero(zero)
    head = [0, 0]
    recs: list[np.ndarray] = []
    chunks = (k + 15) // 16
    wv = np.zeros((1,), dtype=np.int8)  # no computed channel: a placeholder (C has no empty arrays)
    if len(live):
        g = _groups(live)
        head[0] = len(g)
        folded = bias[g] + int(p["input_offset"]) * w.astype(np.int64)[g].sum(axis=2)
        fields = [folded, mult[g], np.maximum(shift[g], 0), np.minimum(shift[g], 0), np.where(shift[g] < 0, -1, 0), g]
        recs.append(np.stack(fields, axis=1).reshape(-1))  # per group: six fields of four lanes
        padded = np.zeros((len(g), 4, chunks * 16), dtype=np.int8)
        padded[:, :, :k] = w[g]
        wv = padded.reshape(len(g), 4, chunks, 16).transpose(0, 2, 1, 3).reshape(-1).copy()
    if len(const):
        g = _groups(const)
        head[1] = len(g)
        out = fx.multiply_by_quantized_multiplier(fx.wrap_int32(bias[g]), mult[g], shift[g])
        out = np.clip(out + int(p["output_offset"]), int(p["act_min"]), int(p["act_max"]))
        recs.append(np.stack([out, g], axis=1).reshape(-1))
    return wv, _int32(np.concatenate([np.array(head, dtype=np.int64)] + recs))


def _bias(g, op, n: int) -> np.ndarray:
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        return g.tensor(op.inputs[2]).data.astype(np.int64).reshape(n)
    return np.zeros(n, dtype=np.int64)


def conv_scratch_bytes(p: dict[str, Any], pad_h: int, pad_w: int) -> int:
    """The im2col row (evo_conv2d_s8_mve_params_t.scratch_bytes): none for an unpadded 1x1."""
    if p["kh"] == 1 and p["kw"] == 1 and pad_h == 0 and pad_w == 0:
        return 0
    return (p["kh"] * p["kw"] * p["in"][3] + 3) & ~3


def _lean(call: KernelCall, otherwise: KernelCall) -> KernelCall | None:
    """The MVE call's lean variant: the DSP kernels (M55 has the DSP extension too), whose own lean
    variants include row functions for fused row-streamed groups; None when there are none."""
    return otherwise if otherwise is not call else None


def specialise_conv(g, op, p: dict[str, Any], call: KernelCall, target: Target, otherwise: KernelCall) -> KernelCall:
    """The MVE call for an int8 CONV_2D on an MVE core; `otherwise` (e.g. the DSP call) elsewhere."""
    if not target.has_mve or p["dtype"] != "int8" or call.func != "evo_conv2d_s8":
        return otherwise
    w = g.tensor(op.inputs[1]).data
    oc = int(w.shape[0])
    w2 = w.reshape(oc, -1)
    geo = {k: call.params[k] for k in ("in", "out", "kh", "kw", "stride_h", "stride_w", "dil_h", "dil_w", "pad_h", "pad_w")}
    scratch = conv_scratch_bytes(p, geo["pad_h"], geo["pad_w"])
    params = {**geo, "pad_value": -int(p["input_offset"]), "output_offset": int(p["output_offset"]),
              "act_min": int(p["act_min"]), "act_max": int(p["act_max"]), "scratch_bytes": scratch}
    wv, quant = layout(w2, _bias(g, op, oc), p)
    return replace(call, func="evo_conv2d_s8_mve", sources=["conv2d_s8_mve.c"], header=HEADER,
                   params_type="evo_conv2d_s8_mve_params_t", params=params,
                   args=[TensorArg(op.inputs[0]), ConstArray("wv", wv), ConstArray("qv", quant), TensorArg(op.outputs[0]),
                         Scratch()],  # NULL when scratch_bytes is 0; the row-streaming wrapper's window
                   scratch_bytes=scratch, lean=_lean(call, otherwise))


def specialise_fc(g, op, p: dict[str, Any], call: KernelCall, target: Target, otherwise: KernelCall) -> KernelCall:
    """The MVE call for an int8 FULLY_CONNECTED on an MVE core; `otherwise` elsewhere."""
    if not target.has_mve or p["dtype"] != "int8" or call.func != "evo_fully_connected_s8":
        return otherwise
    w = g.tensor(op.inputs[1]).data.astype(np.int64) + int(p["weights_offset"])
    if w.min(initial=0) < -128 or w.max(initial=0) > 127:
        return otherwise  # the offset weights no longer fit the int8 lanes
    units = p["units"]
    params = {"batches": p["batches"], "units": units, "depth": p["depth"], "output_offset": int(p["output_offset"]),
              "act_min": int(p["act_min"]), "act_max": int(p["act_max"])}
    wv, quant = layout(w.astype(np.int8), _bias(g, op, units), p)
    return replace(call, func="evo_fully_connected_s8_mve", sources=["fully_connected_s8_mve.c"], header=HEADER,
                   params_type="evo_fully_connected_s8_mve_params_t", params=params,
                   args=[TensorArg(op.inputs[0]), ConstArray("wv", wv), ConstArray("qv", quant), TensorArg(op.outputs[0])],
                   scratch_bytes=0, lean=_lean(call, otherwise))


def depthwise_quant(w: np.ndarray, bias: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """[taps, C] depthwise weights -> per group of four channels: bias + input_offset * sum of the
    channel's taps (mod 2^32), multiplier, left shift, -right shift, fix mask (evo/mve.h)."""
    c = w.shape[1]
    cpad = (c + 3) & ~3
    shift = np.broadcast_to(np.asarray(p["shift"], dtype=np.int64), (c,))
    fields = np.zeros((5, cpad), dtype=np.int64)
    fields[0, :c] = bias + int(p["input_offset"]) * w.astype(np.int64).sum(axis=0)
    fields[1, :c] = np.broadcast_to(np.asarray(p["multiplier"], dtype=np.int64), (c,))
    fields[2, :c] = np.maximum(shift, 0)
    fields[3, :c] = np.minimum(shift, 0)
    fields[4, :c] = np.where(shift < 0, -1, 0)
    return _int32(fields.reshape(5, cpad // 4, 4).transpose(1, 0, 2).reshape(-1))


def specialise_depthwise(g, op, p: dict[str, Any], call: KernelCall, target: Target, otherwise: KernelCall) -> KernelCall | None:
    """The MVE call for an int8 DEPTHWISE_CONV_2D with depth multiplier 1 on an MVE core, else None.
    Its lean variant (no window scratch: border pixels test every tap) is what memory-first takes
    where the scratch would raise the arena, then `otherwise` (the DSP kernels)."""
    # Fewer than 16 channels: the per-pixel work outweighs four-lane vectors (VWW's first
    # depthwise, 8 channels: the DSP tap-pair kernel takes 0.6x the instructions).
    if (not target.has_mve or p["dtype"] != "int8" or call.func != "evo_depthwise_conv2d_s8"
            or p["depth_multiplier"] != 1 or p["in"][3] < 16):
        return None
    w = g.tensor(op.inputs[1]).data
    c = int(w.shape[3])
    taps = w.reshape(-1, c)
    wpad = np.zeros((taps.shape[0], (c + 3) & ~3), dtype=np.int8)
    wpad[:, :c] = taps
    grouped = wpad.reshape(len(taps), -1, 4).transpose(1, 0, 2).reshape(-1).copy()  # [group][tap][4]
    geo = {k: call.params[k] for k in ("in", "out", "kh", "kw", "stride_h", "stride_w", "dil_h", "dil_w", "pad_h", "pad_w")}
    params = {**geo, "pad_value": -int(p["input_offset"]), "output_offset": int(p["output_offset"]),
              "act_min": int(p["act_min"]), "act_max": int(p["act_max"])}
    scratch = (len(taps) * c + 3) & ~3
    args = [TensorArg(op.inputs[0]), ConstArray("wv", grouped), ConstArray("qv", depthwise_quant(taps, _bias(g, op, c), p)),
            TensorArg(op.outputs[0]), Scratch()]
    fast = replace(call, func="evo_depthwise_conv2d_s8_mve", sources=["depthwise_conv2d_s8_mve.c"], header=HEADER,
                   params_type="evo_depthwise_conv2d_s8_mve_params_t", params={**params, "scratch_bytes": scratch},
                   args=args, scratch_bytes=scratch, lean=None)
    return replace(fast, lean=replace(fast, params={**params, "scratch_bytes": 0}, scratch_bytes=0, lean=_lean(call, otherwise)))
