"""The layer-kind registry (mbcost/layers.py): every kind is fully described, every
consumer (builder, JSON Schema, docs, evaluators) reads it, and the validity rules the
builder records on nodes are the ones every evaluator checks."""

from __future__ import annotations

import json

import pytest
import yaml

from mbcost import design, graph, layers, schemas
from mbcost.cost import analyze
from mbcost.errors import SpecError
from mbcost.layers import FIELDS, LAYER_KINDS, PRIMITIVES, LayerKind

H = {"mbcost": 1, "name": "t", "input": [16, 16, 8]}


def _spec(layers_):
    return {**H, "layers": layers_}


def expression_fields():
    """{'kind.field': spec text with {v} where the expression goes} for every field the
    builder evaluates as an expression, from the registry: what the injection tests try
    (test_hostile.EXPRESSION_FIELDS)."""
    out = {}
    for kind in LAYER_KINDS.values():
        for f in list(kind.fields) + ["when"]:
            template = FIELDS[f].expr
            if template is None or (f == "when" and kind.name != "conv"):
                continue
            # the example's other fields; out and expand exclude each other
            item = {k: v for k, v in kind.example.items()
                    if k != f and not (f == "expand" and k == "out")}
            body = ", ".join(f"{k}: {json.dumps(v)}" for k, v in item.items())
            body += (", " if body else "") + f'{f}: "{template}"'
            text = "name: x\ninput: [32, 32, 3]\nlayers:\n  - " + kind.name + ": {{" + body + "}}\n"
            out["when" if f == "when" else f"{kind.name}.{f}"] = text
    return out


@pytest.mark.parametrize("name", sorted(LAYER_KINDS))
def test_every_kind_is_complete(name):
    assert LAYER_KINDS[name].problems() == []


def test_a_half_described_kind_is_refused():
    half = LayerKind("half", "", {"width": 1}, None, shorthand="size",
                     primitive=layers.Primitive("other", None, None, None))
    problems = half.problems()
    assert any("doc" in p for p in problems)
    assert any("expander" in p for p in problems)
    assert any("'width'" in p and "FIELDS" in p for p in problems)
    assert any("shorthand" in p for p in problems)
    assert any("primitive named" in p for p in problems)
    assert any("shape, cost or label" in p for p in problems)


@pytest.mark.parametrize("name", sorted(LAYER_KINDS))
def test_every_kind_builds_its_example_into_known_primitives(name):
    kind = LAYER_KINDS[name]
    g = graph.build_graph(_spec([{name: dict(kind.example)}]))
    assert all(n.kind in PRIMITIVES for n in g.nodes)
    if kind.primitive is not None:
        assert any(n.kind == name for n in g.nodes), "a kind with a primitive makes such a node"


def test_every_primitive_is_made_by_some_kind():
    made = set()
    for name, kind in LAYER_KINDS.items():
        made |= {n.kind for n in graph.build_graph(_spec([{name: dict(kind.example)}])).nodes}
    made |= {n.kind for n in graph.build_graph("mobilenet_v3_large").nodes}  # se's mul
    assert set(PRIMITIVES) <= made


def test_builder_schema_and_field_tables_read_the_registry():
    assert set(graph.KIND_FIELDS) == set(LAYER_KINDS)
    schema = schemas.spec_json_schema()
    for name, kind in LAYER_KINDS.items():
        d = schema["$defs"][f"kind_{name}"]
        assert d["description"] == kind.doc
        value = d["properties"][name]
        forms = value["anyOf"] if "anyOf" in value else [value]
        assert set(forms[0]["properties"]) == set(kind.fields) | set(layers.COMMON)
    for f, field in FIELDS.items():
        assert json.dumps(field.schema)  # plain JSON


def test_an_unknown_kind_is_refused_not_defaulted():
    with pytest.raises(SpecError, match="unknown layer kind 'channel_shufle'"):
        graph.build_graph(_spec([{"channel_shufle": {"groups": 2}}]))


def test_expression_fields_cover_every_evaluated_field():
    fields = expression_fields()
    # a kind's expression fields, from the registry: each has a spec text to inject into
    for name, kind in LAYER_KINDS.items():
        for f in kind.fields:
            if FIELDS[f].expr:
                assert f"{name}.{f}" in fields
    assert "when" in fields and "conv.groups" in fields and "pool.padding" in fields


