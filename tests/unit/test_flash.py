"""`evo flash` command construction: the exact command per hardware board (as text), and the
errors for missing firmware, emulated boards, a missing tool and a missing probe. No test runs a
real flash tool: with a board plugged in, that would reprogram it."""
import subprocess
from pathlib import Path

import pytest

from evo.errors import EvoError
from evo.targets import flash as flash_mod
from evo.targets.boards import board_names, load_board
from evo.targets.flash import NO_PROBE_MESSAGE, flash, flash_command

EXPECTED = {
    "nucleo-f446re": "openocd -f interface/stlink.cfg -f target/stm32f4x.cfg -c 'program {d}/fw.elf verify reset exit'",
    "nucleo-l4r5zi": "openocd -f interface/stlink.cfg -f target/stm32l4x.cfg -c 'program {d}/fw.elf verify reset exit'",
    "nucleo-h7a3zi": "openocd -f interface/stlink.cfg -f target/stm32h7x.cfg -c 'program {d}/fw.elf verify reset exit'",
    "nrf52840dk": "pyocd flash -W -t nrf52840 --format hex {d}/fw.hex",
    "nrf5340dk": "pyocd flash -W -t nrf5340_xxaa --format hex {d}/fw.hex",
}


@pytest.fixture
def fw_dir(tmp_path: Path) -> Path:
    for name in ("fw.elf", "fw.hex", "fw.bin"):
        (tmp_path / name).write_bytes(b"\0")
    return tmp_path


def test_every_hardware_board_is_covered():
    hardware = {n for n in board_names() if not load_board(n).emulated}
    assert hardware == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_dry_run_command_text(name, fw_dir):
    r = flash(load_board(name), fw_dir, dry_run=True)
    assert r["command_line"] == EXPECTED[name].format(d=fw_dir)
    assert r["command"] == flash_command(load_board(name), fw_dir)
    assert r["dry_run"] is True and r["board"] == name
    assert r["tool"] == r["command"][0]


def test_pack_target_says_how_to_get_the_pack(fw_dir):
    r = flash(load_board("nrf5340dk"), fw_dir, dry_run=True)
    assert "pyocd pack install nrf5340" in r["note"]
    assert "note" not in flash(load_board("nrf52840dk"), fw_dir, dry_run=True)


def test_openocd_path_with_spaces_is_braced(tmp_path):
    d = tmp_path / "my build"
    d.mkdir()
    (d / "fw.elf").write_bytes(b"\0")
    cmd = flash_command(load_board("nucleo-f446re"), d)
    assert cmd[-1] == "program {" + str(d / "fw.elf") + "} verify reset exit"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_missing_firmware(name, tmp_path):
    with pytest.raises(EvoError) as e:
        flash(load_board(name), tmp_path / "nothing", dry_run=True)
    msg = str(e.value)
    assert "\n" not in msg
    assert f"run `evo build MODEL --board {name}" in msg and "first" in msg


@pytest.mark.parametrize("name", [n for n in board_names() if n.startswith("qemu-")])
def test_emulated_board(name, fw_dir):
    with pytest.raises(EvoError, match=rf"^{name} is emulated: use `evo run --board {name}`"):
        flash(load_board(name), fw_dir, dry_run=True)


def test_missing_tool_names_the_install(fw_dir, monkeypatch):
    monkeypatch.setattr(flash_mod.shutil, "which", lambda tool: None)
    monkeypatch.setattr(flash_mod.sys, "executable", str(fw_dir / "python"))  # no venv copy either
    with pytest.raises(EvoError, match=r"pyocd was not found on PATH \(install it: pip install pyocd\)"):
        flash(load_board("nrf52840dk"), fw_dir, dry_run=False)
    with pytest.raises(EvoError, match=r"apt-get install --no-install-recommends openocd"):
        flash(load_board("nucleo-f446re"), fw_dir, dry_run=False)


# What pyocd 0.46 and openocd 0.12 print without a probe (captured on a machine without one).
NO_PROBE_OUTPUTS = [
    ("nrf52840dk", "No connected debug probes\n"),
    ("nucleo-f446re", "Info : clock speed 2000 kHz\nError: open failed\nin procedure 'program'\n** OpenOCD init failed **\n"),
    ("nucleo-h7a3zi", "Error: unable to find a matching CMSIS-DAP device\n"),
    ("nucleo-l4r5zi", "Error: init mode failed (unable to connect to the target)\n"),
]


@pytest.mark.parametrize("name,output", NO_PROBE_OUTPUTS)
def test_no_probe_is_one_clear_line(name, output, fw_dir, monkeypatch):
    calls = []

    def fake_run(cmd, **kw):
        calls.append((cmd, kw))
        return subprocess.CompletedProcess(cmd, 1, stdout="", stderr=output)

    monkeypatch.setattr(flash_mod, "_tool_path", lambda tool: "/usr/bin/" + tool)
    monkeypatch.setattr(flash_mod.subprocess, "run", fake_run)
    with pytest.raises(EvoError) as e:
        flash(load_board(name), fw_dir, dry_run=False)
    assert str(e.value) == NO_PROBE_MESSAGE
    (cmd, kw), = calls
    assert cmd[1:] == flash_command(load_board(name), fw_dir)[1:] and kw["timeout"] > 0


def test_success_and_other_failures(fw_dir, monkeypatch):
    monkeypatch.setattr(flash_mod, "_tool_path", lambda tool: tool)
    ok = subprocess.CompletedProcess([], 0, stdout="[====] 100%\n", stderr="")
    monkeypatch.setattr(flash_mod.subprocess, "run", lambda cmd, **kw: ok)
    r = flash(load_board("nrf52840dk"), fw_dir, dry_run=False)
    assert r["dry_run"] is False and "100%" in r["output"]

    bad = subprocess.CompletedProcess([], 1, stdout="", stderr="0000 C Target type nrf5340_xxaa not recognized.\n")
    monkeypatch.setattr(flash_mod.subprocess, "run", lambda cmd, **kw: bad)
    with pytest.raises(EvoError, match=r"pyocd pack install nrf5340"):
        flash(load_board("nrf5340dk"), fw_dir, dry_run=False)

    def timeout(cmd, **kw):
        raise subprocess.TimeoutExpired(cmd, kw["timeout"])

    monkeypatch.setattr(flash_mod.subprocess, "run", timeout)
    with pytest.raises(EvoError, match=r"openocd did not finish"):
        flash(load_board("nucleo-f446re"), fw_dir, dry_run=False)
