"""Memory-first kernel specialisation (evo/codegen/specialise.py): compiling for a DSP core never
raises the arena above the portable program's; specialised kernels are kept wherever they fit,
and the mixed program stays bit-exact with TFLM."""
from __future__ import annotations

import json

import numpy as np
import pytest

from evo.cli import main
from evo.codegen.lower import lower
from evo.compiler import compile_graph
from evo.errors import EvoError
from evo.frontend.tflite_reader import load_model
from evo.inputs import random_inputs
from evo.target import HOST, Target
from evo.targets.host import HostModel
from evo.verify.tflm import run_tflm
from tests.conftest import MODELS

M4 = Target("M4")
MODEL_NAMES = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8", "micro_speech_quantized"]


def _load(name: str):
    path = MODELS / f"{name}.tflite"
    if not path.is_file():
        pytest.skip("../shared/models is not present")
    return load_model(path)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_dsp_target_keeps_the_portable_arena(name):
    _, g = _load(name)
    host = lower(g, target=HOST).plan.arena_bytes
    prog = lower(g, target=M4)
    assert prog.plan.arena_bytes <= host  # below it when a DSP row kernel needs less scratch than the portable one
    assert prog.prefer == "memory"
    assert not set(prog.specialised) & set(prog.memory_fallback)
    funcs = {s.op.index: s.call.func for s in prog.steps if s.call is not None}
    for i in prog.specialised:  # fused stream members are not steps; specialised ops never are
        assert i in funcs and funcs[i] not in {"evo_conv2d_s8", "evo_fully_connected_s8", "evo_depthwise_conv2d_s8"}


def _conv_macs_specialised(prog, portable) -> float:
    macs = {s.op.index: s.macs for s in portable.steps}
    conv = {s.op.index for s in portable.steps if s.op.type in ("CONV_2D", "DEPTHWISE_CONV_2D")}
    return sum(macs[i] for i in conv if i in prog.specialised) / sum(macs[i] for i in conv)


@pytest.mark.parametrize("name", ["kws_ref_model", "vww_96_int8"])
def test_most_conv_macs_stay_on_dsp_kernels(name):
    _, g = _load(name)
    prog = lower(g, target=M4)
    assert _conv_macs_specialised(prog, lower(g, target=HOST)) >= 0.8
    if name == "kws_ref_model":  # every 1x1 conv fits in the portable arena with the DSP kernel
        pointwise = [op.index for op in g.ops if op.type == "CONV_2D" and g.tensor(op.inputs[1]).shape[1:3] == (1, 1)]
        assert pointwise and set(pointwise) <= set(prog.specialised)


def test_prefer_speed_specialises_everything():
    _, g = _load("kws_ref_model")  # its depthwise DSP kernel's row ring would raise the arena
    mem, speed = lower(g, target=M4), lower(g, target=M4, prefer="speed")
    assert not speed.memory_fallback
    assert sorted(speed.specialised) == sorted(mem.specialised + mem.memory_fallback)
    assert speed.plan.arena_bytes > mem.plan.arena_bytes
    # memory-first: the depthwise layers take the channel-blocked lean variant (a ring of 24 channels,
    # in place without an input-row window) instead of the whole ring
    dw = {s.op.index: s.call for s in mem.steps if s.op.type == "DEPTHWISE_CONV_2D"}
    assert dw and {c.func for c in dw.values()} == {"evo_depthwise_conv2d_s8_blocked_rows"} and set(dw) <= set(mem.specialised)
    assert {c.scratch_bytes for c in dw.values()} == {864} and {mem.inplace[i].delta for i in dw} == {0}
    speed_dw = [s.call for s in speed.steps if s.op.type == "DEPTHWISE_CONV_2D"]  # one group: the whole ring
    assert {c.func for c in speed_dw} == {"evo_depthwise_conv2d_s8_blocked_rows"} and {c.scratch_bytes for c in speed_dw} == {2304}
    with pytest.raises(EvoError):
        lower(g, target=M4, prefer="fast")


def test_host_target_reports_no_kernel_choice():
    _, g = _load("ad01_int8")
    report = compile_graph(g).report
    assert "kernels" not in report and "kernel_fallback" not in report["ops"][0]


@pytest.mark.parametrize("name", ["pretrainedResnet_quant", "kws_ref_model"])
def test_mixed_program_is_bit_exact_on_host(name):
    """Specialised kernels have plain-C bodies on the host, so the M4 program runs here."""
    model, g = _load(name)
    compiled = compile_graph(g, target=M4)
    k = compiled.report["kernels"]
    assert k["specialised"]
    if name == "pretrainedResnet_quant":  # really a mix (its average pool keeps the portable kernel)
        assert k["memory_fallback"]
    fallback = {o["index"] for o in compiled.report["ops"] if o.get("kernel_fallback") == "memory"}
    assert fallback <= set(k["memory_fallback"])
    inputs = random_inputs(g, 1)
    tflm, _ = run_tflm(model, g, inputs)
    with HostModel.build(g, compiled=compiled) as m:
        got = m.run(inputs)
    for a, b in zip(got, tflm):
        assert np.array_equal(a, b)


def test_cli_prefer(tmp_path, capsys):
    path = MODELS / "pretrainedResnet_quant.tflite"  # its average pool keeps the portable kernel
    if not path.is_file():
        pytest.skip("../shared/models is not present")
    out = tmp_path / "c"
    assert main(["compile", str(path), "-o", str(out), "--board", "qemu-mps2-an386"]) == 0
    text = capsys.readouterr().out
    assert "kernels: " in text and "kept portable to hold the arena" in text
    report = json.loads((out / "evo_report.json").read_text())
    assert report["kernels"]["prefer"] == "memory"
    assert main(["compile", str(path), "-o", str(out), "--board", "qemu-mps2-an386", "--prefer", "speed", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["kernels"]["prefer"] == "speed" and r["kernels"]["memory_fallback"] == []
    assert r["arena_bytes"] > report["arena_bytes"]


def test_ram_budget_on_dsp_target_reaches_what_the_host_reaches():
    """Below the arena, per-op row streaming (portable kernels only) must stay available."""
    _, g = _load("pretrainedResnet_quant")
    host = lower(g, ram_budget=16000)
    prog = lower(g, ram_budget=16000, target=M4)
    assert prog.plan.arena_bytes == host.plan.arena_bytes <= 16000
    assert prog.ext_bytes == host.ext_bytes
