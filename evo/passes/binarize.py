"""Recognise binary layers in models from the stock TensorFlow converter and rewrite them into
EVO's bit-packed binary operators (evo/ops/bnn.py).

Larq's `ste_sign` converts (stock converter, float model) to `SIGN -> ADD(+c, c > 0) -> SIGN`,
which maps x to +1 for x >= 0 and -1 for x < 0: exactly LceQuantize's bit (set <=> x < 0). A
binary layer then is

    sign chain -> [PADV2 with constant 1.0] -> CONV_2D (weights +-alpha[c], float)
    sign chain -> FULLY_CONNECTED (weights +-alpha[u], float)

(LCE itself leaves binary dense layers as `LceQuantize -> LceDequantize -> FULLY_CONNECTED`,
which is recognised too). The rewrite:

    x -> LceQuantize -> packed -> LceBconv2d(pad_values=1, SAME when PADV2 supplied exactly
                                   SAME's padding, else VALID; multiplier = alpha, bias)
    x -> LceQuantize -> packed -> EvoBFullyConnected(multiplier = alpha, bias)

Each new op writes the original layer's output tensor, so the graph's outputs and every other
tensor keep their indices; ops left without a consumer (the sign chain, PADV2, LceDequantize)
are removed. The float result is alpha * (K - 2 * popcount) + bias, equal to the float layer
up to float rounding of its sum.
"""
from __future__ import annotations

import numpy as np

from evo.ir import Graph, Op, Tensor
from evo.ops.bnn import pack_bits, words
from evo.ops.conv import compute_out_size, compute_padding
from evo.errors import EvoError
from evo.passes import binarize_int8, bitpack_fuse


def _const(g: Graph, i: int):
    return g.tensor(i).data if i >= 0 and g.tensor(i).is_const else None


def _alpha(w: np.ndarray) -> np.ndarray | None:
    """Per-output-channel magnitude when every weight of a channel is +-alpha (alpha > 0)."""
    w2 = np.asarray(w, dtype=np.float32).reshape(w.shape[0], -1)
    a = np.abs(w2)
    alpha = a[:, 0]
    if not np.all(alpha > 0) or not np.all(a == alpha[:, None]):
        return None
    return alpha.astype(np.float32)


