"""Binary kernels: EVO's NumPy reference against an independent float oracle (a plain
convolution of +-1 values), and the generated C against the reference (bit-exact for int8 and
bit-packed outputs, float within 1e-5 relative).

Single-op graphs come from `bnn_graph` / `bfc_graph` / `bmaxpool_graph`, also used by the
property and QEMU tests."""
from __future__ import annotations

import numpy as np
import pytest

from evo.codegen.lower import lower
from evo.errors import EvoError
from evo.ir import Graph, Op, Quant, Tensor
from evo.ops.bnn import pack_bits, unpack_bits, words
from evo.ref import executor
from evo.targets.host import HostModel

FLOAT_RTOL = 1e-5


def _graph(op_type, tensors, op_inputs, out, attrs, graph_inputs) -> Graph:
    ts = [Tensor(index=i, name=f"t{i}", shape=tuple(int(d) for d in t[0]), dtype=t[1], quant=t[2] if len(t) > 2 else None,
                 data=t[3] if len(t) > 3 else None) for i, t in enumerate(tensors)]
    return Graph(tensors=ts, ops=[Op(0, op_type, op_inputs, [out], attrs)], inputs=graph_inputs, outputs=[out],
                 input_names=[f"input_{i}" for i in range(len(graph_inputs))], output_names=["output_0"], name=op_type.split(":")[-1].lower(),
                 file_inputs=list(graph_inputs), file_outputs=[out])


def conv_out_size(pad, n, k, s, d):
    eff = (k - 1) * d + 1
    return (n + s - 1) // s if pad == "SAME" else (n + s - eff) // s


def bnn_graph(cin, cout, h, w, kh, kw, stride=(1, 1), dil=(1, 1), padding="SAME", pad_values=1, out="f32", seed=0, act=0):
    """One LceBconv2d with random packed filter and output transform; returns (graph, rng)."""
    rng = np.random.default_rng(seed)
    filt = pack_bits(rng.random((cout, kh, kw, cin)) < 0.5)
    oh, ow = conv_out_size(padding, h, kh, stride[0], dil[0]), conv_out_size(padding, w, kw, stride[1], dil[1])
    tensors = [((1, h, w, words(cin)), "int32"), (filt.shape, "int32", None, filt)]
    k = kh * kw * cin
    mult = rng.uniform(-0.5, 0.5, cout).astype(np.float32)
    bias = rng.uniform(-2, 2, cout).astype(np.float32)
    thr = rng.integers(-1, k + 1, cout).astype(np.int32)
    tensors += [((cout,), "float32", None, mult), ((cout,), "float32", None, bias), ((cout,), "int32", None, thr)]
    if out == "f32":
        tensors.append(((1, oh, ow, cout), "float32"))
        inputs = [0, 1, 2, 3, -1]
    elif out == "s8":
        tensors.append(((1, oh, ow, cout), "int8", Quant(np.array([0.05], np.float32), np.array([3], np.int64))))
        inputs = [0, 1, 2, 3, -1]
    else:
        tensors.append(((1, oh, ow, words(cout)), "int32"))
        inputs = [0, 1, -1, -1, 4]
    attrs = dict(channels_in=cin, padding=padding, pad_values=pad_values, stride_height=stride[0], stride_width=stride[1],
                 dilation_height_factor=dil[0], dilation_width_factor=dil[1], fused_activation_function=act)
    return _graph("CUSTOM:LceBconv2d", tensors, inputs, 5, attrs, [0]), rng


