"""The library as a library (issue 8 §6): documented public functions whose examples
run, Analysis.to_dict/records/to_dataframe, named by-kind records, alpha as a float,
short reprs."""

import doctest
import inspect
import json
import sys
import types
from fractions import Fraction

import pytest

import mbcost
from mbcost import cost, graph, report, spec
from mbcost.cli import main

from clirunner import CliRunner

FUNCTIONS = [getattr(mbcost, n) for n in mbcost.__all__ if inspect.isfunction(getattr(mbcost, n))]
TAKES_A_SPEC = (mbcost.analyze, mbcost.closed_form, mbcost.load_spec)


def test_the_public_functions_are_these():
    assert {f.__name__ for f in FUNCTIONS} == {
        "analyze", "closed_form", "load_spec", "build_graph", "bundled_names", "get_convention",
        "read_onnx"}


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
def test_every_public_function_documents_returns_raises_and_an_example(fn):
    doc = inspect.getdoc(fn)
    assert len(doc.splitlines()) >= 5, "help() is one line"
    assert ">>> " in doc, "no example"
    assert "Returns" in doc or "returns" in doc.split(">>>")[0].lower()
    assert "Raises" in doc or "raises" in doc


@pytest.mark.parametrize("fn", TAKES_A_SPEC, ids=lambda f: f.__name__)
def test_what_a_spec_may_be_and_what_is_raised(fn):
    doc = " ".join(inspect.getdoc(fn).split())
    for what in ("bundled name", "path", "dict", "SpecError", "ValueError"):
        assert what in doc, f"{fn.__name__}'s help does not say {what!r}"


# the examples in the docstrings run as written
DOCTESTED = [mbcost, mbcost.analyze, mbcost.closed_form, mbcost.get_convention, mbcost.load_spec,
             mbcost.bundled_names, mbcost.build_graph, cost.Analysis, cost.Formula]


@pytest.mark.parametrize("obj", DOCTESTED, ids=lambda o: o.__name__)
def test_docstring_examples_run(obj):
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    globs = {**vars(mbcost), **vars(cost)}
    tests = finder.find(obj, obj.__name__, globs=globs)
    assert sum(len(t.examples) for t in tests) > 0
    for t in tests:
        runner.run(t)
    assert runner.summarize(verbose=False).failed == 0


# ---------------------------------------------------------------- Analysis

@pytest.fixture(scope="module")
def half160():
    return mbcost.analyze("mobilenet_v1", alpha=0.5, resolution=160)


def test_to_dict_is_the_json_output(half160):
    r = CliRunner().invoke(main, ["table", "mobilenet_v1", "-a", "0.5", "--res", "160", "-f", "json"])
    assert half160.to_dict() == json.loads(r.stdout)
    assert half160.to_dict(flops=True)["totals"]["flops"] == 2 * 76_524_800
    assert [r.to_dict() for r in half160.rows] == half160.to_dict()["layers"]


def test_alpha_is_a_float_and_the_exact_value_is_kept():
    a = mbcost.analyze("mobilenet_v1", alpha="0.35")
    assert type(a.alpha) is float and a.alpha == 0.35
    assert a.alpha_exact == Fraction(7, 20)
    assert a.to_dict()["alpha"] == 0.35
    whole = mbcost.analyze("mobilenet_v1")
    assert whole.alpha == 1.0 and whole.to_dict()["alpha"] == 1  # JSON keeps a whole alpha an int
    assert type(whole.to_dict()["alpha"]) is int


def test_by_kind_gives_named_records(half160):
    kinds = half160.by_kind()
    assert all(isinstance(k, cost.KindRow) for k in kinds)
    assert cost.KindRow._fields == report.BY_KIND_CSV_FIELDS  # the CSV's columns, by name
    pw = next(k for k in kinds if k.type == "Conv 1x1")
    # 13 pointwise layers at alpha 0.5, 160 px: the half-width Table 1 convs
    assert (pw.layers, pw.madds) == (13, 68_812_800)
    assert pw.madds_pct == pytest.approx(100 * 68_812_800 / 76_524_800)
    assert sum(k.layers for k in kinds) == len(half160.rows)
    assert [k.madds for k in kinds] == sorted((k.madds for k in kinds), reverse=True)


