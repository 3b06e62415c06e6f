"""evo_report.json: what a compiled model costs (ops, MACs, weights, arena, tensor placement)."""
from __future__ import annotations

from evo.codegen.lower import Program
from evo.ops.bnn import binary_summary


def build_report(prog: Program, name: str, source: str, weight_bytes: int) -> dict:
    g = prog.graph
    ops = []
    for s in prog.steps:
        out = g.tensor(s.op.outputs[0])
        ops.append(
            dict(
                index=s.op.index,
                name=s.op.name,
                op=s.op.type,
                kernel=s.call.func if s.call else None,
                macs=s.macs,
                output_shape=list(out.shape),
                output_dtype=out.dtype,
            )
        )
        if s.op.index in prog.streams:  # a row-streamed group: the ops it runs, in order
            ops[-1]["fused"] = [st.op.index for st in prog.streams[s.op.index].stages]
    tensors = []
    for t in sorted(prog.tensor_buffer):
        tensor = g.tensor(t)
        b = prog.plan.buffers[prog.tensor_buffer[t]]
        tensors.append(
            dict(index=t, name=tensor.name, dtype=tensor.dtype, shape=list(tensor.shape), bytes=tensor.nbytes,
                 offset=prog.tensor_offset(t), first_step=b.first, last_step=b.last)
        )
    def io(indices: list[int], names: list[str]) -> list[dict]:
        out = []
        for t, label in zip(indices, names):
            tensor = g.tensor(t)
            q = tensor.quant
            out.append(dict(name=label, tensor=t, dtype=tensor.dtype, shape=list(tensor.shape), bytes=tensor.nbytes,
                            offset=prog.tensor_offset(t), pool=prog.tensor_base(t), scale=q.scalar_scale if q else None, zero_point=q.scalar_zero_point if q else None))
        return out

    inputs, outputs = io(g.inputs, g.input_names), io(g.outputs, g.output_names)
    extra: dict = {}
    # Only present when used, so that a plain build's report stays as it was.
    if prog.ext_bytes:
        extra.update(ext_bytes=prog.ext_bytes, moved_bytes=prog.moved_bytes)
    if prog.pool_plan is not None:
        pp = prog.pool_plan
        extra["pools"] = [dict(name=p.name, bytes=plan.arena_bytes, capacity=p.capacity) for p, plan in zip(pp.pools, pp.plans)]
        extra["arena_bytes"] = sum(plan.arena_bytes for plan in pp.plans)
        for row in tensors:
            row["pool"] = pp.pool_name(prog.tensor_buffer[row["index"]])
        for row in inputs + outputs:
            row["pool"] = pp.pool_name(prog.tensor_buffer[row["tensor"]])
    if prog.specialised or prog.memory_fallback:
        # Which ops run the target's specialised kernel; which have one but keep the portable
        # call because it would raise the arena (or sit in a row-streamed group).
        extra["kernels"] = dict(target=prog.target.core, prefer=prog.prefer, specialised=list(prog.specialised),
                                memory_fallback=list(prog.memory_fallback))
        fallback = set(prog.memory_fallback)
        for row in ops:
            row["kernel_fallback"] = "memory" if row["index"] in fallback else None
    return dict(
        name=name,
        source=source,
        target=prog.target.core,  # the core the kernels were chosen for
        inputs=inputs,
        outputs=outputs,
        ops=ops,
        macs=sum(o["macs"] for o in ops),
        weight_bytes=weight_bytes,
        binary=binary_summary(g),  # binary layers, packed weight bytes
        arena_bytes=prog.plan.arena_bytes,
        lower_bound_bytes=prog.lower_bound_bytes,
        whole_tensor_lower_bound_bytes=prog.whole_lower_bound_bytes or prog.lower_bound_bytes,
        streamed_groups=[[st.op.index for st in sp.stages] for _, sp in sorted(prog.streams.items())],
        tensors=tensors,
    ) | extra
