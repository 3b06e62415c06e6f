"""Compile EVO's C kernels into a shared library and load it through cffi (ABI mode).

The kernel unit tests call kernels directly, with the parameter structs that the operators'
`emit` produces. The cdef comes from the family header itself, so a struct or prototype that
drifts from the header cannot go unnoticed."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KERNELS = ROOT / "kernels_c"
STRICT_FLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic"]


def _declarations(text: str) -> str:
    """A header's typedefs and prototypes: comments, preprocessor lines and static inline
    functions removed, integer #define constants substituted (cffi takes no macros)."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S).replace("\\\n", " ")
    consts = dict(re.findall(r"^#define (\w+) (-?\d+)\s*$", text, flags=re.M))
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    while (start := text.find("static inline")) >= 0:
        depth, i = 0, text.index("{", start)
        while True:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
            if depth == 0:
                break
        text = text[:start] + text[i:]
    for name, value in consts.items():
        text = re.sub(rf"\b{name}\b", value, text)
    return text


def header_cdef(header: str) -> str:
    """cffi cdef for kernels_c/include/evo/<header>, preceded by common.h's types."""
    inc = KERNELS / "include" / "evo"
    return _declarations((inc / "common.h").read_text()) + _declarations((inc / header).read_text())


def load_kernels(out_dir: Path, sources: list[str], cdef: str, libs: list[str] = ()):
    """Compile kernels_c/src/<sources> with the strict flags into out_dir/libevo_kernels.so;
    returns (ffi, lib)."""
    cffi = pytest.importorskip("cffi")
    so = Path(out_dir) / "libevo_kernels.so"
    cmd = ["gcc", *STRICT_FLAGS, "-shared", "-fPIC", "-I", str(KERNELS / "include"), "-o", str(so)]
    cmd += [str(KERNELS / "src" / s) for s in sources] + list(libs)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    ffi = cffi.FFI()
    ffi.cdef(cdef)
    return ffi, ffi.dlopen(str(so))
