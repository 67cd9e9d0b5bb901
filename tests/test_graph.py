"""Expansion and shape propagation: blocks, repeats, when, names, width rounding, scale."""

import pytest

import mbcost
from mbcost.errors import SpecError


def net(layers, inp=(8, 8, 16), **top):
    """A spec dict with the given layers."""
    return {"name": "t", "input": list(inp), "layers": layers, **top}


def shapes(spec, **kw):
    """{layer name: output shape} at a concrete point."""
    return {r.name: r.output for r in mbcost.analyze(spec, **kw).rows}


def names(spec, **kw):
    """Layer names in order."""
    return [r.name for r in mbcost.analyze(spec, **kw).rows]


# ---------------------------------------------------------------- shape propagation

def test_mobilenet_v1_shapes_follow_table_1():
    s = shapes("mobilenet_v1")
    # Table 1 input sizes: 224 -> 112 (conv s2) -> 56 -> 28 -> 14 -> 7 (dw s2 each)
    assert s["conv1"] == (112, 112, 32)
    assert s["conv2.pw"] == (112, 112, 64)
    assert s["conv3.dw"] == (56, 56, 64)
    assert s["conv5.dw"] == (28, 28, 128)
    assert s["conv7.dw"] == (14, 14, 256)
    assert s["conv12.pw"] == (14, 14, 512)
    assert s["conv13.pw"] == (7, 7, 1024)
    assert s["conv14.dw"] == (7, 7, 1024)  # stride 1: Table 1's "s2" here is a typo
    assert s["avgpool"] == (1, 1, 1024)
    assert s["fc"] == (1, 1, 1000)


def test_same_padding_rounds_up_at_odd_sizes():
    s = shapes("mobilenet_v1", resolution=200)
    # ceil(200/2) = 100, ceil(100/2) = 50, ceil(50/2) = 25, ceil(25/2) = 13, ceil(13/2) = 7
    assert [s[n][0] for n in ("conv1", "conv3.dw", "conv5.dw", "conv7.dw", "conv13.dw")] == \
        [100, 50, 25, 13, 7]


def test_spatial_size_reaching_zero_is_an_error():
    with pytest.raises(SpecError, match="spatial size reaches zero"):
        # (3 + 2·0 - 5) // 1 + 1 = -1
        mbcost.analyze(net([{"conv": {"k": 5, "out": 8, "padding": 0}}], inp=(3, 3, 3)))


# ---------------------------------------------------------------- blocks

BLOCKS = {"blk": {"args": {"c": None, "s": 1}, "layers": [
    {"dw": {"name": "dw", "k": 3, "stride": "s"}}, {"pw": {"name": "pw", "out": "c"}}]}}


def test_block_with_args_and_expression_args():
    s = shapes(net([{"blk": {"name": "a", "c": "2 * 16", "s": 2}}], blocks=BLOCKS))
    assert s == {"a/dw": (4, 4, 16), "a/pw": (4, 4, 32)}


def test_block_default_arg():
    s = shapes(net([{"blk": {"name": "a", "c": 24}}], blocks=BLOCKS))
    assert s["a/dw"] == (8, 8, 16)  # s defaults to 1


def test_block_missing_and_unknown_args():
    with pytest.raises(SpecError, match="block 'blk' needs argument 'c'"):
        mbcost.analyze(net([{"blk": {"s": 2}}], blocks=BLOCKS))
    with pytest.raises(SpecError, match="block 'blk' has no argument 'cc'.*did you mean 'c'"):
        mbcost.analyze(net([{"blk": {"cc": 8}}], blocks=BLOCKS))


def test_repeats_only_the_first_strides():
    s = shapes(net([{"blk": {"name": "r", "c": 32, "s": 2, "n": 3}}], inp=(16, 16, 16), blocks=BLOCKS))
    assert list(s) == ["r.1/dw", "r.1/pw", "r.2/dw", "r.2/pw", "r.3/dw", "r.3/pw"]
    assert s["r.1/dw"] == (8, 8, 16)   # 16 / 2
    assert s["r.2/dw"] == (8, 8, 32)   # stride 1 from the second repetition on
    assert s["r.3/pw"] == (8, 8, 32)


