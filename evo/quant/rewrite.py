"""Graph rewriting: a float32 graph + calibration ranges -> an int8 graph, TFLite's scheme.

Rules (what TFLite's converter and TFLM's kernels require):

* CONV_2D / FULLY_CONNECTED weights per output channel on axis 0, DEPTHWISE_CONV_2D on axis 3,
  symmetric int8; int32 bias with scale input scale x weight scale.
* Activations asymmetric int8 per tensor; a fused activation clamps the output range
  (RELU: >= 0, RELU6: [0, 6], RELU_N1_TO_1: [-1, 1]).
* Ops that move bytes without rescaling in TFLM (pools, RESHAPE and friends, CONCATENATION,
  PACK/UNPACK, SPLIT, PAD, STRIDED_SLICE, TRANSPOSE, MAXIMUM/MINIMUM, RELU6) put their data
  inputs and outputs in one group that shares one scale and zero point, over the union of
  the members' ranges.
* SOFTMAX and LOGISTIC outputs are fixed at scale 1/256, zero point -128; TANH at 1/128, 0;
  an int16 SOFTMAX (16x8) at 1/32768, 0.
* 16x8 mixed precision (evo/quant/mixed.py): chosen operators get symmetric int16 activations
  and int64 biases, with QUANTIZE operators at the int8/int16 borders.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from evo.errors import EvoError
from evo.ir import Graph, Op, Quant, Tensor
from evo.quant import mixed, scheme
from evo.quant.calibrate import TensorStats
from evo.quant.ranges import tensor_range

ALL = None  # every input is a data input
SHARE_DATA_INPUTS: dict[str, list[int] | None] = {
    "MAX_POOL_2D": [0], "AVERAGE_POOL_2D": [0], "RESHAPE": [0], "SQUEEZE": [0], "EXPAND_DIMS": [0],
    "PAD": [0], "PADV2": [0, 2], "CONCATENATION": ALL, "PACK": ALL, "SPLIT": [1], "SPLIT_V": [0],
    "UNPACK": [0], "STRIDED_SLICE": [0], "TRANSPOSE": [0], "MAXIMUM": ALL, "MINIMUM": ALL, "RELU6": [0],
}
FIXED_OUTPUT = {"SOFTMAX": (1.0 / 256, -128), "LOGISTIC": (1.0 / 256, -128), "TANH": (1.0 / 128, 0)}
FIXED_OUTPUT_INT16 = {"SOFTMAX": (1.0 / 32768, 0)}  # 16x8 softmax (TFLM checks it)
WEIGHT_AXIS = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0}
INDEPENDENT = {"ADD", "SUB", "MUL", "MEAN", "RELU", "RELU_N1_TO_1", "LEAKY_RELU", "HARD_SWISH"}
SUPPORTED = set(SHARE_DATA_INPUTS) | set(FIXED_OUTPUT) | set(WEIGHT_AXIS) | INDEPENDENT
ACT_CLAMP = {"RELU": (0.0, None), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}


@dataclass
class QuantReport:
    method: str
    per_channel: bool
    samples: int
    tensors: dict[str, dict] = field(default_factory=dict)  # name -> range, scale, zero point
    bias_corrected: list[str] = field(default_factory=list)
    int16_tensors: list[str] = field(default_factory=list)  # activations quantized to int16 (16x8)
    int16_ops: list[int] = field(default_factory=list)  # float-model operators run in 16x8
    selection: object = None  # evo.quant.select.Selection for --int16-activations auto


class _Groups:
    def __init__(self):
        self.parent: dict[int, int] = {}

    def find(self, a: int) -> int:
        self.parent.setdefault(a, a)
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def _is_float_act(t: Tensor) -> bool:
    return t.dtype == "float32" and not t.is_const


def check_float_graph(g: Graph) -> None:
    """Reject what the quantizer cannot take: quantized or hybrid models, ops with no int8 form."""
    for t in g.tensors:
        if t.dtype in ("int8", "uint8", "int16") or (t.dtype == "float32" and t.quant is not None):
            raise EvoError(
                f"{g.name} is already quantized (tensor {t.name} is {t.dtype}{' with quantization' if t.quant is not None else ''})",
                "quantize the float32 model it was made from",
            )
    for op in g.ops:
        if op.type in ("QUANTIZE", "DEQUANTIZE"):
            raise EvoError(f"{g.name} is already quantized (it has {op.type} operators)", "quantize the float32 model it was made from")
    for op in g.ops:
        if op.type not in SUPPORTED:
            raise EvoError(f"operator {op.index} ({op.type}) has no int8 form in EVO", "keep the model float32 or replace the operator")
        if op.type in WEIGHT_AXIS:
            w = g.tensor(op.inputs[1])
            if not w.is_const:
                raise EvoError(f"operator {op.index} ({op.type}) has non-constant weights, which have no int8 form", "freeze the weights when exporting")
    if not any(_is_float_act(g.tensor(i)) for i in g.inputs):
        raise EvoError(f"{g.name} has no float32 input to quantize", "pass a float32 model")


def mean_tensors(g: Graph) -> set[int]:
    """Tensors whose per-element mean bias correction needs (inputs of depthwise convolutions)."""
    return {op.inputs[0] for op in g.ops if op.type == "DEPTHWISE_CONV_2D"}


def _depthwise_correction(op: Op, g: Graph, x_mean: np.ndarray, dw: np.ndarray) -> np.ndarray:
    """E[dwconv(x, w) - dwconv(x, deq(wq))] per output channel, from the mean input."""
    from evo.ops.base import impl_for

    x = g.tensor(op.inputs[0])
    y = g.tensor(op.outputs[0])
    tensors = [
        Tensor(0, "x", x.shape, "float32"),
        Tensor(1, "dw", dw.shape, "float32", data=dw.astype(np.float32)),
        Tensor(2, "y", y.shape, "float32"),
    ]
    attrs = dict(op.attrs, fused_activation_function="NONE")
    mini_op = Op(0, "DEPTHWISE_CONV_2D", [0, 1, -1], [2], attrs)
    mini = Graph(tensors, [mini_op], [0], [2], ["x"], ["y"])
    impl = impl_for(mini_op)
    out = impl.reference(mini, mini_op, impl.prepare(mini, mini_op), [x_mean.reshape(x.shape).astype(np.float32), tensors[1].data, None])[0]
    out = np.asarray(out, np.float64).reshape(y.shape)
    return out.reshape(-1, y.shape[-1]).mean(axis=0)


def quantize_graph(g: Graph, stats: dict[int, TensorStats], method: str = "minmax", per_channel: bool = True,
                   float_io: bool = False, bias_correction: bool = True, samples: int = 0,
                   int16_ops: set[int] | None = None) -> tuple[Graph, QuantReport]:
    """`int16_ops`: indices of the operators of `g` that run with int16 activations (16x8,
    evo/quant/mixed.py); the others run in int8."""
    check_float_graph(g)
    q = copy.deepcopy(g)
    report = QuantReport(method=method, per_channel=per_channel, samples=samples)

    # 1. per-tensor real ranges (calibrated activations; float constants that are not weights)
    weight_like: set[int] = set()
    for op in q.ops:
        if op.type in WEIGHT_AXIS:
            weight_like.add(op.inputs[1])
            if len(op.inputs) > 2 and op.inputs[2] >= 0:
                weight_like.add(op.inputs[2])
    ranges: dict[int, tuple[float, float]] = {}
    for t in q.tensors:
        if _is_float_act(t):
            s = stats.get(t.index)
            if s is None:
                raise EvoError(f"calibration did not reach tensor {t.name}", "this is an EVO bug; please report it with the model")
            ranges[t.index] = tensor_range(method, s.vmin, s.vmax, s.sample)
        elif t.dtype == "float32" and t.is_const and t.index not in weight_like:
            ranges[t.index] = (float(np.min(t.data)) if t.size else 0.0, float(np.max(t.data)) if t.size else 0.0)

    # 2. fused and standalone activations clamp their outputs' ranges
    for op in q.ops:
        act = op.attrs.get("fused_activation_function", "NONE")
        clamps = [ACT_CLAMP[act]] if act in ACT_CLAMP else []
        if op.type in ACT_CLAMP:
            clamps.append(ACT_CLAMP[op.type])
        for lo_c, hi_c in clamps:
            for o in op.outputs:
                if o in ranges:
                    lo, hi = ranges[o]
                    lo = max(lo, lo_c)
                    hi = hi if hi_c is None else min(hi, hi_c)
                    ranges[o] = (min(lo, hi), hi)

    # 2b. mixed precision: QUANTIZE operators between int8 and int16 operators
    wide, origin = mixed.insert_boundaries(q, int16_ops, ranges) if int16_ops else (set(), {})
    report.int16_tensors = sorted(q.tensor(t).name for t in wide)

    # 3. scale-sharing groups and fixed output quantization
    groups = _Groups()
    for op in q.ops:
        if op.type in SHARE_DATA_INPUTS:
            positions = SHARE_DATA_INPUTS[op.type]
            data_in = [i for k, i in enumerate(op.inputs) if i >= 0 and (positions is None or k in positions)]
            for t in data_in + list(op.outputs):
                if t in ranges:
                    groups.union(op.outputs[0], t)
    fixed: dict[int, tuple[float, int]] = {}
    for op in q.ops:
        if op.type in FIXED_OUTPUT:
            root = groups.find(op.outputs[0])
            want = FIXED_OUTPUT_INT16[op.type] if op.outputs[0] in wide else FIXED_OUTPUT[op.type]
            if root in fixed and fixed[root] != want:
                raise EvoError(f"operator {op.index} ({op.type}) needs output quantization that conflicts with a tensor it shares scales with", "split the graph")
            fixed[root] = want
    group_range: dict[int, tuple[float, float]] = {}
    for t, (lo, hi) in ranges.items():
        r = groups.find(t)
        glo, ghi = group_range.get(r, (lo, hi))
        group_range[r] = (min(glo, lo), max(ghi, hi))
    quant: dict[int, Quant] = {}
    for t in ranges:
        r = groups.find(t)
        if r in fixed:
            quant[t] = scheme.fixed_quant(*fixed[r])
        elif t in wide:
            quant[t] = scheme.symmetric_int16_quant(*group_range[r])
        else:
            quant[t] = scheme.activation_quant(*group_range[r])

    # 4. activations and non-weight constants become int8
    for t in q.tensors:
        if t.index not in quant:
            continue
        t.quant = quant[t.index]
        t.dtype = "int16" if t.index in wide else "int8"
        if t.is_const:
            lo, hi = scheme.INT16_RANGE if t.dtype == "int16" else (scheme.INT8_MIN, scheme.INT8_MAX)
            t.data = scheme.quantize_values(t.data, t.quant, lo, hi).astype(t.np_dtype).reshape(t.shape)
        lo, hi = ranges[t.index]
        report.tensors[t.name] = dict(min=lo, max=hi, scale=float(t.quant.scale[0]), zero_point=int(t.quant.zero_point[0]))

    # 5. weights and biases
    done: dict[int, tuple] = {}
    for op in q.ops:
        if op.type not in WEIGHT_AXIS:
            continue
        w = q.tensor(op.inputs[1])
        x = q.tensor(op.inputs[0])
        if w.index in done:
            raise EvoError(f"operator {op.index} ({op.type}) shares its weights with another operator", "this is not supported by the quantizer yet")
        wf = np.asarray(w.data, np.float64)
        axis = WEIGHT_AXIS[op.type] if per_channel else None
        if op.type == "FULLY_CONNECTED" and wf.ndim != 2:
            raise EvoError(f"operator {op.index} (FULLY_CONNECTED) has {wf.ndim}-D weights", "re-export the model")
        wq, wquant = scheme.weight_quant(wf, axis)
        n = wf.shape[WEIGHT_AXIS[op.type]]
        w.data, w.dtype, w.quant = wq, "int8", wquant
        done[w.index] = ()
        has_bias = len(op.inputs) > 2 and op.inputs[2] >= 0
        bias_f = np.asarray(q.tensor(op.inputs[2]).data, np.float64).reshape(n) if has_bias else np.zeros(n)
        if bias_correction and op.type == "DEPTHWISE_CONV_2D":
            s = stats.get(origin.get(op.inputs[0], op.inputs[0]))
            if s is not None and s.mean is not None:
                dw = wf - scheme.dequantize_weights(wq, wquant)
                bias_f = bias_f + _depthwise_correction(op, q, s.mean, dw)
                report.bias_corrected.append(q.tensor(op.outputs[0]).name)
                if not has_bias:
                    bt = Tensor(len(q.tensors), f"{w.name}_bias", (n,), "float32", data=np.zeros(n, np.float32))
                    q.tensors.append(bt)
                    op.inputs = list(op.inputs[:2]) + [bt.index]
                    has_bias = True
        if has_bias:
            b = q.tensor(op.inputs[2])
            if b.index in done:
                raise EvoError(f"operator {op.index} ({op.type}) shares its bias with another operator", "this is not supported by the quantizer yet")
            wide_bias = x.dtype == "int16"  # 16x8: int64 bias, as TFLite's converter writes
            bq, bquant = scheme.bias_quant(bias_f, float(x.quant.scale[0]), wquant.scale, n, int64=wide_bias)
            b.data, b.dtype, b.quant, b.shape = bq, "int64" if wide_bias else "int32", bquant, (n,)
            done[b.index] = ()

    # 6. float I/O: QUANTIZE in front, DEQUANTIZE behind
    if float_io:
        _add_float_io(q)
    _recheck(q)
    return q, report


def _add_float_io(q: Graph) -> None:
    new_inputs: dict[int, int] = {}
    pre: list[Op] = []
    for t_idx in q.inputs:
        t = q.tensor(t_idx)
        f = Tensor(len(q.tensors), t.name, t.shape, "float32")
        t.name = f"{t.name}_{t.dtype}"
        q.tensors.append(f)
        pre.append(Op(0, "QUANTIZE", [f.index], [t_idx]))
        new_inputs[t_idx] = f.index
    new_outputs: dict[int, int] = {}
    post: list[Op] = []
    for t_idx in q.outputs:
        t = q.tensor(t_idx)
        f = Tensor(len(q.tensors), t.name, t.shape, "float32")
        t.name = f"{t.name}_{t.dtype}"
        q.tensors.append(f)
        post.append(Op(0, "DEQUANTIZE", [t_idx], [f.index]))
        new_outputs[t_idx] = f.index
    q.ops = pre + q.ops + post
    for k, op in enumerate(q.ops):
        op.index = k
    q.inputs = [new_inputs[i] for i in q.inputs]
    q.outputs = [new_outputs[i] for i in q.outputs]
    q.file_inputs = [new_inputs.get(i, i) for i in q.file_inputs]
    q.file_outputs = [new_outputs.get(i, i) for i in q.file_outputs]


def _recheck(q: Graph) -> None:
    from evo.ops.base import impl_for

    for op in q.ops:
        try:
            impl_for(op).check(q, op)
        except EvoError as e:
            raise EvoError(f"operator {op.index} ({op.type}) has no int8 form EVO can run: {e.problem}", e.fix) from None
