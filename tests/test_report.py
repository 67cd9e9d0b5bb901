"""Rendering: golden files for every format, the JSON/CSV contract, row sums."""

import csv
import io
import json
from pathlib import Path

import pytest

import mbcost
from mbcost import report
from mbcost.cli import render_text

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def half160():
    """0.5 MobileNet-160 (v1 Table 9), the golden files' subject."""
    return mbcost.analyze("mobilenet_v1", alpha=0.5, resolution=160)


RENDERERS = {
    "mobilenet_v1_0.5_160.txt": lambda a: render_text(a, False, False, False, False, width=160),
    "mobilenet_v1_0.5_160_by_kind.txt": lambda a: render_text(a, True, False, False, False, width=160),
    "mobilenet_v1_0.5_160.csv": report.to_csv,
    "mobilenet_v1_0.5_160.md": report.to_markdown,
    "mobilenet_v1_0.5_160.json": report.to_json,
    "mobilenet_v1_0.5_160_by_kind.csv": report.by_kind_csv,
    "mobilenet_v1_0.5_160_by_kind.json": report.by_kind_json,
}


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_golden(name, half160, golden):
    golden(GOLDEN / name, RENDERERS[name](half160))


def test_text_table_is_plain_and_fits(half160):
    text = render_text(half160, False, False, False, False, width=160)
    assert "\x1b[" not in text
    assert max(len(line) for line in text.splitlines()) <= 160
    assert "76,524,800" in text and "1,320,648" in text  # totals are always exact
    assert "layers with no cost" in text  # BN and ReLU rows are hidden by default
    full = render_text(half160, False, False, False, True, width=160)
    assert "conv1.bn" in full and "conv1.bn" not in text


def test_exact_rows(half160):
    text = render_text(half160, False, True, False, False, width=160)
    # conv1 at alpha 0.5, 160: 3·3·3·16·80·80 = 2,764,800 mult-adds
    assert "2,764,800" in text


def test_json_contract(half160):
    d = json.loads(report.to_json(half160))
    assert {"model", "alpha", "resolution", "convention", "layers", "totals"} <= set(d)
    assert (d["model"], d["alpha"], d["resolution"], d["convention"]) == ("mobilenet_v1", 0.5, 160, "paper")
    assert (d["totals"]["madds"], d["totals"]["params"]) == (76_524_800, 1_320_648)
    assert all(type(v) is int for v in d["totals"].values())
    for layer in d["layers"]:
        assert {"name", "kind", "input", "output", "madds", "params"} <= set(layer)
        assert type(layer["madds"]) is int and type(layer["params"]) is int
        assert len(layer["input"]) == len(layer["output"]) == 3
    assert d["layers"][0]["name"] == "conv1" and d["layers"][0]["output"] == [80, 80, 16]
    assert sum(layer["madds"] for layer in d["layers"]) == d["totals"]["madds"]
    assert len(d["layers"]) == len(half160.rows)  # JSON lists every layer, zero-cost ones too


def test_csv_has_a_total_row(half160):
    rows = list(csv.DictReader(io.StringIO(report.to_csv(half160))))
    *layers, total = rows
    assert total["name"] == "total"
    assert (int(total["madds"]), int(total["params"])) == (76_524_800, 1_320_648)
    assert sum(int(r["madds"]) for r in layers) == int(total["madds"])
    assert sum(int(r["params"]) for r in layers) == int(total["params"])
    assert list(rows[0]) == list(report.CSV_FIELDS)


def test_markdown_totals(half160):
    md = report.to_markdown(half160)
    assert md.splitlines()[-1].startswith("| **Total** |")
    assert "**76,524,800**" in md and "**1,320,648**" in md
    kind = report.to_markdown(half160, by_kind=True)
    assert "| Conv 1x1 | 13 | 68,812,800 |" in kind  # 13 pointwise layers
    for text in (md, kind):  # the total row has as many cells as the header
        table = [line for line in text.splitlines() if line.startswith("|")]
        assert len({line.count("|") for line in table}) == 1


def test_by_kind_rows_sum(half160):
    rows = report.by_kind_rows(half160)
    assert sum(k.madds for k in rows) == half160.madds
    assert round(sum(k.madds_pct for k in rows), 9) == 100.0


@pytest.mark.parametrize("n, text", [(76_524_800, "76.52M"), (1_320_648, "1.32M"), (864, "864"),
                                     (2_048, "2.05K"), (5_000_000_000, "5.00G")])
def test_si_units(n, text):
    assert report.si(n) == text


def test_formula_text():
    f = mbcost.closed_form("mobilenet_v1")
    text = report.formula_text(f)
    assert "mult-adds = 539492352*alpha^2*rho^2 + 28224000*alpha*rho^2 + 1024000*alpha" in text
    assert "params    = 3139584*alpha^2 + 1069504*alpha + 1000" in text
    assert "\\alpha" in report.formula_text(f, latex=True)
