"""Command line: parse arguments, call evo.commands, print tables or JSON. No logic here."""
from __future__ import annotations

import argparse
import json
import os
import sys

from evo import __version__
from evo.errors import EvoError
from evo.ui import kib, table


def _range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("expected LO,HI, e.g. 0,1 or -1,1") from None
    return lo, hi


def _quant_args(s: argparse.ArgumentParser, required: bool) -> None:
    """Quantizer options, shared by `evo quantize` and `evo compile` (a float model + --calib)."""
    s.add_argument("--calib", required=required, metavar="DATA",
                   help="calibration data: .npy/.npz ([N, ...input shape]) or a folder of images" + ("" if required else "; quantizes a float model to int8 first"))
    s.add_argument("--method", choices=("minmax", "percentile", "mse"), default="minmax", help="activation range method (default minmax)")
    s.add_argument("--per-channel", dest="per_channel", action="store_true", default=True, help="weights per output channel (default)")
    s.add_argument("--per-tensor", dest="per_channel", action="store_false", help="one weight scale per tensor")
    s.add_argument("--int16-activations", metavar="LAYERS|auto",
                   help="16x8 mixed precision: int16 activations (int8 weights) on these operators (comma-separated indices or "
                        "output tensor names), or 'auto': the layers whose int8 error is worst (within --ram-budget when given)")
    s.add_argument("--float-io", action="store_true", help="keep float32 input/output (QUANTIZE/DEQUANTIZE at the edges)")
    s.add_argument("--no-bias-correction", dest="bias_correction", action="store_false", help="skip depthwise bias correction")
    s.add_argument("--calib-limit", type=int, metavar="N", help="use at most N calibration samples")
    if not any(a.dest == "image_range" for a in s._actions):
        s.add_argument("--image-range", type=_range, default=(0.0, 1.0), metavar="LO,HI", help="float range calibration images map to (default 0,1)")


def _quant_opts(args) -> dict | None:
    if getattr(args, "calib", None) is None:
        if getattr(args, "int16_activations", None):
            raise EvoError("--int16-activations needs --calib", "pass calibration data")
        return None
    auto = (args.int16_activations or "").strip() == "auto"
    budget = getattr(args, "ram_budget", None)
    if args.command == "quantize" and budget is not None and not auto:
        raise EvoError("--ram-budget applies to --int16-activations auto only", "add --int16-activations auto or leave out --ram-budget")
    return dict(calib=args.calib, method=args.method, per_channel=args.per_channel, float_io=args.float_io,
                bias_correction=args.bias_correction, int16_activations=args.int16_activations,
                image_range=args.image_range, limit=args.calib_limit, ram_budget=budget if auto else None)


PREFER_HELP = ("with --board: 'memory' (default) uses the core's specialised kernels only where the arena stays "
               "as small as with portable C; 'speed' uses them everywhere, even if that needs more RAM")
