"""16x8 mixed precision on real float models: EVO-quantized models with int16 activations
(chosen automatically, or by a layer list) load in TFLM, EVO's C and NumPy reference are
bit-exact with TFLM on every tensor, and the output SQNR against the float model is at least
that of EVO's pure int8 model."""
from __future__ import annotations

import numpy as np
import pytest

from evo.frontend.tflite_reader import load_model, read_tflite
from evo.frontend.tflite_writer import write_tflite
from evo.inputs import dequantize, quantize_to
from evo.quant import quantize
from evo.ref import executor
from tests.support.differential import check_model


def _sqnr(ref, q):
    return 10 * np.log10(np.sum(ref**2) / max(np.sum((ref - q) ** 2), 1e-30))


def _outputs(g, xs):
    t = g.tensor(g.inputs[0])
    outs = []
    for x in xs:
        x = quantize_to(t, x) if t.dtype != "float32" else x
        outs.append(dequantize(g.tensor(g.outputs[0]), executor.outputs(g, executor.run(g, [x]))[0]))
    return np.stack(outs).astype(np.float64)


# model, calibration/evaluation inputs, --int16-activations
CASES = {
    "tiny_cnn-auto": ("synthetic/tiny_cnn_float", lambda rng, n: rng.standard_normal((n, 1, 32, 32, 3)), "auto"),
    "hello_world-list": ("hello_world_float", lambda rng, n: rng.uniform(0, 2 * np.pi, (n, 1, 1)), "0,2"),
    "resnet-list": ("pretrainedResnet", lambda rng, n: rng.uniform(0, 255, (n, 1, 32, 32, 3)), "11,14,15"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_16x8_bit_exact_and_better_than_int8(shared_models, case):
    fname, gen, spec = CASES[case]
    _, gf = load_model(shared_models / f"{fname}.tflite")
    calib = [[x.astype(np.float32)] for x in gen(np.random.default_rng(1000), 16)]
    evals = gen(np.random.default_rng(2000), 8).astype(np.float32)
    q8, _ = quantize(gf, calib)
    q16, report = quantize(gf, calib, int16_activations=spec)
    assert report.int16_ops and report.int16_tensors
    data = write_tflite(q16)
    g16 = read_tflite(data)
    assert "int16" in {t.dtype for t in g16.tensors}
    ref = np.stack([executor.outputs(gf, executor.run(gf, [x]))[0] for x in evals]).astype(np.float64)
    assert _sqnr(ref, _outputs(g16, evals)) >= _sqnr(ref, _outputs(read_tflite(write_tflite(q8)), evals))
    check_model(data, inputs=[quantize_to(g16.tensor(g16.inputs[0]), evals[0])], run_c=True)
