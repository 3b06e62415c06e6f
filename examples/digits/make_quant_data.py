#!/usr/bin/env python3
"""Write the digits calibration and evaluation sets used by EVO's quantizer (needs scikit-learn).

    /tmp/tfenv/bin/python examples/digits/make_quant_data.py

Writes, next to this script (float16 is exact for the pixel values k/16):
    digits_calib.npz  x: the first 200 training images, float16 [200,8,8,1] in [0,1]; the same
                      images TensorFlow's converter calibrated digits_int8.tflite with
    digits_eval.npz   x: the 297 test images, float16 [297,8,8,1]; y: int64 labels
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

N_TEST, N_REP = 297, 200


def main() -> None:
    out = Path(__file__).resolve().parent
    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0).reshape(-1, 8, 8, 1)
    y = d.target.astype(np.int64)
    xtr, xte, yte = x[:-N_TEST], x[-N_TEST:], y[-N_TEST:]
    np.savez_compressed(out / "digits_calib.npz", x=xtr[:N_REP].astype(np.float16))
    np.savez_compressed(out / "digits_eval.npz", x=xte.astype(np.float16), y=yte)
    print(f"wrote {out / 'digits_calib.npz'} ({N_REP} images) and {out / 'digits_eval.npz'} ({len(yte)} images)")


if __name__ == "__main__":
    main()
