"""Binary layers of full-int8 models (evo/passes/binarize_int8.py) and the LceQuantize folding
(evo/passes/bitpack_fuse.py):

* QBConv2D (int8 input, +-w[c] weights as sign bits) equals TFLM's int8 CONV_2D bit for bit
  (single-op .tflite models run by the TFLM oracle, EVO's reference and EVO's C);
* stock-converter sign chains (DEQUANTIZE -> SIGN -> QUANTIZE -> ADD -> DEQUANTIZE -> SIGN ->
  [PADV2 1.0] -> QUANTIZE) around binary int8 convolutions / dense layers are binarized, and the
  binarized graph (reference and C) equals the graph as written (SIGN run as an op) bit for bit;
* folding LceQuantize into a binary layer's output (thresholds, flipped channels) gives the same
  bits as quantizing the layer's float/int8 output.

Graph builders here are shared with tests/qemu/test_bnn_qemu.py."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from evo.frontend.tflite_reader import read_tflite
from evo.ir import Graph, Op, Quant, Tensor
from evo.passes import binarize, bitpack_fuse
from evo.ref import executor
from evo.targets.host import HostModel
from tests.support.differential import check_model
from tests.support.single_op import TensorSpec, single_op_model
from tests.unit.test_bnn_kernels import bnn_graph, conv_out_size, random_packed

RELU = {"NONE": "NONE", "RELU": "RELU"}


def binary_int8_weights(rng, cout, kh, kw, cin):
    mag = rng.integers(1, 128, cout)
    signs = np.where(rng.random((cout, kh, kw, cin)) < 0.5, -1, 1)
    return (signs * mag[:, None, None, None]).astype(np.int8)


def qbconv_model(cin, cout, h, w, kh, kw, stride=(1, 1), dil=(1, 1), padding="SAME", act="NONE", seed=0, perturb=False) -> bytes:
    """int8 CONV_2D with binary (+-w[c]) per-channel weights, random quantization and bias
    (`perturb`: one weight of another magnitude, so not binary)."""
    rng = np.random.default_rng(seed)
    oh, ow = conv_out_size(padding, h, kh, stride[0], dil[0]), conv_out_size(padding, w, kw, stride[1], dil[1])
    wq = binary_int8_weights(rng, cout, kh, kw, cin)
    if perturb:
        wq[0, 0, 0, 0] = 127 if abs(int(wq[0, 0, 0, 1])) != 127 else 1
    w_scale = (10 ** rng.uniform(-3, -1.5, cout)).astype(np.float32)
    in_scale = float(10 ** rng.uniform(-2, -1))
    bias = rng.integers(-3000, 3000, cout).astype(np.int32)
    return single_op_model(
        "CONV_2D",
        [TensorSpec((1, h, w, cin), "int8", in_scale, int(rng.integers(-128, 128))),
         TensorSpec(wq.shape, "int8", w_scale, 0, axis=0, data=wq),
         TensorSpec((cout,), "int32", (w_scale * np.float32(in_scale)).astype(np.float32), 0, data=bias)],
        [TensorSpec((1, oh, ow, cout), "int8", float(10 ** rng.uniform(-1.5, 0)), int(rng.integers(-100, 100)))],
        dict(padding=padding, stride_h=stride[0], stride_w=stride[1], dilation_h_factor=dil[0], dilation_w_factor=dil[1],
             fused_activation_function=act),
    )


# ----------------------------------------------------------------------------- stock-converter chains


class _Builder:
    """Small IR graph builder for sign-chain models."""

    def __init__(self):
        self.tensors: list[Tensor] = []
        self.ops: list[Op] = []

    def t(self, shape, dtype, quant=None, data=None) -> int:
        self.tensors.append(Tensor(index=len(self.tensors), name=f"t{len(self.tensors)}", shape=tuple(int(d) for d in shape),
                                   dtype=dtype, quant=quant, data=data))
        return len(self.tensors) - 1

    def op(self, type_, inputs, out_shape, dtype, quant=None, **attrs) -> int:
        y = self.t(out_shape, dtype, quant)
        self.ops.append(Op(len(self.ops), type_, list(inputs), [y], attrs))
        return y

    def ste_sign(self, x: int, code_quant: Quant, pad=None) -> int:
        """Larq's ste_sign as the stock int8 converter writes it; `pad` = (top, bottom, left, right)."""
        shape = self.tensors[x].shape
        f = self.op("DEQUANTIZE", [x], shape, "float32")
        s = self.op("SIGN", [f], shape, "float32")
        q = self.op("QUANTIZE", [s], shape, "int8", Quant(np.array([0.00823529], np.float32), np.array([-7])))
        c = self.t((), "int8", Quant(np.array([0.00039216], np.float32), np.array([-128])), np.array(127, np.int8))
        a = self.op("ADD", [q, c], shape, "int8", Quant(np.array([0.00784314], np.float32), np.array([-13])), fused_activation_function="NONE")
        f = self.op("DEQUANTIZE", [a], shape, "float32")
        s = self.op("SIGN", [f], shape, "float32")
        if pad is not None:
            pads = self.t((4, 2), "int32", data=np.array([[0, 0], [pad[0], pad[1]], [pad[2], pad[3]], [0, 0]], np.int32))
            one = self.t((), "float32", data=np.array(1.0, np.float32))
            shape = (shape[0], shape[1] + pad[0] + pad[1], shape[2] + pad[2] + pad[3], shape[3])
            s = self.op("PADV2", [s, pads, one], shape, "float32")
        return self.op("QUANTIZE", [s], shape, "int8", code_quant)

    def conv(self, x, rng, cout, kh, kw, stride, dil, padding, act="NONE") -> int:
        _, h, w, cin = self.tensors[x].shape
        xs = self.tensors[x].quant.scale[0]
        wq = binary_int8_weights(rng, cout, kh, kw, cin)
        ws = (10 ** rng.uniform(-3, -2, cout)).astype(np.float32)
        wt = self.t(wq.shape, "int8", Quant(ws, np.zeros(cout, np.int64), 0), wq)
        bt = self.t((cout,), "int32", Quant((ws * xs).astype(np.float32), np.zeros(cout, np.int64)), rng.integers(-300, 300, cout).astype(np.int32))
        oh, ow = conv_out_size(padding, h, kh, stride[0], dil[0]), conv_out_size(padding, w, kw, stride[1], dil[1])
        oq = Quant(np.array([10 ** rng.uniform(-2, -1)], np.float32), np.array([int(rng.integers(-20, 20))]))
        return self.op("CONV_2D", [x, wt, bt], (1, oh, ow, cout), "int8", oq, padding=padding, stride_h=stride[0], stride_w=stride[1],
                       dilation_h_factor=dil[0], dilation_w_factor=dil[1], fused_activation_function=act)

    def graph(self, inputs, outputs) -> Graph:
        return Graph(tensors=self.tensors, ops=self.ops, inputs=list(inputs), outputs=list(outputs), input_names=[f"in{i}" for i in range(len(inputs))],
                     output_names=[f"out{i}" for i in range(len(outputs))], name="bnn_chain", file_inputs=list(inputs), file_outputs=list(outputs))


