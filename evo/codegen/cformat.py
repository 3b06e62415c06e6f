"""Formatting Python/NumPy values as C literals: exact, deterministic, warning-free."""
from __future__ import annotations

import math
import re

import numpy as np

from evo.ops.base import CExpr, ConstArray

CTYPES = {
    "int8": "int8_t",
    "uint8": "uint8_t",
    "int16": "int16_t",
    "int32": "int32_t",
    "int64": "int64_t",
    "float32": "float",
    "bool": "uint8_t",
}


def c_ident(text: str, fallback: str = "x") -> str:
    """A valid, lower-case C identifier made from arbitrary text."""
    s = re.sub(r"[^0-9a-zA-Z_]+", "_", text).strip("_").lower()
    if not s:
        s = fallback
    if s[0].isdigit():
        s = "m_" + s
    return s


def c_float(v: float) -> str:
    v = float(np.float32(v))
    if math.isnan(v):
        return "NAN"
    if math.isinf(v):
        return "INFINITY" if v > 0 else "(-INFINITY)"
    s = f"{v:.9g}"  # 9 significant digits round-trip every float32
    if not any(ch in s for ch in ".e"):
        s += ".0"
    return s + "f"


def c_int(v: int) -> str:
    v = int(v)
    if v == -(1 << 31):
        return "(-2147483647 - 1)"
    if v > 2147483647 or v < -(1 << 31):
        return f"INT64_C({v})"
    return str(v)


def c_scalar(v, symbols: dict[int, str] | None = None) -> str:
    if isinstance(v, CExpr):
        return v.text
    if isinstance(v, ConstArray):
        assert symbols is not None and id(v) in symbols, "ConstArray without a symbol"
        return symbols[id(v)]
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, (int, np.integer)):
        return c_int(int(v))
    if isinstance(v, (float, np.floating)):
        return c_float(float(v))
    if isinstance(v, dict):
        return "{ " + ", ".join(f".{k} = {c_scalar(x, symbols)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple, np.ndarray)):
        return "{ " + ", ".join(c_scalar(x, symbols) for x in list(v)) + " }"
    raise TypeError(f"cannot format {type(v).__name__} as C")


def c_array_body(arr: np.ndarray, per_line: int = 16) -> str:
    """Comma-separated values of `arr` (flattened), wrapped for readability."""
    flat = np.asarray(arr).reshape(-1)
    if flat.dtype == np.float32 or flat.dtype == np.float64:
        items = [c_float(x) for x in flat]
        per_line = 8
    elif flat.dtype == np.bool_:
        items = ["1" if x else "0" for x in flat]
    else:
        items = [c_int(x) for x in flat.tolist()]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return ",\n    ".join(lines)


def ctype_of_array(arr: np.ndarray) -> str:
    name = np.dtype(arr.dtype).name
    if name == "float64":
        name = "float32"
    return CTYPES[name]
