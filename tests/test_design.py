"""The design library (mbcost.design): units, value lists, the fast exact grid,
check, fit, densify/compare and the one-layer calculator.

Expected numbers come from the MobileNet v1 paper (arXiv 1704.04861, Tables 3, 4,
6, 7), the TF-slim MobileNet v1 checkpoint table, or are derived by hand in the test.
"""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mbcost
from mbcost import design
from mbcost.errors import BudgetFileError, SpecError, UsageError

# paper_tables.md §1.4 Tables 6-7 and §1.8 (1000 classes): exact mult-adds
V1_MADDS = {
    (1, 224): 568_740_352, (1, 192): 418_121_728, (1, 160): 290_675_200, (1, 128): 186_400_768,
    (0.75, 224): 325_400_448, (0.75, 192): 239_273_472, (0.75, 160): 166_396_800,
    (0.75, 128): 106_770_432,
    (0.5, 224): 149_497_088, (0.5, 192): 109_970_432, (0.5, 160): 76_524_800, (0.5, 128): 49_160_192,
    (0.25, 224): 41_030_272, (0.25, 192): 30_212_608, (0.25, 160): 21_059_200,
    (0.25, 128): 13_570_048,
}
V1_PARAMS = {1: 4_210_088, 0.75: 2_569_144, 0.5: 1_320_648, 0.25: 464_600}  # §1.8, 1000 classes
# §1.8, the TF-slim checkpoints' 1001 classes: 1024*alpha more MACs (FC input width)
V1_1001 = {
    (1, 224): 568_741_376, (1, 192): 418_122_752, (1, 160): 290_676_224, (1, 128): 186_401_792,
    (0.75, 224): 325_401_216, (0.75, 192): 239_274_240, (0.75, 160): 166_397_568,
    (0.75, 128): 106_771_200,
    (0.5, 224): 149_497_600, (0.5, 192): 109_970_944, (0.5, 160): 76_525_312, (0.5, 128): 49_160_704,
    (0.25, 224): 41_030_528, (0.25, 192): 30_212_864, (0.25, 160): 21_059_456,
    (0.25, 128): 13_570_304,
}


# ---------------------------------------------------------------- units and lists

@pytest.mark.parametrize("text,value", [
    ("150M", 150_000_000), ("2.5M", 2_500_000), ("1G", 1_000_000_000), ("64K", 64_000),
    ("64k", 64_000), ("4200000", 4_200_000), (4200000, 4_200_000), (" 1.25G ", 1_250_000_000),
    ("1_000", 1000),
])
def test_parse_quantity(text, value):
    assert design.parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "abc", "15Q", "-5M", "0", "1.2345K", "1e6", "M", "1.5",
                                  True, None, "2**10", "1M1"])
def test_parse_quantity_rejects(text):
    with pytest.raises(UsageError, match="--max-madds"):
        design.parse_quantity(text, "--max-madds")


def test_parse_values_lists_and_ranges():
    assert design.parse_values("1,0.75,0.5") == [1, Fraction(3, 4), Fraction(1, 2)]
    # 0.25 + 15 * 0.05 = 1 exactly: 16 values, the stop included (no float drift)
    vals = design.parse_values("0.25:1:0.05")
    assert len(vals) == 16 and vals[0] == Fraction(1, 4) and vals[-1] == 1
    assert design.parse_values("96:224:32", integer=True) == [96, 128, 160, 192, 224]
    assert design.parse_values("224,96:160:32,224", integer=True) == [224, 96, 128, 160]


@pytest.mark.parametrize("text,integer", [("1,,2", False), ("a", False), ("1:2", False),
                                          ("1:0:0.1", False), ("0:1:0", False), ("100.5", True),
                                          ("0:100000:1", False)])
def test_parse_values_rejects(text, integer):
    with pytest.raises(UsageError):
        design.parse_values(text, "--alpha", integer)


