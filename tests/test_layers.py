"""One cost rule per primitive kind; every expected count is derived by hand below.

Notation (MobileNets §3): D_K kernel, M input channels, N output channels, D_F output size.
Standard conv D_K·D_K·M·N·D_F·D_F; depthwise D_K·D_K·M·D_F·D_F; pointwise M·N·D_F·D_F.
"""

import pytest

import mbcost
from mbcost.errors import SpecError


def net(layers, inp=(8, 8, 16), **top):
    """A spec dict with the given layers and no BN/activation defaults."""
    return {"name": "t", "input": list(inp), "layers": layers, **top}


def rows(layers, inp=(8, 8, 16), convention="paper", **top):
    """{layer name: Row} of a small spec."""
    a = mbcost.analyze(net(layers, inp, **top), convention=convention)
    return {r.name: r for r in a.rows}


def one(layer, inp=(8, 8, 16), convention="paper", **top):
    """The Row of a spec with a single layer named 'x' (plus any layers it expands to)."""
    kind, fields = next(iter(layer.items()))
    return rows([{kind: {"name": "x", **fields}}], inp, convention, **top)["x"]


# ---------------------------------------------------------------- convolutions

def test_conv_plain():
    r = one({"conv": {"k": 3, "out": 32}})
    assert r.output == (8, 8, 32)                      # 'same', stride 1 keeps 8x8
    assert r.madds == 3 * 3 * 16 * 32 * 8 * 8 == 294_912
    assert r.params == 3 * 3 * 16 * 32 == 4_608
    assert r.op == "Conv 3x3"


def test_conv_strided_same_is_ceil():
    r = one({"conv": {"k": 3, "stride": 2, "out": 32}})
    assert r.output == (4, 4, 32)
    assert r.madds == 3 * 3 * 16 * 32 * 4 * 4 == 73_728
    r = one({"conv": {"k": 3, "stride": 2, "out": 32}}, inp=(7, 7, 16))
    assert r.output == (4, 4, 32)                      # ceil(7 / 2) = 4


@pytest.mark.parametrize("padding, stride, size", [
    ("same", 1, 8),     # ceil(8 / 1)
    ("valid", 1, 6),    # floor((8 - 3) / 1) + 1
    ("valid", 2, 3),    # floor((8 - 3) / 2) + 1 = 2 + 1
    (0, 1, 6),          # floor((8 + 0 - 3) / 1) + 1
    (1, 1, 8),          # floor((8 + 2 - 3) / 1) + 1
    (2, 2, 5),          # floor((8 + 4 - 3) / 2) + 1 = 4 + 1
])
def test_conv_padding(padding, stride, size):
    r = one({"conv": {"k": 3, "stride": stride, "out": 32, "padding": padding}})
    assert r.output == (size, size, 32)
    assert r.madds == 3 * 3 * 16 * 32 * size * size
    assert r.params == 3 * 3 * 16 * 32                # padding never changes the weights


def test_conv_valid_kernel_larger_than_input_is_an_error():
    with pytest.raises(SpecError, match="kernel 5 is larger than the 4x4 input"):
        one({"conv": {"k": 5, "out": 8, "padding": "valid"}}, inp=(4, 4, 3))


def test_conv_grouped():
    r = one({"conv": {"k": 3, "out": 32, "groups": 4}})
    # each output channel sees M / g = 16 / 4 = 4 input channels
    assert r.madds == 3 * 3 * 4 * 32 * 8 * 8 == 73_728
    assert r.params == 3 * 3 * 4 * 32 == 1_152
    assert r.op == "Conv 3x3 grouped"


def test_conv_groups_must_divide_channels():
    with pytest.raises(SpecError, match="groups 3 must divide"):
        one({"conv": {"k": 3, "out": 32, "groups": 3}})


def test_conv_bias():
    r = one({"conv": {"k": 1, "out": 32, "bias": True}})
    assert r.params == 16 * 32 + 32                    # weights + one bias per output channel
    assert r.madds == 16 * 32 * 64                     # bias adds are not mult-adds (paper)
    r = one({"conv": {"k": 1, "out": 32, "bias": True}}, convention="ptflops")
    assert r.madds == 16 * 32 * 64 + 32 * 64           # ptflops adds 1 per output element


