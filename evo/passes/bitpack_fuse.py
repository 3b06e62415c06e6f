"""Keep binary activations bit-packed: move LceQuantize up the graph and fold it into the binary
layer that feeds it, so that no float/int8 activation is materialised between binary layers.

    LceQuantize(MAX_POOL_2D(u))  == LceBMaxPool2d(LceQuantize(u))   (the sign of a max is the AND of
                                                                    the "negative" bits)
    LceQuantize(RESHAPE(u))      == RESHAPE(LceQuantize(u))         (both last dims multiples of 32,
                                                                    so words never straddle rows)
    LceQuantize(binary layer with float/int8 output) == the layer with bit-packed output

The last rule evaluates the layer's own output transform (float multiplier and bias, LCE's int8
rounding, or the int8-exact requantisation) at every possible popcount 0..K and reads off, per
output channel, the threshold `bit set <=> popcount > threshold[c]`. When the sign bit falls as
the popcount grows (negative multiplier) the channel's filter bits are inverted, which turns the
popcount into K - popcount (exact for one-padding and VALID). So the fused layer gives bit for bit
what LceQuantize of the original output gives, on 32x smaller activations.
"""
from __future__ import annotations

import numpy as np

from evo.errors import EvoError
from evo.ir import Graph, Op, Tensor
from evo.ops.base import impl_for
from evo.ops.bnn import _pads, _transform, requant_q8, words


def _sign_bits_of_output(p: dict, k: int, neg_below: float | int) -> np.ndarray:
    """[K+1, C] bool: is the layer's output 'negative' (below `neg_below`) at popcount a = 0..K."""
    accum = np.arange(k + 1, dtype=np.int64)[:, None]
    if p["out_kind"] == "q8":
        y = requant_q8(p["offset"] + p["factor"] * accum, p)
    else:
        y = _transform(k - 2 * accum, accum, p)
    return y.astype(np.float64) < neg_below


