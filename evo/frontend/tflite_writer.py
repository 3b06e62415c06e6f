"""Serialise an IR Graph back to a .tflite flatbuffer.

Why a writer in a compiler that only *reads* models: tests need small, exact models (one
operator, chosen shapes and quantization) that reference interpreters (TFLM, LiteRT) can run,
and a reader -> writer -> reader round trip is the cheapest check that the reader loses nothing.

Builtin options are written by reflection over the generated `tflite` package rather than by a
hand-written case per operator: `Op.attrs` uses the schema's snake_case field names, which map
one-to-one onto the generated `<Options>Add<Field>` builder functions (named through the
reader's own `schema.snake`, so both sides agree by construction). Only the schema's naming
irregularities (which options table an operator uses) are spelled out below; which fields are
enums is shared with the reader in `evo.frontend.schema`.

Empty attrs are written as "no options table", because that is what the reader returns for
such a file; an operator that needs options (CONV_2D strides, ...) must be given them.
"""
from __future__ import annotations

import importlib

import flatbuffers
import numpy as np
import tflite

from evo.frontend import schema
from evo.ir.graph import Graph, Op, Tensor

SCHEMA_VERSION = 3
FILE_IDENTIFIER = b"TFL3"
BUFFER_ALIGNMENT = 16  # so interpreters can map int32/float constants in place

# IR dtype name -> tflite.TensorType value; enum-valued option fields by snake_case key.
TENSOR_TYPES = {evo: getattr(tflite.TensorType, name) for name, evo in schema.TENSOR_TYPES.items()}
OPTION_ENUMS = {schema.snake(field): enum for field, enum in schema.ENUM_FIELDS.items()}

# Operators whose options table name is not simply the operator name + "Options".
IRREGULAR_OPTIONS = {
    "AVERAGE_POOL_2D": "Pool2DOptions",
    "MAX_POOL_2D": "Pool2DOptions",
    "L2_POOL_2D": "Pool2DOptions",
    "MEAN": "ReducerOptions",
    "SUM": "ReducerOptions",
    "REDUCE_MAX": "ReducerOptions",
    "REDUCE_MIN": "ReducerOptions",
    "REDUCE_PROD": "ReducerOptions",
    "REDUCE_ANY": "ReducerOptions",
    "REDUCE_ALL": "ReducerOptions",
    "MAXIMUM": "MaximumMinimumOptions",
    "MINIMUM": "MaximumMinimumOptions",
    "L2_NORMALIZATION": "L2NormOptions",
    "UNIDIRECTIONAL_SEQUENCE_RNN": "SequenceRNNOptions",
    "CONV_3D_TRANSPOSE": "Conv3DOptions",
    "RANDOM_STANDARD_NORMAL": "RandomOptions",
    "RANDOM_UNIFORM": "RandomOptions",
    "MULTINOMIAL": "RandomOptions",
}

_OPTIONS_BY_KEY = {
    name.lower(): name for name in vars(tflite.BuiltinOptions) if name.endswith("Options")
}
_OPCODES = {name: code for name, code in vars(tflite.BuiltinOperator).items() if name.isupper()}


def options_name(op_type: str) -> str | None:
    """Name of the BuiltinOptions table the schema uses for `op_type`, or None."""
    if op_type in IRREGULAR_OPTIONS:
        return IRREGULAR_OPTIONS[op_type]
    return _OPTIONS_BY_KEY.get(op_type.replace("_", "").lower() + "options")


def _fields(module, name: str) -> dict[str, str]:
    """snake_case key -> CamelCase field of options table `name`, via the reader's `snake`."""
    prefix = f"{name}Add"
    return {schema.snake(f[len(prefix):]): f[len(prefix):] for f in vars(module) if f.startswith(prefix)}


class _ElemSize:
    """Stand-in builder that records the element size a generated StartXVector asks for."""

    def StartVector(self, elem_size, num_elems, alignment):  # noqa: N802 (flatbuffers API)
        self.size = elem_size


def _numpy_vector(b: flatbuffers.Builder, values, dtype) -> int:
    return b.CreateNumpyVector(np.asarray(values, dtype=dtype).reshape(-1))


def _aligned_bytes(b: flatbuffers.Builder, data: bytes) -> int:
    """A ubyte vector whose payload starts on a BUFFER_ALIGNMENT boundary."""
    b.StartVector(1, len(data), BUFFER_ALIGNMENT)
    b.head -= len(data)
    b.Bytes[b.head : b.head + len(data)] = data
    return b.EndVector()


