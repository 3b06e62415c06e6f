"""Board files: every one loads; every hardware board's firmware (with its register-level board
support from boards/hw/, built -Wall -Wextra -Werror) builds for the digits model, starts with
its vector table at the flash origin and fits its memory. QEMU cannot run these chips, so this is
what can be checked without the hardware."""
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from evo.targets.boards import BOARDS_DIR, board_names, load_board

ROOT = Path(__file__).resolve().parents[2]
HARDWARE = {
    # name: (core, clock_hz, flash origin, flash size, RAM origin, RAM size, flash tool)
    "nucleo-f446re": ("cortex-m4", 180_000_000, 0x08000000, 512 << 10, 0x20000000, 128 << 10, "openocd"),
    "nucleo-l4r5zi": ("cortex-m4", 120_000_000, 0x08000000, 2 << 20, 0x20000000, 640 << 10, "openocd"),
    "nucleo-h7a3zi": ("cortex-m7", 280_000_000, 0x08000000, 2 << 20, 0x24000000, 1 << 20, "openocd"),
    "nrf52840dk": ("cortex-m4", 64_000_000, 0x00000000, 1 << 20, 0x20000000, 256 << 10, "pyocd"),
    "nrf5340dk": ("cortex-m33", 128_000_000, 0x00000000, 1 << 20, 0x20000000, 512 << 10, "pyocd"),
}
needs_gcc = pytest.mark.skipif(not shutil.which("arm-none-eabi-gcc"), reason="arm-none-eabi-gcc is not installed")


@pytest.mark.parametrize("name", board_names())
def test_every_board_loads(name):
    b = load_board(name)
    assert b.cflags and b.clock_hz > 0 and b.flash.size > 0 and b.ram.size > b.stack_bytes
    for src in ["common/startup.c"] + b.sources:
        assert (BOARDS_DIR / src).is_file(), src
    assert b.emulated == name.startswith("qemu-")
    if not b.emulated:
        assert b.flash_tool.get("tool") in ("pyocd", "openocd") and b.flash_tool.get("target")


@pytest.mark.parametrize("name", sorted(HARDWARE))
def test_hardware_board_facts(name):
    b = load_board(name)
    core, clock, fo, fs, ro, rs, tool = HARDWARE[name]
    assert (b.core, b.clock_hz, b.flash.origin, b.flash.size, b.ram.origin, b.ram.size) == (core, clock, fo, fs, ro, rs)
    assert b.console == "uart" and b.cycle_counter == "dwt" and b.flash_tool["tool"] == tool
    assert f"-mcpu={core}" in b.cflags and "-mfloat-abi=hard" in b.cflags
    assert "hw/console.c" in b.sources and "hw/dwt.c" in b.sources


@pytest.fixture(scope="module")
def digits():
    from evo.compiler import compile_graph
    from evo.frontend.tflite_reader import load_model
    from evo.inputs import random_inputs

    _, g = load_model(str(ROOT / "examples" / "digits" / "digits_int8.tflite"))
    return compile_graph(g), random_inputs(g, 0)


@needs_gcc
@pytest.mark.parametrize("name", sorted(HARDWARE))
def test_hardware_firmware_builds(name, digits, tmp_path):
    from evo.targets.firmware import build_firmware

    compiled, inputs = digits
    b = load_board(name)
    fw = build_firmware(compiled, b, inputs, tmp_path / name)
    s = fw.sizes
    assert s["fits"] and 0 < s["flash_bytes"] <= b.flash.size and 0 < s["ram_bytes"] <= b.ram.size

    # The vector table is the first thing at the flash origin (where the core fetches SP and PC).
    headers = subprocess.run(["arm-none-eabi-objdump", "-h", str(fw.elf)], capture_output=True, text=True, check=True).stdout
    vma = {m.group(1): int(m.group(2), 16) for m in re.finditer(r"^\s*\d+\s+(\S+)\s+[0-9a-f]+\s+([0-9a-f]+)", headers, re.M)}
    assert vma[".isr_vector"] == b.flash.origin
    assert min(v for k, v in vma.items() if k in (".isr_vector", ".text", ".rodata")) == b.flash.origin
    sp, reset = struct.unpack("<II", (fw.build_dir / "fw.bin").read_bytes()[:8])
    assert sp == b.ram.origin + b.ram.size  # initial MSP: top of the board's RAM
    assert reset & 1 and b.flash.origin <= reset < b.flash.origin + s["flash_bytes"]  # Thumb, in flash

    # The board support is linked in: the UART console and the DWT cycle counter.
    symbols = subprocess.run(["arm-none-eabi-nm", str(fw.elf)], capture_output=True, text=True, check=True).stdout
    for sym in ("evo_board_init", "evo_console_write", "hw_uart_write", "hw_dwt_init", "evo_cycles", "evo_board_exit"):
        assert re.search(rf"\b[Tt] {sym}$", symbols, re.M), sym
    assert (fw.build_dir / "fw.hex").is_file()


STUB = r"""
#include <stdio.h>
#include <stdlib.h>
#include "evo_board.h"
#include "hw/hw.h"
void hw_uart_write(const uint8_t *buf, uint32_t n) { fwrite(buf, 1, n, stdout); }
void hw_uart_flush(void) { fflush(stdout); exit(0); } /* evo_board_exit never returns on hardware */
int main(int argc, char **argv)
{
    evo_console_write("EVO-STATUS 0\nline two\n");
    evo_console_write("0123456789012345678901234567890123456789012345678901234567890\n\n");
    evo_board_exit(argc > 1 ? atoi(argv[1]) : 0);
}
"""


@pytest.mark.skipif(not shutil.which("gcc"), reason="host gcc is not installed")
@pytest.mark.parametrize("code", ["0", "3", "-7", "255"])
def test_console_crlf_and_exit_line(code, tmp_path):
    """hw/console.c on the host with a stub UART: LF becomes CR LF, also across the chunk
    boundary, and exit reports `EVO-EXIT <code>`."""
    (tmp_path / "main.c").write_text(STUB)
    exe = tmp_path / "console"
    flags = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-I", str(BOARDS_DIR / "common"), "-I", str(BOARDS_DIR)]
    subprocess.run(["gcc", *flags, "-o", str(exe), str(tmp_path / "main.c"), str(BOARDS_DIR / "hw" / "console.c")], check=True)
    out = subprocess.run([str(exe), code], capture_output=True, check=True).stdout
    digits = b"0123456789" * 6 + b"0"
    assert out == b"EVO-STATUS 0\r\nline two\r\n" + digits + b"\r\n\r\nEVO-EXIT " + code.encode() + b"\r\n"
