"""The JSON Schemas: committed files are current, bundled specs and real output validate."""

import json
from pathlib import Path

import pytest
import yaml
from clirunner import CliRunner

import mbcost
from mbcost import graph, schemas
from mbcost.cli import main
from mbcost.spec import bundled_dir

from minischema import errors, keywords

COMMITTED = Path(__file__).resolve().parent.parent / "mbcost" / "schema"
SUPPORTED = {"$schema", "$defs", "$ref", "title", "description", "default", "type", "const", "enum",
             "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
             "minProperties", "maxProperties", "propertyNames", "pattern", "minimum", "anyOf",
             "oneOf", "not"}


@pytest.fixture(scope="module")
def spec_schema():
    return json.loads((COMMITTED / "spec.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def table_schema():
    return json.loads((COMMITTED / "table.schema.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("which", sorted(schemas.SCHEMA_FILES))
def test_committed_schema_is_generated(which):
    # regenerate with: python -m mbcost.schemas
    committed = COMMITTED / schemas.SCHEMA_FILES[which]
    assert committed.read_text(encoding="utf-8") == schemas.schema_text(which)
    assert schemas.schema_path(which).is_file()  # installed as package data


@pytest.mark.parametrize("which", sorted(schemas.SCHEMA_FILES))
def test_validator_covers_every_keyword(which):
    assert keywords(schemas.GENERATORS[which]()) <= SUPPORTED


def test_every_kind_and_field_is_in_the_spec_schema(spec_schema):
    defs = spec_schema["$defs"]
    for kind, fields in graph.SCHEMAS.items():
        for pre in ("kind_", "block_kind_"):
            value = defs[pre + kind]["properties"][kind]
            body = value["anyOf"][0] if "anyOf" in value else value
            assert set(body["properties"]) == set(fields) | set(graph.COMMON), kind


@pytest.mark.parametrize("name", mbcost.bundled_names())
def test_bundled_specs_validate(spec_schema, name):
    data = yaml.safe_load((bundled_dir() / f"{name}.yaml").read_text(encoding="utf-8"))
    assert errors(data, spec_schema) == []


def _spec(layers, **top):
    return {"mbcost": 1, "name": "t", "input": [32, 32, 3], "layers": layers, **top}


@pytest.mark.parametrize("bad, why", [
    (_spec([{"conv": {"k": 3, "out": 8, "strid": 2}}]), "misspelled field"),
    (_spec([{"conv": {"out": 8}}]), "conv without its required k"),
    (_spec([{"dw": {"act": "relu7"}}]), "unknown activation"),
    (_spec([{"conv": {"k": 3, "out": 8, "bias": "yes"}}]), "bias is not a boolean"),
    (_spec([{"pool": {"type": "median"}}]), "unknown pool type"),
    (_spec([{"conv": {"k": 3, "out": 8}, "bn": None}]), "two kinds in one layer item"),
    (_spec([]), "empty layers"),
    (_spec(["bn"], widht={"rule": "truncate"}), "misspelled top-level key"),
    (_spec(["bn"], mbcost=2), "unknown format version"),
    ({"name": "t", "layers": ["bn"]}, "no input and no extends"),
    (_spec(["bn"], width={"rule": "round"}), "unknown width rule"),
    (_spec(["pw"]), "pw needs out or expand"),
    (_spec([{"pw": {"out": 8, "expand": 2}}]), "pw with both out and expand"),
    (_spec([{"pool": {"type": "max"}}]), "windowed pool without k"),
    (_spec([{"pool": "max"}]), "shorthand for a windowed pool without k"),
])
def test_schema_rejects_what_the_loader_rejects(spec_schema, bad, why, tmp_path):
    assert errors(bad, spec_schema), why
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(bad), encoding="utf-8")
    with pytest.raises(mbcost.SpecError):
        mbcost.analyze(str(p))


def test_schema_accepts_block_word_arguments_and_shorthands(spec_schema, tmp_path):
    # inside a block a field may name a word argument (act: a); shorthands pool: avg, dropout: 0.2
    data = _spec(
        [{"conv": {"k": 3, "stride": 2, "out": 16}}, {"blk": {"a": "hswish", "n": 2}},
         {"pool": {"type": "max", "k": 2}}, {"pw": {"expand": 2}}, "se",
         {"pool": "global"}, {"dropout": 0.2}, "flatten", {"fc": {"out": "classes"}}],
        blocks={"blk": {"args": {"a": "relu", "s": 1},
                        "layers": [{"dw": {"stride": "s", "act": "a"}}, "residual"]}})
    assert errors(data, spec_schema) == []
    p = tmp_path / "ok.yaml"
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    rows = {r.name: r for r in mbcost.analyze(str(p)).rows}
    # the bare se uses its default ratio 1/4: pw expand 2 gives 2*16 = 32 channels,
    # squeeze make_divisible(32/4, 8) = 8, reduce conv with bias 32*8 + 8
    assert rows["se1.reduce"].output[2] == 8 and rows["se1.reduce"].params == 32 * 8 + 8
    assert "dropout1" in rows and "blk1.2/dw1.hswish" in rows


@pytest.mark.parametrize("args", [["mobilenet_v1"], ["mobilenet_v2", "--alpha", "0.35", "--flops"]])
def test_table_json_output_validates(table_schema, args):
    r = CliRunner().invoke(main, ["table", *args, "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert errors(data, table_schema) == []
    # the schema is open (fields may be added), so check here that it declares every field
    assert set(data) <= set(table_schema["properties"])
    layer_props = table_schema["properties"]["layers"]["items"]["properties"]
    for row in data["layers"]:
        assert set(row) <= set(layer_props)
    assert set(data["totals"]) <= set(table_schema["properties"]["totals"]["properties"])


def test_table_schema_rejects_broken_output(table_schema):
    data = json.loads(CliRunner().invoke(main, ["table", "mobilenet_v1", "--format", "json"]).output)
    data["layers"][0]["madds"] = str(data["layers"][0]["madds"])
    del data["totals"]["params"]
    found = errors(data, table_schema)
    assert any("layers[0].madds" in e for e in found) and any("params" in e for e in found)
