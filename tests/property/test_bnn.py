"""Property test: random binary convolutions (channels, shapes, strides, dilation, padding,
pad value, output kind) - EVO's generated C equals the NumPy reference bit for bit (int8 and
bit-packed) or within 1e-5 relative (float), and the float output equals a +-1 float oracle."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from evo.ops.bnn import unpack_bits
from evo.ref import executor
from tests.unit.test_bnn_kernels import bnn_graph, float_oracle, random_packed, run_c_vs_ref


@st.composite
def configs(draw):
    cin = draw(st.sampled_from([1, 7, 31, 32, 33, 48, 64, 65, 96, 200]))
    cout = draw(st.integers(1, 70))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.sampled_from(["SAME", "VALID"]))
    h = draw(st.integers((kh - 1) * dil[0] + 1, 8))
    w = draw(st.integers((kw - 1) * dil[1] + 1, 8))
    out = draw(st.sampled_from(["f32", "s8", "bin"]))
    pad_values = 1 if out == "bin" else draw(st.sampled_from([0, 1]))
    return dict(cin=cin, cout=cout, h=h, w=w, kh=kh, kw=kw, stride=stride, dil=dil, padding=padding, pad_values=pad_values, out=out,
                seed=draw(st.integers(0, 2**16)))


@settings(max_examples=12)
@given(configs())
def test_bconv_c_equals_reference(cfg):
    g, rng = bnn_graph(**cfg)
    run_c_vs_ref(g, [[random_packed(rng, (1, cfg["h"], cfg["w"], cfg["cin"]))]])


@settings(max_examples=40)
@given(configs())
def test_reference_equals_float_oracle(cfg):
    cfg = dict(cfg, out="f32")
    g, rng = bnn_graph(**cfg)
    g.tensors[2].data = np.ones(cfg["cout"], np.float32)
    g.tensors[3].data = np.zeros(cfg["cout"], np.float32)
    x = random_packed(rng, (1, cfg["h"], cfg["w"], cfg["cin"]))
    got = executor.run(g, [x])[g.outputs[0]]
    want = float_oracle(unpack_bits(x, cfg["cin"]), unpack_bits(g.tensors[1].data, cfg["cin"]), cfg["stride"], cfg["dil"], cfg["padding"], cfg["pad_values"])
    assert np.array_equal(got, want.astype(np.float32))