# ---------------------------------------------------------------- fast grid = analyze()

def test_sweep_reproduces_tables_6_and_7():
    sw = design.sweep("mobilenet_v1", [1, 0.75, 0.5, 0.25], [224, 192, 160, 128])
    assert len(sw.points) == 16
    for (a, r), madds in V1_MADDS.items():
        p = sw.at(Fraction(str(a)), r)
        assert (p.madds, p.params) == (madds, V1_PARAMS[a])


def test_sweep_tf_slim_16_variants_1001_classes(tmp_path):
    spec = tmp_path / "v1_1001.yaml"
    spec.write_text("extends: mobilenet_v1\nname: mobilenet_v1_1001\nclasses: 1001\n")
    sw = design.sweep(str(spec), [1, 0.75, 0.5, 0.25], [224, 192, 160, 128])
    assert {(float(p.alpha), p.resolution): p.madds for p in sw.points} == \
        {(float(a), r): m for (a, r), m in V1_1001.items()}


@settings(max_examples=25, deadline=None)
@given(spec=st.sampled_from(["mobilenet_v1", "mobilenet_v2"]),
       alpha=st.integers(5, 200).map(lambda k: Fraction(k, 100)),
       res=st.integers(8, 300),
       convention=st.sampled_from(["paper", "torchvision", "ptflops", "thop"]))
def test_grid_equals_analyze(spec, alpha, res, convention):
    ev = design.GridEvaluator(spec, convention)
    p = ev.point(alpha, res)
    a = mbcost.analyze(spec, alpha=alpha, resolution=res, convention=convention)
    assert (p.madds, p.params) == (a.madds, a.params)


def test_grid_equals_analyze_where_a_residual_appears_only_at_the_point():
    # MobileNetV2 at alpha 0.05, 16 px: the first c=160 block (stride 2) maps 1x1 to 1x1 and
    # both 96*0.05 and 160*0.05 round to 8 channels, so shapes match and a residual add
    # appears that neither the per-alpha nor the per-resolution graph has.
    for conv in ("paper", "fvcore"):
        p = design.GridEvaluator("mobilenet_v2", conv).point(Fraction(1, 20), 16)
        a = mbcost.analyze("mobilenet_v2", alpha=Fraction(1, 20), resolution=16, convention=conv)
        assert (p.madds, p.params) == (a.madds, a.params)


def test_grid_builds_one_graph_per_alpha_and_per_resolution():
    ev = design.GridEvaluator("mobilenet_v1")
    for a in (1, Fraction(1, 2)):
        for r in (224, 160, 128):
            ev.point(a, r)
    # 2 channel replays and 3 spatial graphs: the work charged is exactly that
    assert ev.work == 2 * ev.replay_cost + 3 * ev.spatial_cost


def test_sweep_refuses_huge_grids():
    with pytest.raises(UsageError, match="limit"):
        design.sweep("mobilenet_v1", [Fraction(k, 1000) for k in range(1, 1001)], list(range(1, 200)))


# ---------------------------------------------------------------- check

def test_check_within_budget_half_mobilenet():
    r = design.check_budget("mobilenet_v1", {"madds": "150M", "params": "2M"}, alpha=0.5)
    assert r.ok
    madds, params = r.checks
    # Table 6: 0.5 MobileNet-224 is 149,497,088 / 1,320,648
    assert (madds.value, madds.headroom) == (149_497_088, 150_000_000 - 149_497_088)
    assert params.headroom == 2_000_000 - 1_320_648
    assert round(madds.headroom_pct, 2) == 0.34  # 502,912 / 150,000,000
    # the FC is the largest parameter holder: 512*1000 weights + 1000 biases
    assert (r.top["params"][0].name, r.top["params"][0].value) == ("fc", 513_000)


