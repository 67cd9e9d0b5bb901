"""docs/spec-format.md and docs/output-format.md: the example works, and every kind, field,
limit and output field the engine has is documented."""

import json
import re
from pathlib import Path

import pytest
import yaml

import mbcost
from mbcost import expr, graph, report, schemas, spec
from mbcost.layers import ACTIVATIONS

from minischema import errors

ROOT = Path(__file__).resolve().parent.parent
SPEC_DOC = ROOT / "docs" / "spec-format.md"
OUTPUT_DOC = ROOT / "docs" / "output-format.md"
SPEC_SCHEMA = ROOT / "mbcost" / "schema" / "spec.schema.json"


def _text(path):
    return path.read_text(encoding="utf-8")


def _example_yaml():
    m = re.search(r"<!-- example-spec[^>]*-->\s*```yaml\n(.*?)```", _text(SPEC_DOC), re.S)
    assert m, "docs/spec-format.md lost its <!-- example-spec --> yaml block"
    return m.group(1)


def _sections(text, level="###"):
    """{heading: body} for headings of exactly this level."""
    parts = re.split(rf"^{level} (.+)$", text, flags=re.M)
    return {parts[i].strip(): re.split(r"^#{2,3} ", parts[i + 1], flags=re.M)[0]
            for i in range(1, len(parts), 2)}


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    p = tmp_path_factory.mktemp("doc") / "example.yaml"
    p.write_text(_example_yaml(), encoding="utf-8")
    return p


def test_example_loads_and_analyzes(example):
    a = mbcost.analyze(str(example))
    rows = {r.name: r for r in a.rows}
    # stem: 3x3 conv, stride 2, SAME: 64 -> ceil(64/2) = 32; weights 3*3*3*16 = 432
    assert rows["stem"].output == (32, 32, 16)
    assert (rows["stem"].params, rows["stem"].madds) == (3 * 3 * 3 * 16, 3 * 3 * 3 * 16 * 32 * 32)
    # when: "t != 1" with t = 1 skips the expansion of the first block
    assert "mbconv1/expand" not in rows and "mbconv1/dw" in rows
    # the stride rule: only the first of n = 2 repetitions keeps s = 2
    assert (rows["stage2.1/dw"].stride, rows["stage2.2/dw"].stride) == (2, 1)
    assert rows["stage2.1/dw"].output[:2] == (16, 16) and rows["stage2.2/dw"].output[:2] == (16, 16)
    # residual only where the block keeps its shape (32x32x16 in and out; stride-1 repeat)
    assert {n for n in rows if n.endswith("residual1")} == {"mbconv1/residual1", "stage2.2/residual1"}
    # word arguments: act: hswish replaced `act` in stage2, relu6 (the default) in mbconv1
    assert "stage2.1/expand.hswish" in rows and "mbconv1/dw.relu6" in rows
    # SE in stage2.1: input 4*16 = 64 channels, squeeze make_divisible(64/4, 8) = 16;
    # reduce 1x1 conv with bias: 64*16 + 16 weights and biases
    assert rows["stage2.1/se1.reduce"].output[2] == 16
    assert rows["stage2.1/se1.reduce"].params == 64 * 16 + 16
    assert "mbconv1/se1.reduce" not in rows  # use_se defaults to false
    # parallel: two 16-channel branches concatenated
    assert rows["mix"].output == (16, 16, 32) and "mix/b2/dw1" in rows
    # classifier: 128 inputs -> 10 classes with bias
    assert rows["classifier"].params == 128 * 10 + 10
    assert rows["classifier"].madds == 128 * 10


def test_example_width_rules(example):
    rows = {r.name: r for r in mbcost.analyze(str(example), alpha=0.5).rows}
    assert rows["stem"].output[2] == 8  # make_divisible(16 * 0.5, 8) = 8
    assert rows["head"].output[2] == 128  # scale: up keeps the table value when alpha < 1
    assert rows["classifier"].output[2] == 10  # fc: scale false


def test_example_validates_against_the_schema():
    data = yaml.safe_load(_example_yaml())
    assert errors(data, json.loads(_text(SPEC_SCHEMA))) == []
    # its yaml-language-server line points at the committed schema, relative to docs/
    rel = re.search(r"\$schema=(\S+)", _example_yaml()).group(1)
    assert (SPEC_DOC.parent / rel).resolve() == SPEC_SCHEMA


def test_every_kind_and_field_is_documented():
    sections = _sections(_text(SPEC_DOC))
    act_section = next(body for head, body in sections.items() if head.startswith("`act`"))
    for kind, fields in graph.KIND_FIELDS.items():
        if kind in ACTIVATIONS + ("linear",):
            assert f"`{kind}`" in act_section, kind
            continue
        head = next((h for h in sections if h.startswith(f"`{kind}`")), None)
        assert head, f"no '### `{kind}`' section"
        for f in fields:
            assert f"`{f}`" in sections[head], f"field '{f}' of '{kind}' is not documented"


def test_common_top_level_width_and_block_fields_are_documented():
    text = _text(SPEC_DOC)
    for f in graph.COMMON:
        assert f"| `{f}` |" in text
    for k in spec.TOP_KEYS:
        assert f"| `{k}` |" in text, k
    for k in ("rule", "divisor", "min", "multiplier"):
        assert f"| `{k}` |" in text
    for w in spec.WIDTH_RULES:
        assert f"`{w}`" in text
    for k in ("args", "layers", "stride_arg", "description"):  # graph.Builder._block's fields
        assert f"{k}:" in text
    for fn in expr.FUNCTIONS:
        assert f"`{fn}(" in text or f"| {fn}" in text or f" {fn} " in text, fn


