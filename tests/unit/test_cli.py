"""The CLI on the bundled digits model: machine-readable output, determinism, clean errors."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from evo.cli import main

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "examples" / "digits" / "digits_int8.tflite"
DIGITS_FLOAT = ROOT / "examples" / "digits" / "digits_float.tflite"


def _json(capsys, args) -> tuple[int, dict]:
    rc = main(args + ["--json"])
    return rc, json.loads(capsys.readouterr().out)


def test_inspect_json(capsys):
    rc, r = _json(capsys, ["inspect", str(DIGITS)])
    assert rc == 0
    assert {"ops", "macs", "params"} <= r.keys()
    assert r["macs"] > 0 and r["params"] > 3000
    assert r["unsupported_ops"] == [] and r["arena_bytes"] > 0


def test_compile_is_deterministic_and_complete(tmp_path, capsys):
    rc, r = _json(capsys, ["compile", str(DIGITS), "-o", str(tmp_path / "a"), "--name", "digits"])
    assert rc == 0 and {"arena_bytes", "weight_bytes"} <= r.keys()
    rc, _ = _json(capsys, ["compile", str(DIGITS), "-o", str(tmp_path / "b"), "--name", "digits"])
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    for f in files_a:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    names = {str(f) for f in files_a}
    assert {"digits.h", "digits.c", "digits_weights.c", "evo_report.json"} <= names
    report = json.loads((tmp_path / "a" / "evo_report.json").read_text())
    assert report["arena_bytes"] == r["arena_bytes"] and report["weight_bytes"] == r["weight_bytes"]
    header = (tmp_path / "a" / "digits.h").read_text()
    assert f"#define DIGITS_ARENA_SIZE {r['arena_bytes']}" in header
    text = "".join((tmp_path / "a" / f).read_text() for f in names if f.endswith((".c", ".h")))
    assert "malloc" not in text


def test_generated_c_builds_strict_with_scons(tmp_path, capsys):
    rc, _ = _json(capsys, ["compile", str(DIGITS), "-o", str(tmp_path / "gen"), "--name", "digits"])
    scons = Path(sys.executable).parent / "scons"
    proc = subprocess.run([str(scons) if scons.exists() else "scons", "-Q", f"MODEL={tmp_path / 'gen'}", f"BUILD={tmp_path / 'build'}"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "build" / "digits" / "libdigits.so").exists()


def test_run_json_and_outputs_file(tmp_path, capsys):
    out = tmp_path / "out.npy"
    rc, r = _json(capsys, ["run", str(DIGITS), "--input", str(ROOT / "examples/digits/sample.npy"), "--output", str(out)])
    assert rc == 0
    (name, values), = r["outputs"].items()
    assert np.array_equal(np.load(out), np.asarray(values, np.int8))
    assert int(np.argmax(values)) == 1  # the sample is a "1"


def test_run_image_input(capsys):
    rc, r = _json(capsys, ["run", str(DIGITS), "--input", str(ROOT / "examples/digits/sample.png")])
    assert rc == 0 and int(np.argmax(next(iter(r["outputs"].values())))) == 1


def test_verify_json_int8_and_float(capsys):
    rc, r = _json(capsys, ["verify", str(DIGITS), "--random", "3", "--layers"])
    assert rc == 0 and r["bit_exact"] is True and r["max_abs_diff"] == 0
    from evo.codegen.lower import lower
    from evo.frontend.tflite_reader import load_model

    streamed = lower(load_model(DIGITS)[1]).streamed_tensors  # inside a row-streamed group: never whole
    assert len(r["layers"]) == 9 - len(streamed) and all(c["bit_exact"] for c in r["layers"])
    rc, r = _json(capsys, ["verify", str(DIGITS_FLOAT), "--random", "3"])
    assert rc == 0 and r["match"] is True and r["max_abs_diff"] < 1e-4


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "evo", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "evo" in proc.stdout


def test_compile_for_a_board_records_its_core_and_is_refused_by_another(tmp_path, capsys):
    """C specialised for one core (e.g. DSP weight layouts) must not be linked for another."""
    from evo.errors import EvoError
    from evo.targets.boards import load_board
    from evo.targets.firmware import ModelSpec, build_firmware

    rc, _ = _json(capsys, ["compile", str(DIGITS), "-o", str(tmp_path / "m4"), "--board", "qemu-mps2-an386"])
    assert rc == 0
    assert json.loads((tmp_path / "m4" / "evo_report.json").read_text())["target"] == "M4"
    try:
        build_firmware(ModelSpec.from_dir(tmp_path / "m4"), load_board("qemu-microbit"), [], tmp_path / "fw")
    except EvoError as e:
        assert "compiled for M4" in e.problem and "--board qemu-microbit" in e.fix
    else:
        raise AssertionError("an M4 build was accepted for an M0 board")
    assert main(["compile", str(DIGITS), "-o", str(tmp_path / "x"), "--board", "no-such-board"]) == 2
