"""Which ops run the target's specialised kernel (e.g. a Cortex-M DSP kernel) and which keep
the portable one.

A specialised kernel can cost RAM: a widened-input scratch, a different in-place option, and
row streaming only knows the portable kernels. "memory" (the default) therefore starts from the
portable program - the memory-optimal one, stream groups included - and specialises only what
leaves its arena where it was: ops inside stream groups keep their portable kernel unless their
specialised call or a lean variant has a row function (the DSP ADD, the DSP convolutions without
byte staging), kept where the groups' arena still fits; the others are specialised, and those live where the arena rises above the portable one go back to their lean
variant (KernelCall.lean) if they have one, else to portable, in batches, until it fits. "speed" specialises every op whatever the RAM."""
from __future__ import annotations

from evo.codegen.lower import Program, _lower_fixed, lower_streams
from evo.codegen.stream_choice import streamed
from evo.memory.stream import ROW_FUNCS


RETRIES = 6  # reverted ops retried one at a time (each costs a full placement)


def choose_kernels(g, portable: dict, special: dict, macs: dict, alias_ops: set[int], strategies, optimize_schedule: bool,
                   inplace: bool, stream: str, prefer: str) -> tuple[Program, dict]:
    """(program, its calls before row-streaming wrappers) for the `prefer` policy."""
    alt = sorted(i for i in special if special[i] is not portable[i])
    if prefer == "speed" or not alt:
        calls = special if prefer == "speed" else portable
        prog = lower_streams(g, calls, macs, alias_ops, strategies, optimize_schedule, inplace, stream)
        prog.specialised, prog.prefer = (alt if prefer == "speed" else []), prefer
        return prog, calls

    base = lower_streams(g, portable, macs, alias_ops, strategies, optimize_schedule, inplace, stream)
    limit = base.plan.arena_bytes
    groups = [[st.op.index for st in sp.stages] for _, sp in sorted(base.streams.items())]
    in_groups = {m for grp in groups for m in grp}
    keep = [i for i in alt if i not in in_groups]  # stream members: _stream_members, at the end
    dropped: list[int] = []  # reverted for memory (not for streaming)

    def plan(chosen):
        trial_calls = {**portable, **{i: special[i] for i in chosen}}
        if groups:
            trial = streamed(g, trial_calls, macs, alias_ops, strategies, optimize_schedule, inplace, "groups", groups)
        else:
            trial = _lower_fixed(g, trial_calls, macs, alias_ops, strategies, optimize_schedule, inplace)
        trial.whole_lower_bound_bytes = base.whole_lower_bound_bytes
        return trial, trial_calls

    prog, calls = base, portable
    special = dict(special)
    while keep:
        trial, trial_calls = plan(keep)
        if trial.plan.arena_bytes <= limit:
            prog, calls = trial, trial_calls
            break
        over = _over_limit_ops(trial, limit) & set(keep) or set(keep)
        lean = {i for i in over if special[i].lean is not None}
        for i in lean:  # a leaner variant of the same kernel first, then the portable call
            special[i] = special[i].lean
        drop = over - lean
        keep = [i for i in keep if i not in drop]
        dropped += sorted(drop)
    # Batches revert more than needed: give the heaviest reverted ops one try each, alone.
    for i in sorted(dropped, key=lambda i: (-macs[i], i))[:RETRIES]:
        trial, trial_calls = plan(sorted(keep + [i]))
        if trial.plan.arena_bytes <= limit:
            keep = sorted(keep + [i])
            prog, calls = trial, trial_calls
    prog, calls, in_stream = _stream_members(plan, special, alt, in_groups, keep, limit, prog, calls)
    prog.specialised = sorted(keep)
    prog.stream_specialised = in_stream
    prog.memory_fallback = sorted(set(alt) - set(keep) - set(in_stream))
    prog.prefer = prefer
    return prog, calls


def _stream_members(plan, special: dict, alt: list[int], in_groups: set[int], keep: list[int], limit: int, prog, calls):
    """Stream members on the row functions of their specialised calls or lean variants (fastest
    first: the DSP ADD, the DSP convolutions without byte staging), where the
    arena stays within `limit`. A group's kernel scratch is its largest member's: while over,
    the members with the largest scratch step down to their next variant, then to portable."""
    options = {}  # member -> its variants with a row function, fastest first
    for i in alt:
        chain, c = [], special[i] if i in in_groups else None
        while c is not None:
            if c.func in ROW_FUNCS:
                chain.append(c)
            c = c.lean
        if chain:
            options[i] = chain
    level = {i: 0 for i in options}
    while level:
        members = sorted(level)
        special.update({i: options[i][level[i]] for i in members})  # plan() takes the chosen ops' calls from `special`
        trial, trial_calls = plan(sorted(keep + members))
        if trial.plan.arena_bytes <= limit:
            return trial, trial_calls, members
        top = max(special[i].scratch_bytes for i in members)
        for i in members:
            if special[i].scratch_bytes == top:
                level[i] += 1
                if level[i] == len(options[i]):
                    del level[i]
    return prog, calls, []


def _over_limit_ops(prog: Program, limit: int) -> set[int]:
    """Ops at the steps where some buffer is placed above `limit` bytes."""
    steps = set()
    for b, off in zip(prog.plan.buffers, prog.plan.offsets):
        if off + b.size > limit:
            steps.update(range(b.first, b.last + 1))
    return {prog.steps[s].op.index for s in steps if s < len(prog.steps)}
