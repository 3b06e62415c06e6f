"""Binary vs int8: the LCE-converted binary CNN of examples/bnn_digits against its int8 twin (same
architecture, stock TFLite full-int8) on Cortex-M4F under QEMU (qemu-mps2-an386): instructions
per inference (per layer too), weight bytes and arena bytes. Also checks that the firmware's
output equals EVO's host build. Prints a table and writes JSON (default bench/results/bnn.json).

    .venv/bin/python bench/bnn.py [--board qemu-mps2-an386] [--samples 3] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evo.compiler import compile_graph  # noqa: E402
from evo.frontend.tflite_reader import load_model  # noqa: E402
from evo.targets.boards import load_board  # noqa: E402
from evo.targets.firmware import build_firmware  # noqa: E402
from evo.targets.qemu import run_qemu  # noqa: E402

EX = ROOT / "examples" / "bnn_digits"


def measure(path: Path, inputs: list[np.ndarray], board: str, tmp: Path) -> dict:
    _, g = load_model(path)
    compiled = compile_graph(g)
    runs = []
    for i, x in enumerate(inputs):
        fw = build_firmware(compiled, load_board(board), [x], tmp / f"{path.stem}_{i}")
        r = run_qemu(fw)
        assert r.exit_code == 0 and r.status == 0, f"{path.name} failed on {board}"
        runs.append(r)
    r = runs[0]
    layers = [dict(op=s.op.type, kernel=s.call.func if s.call else None, instructions=n) for s, n in zip(compiled.program.steps, r.layer_instructions)]
    return dict(model=path.name, instructions=int(np.median([x.instructions for x in runs])), weight_bytes=compiled.files.weight_bytes,
                arena_bytes=compiled.program.plan.arena_bytes, layers=layers, binary=compiled.report.get("binary"),
                outputs=[np.asarray(x.outputs[0]).reshape(-1).tolist() for x in runs])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="qemu-mps2-an386")
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "bnn.json"))
    a = ap.parse_args()
    z = np.load(EX / "test_set.npz")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        b = measure(EX / "bnn_digits.tflite", [z["x"][i : i + 1] for i in range(a.samples)], a.board, tmp)
        q = measure(EX / "digits_twin_int8.tflite", [z["x_int8"][i : i + 1] for i in range(a.samples)], a.board, tmp)
    ratio = dict(instructions=q["instructions"] / b["instructions"], weight_bytes=q["weight_bytes"] / b["weight_bytes"],
                 arena_bytes=q["arena_bytes"] / b["arena_bytes"])
    print(f"{'':24s}{'binary':>14s}{'int8 twin':>14s}{'int8/binary':>13s}")
    for k in ("instructions", "weight_bytes", "arena_bytes"):
        print(f"{k:24s}{b[k]:>14,d}{q[k]:>14,d}{ratio[k]:>12.2f}x")
    print("\nbinary model per layer:")
    for L in b["layers"]:
        print(f"  {L['op']:28s} {str(L['kernel']):24s} {L['instructions']:>12,d}")
    print("int8 twin per layer:")
    for L in q["layers"]:
        print(f"  {L['op']:28s} {str(L['kernel']):24s} {L['instructions']:>12,d}")
    out = dict(board=a.board, binary=b, int8_twin=q, ratio=ratio)
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
