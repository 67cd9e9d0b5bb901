"""The column model (mbcost/columns.py): every column is complete in every format, and a
column added to ``LAYER`` reaches the terminal, CSV, JSON, Markdown, records and the JSON
Schemas with nothing else changed (issue 10: "a column is one definition")."""

import csv
import io
import json
from pathlib import Path

import pytest

import mbcost
from mbcost import columns, cost, report, schemas
from mbcost.cli import render_text
from mbcost.columns import COUNT, MAX, SUM, Col, Options

from minischema import errors
from test_schemas import undeclared

ROOT = Path(__file__).resolve().parent.parent
FLOPS = Options(flops=True)


@pytest.fixture(scope="module")
def half160():
    """0.5 MobileNet-160 (v1 Table 9)."""
    return mbcost.analyze("mobilenet_v1", alpha=0.5, resolution=160)


def _csv(text):
    return list(csv.reader(io.StringIO(text)))


def _framed_row(text, n):
    """Cells of the n-th framed line ('| a | b |') of a plain table."""
    lines = [ln for ln in text.splitlines() if ln.startswith("|")]
    return [c.strip() for c in lines[n].strip("|").split("|")]


def _md_row(text, n):
    lines = [ln for ln in text.splitlines() if ln.startswith("|")]
    return [c.strip() for c in lines[n][1:-1].split("|")]


def _headings(cols, opts, markdown=False):
    return [c.heading(opts, markdown) for c in cols]


# ---------------------------------------------------------------- every column is complete

@pytest.mark.parametrize("layout", [columns.layer_columns, columns.kind_columns])
@pytest.mark.parametrize("fmt", columns.FORMATS)
def test_every_column_is_complete(layout, fmt):
    for c in layout(Options.every(), fmt):
        if fmt == "data":
            assert c.name and c.doc and c.schema["description"] == c.doc, c
            assert c.schema.get("type"), c  # a JSON type for the schema
        else:
            assert c.header, c
        assert c.derive or callable(c.value), c
        assert c.when is None or c.when in Options.FLAGS, c
        assert not c.share or c.unit, c


@pytest.mark.parametrize("kwargs, missing", [
    (dict(name="x", header="X", enc=COUNT), "a description (doc)"),
    (dict(name=None, header=None, enc=COUNT, value=len), "a JSON/CSV name or a header"),
    (dict(name="x", header="X", enc=COUNT, doc="x", share=True), "a unit (share)"),
    (dict(name="x", header="X", enc=COUNT, doc="x", when="colour"), "a known option (when)"),
    (dict(name=None, header="X", enc=COUNT, total=SUM, value=len), "a name (a total"),
])
def test_a_half_defined_column_is_refused(kwargs, missing):
    with pytest.raises(ValueError) as e:
        Col(kwargs.pop("name"), kwargs.pop("header"), kwargs.pop("enc"), **kwargs)
    assert missing in str(e.value)


def test_the_per_layer_formats_follow_the_list(half160):
    data = columns.layer_columns(FLOPS, "data")
    names = [c.name for c in data]
    # no hidden list anywhere else (the memory columns come with --memory)
    assert names == [c.name for c in columns.LAYER if c.shown(FLOPS)]
    d = report.to_dict(half160, flops=True)
    assert all(list(layer) == names for layer in d["layers"])
    assert list(d["totals"]) == [c.name for c in data if c.total]
    rows = _csv(report.to_csv(half160, flops=True))
    assert rows[0] == names
    total = dict(zip(rows[0], rows[-1]))
    assert all(total[c.name] for c in data if c.total or c.label or c.at_total)
    assert report.CSV_FIELDS == tuple(c.name for c in columns.layer_columns(Options(), "data"))
    text = render_text(half160, False, False, True, False, width=250)
    assert _framed_row(text, 0) == _headings(columns.layer_columns(FLOPS, "text"), FLOPS)
    md = report.to_markdown(half160, flops=True)
    assert _md_row(md, 0) == _headings(columns.layer_columns(FLOPS, "markdown"), FLOPS, True)
    schema = schemas.table_json_schema()
    every = columns.layer_columns(Options.every(), "data")
    assert list(schema["properties"]["layers"]["items"]["properties"]) == [c.name for c in every]
    assert list(schema["properties"]["totals"]["properties"]) == [
        c.name for c in every if c.total] + list(schemas.memory_totals_schema())


