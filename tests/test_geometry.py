"""Spatial geometry of layers: ceil_mode and adaptive pools (issue 11). Every expected
size and count is derived by hand below, from torch's rules:
- ceil_mode (aten/src/ATen/native/Pool.h, pooling_output_shape): out = ceil((H + 2p - k) / s)
  + 1, less one when the last window would start beyond the input and its left padding,
  (out - 1)·s >= H + p;
- an adaptive pool's output is its output_size whatever the input (torch.nn.AdaptiveAvgPool2d).
Each evaluator (exact, sweep/fit grid, closed form at alpha = rho = 1) must agree."""

from __future__ import annotations

import pytest

import mbcost
from mbcost import design
from mbcost.cost import CONVENTIONS
from mbcost.domains import spatial_size
from mbcost.errors import SpecError


def net(layers, inp=(8, 8, 16)):
    return {"name": "t", "input": list(inp), "layers": layers}


def rows(layers, inp=(8, 8, 16), convention="paper", resolution=None):
    a = mbcost.analyze(net(layers, inp), convention=convention, resolution=resolution)
    return {r.name: r for r in a.rows}


def agree(spec, resolutions, alphas=("1", "0.5", "0.75")):
    """The grid (sweep, fit) gives analyze's exact totals at every point under every
    convention, and the closed form is exact at alpha = rho = 1."""
    for conv in CONVENTIONS:
        ev = design.GridEvaluator(spec, conv)
        for a in alphas:
            for r in resolutions:
                p = ev.point(a, r)
                want = mbcost.analyze(spec, alpha=a, resolution=r, convention=conv)
                assert (p.madds, p.params) == (want.madds, want.params), (conv, a, r)
        assert mbcost.closed_form(spec, convention=conv).exact_at_base, conv


# ---------------------------------------------------------------- ceil_mode

@pytest.mark.parametrize("h, k, s, p, floor_out, ceil_out", [
    (112, 3, 2, 0, 55, 56),   # GoogLeNet's first max pool: (112-3)/2 = 54.5
    (13, 3, 2, 0, 6, 6),      # (13-3)/2 = 5 exactly: ceil changes nothing
    (6, 3, 3, 1, 2, 3),       # (6+2-3)/3 = 1.67: the third window starts at 5 < 6 + 1
    (5, 2, 2, 1, 3, 3),       # ceil((5+2-2)/2) + 1 = 4, but (4-1)·2 = 6 >= 5+1: dropped
])
def test_ceil_mode_sizes(h, k, s, p, floor_out, ceil_out):
    pad = p if p else "valid"
    assert spatial_size(h, k, s, pad) == floor_out
    assert spatial_size(h, k, s, pad, ceil=True) == ceil_out
    r = rows([{"pool": {"name": "x", "type": "max", "k": k, "stride": s, "padding": pad,
                        "ceil_mode": True}}], (h, h, 4))["x"]
    assert r.output == (ceil_out, ceil_out, 4)


def _windows(h, k, s, p, ceil):
    """Output size by counting windows on the padded input (positions 0 .. h+2p-1): window i
    starts at i·s. Floor mode keeps the windows that fit; ceil mode also keeps a last
    partial one, as long as the window before it did not reach the end already and it
    starts inside the input or the left padding (i·s < h + p)."""
    n, i = 0, 0
    while True:
        if i * s + k <= h + 2 * p:
            n += 1
        elif ceil and (i - 1) * s + k < h + 2 * p and i * s < h + p:
            n += 1
        else:
            return n
        i += 1


