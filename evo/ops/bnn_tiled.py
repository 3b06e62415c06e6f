"""Cortex-M-tuned binary convolution (kernels_c/include/evo/bnn_tiled.h): output channels in
tiles of four sharing each gathered field word, filters re-laid-out here so the kernel reads
them in order, and per-tap filter popcounts for zero-padding. Bit-exact with the portable
kernels (same accumulator, same output transforms)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from evo.ops.base import ConstArray, KernelCall, Scratch, TensorArg
from evo.target import Target

LANES = 4


def tile_filter(filt: np.ndarray) -> np.ndarray:
    """Packed OHWI filter [Co, KH, KW, words] -> the tiled word order of bnn_tiled.h (int32)."""
    co = filt.shape[0]
    flat = filt.reshape(co, -1).astype(np.int32)
    n = flat.shape[1]
    tiles = -(-co // LANES)
    padded = np.zeros((tiles * LANES, n), dtype=np.int32)  # zero filters in the unused lanes
    padded[:co] = flat
    per = padded.reshape(tiles, LANES, n)
    full = 3 * (n // 3)
    blocks = per[:, :, :full].reshape(tiles, LANES, n // 3, 3).transpose(0, 2, 1, 3).reshape(tiles, -1)  # [block][lane][3]
    tail = per[:, :, full:].transpose(0, 2, 1).reshape(tiles, -1)  # [word][lane]
    return np.concatenate([blocks, tail], axis=1).reshape(-1)


def tap_popcounts(filt: np.ndarray) -> np.ndarray:
    """[Co * KH * KW] int32: set bits of each output channel's filter at each tap."""
    bits = np.unpackbits(np.ascontiguousarray(filt.astype("<u4")).view(np.uint8), axis=-1)
    return bits.reshape(filt.shape[0], filt.shape[1] * filt.shape[2], -1).sum(-1).astype(np.int32).reshape(-1)


def uses_tiled(target: Target) -> bool:
    return target.has_dsp


def specialise_bconv(g, op, p: dict[str, Any], call: KernelCall, target: Target) -> KernelCall:
    if not uses_tiled(target):
        return call
    kind = p["out_kind"]
    filt = g.tensor(op.inputs[1]).data
    args = [TensorArg(op.inputs[0]), ConstArray("tiled", tile_filter(filt))]
    if kind != "bin":
        args.append(ConstArray("tap_pop", tap_popcounts(filt)) if p["pad_value"] == 0 else None)
    args += [TensorArg(op.outputs[0]), Scratch()]
    return replace(call, func=f"evo_bconv2d_tiled_{kind}", sources=[f"bconv2d_tiled_{kind}.c"], header="bnn_tiled.h",
                   args=args, scratch_bytes=4 * p["kh"] * p["kw"] * p["words"])