def _write_options(b: flatbuffers.Builder, op: Op) -> tuple[int, int]:
    """(BuiltinOptions type, table offset) for op.attrs; (NONE, 0) when attrs are empty.

    The reader returns every field of a table that is present (defaults included), so empty
    attrs mean the file had no table; writing none keeps the round trip exact."""
    if not op.attrs:
        return tflite.BuiltinOptions.NONE, 0
    name = options_name(op.type)
    if name is None:
        raise ValueError(f"{op.type}: no options table known for attrs {sorted(op.attrs)}")
    module = importlib.import_module(f"tflite.{name}")  # `tflite.<name>` is the class
    fields = _fields(module, name)
    # Offsets (vectors, strings) must be created before the table is started.
    values = {}
    for key, value in op.attrs.items():
        if key not in fields:
            raise ValueError(f"{op.type}: {name} has no field {key!r}")
        field = fields[key]
        add = getattr(module, f"{name}Add{field}")
        if isinstance(value, (list, tuple, np.ndarray)):
            probe = _ElemSize()
            getattr(module, f"{name}Start{field}Vector")(probe, len(value))
            value = _numpy_vector(b, value, f"<i{probe.size}")
        elif isinstance(value, str):
            enum = OPTION_ENUMS.get(key)
            value = getattr(enum, value) if enum is not None else b.CreateString(value)
        elif isinstance(value, (np.integer, np.floating, np.bool_)):
            value = value.item()
        values[add] = value
    getattr(module, f"{name}Start")(b)
    for add, value in values.items():
        add(b, value)
    return getattr(tflite.BuiltinOptions, name), getattr(module, f"{name}End")(b)


def _write_quant(b: flatbuffers.Builder, t: Tensor) -> int:
    q = t.quant
    scale = _numpy_vector(b, q.scale, "<f4")
    zero_point = _numpy_vector(b, q.zero_point, "<i8")
    tflite.QuantizationParametersStart(b)
    tflite.QuantizationParametersAddScale(b, scale)
    tflite.QuantizationParametersAddZeroPoint(b, zero_point)
    tflite.QuantizationParametersAddQuantizedDimension(b, int(q.axis))
    return tflite.QuantizationParametersEnd(b)


def _write_tensor(b: flatbuffers.Builder, t: Tensor, buffer: int) -> int:
    if t.dtype not in TENSOR_TYPES:
        raise ValueError(f"tensor {t.name!r}: dtype {t.dtype!r} cannot be written")
    name = b.CreateString(t.name)
    shape = _numpy_vector(b, list(t.shape), "<i4")
    quant = _write_quant(b, t) if t.quant is not None else None
    tflite.TensorStart(b)
    tflite.TensorAddShape(b, shape)
    tflite.TensorAddType(b, TENSOR_TYPES[t.dtype])
    tflite.TensorAddBuffer(b, buffer)
    tflite.TensorAddName(b, name)
    if quant is not None:
        tflite.TensorAddQuantization(b, quant)
    return tflite.TensorEnd(b)


def _write_opcode(b: flatbuffers.Builder, op_type: str) -> int:
    custom = b.CreateString(op_type[len("CUSTOM:") :]) if op_type.startswith("CUSTOM:") else None
    code = tflite.BuiltinOperator.CUSTOM if custom is not None else _OPCODES[op_type]
    tflite.OperatorCodeStart(b)
    tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, 127))
    tflite.OperatorCodeAddBuiltinCode(b, code)
    tflite.OperatorCodeAddVersion(b, 1)
    if custom is not None:
        tflite.OperatorCodeAddCustomCode(b, custom)
    return tflite.OperatorCodeEnd(b)


def _write_operator(b: flatbuffers.Builder, op: Op, opcode_index: int) -> int:
    inputs = _numpy_vector(b, op.inputs, "<i4")
    outputs = _numpy_vector(b, op.outputs, "<i4")
    custom = b.CreateByteVector(bytes(op.custom_options)) if op.custom_options else None
    options_type, options = _write_options(b, op)
    tflite.OperatorStart(b)
    tflite.OperatorAddOpcodeIndex(b, opcode_index)
    tflite.OperatorAddInputs(b, inputs)
    tflite.OperatorAddOutputs(b, outputs)
    if options_type != tflite.BuiltinOptions.NONE:
        tflite.OperatorAddBuiltinOptionsType(b, options_type)
        tflite.OperatorAddBuiltinOptions(b, options)
    if custom is not None:
        tflite.OperatorAddCustomOptions(b, custom)
    return tflite.OperatorEnd(b)