def test_ceil_mode_matches_counting_windows():
    # every small case torch allows (padding at most half the kernel, kernel within the
    # padded input), against the window count above
    for h in range(1, 30):
        for k in range(1, 6):
            for s in range(1, 5):
                for p in range(0, k // 2 + 1):
                    if k > h + 2 * p:
                        continue
                    pad = p if p else "valid"
                    for ceil in (False, True):
                        assert spatial_size(h, k, s, pad, ceil) == _windows(h, k, s, p, ceil), \
                            (h, k, s, p, ceil)


def test_ceil_mode_feeds_the_next_layers():
    # 112 -> max pool 3/2 ceil -> 56 -> conv 1x1 8 -> 16 channels: 8·16·56·56
    spec = net([{"pool": {"type": "max", "k": 3, "stride": 2, "ceil_mode": True}},
                {"conv": {"k": 1, "out": 16}}], (112, 112, 8))
    assert mbcost.analyze(spec).madds == 8 * 16 * 56 * 56
    assert mbcost.analyze(spec, resolution=100).madds == 8 * 16 * 50 * 50  # 48.5 -> 49 + 1


def test_ceil_mode_evaluators_agree():
    spec = net([{"conv": {"k": 7, "stride": 2, "padding": 3, "out": 16}},
                {"pool": {"type": "max", "k": 3, "stride": 2, "ceil_mode": True}},
                {"conv": {"k": 3, "out": 32}},
                {"pool": {"type": "avg", "k": 3, "stride": 2, "padding": 1, "ceil_mode": True}},
                {"pool": {"type": "global"}}, {"fc": {"out": 10}}], (224, 224, 3))
    agree(spec, (224, 160, 97, 64))


def test_ceil_mode_refusals():
    with pytest.raises(SpecError, match="ceil_mode needs padding valid") as e:
        rows([{"pool": {"type": "max", "k": 3, "stride": 2, "padding": "same",
                        "ceil_mode": True}}])
    assert e.value.field == "ceil_mode"
    with pytest.raises(SpecError, match="global pool takes no ceil_mode"):
        rows([{"pool": {"type": "global", "ceil_mode": True}}])
    with pytest.raises(SpecError, match="must be true or false"):
        rows([{"pool": {"type": "max", "k": 2, "ceil_mode": "yes"}}])
    # torch: "pad should be at most half of effective kernel size" (k 2: padding 1 at most)
    with pytest.raises(SpecError, match="more than half the kernel") as e:
        rows([{"pool": {"type": "max", "k": 2, "stride": 2, "padding": 2, "ceil_mode": True}}])
    assert e.value.field == "padding"
    rows([{"pool": {"type": "max", "k": 2, "stride": 2, "padding": 1, "ceil_mode": True}}])


def test_exact_form_ceil_mode_is_torchs_rule():
    # exact_form writes ceil_mode as min(ceiling((h+2p-k)/s) + 1, ceiling((h+p)/s)); on every
    # case torch allows (as test_ceil_mode_matches_counting_windows) it is the window count
    import sympy

    from mbcost.exact_form import spatial

    x = sympy.Symbol("x", positive=True, integer=True)
    for k in range(1, 6):
        for s in range(1, 5):
            for p in range(0, k // 2 + 1):
                form = spatial(x, k, s, p if p else "valid", ceil=True)
                for h in range(max(1, k - 2 * p), 30):
                    assert form.subs(x, h) == _windows(h, k, s, p, True), (h, k, s, p)


# ---------------------------------------------------------------- adaptive pools

ALEX_TAIL = [{"pool": {"type": "avg", "out_size": 6, "name": "avgpool"}},
             {"fc": {"out": 10, "name": "fc"}}]


@pytest.mark.parametrize("size", [13, 6, 4])
def test_adaptive_pool_output_is_fixed(size):
    # whatever the input, the FC sees 6·6·256: 9216·10 MACs and 9216·10 + 10 params
    r = rows(ALEX_TAIL, (size, size, 256))
    assert r["avgpool"].output == (6, 6, 256)
    assert (r["fc"].madds, r["fc"].params) == (9216 * 10, 9216 * 10 + 10)
    assert r["avgpool"].op == "Adaptive avg pool"


@pytest.mark.parametrize("size", [6, 4, 13])
def test_adaptive_avg_pool_by_convention(size):
    # fvcore adaptive_avg_pool2d: 1 per input element (AlexNet at 224: 6·6·256 = 9,216);
    # torchprofile: 1 per output element; thop (k+1) per output element with
    # k = size²/36: input + output; ptflops: input elements, twice for a module
    n_in, n_out = size * size * 256, 6 * 6 * 256
    want = {"paper": 0, "torchvision": 0, "fvcore": n_in, "torchprofile": n_out,
            "thop": n_in + n_out, "ptflops": 2 * n_in, "ptflops_aten": 0, "torchinfo": 0}
    for conv, n in want.items():
        assert rows(ALEX_TAIL[:1], (size, size, 256), conv)["avgpool"].madds == n, conv
    fn = [{"pool": {"type": "avg", "out_size": 6, "name": "avgpool", "call": "functional"}}]
    assert rows(fn, (size, size, 256), "ptflops")["avgpool"].madds == n_in
    assert rows(fn, (size, size, 256), "thop")["avgpool"].madds == 0


def test_adaptive_max_pool_counts_as_a_max_pool():
    r = {c: rows([{"pool": {"type": "max", "out_size": [2, 3], "name": "p"}}], (8, 8, 4), c)["p"]
         for c in ("ptflops", "fvcore", "thop", "torchprofile")}
    assert r["ptflops"].output == (2, 3, 4) and r["ptflops"].op == "Adaptive max pool"
    assert r["ptflops"].madds == 2 * 8 * 8 * 4  # nn.AdaptiveMaxPool2d: module hook + F.*
    assert r["fvcore"].madds == r["thop"].madds == r["torchprofile"].madds == 0


def test_adaptive_pool_evaluators_agree():
    spec = net([{"conv": {"k": 3, "stride": 2, "out": 16}},
                {"pool": {"type": "avg", "out_size": 7}},
                {"fc": {"out": 32}}, {"fc": {"out": 10}}], (64, 64, 3))
    agree(spec, (64, 32, 14, 9))
    # the closed form: the FC after the pool does not scale with rho
    f = mbcost.closed_form(spec, convention="paper")
    from mbcost.symbols import rho
    fc = [m for name, _, m, _, _ in f.layers if name == "fc1"][0]
    assert not fc.has(rho)


@pytest.mark.parametrize("fields, field, message", [
    ({"out_size": 6, "k": 2}, "k", "takes no 'k'"),
    ({"out_size": 6, "stride": 2}, "stride", "takes no 'stride'"),
    ({"out_size": 6, "ceil_mode": True}, "ceil_mode", "takes no 'ceil_mode'"),
    ({"out_size": 6, "type": "global"}, "global", "takes no 'global'"),
    ({"out_size": 0}, "out_size", "positive integer"),
    ({"out_size": [2, 3, 4]}, "out_size", r"list \[height, width\] of two"),
    ({"out_size": "6 +"}, "out_size", "out_size"),
])
def test_adaptive_pool_refusals(fields, field, message):
    with pytest.raises(SpecError, match=message) as e:
        rows([{"pool": fields}])
    assert e.value.field == field


# ---------------------------------------------------------------- rectangular kernels, dilation

def test_rectangular_kernels_inception_style():
    # Inception-v3's 1x7 then 7x1 (padding (0, 3) and (3, 0)) on 17x17x128 -> 128 -> 192:
    # 1·7·128·128·17·17 and 7·1·128·192·17·17 MACs; weights 7·128·128 and 7·128·192
    r = rows([{"conv": {"name": "a", "k": [1, 7], "out": 128, "padding": [0, 3]}},
              {"conv": {"name": "b", "k": [7, 1], "out": 192, "padding": [3, 0]}}],
             (17, 17, 128))
    assert r["a"].output == (17, 17, 128) and r["b"].output == (17, 17, 192)
    assert (r["a"].madds, r["a"].params) == (7 * 128 * 128 * 289, 7 * 128 * 128)
    assert (r["b"].madds, r["b"].params) == (7 * 128 * 192 * 289, 7 * 128 * 192)
    assert (r["a"].op, r["b"].op) == ("Conv 1x7", "Conv 7x1")
    assert r["a"].k is None  # the k column holds one integer; the type says 1x7
    assert rows([{"conv": {"name": "c", "k": [3, 3], "out": 8}}])["c"].k == 3


def test_by_kind_shows_rectangular_convs():
    spec = net([{"conv": {"k": [1, 7], "out": 16, "padding": [0, 3]}},
                {"conv": {"k": [7, 1], "out": 16, "padding": [3, 0]}},
                {"conv": {"k": 3, "out": 16}}])
    kinds = {k.type: k for k in mbcost.analyze(spec).by_kind()}
    # 8x8 map: 1·7·16·16·64 and 7·1·16·16·64; the 3x3 9·16·16·64
    assert kinds["Conv 1x7"].madds == kinds["Conv 7x1"].madds == 7 * 16 * 16 * 64
    assert kinds["Conv 3x3"].madds == 9 * 16 * 16 * 64


@pytest.mark.parametrize("fields, out_hw", [
    # torch.nn.Conv2d: out = floor((H + 2p - d·(k-1) - 1) / s) + 1, per axis
    ({"k": [3, 5], "stride": [2, 1], "padding": "valid"}, (16, 17)),   # (33-3)/2+1, 21-5+1
    ({"k": 3, "dilation": 2, "padding": 2}, (33, 21)),                 # span 5, pad 2: same size
    ({"k": 3, "dilation": [1, 3], "padding": [1, 0]}, (33, 15)),      # W: span 7, 21-7+1
    ({"k": [1, 3], "stride": [1, 2], "padding": [0, 1]}, (33, 11)),   # W: (21+2-3)/2+1
    ({"k": 3, "stride": 2, "padding": "same", "dilation": 2}, (17, 11)),  # same: ceil(H/s)
])
def test_per_axis_output_sizes(fields, out_hw):
    r = rows([{"conv": {"name": "x", "out": 4, **fields}}], (33, 21, 2))["x"]
    assert r.output[:2] == out_hw
    kh, kw = fields["k"] if isinstance(fields["k"], list) else (fields["k"],) * 2
    # dilation adds no taps: K_h·K_w·M·N·H_out·W_out
    assert r.madds == kh * kw * 2 * 4 * out_hw[0] * out_hw[1]


def test_rectangular_pool_window():
    # max pool k (3, 2), stride (2, 1), padding (1, 0) on 17x29: H (17+2-3)/2+1 = 9,
    # W (29-2)/1+1 = 28
    r = rows([{"pool": {"name": "p", "type": "max", "k": [3, 2], "stride": [2, 1],
                        "padding": [1, 0]}}], (17, 29, 8))["p"]
    assert r.output == (9, 28, 8)
    # stride defaults to the window
    r = rows([{"pool": {"name": "p", "type": "avg", "k": [2, 4]}}], (8, 8, 8))["p"]
    assert r.output == (4, 2, 8)


def test_geometry_evaluators_agree():
    spec = net([{"conv": {"k": [1, 7], "out": 16, "padding": [0, 3], "stride": [1, 2]}},
                {"conv": {"k": [7, 1], "out": 24, "padding": [3, 0], "dilation": [2, 1]}},
                {"dw": {"k": [3, 1], "padding": [1, 0], "dilation": 2}},
                {"dwsep": {"k": 3, "dilation": 2, "out": 32, "padding": 2}},
                {"pool": {"type": "max", "k": [3, 2], "stride": 2, "ceil_mode": True}},
                {"pool": {"type": "avg", "out_size": [2, 3]}},
                {"fc": {"out": 10}}], (64, 48, 3))
    agree(spec, (64, 40, 33))


def test_dwsep_ratio_of_a_rectangular_depthwise():
    # MobileNets §3.1: dw + pw over a standard conv = 1/N + 1/(K_h·K_w)
    import sympy
    spec = net([{"dwsep": {"name": "d", "k": [1, 3], "padding": [0, 1], "out": 32}}])
    (name, ratio), = mbcost.cost.dwsep_ratios(mbcost.closed_form(spec))
    from mbcost.symbols import alpha
    assert sympy.simplify(ratio.subs(alpha, 1) - (sympy.Rational(1, 32) + sympy.Rational(1, 3))) == 0


@pytest.mark.parametrize("fields, field, message", [
    ({"k": [1, 7, 3]}, "k", r"list \[height, width\] of two"),
    ({"k": [0, 7]}, "k", "positive integer"),
    ({"k": 3, "dilation": 0}, "dilation", "positive integer"),
    ({"k": 3, "padding": ["same", 1]}, "padding", r"list \[height, width\]"),
    ({"k": 3, "padding": [1, -1]}, "padding", "non-negative|>= 0"),
    ({"k": 3, "stride": [1, "x +"]}, "stride", "stride"),
    ({"k": 5, "dilation": 3, "padding": "valid"}, "k", r"kernel 5 \(dilation 3: 13x13\) is larger"),
])
def test_geometry_refusals(fields, field, message):
    with pytest.raises(SpecError, match=message) as e:
        rows([{"conv": {"out": 4, **fields}}])
    assert e.value.field == field
