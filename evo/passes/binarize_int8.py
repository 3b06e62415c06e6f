"""Binary layers of full-int8 models from the stock TensorFlow converter (evo/passes/binarize.py
handles float models; this module is called from there).

Post-training int8 quantization keeps Larq's `ste_sign` in float between DEQUANTIZE and QUANTIZE:

    int8 x -> DEQUANTIZE -> SIGN -> QUANTIZE -> ADD(c) -> DEQUANTIZE -> SIGN -> [PADV2 1.0] -> QUANTIZE
           -> CONV_2D / FULLY_CONNECTED (int8 weights, per channel all +-w[c])

The chain is element-wise on one int8 value, so it is evaluated at compile time on all 256 codes
(with EVO's own reference kernels): when it is a step - code `b` below some threshold t, code `a`
from t on - it is exactly LceQuantize with "bit set <=> x < t", and the convolution sees only two
input codes. The int8 convolution's accumulator is then an affine function of the XOR-popcount:
with d = code - input zero point (d_a, d_b), P[c] = set filter bits, K = taps * channels,

    acc[c] = bias[c] + w[c] * (d_a * K - (d_a + d_b) * P[c]) + w[c] * (d_b - d_a) * popcount

(zero-padded taps subtract w[c] * d_a * (padded bits - 2 * their filter popcount)), and TFLM's
requantisation follows: bit-exact with the int8 layer, on bit-packed activations and weights.

An int8 CONV_2D with binary weights whose input is not such a chain (the first layer) becomes
QBConv2D (EvoQBConv2d): sign-bit weights, add/sub accumulation, the same requantisation.
"""
from __future__ import annotations

import numpy as np

from evo.ir import Graph, Op, Tensor
from evo.ops.base import impl_for
from evo.ops.bnn import pack_bits

_CHAIN = ("DEQUANTIZE", "QUANTIZE", "SIGN", "ADD", "PADV2")
_INT32_LIMIT = 2**31 - 1


def _const(g: Graph, i: int):
    return g.tensor(i).data if i >= 0 and g.tensor(i).is_const else None


