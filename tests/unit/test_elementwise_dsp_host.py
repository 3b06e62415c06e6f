"""ADD int8 on DSP cores (evo.ops.elementwise_dsp.py, kernels_c/src/add_s8_dsp.c) built for the M4 target
and run on the host through the plain-C twins: bit-exact with TFLM on every int8 input pair,
random shapes (lengths not multiples of 4), every fused activation and scale sets from equal
scales (output multiplier exactly 2^30) to far apart ones."""
from __future__ import annotations

import numpy as np
import pytest

from evo.compiler import compile_graph
from evo.frontend.tflite_reader import read_tflite
from evo.ops.elementwise_dsp import add_table_params
from evo.ops.base import impl_for
from evo.target import Target
from evo.targets.host import HostModel
from evo.verify.tflm import run_tflm
from tests.support.single_op import TensorSpec as T
from tests.support.single_op import single_op_model

M4 = Target("M4")
ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]


def _model(shape, q1, q2, qo, act, op="ADD"):
    return single_op_model(op, [T(shape, "int8", *q1), T(shape, "int8", *q2)], [T(shape, "int8", *qo)],
                           {"fused_activation_function": act})


def _random_q(rng):
    return float(10 ** rng.uniform(-3, 0)), int(rng.integers(-128, 128))


def _funcs(compiled):
    return {s.call.func for s in compiled.program.steps if s.call is not None}


def _run(model, inputs):
    g = read_tflite(model)
    compiled = compile_graph(g, target=M4)
    tflm, _ = run_tflm(model, g, inputs)
    with HostModel.build(g, compiled=compiled) as m:
        got = m.run(inputs)
    return _funcs(compiled), got, tflm


def _all_pairs():
    a = np.repeat(np.arange(-128, 128, dtype=np.int8), 256).reshape(1, 256, 256)
    return [a, np.ascontiguousarray(a.transpose(0, 2, 1))]


SCALES = {
    "equal": ((0.05, 3), (0.05, 3), (0.05, -7)),  # output multiplier exactly 2^30
    "resnet_like": ((0.041, -20), (0.077, -5), (0.09, -128)),
    "far_apart": ((0.9, 127), (0.0011, -128), (0.2, 0)),
    "tiny_output": ((0.3, -128), (0.25, 127), (0.004, 5)),
}


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("name", sorted(SCALES))
def test_add_dsp_every_input_pair(name, act):
    funcs, got, tflm = _run(_model((1, 256, 256), *SCALES[name], act), _all_pairs())
    assert funcs == {"evo_add_s8_dsp"}, funcs
    assert np.array_equal(got[0], tflm[0])


MUL_SCALES = {
    "mul_small": ((0.05, 3), (0.04, -128), (0.02, -7)),
    "mul_wide": ((0.9, 127), (0.011, 0), (0.3, 100)),
}


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("name", sorted(MUL_SCALES))
def test_mul_dsp_every_input_pair(name, act):
    funcs, got, tflm = _run(_model((1, 256, 256), *MUL_SCALES[name], act, "MUL"), _all_pairs())
    assert funcs == {"evo_mul_s8_dsp"}, funcs
    assert np.array_equal(got[0], tflm[0])


@pytest.mark.parametrize("op", ["ADD", "MUL"])
@pytest.mark.parametrize("seed", range(6))
def test_dsp_random_shapes(seed, op):
    rng = np.random.default_rng(seed)
    shape = tuple(int(v) for v in rng.integers(1, 8, size=int(rng.integers(1, 5))))
    q1, q2, qo = _random_q(rng), _random_q(rng), _random_q(rng)
    model = _model(shape, q1, q2, qo, ACTS[seed % 4], op)
    inputs = [rng.integers(-128, 128, shape).astype(np.int8) for _ in range(2)]
    funcs, got, tflm = _run(model, inputs)
    name = op.lower()
    assert funcs <= {f"evo_{name}_s8_dsp", f"evo_{name}_s8"}
    assert np.array_equal(got[0], tflm[0])


def test_add_dsp_random_scales_are_exact_or_fall_back():
    """The generation-time check over all 65,536 pairs accepts almost every scale set."""
    rng = np.random.default_rng(7)
    accepted = 0
    for i in range(40):
        qs = [_random_q(rng) for _ in range(3)]
        g = read_tflite(_model((4,), *qs, ACTS[i % 4]))
        impl = impl_for(g.ops[0])
        try:
            impl.check(g, g.ops[0])
        except Exception:
            continue  # rescale factor >= 1: TFLM rejects it too
        accepted += add_table_params(impl.prepare(g, g.ops[0])) is not None
    assert accepted >= 30


def test_mul_output_multiplier_above_half_keeps_the_portable_kernel():
    """No right shift (real multiplier >= 0.5): outside the kernel's range."""
    model = _model((9,), (0.5, 0), (0.5, 0), (0.3, 0), "NONE", "MUL")
    assert _funcs(compile_graph(read_tflite(model), target=M4)) == {"evo_mul_s8"}


def test_add_broadcast_and_host_keep_the_portable_kernel():
    q = ((0.05, 3), (0.04, 1), (0.06, -2))
    bcast = single_op_model("ADD", [T((2, 3), "int8", *q[0]), T((1, 3), "int8", *q[1])], [T((2, 3), "int8", *q[2])],
                            {"fused_activation_function": "NONE"})
    assert _funcs(compile_graph(read_tflite(bcast), target=M4)) == {"evo_add_s8"}
    same = _model((5,), *q, "NONE")
    assert _funcs(compile_graph(read_tflite(same))) == {"evo_add_s8"}
    assert _funcs(compile_graph(read_tflite(same), target=Target("M0"))) == {"evo_add_s8"}
