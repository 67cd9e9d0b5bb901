"""Every format honours every option, or refuses it (issue 8 §3): --by kind as CSV and
JSON (MobileNet v1 Table 2), --all with --by kind, formula and list as JSON, options
that do not apply to what was asked for, and the reserved name 'total'."""

import csv
import io
import json
from pathlib import Path

import pytest
from clirunner import CliRunner

import mbcost
from mbcost.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"


def run(*args):
    """Invoke the CLI in-process; stdout and stderr kept apart."""
    return CliRunner().invoke(main, [str(a) for a in args])


def ok(*args):
    """Invoke, assert exit 0 and an empty stderr; return stdout."""
    r = run(*args)
    assert r.exit_code == 0, r.stderr
    assert r.stderr == ""
    return r.stdout


def refused(*args):
    """Invoke, assert exit 2 with one line on stderr and nothing on stdout; return the line."""
    r = run(*args)
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert r.stdout == "" and r.stderr.count("\n") == 1
    return r.stderr


# MobileNet v1 Table 2 (convention 'weights': the paper's parameter shares leave out the FC
# bias); exact counts as in tests/test_paper_v1.py. Layers per type from Table 1: 13
# depthwise separable pairs, the 3x3 stem and the FC layer.
TABLE_2_FIELDS = ["type", "layers", "madds", "madds_pct", "params", "params_pct"]
TABLE_2 = [
    ["Conv 1x1", "13", "539492352", "94.86", "3139584", "74.59"],
    ["Conv DW 3x3", "13", "17385984", "3.06", "44640", "1.06"],
    ["Conv 3x3", "1", "10838016", "1.91", "864", "0.02"],
    ["FC", "1", "1024000", "0.18", "1024000", "24.33"],
]


def _table_2(row):
    return [row[f] for f in TABLE_2_FIELDS]


def test_by_kind_csv_is_table_2():
    text = ok("table", "mobilenet_v1", "--by", "kind", "--convention", "weights", "--format", "csv")
    # the documented header; columns added later are only ever appended
    assert next(csv.reader(io.StringIO(text)))[:6] == TABLE_2_FIELDS
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [_table_2(r) for r in rows[:-1]] == TABLE_2
    # the total row: 28 layers, 568,740,352 mult-adds (Table 1), 4,209,088 weights
    assert _table_2(rows[-1]) == ["total", "28", "568740352", "100.00", "4209088", "100.00"]
    assert sum(int(r["madds"]) for r in rows[:-1]) == 568_740_352
    assert sum(int(r["params"]) for r in rows[:-1]) == 4_209_088


def test_by_kind_json_has_the_same_fields():
    d = json.loads(ok("table", "mobilenet_v1", "--by", "kind", "--convention", "weights",
                      "--format", "json"))
    assert d["schema"] == "mbcost.table-by-kind/1"
    assert (d["model"], d["convention"], d["alpha"], d["resolution"]) == (
        "mobilenet_v1", "weights", 1, 224)
    fields = next(csv.reader(io.StringIO(ok("table", "mobilenet_v1", "--by", "kind", "-f", "csv"))))
    assert [list(k) for k in d["kinds"]] == [fields] * 4  # the CSV's columns, in its order
    assert [[str(k[f]) if not f.endswith("pct") else f"{k[f]:.2f}" for f in TABLE_2_FIELDS]
            for k in d["kinds"]] == TABLE_2
    assert {f: d["totals"][f] for f in ("layers", "madds", "params")} == {
        "layers": 28, "madds": 568_740_352, "params": 4_209_088}
    assert d["all"] is False


def test_by_kind_flops_doubles_every_row_and_the_total():
    rows = list(csv.DictReader(io.StringIO(ok("table", "mobilenet_v1", "--by", "kind", "--flops",
                                              "--format", "csv"))))
    assert "flops" in rows[0]
    for r in rows:
        assert int(r["flops"]) == 2 * int(r["madds"])
    d = json.loads(ok("table", "mobilenet_v1", "--by", "kind", "--flops", "--format", "json"))
    assert d["totals"]["flops"] == 2 * 568_740_352
    assert all(k["flops"] == 2 * k["madds"] for k in d["kinds"])


def test_all_honours_by_kind_in_every_format():
    a = mbcost.analyze("mobilenet_v1")
    # MobileNet v1: every conv is followed by BN and ReLU: 27 convs -> 27 BN, 27 ReLU
    assert sum(r.kind == "bn" for r in a.rows) == 27
    plain = list(csv.DictReader(io.StringIO(ok("table", "mobilenet_v1", "--by", "kind", "-f", "csv"))))
    full = list(csv.DictReader(io.StringIO(ok("table", "mobilenet_v1", "--by", "kind", "--all",
                                              "-f", "csv"))))
    assert "BN" not in [r["type"] for r in plain]
    bn = next(r for r in full if r["type"] == "BN")
    assert _table_2(bn) == ["BN", "27", "0", "0.00", "0", "0.00"]
    assert full[-1]["layers"] == str(len(a.rows))  # with --all the total counts every layer
    # the totals themselves do not change
    assert {**full[-1], "layers": ""} == {**plain[-1], "layers": ""}
    d = json.loads(ok("table", "mobilenet_v1", "--by", "kind", "--all", "-f", "json"))
    assert d["all"] is True and "BN" in [k["type"] for k in d["kinds"]]
    for fmt in ("markdown", "table"):
        assert "BN" not in ok("table", "mobilenet_v1", "--by", "kind", "-f", fmt)
        assert "BN" in ok("table", "mobilenet_v1", "--by", "kind", "--all", "-f", fmt)


