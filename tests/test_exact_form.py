"""The exact closed form (closed_form(exact=True), formula --exact): channel rounding and
strided sizes kept as make_divisible, floor and ceiling, so that the form evaluated at
any alpha and resolution is analyze()'s integer. Checked against analyze (the exact
evaluator, which shares no arithmetic with the sympy form) on grids whose sizes do not
divide, and against a count derived here by hand."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
import sympy
from clirunner import CliRunner

import mbcost
from mbcost import expr
from mbcost.cli import main
from mbcost.exact_form import evaluate, make_divisible
from mbcost.memory import memory_closed_form
from mbcost.symbols import alpha, rho


def run(*args):
    return CliRunner().invoke(main, list(args))


def _check(spec, points, convention="paper"):
    """The exact form equals analyze at every (alpha, resolution) point, to the integer."""
    f = mbcost.closed_form(spec, convention, exact=True)
    assert f.form == "exact" and f.approximations == [] and f.exact_at_base
    for a, res in points:
        got = f.at(a, res)
        want = mbcost.analyze(spec, alpha=a, resolution=res, convention=convention).totals
        assert got == want, (spec, a, res)
        assert all(type(v) is int for v in got.values())


def _v1_by_hand(res):
    """MobileNet v1 mult-adds at alpha 1 (Table 1; 'same' padding: a stride-2 layer's side is
    ceil(h / 2)): conv1 3x3x3x32, 13 separable layers, the FC 1024 x 1000."""
    h = -(-res // 2)
    total, c = 3 * 3 * 3 * 32 * h * h, 32
    for s, out in ((1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512), (1, 512),
                   (1, 512), (1, 512), (1, 512), (1, 512), (2, 1024), (1, 1024)):
        h = -(-h // s)
        total += 9 * c * h * h + c * out * h * h  # depthwise + pointwise (MobileNets §3.1)
        c = out
    return total + 1024 * 1000


def test_the_v1_100px_anchor():
    # the issue's numbers: table 139,938,112, the papers' polynomial 114,169,000 (-18.4%)
    assert _v1_by_hand(100) == 139_938_112
    assert mbcost.closed_form("mobilenet_v1", exact=True).at(1, 100)["madds"] == 139_938_112
    assert mbcost.closed_form("mobilenet_v1").at(1, 100)["madds"] == 114_169_000
    assert mbcost.analyze("mobilenet_v1", resolution=100).madds == 139_938_112


@pytest.mark.parametrize("res", [100, 128, 130, 224, 225, 33])
def test_v1_by_hand_at_alpha_1(res):
    f = mbcost.closed_form("mobilenet_v1", exact=True)
    assert f.at(1, res)["madds"] == _v1_by_hand(res)


def test_v1_grid_where_sizes_do_not_divide():
    _check("mobilenet_v1", [(a, r) for a in ("1", "0.75", "0.35", "0.3")
                            for r in (100, 128, 130, 224, 225)])


def test_the_continuous_form_is_off_where_sizes_do_not_divide():
    f = mbcost.closed_form("mobilenet_v1")
    assert f.form == "continuous"
    # exact where every width (alpha 1/2: 16, 32, ... 512) and size (160 / 32) divides
    assert f.at("0.5", 160) == mbcost.analyze("mobilenet_v1", alpha="0.5", resolution=160).totals
    # not at 0.3 (int(0.3 c) drops fractions) nor at 225 px (ceil of odd sizes)
    for a, res in (("0.3", 224), (1, 225)):
        assert f.at(a, res) != mbcost.analyze("mobilenet_v1", alpha=a, resolution=res).totals


@pytest.mark.parametrize("spec, convention", [
    ("mobilenet_v2", "paper"), ("mobilenet_v3_small", "paper"),
    ("mobilenet_v3_large_tfslim", "paper"), ("efficientnet_b0", "fvcore"),
    ("efficientnet_b7", "paper"), ("resnet50", "torchvision"), ("resnet18", "thop"),
    ("mnasnet0_75", "ptflops"), ("resnext50_32x4d", "paper")])
def test_bundled_specs_at_odd_points(spec, convention):
    # odd and small resolutions (stride products never divide), alphas that round
    _check(spec, [("1", 97), ("0.35", 130), ("0.6", 225), ("1.3", 191), ("2.5", 33)], convention)


@pytest.mark.parametrize("spec, convention", [
    ("squeezenet1_0", "torchvision"), ("squeezenet1_1", "ptflops"),  # ceil_mode pools
    ("googlenet", "torchvision"),  # ceil_mode pools in every stage, Inception branches
    ("alexnet", "fvcore"),  # an adaptive pool to 6x6, 11x11 stride 4
    ("inception_v3", "torchvision"),  # 1x7 and 7x1 kernels, per-axis padding (75 px at least)
    ("shufflenet_v2_x0_5", "torchvision"),  # split halves (c / 2, whole: a recorded check)
])
def test_classic_baselines_at_odd_points(spec, convention):
    # torch's ceil_mode is min(ceiling((h + 2p - k)/s) + 1, ceiling((h + p)/s)): one less
    # where the last window would start past the input and its left padding
    points = [("1", 65), ("1", 97), ("0.75", 131), ("0.5", 227)]
    if spec == "inception_v3":  # its valid-padded stem needs 75 px
        points = [("1", 161), ("1", 301), ("0.75", 231), ("0.5", 227)]
    _check(spec, points, convention)


def test_rho_is_taken_as_analyze_takes_it():
    f = mbcost.closed_form("mobilenet_v2", exact=True)
    assert f.at("0.75", rho="0.7") == mbcost.analyze("mobilenet_v2", alpha="0.75", rho="0.7").totals


def test_non_square_input_and_valid_windows():
    # width rounds half up (round(W x res / H)); valid pools floor; explicit padding
    spec = {"name": "oblong", "input": [100, 150, 3], "width": {"rule": "make_divisible"},
            "layers": [{"conv": {"k": 3, "stride": 2, "out": 24}},
                       {"pool": {"type": "max", "k": 3, "stride": 2}},
                       {"conv": {"k": 5, "stride": 3, "out": 40, "padding": 1}},
                       {"dwsep": {"k": 3, "stride": 2, "out": 60}},
                       {"pool": {"type": "avg", "k": 2}},
                       {"conv": {"k": 1, "stride": 1, "out": 30, "padding": "valid"}},
                       {"pool": "global"}, {"fc": {"out": 10}}]}
    _check(spec, [(a, r) for a in ("1", "0.7") for r in (64, 77, 99, 100, 101, 143)],
           convention="ptflops")


def test_spatial_steps_fold_into_one_ceiling():
    # 'same' strides compose: ceil(ceil(224 rho / 2) / 2) ... = ceiling(7 rho)
    f = mbcost.closed_form("mobilenet_v1", exact=True)
    fc_free = f.madds - 1000 * sympy.Max(8, sympy.floor(1024 * alpha))
    assert fc_free.has(sympy.ceiling(7 * rho)) and fc_free.has(sympy.ceiling(112 * rho))
    assert not fc_free.has(sympy.ceiling(sympy.ceiling(112 * rho) / 2))


def test_derived_counts_keep_an_exact_multiple_whole():
    # an expansion r x C_in of a rounded count needs no second rounding where r x C_in is
    # already a multiple of the divisor (and above the minimum): torchvision's V2 hidden
    # width 6 x make_divisible(16 alpha) prints as that; where it could move, it rounds
    from mbcost.exact_form import derived
    from mbcost.spec import Rounding

    x = make_divisible(16 * alpha)
    assert derived(Rounding("make_divisible", 8), x, 6) == 6 * x
    assert derived(Rounding("make_divisible", 16), x, 3) == make_divisible(3 * x, 16)  # 24k
    assert derived(Rounding("make_divisible", 8, 64), x, 6) == make_divisible(6 * x, 8, 64)
    assert derived(Rounding("truncate", 8, 8), x, 2) == 2 * x
    assert derived(Rounding("make_divisible", 8), x, Fraction(1, 4)).func is make_divisible
    f = mbcost.closed_form("mobilenet_v2", exact=True)
    assert f.madds.has(6 * make_divisible(96 * alpha))
    # and the grid (v2 and mnasnet expand, SE squeezes by 1/4) still equals analyze
    _check("mnasnet1_0", [(a, 150) for a in ("0.2", "0.45", "0.8", "1.55")])


def test_make_divisible_is_its_own_exact_function():
    for v, d, m in ((Fraction(21, 2), 8, None), (Fraction(68, 10), 8, None), (35, 8, 16),
                    (Fraction(1, 3), 4, None), (Fraction(90, 1), 16, 8), (57, 8, None)):
        args = [sympy.Rational(v.numerator, v.denominator) if isinstance(v, Fraction) else v, d]
        if m is not None:
            args.append(m)
        got = make_divisible(*args)
        assert got.is_Integer and int(got) == expr.make_divisible(v, d, m)
    e = make_divisible(24 * alpha, 8)
    assert str(e) == "make_divisible(24*alpha, 8)"
    assert r"\operatorname{make\_divisible}" in sympy.latex(e)
    assert e.is_integer and e.is_positive  # so Max(1, 6 e) and floor(6 e) simplify to 6 e
    assert sympy.floor(6 * e) == 6 * e


def test_evaluate_is_exact_with_no_floats():
    f = mbcost.closed_form("efficientnet_b0", exact=True)
    v = evaluate(f.madds, Fraction(7, 10), Fraction(193, 224))
    assert type(v) is int
    assert v == mbcost.analyze("efficientnet_b0", alpha="0.7", resolution=193).madds
    # the continuous form at a point where it is not whole: an exact Fraction
    c = mbcost.closed_form("mobilenet_v1").at(1, 101)["madds"]
    assert isinstance(c, Fraction) and c.denominator > 1


def test_window_options_of_a_newer_shape_rule(monkeypatch):
    # a spatial() keyword at its default keeps the folded form; another value is replayed
    # through domains.spatial_size's own integer arithmetic on sympy values; one it cannot
    # take is a one-line UsageError, not a traceback
    from mbcost import domains, exact_form

    def dilated(h, k, s, pad, dilation=1):
        return (h + 2 * pad - dilation * (k - 1) - 1) // s + 1

    h = 224 * rho
    monkeypatch.setattr(domains, "spatial_size", dilated)
    assert exact_form.spatial(h, 3, 2, "same", dilation=1) == sympy.ceiling(112 * rho)
    e = exact_form.spatial(h, 3, 2, 1, dilation=2)
    assert e.xreplace({rho: sympy.Rational(101, 224)}) == (101 + 2 - 2 * 2 - 1) // 2 + 1 == 50
    with pytest.raises(mbcost.UsageError, match="cannot express a window with ceil_mode"):
        exact_form.spatial(h, 3, 2, 1, ceil_mode=True)


def test_at_refuses_where_analyze_refuses():
    # AlexNet at 32 px: conv1 (11x11/4, pad 2) gives 7, the 3x3/2 pools 3 then 1, and the
    # last 3x3 pool no longer fits its 1x1 input; groups of 3 on int(0.4 * 12) = 4 channels
    f = mbcost.closed_form("alexnet", exact=True)
    with pytest.raises(mbcost.SpecError):
        mbcost.analyze("alexnet", resolution=32)
    with pytest.raises(mbcost.SpecError):
        f.at(1, 32)
    assert isinstance(f.at(1, 32, check=False)["madds"], int)  # meaningless, but unchecked
    spec = {"mbcost": 1, "name": "g", "input": [8, 8, 12], "width": {"rule": "truncate"},
            "layers": [{"pw": {"out": 12}}, {"conv": {"k": 3, "out": 12, "groups": 3}}]}
    g = mbcost.closed_form(spec, exact=True)
    assert g.at("0.5", 8) == mbcost.analyze(spec, alpha="0.5").totals
    for call in (lambda: mbcost.analyze(spec, alpha="0.4"), lambda: g.at("0.4", 8)):
        with pytest.raises(mbcost.SpecError, match="groups 3 must divide"):
            call()


def test_exact_is_checked():
    with pytest.raises(mbcost.UsageError):
        mbcost.closed_form("mobilenet_v1", exact="yes")
    with pytest.raises(mbcost.UsageError):
        mbcost.build_graph("mobilenet_v1", exact=True)  # without symbolic=True


# ---------------------------------------------------------------- memory metrics


@pytest.mark.parametrize("spec", ["mobilenet_v2", "efficientnet_b0"])
@pytest.mark.parametrize("metric", ["activations", "traffic", "peak", "latency"])
def test_memory_metrics_exact(spec, metric):
    dev = {"device": "jetson_nano"} if metric == "latency" else {}
    total, _ = memory_closed_form(spec, metric, exact=True, **dev)
    for a, res in (("0.35", 130), ("1.3", 97)):
        m = mbcost.analyze(spec, alpha=a, resolution=res, memory=dev or True).memory
        want = {"activations": m.act_bytes, "traffic": m.traffic_bytes,
                "peak": m.peak_act_bytes, "latency": m.time_s}[metric]
        assert evaluate(total, Fraction(a), Fraction(res, 224)) == want


# ---------------------------------------------------------------- ONNX (dynamic sizes)


def test_onnx_dynamic_export():
    from onnxgraph import onnx  # noqa: F401  (skips where the optional extra is missing)
    from pathlib import Path

    fixtures = Path(__file__).parent / "fixtures" / "onnx"
    _check(str(fixtures / "resnet18.onnx"), [(1, r) for r in (97, 160, 225)], "torchvision")
    # unknown operators (channel split and shuffle) and a max pool after a strided stem
    spec = mbcost.read_onnx(str(fixtures / "shufflenet_v2_x1_0.onnx"), allow_unknown=True)
    _check(spec, [(1, r) for r in (97, 150, 331)], "torchvision")


# ---------------------------------------------------------------- the command


def test_formula_says_which_form():
    r = run("formula", "mobilenet_v1")
    assert r.exit_code == 0
    assert r.stdout.splitlines()[1].startswith("form: continuous (the papers' polynomial): "
                                               "equals table where every width and size")
    r = run("formula", "mobilenet_v1", "--exact")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines[1].startswith("form: exact (")
    assert "ceiling(7*rho)^2*Max(8, floor(512*alpha))" in r.stdout
    assert "continuous approximations" not in r.stdout
    assert "with rho = resolution / 224." in r.stdout


def test_formula_exact_json_reads_back():
    r = run("formula", "mobilenet_v2", "--exact", "--format", "json")
    assert r.exit_code == 0
    d = json.loads(r.stdout)
    assert d["form"] == "exact" and d["where_exact"].startswith("equals table at every alpha")
    # our own output, read back with the one function sympy does not know
    e = sympy.sympify(d["madds"], locals={"make_divisible": make_divisible,
                                          "alpha": alpha, "rho": rho})
    assert evaluate(e, Fraction(1, 2), Fraction(130, 224)) == \
        mbcost.analyze("mobilenet_v2", alpha="0.5", resolution=130).madds
    d = json.loads(run("formula", "mobilenet_v2", "--format", "json").stdout)
    assert d["form"] == "continuous"


def test_formula_exact_latex_and_metric():
    r = run("formula", "mobilenet_v3_small", "--exact", "--latex")
    assert r.exit_code == 0 and r"\operatorname{make\_divisible}" in r.stdout
    r = run("formula", "mobilenet_v1", "--exact", "--metric", "traffic", "--layers")
    assert r.exit_code == 0 and "ceiling(" in r.stdout.split("traffic (bytes")[1]
