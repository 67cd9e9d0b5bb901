"""Totals, conventions and closed forms (cost.py)."""

import csv
import io
from fractions import Fraction

import pytest
import sympy

import mbcost
from mbcost import report
from mbcost.cost import dwsep_ratios, parse_alpha
from mbcost.errors import UsageError
from mbcost.symbols import alpha, rho

POINTS = [(1, None), (0.75, 192), (0.5, 160), (0.25, 128), (1.3, 200)]

# MobileNet v1 Table 1 (stride of the last dw corrected to 1): (M, N, D_F) of every
# depthwise separable layer; D_F is the size the layer outputs.
V1_DWSEP = [(32, 64, 112), (64, 128, 56), (128, 128, 56), (128, 256, 28), (256, 256, 28),
            (256, 512, 14)] + [(512, 512, 14)] * 5 + [(512, 1024, 7), (1024, 1024, 7)]


@pytest.mark.parametrize("name", mbcost.bundled_names())
@pytest.mark.parametrize("a, res", POINTS)
def test_rows_sum_to_totals(name, a, res):
    for convention in ("paper", "torchvision", "ptflops"):
        an = mbcost.analyze(name, alpha=a, resolution=res, convention=convention)
        assert sum(r.madds for r in an.rows) == an.madds
        assert sum(r.params for r in an.rows) == an.params
        kinds = an.by_kind()
        assert sum(k.madds for k in kinds) == an.madds
        assert sum(k.params for k in kinds) == an.params
        assert sum(k.layers for k in kinds) == len(an.rows)
        assert isinstance(an.madds, int) and isinstance(an.params, int)


def test_v1_closed_form_coefficients_from_table_1():
    # mult-adds of the 1x1 convs: M·N·D_F², each of M, N scaled by alpha -> alpha² rho²
    pw = sum(m * n * d * d for m, n, d in V1_DWSEP)
    # 3x3 depthwise D_K²·M·D_F² (alpha rho²) and the stem 3·3·3·32·112² (only N scales)
    dw = sum(3 * 3 * m * d * d for m, _, d in V1_DWSEP)
    stem = 3 * 3 * 3 * 32 * 112 * 112
    fc = 1024 * 1000  # FC 1024 -> 1000 after the global pool: alpha only
    assert (pw, dw, stem, fc) == (539_492_352, 17_385_984, 10_838_016, 1_024_000)
    f = mbcost.closed_form("mobilenet_v1")
    want = pw * alpha**2 * rho**2 + (dw + stem) * alpha * rho**2 + fc * alpha
    assert sympy.expand(f.madds - want) == 0
    assert sympy.expand(f.madds - (539492352 * alpha**2 * rho**2 + 28224000 * alpha * rho**2
                                   + 1024000 * alpha)) == 0
    # params: 1x1 weights M·N (alpha²); dw weights 9·M, stem 3·3·3·32 and FC weights 1024·1000
    # (alpha); the FC bias 1000 is constant
    ppw = sum(m * n for m, n, _ in V1_DWSEP)
    plin = sum(9 * m for m, _, _ in V1_DWSEP) + 3 * 3 * 3 * 32 + 1024 * 1000
    assert (ppw, plin) == (3_139_584, 1_069_504)
    assert sympy.expand(f.params - (ppw * alpha**2 + plin * alpha + 1000)) == 0


def test_closed_form_at_base_is_the_exact_count():
    for name in mbcost.bundled_names():
        f = mbcost.closed_form(name)
        a = mbcost.analyze(name)
        assert f.madds.subs({alpha: 1, rho: 1}) == a.madds
        assert f.params.subs({alpha: 1, rho: 1}) == a.params
        assert f.exact_at_base
        assert sum(m for _, _, m, _, _ in f.layers) - f.madds == 0


