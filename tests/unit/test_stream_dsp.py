"""The DSP convolution inside fused row-streamed groups (conv2d_s8_dsp_row.c on
conv2d_s8_dsp_direct.c): the memory-first M4 build of a conv chain streams it on the DSP row
kernel without raising the portable arena, and runs bit-exact with TFLM on the host through the
kernels' portable C twins (channels that are not multiples of 4, padding, strides, 1x1)."""
from __future__ import annotations

import numpy as np
import pytest

from evo.codegen.lower import lower
from evo.compiler import compile_graph
from evo.frontend.tflite_reader import read_tflite
from evo.frontend.tflite_writer import write_tflite
from evo.inputs import random_inputs
from evo.target import HOST, Target
from evo.targets.host import HostModel
from evo.verify.tflm import run_tflm
from tests.support.conv_chain import compiled_on_variant, conv_chain

M4 = Target("M4")
CHAINS = {  # wide intermediates, small input and output: streaming lowers the arena
    "rgb_first_layer": (1, 16, 14, 3, [(16, 3, 1, "SAME"), (16, 3, 1, "SAME"), (4, 3, 2, "SAME")]),
    "deep_valid": (2, 14, 13, 8, [(32, 3, 1, "VALID"), (24, 3, 1, "SAME"), (4, 1, 1, "SAME")]),
    "odd_channels": (3, 15, 11, 6, [(21, 3, 1, "SAME"), (18, 3, 2, "SAME"), (5, 1, 2, "SAME")]),
    "wide_kernel": (4, 14, 14, 4, [(24, 5, 1, "SAME"), (20, 3, 1, "SAME"), (4, 3, 2, "VALID")]),
}


def _row_kernels(prog) -> set[str]:
    return {v["row"].text for sp in prog.steps if sp.call is not None and sp.call.func == "evo_stream_run"
            for _, sym, entries in sp.call.prelude if sym.endswith("_stages[]") for v in entries}


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_streamed_dsp_conv_bit_exact_at_the_portable_arena(name):
    model = write_tflite(conv_chain(*CHAINS[name]))
    g = read_tflite(model)
    compiled = compile_graph(g, target=M4)
    prog = compiled.program
    assert prog.streams and prog.stream_specialised
    assert "evo_conv2d_s8_dsp_row" in _row_kernels(prog)
    assert prog.plan.arena_bytes <= lower(g, target=HOST).plan.arena_bytes
    inputs = random_inputs(g, 5)
    want, _ = run_tflm(model, g, inputs)
    with HostModel.build(g, compiled=compiled) as m:
        got = m.run(inputs)
    assert np.array_equal(got[0], want[0])


@pytest.mark.parametrize("pixels", [0, 1, 2])
@pytest.mark.parametrize("name", ["rgb_first_layer", "wide_kernel"])  # staged fields; whole steps, 5x5, VALID
def test_every_row_kernel_mode_bit_exact(name, pixels):
    model = write_tflite(conv_chain(*CHAINS[name]))
    g = read_tflite(model)
    compiled = compiled_on_variant(g, M4, pixels)
    (sp,) = compiled.program.streams.values()
    convs = [st.call for st in sp.stages]
    assert all(c.func == "evo_conv2d_s8_dsp_direct" for c in convs)
    assert any(c.args[1].suffix == ("mm" if pixels else "mmq") for c in convs)
    inputs = random_inputs(g, 6)
    want, _ = run_tflm(model, g, inputs)
    with HostModel.build(g, compiled=compiled) as m:
        got = m.run(inputs)
    assert np.array_equal(got[0], want[0])
