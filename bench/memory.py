"""Memory benchmark: per shared model, EVO's arena and its exact lower bound (of the executed
schedule, where row-streamed groups count their line buffers) and the whole-tensor lower bound
(no row streaming), vs TFLM's activation memory (head) and total arena; EVO's total RAM and its
ratio to TFLM's total (target <= 0.5); the placement strategy that won; and the replacement
strategy at the smallest feasible RAM budget (as % of the plan peak) and at 40% of the peak
(arena, external memory, bytes moved). Prints a table and writes JSON (default
bench/results/memory.json).

    .venv/bin/python bench/memory.py [--models kws_ref_model,vww_96_int8] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evo.codegen.lower import lower  # noqa: E402
from evo.errors import EvoError  # noqa: E402
from evo.frontend.tflite_reader import load_model  # noqa: E402
from evo.memory.evict import smallest_budget  # noqa: E402
from evo.ui import table  # noqa: E402
from evo.verify.tflm_memory import tflm_arena  # noqa: E402

MODELS = ROOT.parent / "shared" / "models"
DEFAULT = ["ad01_int8", "ad01_fp32", "hello_world_int8", "hello_world_float", "kws_ref_model", "micro_speech_quantized",
           "person_detect", "pretrainedResnet_quant", "pretrainedResnet", "str_ww_ref_model", "vww_96_int8", "vww_96_float",
           "synthetic/tiny_cnn_int8", "synthetic/two_exit_int8"]


def measure(name: str) -> dict:
    model, g = load_model(MODELS / f"{name}.tflite")
    t0 = time.perf_counter()
    prog = lower(g)
    plan_s = time.perf_counter() - t0
    base = lower(g, optimize_schedule=False, inplace=False, strategies=("greedy_by_size",))
    row = dict(model=name, arena_bytes=prog.plan.arena_bytes, lower_bound_bytes=prog.lower_bound_bytes,
               whole_tensor_lower_bound_bytes=prog.whole_lower_bound_bytes,
               streamed_ops=sorted(m for sp in prog.streams.values() for m in (st.op.index for st in sp.stages)),
               stream_copy_bytes=prog.stream_moved_bytes, recompute_macs=0,
               total_ram_bytes=prog.plan.arena_bytes, strategy=prog.plan.strategy, strategies=prog.plan.candidates,
               inplace_ops=len(prog.inplace), schedule="file" if prog.file_order else "optimised",
               greedy_no_inplace_bytes=base.plan.arena_bytes, plan_seconds=round(plan_s, 3))
    try:
        t = tflm_arena(model, g)
        row.update(tflm_head_bytes=t.get("head"), tflm_total_bytes=t.get("total"))
    except Exception:
        row.update(tflm_head_bytes=None, tflm_total_bytes=None)
    if row["tflm_total_bytes"]:
        row["total_ram_vs_tflm_total"] = round(row["total_ram_bytes"] / row["tflm_total_bytes"], 3)
    peak = prog.plan.arena_bytes
    mb = smallest_budget(g)
    row.update(min_budget_bytes=mb, min_budget_pct_of_peak=round(100 * mb / peak, 1))
    for key, budget in (("min_budget", mb), ("budget_40pct", int(0.4 * peak))):
        try:
            q = lower(g, ram_budget=budget)
            row.update({f"{key}_arena_bytes": q.plan.arena_bytes, f"{key}_ext_bytes": q.ext_bytes, f"{key}_moved_bytes": q.moved_bytes,
                        f"{key}_streamed_ops": len(q.streams)})
        except EvoError as e:
            row[f"{key}_error"] = str(e)
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", help="comma-separated names (default: every runnable shared model)")
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "memory.json"))
    args = ap.parse_args()
    names = args.models.split(",") if args.models else DEFAULT
    rows = [measure(n) for n in names]

    def ratio(r):
        return f"{r['arena_bytes'] / r['tflm_head_bytes']:.2f}" if r.get("tflm_head_bytes") else "n/a"

    def fits40(r):
        return f"{r['budget_40pct_arena_bytes']:,}" if "budget_40pct_arena_bytes" in r else "no"

    body = [[r["model"], f"{r['arena_bytes']:,}", f"{r['lower_bound_bytes']:,}", f"{r['whole_tensor_lower_bound_bytes']:,}",
             f"{r['tflm_head_bytes'] or 0:,}", ratio(r), f"{r['tflm_total_bytes'] or 0:,}", f"{r['total_ram_bytes']:,}",
             f"{r.get('total_ram_vs_tflm_total', 0):.2f}", len(r["streamed_ops"]), r["inplace_ops"],
             f"{r['min_budget_bytes']:,} ({r['min_budget_pct_of_peak']}%)", f"{r.get('min_budget_moved_bytes', 0):,}", fits40(r)] for r in rows]
    print(table(["model", "EVO arena", "lower bound", "whole-tensor LB", "TFLM head", "EVO/TFLM", "TFLM total", "EVO total RAM",
                 "EVO/TFLM total", "streamed ops", "in-place", "min budget (% peak)", "moved@min", "arena@40%"], body,
                "lrrrrrrrrrrrrr"))
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(models=rows), indent=1) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
