"""Generation-time specialisation of int8 ADD and MUL (same-shape inputs) for cores with the DSP
extension: kernels_c/src/add_s8_dsp.c (two table loads, one SMMLAR and a shift per element,
evo/add_dsp.h) and mul_s8_dsp.c (one multiply, one SMMLAR and a shift, evo/mul_dsp.h).

ADD: each input's rescaled value depends on one int8 value, so it is tabulated here with TFLM's
own arithmetic (2 KB of flash per ADD). Both kernels' output stage is checked on all 65,536 input
pairs against TFLM's arithmetic; any difference, or parameters outside the kernels' range, keeps
the portable kernel."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from evo.ops.base import ConstArray, KernelCall, TensorArg
from evo.ref import fixedpoint as fx
from evo.target import Target

TABLE_BYTES = 2 * 256 * 4
FLASH_RESERVE = 64 * 1024  # as evo/ops/conv_dsp.py: flash left for code and everything else


def _rescaled(values: np.ndarray, offset: int, multiplier: int, shift: int, left_shift: int) -> np.ndarray:
    x = (values.astype(np.int64) + offset) * (1 << left_shift)
    return fx.multiply_by_quantized_multiplier_smaller_than_one_exp(x, multiplier, shift).astype(np.int64)


def _smmlar(a: np.ndarray, b: int, acc: np.ndarray) -> np.ndarray:
    """SMMLAR without the 64-bit overflow of acc * 2^32 (acc is added after the shift)."""
    return acc + ((a.astype(np.int64) * b + (1 << 31)) >> 32)


def add_table_params(p: dict[str, Any]) -> tuple[np.ndarray, dict[str, int]] | None:
    """The kernel's table (int32[512]) and parameters, or None where it would not be bit-exact."""
    e = -int(p["output_shift"])
    m = int(p["output_multiplier"])
    zo = int(p["output_offset"])
    if p["dtype"] != "int8" or p["left_shift"] != 20 or not (1 <= e <= 31) or m <= 0:
        return None
    rc = (1 << (e - 1)) + zo * (1 << e)
    if not -(1 << 31) <= rc - 1 < rc < (1 << 31) - (1 << 29):
        return None
    byte = np.arange(256)
    value = np.where(byte < 128, byte, byte - 256)  # table index: the byte's unsigned value
    y1 = _rescaled(value, p["input1_offset"], p["input1_multiplier"], p["input1_shift"], 20)
    y2 = _rescaled(value, p["input2_offset"], p["input2_multiplier"], p["input2_shift"], 20)
    raw = (y1[:, None] + y2[None, :]).reshape(-1)
    if np.abs(2 * raw).max() >= 1 << 30:
        return None
    raw2 = 2 * raw
    got = _smmlar(raw2, m, rc + (raw2 < 0) * -1) >> e
    want = fx.multiply_by_quantized_multiplier_smaller_than_one_exp(fx.wrap_int32(raw), m, int(p["output_shift"])) + zo
    lo, hi = int(p["act_min"]), int(p["act_max"])
    if not np.array_equal(np.clip(got, lo, hi), np.clip(want, lo, hi)):
        return None
    table = np.concatenate([2 * y1, 2 * y2]).astype(np.int32)
    return table, {"multiplier": m, "rc": rc, "shift": e, "act_min": lo, "act_max": hi}


def specialise_add(g, op, p: dict[str, Any], call: KernelCall, target: Target) -> KernelCall:
    if not target.has_dsp or p["dtype"] != "int8" or call.func != "evo_add_s8":
        return call
    shapes = {tuple(g.tensor(i).shape) for i in (op.inputs[0], op.inputs[1], op.outputs[0])}
    if len(shapes) != 1:  # broadcasting keeps the portable kernel
        return call
    if target.flash_bytes is not None and TABLE_BYTES + FLASH_RESERVE > target.flash_bytes:
        return call
    made = add_table_params(p)
    if made is None:
        return call
    table, params = made
    params = {"size": int(g.tensor(op.outputs[0]).size), **params}
    return replace(call, func="evo_add_s8_dsp", sources=["add_s8_dsp.c"], header="add_dsp.h",
                   params_type="evo_add_s8_dsp_params_t", params=params,
                   args=[TensorArg(op.inputs[0]), TensorArg(op.inputs[1]), ConstArray("add_table", table),
                         TensorArg(op.outputs[0])])


def mul_params(p: dict[str, Any]) -> dict[str, int] | None:
    """evo_mul_s8_dsp's parameters, or None where it would not be bit-exact."""
    e = -int(p["output_shift"])
    m = int(p["output_multiplier"])
    zo = int(p["output_offset"])
    if p["dtype"] != "int8" or not (1 <= e <= 31) or m <= 0:
        return None
    rc = (1 << (e - 1)) + zo * (1 << e)
    if not -(1 << 31) <= rc - 1 < rc < (1 << 31) - (1 << 17):
        return None
    v = np.arange(-128, 128, dtype=np.int64)
    prod = ((v + int(p["input1_offset"]))[:, None] * (v + int(p["input2_offset"]))[None, :]).reshape(-1)
    x2 = 2 * prod
    got = _smmlar(x2, m, rc - (x2 < 0)) >> e
    want = fx.wrap_int32(fx.multiply_by_quantized_multiplier(prod, m, int(p["output_shift"])) + zo)
    lo, hi = int(p["act_min"]), int(p["act_max"])
    if not np.array_equal(np.clip(got, lo, hi), np.clip(want, lo, hi)):
        return None
    return {"input1_offset": int(p["input1_offset"]), "input2_offset": int(p["input2_offset"]), "multiplier": m, "rc": rc,
            "shift": e, "act_min": lo, "act_max": hi}


def specialise_mul(g, op, p: dict[str, Any], call: KernelCall, target: Target) -> KernelCall:
    if not target.has_dsp or p["dtype"] != "int8" or call.func != "evo_mul_s8":
        return call
    if len({tuple(g.tensor(i).shape) for i in (op.inputs[0], op.inputs[1], op.outputs[0])}) != 1:
        return call  # broadcasting keeps the portable kernel
    params = mul_params(p)
    if params is None:
        return call
    return replace(call, func="evo_mul_s8_dsp", sources=["mul_s8_dsp.c"], header="mul_dsp.h",
                   params_type="evo_mul_s8_dsp_params_t", params={"size": int(g.tensor(op.outputs[0]).size), **params},
                   args=[TensorArg(op.inputs[0]), TensorArg(op.inputs[1]), TensorArg(op.outputs[0])])
