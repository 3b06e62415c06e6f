"""The Cortex-M-tuned binary convolution (evo/ops/bnn_tiled.py, kernels_c/src/bconv2d_tiled_*.c)
compiled for the M4 target and run on the host through its plain-C fallback: equal to EVO's
NumPy reference (itself checked against LCE's stored outputs and a float oracle) over input
channels 1..200, output channels that are not multiples of 4 or 32, strides, SAME/VALID, both
pad values, non-square kernels and inputs, dilation. Bit-packed outputs run twice: through the
bit-sliced kernel the M4 target picks (evo/ops/bnn_sliced.py) and through the tiled one (its
lean variant)."""
from __future__ import annotations

from unittest import mock

import numpy as np
import pytest

import evo.ops.bnn_tiled as bnn_tiled

from evo.compiler import compile_graph
from evo.ops.bnn import pack_bits
from evo.ops.bnn_tiled import field_filter, field_words, tap_pack, tap_popcounts, tile_filter
from evo.ref import executor
from evo.target import Target
from evo.targets.host import HostModel
from tests.unit.test_bnn_kernels import assert_close, bnn_graph, random_packed

M4 = Target("M4")
CHANNELS = [1, 5, 16, 17, 31, 32, 33, 48, 64, 96, 200]


def run_m4_vs_ref(g, rng, shape, runs=2):
    kinds = ["sliced", "tiled"] if g.tensor(g.outputs[0]).dtype == "int32" else ["tiled"]
    for kind in kinds:
        with mock.patch.object(bnn_tiled, "uses_sliced", lambda p: kind == "sliced" and p["out_kind"] == "bin"):
            compiled = compile_graph(g, target=M4, prefer="speed")  # the specialised kernels themselves, whatever their scratch costs
        assert [s.call.func for s in compiled.program.steps][0].startswith(f"evo_bconv2d_{kind}_")
        with HostModel.build(g, compiled=compiled) as m:
            for _ in range(runs):
                x = [random_packed(rng, shape).astype(np.int32)]
                assert_close(m.run(x)[0], executor.run(g, x)[g.outputs[0]], g.name)


@pytest.mark.parametrize("cin", CHANNELS)
def test_tiled_channels(cin):
    cases = (("f32", "SAME", 0, (1, 1), (1, 1), 37), ("bin", "SAME", 1, (2, 2), (1, 1), 70), ("s8", "VALID", 0, (1, 2), (1, 1), 6),
             ("f32", "SAME", 1, (2, 1), (2, 1), 3), ("s8", "SAME", 0, (1, 1), (1, 2), 9), ("bin", "VALID", 0, (1, 1), (1, 1), 33))
    for out, padding, pv, stride, dil, cout in cases:
        g, rng = bnn_graph(cin, cout, 6, 9, 3, 2, stride, dil, padding, pv, out, seed=cin + cout)
        run_m4_vs_ref(g, rng, (1, 6, 9, cin))


@pytest.mark.parametrize("cin,pv,out", [(96, 0, "f32"), (128, 1, "bin"), (160, 0, "s8")])
def test_tiled_border_skips(cin, pv, out):
    """Rows of padded taps and, with >= 3 words a tap, a row's first or last block at the left
    and right borders are not counted (their filter popcounts are added instead)."""
    for h, w, dil in ((4, 4, (1, 1)), (5, 7, (2, 1)), (3, 6, (1, 2))):
        g, rng = bnn_graph(cin, 9, h, w, 3, 3, (1, 1), dil, "SAME", pv, out, seed=cin + h)
        run_m4_vs_ref(g, rng, (1, h, w, cin))


@pytest.mark.parametrize("cin,kh,kw,pv,out", [(16, 3, 3, 1, "bin"), (40, 2, 2, 0, "s8"), (31, 5, 1, 1, "f32"), (7, 3, 3, 0, "f32")])
def test_tiled_two_word_tail(cin, kh, kw, pv, out):
    """Fields of 3k + 2 words (16 channels 3x3: 5 words) end with a two-word tail, not a block."""
    g, rng = bnn_graph(cin, 7, 5, 6, kh, kw, (1, 1), (1, 1), "SAME", pv, out, seed=cin)
    run_m4_vs_ref(g, rng, (1, 5, 6, cin))


