"""Memory pools and the RAM-budget ext memory on a Cortex-M7 under QEMU (mps2-an500): the
linker puts each array in its board region (SSRAM2/3 at 0x20000000, PSRAM at 0x60000000),
and the outputs are bit-exact with the host run of the plain (one-arena, unbudgeted) model."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from evo.codegen.lower import lower
from evo.commands import run_on_board
from evo.frontend.tflite_reader import load_model
from evo.memory.evict import min_budget

pytestmark = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="the Arm toolchain or qemu-system-arm is not installed",
)
BOARD = "qemu-mps2-an500"
PSRAM = range(0x60000000, 0x61000000)
SSRAM = range(0x20000000, 0x20400000)


def _addresses(elf) -> dict[str, int]:
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    return {p[2]: int(p[0], 16) for p in (ln.split() for ln in out.splitlines()) if len(p) == 3}


def test_pooled_kws_in_two_regions(shared_models, tmp_path):
    r = run_on_board(str(shared_models / "kws_ref_model.tflite"), BOARD, None, 0, (0.0, 1.0), 120.0,
                     keep_dir=str(tmp_path), pools="ram:2k,psram")
    assert r["exit_status"] == 0 and r["host_bit_exact"]
    assert [p["name"] for p in r["pools"]] == ["ram", "psram"] and all(p["bytes"] > 0 for p in r["pools"])
    sym = _addresses(tmp_path / "fw.elf")
    assert sym["arena_ram"] in SSRAM and sym["arena_psram"] in PSRAM
    assert r["sizes"]["regions"]["psram"] >= r["pools"][1]["bytes"]


def test_resnet_at_its_minimum_budget(shared_models, tmp_path):
    path = shared_models / "pretrainedResnet_quant.tflite"
    _, g = load_model(path)
    budget = min_budget(lower(g))
    r = run_on_board(str(path), BOARD, None, 1, (0.0, 1.0), 120.0, keep_dir=str(tmp_path), ram_budget=budget)
    assert r["exit_status"] == 0 and r["host_bit_exact"]
    assert r["sizes"]["ram_arena"] <= budget and r["ext_bytes"] > 0 and r["moved_bytes"] > 0
    sym = _addresses(tmp_path / "fw.elf")
    assert sym["arena"] in SSRAM and sym["ext"] in PSRAM