def test_depthwise():
    r = one({"dw": {"k": 3}})
    assert r.output == (8, 8, 16)
    assert r.madds == 3 * 3 * 16 * 8 * 8 == 9_216      # D_K² · M · D_F²
    assert r.params == 3 * 3 * 16 == 144
    assert r.op == "Conv DW 3x3"


def test_depthwise_strided_and_5x5():
    r = one({"dw": {"k": 5, "stride": 2}})
    assert r.output == (4, 4, 16)
    assert r.madds == 5 * 5 * 16 * 4 * 4 == 6_400
    assert r.params == 5 * 5 * 16


def test_depthwise_multiplier():
    r = one({"dw": {"k": 3, "multiplier": 2}})
    # 2 filters per input channel: N = 16 · 2 = 32 outputs, each sees one input channel
    assert r.output == (8, 8, 32)
    assert r.madds == 3 * 3 * 32 * 8 * 8 == 18_432
    assert r.params == 3 * 3 * 32 == 288


def test_pointwise():
    r = one({"pw": {"out": 32}})
    assert r.madds == 16 * 32 * 8 * 8 == 32_768       # M · N · D_F²
    assert r.params == 16 * 32 == 512
    assert r.op == "Conv 1x1"


def test_pointwise_expand_is_a_ratio_of_actual_channels():
    r = one({"pw": {"expand": 6}})
    assert r.output == (8, 8, 96)                      # 16 · 6
    assert r.madds == 16 * 96 * 64


def test_dwsep_is_dw_then_pw():
    rs = rows([{"dwsep": {"name": "s", "k": 3, "stride": 2, "out": 32}}])
    assert list(rs) == ["s.dw", "s.pw"]
    assert rs["s.dw"].madds == 3 * 3 * 16 * 4 * 4      # strided depthwise: 4x4 out
    assert rs["s.pw"].madds == 16 * 32 * 4 * 4        # pointwise at the reduced size
    assert rs["s.pw"].output == (4, 4, 32)


# ---------------------------------------------------------------- fully connected

def test_fc_with_and_without_bias():
    r = one({"fc": {"out": 1000}}, inp=(1, 1, 1024))
    assert r.madds == 1024 * 1000 == 1_024_000
    assert r.params == 1024 * 1000 + 1000 == 1_025_000  # bias on by default
    r = one({"fc": {"out": 1000, "bias": False}}, inp=(1, 1, 1024))
    assert r.params == 1_024_000
    r = one({"fc": {"out": 1000}}, inp=(1, 1, 1024), convention="weights")
    assert r.params == 1_024_000                       # convention 'weights' drops biases


def test_fc_flattens_a_7x7_input():
    r = one({"fc": {"out": 10}}, inp=(7, 7, 64))
    assert r.output == (1, 1, 10)
    assert r.madds == 7 * 7 * 64 * 10 == 31_360
    assert r.params == 7 * 7 * 64 * 10 + 10 == 31_370


def test_fc_out_is_not_scaled_by_alpha():
    a = mbcost.analyze(net([{"fc": {"out": 100}}], (1, 1, 64)), alpha=0.5)
    assert a.rows[0].output == (1, 1, 100)


# ---------------------------------------------------------------- pooling

def test_global_pool():
    r = one({"pool": {"type": "global"}})
    assert r.output == (1, 1, 16)
    assert (r.madds, r.params) == (0, 0)               # paper: pooling is free
    assert one({"pool": {"type": "avg", "global": True}}).output == (1, 1, 16)
    # fvcore: 1 per input element = 8·8·16; thop: input + output elements = 1024 + 16
    assert one({"pool": {"type": "global"}}, convention="fvcore").madds == 8 * 8 * 16
    assert one({"pool": {"type": "global"}}, convention="thop").madds == 8 * 8 * 16 + 16


