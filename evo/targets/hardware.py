"""Run firmware on a real board: flash it, then read the harness's lines from the probe's
virtual serial port (ST-LINK/J-Link VCP, 115200 8N1). Cycles come from the DWT counter."""
from __future__ import annotations

import glob
import time
from pathlib import Path

from evo.errors import EvoError
from evo.targets.firmware import Firmware
from evo.targets.flash import flash
from evo.targets.qemu import QemuRun, parse_console

BAUD = 115200


def find_port() -> str:
    ports = sorted(glob.glob("/dev/ttyACM*")) + sorted(glob.glob("/dev/ttyUSB*"))
    if not ports:
        raise EvoError("no serial port of a board found (/dev/ttyACM*, /dev/ttyUSB*)", "connect the board's USB, or pass --port")
    return ports[0]


def run_on_hardware(fw: Firmware, port: str | None, timeout: float) -> QemuRun:
    try:
        import serial  # pyserial
    except ImportError:
        raise EvoError("reading a board's console needs pyserial", "pip install pyserial") from None
    port = port or find_port()
    try:
        conn = serial.Serial(port, BAUD, timeout=0.2)
    except (OSError, serial.SerialException) as e:
        raise EvoError(f"cannot open {port}: {e}", "check the port and its permissions (dialout group)") from None
    with conn:
        conn.reset_input_buffer()
        flash(fw.board, Path(fw.build_dir), dry_run=False)  # resets the board: the harness runs once
        text, deadline = "", time.monotonic() + timeout
        while "EVO-STACK" not in text and "EVO-EXIT" not in text and time.monotonic() < deadline:
            text += conn.read(4096).decode("ascii", "replace")
        while "EVO-EXIT" not in text and time.monotonic() < deadline:  # the exit line follows the stack line
            chunk = conn.read(256).decode("ascii", "replace")
            if not chunk:
                break
            text += chunk
    text = text.replace("\r\n", "\n")
    if "EVO-STATUS" not in text:
        raise EvoError(f"no result from {fw.board.name} on {port} within {timeout:.0f} s", "check the port, the baud rate (115200) and that the board was flashed")
    code = next((int(line.split()[1]) for line in text.splitlines() if line.startswith("EVO-EXIT ")), 0)
    return parse_console(fw, code, text)