def test_by_kind_csv_to_a_file(tmp_path):
    out = tmp_path / "table2.csv"
    assert ok("table", "mobilenet_v1", "--by", "kind", "-f", "csv", "-o", out) == ""
    assert out.read_text(encoding="utf-8").splitlines()[0].startswith("type,layers,madds,madds_pct,params,params_pct")


# ---------------------------------------------------------------- the reserved name 'total'

def test_a_layer_named_total_is_refused_with_file_and_line(tmp_path):
    p = tmp_path / "net.yaml"
    p.write_text("name: t\ninput: [8, 8, 3]\nlayers:\n  - conv: {k: 3, out: 8}\n"
                 "  - conv: {name: total, k: 1, out: 4}\n", encoding="utf-8")
    line = refused("table", p, "--format", "csv")
    assert line.startswith(f"{p}:5: layer 'total': field 'name':")
    with pytest.raises(mbcost.SpecError) as e:
        mbcost.analyze(str(p))
    assert (e.value.line, e.value.field) == (5, "name")


def test_total_inside_a_name_is_fine(tmp_path):
    p = tmp_path / "net.yaml"
    p.write_text("name: t\ninput: [8, 8, 3]\nlayers:\n  - conv: {name: total_conv, k: 3, out: 8}\n",
                 encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(ok("table", p, "--format", "csv"))))
    assert [r["name"] for r in rows if r["name"].startswith("total")] == ["total_conv", "total"]
    assert rows[-1]["name"] == "total" and rows[-1]["kind"] == ""  # only the total row has no kind


# ---------------------------------------------------------------- formula and list as JSON

def test_formula_json_reads_back_as_the_closed_form(tmp_path):
    import sympy

    from mbcost.symbols import alpha, rho

    d = json.loads(ok("formula", "mobilenet_v1", "--by", "kind", "--layers", "--format", "json"))
    assert (d["schema"], d["model"], d["convention"]) == ("mbcost.formula/1", "mobilenet_v1", "paper")
    names = {"alpha": alpha, "rho": rho}
    madds = sympy.sympify(d["madds"], locals=names)
    # MobileNet v1 at alpha = rho = 1: 568,740,352 mult-adds, 4,210,088 params (Table 1)
    assert madds.subs({alpha: 1, rho: 1}) == 568_740_352
    assert sympy.sympify(d["params"], locals=names).subs({alpha: 1}) == 4_210_088
    assert sum(sympy.sympify(k["madds"], locals=names) for k in d["kinds"]) - madds == 0
    assert sum(sympy.sympify(x["madds"], locals=names) for x in d["layers"]) - madds == 0
    # 13 separable pairs, each 1/N + 1/9 at alpha = 1 (conv2: N = 64)
    assert len(d["dwsep_ratios"]) == 13
    assert d["dwsep_ratios"][0]["at_alpha_1"] == pytest.approx(1 / 64 + 1 / 9)
    assert d["exact_at_base"] is True
    out = tmp_path / "f.json"
    assert ok("formula", "mobilenet_v1", "-f", "json", "-o", out) == ""
    assert json.loads(out.read_text(encoding="utf-8"))["madds"] == d["madds"]
    assert "kinds" not in json.loads(out.read_text(encoding="utf-8"))  # only with --by kind


def test_formula_text_to_a_file(tmp_path):
    out = tmp_path / "f.txt"
    assert ok("formula", "mobilenet_v1", "-o", out) == ""
    assert out.read_text(encoding="utf-8") == ok("formula", "mobilenet_v1")


def test_formula_latex_with_json_is_refused():
    assert "--latex" in refused("formula", "mobilenet_v1", "--latex", "--format", "json")


def test_list_json(tmp_path):
    d = json.loads(ok("list", "--format", "json"))
    assert d["schema"] == "mbcost.list/1"
    assert [s["name"] for s in d["specs"]] == mbcost.bundled_names()
    v1 = next(s for s in d["specs"] if s["name"] == "mobilenet_v1")
    assert v1["input"] == [224, 224, 3]
    c = json.loads(ok("list", "--conventions", "--format", "json"))
    assert [x["name"] for x in c["conventions"]] == list(mbcost.CONVENTIONS)
    assert [x["name"] for x in c["conventions"] if x["default"]] == ["paper"]
    weights = next(x for x in c["conventions"] if x["name"] == "weights")
    assert weights["params"] == {"weight": 1}  # Table 2's shares: no biases
    out = tmp_path / "list.txt"
    assert ok("list", "-o", out) == ""
    assert out.read_text(encoding="utf-8") == ok("list")


# ---------------------------------------------------------------- options that do not apply

@pytest.mark.parametrize("args, option", [
    (["--res", "224", "--res-step", "8"], "--res-step"),
    (["--alpha", "1", "--alpha-step", "0.05"], "--alpha-step"),
    (["--alpha-step", "0.05"], "--alpha-step"),
    (["--res-step", "16"], "--res-step"),
])
def test_fit_refuses_the_step_of_what_it_does_not_fit(args, option):
    assert option in refused("fit", "mobilenet_v1", "--max-madds", "150M", *args)


def test_fit_steps_that_apply_are_accepted():
    d = json.loads(ok("fit", "mobilenet_v1", "--max-madds", "150M", "--res", "224",
                      "--alpha-step", "0.05", "-f", "json"))
    assert d["alpha"] == 0.5 and d["step"] == 0.05
    d = json.loads(ok("fit", "mobilenet_v1", "--max-madds", "150M", "--alpha", "1",
                      "--res-step", "16", "-f", "json"))
    assert d["resolution"] % 16 == 0 and d["step"] == 16


def test_readme_states_the_sweep_json_change():
    text = README.read_text(encoding="utf-8")
    assert "mbcost.sweep/1" in text and "bare list" in text
