"""Turn a lowered Program into the generated C folder (rendered from codegen_templates/)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np

import evo
from evo.codegen.cformat import CTYPES, c_array_body, c_float, c_ident, c_scalar, ctype_of_array
from evo.codegen.lower import Program, used_constants
from evo.ops.base import CExpr, ConstArray, Scratch, TensorArg, TensorList

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "codegen_templates"
KERNELS = ROOT / "kernels_c"
BASE_HEADERS = ["common.h", "fixedpoint.h"]


@dataclass
class GeneratedFiles:
    """File name -> text of the generated folder (kernel sources and headers included)."""

    files: dict[str, str]
    weight_bytes: int = 0  # all constant data: tensors plus kernel-only arrays

    def write(self, out: Path) -> None:
        for rel, text in sorted(self.files.items()):
            p = out / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _io_entries(prog: Program, tensors: list[int], names: list[str], kind: str) -> list[dict]:
    g = prog.graph
    seen: set[str] = set()
    out = []
    for i, (t, label) in enumerate(zip(tensors, names)):
        tensor = g.tensor(t)
        field = c_ident(label, f"{kind}{i}")
        while field in seen:
            field += "_"
        seen.add(field)
        q = tensor.quant
        out.append(
            dict(
                index=i,
                label=label,
                field=field,
                ctype=CTYPES[tensor.dtype],
                dtype=tensor.dtype,
                shape=list(tensor.shape),
                rank=len(tensor.shape),
                dims=", ".join(str(d) for d in tensor.shape) or "1",
                count=tensor.size,
                nbytes=tensor.nbytes,
                offset=prog.tensor_offset(t),
                pool=_io_pool(prog, t),
                in_ext=prog.tensor_base(t) == "ext",
                base=_io_base(prog, t),
                scale=c_float(q.scalar_scale) if q is not None else None,
                zero_point=q.scalar_zero_point if q is not None else None,
            )
        )
    return out


def _kernel_files(calls) -> tuple[list[str], list[str]]:
    sources = sorted({s for c in calls for s in c.sources})
    headers = set(BASE_HEADERS) | {c.header for c in calls}
    texts = [(KERNELS / "src" / s).read_text() for s in sources] + [(KERNELS / "include" / "evo" / h).read_text() for h in headers]
    while texts:  # every header a kernel or header includes, transitively
        for inc in re.findall(r'#include\s+"evo/([^"]+)"', texts.pop()):
            if inc not in headers:
                headers.add(inc)
                texts.append((KERNELS / "include" / "evo" / inc).read_text())
    return sources, sorted(headers)


def generate(prog: Program, name: str, source_name: str) -> GeneratedFiles:
    g = prog.graph
    env = _env()
    NAME = name.upper()
    weights: list[dict] = []
    tensor_symbol: dict[int, str] = {}
    for t in used_constants(prog):
        tensor = g.tensor(t)
        sym = f"{name}_w{t}"
        tensor_symbol[t] = sym
        weights.append(
            dict(symbol=sym, ctype=CTYPES[tensor.dtype], count=max(tensor.size, 1), body=c_array_body(tensor.data), comment=f"{tensor.name} {list(tensor.shape)}")
        )

    params, calls = [], []
    for s in prog.steps:
        op = s.op
        if s.call is None:
            continue
        call = s.call
        symbols: dict[int, str] = {}

        def const_array(ca: ConstArray) -> str:
            sym = f"{name}_op{op.index}_{c_ident(ca.suffix)}"
            symbols[id(ca)] = sym
            weights.append(dict(symbol=sym, ctype=ctype_of_array(ca.data), count=max(ca.data.size, 1), body=c_array_body(ca.data), comment=f"op {op.index} {ca.suffix}"))
            return sym

        def collect(v):
            if isinstance(v, ConstArray):
                const_array(v)
            elif isinstance(v, dict):
                for x in v.values():
                    collect(x)
            elif isinstance(v, (list, tuple)):
                for x in v:
                    collect(x)

        collect(call.params)
        for ctype, sym, value in call.prelude:
            value = _resolve_tensors(value, tensor_symbol)
            collect(value)
            params.append(dict(type=ctype, symbol=sym, init=c_scalar(value, symbols)))
        args = []
        if call.params_type:
            psym = f"op{op.index}_params"
            params.append(dict(type=call.params_type, symbol=psym, init=c_scalar(call.params, symbols)))
            args.append(f"&{psym}")
        for a in call.args:
            args.append(_arg(prog, op, a, tensor_symbol, const_array))
            if isinstance(a, TensorList):
                for i in a.indices:
                    r = prog.root[i]
                    if g.tensor(r).is_const and r not in tensor_symbol:
                        raise AssertionError("constant in a TensorList must be in used_constants")
        trace = [dict(tensor=t, ptr=_tensor_ptr(prog, t, tensor_symbol), nbytes=g.tensor(t).nbytes) for t in op.outputs]
        calls.append(dict(index=op.index, type=op.type, func=call.func, args=", ".join(args), trace=trace,
                          comment=" -> ".join(str(list(g.tensor(t).shape)) for t in [op.inputs[0], op.outputs[0]] if t >= 0)))
    # Aliased outputs are traced at their producer's position: emit them as trace-only steps.
    traced_alias = [dict(index=s.op.index, type=s.op.type, trace=[dict(tensor=t, ptr=_tensor_ptr(prog, t, tensor_symbol), nbytes=g.tensor(t).nbytes) for t in s.op.outputs]) for s in prog.steps if s.call is None]
    order = {s.op.index: i for i, s in enumerate(prog.steps)}
    steps = sorted([dict(c, kind="call") for c in calls] + [dict(c, kind="alias") for c in traced_alias], key=lambda c: order[c["index"]])

    sources, headers = _kernel_files([s.call for s in prog.steps if s.call is not None])
    ctx = dict(
        name=name,
        NAME=NAME,
        version=evo.__version__,
        source=source_name,
        arena_size=max(prog.plan.arena_bytes, 16),
        pools=_pool_entries(prog, NAME),
        mem_param="uint8_t *const *pools" if prog.pool_plan is not None else "uint8_t *arena",
        mem_arg="pools" if prog.pool_plan is not None else "arena",
        ext_size=prog.ext_bytes,
        moved_bytes=prog.moved_bytes,
        inputs=_io_entries(prog, g.inputs, g.input_names, "input"),
        outputs=_io_entries(prog, g.outputs, g.output_names, "output"),
        weights=weights,
        params=params,
        steps=steps,
        headers=[h for h in headers if h not in BASE_HEADERS],
        num_ops=len(g.ops),
    )
    files = {
        f"{name}.h": env.get_template("model.h.j2").render(ctx),
        f"{name}.c": env.get_template("model.c.j2").render(ctx),
        f"{name}_weights.h": env.get_template("weights.h.j2").render(ctx),
        f"{name}_weights.c": env.get_template("weights.c.j2").render(ctx),
    }
    for h in headers:
        files[f"evo/{h}"] = (KERNELS / "include" / "evo" / h).read_text()
    for src in sources:
        files[f"kernels/{src}"] = (KERNELS / "src" / src).read_text()
    sizes = {"int8_t": 1, "uint8_t": 1, "int16_t": 2, "int32_t": 4, "int64_t": 8, "float": 4}
    return GeneratedFiles(files, weight_bytes=sum(sizes[w["ctype"]] * w["count"] for w in weights))


def _pool_entries(prog: Program, NAME: str) -> list[dict]:
    """One entry per memory pool (none for the single arena), fastest first."""
    if prog.pool_plan is None:
        return []
    return [dict(index=i, name=p.name, macro=f"{NAME}_ARENA_{p.name.upper()}_SIZE", index_macro=f"{NAME}_POOL_{p.name.upper()}",
                 size=max(plan.arena_bytes, 16), capacity=p.capacity)
            for i, (p, plan) in enumerate(zip(prog.pool_plan.pools, prog.pool_plan.plans))]


def _io_pool(prog: Program, t: int) -> int | None:
    """Index of the pool an input/output lives in (None: the single arena, or ext)."""
    if prog.pool_plan is None or prog.tensor_base(t) == "ext":
        return None
    return prog.pool_plan.buffer_pool[prog.tensor_buffer[t]]


def _io_base(prog: Program, t: int) -> str:
    """C expression of the memory an input/output lives in."""
    if prog.tensor_base(t) == "ext":
        return "ext"
    return "arena" if prog.pool_plan is None else f"pools[{_io_pool(prog, t)}]"


def _resolve_tensors(v, tensor_symbol: dict[int, str]):
    """A prelude value with TensorArg / None replaced by the constant's symbol / NULL."""
    if v is None:
        return CExpr("NULL")
    if isinstance(v, TensorArg):
        return CExpr(tensor_symbol[v.index])
    if isinstance(v, dict):
        return {k: _resolve_tensors(x, tensor_symbol) for k, x in v.items()}
    if isinstance(v, list):
        return [_resolve_tensors(x, tensor_symbol) for x in v]
    return v


