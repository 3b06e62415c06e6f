"""The generator's scratch sizes for the specialised depthwise kernels (evo/ops/depthwise_fast.py)
equal what the kernels ask for (their *_get_buffer_size), over widths, strides, channel counts."""
from __future__ import annotations

import pytest

from evo.ops import depthwise_fast as dw
from tests.support.kernels import KERNELS, _declarations, header_cdef, load_kernels


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    cdef = header_cdef("conv.h") + _declarations((KERNELS / "include" / "evo" / "depthwise_fast.h").read_text())
    return load_kernels(tmp_path_factory.mktemp("dwfast"), ["depthwise_conv2d_s8_planar.c", "depthwise_conv2d_s8_pairs.c",
                                                                     "depthwise_conv2d_s8_blocked.c"], cdef)


@pytest.mark.parametrize("ow", [1, 2, 5, 8, 9, 48])
@pytest.mark.parametrize("sw", [1, 2])
@pytest.mark.parametrize("c", [1, 3, 64])
def test_scratch_bytes_match_the_kernels(kernels, ow, sw, c):
    ffi, lib = kernels
    p = {"in": [1, 7, (ow - 1) * sw + 1, c], "out": [1, 5, ow, c], "kh": 3, "kw": 3, "stride_w": sw}
    cp = ffi.new("evo_depthwise_conv2d_s8_params_t *")
    cp.out.n, cp.out.h, cp.out.w, cp.out.c = p["out"]
    src = getattr(cp, "in")  # a Python keyword as a field name
    src.n, src.h, src.w, src.c = p["in"]
    cp.kh, cp.kw, cp.stride_h, cp.stride_w, cp.depth_multiplier = 3, 3, 1, sw, 1
    assert lib.evo_depthwise_conv2d_s8_planar_get_buffer_size(cp) == dw.planar_scratch_bytes(p)
    assert lib.evo_depthwise_conv2d_s8_pairs_get_buffer_size(cp) == dw.pairs_scratch_bytes(p)
    for pad in (0, 1):  # SAME's left pad: the last pair read may be all padding (the blocked ring drops it)
        cp.pad_w = p["pad_w"] = pad
        for group in {1, 4, c}:
            assert lib.evo_depthwise_conv2d_s8_blocked_get_buffer_size(cp, group) == dw.blocked_scratch_bytes(p, group)
