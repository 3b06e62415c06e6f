"""Board descriptions: one TOML file per board in boards/ (core flags, memory map, console, ...).

Adding a board is adding one file; nothing in the build changes."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from evo.errors import EvoError

BOARDS_DIR = Path(__file__).resolve().parents[2] / "boards"


@dataclass
class Region:
    origin: int
    size: int


@dataclass
class RamRegion(Region):
    """A RAM region the linker can place memory pools (and the external memory) in."""

    name: str = "ram"
    rank: int = 0  # speed rank: 0 fastest; larger is slower


@dataclass
class Board:
    name: str
    description: str
    core: str
    cflags: list[str]
    clock_hz: int
    stack_bytes: int
    console: str
    cycle_counter: str
    flash: Region
    ram: Region
    sources: list[str] = field(default_factory=list)  # relative to boards/
    defines: list[str] = field(default_factory=list)
    qemu_machine: str | None = None
    flash_tool: dict = field(default_factory=dict)
    path: Path | None = None
    # Every RAM region, fastest first: `ram` (stack, .data, .bss, the single arena) and any
    # further [memory.<name>] table with origin, size and rank.
    regions: list[RamRegion] = field(default_factory=list)

    @property
    def emulated(self) -> bool:
        return self.qemu_machine is not None

    def region(self, name: str) -> RamRegion:
        for r in self.regions:
            if r.name == name:
                return r
        raise EvoError(f"board {self.name} has no RAM region '{name}'",
                       f"choose from its regions: {', '.join(r.name for r in self.regions)} (boards/{self.name}.toml)")

    @property
    def ext_region(self) -> RamRegion:
        """Where the external memory of a --ram-budget build goes: the slowest region."""
        return max(self.regions, key=lambda r: (r.rank, r.name != "ram", r.size))


def board_names() -> list[str]:
    return sorted(p.stem for p in BOARDS_DIR.glob("*.toml"))


def load_board(name: str) -> Board:
    path = BOARDS_DIR / f"{name}.toml"
    if not path.is_file():
        raise EvoError(f"unknown board '{name}'", f"choose one of: {', '.join(board_names())}")
    try:
        d = tomllib.loads(path.read_text())
        mem = d["memory"]
        regions = [RamRegion(int(v["origin"]), int(v["size"]), name, int(v.get("rank", 0)))
                   for name, v in mem.items() if name != "flash"]
        for r in regions:
            if not r.name.isidentifier() or r.name != r.name.lower() or r.name in ("ext", "arena", "pools"):
                raise ValueError(f"RAM region name '{r.name}' must be a lowercase C identifier other than ext/arena/pools")
        return Board(
            name=name,
            description=d.get("description", name),
            core=d["core"],
            cflags=list(d["cflags"]),
            clock_hz=int(d["clock_hz"]),
            stack_bytes=int(d.get("stack_bytes", 4096)),
            console=d.get("console", "semihosting"),
            cycle_counter=d.get("cycle_counter", "none"),
            flash=Region(int(mem["flash"]["origin"]), int(mem["flash"]["size"])),
            ram=Region(int(mem["ram"]["origin"]), int(mem["ram"]["size"])),
            sources=list(d.get("sources", [])),
            defines=list(d.get("defines", [])),
            qemu_machine=d.get("qemu", {}).get("machine"),
            flash_tool=dict(d.get("flash", {})),
            path=path,
            regions=sorted(regions, key=lambda r: (r.rank, r.name != "ram", r.name)),
        )
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as e:
        raise EvoError(f"board file {path.name} is invalid ({type(e).__name__}: {e})", "see boards/README.md for the format") from None
