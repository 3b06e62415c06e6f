"""16x8 mixed precision in the quantizer: layer lists, `auto` with and without a RAM budget,
the QUANTIZE borders, the CLI, and clean errors. Written models are checked bit-exact
(TFLM == NumPy reference == C) on every tensor."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evo.cli import main
from evo.errors import EvoError
from evo.frontend.tflite_reader import load_model, read_tflite
from evo.frontend.tflite_writer import write_tflite
from evo.inputs import quantize_to
from evo.quant import load_calibration, quantize
from evo.quant.select import arena_bytes
from tests.support.differential import check_model

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits"
FLOAT = DIGITS / "digits_float.tflite"
CALIB = DIGITS / "digits_calib.npz"


@pytest.fixture(scope="module")
def digits():
    _, g = load_model(FLOAT)
    return g, load_calibration(g, CALIB, limit=16)


def _types(q):
    return [(op.type, q.tensor(op.outputs[0]).dtype) for op in q.ops]


def test_layer_list_borders(digits):
    g, samples = digits
    # operator 2 by index, operator 7 by its output tensor's name; the max pool after operator 2
    # follows it into int16
    q, report = quantize(g, samples, int16_activations=["2", g.tensor(g.ops[7].outputs[0]).name])
    assert report.int16_ops == [2, 3, 7]
    assert _types(q) == [
        ("CONV_2D", "int8"), ("DEPTHWISE_CONV_2D", "int8"), ("QUANTIZE", "int16"), ("CONV_2D", "int16"),
        ("MAX_POOL_2D", "int16"), ("QUANTIZE", "int8"), ("CONV_2D", "int8"), ("AVERAGE_POOL_2D", "int8"),
        ("RESHAPE", "int8"), ("QUANTIZE", "int16"), ("FULLY_CONNECTED", "int16"), ("QUANTIZE", "int8"), ("SOFTMAX", "int8"),
    ]
    for op in q.ops:
        if op.type in ("CONV_2D", "FULLY_CONNECTED") and q.tensor(op.inputs[0]).dtype == "int16":
            assert q.tensor(op.inputs[2]).dtype == "int64"
            assert int(q.tensor(op.inputs[0]).quant.zero_point[0]) == 0
    data = write_tflite(q)
    check_model(data, inputs=[quantize_to(q.tensor(q.inputs[0]), samples[0][0])])


def test_whole_model_16x8(digits):
    g, samples = digits
    q, _ = quantize(g, samples, int16_activations=",".join(str(k) for k in range(len(g.ops))), float_io=True)
    assert [op.type for op in q.ops if op.type in ("QUANTIZE", "DEQUANTIZE")] == ["QUANTIZE", "DEQUANTIZE"]
    out = q.tensor(q.ops[-2].outputs[0])  # the softmax: 16x8 fixed output quantization
    assert out.dtype == "int16" and float(out.quant.scale[0]) == pytest.approx(1 / 32768) and int(out.quant.zero_point[0]) == 0
    check_model(write_tflite(q), inputs=[samples[1][0]], run_c=True)


def test_auto_rule_and_budget(digits):
    g, samples = digits
    q8, _ = quantize(g, samples)
    q, report = quantize(g, samples, int16_activations="auto")
    sel = report.selection
    assert report.int16_ops and "80%" in sel.rule and sel.sqnr_db > sel.sqnr_int8_db
    a8 = arena_bytes(q8)
    with pytest.raises(EvoError, match="below the pure int8 arena"):
        quantize(g, samples, int16_activations="auto", ram_budget=a8 - 1)
    q_b, rep_b = quantize(g, samples, int16_activations="auto", ram_budget=a8 + a8 // 2)
    assert rep_b.selection.arena <= a8 + a8 // 2 and arena_bytes(q_b) == rep_b.selection.arena
    q_big, rep_big = quantize(g, samples, int16_activations="auto", ram_budget=10 * a8)
    assert set(rep_b.int16_ops) <= set(rep_big.int16_ops)
    check_model(write_tflite(q_b), inputs=[quantize_to(q_b.tensor(q_b.inputs[0]), samples[2][0])], run_c=False)


def test_layer_errors(digits):
    g, samples = digits
    with pytest.raises(EvoError, match="empty layer list"):
        quantize(g, samples, int16_activations=" , ")
    with pytest.raises(EvoError, match="operator 12 does not exist"):
        quantize(g, samples, int16_activations="12")
    with pytest.raises(EvoError, match="--ram-budget -5 must be positive"):
        quantize(g, samples, int16_activations="auto", ram_budget=-5)


def test_cli(tmp_path, capsys):
    out = tmp_path / "d16.tflite"
    assert main(["quantize", str(FLOAT), "--calib", str(CALIB), "--calib-limit", "16", "-o", str(out), "--int16-activations", "auto", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["int16_ops"] and r["int16_rule"] and r["int16_tensors"]
    assert "int16" in {t.dtype for t in read_tflite(out.read_bytes()).tensors}
    assert main(["verify", str(out), "--layers", "--json"]) == 0
    v = json.loads(capsys.readouterr().out)
    assert v["bit_exact"] is True and len(v["layers"]) + v["streamed_tensors"] >= 10
    rc = main(["quantize", str(FLOAT), "--calib", str(CALIB), "-o", str(tmp_path / "x.tflite"), "--ram-budget", "4096"])
    assert rc == 2 and "applies to --int16-activations auto only" in capsys.readouterr().err
    rc = main(["quantize", str(FLOAT), "--calib", str(CALIB), "-o", str(tmp_path / "x.tflite"), "--int16-activations", "auto", "--ram-budget", "64"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "below the pure int8 arena" in err
    assert not (tmp_path / "x.tflite").exists()
    assert main(["compile", str(FLOAT), "--calib", str(CALIB), "--calib-limit", "16", "--int16-activations", "0,1,2", "-o", str(tmp_path / "c")]) == 0
    assert (tmp_path / "c" / "evo_report.json").exists()


def test_concat_add_const_mean_in_16x8():
    from tests.unit.test_quant_graph import _float_graph

    g = _float_graph()  # CONV, MAX_POOL, CONV, CONCAT, ADD(const), LOGISTIC, TANH, MEAN, RESHAPE
    rng = np.random.default_rng(1)
    samples = [[rng.normal(size=(1, 6, 6, 2)).astype(np.float32)] for _ in range(8)]
    q, report = quantize(g, samples, int16_activations="0,2,4,7")
    assert report.int16_ops == [0, 1, 2, 3, 4, 7]  # the pool and the concat follow their int16 producers
    add = next(op for op in q.ops if op.type == "ADD")
    assert q.tensor(add.inputs[1]).dtype == "int16" and q.tensor(add.inputs[1]).is_const  # the constant operand
    assert [op.type for op in q.ops].count("QUANTIZE") == 2  # ADD -> LOGISTIC and TANH (one shared copy), LOGISTIC -> MEAN
    check_model(write_tflite(q), inputs=[quantize_to(q.tensor(q.inputs[0]), samples[0][0])])