def bfc_graph(k, units, out="bin", batches=1, seed=0):
    rng = np.random.default_rng(seed)
    wp = pack_bits(rng.random((units, k)) < 0.5)
    mult = rng.uniform(-0.5, 0.5, units).astype(np.float32)
    bias = rng.uniform(-2, 2, units).astype(np.float32)
    thr = rng.integers(-1, k + 1, units).astype(np.int32)
    tensors = [((batches, words(k)), "int32"), (wp.shape, "int32", None, wp), ((units,), "float32", None, mult),
               ((units,), "float32", None, bias), ((units,), "int32", None, thr)]
    if out == "bin":
        tensors.append(((batches, words(units)), "int32"))
    elif out == "s8":
        tensors.append(((batches, units), "int8", Quant(np.array([0.1], np.float32), np.array([-5], np.int64))))
    else:
        tensors.append(((batches, units), "float32"))
    return _graph("CUSTOM:EvoBFullyConnected", tensors, [0, 1, 2, 3, 4], 5, dict(channels=k), [0]), rng


def bmaxpool_graph(c, h, w, fh, fw, stride, padding):
    oh, ow = conv_out_size(padding, h, fh, stride, 1), conv_out_size(padding, w, fw, stride, 1)
    tensors = [((1, h, w, words(c)), "int32"), ((1, oh, ow, words(c)), "int32")]
    attrs = dict(filter_height=fh, filter_width=fw, padding=padding, stride_height=stride, stride_width=stride)
    return _graph("CUSTOM:LceBMaxPool2d", tensors, [0], 1, attrs, [0])


def random_packed(rng, shape_unpacked):
    return pack_bits(rng.random(shape_unpacked) < 0.5)


def assert_close(actual, expected, what):
    actual = np.asarray(actual).reshape(expected.shape)
    assert actual.dtype == expected.dtype, what
    if expected.dtype == np.float32:
        tol = FLOAT_RTOL * max(1.0, float(np.max(np.abs(expected))))
        assert float(np.max(np.abs(actual.astype(np.float64) - expected))) <= tol, what
    else:
        assert np.array_equal(actual, expected), f"{what}: {int((actual != expected).sum())} of {expected.size} differ"


def run_c_vs_ref(g: Graph, inputs_list):
    with HostModel.build(g) as m:
        for inputs in inputs_list:
            ref = executor.run(g, inputs)[g.outputs[0]]
            assert_close(m.run(inputs)[0], ref, g.name)


def float_oracle(x_bits, f_bits, stride, dil, padding, pad_values):
    """Plain float convolution of +-1 values; pad with +1 (pad_values=1) or 0."""
    xs = 1.0 - 2.0 * x_bits.astype(np.float64)  # [1,H,W,C]
    fs = 1.0 - 2.0 * f_bits.astype(np.float64)  # [Co,KH,KW,C]
    _, h, w, _ = xs.shape
    co, kh, kw, _ = fs.shape
    oh, ow = conv_out_size(padding, h, kh, stride[0], dil[0]), conv_out_size(padding, w, kw, stride[1], dil[1])
    ph = max((oh - 1) * stride[0] + (kh - 1) * dil[0] + 1 - h, 0) // 2 if padding == "SAME" else 0
    pw = max((ow - 1) * stride[1] + (kw - 1) * dil[1] + 1 - w, 0) // 2 if padding == "SAME" else 0
    out = np.zeros((1, oh, ow, co))
    for oy in range(oh):
        for ox in range(ow):
            acc = np.zeros(co)
            for fy in range(kh):
                for fx in range(kw):
                    iy, ix = oy * stride[0] - ph + fy * dil[0], ox * stride[1] - pw + fx * dil[1]
                    v = xs[0, iy, ix] if 0 <= iy < h and 0 <= ix < w else np.full(xs.shape[3], float(pad_values))
                    acc += fs[:, fy, fx, :] @ v
            out[0, oy, ox] = acc
    return out


CHANNELS = [1, 31, 32, 33, 48, 64, 96, 200]


def test_pack_unpack_roundtrip():
    rng = np.random.default_rng(1)
    for c in CHANNELS:
        bits = rng.random((3, c)) < 0.5
        p = pack_bits(bits)
        assert p.shape == (3, words(c)) and p.dtype == np.int32
        assert np.array_equal(unpack_bits(p, c), bits)
        hi = p[:, -1].view(np.uint32) >> np.uint32(c % 32) if c % 32 else np.zeros(3, np.uint32)
        assert not hi.any(), "unused high bits must be 0"
    assert pack_bits(np.array([True] + [False] * 30 + [True]))[0] == np.int32(-(2**31) + 1)