# ---- validity rules recorded once, checked by every evaluator

def test_groups_rule_is_recorded_on_the_node():
    g = graph.build_graph(_spec([{"conv": {"k": 1, "out": 16, "groups": 4}}]))
    (check,) = g.nodes[0].checks
    assert isinstance(check, layers.Divides) and check.n == 4
    assert check.sizes == (8, 16)


def test_merge_rule_is_recorded_on_the_node():
    g = graph.build_graph(_spec([{"pw": {"out": 8, "name": "a"}}, {"add": "input"}]))
    add = g.nodes[-1]
    assert [type(c) for c in add.checks] == [layers.Equal] * 3


def test_the_grid_refuses_where_the_builder_refuses():
    # groups 4 divide 16 and 32 channels at alpha 1; at alpha 0.5 (8 and 16) too; at
    # alpha 0.25 truncation gives 4 and 8 - still divisible; alpha 0.3: 4 (int 4.8)
    # and 9 (int 9.6): 4 does not divide 9, so table refuses and sweep must not count
    spec = _spec([{"pw": {"out": 16}}, {"conv": {"k": 1, "out": 32, "groups": 4}}])
    ev = design.GridEvaluator(spec)
    for a in ("1", "0.5", "0.3"):
        try:
            want = analyze(spec, alpha=a).madds
        except SpecError:
            want = None
        if want is None:
            with pytest.raises(SpecError):
                ev.point(a, 16)
        else:
            assert ev.point(a, 16).madds == want
    with pytest.raises(SpecError, match="groups 4 must divide"):
        analyze(spec, alpha="0.3")


# ---- channel_shuffle (ShuffleNet §3.1): no cost, same shape, groups divide the channels

def test_channel_shuffle_keeps_the_shape_and_costs_nothing():
    spec = _spec([{"pw": {"out": 16}}, {"channel_shuffle": 4}, {"pw": {"out": 16}}])
    g = graph.build_graph(spec)
    shuffle = g.nodes[1]
    assert shuffle.kind == "channel_shuffle" and shuffle.attrs == {"groups": 4}
    assert shuffle.out_shape == shuffle.in_shapes[0] == (16, 16, 16)
    without = _spec([{"pw": {"out": 16}}, {"pw": {"out": 16}}])
    for conv in ("paper", "fvcore", "thop", "ptflops", "torchvision"):
        a, b = analyze(spec, convention=conv), analyze(without, convention=conv)
        assert (a.madds, a.params) == (b.madds, b.params)
        # 8 -> 16 and 16 -> 16 pointwise on 16 x 16 (MobileNets §3.1: M N D_F^2)
        if conv == "paper":
            assert a.madds == 8 * 16 * 256 + 16 * 16 * 256


def test_channel_shuffle_refuses_groups_that_do_not_divide():
    with pytest.raises(SpecError, match="groups 3 must divide the 16 input channels") as e:
        graph.build_graph(_spec([{"pw": {"out": 16}}, {"channel_shuffle": {"groups": 3}}]))
    assert e.value.field == "groups"


def test_channel_shuffle_rule_holds_in_the_grid_too():
    # 24 channels, groups 3: alpha 0.5 gives 12 (divisible), alpha 0.25 gives 6 (divisible),
    # alpha 0.4 gives int(9.6) = 9 (divisible), alpha 0.3 gives int(7.2) = 7: refused
    spec = _spec([{"pw": {"out": 24}}, {"channel_shuffle": 3}])
    ev = design.GridEvaluator(spec)
    for a in ("0.5", "0.25", "0.4"):
        assert ev.point(a, 16).madds == analyze(spec, alpha=a).madds
    with pytest.raises(SpecError, match="groups 3 must divide the 7 input channels"):
        analyze(spec, alpha="0.3")
    with pytest.raises(SpecError, match="groups 3 must divide"):
        ev.point("0.3", 16)


# ---- split (ShuffleNet V2, Ma et al. 2018, Figure 3(c)): one part of the channels, no cost

