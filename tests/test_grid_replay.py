"""The fast grid's spatial replay (grid.GridEvaluator._replay): a new resolution replays
the tape's spatial steps instead of rebuilding the graph, and falls back to a whole build
wherever the replay is not certain to give the build's graph. Every expected number here
is analyze()'s at the same point (a whole build); every expected refusal is analyze()'s."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mbcost
from mbcost import design
from mbcost.errors import LimitError, MbcostError, SpecError
from mbcost.limits import MAX_RESOLUTION

ODD_RESOLUTIONS = (33, 65, 97, 131, 160, 227, 299)
CONVENTIONS = ("paper", "torchvision", "fvcore", "ptflops")


def _outcome(fn):
    """(madds, params) of fn(), or the class of the mbcost error it raises."""
    try:
        r = fn()
    except MbcostError as e:
        return type(e)
    return r.madds, r.params


def _same_as_analyze(ev, spec, alpha, res, convention, train=None):
    got = _outcome(lambda: ev.point(alpha, res))
    want = _outcome(lambda: mbcost.analyze(spec, alpha=alpha, resolution=res,
                                           convention=convention, train=train))
    assert got == want, (spec, alpha, res, convention)
    return want


@pytest.mark.parametrize("name", mbcost.bundled_names())
def test_every_bundled_spec_equals_analyze_at_small_and_odd_resolutions(name):
    spec = mbcost.load_spec(name)
    fixed = spec.rounding.rule == "fixed"  # channels fixed (an ONNX graph): alpha 1 only
    for i, conv in enumerate(CONVENTIONS[:2] if spec.input[0] > 300 else CONVENTIONS):
        ev = design.GridEvaluator(name, conv)
        alpha = 1 if fixed or i % 2 == 0 else Fraction(3, 4)
        for res in ODD_RESOLUTIONS[i::2]:
            _same_as_analyze(ev, name, alpha, res, conv)


@pytest.mark.parametrize("name", ["mobilenet_v2", "efficientnet_b0", "resnet50", "inception_v3"])
def test_the_replay_is_what_runs_where_it_can(name):
    # at the spec's own resolution nothing can differ from the build: a replay, no rebuild
    # (an idle train-only head, Inception-v3's, may clamp sizes the tape does not record:
    # there every resolution is a whole build, with --train none is idle)
    for train in (None, True):
        ev = design.GridEvaluator(name, train=train)
        res = ev.spec.input[0]
        ev.point(1, res)
        idle = name == "inception_v3" and not train
        assert (ev._replays[res] is None) == idle
        assert ev.work == ev.replay_cost + ev.spatial_cost + (ev.build_cost if idle else 0)
        assert ev.spatial_cost < ev.build_cost  # a replay is cheaper than a build
        for res in (97, 131):
            _same_as_analyze(ev, name, Fraction(1, 2), res, "paper", train)


def _spec(layers, size=8, blocks=None, c=8):
    d = {"mbcost": 1, "name": "t", "input": [size, size, c], "classes": 10,
         "width": {"rule": "make_divisible", "divisor": 8}, "layers": layers}
    if blocks:
        d["blocks"] = blocks
    return d


# a 1x1 conv with padding 1, stride 2 maps h to (h + 1) // 2 + 1: the block keeps its
# shape (and has its residual) only at h = 2 and h = 3
SHIFT = {"shift": {"layers": [{"conv": {"name": "c", "k": 1, "stride": 2, "padding": 1, "out": 8}},
                              {"residual": {"name": "r"}}]}}


def test_a_residual_that_appears_only_at_some_resolutions_is_a_whole_build_there():
    spec = _spec([{"shift": {}}, {"pool": {"type": "global"}}, {"fc": {"out": 10}}], 5, SHIFT)
    rebuilt = []
    for res in (5, 9, 3, 2, 17):
        ev = design.GridEvaluator(spec, "fvcore")
        _same_as_analyze(ev, spec, 1, res, "fvcore")
        extra = ev.work - ev.replay_cost - ev.spatial_cost  # beyond one replay of each
        assert extra in (0, ev.build_cost)
        rebuilt.append(extra > 0)
    assert rebuilt == [False, False, True, True, False]  # where the residual appears
    g3 = mbcost.build_graph(spec, resolution=3)
    assert "shift1/r" in [n.name for n in g3.nodes]  # the residual the replay cannot see
    assert "shift1/r" not in [n.name for n in mbcost.build_graph(spec).nodes]


def test_a_residual_that_a_later_layer_uses_refuses_where_it_is_gone():
    # at 3 px the residual exists and a later add takes it; at 5 px it is gone, so the
    # whole build refuses (no layer 'r'), and the sweep must refuse the same way
    spec = _spec([{"shift": {}}, {"pw": {"name": "p", "out": 8}}, {"add": {"from": "shift1/r"}},
                  {"pool": {"type": "global"}}, {"fc": {"out": 10}}], 3, SHIFT)
    ev = design.GridEvaluator(spec)
    assert _same_as_analyze(ev, spec, 1, 2, "paper")[0] > 0
    assert _same_as_analyze(ev, spec, 1, 5, "paper") is SpecError
    with pytest.raises(SpecError):
        design.sweep(spec, [1], [3, 5])


def test_a_kernel_larger_than_its_input_refuses_even_where_ceil_mode_gives_one():
    # a 3x3 valid pool, stride 2, ceil_mode on a 2x2 input: torch's formula gives 1, but the
    # builder refuses the kernel (layers.Fits); the replay checks the same record
    spec = _spec([{"pool": {"type": "max", "k": 3, "stride": 2, "padding": "valid",
                            "ceil_mode": True}}, {"pool": {"type": "global"}}, {"fc": {"out": 10}}])
    ev = design.GridEvaluator(spec)
    assert _same_as_analyze(ev, spec, 1, 2, "paper") is SpecError
    assert _same_as_analyze(ev, spec, 1, 4, "paper")[0] > 0
    assert ev._replays[2] is None


def test_merged_sizes_that_differ_at_a_resolution_refuse_like_the_build():
    # branches with stride 2 'same' and stride 2 valid k 1 agree on even sizes only
    spec = _spec([{"parallel": {"name": "m", "merge": "concat", "branches": [
        [{"conv": {"k": 3, "stride": 2, "out": 8}}], [{"conv": {"k": 1, "stride": 2, "padding": "valid", "out": 8}}]]}},
        {"pool": {"type": "global"}}, {"fc": {"out": 10}}])
    ev = design.GridEvaluator(spec)
    for res in (8, 12, 30):
        assert _same_as_analyze(ev, spec, 1, res, "paper")[0] > 0
    for res in (9, 33):
        # ceil(9/2) = 5, (9-1)//2+1 = 5: equal after all; 33 too: the replay knows it
        assert _same_as_analyze(ev, spec, 1, res, "paper")[0] > 0


def test_a_non_square_input_follows_the_specs_width_rule():
    spec = _spec([{"conv": {"k": 3, "stride": 2, "out": 8}}, {"conv": {"k": 3, "stride": 2, "padding": 1, "out": 16}},
                  {"pool": {"type": "global"}}, {"fc": {"out": 10}}])
    spec["input"] = [10, 17, 3]
    ev = design.GridEvaluator(spec)
    for res in (10, 11, 13, 33, 97):
        _same_as_analyze(ev, spec, Fraction(1, 2), res, "torchvision")
    assert all(ev._replays[r] is not None for r in (10, 11, 13, 33, 97))


def test_an_idle_head_whose_sizes_are_clamped_at_small_resolutions_equals_analyze():
    # in eval the head never runs: below 20 px its 5x5 valid pool has no output, shown as
    # 1x1 (its FC's parameters then count 1x1 inputs); with train=True the build refuses
    spec = _spec([{"conv": {"k": 3, "stride": 2, "out": 16}},
                  {"head": {"name": "aux", "train": True, "layers": [
                      {"pool": {"type": "avg", "k": 5, "stride": 3, "padding": "valid"}},
                      {"conv": {"k": 1, "out": 8}}, {"flatten": {}}, {"fc": {"out": 10}}]}},
                  {"pool": {"type": "global"}}, {"fc": {"out": 10}}], 32)
    for train in (None, True):
        ev = design.GridEvaluator(spec, train=train)
        outcomes = [_same_as_analyze(ev, spec, a, r, "paper", train)
                    for a in (1, Fraction(1, 2)) for r in (8, 16, 19, 20, 33, 47)]
        assert (SpecError in outcomes) == bool(train)
    p8, p47 = (mbcost.analyze(spec, resolution=r).params for r in (8, 47))
    # the head's FC: at 47 px the pool maps 24x24 to 7x7 (7x7x8 inputs), at 8 px 4x4 to 1x1
    assert p47 - p8 == (7 * 7 - 1) * 8 * 10
    # the same spec made at 8 px: its own graph has the clamped 1x1, which other
    # resolutions do not (the grid may not carry it over)
    spec["input"] = [8, 8, 8]
    ev = design.GridEvaluator(spec)
    for r in (47, 8, 33):
        _same_as_analyze(ev, spec, 1, r, "paper")


def test_a_size_that_reaches_zero_refuses_like_the_build():
    # an explicit padding 0, 3x3 conv (no valid-padding rule) on a 2x2 input has no output
    spec = _spec([{"conv": {"k": 3, "padding": 0, "out": 8}}, {"pool": {"type": "global"}},
                  {"fc": {"out": 10}}])
    ev = design.GridEvaluator(spec)
    assert _same_as_analyze(ev, spec, 1, 2, "paper") is SpecError
    assert _same_as_analyze(ev, spec, 1, 3, "paper")[0] > 0


def test_a_size_past_the_resolution_limit_refuses_like_the_build():
    # padding 2 on a 1x1 conv grows the side by 4: past MAX_RESOLUTION from 16,381 px on
    spec = _spec([{"conv": {"k": 1, "padding": 2, "out": 8}}, {"pool": {"type": "global"}},
                  {"fc": {"out": 10}}])
    ev = design.GridEvaluator(spec)
    assert _same_as_analyze(ev, spec, 1, MAX_RESOLUTION - 4, "paper")[0] > 0
    assert _same_as_analyze(ev, spec, 1, MAX_RESOLUTION - 3, "paper") is LimitError


# ---- random small specs: strides, paddings, ceil_mode, adaptive pools, residuals, concat

@st.composite
def _windowed(draw, stride=None):
    k = draw(st.integers(1, 4))
    s = draw(st.sampled_from([1, 1, 2, 2, 3])) if stride is None else stride
    pad = draw(st.sampled_from(["same", "valid", 0, 1, 2]))
    if pad not in ("same", "valid") and pad * 2 > k:
        pad = k // 2
    if draw(st.booleans()):
        return {"conv": {"k": k, "stride": s, "padding": pad, "out": draw(st.sampled_from([8, 16]))}}
    p = {"type": draw(st.sampled_from(["max", "avg"])), "k": k, "stride": s,
         "padding": "valid" if pad == "same" else pad}
    if draw(st.booleans()):
        p["ceil_mode"] = True
    return {"pool": p}


@st.composite
def _layer(draw):
    kind = draw(st.sampled_from(["win", "win", "block", "concat", "adaptive"]))
    if kind == "win":
        return draw(_windowed())
    if kind == "adaptive":
        return {"pool": {"type": draw(st.sampled_from(["avg", "max"])),
                         "out_size": draw(st.sampled_from([1, 2, 3, [2, 3]]))}}
    if kind == "concat":  # mostly branches of one stride (their sizes often agree)
        s = draw(st.sampled_from([1, 2, None]))
        return {"parallel": {"merge": "concat", "branches": [[draw(_windowed(s))],
                                                             [draw(_windowed(s))]]}}
    return {draw(st.sampled_from(sorted(BLK))): {"s": draw(st.integers(1, 2)),
                                                  "k": draw(st.sampled_from([1, 3]))}}


# inverted-residual-like blocks whose residual exists where the dw keeps the size
BLK = {f"blk_{pad}": {"args": {"s": 1, "k": 1}, "layers": [
    {"dw": {"k": "k", "stride": "s", "padding": pad}}, {"pw": {"out": 16}}, "residual"]}
    for pad in ("same", "valid", 1)}


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(layers=st.lists(_layer(), min_size=1, max_size=4), size=st.integers(6, 40),
       wide=st.integers(0, 2), res=st.lists(st.integers(1, 70), min_size=1, max_size=4),
       alpha=st.sampled_from([1, Fraction(1, 2), Fraction(3, 2)]),
       convention=st.sampled_from(["paper", "torchvision", "fvcore", "thop"]))
def test_random_small_specs_equal_analyze_at_random_resolutions(layers, size, wide, res, alpha,
                                                                 convention):
    spec = _spec(layers + [{"pool": {"type": "global"}}, {"fc": {"out": 10}}], size, BLK, c=16)
    spec["input"][1] = size + wide
    try:
        ev = design.GridEvaluator(spec, convention)
    except MbcostError:
        return  # the spec is refused at its own size (the builder's business, not the grid's)
    for r in res:
        _same_as_analyze(ev, spec, alpha, r, convention)