@pytest.mark.parametrize("out", ["f32", "bin"])
def test_tiled_pointwise_and_large_kernel(out):
    g, rng = bnn_graph(96, 40, 5, 3, 1, 1, padding="VALID", out=out)
    run_m4_vs_ref(g, rng, (1, 5, 3, 96))
    g, rng = bnn_graph(40, 11, 9, 7, 5, 3, (1, 1), (1, 1), "SAME", 0 if out == "f32" else 1, out, act=1)
    run_m4_vs_ref(g, rng, (1, 9, 7, 40))


def test_tile_layout_and_tap_popcounts():
    rng = np.random.default_rng(0)
    filt = pack_bits(rng.random((5, 2, 2, 40)) < 0.5).astype(np.int32)  # 2 words per tap, 8 per filter: 2 blocks + a 2-word tail
    t = tile_filter(filt, 40).reshape(3, 16)  # per pair: [block][lane][3], then [lane][2]
    flat = np.zeros((6, 8), np.int32)
    flat[:5] = filt.reshape(5, -1)  # a zero filter pairs channel 4
    for c in range(6):
        pair, lane = divmod(c, 2)
        blocks = t[pair, :12].reshape(2, 2, 3)[:, lane].reshape(-1)
        assert list(blocks) + list(t[pair, 12 + 2 * lane: 14 + 2 * lane]) == list(flat[c])
    assert field_words(40, 4, 2) == 8 and field_words(32, 4, 1) == 6 and field_words(32, 2, 1) == 3  # 3k + 1 and < 3 words: next block
    pops = tap_popcounts(filt).reshape(5, 4)
    bits = np.unpackbits(filt.astype("<u4").view(np.uint8), axis=-1).reshape(5, 4, -1).sum(-1)
    assert np.array_equal(pops, bits)


def test_tap_packing_layout():
    """16 or fewer input channels: taps share field words (16 channels: two taps a word)."""
    rng = np.random.default_rng(1)
    for cin, pack in ((16, 2), (5, 6), (1, 32)):
        bits = rng.random((3, 3, 3, cin)) < 0.5
        filt = pack_bits(bits).astype(np.int32)
        assert tap_pack(cin) == pack
        fw = field_filter(filt, cin)
        assert fw.shape == (3, field_words(cin, 9, 1)) == (3, {16: 5, 5: 3, 1: 3}[cin])
        for c in range(3):
            stream = np.unpackbits(fw[c].astype("<u4").view(np.uint8), bitorder="little")
            for t in range(9):
                at = 32 * (t // pack) + cin * (t % pack)
                assert list(stream[at: at + cin]) == list(bits[c].reshape(9, cin)[t].astype(np.uint8))


@pytest.mark.parametrize("mode,codes,cin,stride,dil", [
    ("pad0", "keras", 64, (1, 1), (1, 1)),
    ("pad0", "offset", 31, (2, 1), (1, 2)),
    ("pad1", "keras", 33, (1, 1), (1, 1)),
    ("valid", "keras", 48, (1, 1), (2, 1)),
])
def test_tiled_binarized_int8_chain(mode, codes, cin, stride, dil):
    """Binarized stock int8 convolutions (q8 output through TFLM's requantisation, zero-point
    padding corrected with the per-tap popcounts): equal to the int8 model as written."""
    from tests.unit.test_bnn_int8 import _binarized, chain_graph

    g = chain_graph(cin, 7, 6, stride=stride, dil=dil, mode=mode, codes=codes, seed=cin)
    bg = _binarized(g)
    for sliced in (True, False):  # bit-packed outputs: the bit-sliced kernel, then the tiled one
        with mock.patch.object(bnn_tiled, "uses_sliced", lambda p: sliced and p["out_kind"] == "bin"):
            compiled = compile_graph(bg, target=M4, prefer="speed")
        funcs = [s.call.func for s in compiled.program.steps if s.call is not None]
        assert any(f.startswith("evo_bconv2d_tiled_") or f.startswith("evo_bconv2d_sliced_") for f in funcs), funcs
        rng = np.random.default_rng(1)
        with HostModel.build(bg, compiled=compiled) as m:
            for _ in range(2):
                x = rng.integers(-128, 128, g.tensor(g.inputs[0]).shape).astype(np.int8)
                want = executor.run(g, [x])[g.outputs[0]]
                assert np.array_equal(np.asarray(m.run([x])[0]).reshape(want.shape), want)
