"""Read a .tflite flatbuffer into EVO's IR (evo.ir.Graph).

Anything malformed becomes one EvoError naming the file and the problem: a user's file
never produces a traceback."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import tflite

from evo.errors import EvoError
from evo.frontend.schema import (
    BUILTIN_OPERATORS,
    BUILTIN_OPTIONS,
    ENUM_FIELDS,
    TENSOR_TYPE_NAMES,
    TENSOR_TYPES,
    enum_names,
    snake,
)
from evo.ir import DTYPES, Graph, Op, Quant, Tensor

_ENUM_VALUE_NAMES = {field: enum_names(cls) for field, cls in ENUM_FIELDS.items()}
_SKIP_ACCESSORS = {"Init", "GetRootAs"}


def load_model(path: str | Path) -> tuple[bytes, Graph]:
    """Read and parse a model file; returns the raw bytes (for oracles) and the graph."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise EvoError(f"model file {path} does not exist", "check the path") from None
    except IsADirectoryError:
        raise EvoError(f"{path} is a folder, not a .tflite model", "pass the .tflite file") from None
    except OSError as e:
        raise EvoError(f"cannot read {path}: {e.strerror}", "check the file's permissions") from None
    return data, read_tflite(data, name=path.stem)


def read_tflite(data: bytes, name: str = "model") -> Graph:
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise EvoError(
            f"{name} is not a TensorFlow Lite model (no TFL3 identifier)",
            "pass a .tflite file written by the TFLite converter",
        )
    try:
        g = _parse(bytes(data), name)
    except EvoError:
        raise
    except Exception as e:  # the flatbuffers runtime raises many kinds on corrupt offsets
        raise EvoError(
            f"{name} is corrupt or truncated ({type(e).__name__} while parsing the flatbuffer)",
            "re-export the model or check the download",
        ) from None
    _validate(g, name)
    from evo.passes import binarize  # stock-converter binary layers -> bit-packed ops

    return binarize.run(g)


def _parse(data: bytes, name: str) -> Graph:
    model = tflite.Model.GetRootAsModel(data, 0)
    if model.SubgraphsLength() < 1:
        raise EvoError(f"{name} has no subgraph", "re-export the model")
    if model.SubgraphsLength() > 1:
        raise EvoError(
            f"{name} has {model.SubgraphsLength()} subgraphs (control flow such as WHILE/IF)",
            "EVO compiles single-subgraph models; remove control flow before converting",
        )
    sg = model.Subgraphs(0)
    buffers = [model.Buffers(i) for i in range(model.BuffersLength())]
    tensors = [_tensor(sg.Tensors(i), i, buffers, data, name) for i in range(sg.TensorsLength())]
    opcodes = [_opcode_name(model.OperatorCodes(i)) for i in range(model.OperatorCodesLength())]
    ops = [_op(sg.Operators(i), i, opcodes) for i in range(sg.OperatorsLength())]
    file_inputs = [int(x) for x in sg.InputsAsNumpy()] if sg.InputsLength() else []
    file_outputs = [int(x) for x in sg.OutputsAsNumpy()] if sg.OutputsLength() else []

    inputs, outputs = list(file_inputs), list(file_outputs)
    input_names = [tensors[i].name for i in inputs]
    output_names = [tensors[i].name for i in outputs]
    if model.SignatureDefsLength() > 0:
        sig = model.SignatureDefs(0)
        sig_in = [(sig.Inputs(i).Name().decode(), int(sig.Inputs(i).TensorIndex())) for i in range(sig.InputsLength())]
        sig_out = [(sig.Outputs(i).Name().decode(), int(sig.Outputs(i).TensorIndex())) for i in range(sig.OutputsLength())]
        # Trust the signature only when it names exactly the subgraph's I/O tensors.
        if sorted(t for _, t in sig_in) == sorted(inputs) and sorted(t for _, t in sig_out) == sorted(outputs):
            input_names, inputs = [n for n, _ in sig_in], [t for _, t in sig_in]
            output_names, outputs = [n for n, _ in sig_out], [t for _, t in sig_out]
    return Graph(
        tensors=tensors,
        ops=ops,
        inputs=inputs,
        outputs=outputs,
        input_names=input_names,
        output_names=output_names,
        name=name,
        file_inputs=file_inputs,
        file_outputs=file_outputs,
    )


def _opcode_name(oc) -> str:
    code = max(int(oc.BuiltinCode()), int(oc.DeprecatedBuiltinCode()))
    op_name = BUILTIN_OPERATORS.get(code, f"BUILTIN_{code}")
    if op_name == "CUSTOM":
        custom = oc.CustomCode()
        return "CUSTOM:" + (custom.decode("utf-8", "replace") if custom else "?")
    return op_name