def test_zero_repeats_is_nothing():
    assert names(net([{"pw": {"name": "p", "out": 8}}, {"blk": {"c": 8, "n": 0}}], blocks=BLOCKS)) == ["p"]


def test_depth_multiplier_ceils_repeats():
    spec = net([{"blk": {"name": "r", "c": 16, "n": 3}}], blocks=BLOCKS, depth={"multiplier": 1.1})
    # EfficientNet round_repeats: ceil(1.1 · 3) = ceil(3.3) = 4
    assert len(names(spec)) == 4 * 2


def test_mobilenet_v2_repeats():
    s = shapes("mobilenet_v2")
    assert s["bottleneck4.1/dw"] == (14, 14, 192)  # t=6, c=64, n=4, s=2: first strides, 28 -> 14
    assert s["bottleneck4.4/dw"] == (14, 14, 384)  # last repetition at stride 1, input 64 · 6
    assert s["bottleneck4.4/residual1"] == (14, 14, 64)


def test_word_valued_block_args():
    blocks = {"b": {"args": {"act": "relu"}, "layers": [{"pw": {"name": "p", "out": 8, "act": "act"}}]}}
    assert names(net([{"b": {"name": "x", "act": "hswish"}}], blocks=blocks)) == ["x/p", "x/p.hswish"]
    assert names(net([{"b": {"name": "x"}}], blocks=blocks)) == ["x/p", "x/p.relu"]


def test_recursive_block_is_refused():
    blocks = {"b": {"layers": ["b"]}}
    with pytest.raises(SpecError, match="uses itself"):
        mbcost.analyze(net(["b"], blocks=blocks))


# ---------------------------------------------------------------- when

def test_when_skips_layers():
    blocks = {"b": {"args": {"t": None}, "layers": [
        {"pw": {"name": "expand", "expand": "t", "when": "t != 1"}}, {"dw": {"name": "dw"}}]}}
    spec = net([{"b": {"name": "one", "t": 1}}, {"b": {"name": "six", "t": 6}},
                {"pw": {"name": "off", "out": 8, "when": False}},
                {"pw": {"name": "on", "out": 8, "when": "classes > 10"}}], blocks=blocks)
    assert names(spec) == ["one/dw", "six/expand", "six/dw", "on"]


def test_when_on_a_block_use():
    spec = net([{"blk": {"name": "a", "c": 8, "when": 0}}, {"pw": {"name": "p", "out": 8}}], blocks=BLOCKS)
    assert names(spec) == ["p"]


# ---------------------------------------------------------------- names

def test_auto_names_count_per_kind():
    spec = net(["relu", {"pw": {"out": 8}}, {"pw": {"out": 8}}, "relu", {"blk": {"c": 8}}], blocks=BLOCKS)
    assert names(spec) == ["relu1", "pw1", "pw2", "relu2", "blk1/dw", "blk1/pw"]


def test_explicit_names_and_block_prefixes():
    spec = net([{"pw": {"name": "stem", "out": 8}}, {"blk": {"name": "stage", "c": 8}}], blocks=BLOCKS)
    assert names(spec) == ["stem", "stage/dw", "stage/pw"]


def test_duplicate_names_rejected():
    with pytest.raises(SpecError) as e:
        mbcost.analyze(net([{"pw": {"name": "x", "out": 8}}, {"dw": {"name": "x"}}]))
    assert "layer 'x'" in str(e.value) and "duplicate layer name" in str(e.value)


def test_unknown_kind_and_field_suggest():
    with pytest.raises(SpecError, match="unknown layer kind 'dwsp'.*did you mean 'dwsep'"):
        mbcost.analyze(net([{"dwsp": {"out": 8}}]))
    with pytest.raises(SpecError, match="unknown field for 'conv'.*did you mean 'stride'"):
        mbcost.analyze(net([{"conv": {"k": 3, "out": 8, "strde": 2}}]))


# ---------------------------------------------------------------- width rounding

def _out(spec_top, alpha, c=32, **fields):
    spec = net([{"pw": {"name": "p", "out": c, **fields}}], **spec_top)
    return mbcost.analyze(spec, alpha=alpha).rows[0].output[2]


