"""The bit-sliced binary convolution (evo/ops/bnn_sliced.py, kernels_c/src/bconv2d_sliced_bin.c),
the M4 target's kernel for bit-packed outputs, run on the host through its plain-C twin: equal to
EVO's NumPy reference over input channels 1..200, output channels that fill 32-channel groups
partly, strides, dilation, SAME (one-padding) and VALID, and over input densities from all clear
to all set (more than half the field set: the zero bits are summed instead), thresholds at and
beyond [-1, K]; its transposed table and start planes; the choice between it and the tiled
kernel by output channels; and the memory policy falling back to the tiled kernel where the
list's scratch would raise the arena."""
from __future__ import annotations

from unittest import mock

import numpy as np
import pytest

import evo.ops.bnn_tiled as bnn_tiled
from evo.compiler import compile_graph
from evo.ir import Graph, Tensor
from evo.ops.bnn import pack_bits, unpack_bits
from evo.ops.bnn_sliced import planes, scratch_bytes, sliced_init, sliced_table
from evo.ref import executor
from evo.target import Target
from evo.targets.host import HostModel
from tests.unit.test_bnn_kernels import assert_close, bnn_graph

M4 = Target("M4")
DENSITIES = (0.0, 0.1, 0.5, 0.55, 0.9, 1.0)


def compile_sliced(g):
    """The bit-sliced kernel whatever the channel count (the M4 target picks it from ~22 channels)."""
    with mock.patch.object(bnn_tiled, "uses_sliced", lambda p: p["out_kind"] == "bin"):
        return compile_graph(g, target=M4, prefer="speed")


def run_sliced(g, rng, densities=DENSITIES):
    compiled = compile_sliced(g)
    assert [s.call.func for s in compiled.program.steps] == ["evo_bconv2d_sliced_bin"]
    shape = g.tensor(g.inputs[0]).shape[:-1] + (g.ops[0].attrs["channels_in"],)
    with HostModel.build(g, compiled=compiled) as m:
        for d in densities:
            x = [pack_bits(rng.random(shape) < d).astype(np.int32)]
            assert_close(m.run(x)[0], executor.run(g, x)[g.outputs[0]], f"{g.name} density {d}")


@pytest.mark.parametrize("cin", [1, 5, 16, 17, 31, 32, 33, 48, 64, 96, 128, 200])
def test_sliced_channels(cin):
    cases = (("SAME", 1, (1, 1), (1, 1), 64), ("SAME", 1, (2, 2), (1, 1), 70), ("VALID", 0, (1, 2), (1, 1), 6),
             ("VALID", 1, (1, 1), (2, 1), 33), ("SAME", 1, (2, 1), (1, 2), 128), ("SAME", 1, (1, 1), (1, 1), 1))
    for padding, pv, stride, dil, cout in cases:
        g, rng = bnn_graph(cin, cout, 6, 9, 3, 2, stride, dil, padding, pv, "bin", seed=cin + cout)
        run_sliced(g, rng)


@pytest.mark.parametrize("cin,cout,h,w,kh,kw", [(16, 64, 8, 8, 3, 3), (64, 128, 4, 4, 3, 3), (128, 128, 4, 4, 3, 3), (40, 20, 5, 7, 5, 3),
                                                (96, 40, 5, 3, 1, 1), (3, 9, 4, 4, 1, 1)])
def test_sliced_shapes(cin, cout, h, w, kh, kw):
    """The bnn_digits layers, a large kernel, and 1x1 fields (K down to 3)."""
    g, rng = bnn_graph(cin, cout, h, w, kh, kw, (1, 1), (1, 1), "SAME", 1, "bin", seed=cin)
    run_sliced(g, rng)


def test_sliced_thresholds_at_and_beyond_the_range():
    """Thresholds -1 and K (and beyond: clipped) give all-set and all-clear channels."""
    g, rng = bnn_graph(33, 40, 5, 6, 3, 3, (1, 1), (1, 1), "SAME", 1, "bin", seed=3)
    k = 9 * 33
    thr = g.tensors[4].data
    thr[:8] = [-1, k, -5, k + 7, -(2**31), 2**31 - 1, 0, k - 1]
    run_sliced(g, rng)


