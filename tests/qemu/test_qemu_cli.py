"""`evo build`, `evo run --board` and `evo profile` on the bundled model, as a user calls them."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evo.cli import main

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "examples" / "digits" / "digits_int8.tflite"
pytestmark = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="the Arm toolchain or qemu-system-arm is not installed",
)


def _json(capsys, args):
    rc = main(args + ["--json"])
    captured = capsys.readouterr()
    return rc, json.loads(captured.out) if rc == 0 else captured.err


def test_run_board_json(capsys):
    rc, r = _json(capsys, ["run", str(DIGITS), "--board", "qemu-mps2-an386", "--input", str(ROOT / "examples/digits/sample.npy")])
    assert rc == 0
    assert r["host_bit_exact"] is True and r["exit_status"] == 0
    (values,) = r["outputs"].values()
    assert max(range(10), key=lambda i: values[0][i]) == 1
    # one layer per step; the memory-first M4 program row-streams like the host's (a fused group is one step)
    from evo.compiler import compile_graph
    from evo.frontend.tflite_reader import load_model

    assert r["instructions"] > 0 and len(r["layers"]) == len(compile_graph(load_model(DIGITS)[1]).program.steps)
    assert {"name", "op", "macs", "instructions"} <= r["layers"][0].keys()
    assert sum(layer["instructions"] for layer in r["layers"]) == r["instructions"]


def test_build_reports_sizes(tmp_path, capsys):
    rc, r = _json(capsys, ["build", str(DIGITS), "--board", "qemu-netduinoplus2", "-o", str(tmp_path / "fw")])
    assert rc == 0
    for f in ("fw.elf", "fw.bin", "fw.hex", "fw.map"):
        assert (tmp_path / "fw" / f).exists()
    assert r["flash_weights"] > 0 and r["flash_code"] > 0 and r["ram_arena"] > 0
    assert r["flash_bytes"] == r["flash_weights"] + r["flash_code"] + r["flash_other"]
    assert list((tmp_path / "fw").rglob("*.su")), "no -fstack-usage output"


def test_build_from_compiled_folder(tmp_path, capsys):
    assert main(["compile", str(DIGITS), "-o", str(tmp_path / "c")]) == 0
    capsys.readouterr()
    rc, r = _json(capsys, ["build", str(tmp_path / "c"), "--board", "qemu-mps2-an505", "-o", str(tmp_path / "fw")])
    assert rc == 0 and r["board"] == "qemu-mps2-an505"


def test_profile_json_and_plot(tmp_path, capsys):
    rc, r = _json(capsys, ["profile", str(DIGITS), "--board", "qemu-mps2-an500", "--plot", str(tmp_path / "p.png")])
    assert rc == 0 and (tmp_path / "p.png").stat().st_size > 0
    assert abs(sum(layer["share"] for layer in r["layers"]) - 1) < 1e-9


def test_profile_functions(capsys):
    """--functions: the per-address counts summed per function account for every instruction
    the program ran, and the model's kernels are among the hottest."""
    rc, r = _json(capsys, ["profile", str(DIGITS), "--board", "qemu-mps2-an386", "--functions", "1000"])
    assert rc == 0
    names = [f["name"] for f in r["functions"]]
    assert sum(f["instructions"] for f in r["functions"]) == r["program_instructions"]
    assert "?" not in names and names[0].startswith("evo_")  # a kernel, not start-up
    counts = [f["instructions"] for f in r["functions"]]
    assert counts == sorted(counts, reverse=True)
    assert main(["profile", str(DIGITS), "--board", "qemu-mps2-an386", "--functions", "3"]) == 0
    text = capsys.readouterr().out
    rows = text.split("functions (the whole program")[1].splitlines()[3:]  # after the title, header and rule
    assert [r.split()[0] for r in rows] == names[:3]


def test_unknown_board_and_hardware_run(capsys):
    rc, err = _json(capsys, ["run", str(DIGITS), "--board", "no-such-board"])
    assert rc == 2 and "unknown board" in err
    # No board is attached here: a clean one-line error (no pyserial, no port, or no probe).
    rc, err = _json(capsys, ["run", str(DIGITS), "--board", "nucleo-l4r5zi", "--timeout", "5"])
    assert rc == 2 and len(err.strip().splitlines()) == 1 and err.startswith("evo: error: ")