def _offsets_vector(b: flatbuffers.Builder, start_fn, offsets: list[int]) -> int:
    start_fn(b, len(offsets))
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return b.EndVector()


def _write_signature(b: flatbuffers.Builder, g: Graph) -> int:
    def tensor_maps(names, indices):
        maps = []
        for name, index in zip(names, indices):
            s = b.CreateString(name)
            tflite.TensorMapStart(b)
            tflite.TensorMapAddName(b, s)
            tflite.TensorMapAddTensorIndex(b, index)
            maps.append(tflite.TensorMapEnd(b))
        return maps

    inputs = _offsets_vector(
        b, tflite.SignatureDefStartInputsVector, tensor_maps(g.input_names, g.inputs)
    )
    outputs = _offsets_vector(
        b, tflite.SignatureDefStartOutputsVector, tensor_maps(g.output_names, g.outputs)
    )
    key = b.CreateString("serving_default")
    tflite.SignatureDefStart(b)
    tflite.SignatureDefAddInputs(b, inputs)
    tflite.SignatureDefAddOutputs(b, outputs)
    tflite.SignatureDefAddSignatureKey(b, key)
    tflite.SignatureDefAddSubgraphIndex(b, 0)
    return tflite.SignatureDefEnd(b)


def write_tflite(g: Graph, signature: bool = True) -> bytes:
    """Serialise `g` as a one-subgraph, schema-v3 .tflite model.

    Buffer 0 is the schema's empty sentinel (used by every non-constant tensor); each constant
    gets its own buffer holding the raw little-endian bytes of `Tensor.data`."""
    b = flatbuffers.Builder(1024)

    # Buffers: constants first, so large payloads sit at the end of the file.
    buffer_of: dict[int, int] = {}
    buffer_data: list[int | None] = [None]
    for t in g.tensors:
        if t.data is not None:
            dtype = np.dtype(t.np_dtype).newbyteorder("<")
            raw = np.ascontiguousarray(t.data, dtype=dtype).tobytes()
            buffer_of[t.index] = len(buffer_data)
            buffer_data.append(_aligned_bytes(b, raw))
    buffers = []
    for data in buffer_data:
        tflite.BufferStart(b)
        if data is not None:
            tflite.BufferAddData(b, data)
        buffers.append(tflite.BufferEnd(b))

    tensors = [_write_tensor(b, t, buffer_of.get(t.index, 0)) for t in g.tensors]

    op_types = list(dict.fromkeys(op.type for op in g.ops))
    opcodes = [_write_opcode(b, op_type) for op_type in op_types]
    operators = [_write_operator(b, op, op_types.index(op.type)) for op in g.ops]

    sub_inputs = _numpy_vector(b, g.file_inputs or g.inputs, "<i4")
    sub_outputs = _numpy_vector(b, g.file_outputs or g.outputs, "<i4")
    tensors_vec = _offsets_vector(b, tflite.SubGraphStartTensorsVector, tensors)
    operators_vec = _offsets_vector(b, tflite.SubGraphStartOperatorsVector, operators)
    sub_name = b.CreateString(g.name)
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, tensors_vec)
    tflite.SubGraphAddInputs(b, sub_inputs)
    tflite.SubGraphAddOutputs(b, sub_outputs)
    tflite.SubGraphAddOperators(b, operators_vec)
    tflite.SubGraphAddName(b, sub_name)
    subgraph = tflite.SubGraphEnd(b)

    has_names = bool(g.input_names) and bool(g.output_names)
    signature_defs = [_write_signature(b, g)] if signature and has_names else []

    subgraphs_vec = _offsets_vector(b, tflite.ModelStartSubgraphsVector, [subgraph])
    opcodes_vec = _offsets_vector(b, tflite.ModelStartOperatorCodesVector, opcodes)
    buffers_vec = _offsets_vector(b, tflite.ModelStartBuffersVector, buffers)
    sigs_vec = _offsets_vector(b, tflite.ModelStartSignatureDefsVector, signature_defs)
    description = b.CreateString("EVO tflite_writer")
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, SCHEMA_VERSION)
    tflite.ModelAddOperatorCodes(b, opcodes_vec)
    tflite.ModelAddSubgraphs(b, subgraphs_vec)
    tflite.ModelAddDescription(b, description)
    tflite.ModelAddBuffers(b, buffers_vec)
    if signature_defs:
        tflite.ModelAddSignatureDefs(b, sigs_vec)
    b.Finish(tflite.ModelEnd(b), file_identifier=FILE_IDENTIFIER)
    return bytes(b.Output())
