"""What each CLI command does, as plain functions returning data (the CLI only parses and prints)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from evo.compiler import compile_graph, write_folder
from evo.errors import EvoError
from evo.frontend.tflite_reader import load_model
from evo.inputs import dequantize, load_inputs, random_inputs
from evo.inspect import inspect_graph
from evo.targets.host import HostModel
from evo.verify.compare import verify


def inspect_model(path: str) -> dict:
    _, g = load_model(path)
    return inspect_graph(g)


def compile_model(path: str, out_dir: str, name: str | None) -> dict:
    _, g = load_model(path)
    compiled = compile_graph(g, name, source=Path(path).name)
    write_folder(compiled, Path(out_dir))
    r = compiled.report
    return dict(name=compiled.name, out_dir=str(out_dir), arena_bytes=r["arena_bytes"], weight_bytes=r["weight_bytes"],
                lower_bound_bytes=r["lower_bound_bytes"], macs=r["macs"], ops=len(r["ops"]),
                files=sorted(compiled.files.files))


def run_model(path: str, input_path: str | None, seed: int, image_range: tuple[float, float]) -> dict:
    _, g = load_model(path)
    inputs = load_inputs(g, input_path, image_range) if input_path else random_inputs(g, seed)
    with HostModel.build(g) as m:
        outs = m.run(inputs)
        arena = m.compiled.report["arena_bytes"]
        weights = m.compiled.report["weight_bytes"]
    result = dict(outputs={}, dequantized={}, arena_bytes=arena, weight_bytes=weights, input=input_path or f"random (seed {seed})")
    for name, t, v in zip(g.output_names, g.outputs, outs):
        result["outputs"][name] = v.tolist()
        result["dequantized"][name] = dequantize(g.tensor(t), v).tolist()
    result["_arrays"] = outs
    return result


def verify_model(path: str, input_path: str | None, random_count: int, seed: int, layers: bool, image_range) -> dict:
    model, g = load_model(path)
    input_sets = []
    if input_path:
        input_sets.append(load_inputs(g, input_path, image_range))
    input_sets += [random_inputs(g, seed + k) for k in range(random_count)]
    if not input_sets:
        raise EvoError("nothing to verify: no --input and --random 0", "pass --input FILE or --random N")
    with HostModel.build(g, trace=layers) as m:
        res = verify(model, g, input_sets, layers, m)
        report = m.compiled.report
    out = res.to_json()
    out.update(model=Path(path).name, arena_bytes=report["arena_bytes"], weight_bytes=report["weight_bytes"])
    return out


def save_outputs(path: str, names: list[str], arrays: list[np.ndarray]) -> None:
    p = Path(path)
    try:
        if p.suffix == ".npz":
            np.savez(p, **dict(zip(names, arrays)))
        else:
            np.save(p, arrays[0])
    except OSError as e:
        raise EvoError(f"cannot write {p}: {e.strerror}", "check the path") from None
