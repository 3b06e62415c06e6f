"""The contract between an operator and the rest of EVO.

Each operator family lives in one module of `evo.ops` and registers an `OpImpl` per TFLite
operator type. An implementation answers four questions:

* `check`     - can EVO run this op as configured? (raise EvoError naming what is not supported)
* `prepare`   - every derived number the op needs (multipliers, shifts, clamp ranges, shapes),
                computed once in Python exactly as TFLM computes it
* `reference` - the NumPy reference: inputs -> outputs, bit-exact with TFLM for int8
* `emit`      - the C kernel call that computes the same thing (a `KernelCall`)

The reference executor, the code generator and the reports only go through this interface.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from evo.errors import EvoError
from evo.ir import Graph, Op
from evo.target import Target


@dataclass(frozen=True)
class TensorArg:
    """A kernel argument that points at a tensor's data (arena, weights or an alias)."""

    index: int


@dataclass(frozen=True)
class TensorList:
    """A kernel argument that is an array of pointers to several tensors' data (variable-arity
    ops such as CONCATENATION and SPLIT). The kernel receives `const void *const *` for op inputs
    or `void *const *` for op outputs."""

    indices: tuple[int, ...]


@dataclass
class ConstArray:
    """Constant data that only the kernel needs (e.g. per-channel multipliers).

    Codegen stores it in `<name>_weights.c` under a unique symbol and passes its address."""

    suffix: str
    data: np.ndarray


@dataclass(frozen=True)
class Scratch:
    """Pointer to this call's scratch buffer (`KernelCall.scratch_bytes` bytes in the arena)."""


@dataclass
class CExpr:
    """A C expression used verbatim as a struct field or argument (e.g. 'EVO_PAD_SAME')."""

    text: str


@dataclass
class KernelCall:
    """`func(&params, *args)` when `params_type` is set, else `func(*args)`.

    `params` maps struct field -> int | float | bool | CExpr | ConstArray | list | dict
    (lists and dicts become nested brace initialisers).

    `args` items: TensorArg | TensorList | ConstArray | Scratch | None (NULL) | int."""

    func: str
    sources: list[str]  # file names under kernels_c/src that define `func` and its helpers
    header: str  # header under kernels_c/include/evo declaring it, e.g. 'conv.h'
    params_type: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    args: list[Any] = field(default_factory=list)
    scratch_bytes: int = 0
    # Constant structs emitted before this call's params: (C type, symbol, value) with values
    # formatted like `params` (TensorArg: the constant's symbol); used by fused stream groups.
    prelude: list[tuple[str, str, Any]] = field(default_factory=list)
    # A slower variant of this (specialised) call that needs less RAM: the memory-first kernel
    # choice (evo/codegen/specialise.py) tries it before going back to the portable call.
    lean: "KernelCall | None" = None


class OpImpl:
    """Base class; subclasses set `types` and override the methods."""

    types: ClassVar[tuple[str, ...]] = ()
    # Output 0 may share input 0's memory without a copy (RESHAPE, SQUEEZE).
    alias_output_to_input: ClassVar[bool] = False
    # In-place execution (evo/memory/inplace.py). `inplace_inputs`: input positions whose buffer
    # output 0 may take over when that input dies here: the kernel walks the output in ascending
    # element order and reads element i of that input (same shape as the output) before it
    # writes output element i (element-wise ops and activations). `inplace_rows`: the op (NHWC
    # convolution, batch 1) can run through its row-streaming wrapper `<func>_rows` (evo/inplace.h),
    # so output 0 may overlap input 0.
    inplace_inputs: ClassVar[tuple[int, ...]] = ()
    inplace_rows: ClassVar[bool] = False

    def check(self, g: Graph, op: Op) -> None:
        """Raise EvoError when this configuration (dtype, rank, option) is not supported."""

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        return {}

    def reference(self, g: Graph, op: Op, p: dict[str, Any], inputs: list[np.ndarray | None]) -> list[np.ndarray]:
        raise NotImplementedError

    def emit(self, g: Graph, op: Op, p: dict[str, Any]) -> KernelCall:
        raise NotImplementedError

    def specialise(self, g: Graph, op: Op, p: dict[str, Any], call: KernelCall, target: Target) -> KernelCall:
        """The call to emit for `target` (e.g. a Cortex-M DSP kernel with re-laid-out weights).
        `emit` gives the portable call, which is right everywhere; override to do better."""
        return call

    def macs(self, g: Graph, op: Op) -> int:
        """Multiply-accumulates per inference (0 for data movement)."""
        return 0


_REGISTRY: dict[str, OpImpl] = {}


def register(cls: type[OpImpl]) -> type[OpImpl]:
    inst = cls()
    for t in cls.types:
        if t in _REGISTRY:
            raise RuntimeError(f"operator {t} registered twice")
        _REGISTRY[t] = inst
    return cls


def registry() -> dict[str, OpImpl]:
    import evo.ops  # noqa: F401  (imports every family module, which registers its ops)

    return _REGISTRY


def impl_for(op: Op) -> OpImpl:
    reg = registry()
    if op.type not in reg:
        raise EvoError(f"unsupported operator {op.type}", "see `evo inspect` for the supported set")
    return reg[op.type]


def unsupported(g: Graph) -> list[str]:
    """Names of every operator type in `g` that EVO cannot run (sorted, unique)."""
    reg = registry()
    return sorted({op.type for op in g.ops if op.type not in reg})
