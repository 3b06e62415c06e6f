"""What the generated C runs on. Kernels may specialise by it at generation time (weight layout,
loop shape); C built for one core must not be linked for another."""
from __future__ import annotations

from dataclasses import dataclass

from evo.errors import EvoError

# Board TOML `core` names -> EVO's short core names.
CORES = {"host": "host", "cortex-m0": "M0", "cortex-m0plus": "M0", "cortex-m3": "M3", "cortex-m4": "M4",
         "cortex-m7": "M7", "cortex-m33": "M33", "cortex-m55": "M55"}
_DSP = {"M4", "M7", "M33", "M55"}
_MVE = {"M55"}  # Armv8.1-M M-profile Vector Extension (Helium), integer and float


@dataclass(frozen=True)
class Target:
    core: str = "host"  # one of CORES' values
    flash_bytes: int | None = None  # the board's flash (None: unknown); kernels may trade flash for speed within it

    @property
    def has_dsp(self) -> bool:
        """Armv7E-M / Armv8-M DSP extension: SMLAD, SXTB16 (two 16-bit MACs per instruction)."""
        return self.core in _DSP

    @property
    def has_mve(self) -> bool:
        """Armv8.1-M MVE (Helium): 128-bit vectors, e.g. VMLADAVA (16 int8 MACs into one sum)."""
        return self.core in _MVE

    @property
    def is_host(self) -> bool:
        return self.core == "host"


HOST = Target()


def target_for_core(core: str, flash_bytes: int | None = None) -> Target:
    try:
        return Target(CORES[core], flash_bytes)
    except KeyError:
        raise EvoError(f"unknown core '{core}'", f"use one of: {', '.join(sorted(CORES))}") from None