@pytest.mark.parametrize("padding,pad_values", [("SAME", 1), ("SAME", 0), ("VALID", 0)])
@pytest.mark.parametrize("stride,dil", [((1, 1), (1, 1)), ((2, 2), (1, 1)), ((1, 2), (2, 1))])
def test_reference_matches_float_oracle(padding, pad_values, stride, dil):
    for cin in (1, 33, 64):
        g, rng = bnn_graph(cin, 5, 7, 6, 3, 2, stride, dil, padding, pad_values, seed=cin)
        ones = np.ones(5, np.float32)
        g.tensors[2].data, g.tensors[3].data = ones, np.zeros(5, np.float32)
        x = random_packed(rng, (1, 7, 6, cin))
        got = executor.run(g, [x])[g.outputs[0]]
        want = float_oracle(unpack_bits(x, cin), unpack_bits(g.tensors[1].data, cin), stride, dil, padding, pad_values)
        assert np.array_equal(got, want.astype(np.float32))


@pytest.mark.parametrize("cin", CHANNELS)
def test_bconv_c_matches_reference_channels(cin):
    for out, (padding, pv), stride in (("f32", ("SAME", 0), (1, 1)), ("bin", ("SAME", 1), (2, 2)), ("s8", ("VALID", 0), (1, 2))):
        g, rng = bnn_graph(cin, 37, 6, 9, 3, 3, stride, (1, 1), padding, pv, out, seed=cin)
        run_c_vs_ref(g, [[random_packed(rng, (1, 6, 9, cin))] for _ in range(2)])


@pytest.mark.parametrize("out", ["f32", "bin"])
def test_bconv_pointwise_fast_path(out):
    g, rng = bnn_graph(96, 40, 5, 3, 1, 1, padding="VALID", out=out)
    assert lower(g).steps[0].call.func == f"evo_bconv2d_pw_{out}"
    run_c_vs_ref(g, [[random_packed(rng, (1, 5, 3, 96))]])


def test_bconv_dilation_and_activation():
    g, rng = bnn_graph(48, 8, 9, 7, 3, 3, (1, 1), (2, 3), "SAME", 1, "f32", act=1)
    x = random_packed(rng, (1, 9, 7, 48))
    run_c_vs_ref(g, [[x]])


def test_bitpacked_output_with_zero_padding_rejected():
    g, _ = bnn_graph(32, 8, 5, 5, 3, 3, padding="SAME", pad_values=0, out="bin")
    with pytest.raises(EvoError) as e:
        lower(g)
    assert "pad_values" in str(e.value)


@pytest.mark.parametrize("k,units,out", [(1, 1, "bin"), (31, 33, "bin"), (200, 64, "s8"), (2304, 10, "f32"), (64, 96, "bin"), (48, 5, "s8")])
def test_bfc_c_matches_reference(k, units, out):
    g, rng = bfc_graph(k, units, out, batches=2)
    run_c_vs_ref(g, [[random_packed(rng, (2, k))] for _ in range(2)])
    # BBFC bit-packed output = sign of the float dot product against the threshold
    x = random_packed(rng, (2, k))
    ref = executor.run(g, [x])[g.outputs[0]]
    xb, wb = unpack_bits(x, k).astype(np.int64), unpack_bits(g.tensors[1].data, k).astype(np.int64)
    dot = (1 - 2 * xb) @ (1 - 2 * wb).T  # = K - 2 accum
    accum = (k - dot) // 2
    if out == "bin":
        assert np.array_equal(unpack_bits(ref, units), (accum > g.tensors[4].data).astype(np.uint8))