def _tensor(t, index: int, buffers, data: bytes, model_name: str) -> Tensor:
    type_name = TENSOR_TYPE_NAMES.get(int(t.Type()), f"type {t.Type()}")
    dtype = TENSOR_TYPES.get(type_name)
    tname = t.Name().decode("utf-8", "replace") if t.Name() else f"tensor_{index}"
    if dtype is None:
        dtype = "unsupported:" + type_name
    shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    quant = _quant(t.Quantization(), len(shape))
    arr = None
    b = t.Buffer()
    if b >= len(buffers):
        raise EvoError(f"{model_name}: tensor {tname} points at buffer {b}, which does not exist", "re-export the model")
    if b > 0 and buffers[b] is not None:
        buf = buffers[b]
        raw = None
        if buf.DataLength() > 0:
            raw = buf.DataAsNumpy().tobytes()
        elif buf.Offset() > 1:  # large models keep buffers after the flatbuffer
            raw = data[buf.Offset() : buf.Offset() + buf.Size()]
        if raw is not None:
            if dtype not in DTYPES:
                raise EvoError(f"{model_name}: constant tensor {tname} has {type_name} data", "EVO holds int8/16/32/64, uint8, bool and float32")
            itemsize = np.dtype(DTYPES[dtype]).itemsize
            count = int(np.prod(shape)) if shape else 1
            if len(raw) != count * itemsize:
                raise EvoError(
                    f"{model_name}: constant tensor {tname} holds {len(raw)} bytes but its shape {list(shape)} needs {count * itemsize}",
                    "the file is corrupt; re-export the model",
                )
            arr = np.frombuffer(raw, dtype=np.dtype(DTYPES[dtype]).newbyteorder("<")).astype(DTYPES[dtype]).reshape(shape)
    return Tensor(index=index, name=tname, shape=shape, dtype=dtype, quant=quant, data=arr)


def _quant(q, rank: int) -> Quant | None:
    if q is None or q.ScaleLength() == 0:
        return None
    scale = q.ScaleAsNumpy().astype(np.float32).copy()
    zp = q.ZeroPointAsNumpy().astype(np.int64).copy() if q.ZeroPointLength() else np.zeros(scale.size, np.int64)
    if zp.size == 1 and scale.size > 1:
        zp = np.repeat(zp, scale.size)
    axis = int(q.QuantizedDimension())
    # TFLM ignores an out-of-range quantized_dimension (person_detect.tflite has 3 on rank-1 biases).
    if axis >= max(rank, 1):
        axis = 0
    return Quant(scale=scale, zero_point=zp, axis=axis)


def _op(o, index: int, opcodes: list[str]) -> Op:
    op_type = opcodes[o.OpcodeIndex()]
    inputs = [int(x) for x in o.InputsAsNumpy()] if o.InputsLength() else []
    outputs = [int(x) for x in o.OutputsAsNumpy()] if o.OutputsLength() else []
    attrs = _options(o)
    custom = o.CustomOptionsAsNumpy().tobytes() if o.CustomOptionsLength() else None
    return Op(index=index, type=op_type, inputs=inputs, outputs=outputs, attrs=attrs, custom_options=custom)


def _options(o) -> dict:
    """Builtin options as {snake_case field: value}, by reflection over the tflite classes."""
    kind = BUILTIN_OPTIONS.get(int(o.BuiltinOptionsType()), "NONE")
    table = o.BuiltinOptions()
    if kind == "NONE" or table is None:
        return {}
    cls = getattr(tflite, kind)
    opts = cls()
    opts.Init(table.Bytes, table.Pos)
    attrs = {}
    for acc in dir(cls):
        if acc.startswith("_") or acc in _SKIP_ACCESSORS or acc.startswith("GetRootAs") or acc.endswith("BufferHasIdentifier"):
            continue
        if acc.endswith(("AsNumpy", "Length", "IsNone")):
            continue
        if hasattr(cls, acc + "Length"):  # vector field
            n = getattr(opts, acc + "Length")()
            attrs[snake(acc)] = [int(v) for v in getattr(opts, acc + "AsNumpy")()] if n else []
            continue
        value = getattr(opts, acc)()
        if acc in _ENUM_VALUE_NAMES:
            value = _ENUM_VALUE_NAMES[acc].get(int(value), int(value))
        elif isinstance(value, (bool, np.bool_)):
            value = bool(value)
        elif isinstance(value, (int, np.integer)):
            value = int(value)
        elif isinstance(value, (float, np.floating)):
            value = float(value)
        else:
            continue  # nested tables are not used by the supported ops
        attrs[snake(acc)] = value
    return attrs


def _validate(g: Graph, name: str) -> None:
    n = len(g.tensors)
    for op in g.ops:
        for t in op.inputs + op.outputs:
            if t < -1 or t >= n:
                raise EvoError(f"{name}: operator {op.index} ({op.type}) uses tensor {t}, which does not exist", "the file is corrupt; re-export the model")
        for t in op.outputs:
            if t < 0:
                raise EvoError(f"{name}: operator {op.index} ({op.type}) has an omitted output", "the file is corrupt; re-export the model")
    for t in g.inputs + g.outputs:
        if not 0 <= t < n:
            raise EvoError(f"{name}: model input/output tensor {t} does not exist", "the file is corrupt; re-export the model")
    for t in g.tensors:
        if any(d < 0 for d in t.shape):
            raise EvoError(f"{name}: tensor {t.name} has a dynamic shape {list(t.shape)}", "export the model with fixed shapes")
