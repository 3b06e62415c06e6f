"""Host target: compile a generated folder with gcc into a shared library and call it via cffi."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from evo.compiler import Compiled, compile_graph
from evo.errors import EvoError
from evo.ir import Graph
from evo.ref.executor import check_inputs

CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fPIC", "-shared"]
# -O3 lets gcc vectorise the kernels' dot products. EVO_HOST_OPT overrides it (the property
# tests build hundreds of one-operator models, where compile time dominates).
DEFAULT_OPT = "-O3"


def find_cc() -> str:
    for cc in ("gcc", "cc"):
        path = shutil.which(cc)
        if path:
            return path
    raise EvoError("no C compiler (gcc) found on PATH", "install gcc, e.g. `apt-get install gcc`")


def build_shared_library(folder: Path, output: Path, trace: bool = False) -> Path:
    """Compile every .c file of a generated folder into `output` (.so)."""
    sources = sorted(str(p) for p in folder.rglob("*.c"))
    cmd = [find_cc(), os.environ.get("EVO_HOST_OPT", DEFAULT_OPT), *CFLAGS, *(["-DEVO_TRACE"] if trace else []), "-I", str(folder), "-o", str(output), *sources, "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        first = next((ln for ln in proc.stderr.splitlines() if "error" in ln), proc.stderr.strip()[:300])
        raise EvoError(f"the generated C did not compile: {first}", "this is an EVO bug; please report it with the model")
    return output


class HostModel:
    """A compiled model loaded in this process. Use as a context manager (removes its temp dir)."""

    def __init__(self, compiled: Compiled, lib_path: Path, tmpdir: Path | None, trace: bool):
        import cffi

        self.compiled = compiled
        self.graph = compiled.program.graph
        self._tmpdir = tmpdir
        n = compiled.name
        pool_plan = compiled.program.pool_plan
        mem = "uint8_t *const *pools" if pool_plan is not None else "uint8_t *arena"
        self.ffi = cffi.FFI()
        cdef = f"""
            int {n}_invoke({mem});
            int {n}_invoke_ext({mem}, uint8_t *ext);
            void *{n}_input_ext({mem}, uint8_t *ext, int index);
            void *{n}_output_ext({mem}, uint8_t *ext, int index);
        """
        if trace:
            cdef += f"""
            typedef void (*{n}_trace_fn)(int op_index, int tensor_index, const void *data, size_t nbytes);
            void {n}_set_trace({n}_trace_fn fn);
            """
        self.ffi.cdef(cdef)
        self.lib = self.ffi.dlopen(str(lib_path))
        self._invoke_ext = getattr(self.lib, f"{n}_invoke_ext")
        ext_size = compiled.program.ext_bytes
        self.ext = np.zeros(max(ext_size, 16) + 16, dtype=np.uint8)  # external memory (RAM budget)
        self._ext_ptr = self.ffi.cast("uint8_t *", self.ext.ctypes.data + (-self.ext.ctypes.data) % 16)
        self._ext_view = self.ext[(-self.ext.ctypes.data) % 16 :][: max(ext_size, 16)]
        self._invoke = lambda arena: self._invoke_ext(arena, self._ext_ptr)
        input_ext, output_ext = getattr(self.lib, f"{n}_input_ext"), getattr(self.lib, f"{n}_output_ext")
        self._input = lambda arena, i: input_ext(arena, self._ext_ptr, i)
        self._output = lambda arena, i: output_ext(arena, self._ext_ptr, i)
        self._trace_enabled = trace
        self._trace_store: dict[int, np.ndarray] | None = None
        if trace:
            # Keep the callback object alive as long as the library may call it.
            self._cb = self.ffi.callback(f"{n}_trace_fn", self._on_trace)
            getattr(self.lib, f"{n}_set_trace")(self._cb)
        sizes = [p.arena_bytes for p in pool_plan.plans] if pool_plan is not None else [compiled.program.plan.arena_bytes]
        # 16-byte aligned memories inside numpy buffers: the arena, or one per pool
        self._raw = [np.zeros(size + 32, dtype=np.uint8) for size in sizes]
        self.memories = [raw[(-raw.ctypes.data) % 16:][: max(size, 16)] for raw, size in zip(self._raw, sizes)]
        self.arena = self.memories[0]
        if pool_plan is not None:
            self._pools = self.ffi.new("uint8_t *[]", [self.ffi.cast("uint8_t *", m.ctypes.data) for m in self.memories])
            self._arena_ptr = self._pools
        else:
            self._arena_ptr = self.ffi.cast("uint8_t *", self.arena.ctypes.data)

    @classmethod
    def build(cls, g: Graph, name: str | None = None, trace: bool = False, compiled: Compiled | None = None,
              ram_budget: int | None = None, pools: list | None = None) -> "HostModel":
        compiled = compiled or compile_graph(g, name, ram_budget=ram_budget, pools=pools)
        tmp = Path(tempfile.mkdtemp(prefix="evo_host_"))
        try:
            compiled.files.write(tmp / "src")
            lib = build_shared_library(tmp / "src", tmp / f"lib{compiled.name}.so", trace=trace)
            return cls(compiled, lib, tmp, trace)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _on_trace(self, op_index, tensor_index, data, nbytes):
        if self._trace_store is not None:
            t = self.graph.tensor(tensor_index)
            buf = bytes(self.ffi.buffer(data, nbytes))
            self._trace_store[tensor_index] = np.frombuffer(buf, dtype=t.np_dtype).reshape(t.shape).copy()

    def _view(self, ptr, tensor) -> np.ndarray:
        address = int(self.ffi.cast("uintptr_t", ptr))
        memory = next(m for m in self.memories + [self._ext_view] if m.ctypes.data <= address < m.ctypes.data + m.size)
        offset = address - memory.ctypes.data
        return memory[offset : offset + tensor.nbytes].view(tensor.np_dtype).reshape(tensor.shape)

    def run(self, inputs: list[np.ndarray], trace: bool = False):
        """One inference. Returns the outputs (copies), plus {tensor: value} of every op output
        when `trace` (needs a model built with trace=True)."""
        inputs = check_inputs(self.graph, inputs)
        for i, (t, x) in enumerate(zip(self.graph.inputs, inputs)):
            self._view(self._input(self._arena_ptr, i), self.graph.tensor(t))[...] = x
        if trace and not self._trace_enabled:
            raise ValueError("this HostModel was built without trace support")
        self._trace_store = {} if trace else None
        status = self._invoke(self._arena_ptr)
        tensors, self._trace_store = self._trace_store or {}, None
        if status != 0:
            raise EvoError(f"the generated model returned status {status}", "this is an EVO bug; please report it with the model")
        outs = [self._view(self._output(self._arena_ptr, i), self.graph.tensor(t)).copy() for i, t in enumerate(self.graph.outputs)]
        return (outs, tensors) if trace else outs

    def invoke_only(self) -> None:
        """Run with whatever the arena holds (for timing loops)."""
        self._invoke(self._arena_ptr)

    def close(self) -> None:
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> "HostModel":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
