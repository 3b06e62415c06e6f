"""Quantizer benchmark: EVO's int8 models vs TensorFlow's int8 twins of the shared float models.

For every float model in ../shared/models with an int8 twin beside it, EVO quantizes the float
model from a seeded calibration set, then EVO's model and the twin run on the same evaluation
inputs (int8 models in EVO's NumPy reference, which is bit-exact with TFLM; every EVO model is
also run in TFLM and LiteRT to check that they load and that TFLM agrees bit for bit).
Reported per model: SQNR of the dequantized outputs against the float model, top-1 agreement
with the float model (classifiers), file size and EVO's planned arena. "EVO 16x8 auto" is the
minmax model with `--int16-activations auto` (int16 activations on the layers chosen by
evo/quant/select.py, no RAM budget); "EVO 16x8 1.5x" the same within a RAM budget of 1.5 times
the int8 minmax model's arena.

Data. The twins were calibrated on data we do not have; their input quantization tells the
range they saw. Calibration and "domain" evaluation sets (disjoint seeds) are drawn from that
range: smooth random images in [0,1] (vww) or [0,255] (resnet), uniform [0, 2pi] for the sine
model, uniform over the twin's input range for the autoencoder, N(0,1) for tiny_cnn (its
twin was calibrated on N(0,1) images). The float model's own reference input (N(0,1), from
ref/) is evaluated too; N(0,1) input is out of range for the image twins, so both models clip.

    .venv/bin/python bench/quant.py [--models vww_96_float,...] [--n-calib 32] [--n-eval 64] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evo.frontend.tflite_reader import load_model, read_tflite  # noqa: E402
from evo.frontend.tflite_writer import write_tflite  # noqa: E402
from evo.inputs import dequantize, quantize_to  # noqa: E402
from evo.quant import quantize  # noqa: E402
from evo.ref import executor  # noqa: E402
from evo.ui import table  # noqa: E402

MODELS = ROOT.parent / "shared" / "models"
# float model -> (twin, domain distribution, classifier?, calibration seed)
PAIRS = {
    "vww_96_float": ("vww_96_int8", "image01", True, 1000),
    "pretrainedResnet": ("pretrainedResnet_quant", "image255", True, 1000),
    "ad01_fp32": ("ad01_int8", "twin_range", False, 1000),
    "hello_world_float": ("hello_world_int8", "sine", False, 1000),
    # the twin's own calibration set: default_rng(1235).standard_normal((32, 32, 32, 3))
    "synthetic/tiny_cnn_float": ("synthetic/tiny_cnn_int8", "normal", True, 1235),
}
METHODS = ("minmax", "percentile", "mse", "16x8", "16x8b")  # 16x8: minmax + --int16-activations auto (b: budget 1.5x)


def arena(g) -> int:
    from evo.codegen.lower import lower

    return lower(g).plan.arena_bytes


def draw(kind: str, shape: tuple[int, ...], n: int, seed: int, twin_in=None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "normal":
        return rng.standard_normal((n,) + shape).astype(np.float32)
    if kind == "sine":
        return rng.uniform(0, 2 * np.pi, (n,) + shape).astype(np.float32)
    if kind == "twin_range":
        s, z = float(twin_in.quant.scale[0]), int(twin_in.quant.zero_point[0])
        return rng.uniform(s * (-128 - z), s * (127 - z), (n,) + shape).astype(np.float32)
    # smooth random images: low-resolution uniform noise, upsampled (nearest then box blur)
    _, h, w, c = shape
    lo = rng.uniform(0, 1, (n, 1, max(h // 8, 2), max(w // 8, 2), c))
    img = lo.repeat(-(-h // lo.shape[2]), axis=2).repeat(-(-w // lo.shape[3]), axis=3)[:, :, :h, :w]
    k = 5
    pad = np.pad(img, ((0, 0), (0, 0), (k // 2, k // 2), (k // 2, k // 2), (0, 0)), mode="edge")
    cs = pad.cumsum(2).cumsum(3)
    cs = np.pad(cs, ((0, 0), (0, 0), (1, 0), (1, 0), (0, 0)))
    blur = (cs[:, :, k:, k:] - cs[:, :, :-k, k:] - cs[:, :, k:, :-k] + cs[:, :, :-k, :-k]) / (k * k)
    blur = blur + rng.normal(0, 0.03, blur.shape)
    img = np.clip(blur, 0, 1)
    return (img * (255.0 if kind == "image255" else 1.0)).astype(np.float32)


def run_float(g, xs):
    return np.stack([executor.outputs(g, executor.run(g, [x]))[0].astype(np.float64) for x in xs])


def run_int(g, xs, tflm_bytes: bytes | None = None):
    tin, tout = g.tensor(g.inputs[0]), g.tensor(g.outputs[0])
    interp = None
    mismatches = 0
    if tflm_bytes is not None:
        from tflite_micro.python.tflite_micro import runtime

        interp = runtime.Interpreter.from_bytes(tflm_bytes)
    outs = []
    for x in xs:
        xq = quantize_to(tin, x) if tin.dtype != "float32" else x
        y = executor.outputs(g, executor.run(g, [xq]))[0]
        if interp is not None:
            interp.set_input(xq, 0)
            interp.invoke()
            mismatches += int(not np.array_equal(interp.get_output(0), y))
        outs.append(dequantize(tout, y).astype(np.float64))
    return np.stack(outs), mismatches


def litert_loads(data: bytes, x: np.ndarray) -> bool:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        return False
    it = Interpreter(model_content=data)
    it.allocate_tensors()
    d = it.get_input_details()[0]
    it.set_tensor(d["index"], x.astype(d["dtype"]))
    it.invoke()
    return True


def sqnr(ref: np.ndarray, q: np.ndarray) -> float:
    noise = float(np.sum((ref - q) ** 2))
    sig = float(np.sum(ref**2))
    return float("inf") if noise == 0 else 10 * np.log10(sig / noise)


def top1(ref: np.ndarray, q: np.ndarray) -> float:
    a = ref.reshape(ref.shape[0], -1).argmax(1)
    b = q.reshape(q.shape[0], -1).argmax(1)
    return float(np.mean(a == b))


def bench_model(name: str, n_calib: int, n_eval: int, methods) -> dict:
    twin_name, kind, classifier, calib_seed = PAIRS[name]
    _, gf = load_model(MODELS / f"{name}.tflite")
    twin_bytes, gt = load_model(MODELS / f"{twin_name}.tflite")
    tin = gf.tensor(gf.inputs[0])
    ref_path = MODELS / "ref" / f"{Path(name).name}.npz"
    if ref_path.exists():
        ref_in = np.load(ref_path)["input"].reshape((1,) + tin.shape).astype(np.float32)
    else:  # synthetic models keep theirs in <name>.io.npz
        ref_in = np.load(MODELS / f"{name}.io.npz")["input_float"][:1].reshape((1,) + tin.shape).astype(np.float32)
    twin_in = gt.tensor(gt.inputs[0])
    # Two scenarios: "domain" data (the twin's input range) and N(0,1) data (the distribution of
    # the float model's ref/ input, which is evaluated alone as well). EVO calibrates on a
    # disjoint seeded set of the same distribution; the twin's calibration is fixed.
    calib = {"domain": draw(kind, tin.shape, n_calib, calib_seed, twin_in),
             "normal": draw("normal", tin.shape, n_calib, calib_seed, twin_in)}
    evals = {"domain": draw(kind, tin.shape, n_eval, 2000, twin_in),
             "normal": np.concatenate([ref_in, draw("normal", tin.shape, n_eval - 1, 3000)]),
             "ref": ref_in}
    calib_for = {"domain": "domain", "normal": "normal", "ref": "normal"}
    res = dict(model=name, twin=twin_name, calibration=dict(domain=f"{n_calib} x {kind} (seed {calib_seed})", normal=f"{n_calib} x normal (seed {calib_seed})"),
               classifier=classifier, sets={}, sizes={})
    res["sizes"]["float"] = (MODELS / f"{name}.tflite").stat().st_size
    res["sizes"]["TF twin"] = len(twin_bytes)
    res["arena"] = {"TF twin": arena(gt)}
    floats = {k: run_float(gf, xs) for k, xs in evals.items()}
    rows = {}
    for k, xs in evals.items():
        qo, _ = run_int(gt, xs)
        rows.setdefault("TF twin", {})[k] = dict(sqnr_db=sqnr(floats[k], qo), top1=top1(floats[k], qo) if classifier else None)
    for m in methods:
        label = {"16x8": "EVO 16x8 auto", "16x8b": "EVO 16x8 1.5x"}.get(m, f"EVO {m}")
        for c, cx in calib.items():
            t0 = time.perf_counter()
            if m in ("16x8", "16x8b"):
                budget = arena(quantize(gf, [[x] for x in cx])[0]) * 3 // 2 if m == "16x8b" else None
                q, rep = quantize(gf, [[x] for x in cx], method="minmax", int16_activations="auto", ram_budget=budget)
                res.setdefault("int16_ops", {}).setdefault(label, {})[c] = rep.int16_ops
            else:
                q, _ = quantize(gf, [[x] for x in cx], method=m)
            data = write_tflite(q)
            res.setdefault("quantize_seconds", {})[f"{label} ({c})"] = round(time.perf_counter() - t0, 2)
            gq = read_tflite(data)
            if c == "domain":
                res["sizes"][label] = len(data)
                res["arena"][label] = arena(gq)
                res.setdefault("litert_loads", {})[label] = litert_loads(data, quantize_to(gq.tensor(gq.inputs[0]), evals["domain"][0]))
            for k, xs in evals.items():
                if calib_for[k] != c:
                    continue
                qo, bad = run_int(gq, xs, data)
                rows.setdefault(label, {})[k] = dict(sqnr_db=sqnr(floats[k], qo), top1=top1(floats[k], qo) if classifier else None,
                                                     tflm_mismatches=bad, calibrated_on=c)
    res["sets"] = rows
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(PAIRS))
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--n-calib", type=int, default=32)
    ap.add_argument("--n-eval", type=int, default=64)
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "quant.json"))
    args = ap.parse_args()
    results = [bench_model(m, args.n_calib, args.n_eval, args.methods.split(",")) for m in args.models.split(",")]
    rows = []
    pct = lambda v: f"{v * 100:.1f}%" if v is not None else "-"  # noqa: E731
    for r in results:
        for label, sets in r["sets"].items():
            d, nrm, ref = sets["domain"], sets["normal"], sets["ref"]
            bad = sum(s.get("tflm_mismatches", 0) for s in sets.values())
            rows.append([
                Path(r["model"]).name, label,
                f"{d['sqnr_db']:.1f}", pct(d["top1"]), f"{nrm['sqnr_db']:.1f}", pct(nrm["top1"]),
                f"{ref['sqnr_db']:.1f}", ("same" if ref["top1"] == 1 else "differs") if ref["top1"] is not None else "-",
                f"{r['sizes'][label]:,}", f"{r['arena'][label]:,}", "-" if label == "TF twin" else ("bit-exact" if bad == 0 else f"{bad} differ"),
            ])
    print(table(["float model", "int8 model", "SQNR dom.", "top-1 dom.", "SQNR N(0,1)", "top-1 N(0,1)", "SQNR ref", "top-1 ref", "size B", "arena B", "TFLM"],
                rows, "llrrrrrrrrl"))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(dict(n_calib=args.n_calib, n_eval=args.n_eval, results=results), indent=1) + "\n")
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
