"""Several one-operator graphs side by side in one graph (disjoint inputs and outputs), so that one
firmware build under QEMU checks many kernel configurations at once."""
from __future__ import annotations

from dataclasses import replace

from evo.ir.graph import Graph, Op


def merge_graphs(graphs: list[Graph], name: str = "merged") -> Graph:
    tensors, ops, inputs, outputs = [], [], [], []
    for k, g in enumerate(graphs):
        base = len(tensors)
        tensors += [replace(t, index=base + t.index, name=f"g{k}_{t.name}") for t in g.tensors]
        for op in g.ops:
            ops.append(Op(len(ops), op.type, [i + base if i >= 0 else -1 for i in op.inputs], [o + base for o in op.outputs],
                          dict(op.attrs), op.custom_options))
        inputs += [i + base for i in g.inputs]
        outputs += [o + base for o in g.outputs]
    return Graph(tensors=tensors, ops=ops, inputs=inputs, outputs=outputs,
                 input_names=[f"input_{i}" for i in range(len(inputs))],
                 output_names=[f"output_{i}" for i in range(len(outputs))],
                 name=name, file_inputs=list(inputs), file_outputs=list(outputs))
