"""Kernel choice on a DSP core: arena and QEMU instructions of `--prefer memory` (default) vs
`--prefer speed`, next to the portable (host-target) arena.

Memory-first keeps the arena at the portable program's; this shows what that costs in
instructions per inference (emulated instructions, not cycles). Prints a table and writes JSON
(default bench/results/prefer.json).

    .venv/bin/python bench/prefer.py [--models kws_ref_model,...] [--board qemu-mps2-an386]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evo.compiler import compile_graph  # noqa: E402
from evo.frontend.tflite_reader import load_model  # noqa: E402
from evo.inputs import random_inputs  # noqa: E402
from evo.targets.boards import load_board  # noqa: E402
from evo.targets.firmware import build_firmware, target_for_board  # noqa: E402
from evo.targets.qemu import run_qemu  # noqa: E402
from evo.ui import table  # noqa: E402

MODELS = ROOT.parent / "shared" / "models"
DEFAULT_MODELS = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8", "micro_speech_quantized"]


def bench(name: str, board_name: str) -> dict:
    _, g = load_model(MODELS / f"{name}.tflite")
    board = load_board(board_name)
    row = dict(model=name, board=board_name, host_arena=compile_graph(g).report["arena_bytes"])
    for prefer in ("memory", "speed"):
        compiled = compile_graph(g, target=target_for_board(board), prefer=prefer)
        k = compiled.report.get("kernels", {})
        with tempfile.TemporaryDirectory(prefix="evo_bench_") as tmp:
            r = run_qemu(build_firmware(compiled, board, random_inputs(g, 0), Path(tmp)))
        row[prefer] = dict(arena=compiled.report["arena_bytes"], instructions=r.instructions,
                           specialised=len(k.get("specialised", [])), memory_fallback=len(k.get("memory_fallback", [])))
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS))
    ap.add_argument("--board", default="qemu-mps2-an386")
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "prefer.json"))
    args = ap.parse_args()
    if not MODELS.is_dir():
        print("../shared/models is not present", file=sys.stderr)
        return 1
    rows = [bench(m, args.board) for m in args.models.split(",")]
    body = [[r["model"], f"{r['host_arena']:,}", f"{r['memory']['arena']:,}", f"{r['speed']['arena']:,}",
             f"{r['memory']['instructions']:,}", f"{r['speed']['instructions']:,}",
             f"{r['memory']['instructions'] / r['speed']['instructions']:.2f}",
             f"{r['memory']['specialised']}/{r['memory']['specialised'] + r['memory']['memory_fallback']}"] for r in rows]
    print(f"{args.board}: --prefer memory (default) vs speed")
    print(table(["model", "host arena B", "memory arena B", "speed arena B", "memory instr", "speed instr", "instr ratio",
                 "specialised (memory)"], body, "lrrrrrrr"))
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(note="QEMU instruction counts (not cycles)", board=args.board, results=rows), indent=1) + "\n")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