class _Rewriter:
    def __init__(self, g: Graph):
        self.g = g
        self.producer = {t: op for op in g.ops for t in op.outputs}
        self.packed: dict = {}  # float tensor x (or (int8 x, threshold)) -> packed tensor of its sign bits
        self.new_ops: dict[int, list[Op]] = {}  # index of the op being replaced -> ops to emit instead
        self.replaced: set[int] = set()

    def add_tensor(self, name: str, shape, dtype: str, data=None) -> int:
        t = Tensor(index=len(self.g.tensors), name=name, shape=tuple(int(d) for d in shape), dtype=dtype, data=data)
        self.g.tensors.append(t)
        return t.index

    def sign_source(self, t: int) -> int | None:
        """If tensor t is ste_sign(x) (or LceDequantize(LceQuantize(x))), return x."""
        g = self.g
        op = self.producer.get(t)
        if op is None:
            return None
        if op.type == "CUSTOM:LceDequantize":
            q = self.producer.get(op.inputs[0])
            if q is not None and q.type == "CUSTOM:LceQuantize" and g.tensor(q.inputs[0]).dtype == "float32" and g.tensor(t).dtype == "float32":
                return q.inputs[0]
            return None
        if op.type != "SIGN" or g.tensor(t).dtype != "float32":
            return None
        add = self.producer.get(op.inputs[0])
        if add is None or add.type != "ADD" or add.attrs.get("fused_activation_function", "NONE") != "NONE":
            return None
        c = _const(g, add.inputs[1])
        if c is None or c.size != 1 or not (0 < float(c.reshape(-1)[0]) < 1):
            return None
        s1 = self.producer.get(add.inputs[0])
        if s1 is None or s1.type != "SIGN":
            return None
        return s1.inputs[0]

    def packed_of(self, x: int, before: Op) -> tuple[int, Op | None]:
        if x in self.packed:
            return self.packed[x], None
        xt = self.g.tensor(x)
        c = int(xt.shape[-1])
        p = self.add_tensor(f"{xt.name}/bitpacked", tuple(xt.shape[:-1]) + (words(c),), "int32")
        self.packed[x] = p
        return p, Op(index=-1, type="CUSTOM:LceQuantize", inputs=[x], outputs=[p])

    def packed_int8(self, x: int, threshold: int) -> tuple[int, Op | None]:
        """Packed sign bits of int8 tensor x: bit set <=> x < threshold (see binarize_int8)."""
        key = (x, threshold)
        if key in self.packed:
            return self.packed[key], None
        xt = self.g.tensor(x)
        p = self.add_tensor(f"{xt.name}/bitpacked", tuple(xt.shape[:-1]) + (words(int(xt.shape[-1])),), "int32")
        self.packed[key] = p
        return p, Op(index=-1, type="CUSTOM:LceQuantize", inputs=[x], outputs=[p], attrs={"threshold": int(threshold)})

    def conv(self, op: Op) -> None:
        g = self.g
        if op.attrs.get("fused_activation_function", "NONE") != "NONE" or g.tensor(op.outputs[0]).dtype != "float32":
            return
        w = _const(g, op.inputs[1])
        if w is None or w.dtype != np.float32:
            return
        alpha = _alpha(w)
        if alpha is None:
            return
        src = op.inputs[0]
        pad_op = self.producer.get(src)
        padding = op.attrs.get("padding", "VALID")
        if pad_op is not None and pad_op.type == "PADV2":
            pv, pads = _const(g, pad_op.inputs[2]) if len(pad_op.inputs) > 2 else None, _const(g, pad_op.inputs[1])
            if pv is None or pads is None or float(pv.reshape(-1)[0]) != 1.0 or padding != "VALID":
                return
            inner = pad_op.inputs[0]
            it = g.tensor(inner)
            pads = pads.reshape(-1, 2)
            if len(it.shape) != 4 or pads[0].any() or pads[3].any():
                return
            kh, kw = int(w.shape[1]), int(w.shape[2])
            sh, sw = int(op.attrs.get("stride_h", 1)), int(op.attrs.get("stride_w", 1))
            dh, dw = int(op.attrs.get("dilation_h_factor", 1)), int(op.attrs.get("dilation_w_factor", 1))
            ok = True
            for axis, k, s, d in ((1, kh, sh, dh), (2, kw, sw, dw)):
                n = int(it.shape[axis])
                out = compute_out_size("SAME", n, k, s, d)
                lead = compute_padding(s, d, n, k, out)
                total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
                if out != g.tensor(op.outputs[0]).shape[axis] or int(pads[axis][0]) != lead or int(pads[axis][1]) != total - lead:
                    ok = False
            if not ok:
                return
            padding, src = "SAME", inner
        elif padding != "VALID":
            return  # a SAME conv on +-1 would pad with 0: not a binary layer as written
        x = self.sign_source(src)
        if x is None or len(g.tensor(x).shape) != 4:
            return
        packed, qop = self.packed_of(x, op)
        cin = int(w.shape[3])
        filt = pack_bits(w < 0)  # [Co, KH, KW, words]
        wt = self.add_tensor(f"{g.tensor(op.inputs[1]).name}/bitpacked", filt.shape, "int32", filt)
        mt = self.add_tensor(f"op{op.index}/multiplier", alpha.shape, "float32", alpha)
        b = _const(g, op.inputs[2]) if len(op.inputs) > 2 else None
        bias = (b.astype(np.float32) if b is not None else np.zeros_like(alpha)).reshape(-1)
        bt = self.add_tensor(f"op{op.index}/bias", bias.shape, "float32", bias)
        attrs = dict(channels_in=cin, padding=padding, pad_values=1, stride_height=int(op.attrs.get("stride_h", 1)),
                     stride_width=int(op.attrs.get("stride_w", 1)), dilation_height_factor=int(op.attrs.get("dilation_h_factor", 1)),
                     dilation_width_factor=int(op.attrs.get("dilation_w_factor", 1)), fused_activation_function=0, binarized_from=op.type)
        new = Op(index=-1, type="CUSTOM:LceBconv2d", inputs=[packed, wt, mt, bt, -1], outputs=list(op.outputs), attrs=attrs)
        self.new_ops[op.index] = ([qop] if qop else []) + [new]

    def fc(self, op: Op) -> None:
        g = self.g
        if op.attrs.get("fused_activation_function", "NONE") != "NONE" or g.tensor(op.outputs[0]).dtype != "float32":
            return
        w = _const(g, op.inputs[1])
        if w is None or w.dtype != np.float32 or w.ndim != 2:
            return
        alpha = _alpha(w)
        x = self.sign_source(op.inputs[0])
        if alpha is None or x is None or int(g.tensor(x).shape[-1]) != int(w.shape[1]):
            return
        packed, qop = self.packed_of(x, op)
        wp = pack_bits(w < 0)
        wt = self.add_tensor(f"{g.tensor(op.inputs[1]).name}/bitpacked", wp.shape, "int32", wp)
        mt = self.add_tensor(f"op{op.index}/multiplier", alpha.shape, "float32", alpha)
        b = _const(g, op.inputs[2]) if len(op.inputs) > 2 else None
        bias = (b.astype(np.float32) if b is not None else np.zeros_like(alpha)).reshape(-1)
        bt = self.add_tensor(f"op{op.index}/bias", bias.shape, "float32", bias)
        new = Op(index=-1, type="CUSTOM:EvoBFullyConnected", inputs=[packed, wt, mt, bt, -1], outputs=list(op.outputs),
                 attrs=dict(channels=int(w.shape[1]), fused_activation_function="NONE", binarized_from=op.type))
        self.new_ops[op.index] = ([qop] if qop else []) + [new]