def _tensor_ptr(prog: Program, t: int, tensor_symbol: dict[int, str]) -> str:
    r = prog.root[t]
    if prog.graph.tensor(r).is_const:
        return tensor_symbol.get(r) or f"/* constant tensor {r} */ NULL"
    return f"({prog.tensor_base(t)} + {prog.tensor_offset(t)})"


def _arg(prog: Program, op, a, tensor_symbol, const_array) -> str:
    g = prog.graph
    if a is None:
        return "NULL"
    if isinstance(a, TensorArg):
        ctype = CTYPES[g.tensor(a.index).dtype]
        qual = "" if a.index in op.outputs else "const "
        return f"({qual}{ctype} *){_tensor_ptr(prog, a.index, tensor_symbol)}"
    if isinstance(a, TensorList):
        # A C99 compound literal: an array of pointers that lives for the enclosing block.
        outputs = all(i in op.outputs for i in a.indices)
        qual = "" if outputs else "const "
        ptrs = ", ".join(f"({qual}void *){_tensor_ptr(prog, i, tensor_symbol)}" for i in a.indices)
        return f"({qual}void *const[]){{ {ptrs} }}"
    if isinstance(a, ConstArray):
        return const_array(a)
    if isinstance(a, Scratch):
        if op.index not in prog.scratch_buffer:  # the kernel needs no scratch for this shape
            return "NULL"
        b = prog.scratch_buffer[op.index]
        return f"(void *)({prog.buffer_base(b)} + {prog.buffer_offset(b)})"
    if isinstance(a, (int, np.integer, float, np.floating, bool)):
        return c_scalar(a)
    return c_scalar(a)