CODE_QUANTS = {
    "keras": Quant(np.array([0.00784314], np.float32), np.array([-1])),  # +1 -> 127, -1 -> -128: asymmetric
    "unit": Quant(np.array([1.0], np.float32), np.array([0])),  # +-1 codes
    "offset": Quant(np.array([0.02], np.float32), np.array([9])),  # 59 / -41
}


def chain_graph(cin, h, w, cout=24, kh=3, kw=3, stride=(1, 1), dil=(1, 1), mode="pad1", codes="keras", second=True, seed=0, act="NONE"):
    """int8 x -> ste_sign -> binary conv (mode: pad1 = PADV2 + VALID, pad0 = SAME (zero-point
    padding), valid) -> [ste_sign -> MAX_POOL -> binary conv 3x3 VALID-with-PADV2 -> RESHAPE -> ste_sign -> FC]."""
    rng = np.random.default_rng(seed)
    b = _Builder()
    x = b.t((1, h, w, cin), "int8", Quant(np.array([0.05], np.float32), np.array([int(rng.integers(-20, 20))])))
    cq = CODE_QUANTS[codes]
    if mode == "pad1":
        ph = max((conv_out_size("SAME", h, kh, stride[0], dil[0]) - 1) * stride[0] + (kh - 1) * dil[0] + 1 - h, 0)
        pw = max((conv_out_size("SAME", w, kw, stride[1], dil[1]) - 1) * stride[1] + (kw - 1) * dil[1] + 1 - w, 0)
        s = b.ste_sign(x, cq, (ph // 2, ph - ph // 2, pw // 2, pw - pw // 2))
        y = b.conv(s, rng, cout, kh, kw, stride, dil, "VALID", act)
    else:
        s = b.ste_sign(x, cq)
        y = b.conv(s, rng, cout, kh, kw, stride, dil, "SAME" if mode == "pad0" else "VALID", act)
    if not second:
        return b.graph([x], [y])
    yq = b.tensors[y].quant
    _, oh, ow, _ = b.tensors[y].shape
    m = b.op("MAX_POOL_2D", [y], (1, (oh + 1) // 2, (ow + 1) // 2, cout), "int8", yq, padding="SAME", stride_h=2, stride_w=2,
             filter_height=2, filter_width=2, fused_activation_function="NONE")
    _, mh, mw, _ = b.tensors[m].shape
    s2 = b.ste_sign(m, CODE_QUANTS["keras"], (1, 1, 1, 1))
    y2 = b.conv(s2, rng, 32, 3, 3, (1, 1), (1, 1), "VALID")
    r = b.op("RESHAPE", [y2], (1, mh * mw * 32), "int8", b.tensors[y2].quant)
    s3 = b.ste_sign(r, CODE_QUANTS["keras"])
    k = mh * mw * 32
    wq = binary_int8_weights(rng, 10, 1, 1, k).reshape(10, k)
    ws = (10 ** rng.uniform(-4, -3, 10)).astype(np.float32)
    wt = b.t(wq.shape, "int8", Quant(ws, np.zeros(10, np.int64), 0), wq)
    bt = b.t((10,), "int32", None, rng.integers(-300, 300, 10).astype(np.int32))
    fc = b.op("FULLY_CONNECTED", [s3, wt, bt], (1, 10), "int8", Quant(np.array([0.05], np.float32), np.array([3])), fused_activation_function="NONE")
    return b.graph([x], [fc])


def _binarized(g: Graph) -> Graph:
    return binarize.run(copy.deepcopy(g))


def _assert_same_as_written(g: Graph, n=2, seed=1, run_c=True):
    bg = _binarized(g)
    rng = np.random.default_rng(seed)
    xs = [rng.integers(-128, 128, g.tensor(g.inputs[0]).shape).astype(np.int8) for _ in range(n)]
    want = [executor.run(g, [x])[g.outputs[0]] for x in xs]
    for x, w in zip(xs, want):
        assert np.array_equal(executor.run(bg, [x])[bg.outputs[0]], w), "binarized reference"
    if run_c:
        with HostModel.build(bg) as m:
            for x, w in zip(xs, want):
                assert np.array_equal(np.asarray(m.run([x])[0]).reshape(w.shape), w), "binarized C"
    return bg


def test_sign_op_c_matches_reference():
    b = _Builder()
    x = b.t((3, 7), "float32")
    y = b.op("SIGN", [x], (3, 7), "float32")
    g = b.graph([x], [y])
    v = np.random.default_rng(0).normal(size=(3, 7)).astype(np.float32)
    v[0, :3] = [0.0, -0.0, np.nan]
    ref = executor.run(g, [v])[y]
    assert np.array_equal(ref[0, :3], [0, 0, 0]) and np.array_equal(ref[1:], np.sign(v[1:]))
    with HostModel.build(g) as m:
        assert np.array_equal(np.asarray(m.run([v])[0]).reshape(3, 7), ref)


QB_CASES = [  # (cin, h, w, kh, kw, stride, dil, padding)
    (1, 7, 5, 3, 3, (1, 1), (1, 1), "SAME"),
    (31, 6, 9, 3, 3, (2, 2), (1, 1), "SAME"),
    (32, 5, 4, 3, 2, (1, 2), (1, 1), "VALID"),
    (33, 8, 6, 3, 3, (1, 1), (2, 2), "SAME"),
    (48, 5, 7, 2, 2, (2, 1), (1, 1), "VALID"),
    (64, 4, 6, 3, 3, (1, 1), (1, 2), "SAME"),
    (96, 3, 5, 1, 3, (1, 1), (1, 1), "SAME"),
    (200, 4, 3, 3, 3, (2, 2), (1, 1), "SAME"),
]


@pytest.mark.parametrize("case", QB_CASES, ids=[f"c{c[0]}" for c in QB_CASES])
def test_qbconv_is_tflm_exact(case):
    cin, h, w, kh, kw, stride, dil, padding = case
    model = qbconv_model(cin, 11, h, w, kh, kw, stride, dil, padding, act="RELU" if cin % 2 else "NONE", seed=cin)
    g = read_tflite(model)
    assert [op.type for op in g.ops] == ["CUSTOM:EvoQBConv2d"]
    assert g.tensor(g.ops[0].inputs[1]).nbytes == 11 * 4 * ((kh * kw * cin + 31) // 32)  # sign bits only
    check_model(model, seed=cin)


def test_non_binary_int8_conv_is_left_alone():
    assert [op.type for op in read_tflite(qbconv_model(8, 4, 5, 5, 3, 3, seed=3, perturb=True)).ops] == ["CONV_2D"]
    assert [op.type for op in read_tflite(qbconv_model(2, 4, 5, 5, 1, 1, seed=3)).ops] == ["CONV_2D"]  # < 8 weights per channel


@pytest.mark.parametrize("mode,codes,cin,stride,dil", [
    ("pad1", "keras", 33, (1, 1), (1, 1)),
    ("pad1", "unit", 1, (2, 2), (1, 1)),
    ("pad0", "keras", 64, (1, 1), (1, 1)),
    ("pad0", "offset", 31, (2, 1), (1, 2)),
    ("valid", "keras", 48, (1, 1), (2, 1)),
])
def test_stock_int8_chain_binarized_exactly(mode, codes, cin, stride, dil):
    g = chain_graph(cin, 7, 6, stride=stride, dil=dil, mode=mode, codes=codes, seed=cin)
    bg = _assert_same_as_written(g)
    types = [op.type for op in bg.ops]
    assert not {"SIGN", "DEQUANTIZE", "QUANTIZE", "ADD", "PADV2", "CONV_2D", "FULLY_CONNECTED", "MAX_POOL_2D"} & set(types), types
    assert types.count("CUSTOM:LceBconv2d") == 2 and types.count("CUSTOM:EvoBFullyConnected") == 1
    bconvs = [op for op in bg.ops if op.type == "CUSTOM:LceBconv2d"]
    # the first binary conv writes bit-packed output through thresholds, except under zero padding
    assert bg.tensor(bconvs[0].outputs[0]).dtype == ("int8" if mode == "pad0" else "int32")
    assert bconvs[0].attrs["pad_values"] == (1 if mode == "pad1" else 0)


def test_int8_chain_with_activation_and_single_layer():
    g = chain_graph(40, 5, 5, cout=7, mode="pad0", second=False, act="RELU", seed=5)
    bg = _assert_same_as_written(g, n=3)
    assert [op.type for op in bg.ops] == ["CUSTOM:LceQuantize", "CUSTOM:LceBconv2d"]


# ----------------------------------------------------------------------------- folding LceQuantize


def _with_quantize(g: Graph) -> Graph:
    """Append LceQuantize to a one-layer graph's float/int8 output."""
    y = g.outputs[0]
    yt = g.tensor(y)
    from evo.ops.bnn import words

    q = Tensor(index=len(g.tensors), name="packed", shape=tuple(yt.shape[:-1]) + (words(yt.shape[-1]),), dtype="int32")
    g.tensors.append(q)
    g.ops.append(Op(len(g.ops), "CUSTOM:LceQuantize", [y], [q.index], {}))
    g.outputs = g.file_outputs = [q.index]
    return g


@pytest.mark.parametrize("out,cin,padding,pv", [("f32", 33, "SAME", 1), ("s8", 64, "VALID", 0), ("f32", 200, "VALID", 0), ("s8", 1, "SAME", 1)])
def test_fold_quantize_into_bconv(out, cin, padding, pv):
    g, rng = bnn_graph(cin, 40, 6, 5, 3, 3, (1, 1), (1, 1), padding, pv, out, seed=cin)
    mult = g.tensors[2].data
    mult[::3] *= -1  # some negative multipliers (flipped channels) and one zero
    mult[1] = 0.0
    g = _with_quantize(g)
    fused = bitpack_fuse.run(copy.deepcopy(g))
    assert [op.type for op in fused.ops] == ["CUSTOM:LceBconv2d"] and fused.tensor(fused.outputs[0]).dtype == "int32"
    for _ in range(3):
        x = random_packed(rng, (1, 6, 5, cin))
        assert np.array_equal(executor.run(fused, [x])[fused.outputs[0]], executor.run(g, [x])[g.outputs[0]])


def test_fold_quantize_through_maxpool_and_reshape():
    g, rng = bnn_graph(64, 32, 6, 6, 3, 3, (1, 1), (1, 1), "SAME", 1, "f32", seed=9)
    b = _Builder()
    b.tensors, b.ops = g.tensors, g.ops
    m = b.op("MAX_POOL_2D", [g.outputs[0]], (1, 3, 3, 32), "float32", padding="VALID", stride_h=2, stride_w=2, filter_height=2,
             filter_width=2, fused_activation_function="NONE")
    r = b.op("RESHAPE", [m], (1, 288), "float32")
    g.outputs = g.file_outputs = [r]
    g = _with_quantize(g)
    fused = bitpack_fuse.run(copy.deepcopy(g))
    assert [op.type for op in fused.ops] == ["CUSTOM:LceBconv2d", "CUSTOM:LceBMaxPool2d", "RESHAPE"]
    x = random_packed(rng, (1, 6, 6, 64))
    want = executor.run(g, [x])[g.outputs[0]]
    assert np.array_equal(executor.run(fused, [x])[fused.outputs[0]], want)
    with HostModel.build(fused) as m_:
        assert np.array_equal(np.asarray(m_.run([x])[0]).reshape(want.shape), want)
