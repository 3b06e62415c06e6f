"""evo.frontend.flexbuffers against the FlexBuffers encoder that ships with the flatbuffers package,
and on the LCE models' stored custom options."""
from __future__ import annotations

import pytest

from evo.errors import EvoError
from evo.frontend.flexbuffers import custom_options, loads

flexbuffers = pytest.importorskip("flatbuffers.flexbuffers")


@pytest.mark.parametrize(
    "value",
    [
        {"channels_in": 16, "dilation_height_factor": 1, "pad_values": 1, "padding": 0, "stride_height": 2},
        {"a": -1, "b": 300, "c": -70000, "d": 2**40},
        {"f": 1.5, "s": "SAME", "t": True, "n": None},
        {"v": [1, 2, 3], "w": [1.0, -2.5], "m": {"x": 1, "y": [4, 5]}},
        [1, "two", 3.0, {"k": 4}],
        42,
    ],
)
def test_roundtrip_with_reference_encoder(value):
    assert loads(bytes(flexbuffers.Dumps(value))) == value


def test_lce_options_in_shared_model(shared_models):
    from evo.frontend.tflite_reader import load_model

    _, g = load_model(shared_models / "synthetic" / "bnn_lce_float.tflite")
    opts = [custom_options(op.type, op.custom_options) for op in g.ops if op.type == "CUSTOM:LceBconv2d"]
    assert opts[0] == {"channels_in": 16, "dilation_height_factor": 1, "dilation_width_factor": 1, "fused_activation_function": 0,
                       "pad_values": 1, "padding": 0, "stride_height": 1, "stride_width": 1}
    assert [o["stride_height"] for o in opts] == [1, 2, 1] and [o["pad_values"] for o in opts] == [1, 1, 0]


def test_corrupt_options_are_a_clean_error():
    with pytest.raises(EvoError) as e:
        custom_options("CUSTOM:LceBconv2d (operator 3)", b"\x07\x01\x09\x08")
    assert "custom options" in str(e.value)
