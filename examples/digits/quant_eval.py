#!/usr/bin/env python3
"""Top-1 accuracy of the digits CNN: float, TensorFlow's int8 twin, and EVO's int8 models.

    .venv/bin/python examples/digits/quant_eval.py [--tflm]

Uses digits_calib.npz (the 200 images TF calibrated with) and digits_eval.npz (the 297 test
images), both written by make_quant_data.py. Int8 models run in EVO's NumPy reference, which
is bit-exact with TFLM (--tflm also runs every int8 model in TFLM and checks that)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from evo.frontend.tflite_reader import load_model, read_tflite  # noqa: E402
from evo.frontend.tflite_writer import write_tflite  # noqa: E402
from evo.inputs import quantize_to  # noqa: E402
from evo.quant import load_calibration, quantize  # noqa: E402
from evo.ref import executor  # noqa: E402


def predict(g, xs: np.ndarray, model_bytes: bytes | None = None) -> np.ndarray:
    t = g.tensor(g.inputs[0])
    preds = []
    interp = None
    if model_bytes is not None:
        from tflite_micro.python.tflite_micro import runtime

        interp = runtime.Interpreter.from_bytes(model_bytes)
    for x in xs:
        x = x.reshape(t.shape).astype(np.float32)
        if t.dtype != "float32":
            x = quantize_to(t, x)
        out = executor.outputs(g, executor.run(g, [x]))[0]
        if interp is not None:
            interp.set_input(x, 0)
            interp.invoke()
            assert np.array_equal(interp.get_output(0), out), "EVO reference differs from TFLM"
        preds.append(int(np.argmax(out)))
    return np.array(preds)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tflm", action="store_true", help="also run the int8 models in TFLM and check bit-exactness")
    args = ap.parse_args()
    ev = np.load(HERE / "digits_eval.npz")
    xs, ys = ev["x"].astype(np.float32), ev["y"]
    _, gf = load_model(HERE / "digits_float.tflite")
    tf_bytes, gt = load_model(HERE / "digits_int8.tflite")
    samples = load_calibration(gf, HERE / "digits_calib.npz")
    rows = [("float (digits_float.tflite)", predict(gf, xs), None),
            ("TF converter int8 (digits_int8.tflite)", predict(gt, xs, tf_bytes if args.tflm else None), len(tf_bytes))]
    for method in ("minmax", "percentile", "mse"):
        for per_channel in (True, False):
            for bc in (True, False):
                q, _ = quantize(gf, samples, method=method, per_channel=per_channel, bias_correction=bc)
                data = write_tflite(q)
                g2 = read_tflite(data)
                name = f"EVO int8 {method}, {'per-channel' if per_channel else 'per-tensor'}{', dw bias corr.' if bc else ''}"
                rows.append((name, predict(g2, xs, data if args.tflm else None), len(data)))
    print("| model | top-1 (297 test images) | size (B) |\n|---|---|---:|")
    for name, p, size in rows:
        ok = int(np.sum(p == ys))
        print(f"| {name} | {ok / len(ys):.4f} ({ok}/{len(ys)}) | {size if size else '-'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
