"""Generation-time specialisation of int8 CONV_2D and FULLY_CONNECTED for cores with the DSP
extension (Cortex-M4/M7/M33): the kernels of kernels_c/src/conv2d_s8_dsp.c and
fully_connected_s8_dsp.c on the int16 matrix-product engine (kernels_c/include/evo/mm_s16.h,
which documents the weight stream and the requantisation built here).

The stream stores the weights as doubled int16 pairs, about twice the int8 weight bytes; the
bias and requantisation parameters are folded into it (the original bias, multiplier, shift and
weight-sum arrays are not emitted). `specialise_*` return the portable call unchanged when a
layer does not meet the engine's exactness preconditions (right shift >= 1, multiplier > 2^30,
a proven bound |acc| < 2^30), so results stay bit-exact with TFLM everywhere."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from evo.ops.base import ConstArray, KernelCall, Scratch, TensorArg
from evo.target import Target

HEADER = "conv_dsp.h"
ENGINE = "mm_s16.c"


def record_words(steps: int) -> int:
    """int32 words per output-channel pair (evo_mm_record_words)."""
    return 4 + 4 * steps + 7


def engine_exact(w: np.ndarray, bias: np.ndarray, p: dict[str, Any]) -> bool:
    """The engine's requantisation equals TFLM's for every possible input of this layer.
    `w`: [OC, K] weights as TFLM applies them (int8, plus a fully-connected weights offset), `bias`: [OC]."""
    shift = p["shift"].astype(np.int64)
    mult = p["multiplier"].astype(np.int64)
    e = -shift
    if np.any(e < 1) or np.any(e > 31) or np.any(mult <= 1 << 30):
        return False
    off = int(p["input_offset"])
    xmax = max(abs(-128 + off), abs(127 + off))
    bound = np.abs(bias) + np.abs(w.astype(np.int64)).sum(axis=1) * xmax
    rc = (1 << (e - 1)) + int(p["output_offset"]) * (1 << e)
    return bool(np.all(bound < (1 << 30) - 1) and np.all(bound + np.abs(rc) < (1 << 31) - 2))


def build_stream(w: np.ndarray, bias: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """The weight stream of evo/mm_s16.h for [OC, K] weights in [-255, 255]."""
    oc, k = w.shape
    steps = (k + 3) // 4
    pairs = (oc + 1) // 2
    wp = np.zeros((2 * pairs, 4 * steps), dtype=np.int64)
    wp[:oc, :k] = 2 * w.astype(np.int64)
    q = wp.reshape(pairs, 2, steps, 4) & 0xFFFF
    words = q[..., 0:2] | (q[..., 2:4] << 16)  # (pair, channel, step, t): lo = k_t, hi = k_t+2
    words = words.transpose(0, 2, 1, 3).reshape(pairs, 4 * steps)
    b2 = np.zeros(2 * pairs, dtype=np.int64)
    b2[:oc] = 2 * bias
    e = np.zeros(2 * pairs, dtype=np.int64)
    m = np.zeros(2 * pairs, dtype=np.int64)
    e[:oc] = -p["shift"].astype(np.int64)
    m[:oc] = p["multiplier"].astype(np.int64)
    e[oc:] = 1
    rc = (1 << (e - 1)) + int(p["output_offset"]) * (1 << e)
    init = np.stack([b2[0::2], b2[0::2], b2[1::2], b2[1::2]], axis=1)
    quant = np.stack([m[0::2], rc[0::2], e[0::2], m[1::2], rc[1::2], e[1::2]], axis=1)
    more = (np.arange(pairs) + 1 < oc // 2).astype(np.int64)[:, None]
    rec = np.concatenate([init, words, quant, more], axis=1)
    assert rec.shape[1] == record_words(steps)
    return (rec.reshape(-1) & 0xFFFFFFFF).astype(np.uint32).view(np.int32)


def conv_scratch_bytes(p: dict[str, Any]) -> int:
    """evo_conv2d_s8_dsp_scratch_bytes (evo/conv_dsp.h)."""
    steps = (p["kh"] * p["kw"] * p["in"][3] + 3) // 4
    stage = 0 if p["kh"] == 1 and p["kw"] == 1 else 8 * steps
    return 16 * steps + stage


def _bias(g, op, n: int) -> np.ndarray:
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        return g.tensor(op.inputs[2]).data.astype(np.int64).reshape(n)
    return np.zeros(n, dtype=np.int64)


def specialise_conv(g, op, p: dict[str, Any], call: KernelCall, target: Target) -> KernelCall:
    if not target.has_dsp or p["dtype"] != "int8" or call.func != "evo_conv2d_s8":
        return call
    w = g.tensor(op.inputs[1]).data
    oc = int(w.shape[0])
    w2 = w.reshape(oc, -1)
    bias = _bias(g, op, oc)
    if not engine_exact(w2, bias, p):
        return call
    scratch = conv_scratch_bytes(p)
    params = {k: call.params[k] for k in ("in", "out", "kh", "kw", "stride_h", "stride_w", "dil_h", "dil_w", "pad_h", "pad_w",
                                          "input_offset", "act_min", "act_max")}
    params["scratch_bytes"] = scratch
    return replace(call, func="evo_conv2d_s8_dsp", sources=["conv2d_s8_dsp.c", ENGINE], header=HEADER,
                   params_type="evo_conv2d_s8_dsp_params_t", params=params,
                   args=[TensorArg(op.inputs[0]), ConstArray("mm", build_stream(w2, bias, p)), None, TensorArg(op.outputs[0]), Scratch()],
                   scratch_bytes=scratch)


def specialise_fc(g, op, p: dict[str, Any], call: KernelCall, target: Target) -> KernelCall:
    if not target.has_dsp or p["dtype"] != "int8":
        return call
    units = p["units"]
    w = g.tensor(op.inputs[1]).data.astype(np.int64) + int(p["weights_offset"])
    bias = _bias(g, op, units)
    if not engine_exact(w, bias, p):
        return call
    scratch = 16 * ((p["depth"] + 3) // 4)
    params = {k: call.params[k] for k in ("batches", "units", "depth", "input_offset", "act_min", "act_max")}
    params["scratch_bytes"] = scratch
    return replace(call, func="evo_fully_connected_s8_dsp", sources=["fully_connected_s8_dsp.c", ENGINE], header=HEADER,
                   params_type="evo_fully_connected_s8_dsp_params_t", params=params,
                   args=[TensorArg(op.inputs[0]), ConstArray("mm", build_stream(w, bias, p)), TensorArg(op.outputs[0]), Scratch()],
                   scratch_bytes=scratch)
