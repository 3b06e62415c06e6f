"""EVO's graph IR: tensors, operators and the graph that holds them.

The IR is independent of the .tflite schema: the frontend converts into it, the writer
converts out of it, and every later stage (reference executor, planner, codegen) reads only it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# dtype name -> numpy dtype. Names follow numpy so `np.dtype(name)` works.
DTYPES = {
    "float32": np.float32,
    "int8": np.int8,
    "uint8": np.uint8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "bool": np.bool_,
}


@dataclass
class Quant:
    """Affine quantization: real = scale * (q - zero_point).

    `scale` and `zero_point` have one entry per tensor (per-tensor) or one per slice along
    `axis` (per-channel)."""

    scale: np.ndarray  # float32, shape [n]
    zero_point: np.ndarray  # int64, shape [n]
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return self.scale.size > 1

    @property
    def scalar_scale(self) -> float:
        return float(self.scale[0])

    @property
    def scalar_zero_point(self) -> int:
        return int(self.zero_point[0])


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str  # a key of DTYPES
    quant: Quant | None = None
    data: np.ndarray | None = None  # constant contents (already shaped and typed), else None

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def itemsize(self) -> int:
        return np.dtype(DTYPES[self.dtype]).itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.itemsize

    @property
    def np_dtype(self):
        return DTYPES[self.dtype]


@dataclass
class Op:
    """One operator. `type` is the TFLite builtin name ('CONV_2D') or 'CUSTOM:<name>'.

    `inputs` holds tensor indices, -1 for an omitted optional input (e.g. no bias).
    `attrs` holds the builtin options with snake_case names of the TFLite schema fields and
    enum values as their names, e.g. {'padding': 'SAME', 'stride_w': 2,
    'fused_activation_function': 'RELU6'}."""

    index: int
    type: str
    inputs: list[int]
    outputs: list[int]
    attrs: dict = field(default_factory=dict)
    custom_options: bytes | None = None

    @property
    def name(self) -> str:
        return f"op{self.index}_{self.type.lower().replace(':', '_')}"


@dataclass
class Graph:
    tensors: list[Tensor]
    ops: list[Op]
    inputs: list[int]  # tensor indices, in signature order when the model has a SignatureDef
    outputs: list[int]
    input_names: list[str] = field(default_factory=list)
    output_names: list[str] = field(default_factory=list)
    name: str = "model"
    # The subgraph's own input/output order (the file's), which interpreters index by.
    file_inputs: list[int] = field(default_factory=list)
    file_outputs: list[int] = field(default_factory=list)

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]

    def producers(self) -> dict[int, int]:
        """tensor index -> index of the op that writes it."""
        return {t: op.index for op in self.ops for t in op.outputs}

    def consumers(self) -> dict[int, list[int]]:
        """tensor index -> indices of the ops that read it, in schedule order."""
        out: dict[int, list[int]] = {}
        for op in self.ops:
            for t in op.inputs:
                if t >= 0:
                    out.setdefault(t, []).append(op.index)
        return out