def test_avg_and_max_pool_windows():
    r = one({"pool": {"type": "avg", "k": 2}})          # stride defaults to k
    assert r.output == (4, 4, 16) and r.madds == 0
    r = one({"pool": {"type": "max", "k": 3, "stride": 2, "padding": "same"}})
    assert r.output == (4, 4, 16)                      # ceil(8 / 2)
    # ptflops: 2 per input element of a pool module = 2 · 8·8·16
    assert one({"pool": {"type": "max", "k": 2}}, convention="ptflops").madds == 2 * 1024
    # thop: windowed avg pool 1 per output element = 4·4·16
    assert one({"pool": {"type": "avg", "k": 2}}, convention="thop").madds == 4 * 4 * 16


def test_windowed_pool_needs_k():
    with pytest.raises(SpecError, match="needs field 'k'"):
        one({"pool": {"type": "max"}})


# ---------------------------------------------------------------- BN and activations

@pytest.mark.parametrize("convention, params, madds", [
    ("paper", 0, 0),                    # folded into the conv
    ("torchvision", 2 * 16, 0),         # gamma, beta
    ("keras", 4 * 16, 0),               # gamma, beta, moving mean, moving variance
    ("fvcore", 2 * 16, 2 * 8 * 8 * 16), # 2 per element
    ("thop", 2 * 16, 4 * 8 * 8 * 16),   # 4 per element
])
def test_bn_by_convention(convention, params, madds):
    r = one({"bn": {}}, convention=convention)
    assert r.output == (8, 8, 16)
    assert (r.params, r.madds) == (params, madds)


def test_conv_bn_act_tail_from_defaults():
    rs = rows([{"conv": {"name": "c", "k": 1, "out": 8}}], defaults={"bn": True, "act": "relu6"})
    assert list(rs) == ["c", "c.bn", "c.relu6"]


@pytest.mark.parametrize("fn", ["relu", "relu6", "hswish", "hsigmoid", "swish", "sigmoid", "tanh"])
def test_activations_cost_nothing_in_the_paper_convention(fn):
    r = one({fn: {}})
    assert r.output == (8, 8, 16) and (r.madds, r.params) == (0, 0)
    assert r.kind == "act"


def test_activation_elements_by_convention():
    # ptflops: ReLU 2 per element, ReLU6 1 per element, 8·8·16 = 1024 elements
    assert one({"relu": {}}, convention="ptflops").madds == 2 * 1024
    assert one({"relu6": {}}, convention="ptflops").madds == 1024


def test_linear_adds_no_layer():
    rs = rows([{"pw": {"name": "p", "out": 8}}, "linear"])
    assert list(rs) == ["p"]


# ---------------------------------------------------------------- squeeze-and-excite

def test_se_make_divisible_of_input():
    rs = rows([{"se": {"name": "se", "ratio": 0.25}}], inp=(8, 8, 32))
    # squeeze = make_divisible(32 · 1/4 = 8) = 8; 1x1 convs with bias on a 1x1 map
    assert rs["se.pool"].output == (1, 1, 32)
    assert rs["se.reduce"].output == (1, 1, 8)
    assert rs["se.reduce"].madds == 32 * 8 == 256
    assert rs["se.reduce"].params == 32 * 8 + 8 == 264
    assert rs["se.expand"].madds == 8 * 32 == 256
    assert rs["se.expand"].params == 8 * 32 + 32 == 288
    assert rs["se.scale"].output == (8, 8, 32)
    assert rs["se.scale"].madds == 0                   # the gate multiply is free (paper)
    total = mbcost.analyze(net([{"se": {"ratio": 0.25}}], (8, 8, 32)))
    assert (total.madds, total.params) == (512, 552)
    # torchprofile counts the gate multiply, one per element: 8·8·32
    tp = rows([{"se": {"name": "se", "ratio": 0.25}}], (8, 8, 32), convention="torchprofile")
    assert tp["se.scale"].madds == 8 * 8 * 32