def binary_int8_weights(g: Graph, w_index: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(magnitude w[c] int64, sign bits) when every weight of each output channel is +-w[c] and
    the filter is symmetric (zero point 0); None otherwise."""
    t = g.tensor(w_index)
    if not t.is_const or t.dtype != "int8" or t.quant is None or np.any(np.asarray(t.quant.zero_point) != 0):
        return None
    w = t.data.astype(np.int64).reshape(t.data.shape[0], -1)
    mag = np.abs(w[:, 0])
    if not np.all(mag > 0) or not np.all(np.abs(w) == mag[:, None]):
        return None
    return mag, t.data < 0


def _run_chain(g: Graph, ops: list[Op], src: int, values: np.ndarray, src_dtype: str, src_quant) -> np.ndarray:
    """Run the element-wise `ops` (PADV2 as the identity) on `values` fed to tensor `src`."""
    tensors: list[Tensor] = []
    remap: dict[int, int] = {}

    def new(i: int, dtype: str, quant, data=None, shape=None) -> int:
        tensors.append(Tensor(index=len(tensors), name=f"t{len(tensors)}", shape=shape if shape is not None else (values.size,),
                              dtype=dtype, quant=quant, data=data))
        return len(tensors) - 1

    remap[src] = new(src, src_dtype, src_quant)
    mini_ops = []
    for op in ops:
        if op.type == "PADV2":
            remap[op.outputs[0]] = remap[op.inputs[0]]
            continue
        ins = []
        for i in op.inputs:
            if i < 0:
                ins.append(-1)
            elif i not in remap:
                t = g.tensor(i)
                remap[i] = new(i, t.dtype, t.quant, t.data, tuple(t.shape))
                ins.append(remap[i])
            else:
                ins.append(remap[i])
        y = g.tensor(op.outputs[0])
        remap[op.outputs[0]] = new(op.outputs[0], y.dtype, y.quant)
        mini_ops.append(Op(index=len(mini_ops), type=op.type, inputs=ins, outputs=[remap[op.outputs[0]]], attrs=dict(op.attrs)))
    from evo.ref import executor

    last = remap[ops[-1].outputs[0]]
    mini = Graph(tensors=tensors, ops=mini_ops, inputs=[remap[src]], outputs=[last], input_names=["x"], output_names=["y"])
    for op in mini_ops:
        impl_for(op).check(mini, op)
    return executor.run(mini, [values])[last].reshape(-1)


def sign_chain(r, t: int) -> dict | None:
    """If int8 tensor t is a sign chain of an int8 tensor, describe it (see the module doc)."""
    g = r.g
    ops: list[Op] = []
    cur, pad = t, None
    while len(ops) < 16:
        op = r.producer.get(cur)
        if op is None or op.type not in _CHAIN or len(op.outputs) != 1:
            break
        data = op.inputs[0]
        if op.type == "ADD":
            if op.attrs.get("fused_activation_function", "NONE") != "NONE":
                return None
            consts = [i for i in op.inputs if _const(g, i) is not None]
            if len(consts) != 1 or _const(g, consts[0]).size != 1:
                return None
            data = [i for i in op.inputs if i != consts[0]][0]
        elif op.type == "PADV2":
            if pad is not None:
                return None
            pad = op
        if g.tensor(data).is_const:
            return None
        ops.append(op)
        cur = data
    src = cur
    st = g.tensor(src)
    if not any(op.type == "SIGN" for op in ops) or st.dtype != "int8" or st.quant is None or st.quant.per_channel:
        return None
    ops.reverse()
    lut = _run_chain(g, ops, src, np.arange(-128, 128, dtype=np.int8), "int8", st.quant).astype(np.int64)
    code_b, code_a = int(lut[0]), int(lut[-1])  # bit 1 below the threshold, bit 0 from it on
    if code_a == code_b:
        return None
    thr = int(np.argmax(lut == code_a)) - 128
    if not np.array_equal(lut, np.where(np.arange(-128, 128) < thr, code_b, code_a)):
        return None
    info = dict(src=src, threshold=thr, code_a=code_a, code_b=code_b, pad=pad)
    if pad is not None:
        after = ops[ops.index(pad) + 1 :]
        pv = _const(g, pad.inputs[2]) if len(pad.inputs) > 2 else np.zeros(1, np.float32)
        pt = g.tensor(pad.inputs[0])
        if pv is None or not after or pt.quant is not None:
            return None  # padding an int8 tensor is not Larq's float PADV2 pattern
        pad_code = int(_run_chain(g, after, pad.outputs[0], np.asarray(pv, np.float32).reshape(1), pt.dtype, None)[0])
        if pad_code != code_a:
            return None  # only one-padding (+1, bit 0) is a binary convolution's padding
    return info


def _same_pads(g: Graph, pad_op: Op, conv: Op, kh: int, kw: int) -> bool:
    """PADV2 supplies exactly SAME's padding for the VALID conv that follows it."""
    from evo.ops.conv import compute_out_size, compute_padding

    pads = _const(g, pad_op.inputs[1])
    it = g.tensor(pad_op.inputs[0])
    if pads is None or len(it.shape) != 4 or conv.attrs.get("padding", "VALID") != "VALID":
        return False
    pads = pads.reshape(-1, 2)
    if pads[0].any() or pads[3].any():
        return False
    for axis, k, s, d in ((1, kh, int(conv.attrs.get("stride_h", 1)), int(conv.attrs.get("dilation_h_factor", 1))),
                          (2, kw, int(conv.attrs.get("stride_w", 1)), int(conv.attrs.get("dilation_w_factor", 1)))):
        n = int(it.shape[axis])
        out = compute_out_size("SAME", n, k, s, d)
        lead = compute_padding(s, d, n, k, out)
        total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
        if out != g.tensor(conv.outputs[0]).shape[axis] or int(pads[axis][0]) != lead or int(pads[axis][1]) != total - lead:
            return False
    return True


def _requant_tensors(r, op: Op, offset, factor, pad_term, mult, shift) -> list[int]:
    ts = []
    for name, v in (("offset", offset), ("factor", factor), ("pad_term", pad_term), ("multiplier", mult), ("shift", shift)):
        v = np.asarray(v, dtype=np.int64)
        ts.append(r.add_tensor(f"op{op.index}/rq_{name}", v.shape, "int32", v.astype(np.int32)))
    return ts


def _affine(bias, mag, bits2d, a: int, b: int, k: int):
    """offset, factor, pad_term of acc = offset + factor * popcount (see the module doc)."""
    pop = bits2d.sum(axis=1).astype(np.int64)
    offset = bias + mag * (a * k - (a + b) * pop)
    factor = mag * (b - a)
    pad_term = mag * a
    bound = np.abs(offset) + np.abs(factor) * k + 2 * np.abs(pad_term) * k
    return (offset, factor, pad_term) if np.all(bound < _INT32_LIMIT) else None


def _bias(g: Graph, op: Op, n: int) -> np.ndarray:
    b = _const(g, op.inputs[2]) if len(op.inputs) > 2 else None
    return b.astype(np.int64).reshape(-1) if b is not None else np.zeros(n, np.int64)


def conv(r, op: Op) -> bool:
    """int8 CONV_2D with binary weights -> LceBconv2d (q8 output) or QBConv2D. True if rewritten."""
    g = r.g
    x, y = g.tensor(op.inputs[0]), g.tensor(op.outputs[0])
    if x.dtype != "int8" or y.dtype != "int8" or len(x.shape) != 4:
        return False
    wb = binary_int8_weights(g, op.inputs[1])
    if wb is None:
        return False
    mag, neg = wb
    co, kh, kw, cin = (int(d) for d in neg.shape)
    p = impl_for(op).prepare(g, op)  # TFLM's multipliers, shifts and clamp for this conv
    bias = _bias(g, op, co)
    geo = dict(stride_height=p["stride_h"], stride_width=p["stride_w"], dilation_height_factor=p["dil_h"], dilation_width_factor=p["dil_w"])
    chain = sign_chain(r, op.inputs[0])
    if chain is not None:
        padding, pad_values = op.attrs.get("padding", "VALID"), 0
        src_shape = x.shape
        if chain["pad"] is not None:
            if not _same_pads(g, chain["pad"], op, kh, kw):
                chain = None
            else:
                padding, pad_values, src_shape = "SAME", 1, g.tensor(chain["pad"].inputs[0]).shape
        if chain is not None and tuple(g.tensor(chain["src"]).shape) != tuple(src_shape):
            chain = None
    if chain is not None:
        zp = int(x.quant.zero_point[0])
        aff = _affine(bias, mag, neg.reshape(co, -1), chain["code_a"] - zp, chain["code_b"] - zp, kh * kw * cin)
        if aff is not None:
            packed, qop = r.packed_int8(chain["src"], chain["threshold"])
            filt = pack_bits(neg)
            ft = r.add_tensor(f"{g.tensor(op.inputs[1]).name}/bitpacked", filt.shape, "int32", filt)
            rq = _requant_tensors(r, op, *aff, p["multiplier"], p["shift"])
            attrs = dict(channels_in=cin, padding=padding, pad_values=pad_values, fused_activation_function=0, requant=True,
                         act_min=int(p["act_min"]), act_max=int(p["act_max"]), binarized_from=op.type, **geo)
            new = Op(index=-1, type="CUSTOM:LceBconv2d", inputs=[packed, ft, rq[0], rq[1], -1, rq[2], rq[3], rq[4]], outputs=list(op.outputs), attrs=attrs)
            r.new_ops[op.index] = ([qop] if qop else []) + [new]
            return True
    # QBConv2D: int8 input, sign-bit weights (each channel's whole HWI filter as one bit string)
    filt = pack_bits(neg.reshape(co, -1))
    ft = r.add_tensor(f"{g.tensor(op.inputs[1]).name}/bitpacked", filt.shape, "int32", filt)
    rq = _requant_tensors(r, op, bias, mag, np.zeros(co, np.int64), p["multiplier"], p["shift"])
    attrs = dict(channels_in=cin, kernel_h=kh, kernel_w=kw, padding=op.attrs.get("padding", "VALID"), requant=True, act_min=int(p["act_min"]),
                 act_max=int(p["act_max"]), binarized_from=op.type, **geo)
    r.new_ops[op.index] = [Op(index=-1, type="CUSTOM:EvoQBConv2d", inputs=[op.inputs[0], ft, rq[0], rq[1], -1, rq[2], rq[3], rq[4]],
                              outputs=list(op.outputs), attrs=attrs)]
    return True


def fc(r, op: Op) -> bool:
    """int8 FULLY_CONNECTED with binary weights on a sign chain -> EvoBFullyConnected (q8)."""
    g = r.g
    x, y = g.tensor(op.inputs[0]), g.tensor(op.outputs[0])
    if x.dtype != "int8" or y.dtype != "int8" or g.tensor(op.inputs[1]).data is None or g.tensor(op.inputs[1]).data.ndim != 2:
        return False
    if op.attrs.get("keep_num_dims"):
        return False
    wb = binary_int8_weights(g, op.inputs[1])
    chain = sign_chain(r, op.inputs[0]) if wb is not None else None
    if chain is None:
        return False
    mag, neg = wb
    units, k = (int(d) for d in neg.shape)
    src = g.tensor(chain["src"])
    if chain["pad"] is not None or int(src.shape[-1]) != k or src.size % k:
        return False
    p = impl_for(op).prepare(g, op)
    zp = int(x.quant.zero_point[0])
    aff = _affine(_bias(g, op, units), mag, neg, chain["code_a"] - zp, chain["code_b"] - zp, k)
    if aff is None:
        return False
    packed, qop = r.packed_int8(chain["src"], chain["threshold"])
    wp = pack_bits(neg)
    wt = r.add_tensor(f"{g.tensor(op.inputs[1]).name}/bitpacked", wp.shape, "int32", wp)
    rq = _requant_tensors(r, op, *aff, p["multiplier"], p["shift"])
    attrs = dict(channels=k, fused_activation_function="NONE", requant=True, act_min=int(p["act_min"]), act_max=int(p["act_max"]), binarized_from=op.type)
    new = Op(index=-1, type="CUSTOM:EvoBFullyConnected", inputs=[packed, wt, rq[0], rq[1], -1, rq[2], rq[3], rq[4]], outputs=list(op.outputs), attrs=attrs)
    r.new_ops[op.index] = ([qop] if qop else []) + [new]
    return True
