"""Cortex-M55 (MVE / Helium) under QEMU mps3-an547: the vector requantisation of evo/mve.h against
the scalar evo_requantize on rounding boundaries and random operands, and the MVE CONV_2D /
FULLY_CONNECTED / DEPTHWISE_CONV_2D kernels on random shapes (channel and depth tails, padding,
strides, dilation, pruned channels, batches, per-tensor weight zero points) bit-exact with TFLM,
under both kernel policies (memory-first runs depthwise layers through the row-streaming wrapper
and the scratch-free variant)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from evo.compiler import compile_graph
from evo.frontend.tflite_reader import read_tflite
from evo.frontend.tflite_writer import write_tflite
from evo.inputs import random_inputs
from evo.targets.boards import load_board
from evo.targets.firmware import _linker_script, build_firmware, target_for_board
from evo.targets.host import HostModel
from evo.targets.qemu import run_qemu
from evo.verify.tflm import run_tflm
from tests.property.test_conv import _fc_model
from tests.support.merge import merge_graphs
from tests.unit.test_conv_dsp_host import _conv, _pruned_conv

ROOT = Path(__file__).resolve().parents[2]
BOARD = "qemu-mps3-an547"
pytestmark = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="the Arm toolchain or qemu-system-arm is not installed",
)

# Every right shift 0..31 and left shift 1..8; x such that the high multiply by 2^30 (exactly x / 2
# for even x) lands on k * 2^e + 2^(e-1) + d (the ties and their neighbours), the int32 extremes,
# and 200 000 random (x, multiplier, shift) triples.
REQUANT_CHECK = r"""
#include <stdio.h>
#include "evo/mve.h"
#include "evo_board.h"

static uint32_t rng = 2463534242u;
static uint32_t next(void) { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }

static long checks, bad;

static void check(int32_t x, int32_t m, int32_t shift)
{
    int32_t q[16], out[4], c;
    for (c = 0; c < 4; ++c) {
        q[c] = m;
        q[4 + c] = shift > 0 ? shift : 0;
        q[8 + c] = shift > 0 ? 0 : shift;
        q[12 + c] = shift < 0 ? -1 : 0;
    }
    vst1q_s32(out, evo_mve_requantize(vdupq_n_s32(x), q));
    ++checks;
    if (out[0] != evo_requantize(x, m, shift)) {
        if (bad++ < 5) {
            char line[120];
            snprintf(line, sizeof line, "MISMATCH x=%ld m=%ld shift=%ld mve=%ld ref=%ld\n", (long)x, (long)m, (long)shift,
                     (long)out[0], (long)evo_requantize(x, m, shift));
            evo_console_write(line);
        }
    }
}