@pytest.mark.parametrize("c", [1, 33, 64, 200])
@pytest.mark.parametrize("fh,fw,stride,padding", [(2, 2, 2, "VALID"), (3, 3, 2, "SAME"), (3, 2, 1, "SAME")])
def test_bmaxpool_is_max_of_signs(c, fh, fw, stride, padding):
    g = bmaxpool_graph(c, 7, 5, fh, fw, stride, padding)
    rng = np.random.default_rng(c)
    x = pack_bits(rng.random((1, 7, 5, c)) < 0.8)  # mostly -1 so that AND is not trivially 0
    ref = executor.run(g, [x])[g.outputs[0]]
    # oracle: max over the in-bounds window of +-1 values
    vals = 1 - 2 * unpack_bits(x, c).astype(np.int64)
    p = executor.impl_for(g.ops[0]).prepare(g, g.ops[0])
    n, oh, ow, _ = p["out"]
    want = np.zeros((1, oh, ow, c), np.int64)
    for oy in range(oh):
        for ox in range(ow):
            y0, x0 = oy * stride - p["pad_h"], ox * stride - p["pad_w"]
            win = vals[0, max(0, y0) : y0 + fh, max(0, x0) : x0 + fw]
            want[0, oy, ox] = win.reshape(-1, c).max(axis=0)
    assert np.array_equal(unpack_bits(ref, c), (want < 0).astype(np.uint8))
    run_c_vs_ref(g, [[x]])


@pytest.mark.parametrize("dtype", ["float32", "int8"])
@pytest.mark.parametrize("c", [1, 31, 32, 33, 200])
def test_lce_quantize_dequantize(dtype, c):
    rng = np.random.default_rng(c)
    q = Quant(np.array([0.1], np.float32), np.array([-3], np.int64)) if dtype == "int8" else None
    gq = _graph("CUSTOM:LceQuantize", [((2, 3, c), dtype, q), ((2, 3, words(c)), "int32")], [0], 1, {}, [0])
    x = rng.normal(size=(2, 3, c)).astype(np.float32) if dtype == "float32" else rng.integers(-128, 128, (2, 3, c)).astype(np.int8)
    if dtype == "float32":
        x.flat[0] = 0.0  # zero is +1 (bit clear)
        specials = [-0.0, np.inf, -np.inf, -1e-45, 1e-45, -3.4e38, np.nan, -np.nan]  # -0: +1; -inf and negative subnormals: -1
        x.flat[1: 1 + min(len(specials), x.size - 1)] = specials[: x.size - 1]
    ref = executor.run(gq, [x])[1]
    thr = -3 if dtype == "int8" else 0
    assert np.array_equal(unpack_bits(ref, c), (x.astype(np.float64) < thr).astype(np.uint8))
    run_c_vs_ref(gq, [[x]])
    gd = _graph("CUSTOM:LceDequantize", [((2, 3, words(c)), "int32"), ((2, 3, c), dtype, q)], [0], 1, {}, [0])
    d = executor.run(gd, [ref])[1]
    if dtype == "float32":
        assert np.array_equal(d, np.where(x < 0, -1.0, 1.0).astype(np.float32))
    else:
        assert set(np.unique(d)) <= {7, -13}
    run_c_vs_ref(gd, [[ref]])


@pytest.mark.parametrize("k", [2, 3, 64, 95, 960, 961, 1000, 2240])
def test_xor_popcount_saturated_words(k):
    """Per-byte partial counts must not overflow: all-set input bits against all-clear (and
    random) weights over 2..70 words (chunks of 30 words, triples and leftovers)."""
    g, rng = bfc_graph(k, 3, "f32")
    w = g.tensors[1].data
    w[0] = pack_bits(np.zeros((1, k), bool))[0]
    w[1] = pack_bits(np.ones((1, k), bool))[0]
    g.tensors[2].data = np.ones(3, np.float32)
    g.tensors[3].data = np.zeros(3, np.float32)
    x = pack_bits(np.ones((1, k), bool))
    ref = executor.run(g, [x])[g.outputs[0]]
    assert ref[0, 0] == -k and ref[0, 1] == k
    run_c_vs_ref(g, [[x], [random_packed(rng, (1, k))]])
