"""`evo inspect`: what a model contains and what it would cost, before compiling it."""
from __future__ import annotations

from evo.codegen.lower import lower
from evo.errors import EvoError
from evo.ir import Graph
from evo.ops.base import registry, unsupported
from evo.ops.bnn import binary_summary

# Operators whose integer constant operands at positions >= 1 carry shapes, axes or indices.
SHAPE_OPERAND_OPS = {
    "RESHAPE", "PAD", "PADV2", "SPLIT", "SPLIT_V", "STRIDED_SLICE", "TRANSPOSE", "MEAN", "SUM",
    "EXPAND_DIMS", "SQUEEZE", "SLICE", "GATHER", "TILE", "BROADCAST_TO", "REDUCE_MAX", "RESIZE_BILINEAR",
    "RESIZE_NEAREST_NEIGHBOR",
}


def count_params(g: Graph) -> int:
    """Elements of constant tensors, leaving out integer operands that only carry shapes/axes."""
    uses: dict[int, list[tuple[str, int]]] = {}
    for op in g.ops:
        for pos, t in enumerate(op.inputs):
            if t >= 0:
                uses.setdefault(t, []).append((op.type, pos))
    total = 0
    for t in g.tensors:
        if not t.is_const:
            continue
        if t.dtype in ("int32", "int64") and uses.get(t.index) and all(ty in SHAPE_OPERAND_OPS and pos >= 1 or ty == "SPLIT" and pos == 0 for ty, pos in uses[t.index]):
            continue
        total += t.size
    return total


def inspect_graph(g: Graph) -> dict:
    reg = registry()
    missing = unsupported(g)
    ops = []
    for op in g.ops:
        impl = reg.get(op.type)
        out = g.tensor(op.outputs[0]) if op.outputs else None
        macs = 0
        if impl is not None:
            try:
                macs = impl.macs(g, op)
            except Exception:  # an op EVO cannot size is reported with 0 MACs, not a crash
                macs = 0
        ops.append(
            dict(
                index=op.index,
                op=op.type,
                supported=impl is not None,
                output_shape=list(out.shape) if out else [],
                dtype=out.dtype if out else "",
                macs=macs,
                params=sum(g.tensor(t).size for t in op.inputs if t >= 0 and g.tensor(t).is_const),
            )
        )
    arena = lower_bound = None
    problem = None
    if not missing:
        try:
            prog = lower(g)
            arena, lower_bound = prog.plan.arena_bytes, prog.lower_bound_bytes
        except EvoError as e:
            problem = str(e)
    io = lambda idx, names: [  # noqa: E731
        dict(name=n, dtype=g.tensor(t).dtype, shape=list(g.tensor(t).shape),
             scale=g.tensor(t).quant.scalar_scale if g.tensor(t).quant else None,
             zero_point=g.tensor(t).quant.scalar_zero_point if g.tensor(t).quant else None)
        for t, n in zip(idx, names)
    ]
    return dict(
        model=g.name,
        inputs=io(g.inputs, g.input_names),
        outputs=io(g.outputs, g.output_names),
        ops=ops,
        op_counts={t: sum(1 for o in g.ops if o.type == t) for t in sorted({o.type for o in g.ops})},
        tensors=len(g.tensors),
        macs=sum(o["macs"] for o in ops),
        params=count_params(g),
        # constants some op reads (a rewrite such as binarize leaves the replaced weights unused)
        const_bytes=sum(g.tensor(i).nbytes for i in {i for o in g.ops for i in o.inputs if i >= 0} if g.tensor(i).is_const),
        arena_bytes=arena,
        lower_bound_bytes=lower_bound,
        unsupported_ops=missing,
        binary=binary_summary(g),  # binary layers, packed weight bytes
        problem=problem,
    )