int main(void)
{
    static const int32_t mults[] = {0, 1, 1 << 30, (1 << 30) + 1, 1518500250, 2147483646, 2147483647};
    static const int32_t extremes[] = {INT32_MIN, INT32_MIN + 1, -2, -1, 0, 1, 2, INT32_MAX - 1, INT32_MAX};
    char line[64];
    int32_t shift, e, k, d, i, j;
    for (shift = -31; shift <= 8; ++shift) {
        e = shift < 0 ? -shift : 0;
        for (i = 0; i < (int32_t)(sizeof mults / sizeof mults[0]); ++i) {
            for (j = 0; j < (int32_t)(sizeof extremes / sizeof extremes[0]); ++j) {
                check(extremes[j], mults[i], shift);
            }
        }
        for (k = -4; k <= 4; ++k) {
            for (d = -1; d <= 1; ++d) {
                const int64_t v = (int64_t)k * ((int64_t)1 << e) + (e ? ((int64_t)1 << (e - 1)) : 0) + d;
                if (2 * v >= INT32_MIN && 2 * v <= INT32_MAX) {
                    check((int32_t)(2 * v), 1 << 30, shift);
                }
            }
        }
    }
    for (i = 0; i < 200000; ++i) {
        const int32_t x = (int32_t)next() >> (next() % 24);
        check(x, (int32_t)(0x40000000u | (next() >> 2)), -(int32_t)(next() % 32) + (int32_t)(next() % 2));
    }
    snprintf(line, sizeof line, "EVO-CHECKS %ld %ld\n", checks, bad);
    evo_console_write(line);
    return bad ? 1 : 0;
}
"""


def test_vector_requantisation_equals_tflm_on_boundaries(tmp_path):
    board = load_board(BOARD)
    (tmp_path / "check.c").write_text(REQUANT_CHECK)
    (tmp_path / "board.ld").write_text(_linker_script(board, False))
    common = ROOT / "boards" / "common"
    elf = tmp_path / "check.elf"
    cmd = ["arm-none-eabi-gcc", *board.cflags, "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror",
           f"-I{ROOT / 'kernels_c' / 'include'}", f"-I{common}", str(tmp_path / "check.c"), str(common / "startup.c"),
           str(common / "board_semihost.c"), "-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs",
           f"-L{common}", f"-T{tmp_path / 'board.ld'}", "-o", str(elf)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    proc = subprocess.run(["qemu-system-arm", "-M", board.qemu_machine, "-nographic", "-monitor", "none", "-serial", "null",
                           "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    console = proc.stdout + proc.stderr
    line = next(ln for ln in console.splitlines() if ln.startswith("EVO-CHECKS"))
    checks, bad = map(int, line.split()[1:])
    assert proc.returncode == 0 and bad == 0 and checks > 200000, console[-600:]


def _cases() -> list[bytes]:
    rng = np.random.default_rng(55)
    models = []
    for seed in range(10):  # random convolution shapes: 1x1 (direct and padded) and general (im2col)
        k = int(rng.choice([1, 1, 2, 3, 5]))
        kw = k if rng.random() < 0.7 else int(rng.integers(1, 4))
        dil = (1, 1) if rng.random() < 0.7 else (2, 2)
        need_h, need_w = (k - 1) * dil[0] + 1, (kw - 1) * dil[1] + 1
        models.append(_conv(100 + seed, h=int(rng.integers(need_h, 9)), w=int(rng.integers(need_w, 9)),
                            cin=int(rng.integers(1, 40)), cout=int(rng.integers(1, 23)), kh=k, kw=kw,
                            stride=(int(rng.integers(1, 3)), int(rng.integers(1, 3))), dil=dil,
                            pad=str(rng.choice(["SAME", "VALID"])), act=str(rng.choice(["NONE", "RELU", "RELU6"])),
                            per_channel=bool(rng.random() < 0.8)))
    for seed in range(6):  # depthwise: 3x3 (unrolled) and other windows, channel tails, borders
        k, dil = int(rng.choice([3, 3, 2, 5])), 1 if seed % 3 else 2
        need = (k - 1) * dil + 1
        models.append(_conv(200 + seed, h=int(rng.integers(need, need + 6)), w=int(rng.integers(need, need + 6)), cin=int(rng.integers(16, 42)),
                            cout=0, kh=k, kw=k, stride=(int(rng.integers(1, 3)),) * 2, dil=(dil, dil),
                            pad=str(rng.choice(["SAME", "VALID"])), depthwise=True, per_channel=bool(seed % 2)))
    models.append(_pruned_conv(13, 8, 3, act="NONE"))
    models.append(_pruned_conv(14, 11, 1))
    models.append(_pruned_conv(15, 9, 1, fc=True))
    from tests.unit.test_fc_dsp_direct import CASES as FC
    for s, nb, u, k, act, pc, izp, ozp, wzp in FC:  # units/depth tails, batches, per-tensor weight zero points
        models.append(_fc_model(s, "int8", (nb, k), u, k, act, pc, True, izp, ozp, wzp, 0.03, 0.2, False))
    models.append(_fc_model(16, "int8", (1, 257), 37, 257, "RELU", True, False, -128, 3, 0, 0.02, 0.1, False))
    return models


@pytest.mark.parametrize("prefer", ["speed", "memory"])
def test_mve_kernels_bit_exact_on_m55(prefer, tmp_path):
    board = load_board(BOARD)
    graphs = [read_tflite(m) for m in _cases()]
    g = merge_graphs(graphs, "mve_cases")
    inputs = random_inputs(g, 21)
    want, pos = [], 0
    for gk in graphs:
        out, _ = run_tflm(write_tflite(gk), gk, inputs[pos:pos + len(gk.inputs)])
        want += list(out)
        pos += len(gk.inputs)
    compiled = compile_graph(g, target=target_for_board(board), prefer=prefer)
    calls = [s.call for s in compiled.program.steps if s.call]
    funcs = [c.func for c in calls]
    assert sum(f.startswith("evo_conv2d_s8_mve") for f in funcs) >= 10 and funcs.count("evo_fully_connected_s8_mve") >= 8, funcs
    dw = [c for c in calls if c.func.startswith("evo_depthwise_conv2d_s8_mve")]
    assert len(dw) >= 5, funcs
    r = run_qemu(build_firmware(compiled, board, inputs, tmp_path / "fw"))
    assert r.exit_code == 0 and r.status == 0
    with HostModel.build(g, compiled=compiled) as host:  # the kernels' portable C (host build) too
        host_out = host.run(inputs)
    for i, w in enumerate(want):
        assert np.array_equal(np.asarray(r.outputs[i]).reshape(w.shape), w), f"case output {i} differs from TFLM on M55"
        assert np.array_equal(np.asarray(host_out[i]).reshape(w.shape), w), f"case output {i} differs from TFLM on the host"


def test_lean_depthwise_on_m55(tmp_path):
    """A lone depthwise layer: its window scratch would raise the arena, so memory-first takes the
    scratch-free variant (border taps tested one by one)."""
    board = load_board(BOARD)
    model = _conv(300, h=7, w=6, cin=20, cout=0, kh=3, kw=3, stride=(1, 1), depthwise=True, in_zp=-128)
    g = read_tflite(model)
    inputs = random_inputs(g, 3)
    want, _ = run_tflm(model, g, inputs)
    compiled = compile_graph(g, target=target_for_board(board), prefer="memory")
    calls = [s.call for s in compiled.program.steps if s.call]
    assert [c.func.removesuffix("_rows") for c in calls] == ["evo_depthwise_conv2d_s8_mve"] and calls[0].params["scratch_bytes"] == 0
    r = run_qemu(build_firmware(compiled, board, inputs, tmp_path / "fw"))
    assert r.exit_code == 0 and r.status == 0
    assert np.array_equal(np.asarray(r.outputs[0]).reshape(want[0].shape), want[0])
