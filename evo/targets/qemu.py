"""Run firmware under QEMU with EVO's instruction-counting plugin and parse what it prints."""
from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evo.errors import EvoError
from evo.ir import DTYPES
from evo.targets.boards import Board
from evo.targets.firmware import Firmware, require_tool

PLUGIN_SOURCE = Path(__file__).resolve().parent / "qemu" / "insncount.c"
QEMU_HINT = "apt-get install --no-install-recommends qemu-system-arm"


@dataclass
class QemuRun:
    exit_code: int
    outputs: list[np.ndarray]
    status: int | None
    instructions: int  # the inference: from the first layer mark to the last
    layer_instructions: list[int]  # per scheduled op, in schedule order
    total_instructions: int  # the whole program, start-up and printing included
    stack_bytes: int | None
    console: str
    cycles: int | None = None  # DWT cycles per inference (hardware boards only)
    layer_cycles: list[int] | None = None
    functions: list[tuple[str, int]] | None = None  # (function, instructions), most first (run_qemu functions=True)


def plugin_path() -> Path:
    """Build the plugin once per source version (0.1 s with gcc) into a per-user cache."""
    from evo.targets.host import find_cc

    digest = hashlib.sha256(PLUGIN_SOURCE.read_bytes()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "evo"
    lib = cache / f"libevo_insncount-{digest}.so"
    if not lib.exists():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = lib.with_suffix(f".{os.getpid()}.tmp")
        proc = subprocess.run([find_cc(), "-O2", "-shared", "-fPIC", "-fvisibility=hidden", "-o", str(tmp), str(PLUGIN_SOURCE)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise EvoError(f"cannot build the QEMU instruction-count plugin: {proc.stderr.strip()[:200]}", "check that gcc works")
        os.replace(tmp, lib)
    return lib


def symbol_address(elf: Path, symbol: str) -> int:
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == symbol:
            return int(parts[0], 16)
    raise EvoError(f"{elf.name} has no symbol {symbol}", "rebuild the firmware with `evo build`")


def run_qemu(fw: Firmware, timeout: float = 120.0, functions: bool = False) -> QemuRun:
    """Run `fw` under QEMU; `functions`: also count instructions per function (whole program)."""
    board: Board = fw.board
    if not board.emulated:
        raise EvoError(f"{board.name} is a hardware board, not emulated", "use a qemu-* board, or `evo flash` for hardware")
    qemu = require_tool("qemu-system-arm", QEMU_HINT)
    mark = symbol_address(fw.elf, "evo_layer_hook")
    with tempfile.TemporaryDirectory(prefix="evo_qemu_") as tmp:
        counts, pcs = Path(tmp) / "counts.txt", Path(tmp) / "pcs.txt"
        plugin = f"{plugin_path()},mark={mark:#x},out={counts}" + (f",pcs={pcs}" if functions else "")
        cmd = [
            qemu, "-M", board.qemu_machine, "-nographic", "-monitor", "none", "-serial", "null",
            "-semihosting-config", "enable=on,target=native",
            "-plugin", plugin,
            "-kernel", str(fw.elf),
        ]  # fmt: skip
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise EvoError(f"the firmware did not finish within {timeout:.0f} s under QEMU ({board.qemu_machine}): it hangs", "this is an EVO bug; please report it with the model") from None
        text = counts.read_text() if counts.exists() else ""
        per_pc = pcs.read_text() if functions and pcs.exists() else None
    # QEMU writes semihosting output to stderr when stdout is not a terminal: read both.
    console = proc.stdout + proc.stderr
    if proc.returncode in (100, 101) or "EVO-FAULT" in console:
        fault = next((ln for ln in console.splitlines() if "EVO-FAULT" in ln), f"exit code {proc.returncode}")
        raise EvoError(f"the firmware faulted on {board.name}: {fault}", "this is an EVO bug; please report it with the model")
    if proc.returncode == 134:
        raise EvoError(f"QEMU aborted (lock-up) on {board.name}: the firmware's memory map does not match the machine", "check boards/{board.name}.toml")
    run = _parse(fw, proc.returncode, console, text)
    if per_pc is not None:
        run.functions = function_counts(fw.elf, per_pc)
    return run


def function_counts(elf: Path, per_pc: str) -> list[tuple[str, int]]:
    """The plugin's per-address counts ("ADDR COUNT" lines) summed per function symbol of `elf`
    (inlined helpers count in their caller), most executed first."""
    import bisect

    out = subprocess.run(["arm-none-eabi-nm", "-S", "-n", "--defined-only", str(elf)], capture_output=True, text=True, check=True).stdout
    funcs = []  # (start, end, name) of code symbols
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tTwW":
            start = int(parts[0], 16) & ~1
            funcs.append((start, start + int(parts[1], 16), parts[3]))
    starts = [f[0] for f in funcs]
    totals: dict[str, int] = {}
    for line in per_pc.splitlines():
        addr, count = (int(line.split()[0], 16), int(line.split()[1]))
        i = bisect.bisect_right(starts, addr) - 1
        name = funcs[i][2] if i >= 0 and addr < funcs[i][1] else "?"
        totals[name] = totals.get(name, 0) + count
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))


def parse_console(fw: Firmware, code: int, console: str, counts: str = "") -> QemuRun:
    """What the harness printed (EVO-OUT/STATUS/CYCLES/STACK lines) plus the plugin's counts."""
    return _parse(fw, code, console, counts)


def _parse(fw: Firmware, code: int, console: str, counts: str) -> QemuRun:
    chunks: dict[int, str] = {}
    status = stack = cycles = None
    layer_cycles: list[int] | None = None
    for line in console.splitlines():
        if line.startswith("EVO-OUT "):
            _, idx, hexdata = (line.split(" ", 2) + [""])[:3]
            chunks[int(idx)] = chunks.get(int(idx), "") + hexdata.strip()
        elif line.startswith("EVO-STATUS "):
            status = int(line.split()[1])
        elif line.startswith("EVO-STACK "):
            stack = int(line.split()[1])
        elif line.startswith("EVO-CYCLES "):
            numbers = [int(x) for x in line.split()[1:]]
            cycles, layer_cycles = numbers[0], numbers[1:]
    outputs = []
    for i, spec in enumerate(fw.model.report["outputs"]):
        if i not in chunks:
            raise EvoError(f"the firmware printed no output {i} (exit code {code})", "this is an EVO bug; please report it with the model")
        raw = bytes.fromhex(chunks[i])
        outputs.append(np.frombuffer(raw, dtype=DTYPES[spec["dtype"]]).reshape(spec["shape"]).copy())
    total, marks = 0, []
    for line in counts.splitlines():
        if line.startswith("total="):
            total = int(line[6:])
        elif line.startswith("marks=") and len(line) > 6:
            marks = [int(x) for x in line[6:].split(",")]
    layers = [b - a for a, b in zip(marks, marks[1:])]
    return QemuRun(
        exit_code=code,
        outputs=outputs,
        status=status,
        instructions=(marks[-1] - marks[0]) if marks else 0,
        layer_instructions=layers,
        total_instructions=total,
        stack_bytes=stack,
        console=console,
        cycles=cycles,
        layer_cycles=layer_cycles,
    )
