"""Bit-sliced binary convolution with bit-packed output (kernels_c/include/evo/bnn_sliced.h): the
filters transposed to one word per field bit and group of 32 output channels, and the bit-sliced
start values that turn the counter's top plane into the output bits. Bit-exact with the other
bconv kernels (same accumulator, accum > threshold)."""
from __future__ import annotations

from typing import Any

import numpy as np

from evo.ops.base import ConstArray, KernelCall, Scratch, TensorArg


def planes(k: int) -> int:
    """Counter planes: 2^(planes-1) >= K + 2 (the start value plus the sum never wraps), >= 6
    (the carry-save tree's ones..eights and sixteens)."""
    return max(6, (k + 1).bit_length() + 1)


def _bits(filt: np.ndarray, cin: int) -> np.ndarray:
    """Packed OHWI filter [Co, KH, KW, words] -> bool [Co, K] in field-bit order (tap-major)."""
    co, kh, kw, nw = filt.shape
    u = np.ascontiguousarray(filt.astype("<i4")).view("<u4").reshape(co, kh * kw, nw)
    bits = (u[..., None] >> np.arange(32, dtype=np.uint32)) & np.uint32(1)
    return bits.reshape(co, kh * kw, nw * 32)[:, :, :cin].reshape(co, -1).astype(bool)


def _slice(lanes: np.ndarray) -> np.ndarray:
    """bool [..., 32] -> uint32 [...] (lane j at bit j)."""
    return (lanes.astype(np.uint64) << np.arange(32, dtype=np.uint64)).sum(-1).astype(np.uint32)


def sliced_table(filt: np.ndarray, cin: int) -> np.ndarray:
    """[groups, K + 1] int32: word b of group g holds bit b of the filters of channels 32 g..32 g + 31;
    word K is 0 (the list's padding)."""
    bits = _bits(filt, cin)
    co, k = bits.shape
    groups = -(-co // 32)
    lanes = np.zeros((groups * 32, k + 1), dtype=bool)
    lanes[:co, :k] = bits
    return _slice(lanes.reshape(groups, 32, k + 1).transpose(0, 2, 1)).view(np.int32)


def sliced_init(filt: np.ndarray, cin: int, threshold: np.ndarray) -> np.ndarray:
    """[groups, 2, planes + 1] int32: bit-sliced U_c = 2^planes + thr_c - P_c and
    V_c = 2^planes - 1 - thr_c - P_c (thr clipped to [-1, K]; padding lanes 0)."""
    bits = _bits(filt, cin)
    co, k = bits.shape
    n = planes(k)
    pop = bits.sum(-1).astype(np.int64)
    thr = np.clip(np.asarray(threshold, np.int64).reshape(-1), -1, k)
    groups = -(-co // 32)
    vals = np.zeros((2, groups * 32), dtype=np.int64)
    vals[0, :co] = (1 << n) + thr - pop
    vals[1, :co] = (1 << n) - 1 - thr - pop
    assert vals.min() >= 0 and vals.max() < 1 << (n + 1)
    lanes = (vals[..., None] >> np.arange(n + 1)) & 1  # [2, groups*32, planes+1]
    lanes = lanes.reshape(2, groups, 32, n + 1).transpose(1, 0, 3, 2)  # [groups, 2, planes+1, 32]
    return _slice(lanes.astype(bool)).view(np.int32)


def scratch_bytes(k: int) -> int:
    """The list (at most K/2 offsets, padded to whole blocks: 4 in the assembly, 16 in the C
    twin) and the counter."""
    return 4 * (k // 2 + 15 + planes(k))


def sliced_call(op, p: dict[str, Any], call: KernelCall, filt: np.ndarray) -> KernelCall:
    k = p["kh"] * p["kw"] * p["cin"]
    params = {key: call.params[key] for key in ("in", "out", "words", "out_words", "kh", "kw", "stride_h", "stride_w", "dil_h", "dil_w", "pad_h", "pad_w")}
    params["planes"] = planes(k)
    args = [TensorArg(op.inputs[0]), ConstArray("sliced", sliced_table(filt, p["cin"])), ConstArray("sliced_init", sliced_init(filt, p["cin"], p["threshold"])),
            TensorArg(op.outputs[0]), Scratch()]
    return KernelCall(func="evo_bconv2d_sliced_bin", sources=["bconv2d_sliced_bin.c"], header="bnn_sliced.h", params_type="evo_bconv2d_sliced_params_t",
                      params=params, args=args, scratch_bytes=scratch_bytes(k))
