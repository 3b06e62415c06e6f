"""`evo flash`: program a hardware board with the firmware `evo build` wrote, through the tool its
board file names in its [flash] table:

  pyocd    pyocd flash -W -t <target> --format hex <dir>/fw.hex
           (-W / --no-wait: without a probe pyocd would otherwise wait for one forever)
  openocd  openocd -f <interface> -f <target cfg> -c "program <dir>/fw.elf verify reset exit"

Emulated (qemu-*) boards have nothing to flash: they run under `evo run`."""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from evo.errors import EvoError
from evo.targets.boards import Board

TIMEOUT_S = 180.0
INSTALL_HINTS = {
    "pyocd": "pip install pyocd",
    "openocd": "apt-get install --no-install-recommends openocd",
}
# What each tool prints when no probe is plugged in (pyocd 0.46 with -W; openocd 0.12 with an
# ST-LINK or CMSIS-DAP interface), checked on a machine without a probe.
NO_PROBE = re.compile(
    r"No connected debug probes|No available debug probes|\bopen failed\b|"
    r"unable to find a matching CMSIS-DAP|Error: init mode failed",
    re.IGNORECASE,
)
NO_PROBE_MESSAGE = "no debug probe found: connect the board's USB (ST-LINK/J-Link) and retry"
UNKNOWN_TARGET = re.compile(r"Target type \S+ not recognized", re.IGNORECASE)


def _tcl_word(path: str) -> str:
    # openocd's -c argument is Tcl: a path with spaces or Tcl metacharacters needs braces.
    return "{" + path + "}" if re.search(r"[\s{}\[\]$;\"\\]", path) else path


def _firmware(board: Board, firmware_dir: Path, name: str) -> Path:
    fw = Path(firmware_dir) / name
    if not fw.is_file():
        raise EvoError(
            f"no firmware to flash: {fw} does not exist",
            f"run `evo build MODEL --board {board.name} -o {firmware_dir}` first",
        )
    return fw


def flash_command(board: Board, firmware_dir: Path) -> list[str]:
    """The exact command that programs `board` with the firmware in `firmware_dir`."""
    if board.emulated:
        raise EvoError(f"{board.name} is emulated: use `evo run --board {board.name}`", "`evo flash` programs hardware boards")
    spec = board.flash_tool
    tool, target = spec.get("tool"), spec.get("target")
    if tool not in INSTALL_HINTS or not target:
        raise EvoError(
            f"board file {board.name}.toml has no usable [flash] table (tool = {tool!r}, target = {target!r})",
            'it needs tool = "pyocd" or "openocd" and a target; see boards/README.md',
        )
    if tool == "pyocd":
        fw = _firmware(board, firmware_dir, "fw.hex")
        return ["pyocd", "flash", "-W", "-t", str(target), "--format", "hex", str(fw)]
    fw = _firmware(board, firmware_dir, "fw.elf")
    interface = spec.get("interface", "interface/stlink.cfg")
    return ["openocd", "-f", str(interface), "-f", str(target), "-c", f"program {_tcl_word(str(fw))} verify reset exit"]


def _tool_path(tool: str) -> str:
    local = Path(sys.executable).parent / tool  # installed into EVO's own virtualenv
    if local.exists():
        return str(local)
    path = shutil.which(tool)
    if not path:
        raise EvoError(f"{tool} was not found on PATH", f"install it: {INSTALL_HINTS[tool]}")
    return path


def flash(board: Board, firmware_dir: Path, dry_run: bool) -> dict:
    """Program `board`; with dry_run, only say how. Raises EvoError with a one-line reason."""
    cmd = flash_command(board, firmware_dir)
    tool = cmd[0]
    result = dict(
        board=board.name,
        tool=tool,
        firmware=cmd[-1] if tool == "pyocd" else str(Path(firmware_dir) / "fw.elf"),
        command=cmd,
        command_line=shlex.join(cmd),
        dry_run=dry_run,
    )
    if board.flash_tool.get("pack"):
        result["note"] = f"target {cmd[4]} comes from a CMSIS pack: run `pyocd pack install {board.flash_tool['pack']}` once (needs internet)"
    if dry_run:
        return result
    exe = _tool_path(tool)
    try:
        proc = subprocess.run([exe] + cmd[1:], capture_output=True, text=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise EvoError(f"{tool} did not finish within {TIMEOUT_S:.0f} s", "unplug and replug the board's USB, then retry") from None
    output = (proc.stdout or "") + (proc.stderr or "")
    if proc.returncode != 0:
        if NO_PROBE.search(output):
            raise EvoError(NO_PROBE_MESSAGE)
        if tool == "pyocd" and UNKNOWN_TARGET.search(output):
            pack = board.flash_tool.get("pack", str(board.flash_tool.get("target")))
            raise EvoError(f"pyocd does not know target {cmd[4]}", f"install its CMSIS pack once (needs internet): pyocd pack install {pack}")
        lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
        err = next((ln for ln in reversed(lines) if re.search(r"error|fail", ln, re.IGNORECASE)), lines[-1] if lines else "no output")
        raise EvoError(f"{tool} failed with exit code {proc.returncode}: {err}", f"the command was: {shlex.join(cmd)}")
    result["output"] = "\n".join(output.strip().splitlines()[-5:])
    return result