def thresholds(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Per channel (threshold, flip) with bits[a] == (a' > threshold), a' = K - a when flipped."""
    k = bits.shape[0] - 1
    thr = np.zeros(bits.shape[1], np.int64)
    flip = np.zeros(bits.shape[1], bool)
    for c in range(bits.shape[1]):
        col = bits[:, c]
        if np.all(col[1:] >= col[:-1]):
            thr[c] = int((~col).sum()) - 1
        elif np.all(col[1:] <= col[:-1]):
            flip[c] = True
            thr[c] = int((~col[::-1]).sum()) - 1
        else:
            return None
        assert np.array_equal((np.arange(k + 1)[::-1] if flip[c] else np.arange(k + 1)) > thr[c], col)
    return thr, flip


def _flip_channels(packed: np.ndarray, flip: np.ndarray, channels: int) -> np.ndarray:
    """Invert the `channels` valid bits of the rows (output channels) marked in `flip`."""
    nw = words(channels)
    mask = np.full(nw, 0xFFFFFFFF, np.uint64)
    if channels % 32:
        mask[-1] = (1 << (channels % 32)) - 1
    u = packed.astype(np.int64).astype(np.uint64) & np.uint64(0xFFFFFFFF)
    u[flip] ^= mask.astype(np.uint64)
    return u.astype(np.uint32).view(np.int32)


class _Fuser:
    def __init__(self, g: Graph):
        self.g = g

    def add_tensor(self, name: str, shape, dtype: str, data=None) -> int:
        t = Tensor(index=len(self.g.tensors), name=name, shape=tuple(int(d) for d in shape), dtype=dtype, data=data)
        self.g.tensors.append(t)
        return t.index

    def negative_below(self, q: Op):
        x = self.g.tensor(q.inputs[0])
        if x.dtype == "float32":
            return 0.0
        return int(q.attrs.get("threshold", int(x.quant.zero_point[0])))

    def quantize(self, u: int, q: Op) -> tuple[int, Op]:
        ut = self.g.tensor(u)
        pu = self.add_tensor(f"{ut.name}/bitpacked", tuple(ut.shape[:-1]) + (words(int(ut.shape[-1])),), "int32")
        return pu, Op(index=-1, type="CUSTOM:LceQuantize", inputs=[u], outputs=[pu], attrs=dict(q.attrs))

    def through_maxpool(self, pool: Op, q: Op) -> list[Op] | None:
        g = self.g
        u, x = g.tensor(pool.inputs[0]), g.tensor(pool.outputs[0])
        if pool.attrs.get("fused_activation_function", "NONE") != "NONE" or u.dtype != x.dtype or len(u.shape) != 4:
            return None
        if u.dtype == "int8" and (u.quant is None or x.quant is None or float(u.quant.scale[0]) != float(x.quant.scale[0])
                                  or int(u.quant.zero_point[0]) != int(x.quant.zero_point[0])):
            return None
        a = pool.attrs
        pu, nq = self.quantize(pool.inputs[0], q)
        bmp = Op(index=-1, type="CUSTOM:LceBMaxPool2d", inputs=[pu], outputs=list(q.outputs),
                 attrs=dict(filter_height=int(a.get("filter_height", 1)), filter_width=int(a.get("filter_width", 1)), padding=a.get("padding", "VALID"),
                            stride_height=int(a.get("stride_h", 1)), stride_width=int(a.get("stride_w", 1))))
        return [nq, bmp]

    def through_reshape(self, rs: Op, q: Op) -> list[Op] | None:
        u, x = self.g.tensor(rs.inputs[0]), self.g.tensor(rs.outputs[0])
        if not u.shape or not x.shape or int(u.shape[-1]) % 32 or int(x.shape[-1]) % 32:
            return None
        pu, nq = self.quantize(rs.inputs[0], q)
        return [nq, Op(index=-1, type="RESHAPE", inputs=[pu], outputs=list(q.outputs), attrs={})]

    def into_binary_layer(self, layer: Op, q: Op) -> list[Op] | None:
        g = self.g
        impl = impl_for(layer)
        p = impl.prepare(g, layer)
        if p["out_kind"] == "bin":
            return None
        if layer.type == "CUSTOM:LceBconv2d":
            if p["pad_value"] == 0 and _pads(p["in"], p):
                return None  # zero padding: K varies per pixel, no single threshold
            k, channels = p["k"], p["cin"]
        else:
            k, channels = p["k"], p["k"]
        bits = _sign_bits_of_output(p, k, self.negative_below(q))
        th = thresholds(bits)
        if th is None:
            return None
        thr, flip = th
        filt_t = g.tensor(layer.inputs[1])
        filt = filt_t.data
        if flip.any():
            flat = _flip_channels(filt.reshape(filt.shape[0], -1, filt.shape[-1]), flip, channels)
            filt = flat.reshape(filt.shape)
            fi = self.add_tensor(f"{filt_t.name}/flipped", filt.shape, "int32", filt)
        else:
            fi = layer.inputs[1]
        ti = self.add_tensor(f"{g.tensor(layer.outputs[0]).name}/threshold", thr.shape, "int32", thr.astype(np.int32))
        attrs = {key: v for key, v in layer.attrs.items() if key not in ("requant", "act_min", "act_max")}
        new = Op(index=-1, type=layer.type, inputs=[layer.inputs[0], fi, -1, -1, ti], outputs=list(q.outputs), attrs=attrs,
                 custom_options=layer.custom_options)
        return [new]

    def step(self) -> bool:
        """Apply one rewrite; True when the graph changed."""
        g = self.g
        producer = {t: op for op in g.ops for t in op.outputs}
        consumers = g.consumers()
        for q in g.ops:
            if q.type != "CUSTOM:LceQuantize":
                continue
            x = q.inputs[0]
            src = producer.get(x)
            if src is None or x in g.outputs or len(consumers.get(x, [])) != 1:
                continue
            try:
                if src.type == "MAX_POOL_2D":
                    new = self.through_maxpool(src, q)
                elif src.type == "RESHAPE":
                    new = self.through_reshape(src, q)
                elif src.type in ("CUSTOM:LceBconv2d", "CUSTOM:EvoBFullyConnected"):
                    new = self.into_binary_layer(src, q)
                else:
                    new = None
            except (EvoError, KeyError, ValueError, IndexError, TypeError):
                new = None  # a layer EVO cannot run anyway: its own check reports it
            if new is None:
                continue
            ops = []
            for op in g.ops:
                if op is src:
                    ops.extend(new)
                elif op is not q:
                    ops.append(op)
            g.ops = ops
            for i, op in enumerate(g.ops):
                op.index = i
            return True
        return False


def run(g: Graph) -> Graph:
    """Fold LceQuantize into the binary layers that feed it (in place); returns `g`."""
    if not any(op.type == "CUSTOM:LceQuantize" for op in g.ops):
        return g
    f = _Fuser(g)
    while f.step():
        pass
    return g