@pytest.mark.parametrize("a", [1, 0.75, 0.5, 0.25])
@pytest.mark.parametrize("res", [224, 192, 160, 128])
def test_v1_closed_form_is_exact_on_the_paper_grid(a, res):
    # every channel count of v1 times these alphas is whole and >= 8, and every res is a
    # multiple of 32, so truncation and ceil do nothing: the polynomial is exact here
    f = mbcost.closed_form("mobilenet_v1")
    point = {alpha: sympy.Rational(str(a)), rho: sympy.Rational(res, 224)}
    an = mbcost.analyze("mobilenet_v1", alpha=a, resolution=res)
    assert f.madds.subs(point) == an.madds
    assert f.params.subs(point) == an.params


def test_closed_form_states_its_approximations():
    f = mbcost.closed_form("mobilenet_v1")
    assert any("channel rounding" in s for s in f.approximations)


def test_dwsep_ratio_is_one_over_n_plus_one_over_dk2():
    # (D_K²·M·D_F² + M·N·D_F²) / (D_K²·M·N·D_F²) = 1/N + 1/D_K²  (MobileNets §3.1)
    rows = {r.name: r for r in mbcost.analyze("mobilenet_v1").rows}
    for i, (m, n, d) in enumerate(V1_DWSEP, start=2):
        sep = rows[f"conv{i}.dw"].madds + rows[f"conv{i}.pw"].madds
        standard = 3 * 3 * m * n * d * d
        assert Fraction(sep, standard) == Fraction(1, n) + Fraction(1, 9)
    ratios = dict(dwsep_ratios(mbcost.closed_form("mobilenet_v1")))
    assert sympy.simplify(ratios["conv2"] - (1 / (64 * alpha) + sympy.Rational(1, 9))) == 0
    assert sympy.simplify(ratios["conv14"] - (1 / (1024 * alpha) + sympy.Rational(1, 9))) == 0


def test_flops_are_twice_the_mult_adds():
    an = mbcost.analyze("mobilenet_v1", alpha=0.5, resolution=160)
    d = report.to_dict(an, flops=True)
    assert d["totals"]["flops"] == 2 * 76_524_800
    assert all(layer["flops"] == 2 * layer["madds"] for layer in d["layers"])
    last = list(csv.DictReader(io.StringIO(report.to_csv(an, flops=True))))[-1]
    assert last["name"] == "total" and int(last["flops"]) == 2 * 76_524_800


def test_conventions_change_params_not_madds_for_v1():
    # v1 has 27 BN layers (stem, 13 dw, 13 pw); their channels from Table 1: 32, each M, each N
    bn_channels = 32 + sum(m + n for m, n, _ in V1_DWSEP)
    assert bn_channels == 10_944
    paper = mbcost.analyze("mobilenet_v1")
    tv = mbcost.analyze("mobilenet_v1", convention="torchvision")
    keras = mbcost.analyze("mobilenet_v1", convention="keras")
    assert tv.madds == keras.madds == paper.madds
    assert tv.params == paper.params + 2 * bn_channels
    assert keras.params == 4_253_864  # Keras MobileNet(1.0), paper_tables.md §1.8 = 4,210,088 + 4·10,944


def test_bad_alpha_resolution_and_convention():
    with pytest.raises(UsageError, match="alpha must be"):
        mbcost.analyze("mobilenet_v1", alpha=0)
    with pytest.raises(UsageError, match="alpha must be a positive number"):
        parse_alpha("abc")
    with pytest.raises(UsageError, match="resolution must be"):
        mbcost.analyze("mobilenet_v1", resolution=0)
    with pytest.raises(UsageError, match="either resolution or rho"):
        mbcost.analyze("mobilenet_v1", resolution=160, rho=0.5)
    with pytest.raises(UsageError, match="unknown convention 'nope'"):
        mbcost.analyze("mobilenet_v1", convention="nope")


def test_rho_rounds_half_up_to_a_resolution():
    # rho 0.714 · 224 = 159.936 -> 160
    assert mbcost.analyze("mobilenet_v1", rho="0.714").resolution == 160
    assert parse_alpha("0.75") == Fraction(3, 4)
