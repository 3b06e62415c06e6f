"""Corrupt, truncated and random files give one clean EvoError line, never a traceback or crash."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evo.cli import main

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "examples" / "digits" / "digits_int8.tflite"


def _run_cli(args: list[str], capsys) -> tuple[int, str]:
    rc = main(args)
    err = capsys.readouterr().err
    return rc, err


def _assert_clean(rc: int, err: str) -> None:
    if rc != 0:
        assert rc == 2, err
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("evo: error: "), err
        assert "Traceback" not in err


@pytest.mark.parametrize("cut", [0, 3, 8, 16, 64, 200, 1000, 3000, 6000, 9000, -100, -1])
def test_truncated_model(tmp_path, capsys, cut):
    data = DIGITS.read_bytes()
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(data[:cut])
    for cmd in (["inspect", str(bad)], ["compile", str(bad), "-o", str(tmp_path / "out")]):
        rc, err = _run_cli(cmd, capsys)
        _assert_clean(rc, err)
        assert rc == 2 or cut in (-1, -100)
    if rc != 0:
        assert not (tmp_path / "out").exists(), "a failed compile left a half-written folder"


def test_random_bytes(tmp_path, capsys):
    rng = np.random.default_rng(1)
    for k in range(20):
        bad = tmp_path / f"random{k}.tflite"
        blob = rng.integers(0, 256, size=int(rng.integers(1, 4000)), dtype=np.uint8).tobytes()
        if k % 2:
            blob = blob[:4] + b"TFL3" + blob[8:]  # get past the identifier check
        bad.write_bytes(blob)
        rc, err = _run_cli(["compile", str(bad), "-o", str(tmp_path / f"out{k}")], capsys)
        assert rc == 2
        _assert_clean(rc, err)
        assert not (tmp_path / f"out{k}").exists()


def test_byte_flips(tmp_path, capsys):
    """Flipped bytes anywhere: either a valid (different) model or a clean error."""
    data = bytearray(DIGITS.read_bytes())
    rng = np.random.default_rng(7)
    for k in range(60):
        flipped = bytearray(data)
        for pos in rng.integers(0, len(data), size=int(rng.integers(1, 4))):
            flipped[pos] ^= int(rng.integers(1, 256))
        bad = tmp_path / "flip.tflite"
        bad.write_bytes(bytes(flipped))
        rc, err = _run_cli(["compile", str(bad), "-o", str(tmp_path / f"flip{k}")], capsys)
        _assert_clean(rc, err)


def test_flipped_models_run_or_fail_cleanly(tmp_path):
    """Running flipped models end to end in a subprocess: no crash, no traceback."""
    data = bytearray(DIGITS.read_bytes())
    rng = np.random.default_rng(11)
    for k in range(6):
        flipped = bytearray(data)
        pos = int(rng.integers(0, len(data)))
        flipped[pos] ^= 0xFF
        bad = tmp_path / f"flip{k}.tflite"
        bad.write_bytes(bytes(flipped))
        proc = subprocess.run([sys.executable, "-m", "evo", "run", str(bad)], capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode in (0, 2), proc.stderr
        assert "Traceback" not in proc.stderr


def test_missing_file_and_folder(tmp_path, capsys):
    rc, err = _run_cli(["inspect", str(tmp_path / "nope.tflite")], capsys)
    assert rc == 2 and "does not exist" in err
    rc, err = _run_cli(["inspect", str(tmp_path)], capsys)
    assert rc == 2 and "folder" in err


def test_wrong_input_shape_and_dtype(tmp_path, capsys):
    np.save(tmp_path / "wrong_shape.npy", np.zeros((1, 5, 5, 1), np.int8))
    rc, err = _run_cli(["run", str(DIGITS), "--input", str(tmp_path / "wrong_shape.npy")], capsys)
    assert rc == 2 and "shape" in err
    np.save(tmp_path / "wrong_dtype.npy", np.zeros((1, 8, 8, 1), np.complex64))
    rc, err = _run_cli(["run", str(DIGITS), "--input", str(tmp_path / "wrong_dtype.npy")], capsys)
    assert rc == 2 and "complex64" in err


def test_missing_compiler(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    rc, err = _run_cli(["run", str(DIGITS)], capsys)
    assert rc == 2 and "compiler" in err
