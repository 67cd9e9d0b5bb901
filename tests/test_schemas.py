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
    for kind, fields in graph.KIND_FIELDS.items():
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


# ---------------------------------------------------------------- every command's JSON

def _schema(which):
    return json.loads((COMMITTED / schemas.SCHEMA_FILES[which]).read_text(encoding="utf-8"))


def _resolve(schema, root):
    while "$ref" in schema:
        target = root
        for part in schema["$ref"][2:].split("/"):
            target = target[part]
        schema = target
    return schema


def undeclared(value, schema, root=None, where="$"):
    """Paths of object keys in value that schema does not declare: the schemas are open
    (fields may be added), so this is what keeps them complete."""
    root = schema if root is None else root
    schema = _resolve(schema, root)
    alternatives = [schema] + [_resolve(s, root) for s in schema.get("anyOf", [])]
    out = []
    if isinstance(value, dict):
        props, extra = {}, None
        for alt in alternatives:
            props.update(alt.get("properties", {}))
            if isinstance(alt.get("additionalProperties"), dict):
                extra = alt["additionalProperties"]
        for k, v in value.items():
            sub = props.get(k, extra)
            if sub is None:
                out.append(f"{where}.{k}")
            else:
                out += undeclared(v, sub, root, f"{where}.{k}")
    elif isinstance(value, list):
        items = [alt["items"] for alt in alternatives if "items" in alt]
        for i, v in enumerate(value):
            for sub in items[:1]:
                out += undeclared(v, sub, root, f"{where}[{i}]")
    return out


def _budget(tmp_path):
    f = tmp_path / "budget.yaml"
    f.write_text("checks:\n  - {spec: mobilenet_v1, alpha: 0.5, max_madds: 150M}\n"
                 "  - {spec: mobilenet_v2, max_madds: 150M, max_params: 2M}\n", encoding="utf-8")
    return f


# (layout, command line, exit code): every command with --format json, and the variants
# that add or leave out fields (flops, pareto, nothing fits, one-sided compare rows...)
JSON_CASES = [
    ("table", ["table", "mobilenet_v3_small", "--flops"], 0),
    ("table-by-kind", ["table", "mobilenet_v1", "--by", "kind"], 0),
    ("table-by-kind", ["table", "efficientnet_b0", "--by", "kind", "--all", "--flops",
                       "--convention", "fvcore"], 0),
    ("sweep", ["sweep", "mobilenet_v2", "--alpha", "0.35,1.4", "--res", "96,224"], 0),
    ("check", ["check", "mobilenet_v1", "--alpha", "0.5", "--max-madds", "150M",
               "--max-params", "1M"], 1),
    ("check", ["check", "--budget", "BUDGET", "--top", "1"], 1),
    ("fit", ["fit", "mobilenet_v1", "--max-madds", "150M", "--res", "224"], 0),
    ("fit", ["fit", "mobilenet_v1", "--max-madds", "150M", "--alpha", "1"], 0),
    ("fit", ["fit", "mobilenet_v1", "--max-madds", "150M", "--max-params", "2M"], 0),
    ("fit", ["fit", "mobilenet_v1", "--max-params", "5K", "--res", "224"], 1),
    ("compare", ["compare", "mobilenet_v1", "mobilenet_v2"], 0),
    ("compare", ["compare", "mobilenet_v1", "--dense"], 0),
    ("layer", ["layer", "dwsep", "--k", "3", "--in", "512", "--out", "512", "--size", "14"], 0),
    ("layer", ["layer", "dwsep", "--k", "3", "--in", "512", "--out", "512", "--size", "14",
               "--alpha", "0.75", "--rho", "0.714"], 0),
    ("formula", ["formula", "mobilenet_v1"], 0),
    ("formula", ["formula", "efficientnet_b0", "--by", "kind", "--layers"], 0),
    ("formula", ["formula", "mobilenet_v2", "--exact", "--by", "kind", "--layers"], 0),
    ("list", ["list"], 0),
    ("list", ["list", "--conventions"], 0),
    # issue 12: the memory and roofline fields
    ("table", ["table", "mobilenet_v2", "--memory", "--dtype", "fp16"], 0),
    ("table", ["table", "efficientnet_b0", "--device", "jetson_nano", "--memory-model", "eager"], 0),
    ("table-by-kind", ["table", "mobilenet_v2", "--by", "kind", "--device", "rtx_4090"], 0),
    ("check", ["check", "mobilenet_v2", "--max-peak-memory", "4MB", "--max-latency", "5ms",
               "--device", "jetson_nano"], 1),
    ("fit", ["fit", "mobilenet_v1", "--max-latency", "2ms", "--device", "jetson_nano", "--res",
             "224"], 0),
    ("formula", ["formula", "mobilenet_v1", "--metric", "peak", "--layers"], 0),
    ("list", ["list", "--devices"], 0),
]


def _json_output(args, code, tmp_path):
    args = [str(_budget(tmp_path)) if a == "BUDGET" else a for a in args]
    r = CliRunner().invoke(main, args + ["--format", "json"])
    assert r.exit_code == code, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("which, args, code", JSON_CASES,
                         ids=[" ".join(a[:3]) for _, a, _ in JSON_CASES])
def test_every_json_output_validates_and_is_declared(which, args, code, tmp_path):
    schema = _schema(which)
    data = _json_output(args, code, tmp_path)
    assert data["schema"] == schema["properties"]["schema"]["const"] == f"mbcost.{which}/1"
    assert errors(data, schema) == []
    assert undeclared(data, schema) == []


def test_every_command_has_json_and_a_schema():
    # import writes a spec: its JSON is checked against the spec schema in tests/test_onnx.py
    commands = set(main.commands)
    assert {args[0] for _, args, _ in JSON_CASES} == commands - {"import"}
    for name, cmd in main.commands.items():
        fmt = next(p for p in cmd.params if p.name == "fmt")
        assert "json" in fmt.type.choices, name
        assert any(p.name == "output" for p in cmd.params), f"{name} has no -o"
    layouts = {which for which, _, _ in JSON_CASES}
    assert layouts == set(schemas.SCHEMA_FILES) - {"spec"}


@pytest.mark.parametrize("which, args, code", JSON_CASES[::2],
                         ids=[" ".join(a[:3]) for _, a, _ in JSON_CASES[::2]])
def test_output_schemas_reject_broken_output(which, args, code, tmp_path):
    schema = _schema(which)
    data = _json_output(args, code, tmp_path)
    assert errors({**data, "schema": f"mbcost.{which}/2"}, schema)  # another version
    for key in schema["required"]:
        broken = {k: v for k, v in data.items() if k != key}
        assert errors(broken, schema), f"{which} without {key!r} passed"


def test_undeclared_finds_a_new_field():
    data = json.loads(CliRunner().invoke(main, ["sweep", "mobilenet_v1", "-f", "json"]).stdout)
    data["points"][1]["latency"] = 3
    assert undeclared(data, _schema("sweep")) == ["$.points[1].latency"]