def test_check_over_budget_is_a_result_not_an_error():
    r = design.check_budget("mobilenet_v1", {"madds": "150M"})
    assert not r.ok
    (c,) = r.checks
    assert c.headroom == 150_000_000 - 568_740_352 and c.headroom < 0
    # the largest 1x1 convs at 14x14x512: 512*512*196 = 51,380,224 (TF-slim §1.7)
    assert r.top["madds"][0].value == 512 * 512 * 14 * 14


def test_check_equal_to_the_limit_is_within():
    r = design.check_budget("mobilenet_v1", {"madds": 568_740_352})
    assert r.ok and r.checks[0].headroom == 0


def test_check_needs_a_limit():
    with pytest.raises(UsageError, match="at least one limit"):
        design.check_budget("mobilenet_v1", {})


# ---------------------------------------------------------------- budget files

def test_budget_file(tmp_path):
    net = tmp_path / "nets" / "v1_small.yaml"
    net.parent.mkdir()
    net.write_text("extends: mobilenet_v1\nname: v1_small\n")
    f = tmp_path / "budget.yaml"
    f.write_text("convention: paper\nchecks:\n"
                 "  - {spec: mobilenet_v1, alpha: 0.5, res: 160, max_madds: 77M, max-params: 1.5M}\n"
                 "  - spec: nets/v1_small.yaml\n    max_madds: 500M\n")
    results = design.check_budget_file(f)
    assert [r.ok for r in results] == [True, False]
    assert results[0].checks[0].value == 76_524_800  # Table 9
    assert results[1].checks[0].value == 568_740_352


@pytest.mark.parametrize("text,where", [
    ("checks:\n  - {spec: mobilenet_v1, max_madds: 15Q}\n", ":2: field 'max_madds': must be a count"),
    ("checks:\n  - {spec: mobilenet_v1, max_mads: 1M}\n", ":2: field 'max_mads': unknown field"),
    ("checks:\n  - spec: mobilenet_v1\n    alpha: -1\n    max_madds: 1M\n", ":3: field 'alpha'"),
    ("checks:\n  - spec: mobilenet_v1\n    convention: nope\n    max_madds: 1M\n",
     ":3: field 'convention': unknown convention"),
    ("checks:\n  - spec: mobilenet_v1\n    convention: [paper]\n    max_madds: 1M\n",
     ":3: field 'convention': unknown convention"),
    ("convention: nope\nchecks:\n  - {spec: mobilenet_v1, max_madds: 1M}\n",
     ":1: field 'convention': unknown convention"),
    ("checks:\n  - spec: mobilenet_v1\n    max_madds: 1M\n    max-madds: 2M\n",
     ":4: field 'max-madds': 'max-madds' repeats"),
    ("checks:\n  - {spec: mobilenet_v1, res: 160, resolution: 160, max_madds: 1M}\n",
     ":2: field 'resolution': give res or resolution"),
    ('checks:\n  - {spec: "a\\0b", max_madds: 1M}\n', ":2: field 'spec': not a usable"),
    ("checks:\n  - {spec: " + "x" * 300 + ", max_madds: 1M}\n", ":2: field 'spec': no such spec file or bundled spec"),
    ("checks:\n  - {spec: mobilenet_v1, res: 160, rho: 0.5, max_madds: 1M}\n",
     ":2: give either resolution or rho"),
    ("checks:\n  - {spec: mobilenet_v1}\n", ":2: field 'max_madds': each check needs"),
    ("checks:\n  - {max_madds: 1M}\n", ":2: field 'spec'"),
    ("checks:\n  - spec: nosuchnet\n    max_madds: 1M\n", ":2: field 'spec': no such spec"),
    ("checks:\n  - {spec: mobilenet_v1, res: 0, max_madds: 1M}\n", ":2: field 'res'"),
    ("checks: []\n", ":1: field 'checks'"),
    ("- a\n- b\n", ":1: a budget file is a mapping"),
    ("checks: [\n", "YAML syntax error"),
    ("limits: {}\nchecks:\n  - {spec: mobilenet_v1, max_madds: 1M}\n", ":1: field 'limits'"),
])
def test_budget_file_errors_carry_file_and_line(tmp_path, text, where):
    f = tmp_path / "budget.yaml"
    f.write_text(text)
    with pytest.raises(BudgetFileError) as e:
        design.check_budget_file(f)
    assert str(e.value).startswith(str(f)) and where in str(e.value)
    assert "\n" not in str(e.value)


