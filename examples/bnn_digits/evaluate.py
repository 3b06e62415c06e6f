"""Accuracy of the LCE-converted binary CNN compiled by EVO for Cortex-M4F (its specialised
binary kernels): on the host (the same generated C via cffi, portable twins of the assembly) and
under QEMU on qemu-mps2-an386, against LCE's interpreter outputs stored by train.py; instructions
per inference over the QEMU runs (the bit-sliced kernel's count depends on the input's bits).
Runs in EVO's own environment:

    .venv/bin/python examples/bnn_digits/evaluate.py [--qemu-samples 360] [--json results.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from evo.compiler import compile_graph  # noqa: E402
from evo.frontend.tflite_reader import load_model  # noqa: E402
from evo.targets.boards import load_board  # noqa: E402
from evo.targets.firmware import build_firmware, target_for_board  # noqa: E402
from evo.targets.host import HostModel  # noqa: E402
from evo.targets.qemu import run_qemu  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu-samples", type=int, default=360)
    ap.add_argument("--board", default="qemu-mps2-an386")
    ap.add_argument("--json", default=str(HERE / "results.json"))
    a = ap.parse_args()
    z = np.load(HERE / "test_set.npz")
    x, y, lce = z["x"], z["y"], z["lce_output"]
    _, g = load_model(HERE / "bnn_digits.tflite")
    compiled = compile_graph(g, target=target_for_board(load_board(a.board)))
    with HostModel.build(g, compiled=compiled) as host:
        h = np.concatenate([host.run([x[i : i + 1]])[0].reshape(1, -1) for i in range(len(x))])
    res = dict(samples=len(x), lce_accuracy=float((lce.argmax(1) == y).mean()), evo_host_accuracy=float((h.argmax(1) == y).mean()),
               host_max_abs_diff_vs_lce=float(np.abs(h - lce).max()), host_argmax_agree_lce=int((h.argmax(1) == lce.argmax(1)).sum()))
    n = min(a.qemu_samples, len(x))
    if n:
        q, instr = [], []
        with tempfile.TemporaryDirectory() as d:
            for i in range(n):
                fw = build_firmware(compiled, load_board(a.board), [x[i : i + 1]], Path(d) / f"fw{i}")
                r = run_qemu(fw)
                assert r.exit_code == 0 and r.status == 0
                q.append(np.asarray(r.outputs[0], np.float32).reshape(1, -1))
                instr.append(r.instructions)
        q = np.concatenate(q)
        res.update(qemu_board=a.board, qemu_samples=n, evo_qemu_accuracy=float((q.argmax(1) == y[:n]).mean()),
                   lce_accuracy_same_samples=float((lce[:n].argmax(1) == y[:n]).mean()),
                   qemu_max_abs_diff_vs_lce=float(np.abs(q - lce[:n]).max()), qemu_equals_host=bool(np.array_equal(q, h[:n])),
                   instructions_per_inference=dict(median=int(np.median(instr)), min=int(min(instr)), max=int(max(instr))))
    print(json.dumps(res, indent=1))
    Path(a.json).write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
