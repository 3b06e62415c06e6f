"""Memory pools: the arena split over named RAM regions (evo/memory/pools.py). Every pool's
plan is valid and within its capacity, outputs stay bit-exact with TFLM, the single arena is
untouched when no pools are given, and board regions drive the linker script."""
from __future__ import annotations

import json

import pytest

from evo.cli import main
from evo.codegen.lower import lower
from evo.compiler import compile_graph
from evo.errors import EvoError
from evo.frontend.tflite_reader import load_model
from evo.inputs import random_inputs
from evo.memory.lifetimes import align_up
from evo.memory.planner import check_plan
from evo.memory.pools import PoolSpec, parse_pools
from evo.targets.boards import load_board
from evo.targets.host import HostModel
from evo.verify.tflm import run_tflm
from tests.support.differential import assert_same


def test_parse_pools():
    assert parse_pools("dtcm:64k,sram:0x40000") == [PoolSpec("dtcm", 65536), PoolSpec("sram", 0x40000)]
    assert parse_pools("fast:1024, slow") == [PoolSpec("fast", 1024), PoolSpec("slow", None)]
    for bad in ("ext:1k,b", "a,b:1k", "a:1k,a", "A-1:4", "a:lots", ""):
        with pytest.raises(EvoError):
            parse_pools(bad)


def _check_pools(prog, pools):
    pp = prog.pool_plan
    assert len(pp.plans) == len(pools)
    seen = sorted((pp.buffer_pool[b], pp.buffer_slot[b]) for b in range(len(prog.plan.buffers)))
    assert seen == sorted((k, i) for k, plan in enumerate(pp.plans) for i in range(len(plan.buffers)))
    for spec, plan in zip(pools, pp.plans):
        check_plan(plan)
        assert spec.capacity is None or plan.arena_bytes <= spec.capacity
    for a, b, _ in prog.plan.links:  # in-place pairs never straddle two pools
        assert pp.buffer_pool[a] == pp.buffer_pool[b]


@pytest.mark.parametrize("name,spec,budget", [("kws_ref_model", "fast:2k,slow", None),
                                              ("pretrainedResnet_quant", "dtcm:2k,sram:4k,psram", None),
                                              ("pretrainedResnet_quant", "dtcm:8k,sram", 16384)])
def test_pools_bit_exact_with_tflm(shared_models, name, spec, budget):
    model, g = load_model(shared_models / f"{name}.tflite")
    pools = parse_pools(spec)
    compiled = compile_graph(g, ram_budget=budget, pools=pools)
    prog = compiled.program
    _check_pools(prog, pools)
    assert all(plan.arena_bytes > 0 for plan in prog.pool_plan.plans), "every pool gets something here"
    # the hottest buffer per byte (kernel scratch or a small tensor) is in the fastest pool
    assert compiled.report["pools"][0]["name"] == pools[0].name
    with HostModel.build(g, trace=True, compiled=compiled) as host:
        inputs = random_inputs(g, 0)
        want, oracle = run_tflm(model, g, inputs, preserve_all=True)
        got, tensors = host.run(inputs, trace=True)
    streamed = prog.streamed_tensors  # only ever line buffers inside a row-streamed call
    for t, v in oracle.items():
        if t not in streamed:
            assert_same(tensors[t], v, f"tensor {t}")
    for a, b in zip(got, want):
        assert_same(a, b, "output")


def test_scratch_goes_to_the_fastest_pool(shared_models):
    _, g = load_model(shared_models / "pretrainedResnet_quant.tflite")
    prog = lower(g, pools=parse_pools("fast:4k,slow"), stream="off")  # whole tensors: im2col scratch per conv
    scratch = set(prog.scratch_buffer.values())
    small = [b for b in scratch if align_up(prog.plan.buffers[b].size) <= 1024]
    assert small and all(prog.pool_plan.buffer_pool[b] == 0 for b in small)


def test_pools_that_are_too_small(shared_models):
    _, g = load_model(shared_models / "kws_ref_model.tflite")
    with pytest.raises(EvoError, match="does not fit the memory pools"):
        lower(g, pools=parse_pools("a:1k,b:2k"))