def test_budget_file_missing(tmp_path):
    with pytest.raises(BudgetFileError, match="cannot read file"):
        design.load_budget(tmp_path / "nope.yaml")


# ---------------------------------------------------------------- fit

def test_fit_alpha_mobilenet_v1_150m_at_224():
    f = design.fit("mobilenet_v1", {"madds": "150M"}, resolution=224)
    # Table 6: alpha 0.5 at 224 is 149,497,088 <= 150M; the next step, alpha 0.51, is over
    assert (f.point.alpha, f.point.madds) == (Fraction(1, 2), 149_497_088)
    assert f.next_up.alpha == Fraction(51, 100)
    assert mbcost.analyze("mobilenet_v1", alpha="0.51").madds > 150_000_000
    # the closed form at rho = 1, 539492352 a^2 + (28224000 + 1024000) a = 150e6, gives
    # a = (-29248000 + sqrt(29248000^2 + 4 * 539492352 * 150e6)) / (2 * 539492352) = 0.50088
    assert abs(f.estimate - 0.50088) < 1e-5


def test_fit_resolution_mobilenet_v1():
    f = design.fit("mobilenet_v1", {"madds": "150M"}, alpha=1)
    # Table 7: 128 px is 186,400,768 > 150M. At 96 px every feature map is 3/7 of its 224 px
    # size, so the body (567,716,352, TF-slim §1.7) scales by 9/49; the FC stays 1,024,000:
    body = 567_716_352 * 9 // 49
    assert (f.point.resolution, f.point.madds) == (96, body + 1_024_000)
    assert (f.next_up.resolution, f.next_up.madds) == (128, 186_400_768)


def test_fit_resolution_step_is_overridable():
    f = design.fit("mobilenet_v1", {"madds": "200M"}, alpha=1, res_step=8)
    assert f.point.resolution % 8 == 0
    assert f.point.madds <= 200_000_000 < f.next_up.madds
    assert f.next_up.resolution == f.point.resolution + 8


@pytest.mark.parametrize("spec", ["mobilenet_v1", "mobilenet_v2"])
@pytest.mark.parametrize("limits", [{"madds": "300M"}, {"madds": "100M", "params": "3M"},
                                    {"params": "1.5M"}])
def test_fit_meets_budget_and_next_step_does_not(spec, limits):
    f = design.fit(spec, limits, resolution=192)
    lim = {q: design.parse_quantity(v) for q, v in limits.items()}
    a = mbcost.analyze(spec, alpha=f.point.alpha, resolution=192)
    assert all(getattr(a, q) <= v for q, v in lim.items())
    b = mbcost.analyze(spec, alpha=f.point.alpha + Fraction(1, 100), resolution=192)
    assert any(getattr(b, q) > v for q, v in lim.items())


def test_fit_nothing_fits():
    # the FC alone has at least 8 * 1000 + 1000 params (min_depth 8 channels)
    f = design.fit("mobilenet_v1", {"params": "5K"}, resolution=224)
    assert not f.ok and f.point is None and f.next_up.alpha == Fraction(1, 100)


