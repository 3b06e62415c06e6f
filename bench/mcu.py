"""Cortex-M benchmark under QEMU: instructions per inference and memory, per model and core.

For each int8 shared model and each emulated core it builds the firmware, runs it under QEMU with
EVO's instruction-counting plugin, and records instructions per inference, instructions per MAC,
the ratio to the SMLAD limit (MACs / 2: two 16-bit MACs per instruction on M4/M7/M33), flash
(weights, code) and RAM (arena, measured stack). These are emulated *instruction* counts, not
cycles: see the README. On the M55 (qemu-mps3-an547) one MVE instruction handles a 128-bit vector
(e.g. 16 int8 MACs per VMLADAVA) and the core executes it in beats over several cycles, so
instructions per MAC there are not comparable with the scalar cores' as a speed measure. The
ratio is also given on live MACs (pruned all-zero output channels left out: their outputs are
constants the kernels store without computing). Prints a table and writes JSON: the default build
(--prefer memory) to bench/results/mcu.json; the repository's --prefer speed run is in
bench/results/mcu_speed.json.

    .venv/bin/python bench/mcu.py [--models kws_ref_model,...] [--boards qemu-mps2-an386,...] [--prefer memory|speed] [--json FILE]
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
from evo.errors import EvoError  # noqa: E402
from evo.frontend.tflite_reader import load_model  # noqa: E402
from evo.inputs import random_inputs  # noqa: E402
from evo.targets.boards import load_board  # noqa: E402
from evo.targets.firmware import build_firmware, target_for_board  # noqa: E402
from evo.targets.qemu import run_qemu  # noqa: E402
from evo.ui import table  # noqa: E402

MODELS = ROOT.parent / "shared" / "models"
DEFAULT_MODELS = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8", "person_detect",
                  "micro_speech_quantized", "str_ww_ref_model", "hello_world_int8"]
DEFAULT_BOARDS = ["qemu-mps2-an386", "qemu-mps2-an500", "qemu-mps2-an505", "qemu-mps3-an547", "qemu-microbit"]
CORE = {"qemu-mps2-an386": "M4F", "qemu-netduinoplus2": "M4F", "qemu-mps2-an500": "M7", "qemu-mps2-an505": "M33", "qemu-microbit": "M0",
        "qemu-mps3-an547": "M55"}


def bench(name: str, board_name: str, prefer: str = "memory") -> dict:
    path = MODELS / f"{name}.tflite" if (MODELS / f"{name}.tflite").exists() else ROOT / "examples" / "digits" / f"{name}.tflite"
    _, g = load_model(path)
    board = load_board(board_name)
    compiled = compile_graph(g, target=target_for_board(board), prefer=prefer)
    row = dict(model=name, board=board_name, core=CORE.get(board_name, board.core), macs=compiled.report["macs"],
               live_macs=live_macs(g, compiled.report["macs"]), prefer=prefer)
    with tempfile.TemporaryDirectory(prefix="evo_bench_") as tmp:
        try:
            fw = build_firmware(compiled, board, random_inputs(g, 0), Path(tmp))
        except EvoError as e:
            row["error"] = str(e)
            return row
        r = run_qemu(fw)
    ops = compiled.report["ops"]
    graph = compiled.program.graph
    row.update(
        instructions=r.instructions,
        instructions_per_mac=r.instructions / row["macs"] if row["macs"] else None,
        x_smlad_limit=r.instructions / (row["macs"] / 2) if row["macs"] else None,
        x_smlad_limit_live=r.instructions / (row["live_macs"] / 2) if row["live_macs"] else None,
        flash_weights=fw.sizes["flash_weights"],
        flash_code=fw.sizes["flash_code"],
        flash_bytes=fw.sizes["flash_bytes"],
        ram_arena=fw.sizes["ram_arena"],
        ram_stack_used=r.stack_bytes,
        ram_bytes=fw.sizes["ram_bytes"],
        layers=[dict(index=o["index"], op=o["op"], kernel=o["kernel"], filter=filter_shape(graph, o["index"]),
                     macs_per_output=macs_per_output(o), macs=o["macs"], instructions=n,
                     instructions_per_mac=n / o["macs"] if o["macs"] else None) for o, n in zip(ops, r.layer_instructions)],
    )
    return row


def live_macs(g, macs: int) -> int:
    """`macs` less those of pruned output channels (all-zero weights), whose outputs are constants
    that the kernels store without computing: VWW has 42% of its MACs there, so its ratio to the
    SMLAD limit is also given on the live ones."""
    import numpy as np

    pruned = 0
    for op in g.ops:
        if op.type not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED") or len(op.inputs) < 2:
            continue
        w, out = g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
        if w.data is None:
            continue
        per = w.data.reshape(-1, w.shape[-1]).T if op.type == "DEPTHWISE_CONV_2D" else w.data.reshape(w.shape[0], -1)
        pruned += int(round(int(np.prod(out.shape)) * per.shape[1] * (~np.any(per != 0, axis=1)).mean()))
    return macs - pruned


def filter_shape(graph, index: int) -> str | None:
    """"3x3" for a convolution's kernel (TFLite: CONV_2D weights [cout, kh, kw, cin], depthwise [1, kh, kw, c])."""
    op = next((o for o in graph.ops if o.index == index), None)  # None: a fused stream group
    if op is None:
        return None
    if op.type not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        return None
    shape = graph.tensors[op.inputs[1]].shape
    return f"{shape[1]}x{shape[2]}"