def test_no_pools_is_the_single_arena(shared_models):
    _, g = load_model(shared_models / "kws_ref_model.tflite")
    plain = compile_graph(g)
    assert plain.program.pool_plan is None and "pools" not in plain.report
    h = plain.files.files["kws_ref_model.h"]
    assert "KWS_REF_MODEL_ARENA_SIZE" in h and "NUM_POOLS" not in h and "int kws_ref_model_invoke(uint8_t *arena);" in h
    pooled = compile_graph(g, pools=parse_pools("fast:2k,slow"))
    h = pooled.files.files["kws_ref_model.h"]
    assert "#define KWS_REF_MODEL_NUM_POOLS 2" in h and "#define KWS_REF_MODEL_ARENA_FAST_SIZE" in h
    assert "KWS_REF_MODEL_ARENA_SIZE" not in h and "int kws_ref_model_invoke(uint8_t *const *pools);" in h
    assert pooled.report["arena_bytes"] == sum(p["bytes"] for p in pooled.report["pools"])


def test_board_regions_and_linker_script():
    from evo.targets.firmware import ModelSpec, _linker_script, _placement

    b = load_board("qemu-mps2-an500")
    assert [r.name for r in b.regions] == ["ram", "psram"] and b.ext_region.name == "psram"
    h7 = load_board("nucleo-h7a3zi")
    assert [r.name for r in h7.regions] == ["dtcm", "ram"] and h7.region("dtcm").size == 128 * 1024
    assert load_board("qemu-mps2-an386").ext_region.name == "ram"
    spec = ModelSpec("m", {}, {"pools": [{"name": "ram"}, {"name": "psram"}], "ext_bytes": 64})
    where = _placement(spec, b)
    assert where == {"arena_ram": "ram", "arena_psram": "psram", "ext": "psram"}
    ld = _linker_script(b, False, sorted(set(where.values())))
    assert "PSRAM (rwx) : ORIGIN = 0x60000000, LENGTH = 0x1000000" in ld and ".evo_psram (NOLOAD)" in ld
    assert _linker_script(b, False) == _linker_script(b, False, ["ram"])  # a plain build's script is unchanged
    with pytest.raises(EvoError, match="no RAM region"):
        _placement(ModelSpec("m", {}, {"pools": [{"name": "dtcm"}]}), b)


def test_board_pools_option():
    from evo.commands import board_pools

    b = load_board("nucleo-h7a3zi")
    assert board_pools("auto", b) == [PoolSpec("dtcm", 128 * 1024), PoolSpec("ram", 1024 * 1024 - b.stack_bytes)]
    assert board_pools("dtcm:32k,ram", b) == [PoolSpec("dtcm", 32768), PoolSpec("ram", 1024 * 1024 - b.stack_bytes)]
    for bad in ("sram:1k", "dtcm:200k,ram"):
        with pytest.raises(EvoError):
            board_pools(bad, b)


def test_cli_plan_and_run_with_pools(shared_models, capsys, tmp_path):
    path = str(shared_models / "kws_ref_model.tflite")
    assert main(["plan", path, "--pools", "fast:2k,slow", "--json", "--no-tflm", "--png", str(tmp_path / "p.png")]) == 0
    r = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in r["pools"]] == ["fast", "slow"] and r["arena_bytes"] == sum(p["bytes"] for p in r["pools"])
    assert {b["pool"] for b in r["buffers"]} == {"fast", "slow"} and (tmp_path / "p.png").stat().st_size > 0
    assert main(["plan", path]) == 0
    text = capsys.readouterr().out
    assert "TFLM head" in text and "pool" in text
    assert main(["run", path, "--pools", "fast:2k,slow", "--json"]) == 0
    pooled = json.loads(capsys.readouterr().out)["outputs"]
    assert main(["run", path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["outputs"] == pooled
    assert main(["run", path, "--pools", "fast:2k,ext"]) == 2
    assert "bad pool name" in capsys.readouterr().err
    assert main(["compile", path, "-o", str(tmp_path / "c"), "--pools", "auto"]) == 2
    assert not (tmp_path / "c").exists()
