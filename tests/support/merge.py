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


def run_merged_on_board(graphs: list[Graph], board_name: str, seed: int, folder, prefer: str = "speed"):
    """Merge `graphs`, build them for the board (kernel policy `prefer`), run the firmware under
    QEMU and check every output bit-exact with TFLM's run of its own graph; returns the compiled
    program (for the kernels it chose)."""
    import numpy as np

    from evo.compiler import compile_graph
    from evo.frontend.tflite_writer import write_tflite
    from evo.inputs import random_inputs
    from evo.targets.boards import load_board
    from evo.targets.firmware import build_firmware, target_for_board
    from evo.targets.qemu import run_qemu
    from evo.verify.tflm import run_tflm

    g = merge_graphs(graphs, "merged")
    inputs = random_inputs(g, seed)
    want, pos = [], 0
    for gk in graphs:
        n = len(gk.inputs)
        want += list(run_tflm(write_tflite(gk), gk, inputs[pos:pos + n])[0])
        pos += n
    board = load_board(board_name)
    compiled = compile_graph(g, target=target_for_board(board), prefer=prefer)
    r = run_qemu(build_firmware(compiled, board, inputs, folder))
    assert r.exit_code == 0 and r.status == 0, f"{board_name}: exit {r.exit_code}, status {r.status}"
    for i, w in enumerate(want):
        assert np.array_equal(np.asarray(r.outputs[i]).reshape(w.shape), w), f"{board_name}: case output {i} differs from TFLM"
    return compiled