def macs_per_output(op_report: dict) -> int | None:
    """K: multiply-accumulates behind each output value. Requantising and storing an output costs a
    fixed number of instructions, so layers with small K cannot reach a low instructions-per-MAC."""
    outputs = 1
    for d in op_report["output_shape"]:
        outputs *= d
    return op_report["macs"] // outputs if op_report["macs"] and outputs else None


def conv_target_rows(rows: list[dict], limit: float = 0.75) -> list[list[str]]:
    """Issue 7's per-layer target: 1x1 and 3x3 CONV_2D layers at <= 0.75 instructions per MAC."""
    body = []
    for r in rows:
        for layer in r.get("layers", []):
            if layer["op"] == "CONV_2D" and layer["filter"] in ("1x1", "3x3"):
                ipm = layer["instructions_per_mac"]
                body.append([r["model"], r["core"], str(layer["index"]), layer["filter"], str(layer["macs_per_output"]),
                             layer["kernel"] or "", f"{ipm:.3f}", "yes" if ipm <= limit else "no"])
    return body


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS))
    ap.add_argument("--boards", default=",".join(DEFAULT_BOARDS))
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "mcu.json"))
    ap.add_argument("--prefer", choices=("memory", "speed"), default="memory", help="kernel choice (evo compile --prefer)")
    args = ap.parse_args()
    if not MODELS.is_dir():
        print("../shared/models is not present; benchmarking the bundled digits model only", file=sys.stderr)
        args.models = "digits_int8"
    rows = [bench(m, b, args.prefer) for m in args.models.split(",") for b in args.boards.split(",")]
    body = []
    for r in rows:
        if "error" in r:
            body.append([r["model"], r["core"], f"{r['macs']:,}", "does not fit", "", "", "", "", "", "", ""])
            continue
        body.append([r["model"], r["core"], f"{r['macs']:,}", f"{r['instructions']:,}", f"{r['instructions_per_mac']:.2f}",
                     f"{r['x_smlad_limit']:.2f}", f"{r['x_smlad_limit_live']:.2f}", f"{r['flash_weights']:,}", f"{r['flash_code']:,}",
                     f"{r['ram_arena']:,}", f"{r['ram_stack_used']:,}"])
    print(table(["model", "core", "MACs", "instructions", "instr/MAC", "x SMLAD limit", "x limit, live MACs", "flash weights B", "flash code B",
                 "arena B", "stack used B"], body, "llrrrrrrrrr"))
    per_layer = conv_target_rows([r for r in rows if r["core"] in ("M4F", "M4")])
    if per_layer:
        print("\n1x1 and 3x3 convolutions on the M4F (K = MACs per output value):")
        print(table(["model", "core", "layer", "filter", "K", "kernel", "instr/MAC", "<= 0.75"], per_layer, "llrlrlrl"))
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(note="QEMU 7.2 instruction counts (not cycles)", results=rows), indent=1) + "\n")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
