"""`evo compile`: model -> generated C folder + evo_report.json, written atomically."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from evo.codegen.cformat import c_ident
from evo.codegen.emit import GeneratedFiles, generate
from evo.codegen.lower import Program, lower
from evo.codegen.report import build_report
from evo.errors import EvoError
from evo.ir import Graph
from evo.target import HOST, Target


@dataclass
class Compiled:
    program: Program
    files: GeneratedFiles
    report: dict
    name: str


def compile_graph(g: Graph, name: str | None = None, source: str | None = None, ram_budget: int | None = None,
                  pools: list | None = None, target: Target = HOST, prefer: str = "memory") -> Compiled:
    """`prefer`: "memory" (specialised kernels only where the arena stays at the portable
    program's) or "speed" (every specialised kernel, whatever the RAM); see evo/codegen/specialise.py."""
    name = c_ident(name or g.name, "model")
    prog = lower(g, ram_budget=ram_budget, pools=pools, target=target, prefer=prefer)
    files = generate(prog, name, source or f"{g.name}.tflite")
    report = build_report(prog, name, source or f"{g.name}.tflite", files.weight_bytes)
    files.files["evo_report.json"] = json.dumps(report, indent=1, sort_keys=True) + "\n"
    return Compiled(program=prog, files=files, report=report, name=name)


def write_folder(compiled: Compiled, out_dir: Path) -> None:
    """Write the folder in full or not at all: build in a sibling temp dir, then rename."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise EvoError(f"{out_dir} exists and is not a folder", "choose another -o path")
    parent = out_dir.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=parent))
    except OSError as e:
        raise EvoError(f"cannot create {out_dir}: {e.strerror}", "check the path and permissions") from None
    try:
        compiled.files.write(tmp)
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=parent))
            os.rename(out_dir, old / "x")
            os.rename(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
