"""The quantizer end to end on small graphs: TFLite's scheme, scale sharing, fixed outputs,
float I/O, clean errors; every written model is checked bit-exact TFLM vs reference vs C."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evo.cli import main
from evo.errors import EvoError
from evo.frontend.tflite_reader import load_model, read_tflite
from evo.frontend.tflite_writer import write_tflite
from evo.inputs import quantize_to
from evo.ir import Graph, Op, Tensor
from evo.quant import load_calibration, quantize, quantize_file
from evo.quant.calibrate import calibrate
from tests.support.differential import check_model

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "examples" / "digits"
FLOAT = DIGITS / "digits_float.tflite"
CALIB = DIGITS / "digits_calib.npz"


@pytest.fixture(scope="module")
def digits():
    _, g = load_model(FLOAT)
    return g, load_calibration(g, CALIB)


def test_digits_int8_scheme(digits):
    g, samples = digits
    q, report = quantize(g, samples)
    assert report.samples == 200 and report.bias_corrected  # the depthwise layer
    ins, outs = q.tensor(q.inputs[0]), q.tensor(q.outputs[0])
    assert ins.dtype == outs.dtype == "int8"
    assert np.float32(ins.quant.scale[0]) == np.float32(1 / 255) and ins.quant.zero_point[0] == -128  # as TF's twin
    assert np.float32(outs.quant.scale[0]) == np.float32(1 / 256) and outs.quant.zero_point[0] == -128
    for op in q.ops:
        if op.type in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            x, w, b = (q.tensor(i) for i in op.inputs)
            axis = 3 if op.type == "DEPTHWISE_CONV_2D" else 0
            assert w.dtype == "int8" and w.quant.axis == axis and w.quant.scale.size == w.shape[axis]
            assert np.all(w.quant.zero_point == 0) and np.abs(w.data).max() == 127
            assert b.dtype == "int32" and np.allclose(b.quant.scale, x.quant.scale[0] * w.quant.scale)
            y = q.tensor(op.outputs[0])
            if op.attrs.get("fused_activation_function") in ("RELU", "RELU6"):
                assert y.quant.zero_point[0] == -128  # the fused activation's range starts at 0
            if op.attrs.get("fused_activation_function") == "RELU6":
                assert y.quant.scale[0] <= np.float32(6 / 255) + 1e-9
        if op.type in ("MAX_POOL_2D", "AVERAGE_POOL_2D", "RESHAPE"):
            a, b = q.tensor(op.inputs[0]).quant, q.tensor(op.outputs[0]).quant
            assert a.scale[0] == b.scale[0] and a.zero_point[0] == b.zero_point[0]
    check_model(write_tflite(q), run_c=True)


def test_per_tensor_and_methods(digits):
    g, samples = digits
    for method in ("percentile", "mse"):
        q, _ = quantize(g, samples[:20], method=method, per_channel=False, bias_correction=False)
        for op in q.ops:
            if op.type in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
                assert q.tensor(op.inputs[1]).quant.scale.size == 1
        check_model(write_tflite(q), run_c=False)


def test_float_io(digits, tmp_path):
    g, samples = digits
    q, _ = quantize(g, samples[:10], float_io=True)
    assert [q.ops[0].type, q.ops[-1].type] == ["QUANTIZE", "DEQUANTIZE"]
    assert q.tensor(q.inputs[0]).dtype == q.tensor(q.outputs[0]).dtype == "float32"
    x = np.load(DIGITS / "digits_test.npz")["x"][:1].astype(np.float32)
    check_model(write_tflite(q), inputs=[x], run_c=True)


def _float_graph() -> Graph:
    """input -> CONV(relu) -> {MAX_POOL, CONV} -> CONCAT -> ADD(const) -> LOGISTIC / TANH / MEAN / RESHAPE."""
    rng = np.random.default_rng(0)
    T = []

    def t(shape, data=None, dtype="float32"):
        T.append(Tensor(len(T), f"t{len(T)}", tuple(shape), dtype, data=None if data is None else np.asarray(data, dtype)))
        return len(T) - 1

    x = t((1, 6, 6, 2))
    w1, b1, c1 = t((4, 3, 3, 2), rng.normal(size=(4, 3, 3, 2))), t((4,), rng.normal(size=4)), t((1, 6, 6, 4))
    p = t((1, 3, 3, 4))
    w2, b2, c2 = t((3, 2, 2, 4), rng.normal(size=(3, 2, 2, 4))), t((3,), rng.normal(size=3)), t((1, 3, 3, 3))
    cat = t((1, 3, 3, 7))
    k, added = t((1, 1, 1, 7), rng.normal(size=(1, 1, 1, 7))), t((1, 3, 3, 7))
    sig, tnh, axes, mean = t((1, 3, 3, 7)), t((1, 3, 3, 7)), t((2,), [1, 2], "int32"), t((1, 7))
    shape, flat = t((2,), [1, 63], "int32"), t((1, 63))
    ops = [
        Op(0, "CONV_2D", [x, w1, b1], [c1], dict(padding="SAME", stride_w=1, stride_h=1, fused_activation_function="RELU")),
        Op(1, "MAX_POOL_2D", [c1], [p], dict(padding="VALID", stride_w=2, stride_h=2, filter_width=2, filter_height=2, fused_activation_function="NONE")),
        Op(2, "CONV_2D", [p, w2, b2], [c2], dict(padding="SAME", stride_w=1, stride_h=1, fused_activation_function="NONE")),
        Op(3, "CONCATENATION", [p, c2], [cat], dict(axis=3, fused_activation_function="NONE")),
        Op(4, "ADD", [cat, k], [added], dict(fused_activation_function="NONE")),
        Op(5, "LOGISTIC", [added], [sig]),
        Op(6, "TANH", [added], [tnh]),
        Op(7, "MEAN", [sig, axes], [mean], dict(keep_dims=False)),
        Op(8, "RESHAPE", [tnh, shape], [flat], dict(new_shape=[1, 63])),
    ]
    return Graph(T, ops, [x], [mean, flat], ["x"], ["mean", "flat"], name="mini")


def test_sharing_and_fixed_outputs():
    g = _float_graph()
    rng = np.random.default_rng(1)
    samples = [[rng.normal(size=(1, 6, 6, 2)).astype(np.float32)] for _ in range(8)]
    q, _ = quantize(g, samples)
    qp = lambda i: (float(q.tensor(i).quant.scale[0]), int(q.tensor(i).quant.zero_point[0]))  # noqa: E731
    concat = q.ops[3]
    assert qp(concat.inputs[0]) == qp(concat.inputs[1]) == qp(concat.outputs[0]) == qp(q.ops[1].inputs[0])
    # the concat range covers both inputs' ranges
    assert qp(q.ops[5].outputs[0]) == (np.float32(1 / 256), -128)
    assert qp(q.ops[6].outputs[0]) == (np.float32(1 / 128), 0)
    assert q.tensor(q.ops[4].inputs[1]).dtype == "int8"  # the ADD constant
    xq = quantize_to(q.tensor(q.inputs[0]), samples[0][0])
    check_model(write_tflite(q), inputs=[xq], run_c=True)
    # float I/O on a two-output graph
    q2, _ = quantize(g, samples, float_io=True)
    assert [op.type for op in q2.ops].count("DEQUANTIZE") == 2
    check_model(write_tflite(q2), inputs=samples[0], run_c=False)


def test_errors(digits, tmp_path):
    g, samples = digits
    out = tmp_path / "q.tflite"
    with pytest.raises(EvoError, match="already quantized"):
        quantize_file(DIGITS / "digits_int8.tflite", CALIB, out)
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((4, 9, 9, 1), np.float32))
    with pytest.raises(EvoError, match=r"shape \[4, 9, 9, 1\]"):
        quantize_file(FLOAT, bad, out)
    with pytest.raises(EvoError, match="no operator index or output tensor named 'conv9'"):
        quantize_file(FLOAT, CALIB, out, int16_activations="0,conv9")
    with pytest.raises(EvoError, match="unknown range method"):
        quantize(g, samples[:2], method="kl")
    g2 = _float_graph()
    g2.ops[7] = Op(7, "SQUARED_DIFFERENCE", g2.ops[7].inputs, g2.ops[7].outputs)
    with pytest.raises(EvoError, match="SQUARED_DIFFERENCE\\) has no int8 form"):
        quantize(g2, [[np.zeros((1, 6, 6, 2), np.float32)]])
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]  # nothing written, no temp files left


def test_calibration_sources(digits, tmp_path):
    g, _ = digits
    x = np.load(DIGITS / "digits_test.npz")["x"]
    np.save(tmp_path / "a.npy", x)
    assert len(load_calibration(g, tmp_path / "a.npy")) == 20
    np.save(tmp_path / "b.npy", x[:, :, :, 0])  # [N, 8, 8] does not fit [1, 8, 8, 1]
    with pytest.raises(EvoError, match="calibration data"):
        load_calibration(g, tmp_path / "b.npy")
    np.savez(tmp_path / "c.npz", image=x[:3])
    assert len(load_calibration(g, tmp_path / "c.npz", limit=2)) == 2
    from PIL import Image

    imgs = tmp_path / "imgs"
    imgs.mkdir()
    for k in range(3):
        Image.fromarray((x[k, :, :, 0] * 255).astype(np.uint8), mode="L").resize((16, 16)).save(imgs / f"{k}.png")
    s = load_calibration(g, imgs, image_range=(0.0, 1.0))
    assert len(s) == 3 and s[0][0].shape == (1, 8, 8, 1) and 0 <= s[0][0].min() and s[0][0].max() <= 1
    with pytest.raises(EvoError, match="does not exist"):
        load_calibration(g, tmp_path / "nope.npz")


def test_no_progress_bar_off_tty(digits, capsys):
    g, samples = digits
    calibrate(g, samples[:5])
    assert capsys.readouterr().err == ""


def test_cli_quantize_and_compile(tmp_path, capsys):
    out = tmp_path / "d8.tflite"
    assert main(["quantize", str(FLOAT), "--calib", str(CALIB), "-o", str(out), "--method", "mse"]) == 0
    assert "wrote" in capsys.readouterr().out
    read_tflite(out.read_bytes())
    assert main(["compile", str(FLOAT), "--calib", str(CALIB), "-o", str(tmp_path / "c"), "--calib-limit", "20"]) == 0
    assert (tmp_path / "c" / "evo_report.json").exists()
    capsys.readouterr()
    rc = main(["quantize", str(DIGITS / "digits_int8.tflite"), "--calib", str(CALIB), "-o", str(tmp_path / "x.tflite")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "already quantized" in err
    assert not (tmp_path / "x.tflite").exists()
    rc = main(["compile", str(FLOAT), "-o", str(tmp_path / "y"), "--calib", str(CALIB), "--int16-activations", "99"])
    assert rc == 2 and "operator 99 does not exist" in capsys.readouterr().err
    assert not (tmp_path / "y").exists()
