"""Binary vs int8: the LCE-converted binary CNN of examples/bnn_digits against its int8 twin (same
architecture, stock TFLite full-int8) on Cortex-M4F under QEMU (qemu-mps2-an386): instructions
per inference (per layer too), weight bytes and arena bytes. When ../shared/models is present,
also the stock-converter full-int8 BNN (synthetic/bnn_keras_int8) as binarized by EVO against the
same file run as written (int8 convolutions, SIGN in float between DEQUANTIZE/QUANTIZE); both
must give the stored reference output bytes. Prints tables and writes JSON (default
bench/results/bnn.json).

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
from evo.targets.firmware import build_firmware, target_for_board  # noqa: E402
from evo.targets.qemu import run_qemu  # noqa: E402

EX = ROOT / "examples" / "bnn_digits"
STOCK = ROOT.parent / "shared" / "models" / "synthetic" / "bnn_keras_int8.tflite"


def measure(path: Path, inputs: list[np.ndarray], board: str, tmp: Path, binarize_pass: bool = True, prefer: str = "memory") -> dict:
    from evo.passes import binarize

    run_pass = binarize.run
    if not binarize_pass:
        binarize.run = lambda g: g
    try:
        _, g = load_model(path)
    finally:
        binarize.run = run_pass
    compiled = compile_graph(g, target=target_for_board(load_board(board)), prefer=prefer)  # the core's kernels, by `prefer`
    runs = []
    for i, x in enumerate(inputs):
        fw = build_firmware(compiled, load_board(board), [x], tmp / f"{path.stem}_{int(binarize_pass)}_{prefer}_{i}")
        r = run_qemu(fw)
        assert r.exit_code == 0 and r.status == 0, f"{path.name} failed on {board}"
        runs.append(r)
    r = runs[0]
    layers = [dict(op=s.op.type, kernel=s.call.func if s.call else None, instructions=n) for s, n in zip(compiled.program.steps, r.layer_instructions)]
    # weight_bytes: the model's own weights (as the portable C stores them); the DSP kernels may
    # keep a re-laid, larger copy in flash (int16 pairs): that is flash_weight_bytes.
    return dict(model=path.name, instructions=int(np.median([x.instructions for x in runs])), weight_bytes=compile_graph(g).files.weight_bytes,
                flash_weight_bytes=compiled.files.weight_bytes,
                arena_bytes=compiled.program.plan.arena_bytes, layers=layers, binary=compiled.report.get("binary"),
                outputs=[np.asarray(x.outputs[0]).reshape(-1).tolist() for x in runs])


def _ratio(base: dict, new: dict) -> dict:
    return {k: base[k] / new[k] for k in ("instructions", "weight_bytes", "arena_bytes")}


def _table(name_a: str, name_b: str, a: dict, b: dict, ratio: dict) -> None:
    print(f"{'':24s}{name_a:>14s}{name_b:>14s}{'ratio':>13s}")
    for k in ("instructions", "weight_bytes", "arena_bytes"):
        print(f"{k:24s}{a[k]:>14,d}{b[k]:>14,d}{ratio[k]:>12.2f}x")


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
        twin_inputs = [z["x_int8"][i : i + 1] for i in range(a.samples)]
        q = measure(EX / "digits_twin_int8.tflite", twin_inputs, a.board, tmp)
        # The twin given the RAM its fastest DSP kernels want (--prefer speed): the hardest comparison.
        qs = measure(EX / "digits_twin_int8.tflite", twin_inputs, a.board, tmp, prefer="speed")
        stock = None
        if STOCK.exists():
            zs = np.load(STOCK.with_suffix(".io.npz"))
            xs = [zs["input"][i : i + 1] for i in range(min(a.samples, len(zs["input"])))]
            sb = measure(STOCK, xs, a.board, tmp)
            sq = measure(STOCK, xs, a.board, tmp, binarize_pass=False)
            for m in (sb, sq):
                assert all(np.array_equal(np.asarray(o, np.int8), zs["output"][i]) for i, o in enumerate(m["outputs"])), m["model"]
            stock = dict(binarized=sb, as_written=sq, ratio=_ratio(sq, sb))
    ratio, ratio_speed = _ratio(q, b), _ratio(qs, b)
    _table("binary", "int8 twin", b, q, ratio)
    print("\nagainst the int8 twin built with --prefer speed (more RAM for faster kernels):")
    _table("binary", "twin, speed", b, qs, ratio_speed)
    if stock:
        print(f"\nstock-converter {STOCK.name} (outputs equal the stored reference):")
        _table("binarized", "as written", stock["binarized"], stock["as_written"], stock["ratio"])
    print("\nbinary model per layer:")
    for L in b["layers"]:
        print(f"  {L['op']:28s} {str(L['kernel']):24s} {L['instructions']:>12,d}")
    print("int8 twin per layer:")
    for L in q["layers"]:
        print(f"  {L['op']:28s} {str(L['kernel']):24s} {L['instructions']:>12,d}")
    out = dict(board=a.board, binary=b, int8_twin=q, ratio=ratio, int8_twin_speed=qs, ratio_vs_twin_speed=ratio_speed, stock_int8=stock)
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
