"""Host benchmark: EVO's generated C vs the TFLM interpreter vs LiteRT, per shared model.

Latency is the median of repeated invocations after warm-up, measured the same way for every
engine (CPU time of the calling thread around one Python call to invoke); EVO and TFLM are
timed in alternation so that their ratio holds on a loaded machine. Memory: EVO's arena vs TFLM's activation
("head") memory and total arena. Prints a table and writes JSON (default bench/results/host.json).

    .venv/bin/python bench/host.py [--repeat 50] [--models kws_ref_model,vww_96_int8] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evo.frontend.tflite_reader import load_model  # noqa: E402
from evo.inputs import random_inputs  # noqa: E402
from evo.targets.host import HostModel  # noqa: E402
from evo.ui import table  # noqa: E402
from evo.verify.tflm import _interpreter, _quiet_stderr  # noqa: E402
from evo.verify.tflm_memory import tflm_arena  # noqa: E402

MODELS = ROOT.parent / "shared" / "models"
DEFAULT = [
    "kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8", "person_detect", "micro_speech_quantized",
    "str_ww_ref_model", "hello_world_int8", "vww_96_float", "pretrainedResnet", "ad01_fp32",
]


def median_us(fn, repeat: int, warmup: int = 5) -> float:
    return paired_median_us([fn], repeat, warmup)[0]


def paired_median_us(fns, repeat: int, warmup: int = 5) -> list[float]:
    """Median latency of each function, timed in alternation (one call of each per round), so
    that a change in machine load during the run affects every engine alike. Time is the calling
    thread's CPU time (every engine here runs single-threaded in the caller): time spent
    descheduled on a shared machine would otherwise count, and more so for longer runs."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, out in zip(fns, samples):
            t0 = time.thread_time_ns()
            fn()
            out.append((time.thread_time_ns() - t0) / 1000)
    return [statistics.median(s) for s in samples]


def bench_model(path: Path, repeat: int) -> dict:
    model, g = load_model(path)
    inputs = random_inputs(g, 0)
    row: dict = dict(model=path.stem)
    tflm = _interpreter(model, preserve_all=False)
    for t, x in zip(g.inputs, inputs):
        tflm.set_input(x, g.file_inputs.index(t))

    def tflm_invoke():
        with _quiet_stderr():
            tflm.invoke()

    with HostModel.build(g) as evo:
        evo.run(inputs)
        row["evo_us"], row["tflm_us"] = paired_median_us([evo.invoke_only, tflm_invoke], repeat)
        row["evo_arena"] = evo.compiled.report["arena_bytes"]
        row["evo_weights"] = evo.compiled.report["weight_bytes"]
    mem = tflm_arena(model, g)
    row["tflm_head"], row["tflm_total"] = mem.get("head"), mem.get("total")
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        for key, resolver in (("litert_us", OpResolverType.AUTO), ("litert_ref_us", OpResolverType.BUILTIN_REF)):
            lr = Interpreter(model_content=model, num_threads=1, experimental_op_resolver_type=resolver)
            lr.allocate_tensors()
            for d, t in zip(lr.get_input_details(), g.file_inputs):
                lr.set_tensor(d["index"], inputs[g.inputs.index(t)])
            row[key] = median_us(lr.invoke, repeat)
    except Exception as e:  # LiteRT refuses some files (person_detect): record, don't fail
        row["litert_error"] = str(e).splitlines()[0][:120]
    row["speedup_vs_tflm"] = row["tflm_us"] / row["evo_us"]
    row["arena_vs_tflm_head"] = row["evo_arena"] / row["tflm_head"] if row.get("tflm_head") else None
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--models", default=",".join(DEFAULT))
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "host.json"))
    args = ap.parse_args()
    if not MODELS.is_dir():
        print("../shared/models is not present; nothing to benchmark", file=sys.stderr)
        return 0
    rows = [bench_model(MODELS / f"{m}.tflite", args.repeat) for m in args.models.split(",")]
    headers = ["model", "EVO µs", "TFLM µs", "LiteRT µs", "LiteRT ref µs", "EVO speedup vs TFLM", "EVO arena B", "TFLM head B", "TFLM total B", "arena/TFLM head"]
    body = [[r["model"], round(r["evo_us"], 1), round(r["tflm_us"], 1), round(r.get("litert_us", float("nan")), 1),
             round(r.get("litert_ref_us", float("nan")), 1), round(r["speedup_vs_tflm"], 2), r["evo_arena"], r["tflm_head"], r["tflm_total"],
             round(r["arena_vs_tflm_head"], 3) if r["arena_vs_tflm_head"] else "-"] for r in rows]
    print(table(headers, body))
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = dict(python=platform.python_version(), machine=platform.machine(), processor=platform.processor(), repeat=args.repeat)
    out.write_text(json.dumps(dict(meta=meta, results=rows), indent=1) + "\n")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
