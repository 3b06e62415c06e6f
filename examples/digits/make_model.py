#!/usr/bin/env python3
"""Build EVO's bundled demo model: a tiny CNN for scikit-learn's 8x8 handwritten digits.

Run it with a separate TensorFlow environment (see requirements-models.txt), e.g.:

    python3 -m venv /tmp/tfenv
    /tmp/tfenv/bin/pip install -r examples/digits/requirements-models.txt
    /tmp/tfenv/bin/python examples/digits/make_model.py

It writes, next to this script:
    digits_float.tflite   float32 model
    digits_int8.tflite    full-integer int8 model (int8 input and output)
    digits_test.npz       first 20 test images: x (float32 [N,8,8,1]), x_int8, y (int64)
    sample.npy            one int8 input [1,8,8,1] (first test image)
    sample.png            the same digit as an 8x8 grayscale PNG (0..255)

No network access is needed: the data set ships with scikit-learn.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

# Determinism and quiet logs: must be set before TensorFlow is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["TF_DETERMINISTIC_OPS"] = "1"
os.environ["PYTHONHASHSEED"] = "0"
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

SEED = 0
N_TEST = 297  # the last 297 of the 1797 images form the test split
N_REP = 200  # representative images for int8 calibration
N_SAVED = 20  # test images saved to digits_test.npz
EPOCHS = 60
BATCH = 32
LR = 5e-3


def seed_everything(seed: int = SEED) -> None:
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)


def load_data():
    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0).reshape(-1, 8, 8, 1)  # pixel values are 0..16
    y = d.target.astype(np.int64)
    return (x[:-N_TEST], y[:-N_TEST]), (x[-N_TEST:], y[-N_TEST:])


def build_model(batch_size: int | None = None) -> tf.keras.Model:
    L = tf.keras.layers
    inp = tf.keras.Input(shape=(8, 8, 1), batch_size=batch_size, name="image")
    h = L.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inp)  # CONV_2D
    h = L.DepthwiseConv2D(3, padding="same", activation="relu", name="dw")(h)  # DEPTHWISE_CONV_2D
    h = L.Conv2D(16, 1, activation="relu", name="pw")(h)  # CONV_2D 1x1
    h = L.MaxPooling2D(2, name="maxpool")(h)  # MAX_POOL_2D -> 4x4x16
    h = L.Conv2D(16, 3, padding="same", activation="relu6", name="conv2")(h)  # CONV_2D + RELU6
    h = L.AveragePooling2D(2, name="avgpool")(h)  # AVERAGE_POOL_2D -> 2x2x16
    h = L.Flatten(name="flatten")(h)  # RESHAPE
    h = L.Dense(10, name="logits")(h)  # FULLY_CONNECTED
    out = L.Softmax(name="probs")(h)  # SOFTMAX
    return tf.keras.Model(inp, out, name="evo_digits")


def convert(model: tf.keras.Model, rep_images: np.ndarray | None) -> bytes:
    # Convert a batch-1 copy of the trained model so the input is fully static [1,8,8,1].
    infer = build_model(batch_size=1)
    infer.set_weights(model.get_weights())
    conv = tf.lite.TFLiteConverter.from_keras_model(infer)
    if rep_images is not None:

        def rep():
            for img in rep_images:
                yield [img[None].astype(np.float32)]

        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = rep
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    return conv.convert()


def quantize(x: np.ndarray, scale: float, zp: int) -> np.ndarray:
    return np.clip(np.round(x / scale) + zp, -128, 127).astype(np.int8)


def tflite_predict(model_bytes: bytes, x: np.ndarray) -> tuple[np.ndarray, dict]:
    """Run every image through the TFLite interpreter, one at a time; return argmax per image."""
    it = tf.lite.Interpreter(model_content=model_bytes, num_threads=1)
    it.allocate_tensors()
    ind, outd = it.get_input_details()[0], it.get_output_details()[0]
    preds = []
    for img in x:
        if ind["dtype"] == np.int8:
            s, z = ind["quantization"]
            img = quantize(img, s, z)
        it.set_tensor(ind["index"], img[None].astype(ind["dtype"]))
        it.invoke()
        preds.append(int(np.argmax(it.get_tensor(outd["index"])[0])))
    return np.array(preds), ind


def op_names(model_bytes: bytes) -> list[str]:
    it = tf.lite.Interpreter(model_content=model_bytes)
    return [d["op_name"] for d in it._get_ops_details()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--lr", type=float, default=LR)
    args = ap.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    seed_everything()
    (xtr, ytr), (xte, yte) = load_data()

    model = build_model()
    model.compile(
        optimizer=tf.keras.optimizers.Adam(args.lr),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(xtr, ytr, epochs=args.epochs, batch_size=BATCH, shuffle=True, verbose=0)
    _, keras_acc = model.evaluate(xte, yte, verbose=0)
    print(f"params: {model.count_params()}  keras test accuracy: {keras_acc:.4f}")

    float_bytes = convert(model, None)
    int8_bytes = convert(model, xtr[:N_REP])
    (out / "digits_float.tflite").write_bytes(float_bytes)
    (out / "digits_int8.tflite").write_bytes(int8_bytes)

    fpred, _ = tflite_predict(float_bytes, xte)
    qpred, ind = tflite_predict(int8_bytes, xte)
    facc = float(np.mean(fpred == yte))
    qacc = float(np.mean(qpred == yte))
    in_scale, in_zp = ind["quantization"]
    print(f"float32 tflite test accuracy: {facc:.4f} ({int(np.sum(fpred == yte))}/{len(yte)})")
    print(f"int8    tflite test accuracy: {qacc:.4f} ({int(np.sum(qpred == yte))}/{len(yte)})")
    print(f"int8 input quantization: scale={in_scale!r} zero_point={in_zp}")
    print(f"float ops: {op_names(float_bytes)}")
    print(f"int8  ops: {op_names(int8_bytes)}")
    print(f"sizes: digits_float.tflite={len(float_bytes)} B  digits_int8.tflite={len(int8_bytes)} B")

    xs, ys = xte[:N_SAVED], yte[:N_SAVED]
    xs_q = quantize(xs, in_scale, in_zp)
    np.savez(out / "digits_test.npz", x=xs.astype(np.float32), y=ys.astype(np.int64), x_int8=xs_q)
    np.save(out / "sample.npy", xs_q[:1])
    print(f"sample: label={int(ys[0])} float pred={int(fpred[0])} int8 pred={int(qpred[0])}")

    from PIL import Image

    png = np.round(xs[0, :, :, 0] * 255.0).clip(0, 255).astype(np.uint8)
    Image.fromarray(png, mode="L").save(out / "sample.png", optimize=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
