"""The quantizer on real models: digits accuracy (297 stored test images) against the float
model and TensorFlow's int8 twin, and EVO-quantized shared models bit-exact TFLM vs EVO with
output SQNR at least that of the TF twin shipped beside them."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evo.frontend.tflite_reader import load_model, read_tflite
from evo.frontend.tflite_writer import write_tflite
from evo.inputs import dequantize, quantize_to
from evo.quant import load_calibration, quantize
from evo.ref import executor
from tests.support.differential import check_model

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits"


def _predict(g, xs):
    t = g.tensor(g.inputs[0])
    out = []
    for x in xs:
        x = x.reshape(t.shape).astype(np.float32)
        if t.dtype != "float32":
            x = quantize_to(t, x)
        out.append(dequantize(g.tensor(g.outputs[0]), executor.outputs(g, executor.run(g, [x]))[0]))
    return np.stack(out)


def test_digits_accuracy():
    ev = np.load(DIGITS / "digits_eval.npz")
    xs, ys = ev["x"].astype(np.float32), ev["y"]
    _, gf = load_model(DIGITS / "digits_float.tflite")
    _, gt = load_model(DIGITS / "digits_int8.tflite")
    q, _ = quantize(gf, load_calibration(gf, DIGITS / "digits_calib.npz"))
    gq = read_tflite(write_tflite(q))
    acc = {name: float(np.mean(_predict(g, xs).argmax(-1).reshape(-1) == ys)) for name, g in (("float", gf), ("tf", gt), ("evo", gq))}
    assert acc["float"] == pytest.approx(0.9529, abs=1e-4) and acc["tf"] == pytest.approx(0.9495, abs=1e-4)
    assert acc["evo"] >= acc["float"] - 0.005
    assert acc["evo"] >= acc["tf"]


def _sqnr(ref, q):
    return 10 * np.log10(np.sum(ref**2) / max(np.sum((ref - q) ** 2), 1e-30))


# float model, twin, calibration/evaluation inputs (seeded), C build too?
CASES = {
    "hello_world": ("hello_world_float", "hello_world_int8", lambda rng, n: rng.uniform(0, 2 * np.pi, (n, 1, 1)), True),
    "tiny_cnn": ("synthetic/tiny_cnn_float", "synthetic/tiny_cnn_int8", lambda rng, n: rng.standard_normal((n, 1, 32, 32, 3)), True),
    "ad01": ("ad01_fp32", "ad01_int8", None, False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_shared_model_fidelity(shared_models, case):
    fname, tname, gen, run_c = CASES[case]
    _, gf = load_model(shared_models / f"{fname}.tflite")
    _, gt = load_model(shared_models / f"{tname}.tflite")
    if gen is None:  # uniform over the twin's input range
        ti = gt.tensor(gt.inputs[0])
        s, z = float(ti.quant.scale[0]), int(ti.quant.zero_point[0])
        gen = lambda rng, n: rng.uniform(s * (-128 - z), s * (127 - z), (n,) + ti.shape)  # noqa: E731
    seed = 1235 if case == "tiny_cnn" else 1000  # tiny_cnn: the twin's own calibration set
    calib = [[x.astype(np.float32)] for x in gen(np.random.default_rng(seed), 32)]
    evals = gen(np.random.default_rng(2000), 16).astype(np.float32)
    q, _ = quantize(gf, calib)
    data = write_tflite(q)
    gq = read_tflite(data)
    ref = np.stack([executor.outputs(gf, executor.run(gf, [x]))[0] for x in evals]).astype(np.float64)
    assert _sqnr(ref, _predict(gq, evals)) >= _sqnr(ref, _predict(gt, evals))
    check_model(data, inputs=[quantize_to(gq.tensor(gq.inputs[0]), evals[0])], run_c=run_c)


def test_reproduces_tf_twin(shared_models):
    """From the twin's own calibration set (and without bias correction, which TF lacks), EVO's
    tiny_cnn equals TensorFlow's int8 twin in every quantization parameter and constant."""
    _, gf = load_model(shared_models / "synthetic/tiny_cnn_float.tflite")
    _, gt = load_model(shared_models / "synthetic/tiny_cnn_int8.tflite")
    calib = np.random.default_rng(1235).standard_normal((32, 1, 32, 32, 3)).astype(np.float32)
    q, _ = quantize(gf, [[x] for x in calib], bias_correction=False)
    assert [op.type for op in q.ops] == [op.type for op in gt.ops]
    for a, b in zip(gt.ops, q.ops):
        for i, j in zip(a.inputs + a.outputs, b.inputs + b.outputs):
            ta, tb = gt.tensor(i), q.tensor(j)
            assert ta.dtype == tb.dtype
            if ta.quant is not None:
                np.testing.assert_allclose(tb.quant.scale, ta.quant.scale, rtol=1e-6)
                assert np.array_equal(tb.quant.zero_point, ta.quant.zero_point) and tb.quant.axis == ta.quant.axis
            if ta.data is not None:
                assert np.array_equal(tb.data, ta.data), ta.name