def test_the_per_type_formats_follow_the_list(half160):
    data = columns.kind_columns(FLOPS, "data")
    names = [c.name for c in data]
    # the type, its layer count, then each LAYER column with a total and its share
    expect = ["type", "layers"]
    for c in columns.LAYER:
        if c.total and c.shown(FLOPS):
            expect += [c.name, f"{c.name}_pct"] if c.share else [c.name]
    assert names == expect
    d = report.by_kind_dict(half160, flops=True)
    assert all(list(k) == names for k in d["kinds"])
    assert list(d["totals"]) == [c.name for c in data if c.total]
    assert _csv(report.by_kind_csv(half160, flops=True))[0] == names
    text = render_text(half160, True, False, True, False, width=250)
    assert _framed_row(text, 0) == _headings(columns.kind_columns(FLOPS, "text"), FLOPS)
    md = report.to_markdown(half160, by_kind=True, flops=True)
    assert _md_row(md, 0) == _headings(columns.kind_columns(FLOPS, "markdown"), FLOPS, True)
    schema = schemas.by_kind_json_schema()
    every = [c.name for c in columns.kind_columns(Options.every(), "data")]
    assert list(schema["properties"]["kinds"]["items"]["properties"]) == every


def test_records_and_row_dicts_follow_the_list(half160):
    row = half160.rows[0]  # conv1: 160x160x3 -> 80x80x16, 3x3 stride 2
    assert list(row.to_dict()) == list(report.CSV_FIELDS)
    assert cost.RECORD_FIELDS == columns.record_fields()
    kinds = half160.by_kind()  # the per-type records: the per-type layout's fields, unrounded
    assert cost.KindRow._fields == report.BY_KIND_CSV_FIELDS
    assert [round(k.madds_pct, 2) for k in kinds] == [
        k["madds_pct"] for k in report.by_kind_dict(half160, all_kinds=True)["kinds"]]
    expect = {"name": "conv1", "kind": "conv", "op": "Conv 3x3", "in_h": 160, "in_w": 160,
              "in_c": 3, "out_h": 80, "out_w": 80, "out_c": 16, "k": 3, "stride": 2,
              "madds": row.madds, "params": row.params}
    record = row.record()
    assert list(record) == list(cost.RECORD_FIELDS)
    assert {k: record[k] for k in expect} == expect


def test_the_docs_name_every_field():
    doc = (ROOT / "docs" / "output-format.md").read_text(encoding="utf-8")
    for layout in (columns.layer_columns, columns.kind_columns):
        for c in layout(Options.every(), "data"):
            assert f"| `{c.name}` |" in doc, c.name


def test_the_readme_says_where_a_column_goes_and_how_goldens_are_rewritten(pytestconfig):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    dev = readme.split("\n## Development\n", 1)[1].split("\n## ", 1)[0]
    assert "mbcost/columns.py" in dev and "tests/test_columns.py" in dev
    assert "python -m pytest --update-golden" in dev
    assert pytestconfig.getoption("--update-golden") in (True, False)  # the option exists


# ---------------------------------------------------------------- a new column is one entry

def _elems(r):
    h, w, c = r.output
    return h * w * c


# the issue 10 experiment's column, and one whose total is a maximum (issue 12's peaks)
ACT = Col("x_elems", "X elems", COUNT, "elements of the layer's output tensor",
          unit="activation elements", value=_elems, total=SUM, share=True, drop=3)
PEAK = Col("x_peak", "X peak", COUNT, "the largest output tensor", value=_elems, total=MAX,
           drop=4)


@pytest.fixture()
def new_columns(monkeypatch):
    monkeypatch.setattr(columns, "LAYER", columns.LAYER + [ACT, PEAK])


