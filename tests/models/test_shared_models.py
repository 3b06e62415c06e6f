"""Every shared model that TFLM runs: EVO's C and NumPy reference agree with TFLM on every
tensor, for the stored reference input and 10 seeded random inputs."""
from __future__ import annotations

import numpy as np
import pytest

from evo.frontend.tflite_reader import load_model
from evo.inputs import random_inputs
from evo.ref import executor
from evo.targets.host import HostModel
from evo.verify.tflm import run_tflm
from tests.conftest import MODELS
from tests.support.differential import assert_same

RUNNABLE = [
    "ad01_int8", "ad01_fp32", "hello_world_int8", "hello_world_float", "kws_ref_model",
    "micro_speech_quantized", "person_detect", "pretrainedResnet_quant", "pretrainedResnet",
    "str_ww_ref_model", "vww_96_int8", "vww_96_float",
    "synthetic/tiny_cnn_int8", "synthetic/tiny_cnn_float", "synthetic/two_exit_int8", "synthetic/two_exit_named_int8",
]
RANDOM_INPUTS = 10


def _ref_inputs(name: str, g) -> list[np.ndarray] | None:
    path = MODELS / "ref" / f"{name}.npz"
    if not path.exists():
        return None
    with np.load(path) as z:
        return [z["input" if i == 0 else f"input_{i}"] for i in range(len(g.inputs))]


@pytest.mark.parametrize("name", RUNNABLE)
def test_bit_exact_with_tflm(shared_models, name):
    model, g = load_model(shared_models / f"{name}.tflite")
    input_sets = [random_inputs(g, seed) for seed in range(RANDOM_INPUTS)]
    stored = _ref_inputs(name, g)
    if stored is not None:
        input_sets.insert(0, stored)
    with HostModel.build(g, trace=True) as host:
        for k, inputs in enumerate(input_sets):
            oracle_out, oracle = run_tflm(model, g, inputs, preserve_all=True)
            c_out, c_tensors = host.run(inputs, trace=True)
            ref = executor.run(g, inputs)
            assert oracle, "TFLM returned no intermediate tensors"
            # tensors inside a row-streamed group never exist whole; every other one is traced
            assert set(oracle) - set(c_tensors) <= host.compiled.program.streamed_tensors
            for t, v in oracle.items():
                if t in c_tensors:
                    assert_same(c_tensors[t], v, f"{name} input {k}: C tensor {t} {g.tensor(t).name}")
                assert_same(ref[t], v, f"{name} input {k}: reference tensor {t} {g.tensor(t).name}")
            for i, v in enumerate(oracle_out):
                assert_same(c_out[i], v, f"{name} input {k}: output {g.output_names[i]}")


def test_stored_tflm_outputs_match(shared_models):
    """The stored TFLM outputs in ref/ (made by another machine) agree with EVO's C."""
    for name in ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8"]:
        _, g = load_model(shared_models / f"{name}.tflite")
        with np.load(shared_models / "ref" / f"{name}.npz") as z:
            inputs, expected = [z["input"]], z["output_tflm"]
        with HostModel.build(g) as host:
            out = host.run(inputs)
        assert np.array_equal(out[0].reshape(expected.shape), expected), name


def test_audio_preprocessor_rejected_naming_every_custom_op(shared_models):
    from evo.codegen.lower import lower
    from evo.errors import EvoError

    _, g = load_model(shared_models / "audio_preprocessor_int8.tflite")
    with pytest.raises(EvoError) as e:
        lower(g)
    msg = str(e.value)
    customs = sorted({op.type for op in g.ops if op.type.startswith("CUSTOM:")})
    assert len(customs) == 9
    for c in customs:
        assert c in msg
    assert "\n" not in msg


def test_hybrid_model_rejected_clearly(shared_models):
    from evo.codegen.lower import lower
    from evo.errors import EvoError

    _, g = load_model(shared_models / "kws_ref_model_float32.tflite")
    with pytest.raises(EvoError) as e:
        lower(g)
    assert "\n" not in str(e.value)