def _remove_dead(g: Graph) -> None:
    keep = set(g.outputs)
    alive: list[Op] = []
    for op in reversed(g.ops):
        if any(t in keep for t in op.outputs):
            alive.append(op)
            keep.update(t for t in op.inputs if t >= 0)
    g.ops = list(reversed(alive))


def _int8_binary_candidate(g: Graph, op: Op) -> bool:
    """Cheap pre-check: an int8 CONV_2D / FULLY_CONNECTED with at least 8 weights per output
    channel (fewer are trivially '+-w') whose weights might be binary."""
    if op.type not in ("CONV_2D", "FULLY_CONNECTED") or len(op.inputs) < 2 or g.tensor(op.inputs[0]).dtype != "int8":
        return False
    w = g.tensor(op.inputs[1])
    return w.is_const and w.dtype == "int8" and w.data.ndim >= 2 and w.data.size // max(1, w.data.shape[0]) >= 8


def run(g: Graph) -> Graph:
    """Rewrite stock-converter binary layers of `g` in place; returns `g` (unchanged when none)."""
    int8_ops = {op.index for op in g.ops if _int8_binary_candidate(g, op)}
    if not int8_ops and not any(op.type in ("SIGN", "CUSTOM:LceDequantize") for op in g.ops):
        return bitpack_fuse.run(g)
    r = _Rewriter(g)
    for op in g.ops:
        try:
            if op.index in int8_ops:
                if op.type == "CONV_2D":
                    binarize_int8.conv(r, op)
                else:
                    binarize_int8.fc(r, op)
            elif op.type == "CONV_2D":
                r.conv(op)
            elif op.type == "FULLY_CONNECTED":
                r.fc(op)
        except (ValueError, IndexError, TypeError, KeyError, EvoError):
            # inconsistent shapes (a corrupt file): leave the layer as it is; the operator's own
            # check reports the problem cleanly
            r.new_ops.pop(op.index, None)
    if r.new_ops:
        ops: list[Op] = []
        for op in g.ops:
            ops.extend(r.new_ops.get(op.index, [op]))
        g.ops = ops
        _remove_dead(g)
        for i, op in enumerate(g.ops):
            op.index = i
    return bitpack_fuse.run(g)
