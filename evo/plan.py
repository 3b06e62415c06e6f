"""`evo plan`: the memory plan of a model - every buffer's size, lifetime, offset and pool, the
exact lower bound for the chosen schedule, TFLM's figure for comparison, and (with
--ram-budget) what the replacement strategy evicts and moves."""
from __future__ import annotations

from pathlib import Path

from evo.codegen.lower import Program, lower
from evo.errors import EvoError
from evo.frontend.tflite_reader import load_model
from evo.memory.lifetimes import align_up


def plan_program(prog: Program) -> dict:
    rows = []
    for pool, plan, tb in (("arena", prog.plan, prog.tensor_buffer), ("ext", prog.ext_plan, prog.ext_tensor_buffer)):
        if plan is None:
            continue
        owner: dict[int, list[int]] = {}
        for t, b in tb.items():
            owner.setdefault(b, []).append(t)
        scratch_of = {b: op for op, b in prog.scratch_buffer.items()} if pool == "arena" else {}
        pooled = pool == "arena" and prog.pool_plan is not None
        for b, buf in enumerate(plan.buffers):
            ts = sorted(owner.get(b, []))
            kind = "scratch" if b in scratch_of else "tensor"
            rows.append(dict(buffer=buf.name, kind=kind, pool=prog.pool_plan.pool_name(b) if pooled else pool, tensors=ts,
                             bytes=buf.size, first_step=buf.first, last_step=buf.last,
                             offset=prog.buffer_offset(b) if pool == "arena" else plan.offsets[b]))
    inplace = [dict(op=d.op, kind=d.kind, input=d.input, output=d.output, delta=d.delta, scratch=d.scratch)
               for d in sorted(prog.inplace.values(), key=lambda d: d.op)]
    if prog.pool_plan is not None:
        pp = prog.pool_plan
        pools = [dict(name=p.name, capacity=p.capacity, bytes=plan.arena_bytes) for p, plan in zip(pp.pools, pp.plans)]
    else:
        pools = [dict(name="arena", capacity=None, bytes=prog.plan.arena_bytes)]
    arena = sum(p["bytes"] for p in pools)
    streams = [dict(op=i, members=[st.op.index for st in sp.stages], inputs=list(sp.inputs), output=sp.sink,
                    line_buffer_bytes=sp.lines_bytes, kernel_scratch_bytes=sp.kernel_scratch, copy_bytes=sp.moved_bytes,
                    line_rows={str(t): n for t, n in sp.line_rows.items() if t >= 0})
               for i, sp in sorted(prog.streams.items())]
    return dict(
        arena_bytes=arena,
        single_arena_bytes=prog.plan.arena_bytes,
        pools=pools,
        # Bound of the executed schedule: live whole tensors plus each step's scratch, where a
        # row-streamed group's scratch is its line buffers (so it can sit below the next figure).
        lower_bound_bytes=prog.lower_bound_bytes,
        lower_bound_of="executed schedule (row-streamed groups count their line buffers)" if prog.streams else "executed schedule (whole tensors)",
        # The bound with whole tensors only (no row streaming): what any whole-tensor plan needs.
        whole_tensor_lower_bound_bytes=prog.whole_lower_bound_bytes or prog.lower_bound_bytes,
        streams=streams,
        recompute_macs=0,  # line-buffer streaming computes every output row once
        stream_copy_bytes=prog.stream_moved_bytes,
        total_ram_bytes=arena,  # EVO keeps no runtime structures: the arena (or its pools) is all
        ext_bytes=prog.ext_bytes,
        moved_bytes=prog.moved_bytes,
        ram_budget=prog.ram_budget,
        strategy=prog.plan.strategy,
        strategies=dict(prog.plan.candidates),
        schedule="file order" if prog.file_order else "optimised",
        order=[s.op.index for s in prog.steps],
        steps=len(prog.steps),
        inplace=inplace,
        buffers=rows,
    )


def plan_model(path: str, ram_budget: int | None = None, png: str | None = None, tflm: bool = True,
               strategies: tuple[str, ...] | None = None, pools: list | None = None) -> dict:
    model, g = load_model(path)
    if ram_budget is not None and ram_budget <= 0:
        raise EvoError(f"--ram-budget {ram_budget} must be positive", "pass a size in bytes")
    prog = lower(g, ram_budget=ram_budget, strategies=strategies, pools=pools)
    r = plan_program(prog)
    r["model"] = Path(path).name
    r["tflm_head_bytes"] = r["tflm_total_bytes"] = None
    if tflm:
        try:
            from evo.verify.tflm_memory import tflm_arena

            t = tflm_arena(model, g)
            r["tflm_head_bytes"], r["tflm_total_bytes"] = t.get("head"), t.get("total")
        except Exception:  # TFLM cannot run every model EVO can (e.g. hybrid); the figure is optional
            pass
    if png:
        draw_png(prog, png)
        r["png"] = png
    return r