@pytest.mark.parametrize("alpha, truncate, divisible", [
    (1, 32, 32),
    (0.75, 24, 24),     # 24 exactly
    (0.3, 9, 16),       # 9.6: int -> 9; nearest 8 is < 0.9 · 9.6, so 16
    (0.5, 16, 16),
    (0.1, 8, 8),        # 3.2: both floored at the minimum 8
])
def test_truncate_vs_make_divisible(alpha, truncate, divisible):
    assert _out({"width": {"rule": "truncate", "min": 8}}, alpha) == truncate
    assert _out({"width": {"rule": "make_divisible", "divisor": 8}}, alpha) == divisible


def test_truncate_without_minimum_keeps_one_channel():
    assert _out({"width": {"rule": "truncate"}}, 0.1) == 3   # int(3.2)


def test_v1_uses_tf_slim_truncation():
    # TF-slim depth(d) = max(int(d · alpha), 8): at alpha 0.3, 32 -> 9, 64 -> 19, 1024 -> 307
    s = shapes("mobilenet_v1", alpha=0.3)
    assert s["conv1"][2] == 9 and s["conv2.pw"][2] == 19 and s["conv14.pw"][2] == 307


def test_spec_width_multiplier_compounds_alpha():
    assert _out({"width": {"rule": "truncate", "multiplier": 0.5}}, 0.5) == 8  # 32 · 0.5 · 0.5


def test_scale_false_and_up():
    md = {"width": {"rule": "make_divisible"}}
    assert _out(md, 0.5, scale=False) == 32                  # never scaled
    assert _out(md, 0.5, c=1280, scale="up") == 1280          # kept when alpha < 1
    assert _out(md, 1.4, c=1280, scale="up") == 1792          # 1280 · 1.4 = 1792, a multiple of 8
    assert _out(md, 0.5, c=1280) == 640


def test_v2_head_kept_below_one():
    s = shapes("mobilenet_v2", alpha=0.5)
    assert s["conv_last"][2] == 1280 and s["conv1"][2] == 16


def test_expand_is_not_scaled_again():
    spec = net([{"pw": {"name": "a", "out": 24}}, {"pw": {"name": "b", "expand": 6}}],
               width={"rule": "make_divisible"})
    s = shapes(spec, alpha=0.5)
    # a: make_divisible(24 · 0.5 = 12) = 16; b: make_divisible(16 · 6) = 96, not 96 · 0.5
    assert s["a"][2] == 16 and s["b"][2] == 96


def test_symbolic_graph_has_the_same_structure():
    spec = mbcost.load_spec("mobilenet_v2")
    exact = mbcost.build_graph(spec)
    sym = mbcost.build_graph(spec, symbolic=True)
    assert [n.name for n in exact.nodes] == [n.name for n in sym.nodes]
    assert [n.out_shape for n in exact.nodes] == [tuple(x.base for x in n.out_shape) for n in sym.nodes]


# ---------------------------------------------------------------- located layer errors

LAYER_FILE = """mbcost: 1
name: x
input: [8, 8, 3]
layers:
  - conv:
      name: c1
      k: 3
      {field}
      out: 8
  - pw: {{name: p, out: "{out}"}}
"""


@pytest.mark.parametrize("field, out, message", [
    ("stride: -1", "8", "net.yaml:8: layer 'c1': field 'stride': must be a positive integer up to 1024 (got -1)"),
    ("strde: 2", "8", "net.yaml:8: layer 'c1': field 'strde': unknown field for 'conv' (did you mean 'stride'?)"),
    ("stride: 1", "2 * q", "net.yaml:10: layer 'p': field 'out': unknown variable 'q' "
                           "(known: block_in_c, classes, in_c) (got '2 * q')"),
    ("padding: sme", "8", "net.yaml:8: layer 'c1': field 'padding': must be same, valid or a "
                          "non-negative integer (got 'sme')"),
])
def test_layer_errors_are_one_located_line(tmp_path, monkeypatch, field, out, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.yaml").write_text(LAYER_FILE.format(field=field, out=out))
    with pytest.raises(SpecError) as e:
        mbcost.analyze("net.yaml")
    assert str(e.value) == message