POOLS_HELP = "memory pools, fastest first: NAME:BYTES,... (e.g. dtcm:64k,sram:256k; the last size may be left out)"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="evo", description="Compile .tflite models to bit-exact C for microcontrollers.")
    p.add_argument("--version", action="version", version=f"evo {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("inspect", help="operators, tensors, MACs, parameters, arena estimate")
    s.add_argument("model")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("compile", help="generate the C folder for a model")
    s.add_argument("model")
    s.add_argument("-o", "--output", required=True, metavar="DIR")
    s.add_argument("--name", help="C name prefix (default: the model file's name)")
    s.add_argument("--ram-budget", type=int, metavar="BYTES", help="arena limit: evict tensors to an external memory (see `evo plan`)")
    s.add_argument("--board", help="generate kernels specialised for this board's core (default: portable C for any target)")
    s.add_argument("--prefer", choices=("memory", "speed"), default="memory", help=PREFER_HELP)
    s.add_argument("--pools", metavar="SPEC", help=POOLS_HELP)
    s.add_argument("--json", action="store_true")
    _quant_args(s, required=False)

    s = sub.add_parser("quantize", help="float32 .tflite -> int8 .tflite (post-training, calibrated)")
    s.add_argument("model")
    s.add_argument("-o", "--output", required=True, metavar="FILE", help="the int8 .tflite to write")
    s.add_argument("--json", action="store_true")
    s.add_argument("--ram-budget", type=int, metavar="BYTES", help="with --int16-activations auto: keep EVO's planned arena within BYTES")
    _quant_args(s, required=True)

    for name, help_text in (("run", "run a model on the host"), ("verify", "compare EVO with TFLM")):
        s = sub.add_parser(name, help=help_text)
        s.add_argument("model")
        s.add_argument("--input", metavar="FILE", help=".npy, .npz or an image (PNG/JPEG/BMP)")
        s.add_argument("--image-range", type=_range, default=(0.0, 1.0), metavar="LO,HI", help="float range images map to before quantization (default 0,1)")
        s.add_argument("--seed", type=int, default=0)
        s.add_argument("--json", action="store_true")
        s.add_argument("--ram-budget", type=int, metavar="BYTES", help="arena limit: evict tensors to an external memory")
        s.add_argument("--pools", metavar="SPEC", help=POOLS_HELP + "; with --board: its RAM regions, or auto")
        if name == "run":
            s.add_argument("--output", metavar="FILE", help="save outputs (.npy: the first, .npz: all)")
            s.add_argument("--board", help="run the firmware on a board: under QEMU for qemu-* boards, else flashed and read over its serial port")
            s.add_argument("--prefer", choices=("memory", "speed"), default="memory", help=PREFER_HELP)
            s.add_argument("--port", help="serial port of a hardware board (default: the first /dev/ttyACM* or /dev/ttyUSB*)")
            s.add_argument("--timeout", type=float, default=120.0, help="seconds before a QEMU run counts as hung")
        else:
            s.add_argument("--random", type=int, default=None, metavar="N", help="also check N seeded random inputs (default 3 without --input)")
            s.add_argument("--layers", action="store_true", help="compare every intermediate tensor too")

    s = sub.add_parser("build", help="firmware for a board, with a flash/RAM size report")
    s.add_argument("model", help="a .tflite model or a folder written by `evo compile`")
    s.add_argument("--board", required=True)
    s.add_argument("-o", "--output", metavar="DIR", help="build folder (default build/fw/<name>-<board>)")
    s.add_argument("--input", metavar="FILE", help="input embedded in the firmware (default: seeded random)")
    s.add_argument("--image-range", type=_range, default=(0.0, 1.0), metavar="LO,HI")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--ram-budget", type=int, metavar="BYTES", help="arena limit: evicted tensors go to the board's slowest RAM region")
    s.add_argument("--pools", metavar="SPEC", help="memory pools in the board's RAM regions: auto, or REGION[:BYTES],... fastest first")
    s.add_argument("--prefer", choices=("memory", "speed"), default="memory", help=PREFER_HELP)
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("profile", help="per-layer instruction counts under QEMU")
    s.add_argument("model")
    s.add_argument("--board", required=True)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--plot", metavar="PNG", help="also draw a bar chart")
    s.add_argument("--functions", type=int, nargs="?", const=15, default=0, metavar="N",
                   help="also the N functions (kernels) that execute the most instructions (default 15)")
    s.add_argument("--prefer", choices=("memory", "speed"), default="memory", help=PREFER_HELP)
    s.add_argument("--timeout", type=float, default=120.0)
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("flash", help="program a hardware board with firmware from `evo build`")
    s.add_argument("folder", help="the build folder written by `evo build`")
    s.add_argument("--board", required=True)
    s.add_argument("--dry-run", action="store_true", help="print the command instead of running it")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("plan", help="memory plan: buffers, lifetimes, offsets, lower bound, TFLM comparison")
    s.add_argument("model")
    s.add_argument("--ram-budget", type=int, metavar="BYTES", help="arena limit: evict tensors to an external memory")
    s.add_argument("--pools", metavar="SPEC", help=POOLS_HELP)
    s.add_argument("--png", metavar="FILE", help="draw memory over time")
    s.add_argument("--no-tflm", action="store_true", help="skip TFLM's arena figure")
    s.add_argument("--json", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except EvoError as e:
        print(f"evo: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("evo: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `evo ... | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _dispatch(args) -> int:
    from evo import commands

    if args.command == "plan":
        from evo.plan import plan_model, plan_text

        r = plan_model(args.model, args.ram_budget, args.png, tflm=not args.no_tflm, pools=commands.host_pools(args.pools))
        print(json.dumps(r, indent=1) if args.json else plan_text(r))
        return 0
    if args.command == "inspect":
        r = commands.inspect_model(args.model)
        print(json.dumps(r, indent=1) if args.json else _inspect_text(r))
        return 0
    if args.command == "compile":
        r = commands.compile_model(args.model, args.output, args.name, quant=_quant_opts(args), ram_budget=args.ram_budget,
                                   pools=args.pools, board=args.board, prefer=args.prefer)
        if args.json:
            print(json.dumps(r, indent=1))
        else:
            print(f"wrote {args.output}/ ({len(r['files'])} files) for '{r['name']}'")
            print(f"  ops {r['ops']}, MACs {r['macs']:,}")
            print(f"  arena   {kib(r['arena_bytes'])} (lower bound {r['lower_bound_bytes']:,} B)")
            print(f"  weights {kib(r['weight_bytes'])}")
            for line in _memory_text(r):
                print(f"  {line}")
        return 0
    if args.command == "quantize":
        r = commands.quantize_model(args.model, args.output, _quant_opts(args))
        if args.json:
            print(json.dumps(r, indent=1))
        else:
            prec = f"int8 + 16x8 on {len(r['int16_ops'])} operators" if r["int16_ops"] else "int8"
            print(f"wrote {r['output']} ({r['bytes']:,} B, {prec}, {r['method']}, {'per-channel' if r['per_channel'] else 'per-tensor'} weights, {r['samples']} calibration samples)")
            for io in r["inputs"] + r["outputs"]:
                q = f" scale={io['scale']:.6g} zero_point={io['zero_point']}" if io["scale"] is not None else ""
                print(f"  {io['kind']:6} {io['name']}: {io['dtype']}{io['shape']}{q}")
            if r["int16_ops"]:
                print(f"  16x8   operators {', '.join(map(str, r['int16_ops']))} of the float model" + (f" ({r['int16_rule']})" if r["int16_rule"] else ""))
        return 0
    if args.command == "run" and args.board:
        r = commands.run_on_board(args.model, args.board, args.input, args.seed, args.image_range, args.timeout, args.port,
                                  ram_budget=args.ram_budget, pools=args.pools, prefer=args.prefer)
        arrays = r.pop("_arrays")
        if args.output:
            commands.save_outputs(args.output, list(r["outputs"]), arrays)
        print(json.dumps(r) if args.json else _board_run_text(r))
        return 0
    if args.command == "build":
        r = commands.build_for_board(args.model, args.board, args.output, args.input, args.seed, args.image_range,
                                     ram_budget=args.ram_budget, pools=args.pools, prefer=args.prefer)
        print(json.dumps(r, indent=1) if args.json else _build_text(r))
        return 0
    if args.command == "profile":
        r = commands.profile_on_board(args.model, args.board, args.seed, args.plot, args.timeout, args.functions, args.prefer)
        print(json.dumps(r, indent=1) if args.json else _profile_text(r))
        return 0
    if args.command == "flash":
        r = commands.flash_board(args.folder, args.board, args.dry_run)
        print(json.dumps(r, indent=1) if args.json else (r["command_line"] if args.dry_run else r.get("message", "flashed")))
        return 0
    if args.command == "run":
        r = commands.run_model(args.model, args.input, args.seed, args.image_range, ram_budget=args.ram_budget, pools=args.pools)
        arrays = r.pop("_arrays")
        if args.output:
            commands.save_outputs(args.output, list(r["outputs"]), arrays)
        print(json.dumps(r) if args.json else _run_text(r))
        return 0
    if args.command == "verify":
        n = args.random if args.random is not None else (0 if args.input else 3)
        r = commands.verify_model(args.model, args.input, n, args.seed, args.layers, args.image_range,
                                  ram_budget=args.ram_budget, pools=args.pools)
        print(json.dumps(r, indent=1) if args.json else _verify_text(r))
        return 0 if r["match"] else 1
    raise AssertionError(args.command)


def _inspect_text(r: dict) -> str:
    lines = [f"model {r['model']}: {len(r['ops'])} ops, {r['tensors']} tensors"]
    for kind in ("inputs", "outputs"):
        for io in r[kind]:
            q = f" scale={io['scale']:.6g} zero_point={io['zero_point']}" if io["scale"] is not None else ""
            lines.append(f"  {kind[:-1]:6} {io['name']}: {io['dtype']}{io['shape']}{q}")
    rows = [[o["index"], o["op"] + ("" if o["supported"] else "  (unsupported)"), str(o["output_shape"]), o["dtype"], o["macs"], o["params"]] for o in r["ops"]]
    lines += ["", table(["#", "op", "output", "dtype", "MACs", "params"], rows, "rllrrr"), ""]
    lines.append(f"MACs {r['macs']:,}   parameters {r['params']:,}   constant data {kib(r['const_bytes'])}")
    if r["arena_bytes"] is not None:
        lines.append(f"arena {kib(r['arena_bytes'])} (lower bound {r['lower_bound_bytes']:,} B)")
    b = r.get("binary")
    if b and b.get("layers"):
        lines.append(
            f"binary layers {len(b['layers'])}: packed weights {b['packed_weight_bytes']:,} B "
            f"(int8 would be {b['int8_weight_bytes']:,} B, float {b['float_weight_bytes']:,} B: "
            f"{b['int8_weight_bytes'] / max(b['packed_weight_bytes'], 1):.1f}x smaller than int8)"
        )
        kinds = {"int32": "bit-packed"}
        for L in b["layers"]:
            src = f", binarized from {L['binarized_from']}" if L.get("binarized_from") else ""
            lines.append(f"  #{L['index']} {L['op'].split(':')[-1]}: {kinds.get(L.get('input'), L.get('input'))} in, "
                         f"{kinds.get(L.get('output'), L.get('output'))} out, {L['packed_bytes']:,} B packed weights{src}")
    if r["unsupported_ops"]:
        lines.append(f"unsupported operators: {', '.join(r['unsupported_ops'])}")
    if r["problem"]:
        lines.append(f"cannot compile: {r['problem']}")
    return "\n".join(lines)


def _run_text(r: dict) -> str:
    lines = [f"input: {r['input']}"]
    for name, vals in r["outputs"].items():
        import numpy as np

        v, dq = np.asarray(vals), np.asarray(r["dequantized"][name])
        flat = v.reshape(-1)
        shown = np.array2string(flat[:16], separator=", ") + (" ..." if flat.size > 16 else "")
        lines.append(f"output {name} {list(v.shape)}: {shown}")
        if dq.size > 1:
            lines.append(f"  argmax {int(np.argmax(dq))} (value {float(dq.reshape(-1)[np.argmax(dq)]):.4g})")
    lines.append(f"arena {kib(r['arena_bytes'])}, weights {kib(r['weight_bytes'])}")
    return "\n".join(lines)


def _verify_text(r: dict) -> str:
    def status(c):
        if c["bit_exact"]:
            return "bit-exact"
        return f"{'within tolerance' if c['match'] else 'MISMATCH'}, max abs diff {c['max_abs_diff']:.3g}"

    lines = [f"{r['model']}: EVO (host C) vs TFLM on {r['runs']} input(s)"]
    rows = [[c["name"], c["dtype"], status(c)] for c in r["outputs"]]
    lines.append(table(["output", "dtype", "result"], rows, "lll"))
    if r["layers"]:
        exact = sum(1 for c in r["layers"] if c["bit_exact"])
        lines.append(f"\nintermediate tensors: {exact}/{len(r['layers'])} bit-exact")
        if r.get("streamed_tensors"):
            n = r["streamed_tensors"]
            lines.append(f"({n} more {'exists' if n == 1 else 'exist'} only as line buffers of a row-streamed group: checked through its output)")
        bad = [[c["name"], c["dtype"], status(c)] for c in r["layers"] if not c["bit_exact"]]
        if bad:
            lines.append(table(["tensor", "dtype", "result"], bad, "lll"))
    lines.append(f"\n{'PASS' if r['match'] else 'FAIL'}: " + ("all outputs bit-exact" if r["bit_exact"] else f"max abs diff {r['max_abs_diff']:.3g}"))
    lines.append(f"arena {kib(r['arena_bytes'])}, weights {kib(r['weight_bytes'])}")
    return "\n".join(lines)


def _sizes_text(r: dict) -> list[str]:
    return [
        f"flash {r['flash_bytes']:,} / {r['flash_capacity']:,} B: weights {r['flash_weights']:,}, code {r['flash_code']:,}, other {r['flash_other']:,}",
        f"RAM   {r['ram_bytes']:,} / {r['ram_capacity']:,} B: arena {r['ram_arena']:,}, stack {r['ram_stack']:,}, other {r['ram_other']:,}",
    ] + [f"region {name}: {used:,} B" for name, used in r.get("regions", {}).items()]


def _memory_text(r: dict) -> list[str]:
    lines = []
    if r.get("pools"):
        lines.append("pools: " + ", ".join(f"{p['name']} {p['bytes']:,} B" for p in r["pools"]))
    if r.get("ext_bytes"):
        lines.append(f"external memory {r['ext_bytes']:,} B, {r['moved_bytes']:,} B moved per inference")
    k = r.get("kernels")
    if k:
        n = len(k["memory_fallback"])
        kept = f", {n} kept portable to hold the arena (--prefer speed uses them all)" if n else ""
        lines.append(f"kernels: {len(k['specialised'])} ops specialised for {k['target']}{kept}")
    return lines


def _build_text(r: dict) -> str:
    return "\n".join([f"built {r['firmware']} for {r['board']}"] + ["  " + ln for ln in _sizes_text(r) + _memory_text(r)])


def _board_run_text(r: dict) -> str:
    import numpy as np

    where = f"QEMU {r['machine']}" if r["machine"] else "hardware"
    lines = [f"{r['board']} ({where}): exit status {r['exit_status']}, outputs {'bit-exact with' if r['host_bit_exact'] else 'within float tolerance of'} the host run"]
    for name, vals in r["outputs"].items():
        flat = np.asarray(vals).reshape(-1)
        lines.append(f"output {name}: {np.array2string(flat[:16], separator=', ')}{' ...' if flat.size > 16 else ''}")
    if r.get("cycles") is not None:
        ms = r["cycles"] / r["cpu_hz"] * 1e3
        lines.append(f"cycles per inference {r['cycles']:,} (DWT) = {ms:.2f} ms at {r['cpu_hz'] / 1e6:.0f} MHz")
    else:
        ipm = r["instructions"] / r["macs"] if r["macs"] else float("nan")
        lines.append(f"instructions per inference {r['instructions']:,} ({ipm:.2f} per MAC; emulated instructions, not cycles)")
    lines.append(f"stack used {r['stack_used_bytes']:,} B")
    lines += _sizes_text(r["sizes"]) + _memory_text(r)
    return "\n".join(lines)


def _profile_text(r: dict) -> str:
    rows = [[layer["index"], layer["op"], layer["macs"], layer["instructions"],
             f"{layer['instructions_per_mac']:.2f}" if layer["instructions_per_mac"] else "-", f"{layer['share'] * 100:.1f}%"] for layer in r["layers"]]
    lines = [f"{r['board']}: {r['instructions']:,} instructions per inference, {r['macs']:,} MACs", ""]
    lines.append(table(["#", "op", "MACs", "instructions", "instr/MAC", "share"], rows, "rlrrrr"))
    if r.get("functions"):
        total = max(r["program_instructions"], 1)
        rows = [[f["name"], f["instructions"], f"{f['instructions'] / total * 100:.1f}%"] for f in r["functions"]]
        lines += ["", "functions (the whole program, start-up included):", table(["function", "instructions", "share"], rows, "lrr")]
    if r.get("plot"):
        lines.append(f"\nwrote {r['plot']}")
    return "\n".join(lines)