def test_limits_are_documented_with_their_values():
    limits = _sections(_text(SPEC_DOC), "##")["Limits"]
    for value in (graph.MAX_LAYERS, graph.MAX_NESTING, graph.MAX_RESOLUTION, graph.MAX_CHANNELS,
                  graph.MAX_KERNEL, spec.MAX_YAML_NODES, spec.MAX_YAML_DEPTH, spec.MAX_EXTENDS,
                  expr.MAX_SOURCE, expr.MAX_DEPTH):
        assert f"| {value:,} |" in limits or f" {value:,} " in limits or f"{value:,} " in limits, value
    assert f"{spec.MAX_FILE_BYTES // 2**20} MiB" in limits
    assert f"10^{len(str(expr.MAX_MAGNITUDE)) - 1}" in limits


def test_output_fields_are_documented():
    text = _text(OUTPUT_DOC)
    table = schemas.table_json_schema()
    assert f"`{report.JSON_SCHEMA}`" in text
    for key in table["properties"]:
        assert f"| `{key}` |" in text, key
    for key in table["properties"]["layers"]["items"]["properties"]:
        assert f"| `{key}` |" in text, key
    assert ",".join(report.CSV_FIELDS) in text  # the CSV header line, verbatim


def test_readme_spec_example_loads_and_validates(tmp_path):
    readme = _text(ROOT / "README.md")
    section = readme.split("## Spec format", 1)[1].split("\n## ", 1)[0]
    text = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    assert errors(yaml.safe_load(text), json.loads(_text(SPEC_SCHEMA))) == []
    p = tmp_path / "my_net.yaml"
    p.write_text(text, encoding="utf-8")
    rows = {r.name: r for r in mbcost.analyze(str(p)).rows}
    # stem 3x3/2, SAME: 224 -> 112; 3*3*3*32 weights
    assert rows["stem"].output == (112, 112, 32) and rows["stem"].params == 3 * 3 * 3 * 32
    # second bottleneck, n = 2: stride 2 then 1; 112 -> 56 -> 56
    assert rows["bottleneck2.1/dw"].output[:2] == (56, 56)
    assert rows["bottleneck2.2/dw"].output[:2] == (56, 56) and rows["bottleneck2.2/dw"].stride == 1
    assert "bottleneck2.2/residual1" in rows and "bottleneck2.1/residual1" not in rows
    # classes defaults to 1000; the FC sees 24 pooled channels: 24*1000 + 1000
    assert rows["classifier"].params == 24 * 1000 + 1000
    # its schema line points at the committed schema, relative to the repository root
    rel = re.search(r"\$schema=(\S+)", text).group(1)
    assert (ROOT / rel).resolve() == SPEC_SCHEMA


@pytest.mark.parametrize("doc", [SPEC_DOC, OUTPUT_DOC])
def test_internal_links_resolve(doc):
    text = _text(doc)
    # GitHub anchors: lower case, punctuation dropped, spaces to hyphens
    anchors = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
               for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        path, _, anchor = target.partition("#")
        if path.startswith("http"):
            continue
        if path:
            assert (doc.parent / path).exists(), target
        if anchor and not path:
            assert anchor in anchors, target


def _property_names(schema, root=None):
    """Every property name declared anywhere in an output schema."""
    root = schema if root is None else root
    names = set()
    if isinstance(schema, dict):
        for k, v in schema.items():
            if k == "properties":
                names |= set(v)
                for sub in v.values():
                    names |= _property_names(sub, root)
            elif isinstance(v, (dict, list)) and k not in ("enum", "const", "required"):
                names |= _property_names(v, root)
    elif isinstance(schema, list):
        for s in schema:
            names |= _property_names(s, root)
    return names


@pytest.mark.parametrize("which", sorted(set(schemas.SCHEMA_FILES) - {"spec"}))
def test_every_output_layout_has_a_section_naming_its_fields(which):
    sections = _sections(_text(OUTPUT_DOC), "##")
    schema = schemas.GENERATORS[which]()
    sid = schema["properties"]["schema"]["const"]
    head = next((h for h in sections if h.endswith(f"`{sid}`")), None)
    assert head, f"no '## ...: `{sid}`' section in docs/output-format.md"
    body = sections[head] + "".join(  # with its ### subsections
        b for h, b in _sections(_text(OUTPUT_DOC).split(f"## {head}", 1)[1].split("\n## ", 1)[0]).items())
    for name in _property_names(schema) - {"schema"}:
        assert f"`{name}`" in body, f"{sid}: field {name!r} is not documented"
    assert f"[{schemas.SCHEMA_FILES[which]}](../mbcost/schema/{schemas.SCHEMA_FILES[which]})" in _text(OUTPUT_DOC)


def test_by_kind_csv_example_is_what_mbcost_prints():
    from clirunner import CliRunner

    from mbcost.cli import main

    section = _text(OUTPUT_DOC).split("`mbcost.table-by-kind/1`", 1)[1].split("### CSV", 1)[1]
    example = re.search(r"```\n(type,.*?)```", section, re.S).group(1)
    r = CliRunner().invoke(main, ["table", "mobilenet_v1", "--by", "kind", "--convention",
                                  "weights", "--format", "csv"])
    assert r.stdout == example


def test_contributing_names_every_module():
    root = Path(__file__).resolve().parent.parent
    text = (root / "CONTRIBUTING.md").read_text(encoding="utf-8")
    where = text[text.index("## Where things are"):]
    for p in sorted((root / "mbcost").glob("*.py")):
        if p.stem not in ("__init__", "__main__"):
            assert f"`{p.name}`" in where, f"CONTRIBUTING.md does not say what {p.name} is for"