def test_se_make_divisible_vs_truncate():
    # (the default ratio 1/4 is used here: it once failed as "not a number")
    # 20 · 1/4 = 5: make_divisible -> 8 (the minimum); truncate -> 5
    md = rows([{"se": {"name": "se"}}], inp=(4, 4, 20))
    tr = rows([{"se": {"name": "se", "round": "truncate"}}], inp=(4, 4, 20))
    assert md["se.reduce"].output[2] == 8
    assert tr["se.reduce"].output[2] == 5
    assert tr["se.reduce"].params == 20 * 5 + 5


def test_se_of_block_input():
    # EfficientNet: squeeze = max(1, int(block_input · 0.25)) of the block's input (16),
    # not of the expanded width (96): 16 / 4 = 4
    spec = net([{"mb": {"name": "b"}}], inp=(8, 8, 16), blocks={"mb": {"layers": [
        {"pw": {"expand": 6}},
        {"se": {"name": "se", "ratio": 0.25, "of": "block_input", "round": "truncate"}},
    ]}})
    rs = {r.name: r for r in mbcost.analyze(spec).rows}
    assert rs["b/se.reduce"].output == (1, 1, 4)
    assert rs["b/se.reduce"].madds == 96 * 4
    assert rs["b/se.expand"].output == (1, 1, 96)
    assert rs["b/se.expand"].params == 4 * 96 + 96


# ---------------------------------------------------------------- residual, add, concat

def _bottleneck(stride, out):
    return net([{"blk": {"name": "b"}}], inp=(8, 8, 16), blocks={"blk": {"layers": [
        {"pw": {"expand": 6}}, {"dw": {"k": 3, "stride": stride}}, {"pw": {"out": out}}, "residual",
    ]}})


def test_residual_added_when_shapes_match():
    a = mbcost.analyze(_bottleneck(1, 16))
    adds = [r for r in a.rows if r.kind == "add"]
    assert len(adds) == 1 and adds[0].output == (8, 8, 16) and adds[0].madds == 0
    # no bundled convention charges residual adds, but the element count is kept: 8·8·16
    assert adds[0].madd_terms == {"add": 8 * 8 * 16}


@pytest.mark.parametrize("stride, out", [(2, 16), (1, 24)])
def test_residual_skipped_when_shapes_differ(stride, out):
    a = mbcost.analyze(_bottleneck(stride, out))
    assert not [r for r in a.rows if r.kind == "add"]


def test_add_and_concat():
    rs = rows([{"pw": {"name": "a", "out": 8}}, {"pw": {"name": "b", "out": 8}},
               {"add": {"name": "s", "from": "a"}}, {"concat": {"name": "c", "from": ["a", "b", "s"]}}])
    assert rs["s"].output == (8, 8, 8)
    assert rs["c"].output == (8, 8, 24)                # 8 + 8 + 8 channels
    assert rs["c"].madds == rs["s"].madds == 0


def test_add_shape_mismatch_is_an_error():
    with pytest.raises(SpecError, match="cannot add tensors of shapes 8x8x16 vs 8x8x8"):
        rows([{"pw": {"name": "a", "out": 8}}, {"pw": {"name": "b", "out": 16}},
              {"add": {"name": "s", "from": "a"}}])


def test_concat_spatial_mismatch_is_an_error():
    with pytest.raises(SpecError, match="cannot concat tensors of shapes 8x8x8 vs 4x4x8"):
        rows([{"pw": {"name": "a", "out": 8}}, {"dw": {"name": "b", "stride": 2}},
              {"concat": {"name": "c", "from": ["a", "b"]}}])


def test_add_unknown_source_suggests():
    with pytest.raises(SpecError, match="no earlier layer named 'aa'"):
        rows([{"pw": {"name": "a", "out": 8}}, {"add": {"name": "s", "from": "aa"}}])


def test_zero_cost_kinds():
    rs = rows([{"dropout": {"name": "d", "p": 0.2}}, {"flatten": {"name": "f"}}])
    assert all((r.madds, r.params) == (0, 0) for r in rs.values())