def test_formula_by_kind_gives_named_records():
    f = mbcost.closed_form("mobilenet_v1")
    pw = next(k for k in f.by_kind() if k.type == "Conv 1x1")
    assert str(pw.madds) == "539492352*alpha**2*rho**2"  # Table 1's pointwise sum, alpha² rho²


def test_records_are_flat_and_all_int(half160):
    recs = half160.records()
    assert len(recs) == len(half160.rows)
    assert all(list(r) == list(cost.RECORD_FIELDS) for r in recs)
    for field in cost.RECORD_FIELDS[3:]:  # every numeric column: int, never None, never bool
        assert all(type(r[field]) is int for r in recs), field
    bn = next(r for r in recs if r["kind"] == "bn")
    assert (bn["k"], bn["stride"]) == (0, 0)  # no kernel, no stride: 0, as documented
    conv1 = recs[0]
    # conv1 at 160 px: 3x3 stride 2 from 160x160x3 to 80x80x16
    assert (conv1["in_h"], conv1["in_c"], conv1["out_h"], conv1["out_c"], conv1["k"],
            conv1["stride"]) == (160, 3, 80, 16, 3, 2)
    assert sum(r["madds"] for r in recs) == 76_524_800
    assert sum(r["params"] for r in recs) == 1_320_648


def test_to_dataframe_uses_pandas_when_installed(half160, monkeypatch):
    made = []

    class DataFrame:
        def __init__(self, data, columns=None):
            made.append((data, columns))

    monkeypatch.setitem(sys.modules, "pandas", types.SimpleNamespace(DataFrame=DataFrame))
    df = half160.to_dataframe()
    assert isinstance(df, DataFrame)
    assert made == [(half160.records(), list(cost.RECORD_FIELDS))]


def test_to_dataframe_without_pandas_says_so(half160, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    with pytest.raises(ImportError, match="pip install pandas"):
        half160.to_dataframe()


def test_pandas_is_not_imported_by_mbcost():
    import subprocess

    code = "import sys, mbcost; mbcost.analyze('mobilenet_v1').records(); print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- reprs

def test_reprs_are_short():
    b7 = mbcost.analyze("efficientnet_b7")
    assert repr(b7) == ("Analysis(model='efficientnet_b7', alpha=1.0, resolution=600, "
                        f"convention='paper', madds={b7.madds}, params={b7.params}, "
                        f"rows=<{len(b7.rows)} rows>)")
    f = mbcost.closed_form("efficientnet_b7")
    assert len(repr(f)) < 500 and repr(f).startswith("Formula(model='efficientnet_b7'")
    s = mbcost.load_spec("efficientnet_b7")
    assert len(repr(s)) < 300 and len(repr(graph.build_graph(s))) < 300
    assert len(repr(b7.rows[0])) < 300


def test_long_expressions_are_cut_in_the_repr():
    import sympy

    f = mbcost.closed_form("mobilenet_v1")
    f.madds = sum(sympy.Symbol(f"x{i}") for i in range(200))
    assert len(repr(f)) < 800 and "..." in repr(f)


def test_the_spec_argument_is_documented_once():
    # analyze and closed_form share cost.SPEC_ARG_DOC; load_spec says the same in its words
    assert cost.SPEC_ARG_DOC.split()[:4] == ["``spec``", "may", "be", "a"]
    assert " ".join(cost.SPEC_ARG_DOC.split()) in " ".join(mbcost.analyze.__doc__.split())
    assert "{spec}" not in mbcost.closed_form.__doc__
    assert spec.load_spec.__doc__ and graph.build_graph.__doc__
