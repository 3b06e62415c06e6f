"""Memory plans of the shared models: outputs (and every intermediate tensor) stay bit-exact
with TFLM for every placement strategy and for RAM budgets from the plan's peak down to the
smallest feasible one; EVO's arena never exceeds TFLM's activation memory; `evo plan`."""
from __future__ import annotations

import json

import pytest

from evo.codegen.lower import lower
from evo.compiler import Compiled, compile_graph
from evo.frontend.tflite_reader import load_model
from evo.inputs import random_inputs
from evo.memory.evict import smallest_budget
from evo.memory.planner import STRATEGIES
from evo.targets.host import HostModel
from evo.verify.tflm import run_tflm
from tests.support.differential import assert_same

RUNNABLE = ["ad01_int8", "hello_world_int8", "kws_ref_model", "micro_speech_quantized", "person_detect",
            "pretrainedResnet_quant", "str_ww_ref_model", "vww_96_int8", "vww_96_float", "pretrainedResnet",
            "synthetic/two_exit_int8", "synthetic/tiny_cnn_int8"]


def _check(model, g, compiled: Compiled, seeds=(0,)):
    with HostModel.build(g, trace=True, compiled=compiled) as host:
        for seed in seeds:
            inputs = random_inputs(g, seed)
            want, oracle = run_tflm(model, g, inputs, preserve_all=True)
            got, tensors = host.run(inputs, trace=True)
            # tensors inside a row-streamed group never exist whole; every other one is traced
            assert set(oracle) - set(tensors) <= compiled.program.streamed_tensors
            for t, v in oracle.items():
                if t in tensors:
                    assert_same(tensors[t], v, f"tensor {t}")
            for a, b in zip(got, want):
                assert_same(a, b, "output")


def _compiled(g, **kw) -> Compiled:
    from evo.codegen.emit import generate
    from evo.codegen.report import build_report

    prog = lower(g, **kw)
    files = generate(prog, "m", "m.tflite")
    return Compiled(program=prog, files=files, report=build_report(prog, "m", "m.tflite", files.weight_bytes), name="m")


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("name", ["vww_96_int8", "pretrainedResnet_quant", "synthetic/two_exit_int8"])
def test_every_strategy_bit_exact(shared_models, name, strategy):
    model, g = load_model(shared_models / f"{name}.tflite")
    c = _compiled(g, strategies=(strategy,))
    assert c.program.plan.strategy == strategy
    _check(model, g, c)


@pytest.mark.parametrize("name", ["pretrainedResnet_quant", "kws_ref_model", "synthetic/two_exit_int8", "vww_96_float"])
def test_ram_budgets_down_to_minimum_bit_exact(shared_models, name):
    model, g = load_model(shared_models / f"{name}.tflite")
    prog = lower(g)
    lo, hi = smallest_budget(g), prog.plan.arena_bytes
    budgets = sorted({hi, (lo + hi) // 2 // 16 * 16, lo}, reverse=True)
    for b in budgets:
        c = compile_graph(g, "m", ram_budget=b)
        assert c.program.plan.arena_bytes <= b
        if b < hi:
            assert c.program.ext_bytes > 0 or c.program.plan.arena_bytes < hi
        _check(model, g, c)
    with pytest.raises(Exception, match="working set"):
        lower(g, ram_budget=lo - 16)


def test_arena_never_above_tflm(shared_models):
    from evo.verify.tflm_memory import tflm_arena

    for name in RUNNABLE:
        model, g = load_model(shared_models / f"{name}.tflite")
        prog = lower(g)
        head = tflm_arena(model, g)["head"]
        assert prog.plan.arena_bytes <= head, name
        assert prog.plan.arena_bytes >= prog.lower_bound_bytes, name


def test_evo_plan_json_and_png(shared_models, tmp_path, capsys):
    from evo.cli import main

    png = tmp_path / "plan.png"
    assert main(["plan", str(shared_models / "pretrainedResnet_quant.tflite"), "--json", "--png", str(png)]) == 0
    r = json.loads(capsys.readouterr().out)
    for k in ("arena_bytes", "lower_bound_bytes", "total_ram_bytes", "moved_bytes", "tflm_head_bytes"):
        assert k in r
    assert r["tflm_head_bytes"] == 49152 and r["moved_bytes"] == 0
    assert png.stat().st_size > 1000
    assert r["whole_tensor_lower_bound_bytes"] >= r["lower_bound_bytes"] and r["recompute_macs"] == 0
    assert main(["plan", str(shared_models / "pretrainedResnet_quant.tflite"), "--ram-budget", "16000", "--no-tflm"]) == 0
    out = capsys.readouterr().out
    assert "RAM budget" in out and "ext" in out


def test_resnet_default_plan_streams_below_half_tflm_total(shared_models):
    """ResNet-8's residual blocks run row-streamed by default: total RAM <= 0.5x TFLM's total
    arena (the whole-tensor bound alone cannot get there), bit-exact."""
    from evo.verify.tflm_memory import tflm_arena

    model, g = load_model(shared_models / "pretrainedResnet_quant.tflite")
    c = compile_graph(g, "m")
    prog = c.program
    assert prog.streams and prog.plan.arena_bytes < prog.whole_lower_bound_bytes
    assert prog.plan.arena_bytes <= 0.5 * tflm_arena(model, g)["total"]
    _check(model, g, c)


def test_vww_runs_in_40_percent_of_its_peak(shared_models):
    """VWW under --ram-budget 40% of its plan peak (and at the smallest feasible budget): the big
    early tensors stay in ext and are streamed through in rows; bit-exact on every tensor."""
    model, g = load_model(shared_models / "vww_96_int8.tflite")
    peak = lower(g).plan.arena_bytes
    for budget in (int(0.4 * peak), smallest_budget(g)):
        c = compile_graph(g, "m", ram_budget=budget)
        assert c.program.plan.arena_bytes <= budget and c.program.ext_bytes > 0
        _check(model, g, c)
    assert smallest_budget(g) < 0.1 * peak
