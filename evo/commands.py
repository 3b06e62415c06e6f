"""What each CLI command does, as plain functions returning data (the CLI only parses and prints)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from evo.compiler import compile_graph, write_folder
from evo.errors import EvoError
from evo.frontend.tflite_reader import load_model
from evo.inputs import dequantize, load_inputs, random_inputs
from evo.inspect import inspect_graph
from evo.target import HOST
from evo.targets.host import HostModel
from evo.verify.compare import verify


def inspect_model(path: str) -> dict:
    _, g = load_model(path)
    return inspect_graph(g)


def host_pools(text: str | None):
    """--pools for host builds: 'dtcm:64k,sram:256k' -> PoolSpecs (None: one arena)."""
    if text is None:
        return None
    from evo.memory.pools import parse_pools

    if text.strip() == "auto":
        raise EvoError("--pools auto needs a board (its RAM regions)", "pass --board, or list the pools, e.g. --pools dtcm:64k,sram:256k")
    return parse_pools(text)


def compile_model(path: str, out_dir: str, name: str | None, quant: dict | None = None, ram_budget: int | None = None,
                  pools: str | None = None, board: str | None = None, prefer: str = "memory") -> dict:
    """`board`: specialise the kernels for its core (as far as `prefer` allows) and take --pools
    from its RAM regions."""
    target, pool_specs = HOST, None
    if board is not None:
        from evo.targets.boards import load_board
        from evo.targets.firmware import target_for_board

        b = load_board(board)
        target, pool_specs = target_for_board(b), board_pools(pools, b)
    else:
        pool_specs = host_pools(pools)
    if quant is not None:  # a float model compiled straight to int8 C
        from evo.quant import quantize_model as _quantize

        g, _ = _quantize(path, **quant)
        g.name = Path(path).stem
    else:
        _, g = load_model(path)
    compiled = compile_graph(g, name, source=Path(path).name, ram_budget=ram_budget, pools=pool_specs, target=target, prefer=prefer)
    write_folder(compiled, Path(out_dir))
    r = compiled.report
    return dict(name=compiled.name, out_dir=str(out_dir), arena_bytes=r["arena_bytes"], weight_bytes=r["weight_bytes"],
                lower_bound_bytes=r["lower_bound_bytes"], macs=r["macs"], ops=len(r["ops"]),
                files=sorted(compiled.files.files), **{k: r[k] for k in ("pools", "ext_bytes", "moved_bytes", "kernels") if k in r})


def quantize_model(path: str, out_path: str, quant: dict) -> dict:
    from evo.quant import quantize_file

    q, report, data = quantize_file(path, out_path=out_path, **quant)

    def io(kind, idx, names):
        out = []
        for name, i in zip(names, idx):
            t = q.tensor(i)
            out.append(dict(kind=kind, name=name, dtype=t.dtype, shape=list(t.shape),
                            scale=float(t.quant.scale[0]) if t.quant is not None else None,
                            zero_point=int(t.quant.zero_point[0]) if t.quant is not None else None))
        return out

    return dict(model=Path(path).name, output=str(out_path), bytes=len(data), method=report.method,
                per_channel=report.per_channel, samples=report.samples, bias_corrected=report.bias_corrected,
                inputs=io("input", q.inputs, q.input_names), outputs=io("output", q.outputs, q.output_names),
                ops=[op.type for op in q.ops], int16_ops=report.int16_ops, int16_tensors=report.int16_tensors,
                int16_rule=report.selection.rule if report.selection is not None else None)


def run_model(path: str, input_path: str | None, seed: int, image_range: tuple[float, float], ram_budget: int | None = None,
              pools: str | None = None) -> dict:
    _, g = load_model(path)
    inputs = load_inputs(g, input_path, image_range) if input_path else random_inputs(g, seed)
    with HostModel.build(g, ram_budget=ram_budget, pools=host_pools(pools)) as m:
        outs = m.run(inputs)
        arena = m.compiled.report["arena_bytes"]
        weights = m.compiled.report["weight_bytes"]
    result = dict(outputs={}, dequantized={}, arena_bytes=arena, weight_bytes=weights, input=input_path or f"random (seed {seed})")
    for name, t, v in zip(g.output_names, g.outputs, outs):
        result["outputs"][name] = v.tolist()
        result["dequantized"][name] = dequantize(g.tensor(t), v).tolist()
    result["_arrays"] = outs
    return result


def verify_model(path: str, input_path: str | None, random_count: int, seed: int, layers: bool, image_range, ram_budget: int | None = None,
                 pools: str | None = None) -> dict:
    model, g = load_model(path)
    input_sets = []
    if input_path:
        input_sets.append(load_inputs(g, input_path, image_range))
    input_sets += [random_inputs(g, seed + k) for k in range(random_count)]
    if not input_sets:
        raise EvoError("nothing to verify: no --input and --random 0", "pass --input FILE or --random N")
    with HostModel.build(g, trace=layers, ram_budget=ram_budget, pools=host_pools(pools)) as m:
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


# ---------------------------------------------------------------- Cortex-M boards


def board_pools(text: str | None, board):
    """--pools for a board: 'auto' (every RAM region, fastest first) or region names with
    optional sizes ('dtcm:64k,ram'); a pool without a size gets its whole region (`ram`: less
    the stack)."""
    if text is None:
        return None
    from evo.memory.pools import PoolSpec, parse_pools

    def room(r):
        return r.size - (board.stack_bytes if r.name == "ram" else 0)

    if text.strip() == "auto":
        return [PoolSpec(r.name, room(r)) for r in board.regions]
    out = []
    for p in parse_pools(text):
        r = board.region(p.name)
        if p.capacity is not None and p.capacity > room(r):
            raise EvoError(f"pool {p.name} of {p.capacity:,} B is larger than {board.name}'s region ({room(r):,} B free)",
                           f"give it at most {room(r)} B, or leave its size out")
        out.append(PoolSpec(p.name, p.capacity if p.capacity is not None else room(r)))
    return out


def _board_model(path: str, board, ram_budget: int | None = None, pools=None, prefer: str = "memory"):
    """A .tflite file -> (graph, ModelSpec) compiled for `board`'s core; a folder from `evo compile`
    -> (None, ModelSpec)."""
    from evo.targets.firmware import ModelSpec, target_for_board

    p = Path(path)
    if p.is_dir():
        if ram_budget is not None or pools is not None or prefer != "memory":
            raise EvoError("--ram-budget, --pools and --prefer apply when compiling; a compiled folder has them fixed",
                           "pass them to `evo compile`, or pass the .tflite model")
        return None, ModelSpec.from_dir(p)
    _, g = load_model(p)
    return g, ModelSpec.from_compiled(compile_graph(g, source=p.name, ram_budget=ram_budget, pools=pools, target=target_for_board(board),
                                                       prefer=prefer))


def _board_inputs(g, spec, input_path: str | None, seed: int, image_range) -> list[np.ndarray]:
    if g is not None:
        return load_inputs(g, input_path, image_range) if input_path else random_inputs(g, seed)
    if input_path:
        raise EvoError("inputs for a compiled folder cannot be converted without the model", "pass the .tflite model instead of the folder")
    from evo.ir import DTYPES

    return [np.zeros(i["shape"], DTYPES[i["dtype"]]) for i in spec.report["inputs"]]


def build_for_board(path: str, board_name: str, out_dir: str | None, input_path: str | None, seed: int, image_range,
                    ram_budget: int | None = None, pools: str | None = None, prefer: str = "memory") -> dict:
    from evo.targets.boards import load_board
    from evo.targets.firmware import build_firmware

    board = load_board(board_name)
    g, spec = _board_model(path, board, ram_budget, board_pools(pools, board), prefer)
    inputs = _board_inputs(g, spec, input_path, seed, image_range)
    out = Path(out_dir) if out_dir else Path("build") / "fw" / f"{spec.name}-{board.name}"
    fw = build_firmware(spec, board, inputs, out)
    files = [str(fw.build_dir / f) for f in ("fw.elf", "fw.bin", "fw.hex", "fw.map")]
    return dict(board=board.name, model=spec.name, firmware=str(fw.elf), files=files, **_memory_summary(spec), **fw.sizes)


def _memory_summary(spec) -> dict:
    """Pools and external memory of a compiled model (present only when used)."""
    r = spec.report
    return {k: r[k] for k in ("pools", "ext_bytes", "moved_bytes", "kernels") if k in r}


def run_on_board(path: str, board_name: str, input_path: str | None, seed: int, image_range, timeout: float,
                 port: str | None = None, keep_dir: str | None = None, ram_budget: int | None = None, pools: str | None = None,
                 prefer: str = "memory", functions: bool = False) -> dict:
    from evo.targets.boards import load_board
    from evo.targets.firmware import build_firmware
    from evo.targets.qemu import run_qemu

    board = load_board(board_name)
    g, spec = _board_model(path, board, ram_budget, board_pools(pools, board), prefer)
    if g is None:
        raise EvoError("`evo run --board` needs the .tflite model (to check the result on the host)", "pass the model file")
    inputs = _board_inputs(g, spec, input_path, seed, image_range)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="evo_fw_") as tmp:
        fw = build_firmware(spec, board, inputs, Path(keep_dir or tmp))
        if board.emulated:
            r = run_qemu(fw, timeout=timeout, functions=functions)
        else:
            from evo.targets.hardware import run_on_hardware

            r = run_on_hardware(fw, port, timeout)
    if r.stack_bytes is not None and r.stack_bytes >= board.stack_bytes:
        raise EvoError(f"the firmware used all {board.stack_bytes:,} B of stack on {board.name} (stack overflow)", "this is an EVO bug; please report it with the model")
    with HostModel.build(g) as host:
        host_out = host.run(inputs)
    from evo.verify.compare import compare

    # Integers must be bit-exact; float outputs within verify's tolerance (newlib's expf/tanhf
    # are not glibc's, so float softmax/tanh may differ in the last bits).
    checks = [compare(name, a, b) for name, a, b in zip(g.output_names, r.outputs, host_out)]
    host_match = all(c.ok for c in checks)
    host_exact = all(c.bit_exact for c in checks)
    ops = spec.report["ops"]
    layers = [dict(index=o["index"], name=o["name"], op=_op_label(o), macs=o["macs"], instructions=n) for o, n in zip(ops, r.layer_instructions)]
    if r.layer_cycles:
        layers = [dict(index=o["index"], name=o["name"], op=_op_label(o), macs=o["macs"], cycles=n) for o, n in zip(ops, r.layer_cycles)]
    result = dict(
        board=board.name,
        machine=board.qemu_machine,
        outputs={name: v.tolist() for name, v in zip(g.output_names, r.outputs)},
        host_bit_exact=host_exact,
        host_match=host_match,
        exit_status=r.exit_code,
        kernel_status=r.status,
        instructions=r.instructions,
        cycles=r.cycles,
        cpu_hz=board.clock_hz,
        program_instructions=r.total_instructions,
        macs=spec.report["macs"],
        layers=layers,
        stack_used_bytes=r.stack_bytes,
        sizes=fw.sizes,
        **_memory_summary(spec),
    )
    result["_arrays"] = r.outputs
    if functions:
        result["functions"] = [dict(name=n, instructions=c) for n, c in r.functions or []]
    if not host_match:
        raise EvoError(f"the {board.name} run differs from the host run", "this is an EVO bug; please report it with the model")
    return result


def _op_label(o: dict) -> str:
    """An op's type, with the ops a row-streamed group runs (EVO_STREAM[2,3])."""
    return o["op"] + (f"[{','.join(str(i) for i in o['fused'])}]" if o.get("fused") else "")


def profile_on_board(path: str, board_name: str, seed: int, plot: str | None, timeout: float, functions: int = 0,
                     prefer: str = "memory") -> dict:
    r = run_on_board(path, board_name, None, seed, (0.0, 1.0), timeout, prefer=prefer, functions=functions > 0)
    if functions:
        r["functions"] = r["functions"][:functions]
    r.pop("_arrays")
    total = max(r["instructions"], 1)
    for layer in r["layers"]:
        layer["instructions_per_mac"] = layer["instructions"] / layer["macs"] if layer["macs"] else None
        layer["share"] = layer["instructions"] / total
    if plot:
        from evo.plots import layer_bar_chart

        layer_bar_chart(r["layers"], f"{Path(path).name} on {board_name}: instructions per layer", plot)
        r["plot"] = plot
    return r


def flash_board(folder: str, board_name: str, dry_run: bool) -> dict:
    from evo.targets.boards import load_board
    from evo.targets.flash import flash

    return flash(load_board(board_name), Path(folder), dry_run)