def test_a_new_column_reaches_every_format(half160, new_columns):
    a = half160
    # by hand: conv1 gives 80x80x16; the largest output is conv2.pw's (and its BN and ReLU),
    # 80x80x32 at half width: the first pointwise conv doubles 16 channels at full size
    first, peak = 80 * 80 * 16, 80 * 80 * 32
    total = sum(h * w * c for h, w, c in (r.output for r in a.rows))
    hidden = sum(_elems(r) for r in a.rows if not (r.madds or r.params))
    assert hidden > 0  # BN and ReLU outputs: the totals must count rows the screen hides

    d = report.to_dict(a)
    assert d["layers"][0]["x_elems"] == first and d["layers"][0]["x_peak"] == first
    assert {k: d["totals"][k] for k in ("madds", "params", "x_elems", "x_peak")} == {
        "madds": a.madds, "params": a.params, "x_elems": total, "x_peak": peak}
    assert a.rows[0].to_dict()["x_elems"] == first
    assert a.records()[0]["x_elems"] == first and a.records()[0]["x_peak"] == first

    rows = list(csv.DictReader(io.StringIO(report.to_csv(a, flops=True))))
    assert list(rows[0])[-2:] == ["x_elems", "x_peak"]  # appended at the end
    assert rows[0]["x_elems"] == str(first)
    assert (rows[-1]["name"], rows[-1]["x_elems"], rows[-1]["x_peak"]) == (
        "total", str(total), str(peak))

    text = render_text(a, False, True, False, False, width=250)
    head, foot = _framed_row(text, 0), _framed_row(text, -1)
    i = head.index("X elems")
    assert head[i + 1] == "%" and head[i + 2] == "X peak"
    assert _framed_row(text, 1)[i] == f"{first:,}"
    assert foot[i:i + 3] == [f"{total:,}", "100%", f"{peak:,}"]
    narrow = render_text(a, False, True, False, False, width=80)
    assert "'X elems'" in narrow and "'X peak'" in narrow  # droppable, and said so

    md = report.to_markdown(a)
    head, foot = _md_row(md, 0), _md_row(md, -1)
    i = head.index("X elems")
    assert foot[i:i + 3] == [f"**{total:,}**", "100%", f"**{peak:,}**"]

    kinds = report.by_kind_dict(a, all_kinds=True)
    pw = next(k for k in kinds["kinds"] if k["type"] == "Conv 1x1")
    pw_rows = [r for r in a.rows if r.op == "Conv 1x1"]
    assert pw["x_elems"] == sum(map(_elems, pw_rows))
    assert pw["x_peak"] == peak  # conv2.pw is a Conv 1x1
    assert pw["x_elems_pct"] == round(100 * pw["x_elems"] / total, 2)
    assert kinds["totals"]["x_elems"] == total and kinds["totals"]["x_peak"] == peak
    by_csv = list(csv.DictReader(io.StringIO(report.by_kind_csv(a))))
    assert by_csv[-1]["x_elems"] == str(total) and by_csv[-1]["x_elems_pct"] == "100.00"
    assert "X elems" in render_text(a, True, False, False, False, width=250)

    # the JSON Schemas are generated with it, and the output validates against them
    for data, schema in ((d, schemas.table_json_schema()), (kinds, schemas.by_kind_json_schema())):
        assert errors(json.loads(json.dumps(data)), schema) == []
        assert undeclared(data, schema) == []
    layer = schemas.table_json_schema()["properties"]["layers"]["items"]
    assert layer["properties"]["x_elems"]["description"] == ACT.doc
    assert "x_elems" in layer["required"]
    kind = schemas.by_kind_json_schema()["properties"]["kinds"]["items"]["properties"]
    assert kind["x_elems_pct"]["description"] == \
        "percent of the total activation elements, rounded to 2 decimals"


def test_without_the_new_column_the_schema_would_not_declare_it(half160, new_columns, monkeypatch):
    data = report.to_dict(half160)
    monkeypatch.setattr(columns, "LAYER", [c for c in columns.LAYER if c is not ACT])
    assert "$.layers[0].x_elems" in undeclared(data, schemas.table_json_schema())


def test_an_option_adds_a_column(half160, monkeypatch):
    only = Col("x_elems", "X elems", COUNT, "output elements; only with --flops",
               value=_elems, total=SUM, when="flops")
    monkeypatch.setattr(columns, "LAYER", columns.LAYER + [only])
    assert "x_elems" not in report.to_dict(half160)["layers"][0]
    assert "x_elems" in report.to_dict(half160, flops=True)["layers"][0]
    layer = schemas.table_json_schema()["properties"]["layers"]["items"]
    assert "x_elems" in layer["properties"] and "x_elems" not in layer["required"]
    assert "x_elems" not in columns.record_fields()  # records: the default columns


def test_committed_schemas_come_from_the_columns():
    # the schema files are generated from LAYER (python -m mbcost.schemas); not hand-kept
    for which in ("table", "table-by-kind"):
        committed = (ROOT / "mbcost" / "schema" / schemas.SCHEMA_FILES[which]).read_text(encoding="utf-8")
        assert committed == schemas.schema_text(which)
    props = json.loads((ROOT / "mbcost" / "schema" / "table.schema.json").read_text(encoding="utf-8"))
    layer = props["properties"]["layers"]["items"]
    assert list(layer["properties"]) == [c.name for c in columns.LAYER]
    assert layer["required"] == [c.name for c in columns.LAYER if not c.when]