def test_fit_pareto_standard_grid():
    f = design.fit("mobilenet_v1", {"madds": "150M", "params": "2M"})
    got = {(p.alpha, p.resolution) for p in f.frontier}
    # within 150M / 2M: 0.5-224 (149.5M, Table 6). 0.75-128 (106.8M) has 2.57M params, too many.
    # Nothing at alpha 0.5 beats 224 px and alpha >= 0.75 breaks the params limit.
    assert got == {(Fraction(1, 2), 224)}
    f = design.fit("mobilenet_v1", {"madds": "150M"})
    got = {(p.alpha, p.resolution) for p in f.frontier}
    # 1.0-96 is 105.3M (see above); 1.3-96 and 1.0-128 are over; 0.75-128 is 106.8M (§1.8)
    assert {(Fraction(1), 96), (Fraction(3, 4), 128), (Fraction(1, 2), 224)} <= got
    for p in f.frontier:
        assert p.madds <= 150_000_000


def test_fit_fix_both_is_an_error():
    with pytest.raises(UsageError, match="not both"):
        design.fit("mobilenet_v1", {"madds": "1G"}, alpha=1, resolution=224)


# ---------------------------------------------------------------- densify and compare

def test_dense_mobilenet_v1_is_conv_mobilenet_table_4():
    an, merged = design.dense_analysis("mobilenet_v1")
    # paper_tables.md §1.4 Table 4 [D]: 4,867,293,184 MACs / 29,282,120 params
    assert (an.madds, an.params) == (4_867_293_184, 29_282_120)
    assert merged["conv2.dw"] == merged["conv2.pw"] == "conv2"
    conv2 = next(r for r in an.rows if r.name == "conv2")
    # standard 3x3 conv, 32 -> 64 at 112x112: 9 * 32 * 64 * 112 * 112
    assert conv2.madds == 9 * 32 * 64 * 112 * 112 and conv2.op == "Conv 3x3"


def test_dense_ratio_is_one_over_n_plus_one_over_k_squared():
    a = mbcost.analyze("mobilenet_v1")
    b, merged = design.dense_analysis("mobilenet_v1")
    c = design.compare(a, b, merged)
    pairs = [r for r in c.rows if r.theory is not None]
    assert len(pairs) == 13
    for r in pairs:
        assert Fraction(r.madds_a, r.madds_b) == r.theory


def test_dense_mobilenet_v2_merges_dw_and_projection():
    b, merged = design.dense_analysis("mobilenet_v2")
    assert len({v for v in merged.values()}) == 17  # one dw+project pair per bottleneck
    assert not any(r.kind == "dw" for r in b.rows)


def test_compare_two_settings_aligns_by_layer_name():
    a = mbcost.analyze("mobilenet_v1")
    b = mbcost.analyze("mobilenet_v1", alpha=0.5, resolution=160)
    c = design.compare(a, b)
    assert [r.name for r in c.rows][:3] == ["conv1", "conv2.dw", "conv2.pw"]
    assert sum(r.madds_b for r in c.rows) == 76_524_800  # Table 9
    conv1 = c.rows[0]
    # 3x3x3 -> 16 channels at 80x80 (alpha 0.5, 160 px): 27 * 16 * 6400
    assert (conv1.madds_a, conv1.madds_b) == (10_838_016, 27 * 16 * 80 * 80)


def test_compare_two_specs_keeps_layers_of_both():
    c = design.compare(mbcost.analyze("mobilenet_v1"), mbcost.analyze("mobilenet_v2"), by="layer")
    names = [r.name for r in c.rows]
    assert "conv2.dw" in names and "classifier" in names and "conv1" in names
    conv1 = next(r for r in c.rows if r.name == "conv1")
    assert conv1.madds_a == conv1.madds_b == 27 * 32 * 112 * 112


