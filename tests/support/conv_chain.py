"""A chain of int8 CONV_2D layers (NHWC, batch 1) as a Graph: what the memory planner fuses into
one row-streamed group. Shared by the host and QEMU tests of the DSP row kernels."""
from __future__ import annotations

import numpy as np

from evo.ir.graph import Graph, Op, Quant, Tensor


def _q(scale: float, zp: int = 0, n: int = 1) -> Quant:
    return Quant(scale=np.full(n, scale, np.float32), zero_point=np.full(n, zp, np.int64), axis=0)


def conv_chain(seed: int, h: int, w: int, cin: int, layers: list[tuple[int, int, int, str]]) -> Graph:
    """input (1, h, w, cin) -> CONV_2D per (out channels, kernel, stride, padding), RELU fused."""
    rng = np.random.default_rng(seed)
    tensors: list[Tensor] = []
    ops: list[Op] = []

    def act(shape, name):
        tensors.append(Tensor(len(tensors), name, shape, "int8", _q(float(rng.uniform(0.02, 0.08)), int(rng.integers(-20, 20)))))
        return len(tensors) - 1

    x = act((1, h, w, cin), "input")
    src = x
    for oc, k, stride, pad in layers:
        s = tensors[src]
        ih, iw, ic = s.shape[1:]
        ws = rng.uniform(0.004, 0.02, oc).astype(np.float32)
        tensors.append(Tensor(len(tensors), f"w{len(ops)}", (oc, k, k, ic), "int8", Quant(ws, np.zeros(oc, np.int64), 0),
                              rng.integers(-127, 128, (oc, k, k, ic)).astype(np.int8)))
        wt = len(tensors) - 1
        tensors.append(Tensor(len(tensors), f"b{len(ops)}", (oc,), "int32", Quant((ws * s.quant.scale[0]).astype(np.float32), np.zeros(oc, np.int64)),
                              rng.integers(-500, 500, oc).astype(np.int32)))
        b = len(tensors) - 1
        if pad == "SAME":
            oh, ow = (ih + stride - 1) // stride, (iw + stride - 1) // stride
        else:
            oh, ow = (ih - k) // stride + 1, (iw - k) // stride + 1
        y = act((1, oh, ow, oc), f"y{len(ops)}")
        ops.append(Op(len(ops), "CONV_2D", [src, wt, b], [y], {"padding": pad, "stride_h": stride, "stride_w": stride, "dilation_h_factor": 1,
                                                                 "dilation_w_factor": 1, "fused_activation_function": "RELU"}))
        src = y
    return Graph(tensors=tensors, ops=ops, inputs=[x], outputs=[src], input_names=["input"], output_names=["out"], name="chain",
                 file_inputs=[x], file_outputs=[src])


def compiled_on_variant(g: Graph, target, pixels: int):
    """The chain's convolutions all on conv2d_s8_dsp_direct in one mode (pixels 0: input widened in
    registers, 1: single widened pixels, 2: widened pairs), whatever the arena, streamed as one
    group: every mode of the row kernel runs, not only those the memory-first choice picks."""
    from evo.codegen.emit import generate
    from evo.codegen.lower import _calls, _finish, lower_streams
    from evo.codegen.report import build_report
    from evo.compiler import Compiled

    portable, special, macs, alias_ops = _calls(g, target)
    calls = dict(portable)
    for i, c in special.items():
        while c is not None and c.func != "evo_conv2d_s8_dsp":  # past the window kernel, if any
            c = c.lean
        v = c.lean if c is not None else None  # widened pairs, then single pixels, then registers
        for _ in range(2 - pixels):
            v = v.lean if v is not None else None
        if v is not None:
            calls[i] = v
    prog = _finish(lower_streams(g, calls, macs, alias_ops, None, True, True, "groups"), target, None, None)
    files = generate(prog, "m", "m.tflite")
    return Compiled(program=prog, files=files, report=build_report(prog, "m", "m.tflite", files.weight_bytes), name="m")
