"""The DSP convolution row kernel inside a fused row-streamed group on a Cortex-M4F core
(mps2-an386): the default (memory-first) build of a conv chain streams it on
evo_conv2d_s8_dsp_row without raising the portable arena, and every mode of the kernel (input
widened in registers, single widened pixels, widened pairs on the assembly engine) is bit-exact
with TFLM on the core."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from evo.codegen.lower import lower
from evo.compiler import compile_graph
from evo.frontend.tflite_reader import read_tflite
from evo.frontend.tflite_writer import write_tflite
from evo.inputs import random_inputs
from evo.target import HOST
from evo.targets.boards import load_board
from evo.targets.firmware import build_firmware, target_for_board
from evo.targets.qemu import run_qemu
from evo.verify.tflm import run_tflm
from tests.support.conv_chain import compiled_on_variant, conv_chain

pytestmark = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="the Arm toolchain or qemu-system-arm is not installed",
)
BOARD = "qemu-mps2-an386"
# RGB first layer (staged fields), whole-step channels, odd channel counts, a strided 1x1
CHAIN = (7, 14, 12, 3, [(16, 3, 1, "SAME"), (20, 3, 1, "SAME"), (9, 3, 2, "SAME"), (6, 1, 1, "SAME")])


def _run(compiled, g, inputs, tmp_path, tag):
    r = run_qemu(build_firmware(compiled, load_board(BOARD), inputs, tmp_path / tag))
    assert r.exit_code == 0 and r.status == 0, f"{tag}: exit {r.exit_code}, status {r.status}"
    return np.asarray(r.outputs[0])


def test_default_build_streams_on_the_dsp_row_kernel(tmp_path):
    model = write_tflite(conv_chain(*CHAIN))
    g = read_tflite(model)
    b = load_board(BOARD)
    inputs = random_inputs(g, 2)
    want, _ = run_tflm(model, g, inputs)
    compiled = compile_graph(g, target=target_for_board(b))
    prog = compiled.program
    (sp,) = prog.streams.values()
    assert {st.call.func for st in sp.stages} == {"evo_conv2d_s8_dsp_direct"} and prog.stream_specialised
    assert prog.plan.arena_bytes <= lower(g, target=HOST).plan.arena_bytes
    assert np.array_equal(_run(compiled, g, inputs, tmp_path, "default").reshape(want[0].shape), want[0])
    for pixels in (0, 1, 2):
        got = _run(compiled_on_variant(g, target_for_board(b), pixels), g, inputs, tmp_path, f"mode{pixels}")
        assert np.array_equal(got.reshape(want[0].shape), want[0]), f"mode {pixels} differs from TFLM"