def test_compare_of_two_different_networks_is_by_type():
    # v1 and v2 share one layer name of 28 and 53: compare by type and total instead
    a, b = mbcost.analyze("mobilenet_v1"), mbcost.analyze("mobilenet_v2")
    c = design.compare(a, b)
    assert c.by == "kind"
    rows = {r.name: r for r in c.rows}
    # MobileNets Table 2 (README): Conv 1x1 539,492,352 mult-adds and 3,139,584 weights
    assert (rows["Conv 1x1"].madds_a, rows["Conv 1x1"].layers_a) == (539_492_352, 13)
    assert rows["Conv 3x3"].madds_a == rows["Conv 3x3"].madds_b == 27 * 32 * 112 * 112
    # every costed layer of each side is in exactly one type row; rows add up to the totals
    for side, an in (("a", a), ("b", b)):
        costed = [r for r in an.rows if r.madds or r.params]
        assert sum(getattr(r, f"layers_{side}") for r in c.rows) == len(costed)
        assert sum(getattr(r, f"madds_{side}") or 0 for r in c.rows) == an.madds
        assert sum(getattr(r, f"params_{side}") or 0 for r in c.rows) == an.params


@pytest.mark.parametrize("a,b", [("mobilenet_v1", "mobilenet_v1_shallow"),
                                 ("efficientnet_b0", "efficientnet_b1"),
                                 ("mobilenet_v3_large", "mobilenet_v3_large_tfslim")])
def test_compare_of_related_networks_stays_by_layer(a, b):
    c = design.compare(mbcost.analyze(a), mbcost.analyze(b))
    assert c.by == "layer"


# ---------------------------------------------------------------- one layer

def test_layer_calc_table_3():
    calc = design.layer_calc(3, 512, 512, 14, "0.75", "0.714")
    got = [(s.madds, s.params) for s in calc.steps]
    # paper_tables.md §1.3 [D]: 462/52.3/29.6/15.1 M and 2.36/0.27/0.15/0.15 M
    assert got == [(462_422_016, 2_359_296), (52_283_392, 266_752), (29_578_752, 150_912),
                   (15_091_200, 150_912)]
    assert calc.steps[-1].size == 10 and calc.steps[-1].m == 384
    assert calc.ratio == Fraction(1, 384) + Fraction(1, 9)


def test_layer_calc_formulas_agree_with_numbers():
    import sympy

    calc = design.layer_calc(3, 512, 512, 14)
    f = dict(calc.formulas())
    dk, m, n, df = sympy.symbols("D_K M N D_F", positive=True)
    vals = {dk: 3, m: 512, n: 512, df: 14}
    assert f["standard mult-adds"].subs(vals) == calc.steps[0].madds
    assert f["separable mult-adds"].subs(vals) == calc.steps[1].madds
    assert sympy.simplify(f["ratio"] - (1 / n + 1 / dk**2)) == 0


@pytest.mark.parametrize("args", [(0, 512, 512, 14), (3, -1, 512, 14), (3, 512, 512, 10**7),
                                  (3, 512, 512, True)])
def test_layer_calc_rejects(args):
    with pytest.raises(UsageError):
        design.layer_calc(*args)


def test_layer_calc_rejects_bad_rho():
    with pytest.raises(UsageError, match="rho"):
        design.layer_calc(3, 8, 8, 8, rho="x")