def _halves(take_first=None):
    """pw to 16 channels, then the two halves in parallel branches, the second convolved."""
    return _spec([{"pw": {"out": 16}},
                  {"parallel": {"name": "unit", "branches": [
                      [{"split": {"name": "x1", "take": 1}}],
                      [{"split": {"name": "x2", "take": 2}}, {"pw": {"name": "pw", "out": 8}}]]}}])


def test_split_halves_the_channels_and_costs_nothing():
    g = graph.build_graph(_halves())
    nodes = {n.name: n for n in g.nodes}
    x1, x2 = nodes["unit/b1/x1"], nodes["unit/b2/x2"]
    assert x1.kind == x2.kind == "split"
    assert x1.out_shape == x2.out_shape == (16, 16, 8) and x1.in_shapes[0] == (16, 16, 16)
    (check,) = x1.checks
    assert isinstance(check, layers.Divides) and (check.n, check.sizes) == (2, (16,))
    assert nodes["unit"].out_shape == (16, 16, 16)  # concat of 8 + 8
    for conv in ("paper", "fvcore", "thop", "ptflops", "torchprofile", "torchvision"):
        rows = {r.name: r for r in analyze(_halves(), convention=conv).rows}
        assert rows["unit/b1/x1"].madds == rows["unit/b1/x1"].params == 0
    # paper: 8 -> 16 and 8 -> 8 pointwise on 16 x 16 (MobileNets §3.1: M N D_F^2)
    assert analyze(_halves()).madds == 8 * 16 * 256 + 8 * 8 * 256


def test_split_in_listed_parts():
    spec = _spec([{"pw": {"out": 16}}, {"split": {"parts": [4, 12], "take": 2}}])
    node = graph.build_graph(spec).nodes[-1]
    assert node.out_shape == (16, 16, 12) and node.attrs["parts"] == 2
    (check,) = node.checks
    assert isinstance(check, layers.Equal) and check.sizes == (16, 16)
    # the shorthand: `- split: 1` is the first of two halves
    short = graph.build_graph(_spec([{"pw": {"out": 16}}, {"split": 1}])).nodes[-1]
    assert (short.attrs["take"], short.out_shape) == (1, (16, 16, 8))


@pytest.mark.parametrize("fields,message", [
    ({"parts": 3, "take": 1}, "3 parts must divide the 16 input channels"),
    ({"parts": [4, 8], "take": 1}, "the parts add up to 12 channels, the input has 16"),
    ({"parts": 2, "take": 3}, "must be a positive integer up to 2"),
    ({"parts": [8, 8], "take": 3}, "must be a positive integer up to 2"),
    ({"parts": 1, "take": 1}, "a split needs at least 2 parts"),
    ({"parts": [16], "take": 1}, "a list of at least 2 channel counts"),
    ({"parts": [8, "x"], "take": 1}, "unknown variable 'x'"),
    ({"parts": 2}, "'split' needs field 'take'"),
])
def test_split_refuses_bad_parts(fields, message):
    with pytest.raises(SpecError, match=message) as e:
        graph.build_graph(_spec([{"pw": {"out": 16}}, {"split": fields}]))
    assert e.value.field in ("parts", "take")


def test_split_agrees_in_every_evaluator():
    # listed parts scale with alpha like `out` (truncate): [4, 12] of a 16-channel pw; the
    # grid, the closed form and the exact build agree, and refuse alike where the parts no
    # longer add up (alpha 0.3: int(4.8) = 4 channels, parts int(1.2) + int(3.6) = 4 ... )
    from fractions import Fraction

    from mbcost import closed_form
    from mbcost.symbols import alpha, rho

    spec = {**_spec([{"pw": {"out": 16}}, {"split": {"parts": [4, 12], "take": 2}},
                     {"pw": {"out": 8}}]), "width": {"rule": "truncate"}}
    ev = design.GridEvaluator(spec)
    f = closed_form(spec)
    for a in ("0.5", "1", "2", "0.3", "0.75"):
        try:
            want = analyze(spec, alpha=a, resolution=32)
        except SpecError:
            with pytest.raises(SpecError, match="the parts add up to"):
                ev.point(a, 32)
            continue
        assert ev.point(a, 32).madds == want.madds and ev.point(a, 32).params == want.params
        if a in ("0.5", "1", "2"):  # channels exact multiples of alpha: the closed form is exact
            assert f.madds.subs({alpha: Fraction(a), rho: 2}) == want.madds
