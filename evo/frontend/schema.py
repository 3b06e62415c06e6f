"""Facts about the TFLite flatbuffer schema shared by the reader and the writer."""
from __future__ import annotations

import re

import tflite

# Option fields whose integer value is a schema enum: field accessor name -> enum class.
ENUM_FIELDS = {
    "Padding": tflite.Padding,
    "FusedActivationFunction": tflite.ActivationFunctionType,
    "WeightsFormat": tflite.FullyConnectedOptionsWeightsFormat,
    "QuantizedBiasType": tflite.TensorType,
    "Mode": tflite.MirrorPadMode,
    "OutType": tflite.TensorType,
    "OutputType": tflite.TensorType,
    "InDataType": tflite.TensorType,
    "OutDataType": tflite.TensorType,
    "IdxOutType": tflite.TensorType,
}

# TFLite TensorType name -> EVO dtype name (the ones EVO can hold).
TENSOR_TYPES = {
    "FLOAT32": "float32",
    "INT8": "int8",
    "UINT8": "uint8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "BOOL": "bool",
}


def enum_names(enum_cls) -> dict[int, str]:
    return {v: k for k, v in vars(enum_cls).items() if not k.startswith("_") and isinstance(v, int)}


def snake(name: str) -> str:
    """'DilationHFactor' -> 'dilation_h_factor' (the schema's own field spelling)."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


BUILTIN_OPERATORS = enum_names(tflite.BuiltinOperator)
BUILTIN_OPTIONS = enum_names(tflite.BuiltinOptions)
TENSOR_TYPE_NAMES = enum_names(tflite.TensorType)
