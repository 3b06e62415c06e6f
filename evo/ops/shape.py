"""Data movement: RESHAPE, SQUEEZE, EXPAND_DIMS, PAD, PADV2, CONCATENATION, SPLIT, SPLIT_V,
PACK, UNPACK, STRIDED_SLICE, TRANSPOSE.

None of these ops computes anything: each output element is a copy of an input element (or a
pad value), so one type-agnostic C kernel per data-movement pattern serves every dtype.

TFLM copies raw bytes for all of them, also for int8: it never rescales, even when input and
output quantization differ (CONCATENATION included, unlike TFLite's own kernel). Such a model
would silently change the meaning of the numbers, so EVO rejects it (`_check_same_quant`).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from evo.errors import EvoError
from evo.ir import Graph, Op
from evo.ops.base import ConstArray, KernelCall, OpImpl, TensorArg, TensorList, register

HEADER = "shape.h"
MAX_DIMS = 6  # EVO_SHAPE_MAX_DIMS
PAD_DIMS = 5  # EVO_PAD_MAX_DIMS (TFLM's PadKernelMaxDimensionCount)
NUMERIC = ("int8", "int16", "int32", "float32")
ANY = ("int8", "uint8", "int16", "int32", "int64", "float32", "bool")


# --------------------------------------------------------------------------- helpers


def _prod(xs) -> int:
    return int(math.prod(int(x) for x in xs))


def _check_dtypes(g: Graph, op: Op, data_inputs: list[int], allowed: tuple[str, ...]) -> str:
    """All data inputs and all outputs share one dtype from `allowed`; returns it."""
    tensors = [g.tensor(i) for i in data_inputs] + [g.tensor(o) for o in op.outputs]
    dtype = tensors[0].dtype
    if dtype not in allowed:
        raise EvoError(f"{op.type} on {dtype} tensors is not supported", f"EVO runs {op.type} on {', '.join(allowed)}")
    for t in tensors[1:]:
        if t.dtype != dtype:
            raise EvoError(f"{op.type} mixes {dtype} and {t.dtype} tensors ({t.name})", "inputs and outputs of data-movement ops must share one dtype")
    return dtype


def _check_same_quant(g: Graph, op: Op, data_inputs: list[int]) -> None:
    """TFLM moves int8/int16 bytes without rescaling: input and output quantization must match."""
    tensors = [g.tensor(i) for i in data_inputs] + [g.tensor(o) for o in op.outputs]
    ref = next((t for t in tensors if t.quant is not None), None)
    if ref is None:
        return
    for t in tensors:
        q = t.quant
        if q is None:
            continue
        if not (
            np.array_equal(q.scale, ref.quant.scale) and np.array_equal(q.zero_point, ref.quant.zero_point)
        ):
            raise EvoError(
                f"{op.type}: tensor {t.name} has quantization (scale {q.scale.tolist()}, zero point "
                f"{q.zero_point.tolist()}) unlike {ref.name} (scale {ref.quant.scale.tolist()}, zero point "
                f"{ref.quant.zero_point.tolist()}); TFLM copies the raw values without rescaling",
                "give the inputs and outputs of data-movement ops the same scale and zero point "
                "(the TFLite converter does), or insert a QUANTIZE op",
            )


def _const_ints(g: Graph, op: Op, pos: int, what: str) -> np.ndarray:
    """Constant int32 input `pos` (e.g. an axis or a shape) as a flat int64 array."""
    if pos >= len(op.inputs) or op.inputs[pos] < 0:
        raise EvoError(f"{op.type} has no {what} tensor (input {pos})", "re-export the model")
    t = g.tensor(op.inputs[pos])
    if not t.is_const:
        raise EvoError(f"{op.type}: the {what} tensor {t.name} is not constant", f"TFLM (and EVO) need a constant {what}; fold it when converting")
    if t.dtype != "int32":
        raise EvoError(f"{op.type}: the {what} tensor {t.name} is {t.dtype}", f"TFLM reads the {what} as int32; convert it to int32")
    return np.asarray(t.data).reshape(-1).astype(np.int64)


def _check_rank(g: Graph, op: Op, t_index: int, limit: int) -> None:
    t = g.tensor(t_index)
    if len(t.shape) > limit:
        raise EvoError(f"{op.type}: tensor {t.name} has {len(t.shape)} dimensions", f"TFLM's {op.type} supports at most {limit}")


def _normalize_axis(op: Op, axis: int, rank: int) -> int:
    a = axis + rank if axis < 0 else axis
    if not 0 <= a < rank:
        raise EvoError(f"{op.type}: axis {axis} is out of range for rank {rank}", "fix the axis option/tensor")
    return a


def _elem_size(g: Graph, t: int) -> int:
    return g.tensor(t).itemsize


# --------------------------------------------------------------------------- copies


class _Copy(OpImpl):
    """Same bytes, new shape. The planner normally aliases the output onto the input."""

    alias_output_to_input = True

    def check(self, g: Graph, op: Op) -> None:
        _check_dtypes(g, op, [op.inputs[0]], ANY)
        _check_same_quant(g, op, [op.inputs[0]])
        src, dst = g.tensor(op.inputs[0]), g.tensor(op.outputs[0])
        if src.size != dst.size:
            raise EvoError(
                f"{op.type}: input {src.name} {list(src.shape)} and output {dst.name} {list(dst.shape)} differ in size",
                "the model is inconsistent; re-export it",
            )
        self.check_shape(g, op)

    def check_shape(self, g: Graph, op: Op) -> None:
        pass

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        return {"nbytes": g.tensor(op.outputs[0]).nbytes}

    def reference(self, g, op, p, inputs):
        return [np.array(inputs[0]).reshape(g.tensor(op.outputs[0]).shape)]

    def emit(self, g: Graph, op: Op, p: dict[str, Any]) -> KernelCall:
        return KernelCall(
            func="evo_copy_any",
            sources=["copy_any.c"],
            header=HEADER,
            params_type="evo_copy_params_t",
            params={"nbytes": p["nbytes"]},
            args=[TensorArg(op.inputs[0]), TensorArg(op.outputs[0])],
        )


@register
class Reshape(_Copy):
    types = ("RESHAPE",)


@register
class Squeeze(_Copy):
    types = ("SQUEEZE",)

    def check_shape(self, g: Graph, op: Op) -> None:
        shape = g.tensor(op.inputs[0]).shape
        if len(shape) > 8:
            raise EvoError(f"SQUEEZE: input has {len(shape)} dimensions", "TFLM's SQUEEZE supports at most 8")
        for d in op.attrs.get("squeeze_dims") or []:
            a = d + len(shape) if d < 0 else d
            if not 0 <= a < len(shape) or shape[a] != 1:
                raise EvoError(f"SQUEEZE: squeeze_dims entry {d} does not name a dimension of size 1 in {list(shape)}", "fix squeeze_dims")


@register
class ExpandDims(_Copy):
    types = ("EXPAND_DIMS",)

    def check_shape(self, g: Graph, op: Op) -> None:
        axis_vals = _const_ints(g, op, 1, "axis")
        if axis_vals.size != 1:
            raise EvoError("EXPAND_DIMS: the axis tensor must hold one value", "fix the model")
        src = g.tensor(op.inputs[0]).shape
        axis = int(axis_vals[0])
        if axis < 0:
            axis += len(src) + 1
        expected = tuple(src[:axis]) + (1,) + tuple(src[axis:])
        if not 0 <= axis <= len(src) or tuple(g.tensor(op.outputs[0]).shape) != expected:
            raise EvoError(
                f"EXPAND_DIMS: output shape {list(g.tensor(op.outputs[0]).shape)} is not input {list(src)} with a 1 inserted at axis {int(axis_vals[0])}",
                "the model is inconsistent; re-export it",
            )


# --------------------------------------------------------------------------- pad


@register
class Pad(OpImpl):
    types = ("PAD", "PADV2")

    def check(self, g: Graph, op: Op) -> None:
        dtype = _check_dtypes(g, op, [op.inputs[0]], NUMERIC)
        _check_same_quant(g, op, [op.inputs[0]])
        _check_rank(g, op, op.inputs[0], PAD_DIMS)
        src, dst = g.tensor(op.inputs[0]), g.tensor(op.outputs[0])
        pads = _const_ints(g, op, 1, "paddings")
        rank = len(src.shape)
        if pads.size != 2 * rank or len(dst.shape) != rank:
            raise EvoError(f"{op.type}: paddings {pads.tolist()} do not match rank {rank}", "paddings must be [rank, 2]")
        pads = pads.reshape(rank, 2)
        if (pads < 0).any():
            raise EvoError(f"{op.type}: negative paddings {pads.tolist()}", "use STRIDED_SLICE to crop")
        expected = tuple(int(d + a + b) for d, (a, b) in zip(src.shape, pads))
        if tuple(dst.shape) != expected:
            raise EvoError(f"{op.type}: output shape {list(dst.shape)} != padded input shape {list(expected)}", "the model is inconsistent; re-export it")
        cv = self._constant_index(op)
        if cv is not None:
            c = g.tensor(cv)
            if c.dtype != dtype or c.size != 1:
                raise EvoError(f"{op.type}: the constant value {c.name} must be one {dtype} element", "fix the model")
            if dtype == "int8":
                oq, cq = dst.quant, c.quant
                same = (
                    oq is not None
                    and cq is not None
                    and int(oq.zero_point[0]) == int(cq.zero_point[0])
                    and float(oq.scale[0]) == float(cq.scale[0])
                )
                if not same:
                    raise EvoError(f"{op.type}: the int8 pad value {c.name} is quantized unlike the output", "TFLM requires the same scale and zero point")
        elif dtype == "int8" and dst.quant is not None and not -128 <= dst.quant.scalar_zero_point <= 127:
            raise EvoError(f"{op.type}: output zero point {dst.quant.scalar_zero_point} is outside int8", "fix the quantization")

    @staticmethod
    def _constant_index(op: Op) -> int | None:
        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            return op.inputs[2]
        return None

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        src, dst = g.tensor(op.inputs[0]), g.tensor(op.outputs[0])
        rank = len(src.shape)
        pads = np.asarray(g.tensor(op.inputs[1]).data).reshape(rank, 2).astype(np.int64)
        lead = PAD_DIMS - rank
        in_dims = [1] * lead + [int(d) for d in src.shape]
        out_dims = [1] * lead + [int(d) for d in dst.shape]
        left = [0] * lead + [int(a) for a, _ in pads]
        # Pad value without a constant input: the output zero point for int8 (TFLM's PadEval),
        # zero otherwise (also for int16, whatever its zero point).
        if src.dtype == "int8" and dst.quant is not None:
            value = int(dst.quant.scalar_zero_point)
        else:
            value = 0
        return {
            "elem_size": src.itemsize,
            "in_dims": in_dims,
            "out_dims": out_dims,
            "left": left,
            "pads": pads.tolist(),
            "default_value": np.array([value], dtype=src.np_dtype),
            "constant": self._constant_index(op),
        }

    def reference(self, g, op, p, inputs):
        x = np.asarray(inputs[0])
        dst = g.tensor(op.outputs[0])
        if p["constant"] is not None:
            value = np.asarray(inputs[2]).reshape(-1)[0]
        else:
            value = p["default_value"][0]
        out = np.full(dst.shape, value, dtype=dst.np_dtype)
        window = tuple(slice(a, a + d) for (a, _), d in zip(p["pads"], x.shape))
        out[window] = x
        return [out]

    def emit(self, g: Graph, op: Op, p: dict[str, Any]) -> KernelCall:
        value = TensorArg(p["constant"]) if p["constant"] is not None else ConstArray("pad_value", p["default_value"])
        return KernelCall(
            func="evo_pad_any",
            sources=["pad_any.c"],
            header=HEADER,
            params_type="evo_pad_params_t",
            params={k: p[k] for k in ("elem_size", "in_dims", "out_dims", "left")},
            args=[TensorArg(op.inputs[0]), value, TensorArg(op.outputs[0])],
        )


# --------------------------------------------------------------------------- concat / split


def _parts_params(big_shape, axis: int, part_axis_sizes: list[int], elem_size: int) -> dict[str, Any]:
    """outer rows of the big tensor, each made of one chunk per part."""
    outer = _prod(big_shape[:axis])
    inner = _prod(big_shape[axis + 1 :])
    part_bytes = [int(n) * inner * elem_size for n in part_axis_sizes]
    return {"count": len(part_bytes), "outer": outer, "row_bytes": sum(part_bytes), "part_bytes": part_bytes}


def _check_parts(op: Op, big, parts, axis: int, stacked: bool) -> None:
    """`parts` (tensors) concatenated (or stacked when `stacked`) along `axis` give `big`."""
    big_shape = tuple(big.shape)
    for t in parts:
        s = tuple(t.shape)
        if stacked:
            ok = s == big_shape[:axis] + big_shape[axis + 1 :]
        else:
            ok = len(s) == len(big_shape) and s[:axis] == big_shape[:axis] and s[axis + 1 :] == big_shape[axis + 1 :]
        if not ok:
            raise EvoError(f"{op.type}: tensor {t.name} {list(s)} does not fit {big.name} {list(big_shape)} along axis {axis}", "the model is inconsistent; re-export it")
    total = len(parts) if stacked else sum(int(t.shape[axis]) for t in parts)
    if total != big_shape[axis]:
        raise EvoError(f"{op.type}: the parts add up to {total} along axis {axis}, but {big.name} has {big_shape[axis]}", "the model is inconsistent; re-export it")


def _parts_call(kind: str, p: dict[str, Any], args: list) -> KernelCall:
    """Call of evo_concatenation_any / evo_split_any: `count` parts of `part_bytes[i]` bytes in
    each of `outer` rows of `row_bytes`."""
    return KernelCall(
        func=f"evo_{kind}_any",
        sources=[f"{kind}_any.c"],
        header=HEADER,
        params_type=f"evo_{kind}_params_t",
        params={
            "count": p["count"],
            "outer": p["outer"],
            "row_bytes": p["row_bytes"],
            "part_bytes": ConstArray("part_bytes", np.asarray(p["part_bytes"], dtype=np.int32)),
        },
        args=args,
    )


class _Concat(OpImpl):
    """CONCATENATION and PACK: inputs side by side along an axis of the output."""

    def emit(self, g: Graph, op: Op, p: dict[str, Any]) -> KernelCall:
        return _parts_call("concatenation", p, [TensorArg(op.outputs[0]), TensorList(tuple(op.inputs))])


@register
class Concatenation(_Concat):
    types = ("CONCATENATION",)

    def check(self, g: Graph, op: Op) -> None:
        if any(i < 0 for i in op.inputs) or not op.inputs:
            raise EvoError("CONCATENATION has a missing input", "re-export the model")
        _check_dtypes(g, op, op.inputs, ANY)
        _check_same_quant(g, op, op.inputs)
        if len(op.inputs) > 10:
            raise EvoError(f"CONCATENATION of {len(op.inputs)} tensors", "TFLM concatenates at most 10; split it into several ops")
        act = op.attrs.get("fused_activation_function", "NONE")
        if act != "NONE":
            raise EvoError(f"CONCATENATION with fused activation {act}", "TFLM supports only NONE; apply the activation as a separate op")
        for i in op.inputs:
            _check_rank(g, op, i, 4)
        out = g.tensor(op.outputs[0])
        axis = _normalize_axis(op, int(op.attrs.get("axis", 0)), len(out.shape))
        _check_parts(op, out, [g.tensor(i) for i in op.inputs], axis, stacked=False)

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        out = g.tensor(op.outputs[0])
        axis = _normalize_axis(op, int(op.attrs.get("axis", 0)), len(out.shape))
        p = _parts_params(out.shape, axis, [g.tensor(i).shape[axis] for i in op.inputs], out.itemsize)
        p["axis"] = axis
        return p

    def reference(self, g, op, p, inputs):
        return [np.concatenate([np.asarray(x) for x in inputs], axis=p["axis"])]


@register
class Pack(_Concat):
    types = ("PACK",)

    def check(self, g: Graph, op: Op) -> None:
        if any(i < 0 for i in op.inputs) or not op.inputs:
            raise EvoError("PACK has a missing input", "re-export the model")
        _check_dtypes(g, op, op.inputs, ANY)
        _check_same_quant(g, op, op.inputs)
        n = int(op.attrs.get("values_count", len(op.inputs)))
        if n != len(op.inputs):
            raise EvoError(f"PACK: values_count {n} but {len(op.inputs)} inputs", "the model is inconsistent; re-export it")
        out = g.tensor(op.outputs[0])
        _check_rank(g, op, op.outputs[0], MAX_DIMS)
        axis = _normalize_axis(op, int(op.attrs.get("axis", 0)), len(out.shape))
        _check_parts(op, out, [g.tensor(i) for i in op.inputs], axis, stacked=True)

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        out = g.tensor(op.outputs[0])
        axis = _normalize_axis(op, int(op.attrs.get("axis", 0)), len(out.shape))
        p = _parts_params(out.shape, axis, [1] * len(op.inputs), out.itemsize)
        p["axis"] = axis
        return p

    def reference(self, g, op, p, inputs):
        return [np.stack([np.asarray(x) for x in inputs], axis=p["axis"])]


class _Split(OpImpl):
    """SPLIT, SPLIT_V and UNPACK: the outputs side by side along an axis of the input."""

    data_input = 0

    def emit(self, g: Graph, op: Op, p: dict[str, Any]) -> KernelCall:
        return _parts_call("split", p, [TensorArg(op.inputs[self.data_input]), TensorList(tuple(op.outputs))])

    def reference(self, g, op, p, inputs):
        x = np.asarray(inputs[self.data_input])
        axis = p["axis"]
        bounds = np.cumsum(p["sizes"])[:-1]
        parts = np.split(x, bounds, axis=axis)
        if p.get("stacked"):
            parts = [np.squeeze(part, axis=axis) for part in parts]
        return [np.ascontiguousarray(part) for part in parts]


class _SplitAlongAxis(_Split):
    axis_input = 0

    def _axis(self, g: Graph, op: Op) -> int:
        vals = _const_ints(g, op, self.axis_input, "axis")
        if vals.size != 1:
            raise EvoError(f"{op.type}: the axis tensor must hold one value", "fix the model")
        return _normalize_axis(op, int(vals[0]), len(g.tensor(op.inputs[self.data_input]).shape))

    def check(self, g: Graph, op: Op) -> None:
        src = op.inputs[self.data_input]
        _check_dtypes(g, op, [src], ANY)
        _check_same_quant(g, op, [src])
        _check_rank(g, op, src, MAX_DIMS)
        axis = self._axis(g, op)
        _check_parts(op, g.tensor(src), [g.tensor(o) for o in op.outputs], axis, stacked=False)
        self.check_sizes(g, op, axis)

    def check_sizes(self, g: Graph, op: Op, axis: int) -> None:
        pass

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        src = g.tensor(op.inputs[self.data_input])
        axis = self._axis(g, op)
        # TFLM takes the part sizes from the output shapes (not from num_splits/size_splits).
        sizes = [int(g.tensor(o).shape[axis]) for o in op.outputs]
        p = _parts_params(src.shape, axis, sizes, src.itemsize)
        p.update(axis=axis, sizes=sizes)
        return p


@register
class Split(_SplitAlongAxis):
    types = ("SPLIT",)
    axis_input = 0  # SPLIT's inputs are (axis, input)
    data_input = 1

    def check_sizes(self, g: Graph, op: Op, axis: int) -> None:
        sizes = {int(g.tensor(o).shape[axis]) for o in op.outputs}
        n = int(op.attrs.get("num_splits", len(op.outputs)))
        if len(sizes) != 1 or n != len(op.outputs):
            raise EvoError(f"SPLIT: {len(op.outputs)} outputs of unequal or mismatched sizes (num_splits {n})", "the model is inconsistent; re-export it")


@register
class SplitV(_SplitAlongAxis):
    types = ("SPLIT_V",)
    axis_input = 2  # SPLIT_V's inputs are (input, size_splits, axis)
    data_input = 0


@register
class Unpack(_Split):
    types = ("UNPACK",)

    def _axis(self, g: Graph, op: Op) -> int:
        return _normalize_axis(op, int(op.attrs.get("axis", 0)), len(g.tensor(op.inputs[0]).shape))

    def check(self, g: Graph, op: Op) -> None:
        _check_dtypes(g, op, [op.inputs[0]], ANY)
        _check_same_quant(g, op, [op.inputs[0]])
        _check_rank(g, op, op.inputs[0], MAX_DIMS)
        n = int(op.attrs.get("num", len(op.outputs)))
        if n != len(op.outputs):
            raise EvoError(f"UNPACK: num {n} but {len(op.outputs)} outputs", "the model is inconsistent; re-export it")
        axis = self._axis(g, op)
        _check_parts(op, g.tensor(op.inputs[0]), [g.tensor(o) for o in op.outputs], axis, stacked=True)

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        src = g.tensor(op.inputs[0])
        axis = self._axis(g, op)
        sizes = [1] * len(op.outputs)
        p = _parts_params(src.shape, axis, sizes, src.itemsize)
        p.update(axis=axis, sizes=sizes, stacked=True)
        return p


# --------------------------------------------------------------------------- strided slice


def _clamp(v: int, lo: int, hi: int) -> int:
    return hi if v > hi else lo if v < lo else v


def _row_major_strides(shape) -> list[int]:
    strides = [1] * len(shape)
    for i in range(len(shape) - 2, -1, -1):
        strides[i] = strides[i + 1] * int(shape[i + 1])
    return strides


@register
class StridedSlice(OpImpl):
    types = ("STRIDED_SLICE",)

    def _axes(self, g: Graph, op: Op) -> list[tuple[int, int, int, bool]]:
        """(start, stride, count, shrink) per input axis, resolved as TFLM's Eval does
        (StridedSliceStartForAxis / StridedSliceEndForAxis)."""
        shape = g.tensor(op.inputs[0]).shape
        rank = len(shape)
        begin = _const_ints(g, op, 1, "begin")
        end = _const_ints(g, op, 2, "end")
        strides = _const_ints(g, op, 3, "strides")
        if not begin.size == end.size == strides.size == rank:
            raise EvoError(f"STRIDED_SLICE: begin/end/strides have {begin.size}/{end.size}/{strides.size} entries for rank {rank}", "give one entry per input dimension")
        bm, em, sm = (int(op.attrs.get(k, 0)) for k in ("begin_mask", "end_mask", "shrink_axis_mask"))
        axes = []
        for a in range(rank):
            size, st = int(shape[a]), int(strides[a])
            if st == 0:
                raise EvoError("STRIDED_SLICE: a stride is 0", "strides must be non-zero")
            start = int(begin[a])
            if start < 0:
                start += size
            start = _clamp(start, 0, size) if st > 0 else _clamp(start, -1, size - 1)
            if bm & (1 << a):
                start = 0 if st > 0 else size - 1
            shrink = bool(sm & (1 << a))
            if shrink:
                stop = start if start >= size else start + 1
            else:
                stop = int(end[a])
                if stop < 0:
                    stop += size
                stop = _clamp(stop, 0, size) if st > 0 else _clamp(stop, -1, size - 1)
                if em & (1 << a):
                    stop = size if st > 0 else -1
            # number of i = start, start + st, ... with i < stop (st > 0) or i > stop (st < 0)
            count = max(0, (stop - start + st - 1) // st) if st > 0 else max(0, (start - stop + (-st) - 1) // (-st))
            axes.append((start, st, count, shrink))
        return axes

    def check(self, g: Graph, op: Op) -> None:
        _check_dtypes(g, op, [op.inputs[0]], ANY)
        _check_same_quant(g, op, [op.inputs[0]])
        _check_rank(g, op, op.inputs[0], 4)
        for k in ("ellipsis_mask", "new_axis_mask"):
            if int(op.attrs.get(k, 0)) != 0:
                raise EvoError(f"STRIDED_SLICE with {k} {op.attrs[k]}", "TFLM ignores this mask; rewrite the slice without it (e.g. add a RESHAPE)")
        if op.attrs.get("offset", False):
            raise EvoError("STRIDED_SLICE with offset=true", "TFLM ignores the offset option; give absolute end indices")
        axes = self._axes(g, op)
        out = g.tensor(op.outputs[0])
        expected = tuple(c for _, _, c, shrink in axes if not shrink)
        shrunk_ok = all(c == 1 for _, _, c, shrink in axes if shrink)
        if tuple(out.shape) != expected or not shrunk_ok:
            raise EvoError(
                f"STRIDED_SLICE: output shape {list(out.shape)} does not match the slice TFLM computes ({list(expected)}"
                + ("" if shrunk_ok else ", and a shrunk axis selects no element") + ")",
                "check begin/end/strides and the masks (TFLM's shrink_axis_mask needs a positive stride)",
            )

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        src = g.tensor(op.inputs[0])
        axes = self._axes(g, op)
        in_strides = _row_major_strides(src.shape)
        lead = MAX_DIMS - len(axes)
        start = sum(s * m for (s, _, c, _), m in zip(axes, in_strides)) if all(c > 0 for _, _, c, _ in axes) else 0
        return {
            "elem_size": src.itemsize,
            "start": int(start),
            "count": [1] * lead + [c for _, _, c, _ in axes],
            "step": [0] * lead + [st * m for (_, st, _, _), m in zip(axes, in_strides)],
            "axes": axes,
        }

    def reference(self, g, op, p, inputs):
        x = np.asarray(inputs[0])
        index = np.ix_(*[s + st * np.arange(c) for s, st, c, _ in p["axes"]]) if p["axes"] else ()
        return [x[index].reshape(g.tensor(op.outputs[0]).shape)]

    def emit(self, g: Graph, op: Op, p: dict[str, Any]) -> KernelCall:
        return KernelCall(
            func="evo_strided_slice_any",
            sources=["strided_slice_any.c"],
            header=HEADER,
            params_type="evo_strided_slice_params_t",
            params={k: p[k] for k in ("elem_size", "start", "count", "step")},
            args=[TensorArg(op.inputs[0]), TensorArg(op.outputs[0])],
        )


# --------------------------------------------------------------------------- transpose


@register
class Transpose(OpImpl):
    types = ("TRANSPOSE",)

    def _perm(self, g: Graph, op: Op) -> list[int]:
        perm = [int(v) for v in _const_ints(g, op, 1, "perm")]
        rank = len(g.tensor(op.inputs[0]).shape)
        if sorted(perm) != list(range(rank)):
            raise EvoError(f"TRANSPOSE: perm {perm} is not a permutation of 0..{rank - 1}", "fix the perm tensor")
        return perm

    def check(self, g: Graph, op: Op) -> None:
        _check_dtypes(g, op, [op.inputs[0]], ANY)
        _check_same_quant(g, op, [op.inputs[0]])
        _check_rank(g, op, op.inputs[0], 5)
        perm = self._perm(g, op)
        src, out = g.tensor(op.inputs[0]), g.tensor(op.outputs[0])
        expected = tuple(int(src.shape[a]) for a in perm)
        if tuple(out.shape) != expected:
            raise EvoError(f"TRANSPOSE: output shape {list(out.shape)} != permuted input shape {list(expected)}", "the model is inconsistent; re-export it")

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        src = g.tensor(op.inputs[0])
        perm = self._perm(g, op)
        strides = _row_major_strides(src.shape)
        lead = MAX_DIMS - len(perm)
        return {
            "elem_size": src.itemsize,
            "count": [1] * lead + [int(src.shape[a]) for a in perm],
            "step": [0] * lead + [strides[a] for a in perm],
            "perm": perm,
        }

    def reference(self, g, op, p, inputs):
        return [np.ascontiguousarray(np.transpose(np.asarray(inputs[0]), p["perm"]))]

    def emit(self, g: Graph, op: Op, p: dict[str, Any]) -> KernelCall:
        return KernelCall(
            func="evo_transpose_any",
            sources=["transpose_any.c"],
            header=HEADER,
            params_type="evo_transpose_params_t",
            params={k: p[k] for k in ("elem_size", "count", "step")},
            args=[TensorArg(op.inputs[0]), TensorArg(op.outputs[0])],
        )