def test_spec_errors_pass_through(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ninput: [224, 224, 3]\nlayers:\n  - conv: {k: 0, out: 8}\n")
    with pytest.raises(SpecError, match="bad.yaml:4"):
        design.sweep(str(bad), [1], [224])


@pytest.mark.parametrize("spec", mbcost.bundled_names())
@pytest.mark.parametrize("convention", ["paper", "torchprofile"])
def test_fits_closed_form_is_mbcost_closed_form(spec, convention):
    # fit's starting point (the grid's Monomials, counted layers only) and closed_form
    # (every layer, printed by sympy) come from the one engine: their totals agree
    import sympy

    polys = design.GridEvaluator(spec, convention).closed_form()
    ref = mbcost.closed_form(spec, convention)
    assert sympy.expand(polys["madds"].to_sympy() - ref.madds) == 0
    assert sympy.expand(polys["params"].to_sympy() - ref.params) == 0


@pytest.mark.parametrize("a", ["1", "0.75", "0.5", "0.25"])
@pytest.mark.parametrize("res", [224, 192, 160, 128])
def test_closed_form_is_exact_where_everything_divides(a, res):
    # MobileNet v1's widths (32 ... 1024) times these alphas are whole, and these
    # resolutions are multiples of its total stride 32: no rounding, so the continuous
    # closed form equals the exact count
    from mbcost.symbols import alpha, rho

    f = mbcost.closed_form("mobilenet_v1")
    at = {alpha: Fraction(a), rho: Fraction(res, 224)}
    exact = mbcost.analyze("mobilenet_v1", alpha=a, resolution=res)
    assert (f.madds.subs(at), f.params.subs(at)) == (exact.madds, exact.params)


def test_closed_form_mobilenet_v1_by_hand():
    import sympy

    from mbcost.symbols import alpha, rho

    f = {"madds": mbcost.closed_form("mobilenet_v1").madds}
    # 1x1 convs 539,492,352 alpha^2 rho^2 (Table 2's 94.86%); 3x3 stem (10,838,016) and
    # depthwise (17,385,984) scale with alpha rho^2; the FC's 1,024,000 with alpha only
    want = 539_492_352 * alpha**2 * rho**2 + (10_838_016 + 17_385_984) * alpha * rho**2 \
        + 1_024_000 * alpha
    assert sympy.expand(f["madds"] - want) == 0


GROUPED = """name: grouped
input: [32, 32, 3]
width: {rule: truncate, min: 1}
layers:
  - conv: {k: 3, out: 16}
  - conv: {k: 1, out: 16, groups: 4}
  - parallel:
      merge: add
      branches:
        - [conv: {k: 1, out: 16}]
        - [conv: {k: 1, out: 16, scale: WIDTH}]
  - pool: {type: global}
  - fc: {out: 10}
"""


@pytest.mark.parametrize("alpha", ["1", "0.75", "0.5", "0.25", "0.2", "1.3"])
def test_grid_matches_analyze_including_its_errors(tmp_path, alpha):
    # groups 4 must divide int(16 alpha): not at 0.2 (3); the add merges a scaled and an
    # unscaled 16: equal only at alpha 1 (scale: true) or always (scale: false)
    for width in ("true", "false"):
        spec = tmp_path / f"grouped_{width}.yaml"
        spec.write_text(GROUPED.replace("WIDTH", width))
        ev = design.GridEvaluator(str(spec))
        try:
            want = mbcost.analyze(str(spec), alpha=alpha, resolution=32)
        except SpecError as e:
            with pytest.raises(SpecError) as got:
                ev.point(Fraction(alpha), 32)
            assert str(got.value) == str(e)
            continue
        p = ev.point(Fraction(alpha), 32)
        assert (p.madds, p.params) == (want.madds, want.params)


def test_fit_estimate_above_one_uses_the_kept_head():
    # MobileNetV2's head is 1280 * max(1, alpha): above alpha = 1 the closed form has its
    # alpha >= 1 branch; the estimate must sit next to the exact answer either way
    for limit in ("500M", "100M"):
        f = design.fit("mobilenet_v2", {"madds": limit}, resolution=224)
        assert abs(f.estimate - float(f.point.alpha)) < 0.05
    assert design.fit("mobilenet_v2", {"madds": "500M"}, resolution=224).point.alpha > 1


def test_monomials_arithmetic():
    a = design.Monomials({(1, 0, 0): Fraction(3)})  # 3 alpha
    r = design.Monomials({(0, 1, 0): Fraction(2)})  # 2 rho
    p = (a * r + 5) * 2 / 4  # (6 alpha rho + 5) / 2
    assert p.terms == {(1, 1, 0): 3, (0, 0, 0): Fraction(5, 2)}
    assert p.at(alpha=2) == {1: 6, 0: Fraction(5, 2)}
    assert (0 + p).terms == p.terms and (p * 0).terms == {}
