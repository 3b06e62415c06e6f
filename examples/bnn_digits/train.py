"""Train a binary CNN with Larq on scikit-learn's digits, convert it with LCE, and train an int8
twin of the same architecture (plain Keras, full-int8 TFLite) for bench/bnn.py.

Not part of EVO's test environment. Run in a separate venv (see README.md):

    python3.11 -m venv /tmp/lce
    /tmp/lce/bin/pip install tensorflow-cpu==2.21.0 larq==0.14.0 larq-compute-engine==0.16.0 scikit-learn "numpy<2"
    /tmp/lce/bin/pip install --no-deps tf_keras==2.21.0
    TF_USE_LEGACY_KERAS=1 /tmp/lce/bin/python examples/bnn_digits/train.py

Writes, next to this file: bnn_digits.tflite (LCE), digits_twin_int8.tflite (stock converter),
test_set.npz (test images/labels + LCE and TFLite outputs) and metrics.json.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
SEED = 7


def data():
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images.astype(np.float32) / 8.0 - 1.0)[..., None]  # [-1, 1], 8x8x1
    y = d.target.astype(np.int64)
    idx = np.random.default_rng(SEED).permutation(len(x))
    n_test = 360
    return x[idx[n_test:]], y[idx[n_test:]], x[idx[:n_test]], y[idx[:n_test]]


def bnn_model(tf, lq):
    kw = dict(input_quantizer="ste_sign", kernel_quantizer="ste_sign", kernel_constraint="weight_clip", use_bias=False)
    bn = lambda: tf.keras.layers.BatchNormalization(momentum=0.9, scale=False)  # noqa: E731
    return tf.keras.Sequential([
        tf.keras.Input((8, 8, 1)),
        lq.layers.QuantConv2D(16, 3, padding="same", kernel_quantizer="ste_sign", kernel_constraint="weight_clip", use_bias=False),
        bn(),
        lq.layers.QuantConv2D(64, 3, padding="same", pad_values=1.0, **kw), bn(),
        tf.keras.layers.MaxPool2D(2),
        lq.layers.QuantConv2D(128, 3, padding="same", pad_values=1.0, **kw), bn(),
        lq.layers.QuantConv2D(128, 3, padding="same", pad_values=1.0, **kw), bn(),
        tf.keras.layers.MaxPool2D(2),
        tf.keras.layers.Flatten(),
        lq.layers.QuantDense(10, **kw), bn(),
        tf.keras.layers.Activation("softmax"),
    ])


def int8_twin(tf):
    bn = lambda: tf.keras.layers.BatchNormalization(momentum=0.9)  # noqa: E731
    return tf.keras.Sequential([
        tf.keras.Input((8, 8, 1)),
        tf.keras.layers.Conv2D(16, 3, padding="same", use_bias=False), bn(), tf.keras.layers.ReLU(),
        tf.keras.layers.Conv2D(64, 3, padding="same", use_bias=False), bn(), tf.keras.layers.ReLU(),
        tf.keras.layers.MaxPool2D(2),
        tf.keras.layers.Conv2D(128, 3, padding="same", use_bias=False), bn(), tf.keras.layers.ReLU(),
        tf.keras.layers.Conv2D(128, 3, padding="same", use_bias=False), bn(), tf.keras.layers.ReLU(),
        tf.keras.layers.MaxPool2D(2),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(10), tf.keras.layers.Activation("softmax"),
    ])


def lce_interpreter(model: bytes):
    from larq_compute_engine.tflite.python.interpreter import Interpreter

    return Interpreter(model, num_threads=1)


def main() -> None:
    import larq as lq
    import larq_compute_engine as lce
    import tensorflow as tf

    tf.random.set_seed(SEED)
    np.random.seed(SEED)
    xtr, ytr, xte, yte = data()

    bnn = bnn_model(tf, lq)
    bnn.compile(optimizer=tf.keras.optimizers.Adam(5e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    bnn.fit(xtr, ytr, epochs=60, batch_size=64, verbose=0, validation_data=(xte, yte))
    keras_acc = float(bnn.evaluate(xte, yte, verbose=0)[1])
    bnn_bytes = lce.convert_keras_model(bnn)
    (HERE / "bnn_digits.tflite").write_bytes(bnn_bytes)
    it = lce_interpreter(bnn_bytes)
    lce_out = np.concatenate([it.predict(xte[i : i + 1]) for i in range(len(xte))])
    lce_acc = float((lce_out.argmax(1) == yte).mean())

    twin = int8_twin(tf)
    twin.compile(optimizer=tf.keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    twin.fit(xtr, ytr, epochs=30, batch_size=64, verbose=0)
    conv = tf.lite.TFLiteConverter.from_keras_model(twin)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([xtr[i : i + 1]] for i in range(200))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    twin_bytes = conv.convert()
    (HERE / "digits_twin_int8.tflite").write_bytes(twin_bytes)
    ti = tf.lite.Interpreter(model_content=twin_bytes)
    ti.allocate_tensors()
    inp, out = ti.get_input_details()[0], ti.get_output_details()[0]
    s, zp = inp["quantization"]
    xq = np.clip(np.round(xte / s) + zp, -128, 127).astype(np.int8)
    twin_out = []
    for i in range(len(xq)):
        ti.set_tensor(inp["index"], xq[i : i + 1])
        ti.invoke()
        twin_out.append(ti.get_tensor(out["index"]).copy())
    twin_out = np.concatenate(twin_out)
    twin_acc = float((twin_out.argmax(1) == yte).mean())

    np.savez_compressed(HERE / "test_set.npz", x=xte, y=yte, lce_output=lce_out.astype(np.float32), x_int8=xq, twin_output=twin_out)
    metrics = dict(keras_bnn_accuracy=keras_acc, lce_accuracy=lce_acc, int8_twin_accuracy=twin_acc, test_samples=int(len(yte)),
                   bnn_tflite_bytes=len(bnn_bytes), twin_tflite_bytes=len(twin_bytes),
                   versions=dict(tensorflow=tf.__version__, larq=lq.__version__, lce=lce.__version__, numpy=np.__version__))
    (HERE / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    print(json.dumps(metrics, indent=1))


if __name__ == "__main__":
    main()