def test_sliced_batches():
    g, rng = bnn_graph(48, 36, 5, 4, 3, 3, (1, 1), (1, 1), "SAME", 1, "bin", seed=5)
    ts = [Tensor(index=t.index, name=t.name, shape=(3,) + tuple(t.shape[1:]) if t.index in (0, 5) else t.shape, dtype=t.dtype, quant=t.quant,
                 data=t.data) for t in g.tensors]
    g = Graph(tensors=ts, ops=g.ops, inputs=g.inputs, outputs=g.outputs, input_names=g.input_names, output_names=g.output_names, name=g.name,
              file_inputs=g.file_inputs, file_outputs=g.file_outputs)
    run_sliced(g, rng)


def test_sliced_layout():
    rng = np.random.default_rng(0)
    co, cin, kh, kw = 40, 48, 2, 3
    bits = rng.random((co, kh, kw, cin)) < 0.5
    filt = pack_bits(bits).astype(np.int32)
    k = kh * kw * cin
    table = sliced_table(filt, cin).view(np.uint32)
    assert table.shape == (2, k + 1) and not table[:, k].any()
    lanes = (table[..., None] >> np.arange(32, dtype=np.uint32)) & 1  # [group, bit, lane]
    got = lanes.transpose(0, 2, 1).reshape(64, k + 1)[:, :k]
    assert np.array_equal(got[:co], bits.reshape(co, k)) and not got[co:].any()
    thr = rng.integers(-3, k + 3, co)
    init = sliced_init(filt, cin, thr).view(np.uint32)
    n = planes(k)
    assert init.shape == (2, 2, n + 1) and 2 ** (n - 1) >= k + 2
    vals = (((init[..., None] >> np.arange(32, dtype=np.uint32)) & 1).astype(np.int64) << np.arange(n + 1)[:, None]).sum(2)  # [group, 2, lane]
    pop, t = bits.reshape(co, k).sum(-1), np.clip(thr, -1, k)
    assert np.array_equal(vals[:, 0].reshape(-1)[:co], (1 << n) + t - pop)
    assert np.array_equal(vals[:, 1].reshape(-1)[:co], (1 << n) - 1 - t - pop)
    assert scratch_bytes(k) == 4 * (k // 2 + 15 + n)


def test_sliced_output_bits_above_channels_are_clear():
    g, rng = bnn_graph(32, 5, 4, 4, 3, 3, (1, 1), (1, 1), "SAME", 1, "bin", seed=9)
    g.tensors[4].data[:] = -1  # every channel set
    compiled = compile_sliced(g)
    with HostModel.build(g, compiled=compiled) as m:
        out = np.asarray(m.run([pack_bits(rng.random((1, 4, 4, 32)) < 0.5).astype(np.int32)])[0]).view(np.uint32)
    assert np.all(out == 0x1F)
    assert np.array_equal(unpack_bits(out.view(np.int32), 5), np.ones((1, 4, 4, 5), np.uint8))


def test_memory_policy_falls_back_where_the_list_raises_the_arena():
    """A large field on a small map: the list (K / 2 words) would be most of the arena."""
    g, _ = bnn_graph(512, 64, 3, 3, 3, 3, (1, 1), (1, 1), "SAME", 1, "bin", seed=1)
    assert scratch_bytes(9 * 512) > 9000
    speed = [s.call.func for s in compile_graph(g, target=M4, prefer="speed").program.steps]
    memory = [s.call.func for s in compile_graph(g, target=M4, prefer="memory").program.steps]
    assert speed == ["evo_bconv2d_sliced_bin"] and memory != speed


@pytest.mark.parametrize("cout,sliced", [(1, False), (8, False), (21, False), (22, True), (32, True), (33, False), (34, True), (65, True), (129, True)])
def test_kernel_choice_by_channels(cout, sliced):
    """The bit-sliced kernel from 10 + 12 * groups output channels (so below 22, and at 33), the tiled one below."""
    g, _ = bnn_graph(64, cout, 4, 4, 3, 3, (1, 1), (1, 1), "SAME", 1, "bin", seed=2)
    func = compile_graph(g, target=M4, prefer="speed").program.steps[0].call.func
    assert func == ("evo_bconv2d_sliced_bin" if sliced else "evo_bconv2d_tiled_bin")
