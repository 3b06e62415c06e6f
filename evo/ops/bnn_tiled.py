"""Cortex-M-tuned binary convolution (kernels_c/include/evo/bnn_tiled.h): one gathered field
per output pixel (taps of <= 16 channels packed several to a word), output channels in pairs
sharing each field word, filters re-laid-out here so the kernel reads them in order, and
per-tap filter popcounts for zero-padding. Bit-exact with the portable kernels (same
accumulator, same output transforms)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from evo.ops.base import ConstArray, KernelCall, Scratch, TensorArg
from evo.ops.bnn_sliced import sliced_call
from evo.target import Target

LANES = 2


def tap_pack(cin: int) -> int:
    """Taps per field word: several when a tap's channels fit in half a word, else 0 (one tap
    per `words` words)."""
    return 32 // cin if cin <= 16 else 0


def field_words(cin: int, taps: int, words: int) -> int:
    """Gathered field length in words: whole blocks of three and possibly a two-word tail (3k + 1
    words, or fewer than 3, are rounded up to the next block)."""
    pack = tap_pack(cin)
    n = -(-taps // pack) if pack else taps * words
    return n if n > 3 and n % 3 == 2 else 3 * -(-n // 3)


def field_filter(filt: np.ndarray, cin: int) -> np.ndarray:
    """Packed OHWI filter [Co, KH, KW, words] -> [Co, field_words] uint32, laid out as the kernel
    gathers the field (taps packed by tap_pack, zero words at the end)."""
    co, kh, kw, nw = filt.shape
    taps = kh * kw
    flat = filt.reshape(co, taps, nw).astype(np.int64) & 0xFFFFFFFF
    out = np.zeros((co, field_words(cin, taps, nw)), dtype=np.uint64)
    pack = tap_pack(cin)
    if pack:
        for t in range(taps):
            out[:, t // pack] |= (flat[:, t, 0].astype(np.uint64) & np.uint64((1 << cin) - 1)) << np.uint64((t % pack) * cin)
    else:
        out[:, : taps * nw] = flat.reshape(co, -1).astype(np.uint64)
    return out.astype(np.uint32)


def tile_filter(filt: np.ndarray, cin: int) -> np.ndarray:
    """Packed OHWI filter -> the paired word order of bnn_tiled.h (int32): per pair of output
    channels [block][lane][3], then the tail [lane][field_words % 3] (a zero filter pairs an odd
    last channel)."""
    fw = field_filter(filt, cin)
    co, n = fw.shape
    pairs, full = -(-co // LANES), 3 * (n // 3)
    padded = np.zeros((pairs * LANES, n), dtype=np.uint32)
    padded[:co] = fw
    per = padded.reshape(pairs, LANES, n)
    blocks = per[:, :, :full].reshape(pairs, LANES, n // 3, 3).transpose(0, 2, 1, 3).reshape(pairs, -1)  # [pair][block][lane][3]
    tail = per[:, :, full:].reshape(pairs, -1)  # [pair][lane][n % 3]
    return np.concatenate([blocks, tail], axis=1).reshape(-1).view(np.int32)


def tap_popcounts(filt: np.ndarray) -> np.ndarray:
    """[Co * KH * KW] int32: set bits of each output channel's filter at each tap."""
    bits = np.unpackbits(np.ascontiguousarray(filt.astype("<u4")).view(np.uint8), axis=-1)
    return bits.reshape(filt.shape[0], filt.shape[1] * filt.shape[2], -1).sum(-1).astype(np.int32).reshape(-1)


def row_blocks(p: dict[str, Any]) -> int:
    """Blocks per row of filter taps when a row is whole blocks (padded rows are then skipped),
    else 0."""
    row = p["kw"] * p["words"]
    return row // 3 if not tap_pack(p["cin"]) and row % 3 == 0 else 0


def edge_blocks(p: dict[str, Any]) -> int:
    """1 when one padded tap covers a whole block (>= 3 words a tap): a row's first or last
    block can then be skipped at the left or right border."""
    return int(bool(row_blocks(p)) and p["words"] >= 3)


def row_popcounts(filt: np.ndarray, edges: bool) -> np.ndarray:
    """Set bits of each output channel's filter in each row of taps, [KH, Co] (a skipped row's
    counts are contiguous), then with `edges` those of each row's first and last block of three
    words: [3, KH, Co] int32."""
    co, kh = filt.shape[0], filt.shape[1]
    rows = filt.reshape(co, kh, -1).astype("<u4")
    pop = lambda w: np.unpackbits(np.ascontiguousarray(w).view(np.uint8), axis=-1).reshape(co, kh, -1).sum(-1).T  # noqa: E731
    tables = [pop(rows)] + ([pop(rows[:, :, :3]), pop(rows[:, :, -3:])] if edges else [])
    return np.stack(tables).astype(np.int32).reshape(-1)


def uses_tiled(target: Target) -> bool:
    return target.has_dsp


def uses_sliced(p: dict[str, Any]) -> bool:
    """Bit-packed output with most lanes of its groups of 32 channels used: the bit-sliced kernel
    (evo/bnn_sliced.h, the tiled one as its lean variant). Its cost per group is fixed (at most K/2
    table words a pixel) while the tiled kernel's grows with the channels; measured on M4F with
    half the input bits set (the bit-sliced kernel's worst case) it is the faster one from about
    10 + 12 * groups channels (22 for one group, 34 for two), and sparser inputs favour it more."""
    return p["out_kind"] == "bin" and p["co"] >= 10 + 12 * -(-p["co"] // 32)


def specialise_bconv(g, op, p: dict[str, Any], call: KernelCall, target: Target) -> KernelCall:
    if not uses_tiled(target):
        return call
    kind = p["out_kind"]
    filt = g.tensor(op.inputs[1]).data
    rows, edges = row_blocks(p), edge_blocks(p)
    args = [TensorArg(op.inputs[0]), ConstArray("tiled", tile_filter(filt, p["cin"])), ConstArray("row_pop", row_popcounts(filt, bool(edges))) if rows else None]
    if kind != "bin":
        args.append(ConstArray("tap_pop", tap_popcounts(filt)) if p["pad_value"] == 0 else None)
    args += [TensorArg(op.outputs[0]), Scratch()]
    fwords = field_words(p["cin"], p["kh"] * p["kw"], p["words"])
    params = {**call.params, "tap_pack": tap_pack(p["cin"]), "field_words": fwords, "row_blocks": rows, "edge_blocks": edges}
    if kind == "bin":  # counts lie in [0, K]: thresholds outside [-1, K] act as -1 or K (keeps threshold - count in int32)
        k = p["kh"] * p["kw"] * p["cin"]
        params["threshold"] = ConstArray("threshold", np.clip(p["threshold"].astype(np.int64), -1, k).astype(np.int32))
    tiled = replace(call, func=f"evo_bconv2d_tiled_{kind}", sources=[f"bconv2d_tiled_{kind}.c"], header="bnn_tiled.h",
                    params=params, args=args, scratch_bytes=4 * (fwords + LANES * -(-p["co"] // LANES)))
    if uses_sliced(p):  # the tiled kernel needs less scratch: the memory policy's fallback
        return replace(sliced_call(op, p, call, filt), lean=tiled)
    return tiled