def plan_text(r: dict) -> str:
    from evo.ui import kib, table

    lines = [f"{r['model']}: {r['steps']} steps ({r['schedule']}), strategy {r['strategy']}"]
    body = [[b["buffer"][:40], b["kind"], b["pool"], f"{b['bytes']:,}", f"{b['first_step']}-{b['last_step']}", f"{b['offset']:,}"]
            for b in sorted(r["buffers"], key=lambda b: (b["pool"], b["first_step"], b["offset"]))]
    lines.append(table(["buffer", "kind", "pool", "bytes", "steps", "offset"], body, "lllrrr"))
    lines.append("")
    lines.append("strategies: " + ", ".join(f"{k} {v:,}" for k, v in r["strategies"].items()))
    if r["inplace"]:
        lines.append("in place: " + ", ".join(f"op {d['op']} ({d['kind']}{', delta ' + str(d['delta']) if d['delta'] else ''})" for d in r["inplace"]))
    for sm in r.get("streams", []):
        lines.append(f"row-streamed: ops {', '.join(str(m) for m in sm['members'])} as op {sm['op']} "
                     f"(line buffers {sm['line_buffer_bytes']:,} B, {sm['copy_bytes']:,} B copied, no recomputation)")
    lb = r["lower_bound_bytes"]
    lines.append(f"arena        {r['arena_bytes']:>9,} B  ({kib(r['arena_bytes'])})")
    if len(r["pools"]) > 1 or r["pools"][0]["name"] != "arena":
        for p in r["pools"]:
            cap = f" of {p['capacity']:,} B" if p["capacity"] is not None else ""
            lines.append(f"  pool {p['name']:<7}{p['bytes']:>9,} B{cap}")
        lines.append(f"  (one arena would be {r['single_arena_bytes']:,} B)")
    one = r["single_arena_bytes"]
    lines.append(f"lower bound  {lb:>9,} B  ({'one ' if one != r['arena_bytes'] else ''}arena is {one / lb:.3f}x the bound; {r['lower_bound_of']})" if lb else f"lower bound  {lb:>9,} B")
    if r.get("streams"):
        lines.append(f"whole-tensor {r['whole_tensor_lower_bound_bytes']:>9,} B  (lower bound without row streaming)")
    if r.get("tflm_head_bytes"):
        lines.append(f"TFLM head    {r['tflm_head_bytes']:>9,} B  (EVO arena = {r['arena_bytes'] / r['tflm_head_bytes']:.2f}x), TFLM total {r['tflm_total_bytes']:,} B")
    lines.append(f"total RAM    {r['total_ram_bytes']:>9,} B  (no runtime structures)")
    if r["ram_budget"] is not None:
        lines.append(f"RAM budget   {r['ram_budget']:>9,} B: external memory {r['ext_bytes']:,} B, {r['moved_bytes']:,} B moved per inference")
    if r.get("png"):
        lines.append(f"wrote {r['png']}")
    return "\n".join(lines)


POOL_COLOURS = [(110, 160, 230), (120, 200, 140), (230, 150, 200), (240, 200, 100), (170, 140, 220)]


def draw_png(prog: Program, path: str) -> None:
    """Memory over time: each buffer a rectangle (x = steps it is live, y = address)."""
    from PIL import Image, ImageDraw

    # (label, plan, buffer index in the panel -> buffer index in prog.plan, fill colour or None)
    ident = range(len(prog.plan.buffers))
    if prog.pool_plan is None:
        panels = [("arena", prog.plan, list(ident), None)]
    else:
        pp = prog.pool_plan
        panels = []
        for k, (pool, plan) in enumerate(zip(pp.pools, pp.plans)):
            back = {pp.buffer_slot[b]: b for b in ident if pp.buffer_pool[b] == k}
            panels.append((f"pool {pool.name}", plan, [back[i] for i in range(len(plan.buffers))], POOL_COLOURS[k % len(POOL_COLOURS)]))
    if prog.ext_plan is not None:
        panels.append(("ext", prog.ext_plan, None, (200, 200, 200)))
    steps = max(len(prog.steps), 1)
    W, H, ML, MT, MB = 1000, 520, 80, 30, 30
    img = Image.new("RGB", (W, (H + 10) * len(panels)), "white")
    d = ImageDraw.Draw(img)
    scratch = set(prog.scratch_buffer.values())
    inplace_out = {prog.tensor_buffer.get(x.output) for x in prog.inplace.values()}
    for k, (label, plan, back, colour) in enumerate(panels):
        y0 = k * (H + 10)
        top = max(plan.arena_bytes, 16)
        pw, ph = W - ML - 20, H - MT - MB
        sx = pw / steps
        sy = ph / top
        d.rectangle([ML, y0 + MT, ML + pw, y0 + MT + ph], outline="black")
        d.text((ML, y0 + 8), f"{label}: {plan.arena_bytes:,} B" + (f", lower bound {prog.lower_bound_bytes:,} B" if label == "arena" else ""), fill="black")
        d.text((4, y0 + MT), f"{top:,}", fill="black")
        d.text((4, y0 + MT + ph - 10), "0", fill="black")
        d.text((ML, y0 + MT + ph + 8), "step 0", fill="black")
        d.text((ML + pw - 60, y0 + MT + ph + 8), f"step {steps - 1}", fill="black")
        for i, b in enumerate(plan.buffers):
            if not b.size:
                continue
            x0, x1 = ML + b.first * sx, ML + (b.last + 1) * sx
            ya = y0 + MT + ph - (plan.offsets[i] + align_up(b.size)) * sy
            yb = y0 + MT + ph - plan.offsets[i] * sy
            j = back[i] if back is not None else None
            if colour is not None:  # one colour per pool (and ext); scratch outlined in orange
                fill = colour
            elif j in scratch:
                fill = (250, 180, 90)
            elif j in inplace_out:
                fill = (120, 200, 140)
            else:
                fill = (110, 160, 230)
            outline = (230, 120, 0) if colour is not None and j in scratch else (40, 40, 40)
            d.rectangle([x0, ya, max(x1 - 1, x0), max(yb - 1, ya)], fill=fill, outline=outline)
        if label == "arena" and prog.lower_bound_bytes:
            yl = y0 + MT + ph - prog.lower_bound_bytes * sy
            d.line([ML, yl, ML + pw, yl], fill=(200, 0, 0))
    img.save(path)
