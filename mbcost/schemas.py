"""JSON Schemas (draft 2020-12) for spec files and for every command's JSON output
(``mbcost.<command>/1``: table, table-by-kind, sweep, check, fit, compare, layer,
formula, list; docs/output-format.md).

The spec schema is generated from the layer-kind registry ``layers.LAYER_KINDS`` (each
kind's fields, defaults, shorthand, doc line and cross-field rule) and
``layers.FIELDS`` (each field's JSON type and meaning), so a kind or field added there
reaches the schema with nothing else to edit. The committed files
``mbcost/schema/*.schema.json`` are this module's output; regenerate them with

    python -m mbcost.schemas

and a test checks that they are up to date. Editors that speak yaml-language-server
complete and check specs given the first line
``# yaml-language-server: $schema=<path or URL of spec.schema.json>``.
"""

from __future__ import annotations

import json
from fractions import Fraction
from importlib import resources
from pathlib import Path

from .layers import ACT, ACTIVATIONS, BOOL, COMMON, FIELDS, INT_EXPR, LAYER_KINDS, NUM_EXPR, REQUIRED, TEXT
from . import design_report
from .columns import COUNT_SCHEMA, SHAPE_SCHEMA, Options, kind_columns, layer_columns, point_columns
from .report import BY_KIND_SCHEMA, FORMULA_SCHEMA, JSON_SCHEMA, LIST_SCHEMA
from .spec import SPEC_VERSION, TOP_KEYS, WIDTH_RULES

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILES = {name: f"{name}.schema.json" for name in (
    "spec", "table", "table-by-kind", "sweep", "check", "fit", "compare", "layer", "formula", "list")}
IDENT = "^[A-Za-z_][A-Za-z0-9_]*$"

# inside blocks a word argument may stand for any value, so only structural rules apply
_STRUCTURAL = ("oneOf",)


def _rule(kind, in_block):
    """The kind's JSON Schema rule across fields (inside blocks only a structural one)."""
    rule = LAYER_KINDS[kind].schema_rule or {}
    return {k: v for k, v in rule.items() if k in _STRUCTURAL} if in_block else rule


def _bare(kind):
    """Whether `- kind` alone (no fields) is a valid layer."""
    entry = LAYER_KINDS[kind]
    return REQUIRED not in entry.fields.values() and entry.schema_rule is None


def _default(v):
    """A field default of the registry as a JSON value (None if there is none to show)."""
    if v is REQUIRED or v is None:
        return None
    if isinstance(v, Fraction):
        return float(v)
    return v


def _field(key, default, in_block):
    """The schema of one field; inside blocks any field may also name a word argument."""
    try:
        typ, doc = FIELDS[key].schema, FIELDS[key].doc
    except KeyError:
        raise KeyError(f"mbcost.layers.FIELDS has no type for layer field '{key}'") from None
    s = {"anyOf": [typ, TEXT]} if in_block and typ.get("type") != "string" else dict(typ)
    if key == "branches" and in_block:
        s = {**typ, "items": {"$ref": "#/$defs/block_branch"}}
    if key == "layers" and in_block:  # a head's layers, inside a block
        s = {**typ, "items": {"$ref": "#/$defs/block_layer"}}
    s["description"] = doc
    d = _default(default)
    if d is not None:
        s["default"] = d
    return s


def _kind(kind, in_block):
    """The schema of `- kind: {...}` (and its shorthand and null forms)."""
    entry = LAYER_KINDS[kind]
    schema = {**COMMON, **entry.fields}
    body = {
        "type": "object",
        "properties": {k: _field(k, v, in_block) for k, v in schema.items()},
        "additionalProperties": False,
    }
    req = [k for k, v in schema.items() if v is REQUIRED]
    if req:
        body["required"] = req
    body.update(_rule(kind, in_block))
    forms = [body]
    if _bare(kind) or (in_block and not _rule(kind, True) and not req):
        forms.append({"type": "null"})
    if kind == "pool" and not in_block:
        forms.append({"const": "global", "description": "pool: global, a global average pool"})
    elif entry.shorthand:
        forms.append(_field(entry.shorthand, None, in_block))
    doc = entry.doc
    value = {"anyOf": forms} if len(forms) > 1 else body
    return {"type": "object", "description": doc, "properties": {kind: value},
            "required": [kind], "additionalProperties": False}


def _layer(in_block):
    """The schema of one list item of `layers:` (at the top level or inside a block)."""
    pre = "block_" if in_block else ""
    kinds = list(LAYER_KINDS)
    call = {
        "type": "object", "description": "a block call: {block_name: {args..., n, name, when}}",
        "minProperties": 1, "maxProperties": 1,
        "propertyNames": {"pattern": IDENT, "not": {"enum": kinds}},
        "additionalProperties": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/block_call"}]},
    }
    word = {"type": "string", "description": "a kind with no required field, or a block name",
            "anyOf": [{"enum": [k for k in kinds if _bare(k)]},
                      {"pattern": IDENT, "not": {"enum": [k for k in kinds if not _bare(k)]}}]}
    return {"anyOf": [word] + [{"$ref": f"#/$defs/{pre}kind_{k}"} for k in kinds] + [call]}


def spec_json_schema():
    """The JSON Schema of a spec file (format version SPEC_VERSION), generated from the
    layer-kind registry."""
    defs = {
        "int_expr": {"anyOf": [{"type": "integer"}, TEXT],
                     "description": "an integer or an expression such as '2*c' or 'make_divisible(c*1.5)'"},
        "num_expr": {"anyOf": [{"type": "number"}, TEXT],
                     "description": "a number or an expression (exact: 0.75 is 3/4)"},
        "activation": {"anyOf": [{"enum": list(ACTIVATIONS) + ["none", "linear"]},
                                 {"enum": [False, None]}],
                       "description": "an activation name; none, linear, false or null: no activation"},
        "block_call": {
            "type": "object", "description": "block arguments, plus n (repeats), name and when",
            "properties": {"n": {**INT_EXPR, "description": "repeats (times the depth multiplier, "
                                 "rounded up); only the first keeps the stride argument"},
                           "name": {"type": "string", "description": "instance name (prefix)"},
                           "when": FIELDS["when"].schema},
            "additionalProperties": {"type": ["number", "string", "boolean"]},
        },
        "layers": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/layer"}},
        "branch": {"anyOf": [{"type": "array", "items": {"$ref": "#/$defs/layer"}},
                             {"$ref": "#/$defs/layer"}]},
        "block_branch": {"anyOf": [{"type": "array", "items": {"$ref": "#/$defs/block_layer"}},
                                   {"$ref": "#/$defs/block_layer"}]},
        "layer": _layer(False),
        "block_layer": _layer(True),
        "block": {
            "type": "object", "required": ["layers"], "additionalProperties": False,
            "properties": {
                "args": {"type": "object", "propertyNames": {"pattern": IDENT},
                         "description": "argument names and defaults (null: required)",
                         "additionalProperties": {"type": ["number", "string", "boolean", "null"]}},
                "layers": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/block_layer"}},
                "stride_arg": {"type": "string", "description":
                               "the argument set to 1 after the first repeat (default s, else stride)"},
                "description": TEXT,
            },
        },
    }
    for k in LAYER_KINDS:
        defs[f"kind_{k}"] = _kind(k, False)
        defs[f"block_kind_{k}"] = _kind(k, True)
    rounding = {"enum": list(WIDTH_RULES), "description": "channel rounding rule"}
    props = {
        "mbcost": {"const": SPEC_VERSION, "description": "spec format version"},
        "name": {"type": "string", "description": "short name of the model"},
        "title": {"type": "string", "description": "title shown above tables (default: name)"},
        "description": TEXT, "source": TEXT,
        "extends": {"type": "string", "description": "a spec (path or bundled name) to inherit from"},
        "input": {"type": "array", "minItems": 3, "maxItems": 3, "items": INT_EXPR,
                  "description": "[H, W, C] at rho = 1"},
        "classes": {**INT_EXPR, "default": 1000, "description": "number of classes (a variable)"},
        "width": {"type": "object", "additionalProperties": False, "properties": {
            "rule": {**rounding, "default": "truncate"},
            "divisor": {**INT_EXPR, "default": 8}, "min": INT_EXPR, "multiplier": NUM_EXPR}},
        "depth": {"type": "object", "additionalProperties": False,
                  "properties": {"multiplier": NUM_EXPR}},
        "defaults": {"type": "object", "additionalProperties": False,
                     "properties": {"bn": BOOL, "act": ACT}},
        "vars": {"type": "object", "propertyNames": {"pattern": IDENT},
                 "additionalProperties": NUM_EXPR},
        "blocks": {"type": "object", "propertyNames": {"pattern": IDENT},
                   "additionalProperties": {"$ref": "#/$defs/block"}},
        "layers": {"$ref": "#/$defs/layers"},
    }
    assert list(props) == list(TOP_KEYS), "spec.TOP_KEYS changed: update spec_json_schema"
    return {
        "$schema": DRAFT,
        "title": f"mbcost spec, format version {SPEC_VERSION}",
        "description": "An architecture for mbcost (docs/spec-format.md).",
        "type": "object",
        "properties": props,
        "additionalProperties": False,
        "anyOf": [{"required": ["extends"]}, {"required": ["name", "input", "layers"]}],
        "$defs": defs,
    }


# ---------------------------------------------------------------- output layouts

COUNT, SHAPE = COUNT_SCHEMA, SHAPE_SCHEMA  # as the table's columns write them
OPT_INT = {"type": ["integer", "null"]}
ALPHA = {"type": "number", "description": "width multiplier alpha: an integer when whole, else a float"}
OPEN = ("Fields are only added within a schema version, never renamed or removed; consumers "
        "should ignore fields they do not know (docs/output-format.md).")


def _d(schema, description):
    """schema with a description."""
    return {**schema, "description": description}


def _obj(props, required=None, description=None):
    """An object schema; every property is required unless required says otherwise."""
    out = {"type": "object"}
    if description:
        out["description"] = description
    out["required"] = list(props) if required is None else list(required)
    out["properties"] = props
    return out


def _layout(schema_id, command, props, required=None, description=""):
    """The top level of an output layout: its schema name first, the stability promise."""
    body = _obj({"schema": {"const": schema_id}, **props},
                None if required is None else ["schema", *required])
    return {"$schema": DRAFT, "title": f"mbcost {command} JSON output, {schema_id}",
            "description": (description + " " if description else "") + OPEN, **body}


TRAIN_FIELD = _d({"type": "boolean"}, "only for a network with train-only heads (the spec's "
                 "`head` kind): true with --train (their mult-adds are counted), false in eval")


def _setting():
    """model, title, alpha, resolution, input and convention: where a table was computed."""
    return {
        "model": _d({"type": "string"}, "the spec's name"),
        "title": _d({"type": "string"}, "the spec's title"),
        "alpha": ALPHA,
        "resolution": _d({"type": "integer", "minimum": 1}, "input height in pixels"),
        "input": _d(SHAPE, "network input [H, W, C]"),
        "convention": _d({"type": "string"}, "counting convention (mbcost list --conventions)"),
    }


def _columns_schema(columns, kind_layout=False):
    """(the schema of one row, of the totals) from a layout's data columns (mbcost.columns):
    every field required unless an option adds it; the totals of the per-type layout say
    which option adds them (as published; the per-layer layout's do not)."""
    row = _obj({c.name: c.schema for c in columns}, required=[c.name for c in columns if not c.when])
    totals = {}
    for c in columns:
        if c.total:
            doc = c.total_doc or (f"only with --{c.when}" if c.when and kind_layout else None)
            totals[c.name] = _d(c.enc.schema, doc) if doc else dict(c.enc.schema)
    return row, _obj(totals, required=[c.name for c in columns if c.total and not c.when])


def memory_totals_schema():
    """The totals --memory adds beside the columns' sums (report.memory_totals)."""
    from .memory import DTYPES, MEMORY_MODELS

    dtype = {"enum": list(DTYPES)}
    return {
        "peak_act_bytes": _d({"type": "integer", "minimum": 0}, "peak live activation bytes "
                             "over the execution order; only with --memory"),
        "peak_at": _d({"type": "string"}, "the layer where the peak is first reached; only "
                      "with --memory"),
        "dtype": _d(dtype, "activation data type; only with --memory"),
        "weight_dtype": _d(dtype, "weight data type; only with --memory"),
        "memory_model": _d({"enum": list(MEMORY_MODELS)}, "memory model; only with --memory"),
        "device": _d({"type": ["string", "null"]}, "the --device's name (null: none); only "
                     "with --memory"),
    }


def table_json_schema():
    """The JSON Schema of `mbcost table --format json` output (schema mbcost.table/1)."""
    layer, totals = _columns_schema(layer_columns(Options.every(), "data"))
    totals["properties"].update(memory_totals_schema())
    return {
        "$schema": DRAFT,
        "title": f"mbcost table JSON output, {JSON_SCHEMA}",
        "description": "Fields are only added within a schema version, never renamed or removed; "
                       "consumers should ignore fields they do not know (docs/output-format.md).",
        "type": "object",
        "required": ["schema", "model", "title", "alpha", "resolution", "input", "convention",
                     "layers", "totals"],
        "properties": {
            "schema": {"const": JSON_SCHEMA},
            "model": {"type": "string", "description": "the spec's name"},
            "title": {"type": "string"},
            "alpha": {"type": "number", "description": "width multiplier"},
            "resolution": {"type": "integer", "minimum": 1, "description": "input height"},
            "input": {**SHAPE, "description": "network input [H, W, C]"},
            "convention": {"type": "string", "description": "counting convention"},
            "train": TRAIN_FIELD,
            "layers": {"type": "array", "items": layer},
            "totals": totals,
        },
    }


def by_kind_json_schema():
    """`mbcost table --by kind --format json` (schema mbcost.table-by-kind/1)."""
    kind, totals = _columns_schema(kind_columns(Options.every(), "data"), kind_layout=True)
    body = _layout(BY_KIND_SCHEMA, "table --by kind", {
        **_setting(),
        "all": _d({"type": "boolean"}, "--all: types that cost nothing are listed too"),
        "kinds": _d({"type": "array", "items": kind}, "one per layer type, most mult-adds first "
                    "(MobileNet v1 Table 2)"),
        "totals": totals,
    })
    body["properties"]["train"] = TRAIN_FIELD  # optional: only for a network with heads
    return body


def _point():
    return _obj({"alpha": ALPHA, "resolution": {"type": "integer", "minimum": 1},
                 "madds": COUNT, "params": COUNT})


def sweep_json_schema():
    """`mbcost sweep --format json` (schema mbcost.sweep/1): a point's fields from the
    column model (mbcost.columns.POINT), those an option adds not required."""
    from .units import MEMORY_QUANTITIES, QUANTITIES

    point, _ = _columns_schema(point_columns(Options.every(), "data"))
    mem = {k: v for k, v in memory_totals_schema().items() if k not in ("peak_act_bytes",
                                                                          "peak_at")}
    mem = {k: _d(v, v["description"].replace("only with --memory", "only with --memory, "
                                              "--device or a memory limit"))
           for k, v in mem.items()}
    return _layout(design_report.SWEEP_SCHEMA, "sweep", {
        "model": _d({"type": "string"}, "the spec's name"),
        "title": {"type": "string"},
        "convention": {"type": "string"},
        "alphas": _d({"type": "array", "items": ALPHA}, "the widths, in the order given"),
        "resolutions": _d({"type": "array", "items": {"type": "integer", "minimum": 1}},
                          "the resolutions, in the order given"),
        "points": _d({"type": "array", "items": point},
                     "every (alpha, resolution), alpha-major, exact counts"),
        **mem,
        "limits": _d(_obj({q: COUNT for q in QUANTITIES + MEMORY_QUANTITIES}, required=[]),
                     "the limits given (peak_memory and weights in bytes, latency in ns); "
                     "only with limits"),
        "ok": _d({"type": "boolean"}, "some point is within every limit (the exit code is 0); "
                 "only with limits"),
    }, required=["model", "title", "convention", "alphas", "resolutions", "points"])


def _limit_checks():
    return {"type": "array", "items": _obj({
        "quantity": _d({"enum": ["madds", "params", "peak_memory", "weights", "latency"]},
                       "peak_memory and weights in bytes, latency in ns (a roofline bound, "
                       "rounded up): with --max-peak-memory, --max-weights, --max-latency"),
        "limit": COUNT, "value": COUNT,
        "headroom": _d({"type": "integer"}, "limit - value; negative: the excess"),
        "headroom_pct": _d({"type": "number"}, "headroom in percent of the limit (4 decimals)"),
        "ok": {"type": "boolean"}})}


def check_json_schema():
    """`mbcost check --format json` (schema mbcost.check/1)."""
    top = {"type": "array", "items": _obj({
        "name": {"type": "string"}, "op": {"type": "string"}, "value": COUNT,
        "share": _d({"type": "number"}, "percent of the total (4 decimals)")})}
    result = _obj({
        **_setting(),
        "spec": _d({"type": "string"}, "the spec's path"),
        "ok": _d({"type": "boolean"}, "every limit met"),
        "limits": _limit_checks(),
        "top": _d({"type": "object", "additionalProperties": top},
                  "per quantity, the layers contributing most (--top)"),
    })
    return _layout(design_report.CHECK_SCHEMA, "check", {
        "ok": _d({"type": "boolean"}, "every result within budget (exit code 0)"),
        "results": _d({"type": "array", "items": result},
                      "one per spec checked (one, or each entry of a budget file)"),
    })


def fit_json_schema():
    """`mbcost fit --format json` (schema mbcost.fit/1)."""
    point_or_null = {"anyOf": [_point(), {"type": "null"}]}
    return _layout(design_report.FIT_SCHEMA, "fit", {
        "model": {"type": "string"}, "title": {"type": "string"}, "convention": {"type": "string"},
        "mode": _d({"enum": ["alpha", "resolution", "pareto"]},
                   "what was fitted: alpha at a fixed resolution, the resolution at a fixed "
                   "alpha, or the Pareto frontier of the standard grid"),
        "ok": _d({"type": "boolean"}, "something fits (exit code 0)"),
        "limits": _d({"type": "object", "additionalProperties": COUNT}, "quantity -> limit"),
        "alpha": _d({"anyOf": [ALPHA, {"type": "null"}]}, "the answer's alpha (null: nothing fits)"),
        "resolution": {"type": ["integer", "null"]},
        "madds": {"type": ["integer", "null"]}, "params": {"type": ["integer", "null"]},
        "headroom": _d({"type": ["object", "null"], "additionalProperties": {"type": "integer"}},
                       "quantity -> limit - value"),
        "step": _d({"type": "number"}, "the grid step of the fitted value"),
        "estimate": _d({"type": ["number", "null"]}, "the closed-form solution the search began at"),
        "next_up": _d(point_or_null, "one step up, over budget (null: at the top of the range)"),
        "frontier": _d({"type": "array", "items": _point()}, "pareto mode only"),
    }, required=["model", "title", "convention", "mode", "ok", "limits"])


def compare_json_schema():
    """`mbcost compare --format json` (schema mbcost.compare/1)."""
    side = _obj({"model": {"type": "string"}, "title": {"type": "string"}, "alpha": ALPHA,
                 "resolution": {"type": "integer", "minimum": 1}, "convention": {"type": "string"},
                 "madds": COUNT, "params": COUNT})
    opt_str, opt_count = {"type": ["string", "null"]}, {"anyOf": [COUNT, {"type": "null"}]}
    layer = _obj({
        "name": {"type": "string"}, "op_a": opt_str, "op_b": opt_str,
        "madds_a": opt_count, "madds_b": opt_count, "params_a": opt_count, "params_b": opt_count,
        "ratio_theory": _d({"type": "string"}, "with --dense: 1/N + 1/D_K^2 as a fraction"),
        "layers_a": _d(COUNT, "by type: the number of A's layers of this type"),
        "layers_b": _d(COUNT, "by type: the number of B's layers of this type"),
    }, required=["name", "op_a", "op_b", "madds_a", "madds_b", "params_a", "params_b"],
        description="one layer (by type: one layer type, name = op); null where it exists on "
                    "one side only")
    return _layout(design_report.COMPARE_SCHEMA, "compare", {
        "convention": _d({"type": "string"}, "the counting convention of both sides"),
        "a": side, "b": side,
        "dense": _d({"type": "boolean"}, "B is A with separable pairs as standard convs"),
        "by": _d({"enum": ["layer", "kind"]},
                 "layer: rows matched by layer name; kind: the names do not line up, so rows "
                 "are layer types (as table --by kind)"),
        "layers": {"type": "array", "items": layer},
        "totals": _obj({"madds_diff": _d({"type": "integer"}, "B - A"),
                        "params_diff": _d({"type": "integer"}, "B - A")}),
    })


def layer_json_schema():
    """`mbcost layer --format json` (schema mbcost.layer/1)."""
    row = _obj({"label": {"type": "string"}, "m": COUNT, "n": COUNT, "size": COUNT,
                "madds": COUNT, "params": COUNT})
    opt_num = {"type": ["number", "null"]}
    return _layout(design_report.LAYER_SCHEMA, "layer", {
        "kind": {"const": "dwsep"},
        "k": _d(COUNT, "kernel size D_K"), "in": _d(COUNT, "input channels M"),
        "out": _d(COUNT, "output channels N"), "size": _d(COUNT, "feature map size D_F"),
        "alpha": _d(opt_num, "width multiplier, null if not given"),
        "rho": _d(opt_num, "resolution multiplier, null if not given"),
        "rows": _d({"type": "array", "items": row}, "cumulative rows of MobileNets Table 3"),
        "ratio": _d({"type": "string"}, "separable / standard at the last row, a fraction"),
        "formulas": _d({"type": "object", "additionalProperties": {"type": "string"}},
                       "name -> symbolic formula"),
    })


def formula_json_schema():
    """`mbcost formula --format json` (schema mbcost.formula/1)."""
    expr = _d({"type": "string"}, "a closed form in alpha and rho, sympy syntax (* and **): "
              "a polynomial (form continuous), or with floor, ceiling, Max and make_divisible "
              "(form exact)")
    return _layout(FORMULA_SCHEMA, "formula", {
        "model": {"type": "string"}, "title": {"type": "string"}, "convention": {"type": "string"},
        "form": _d({"enum": ["continuous", "exact"]},
                   "continuous: the papers' polynomial (the default); exact: channel rounding "
                   "and strided sizes kept (--exact)"),
        "where_exact": _d({"type": "string"}, "where this form equals table, in words"),
        "variables": {"type": "array", "items": {"enum": ["alpha", "rho"]}},
        "madds": expr, "params": expr,
        "kinds": _d({"type": "array", "items": _obj({"type": {"type": "string"}, "madds": expr,
                                                       "params": expr})}, "with --by kind"),
        "layers": _d({"type": "array", "items": _obj({"name": {"type": "string"},
                                                        "op": {"type": "string"}, "madds": expr,
                                                        "params": expr})}, "with --layers"),
        "dwsep_ratios": _d({"type": "array", "items": _obj({
            "name": {"type": "string"},
            "ratio": _d({"type": "string"}, "1/N + 1/D_K^2 with N in alpha, sympy syntax"),
            "at_alpha_1": _d({"type": "number"}, "the ratio at alpha = 1")})},
            "with --layers: each separable pair over the standard conv it replaces"),
        "metric": _d(_obj({
            "name": {"enum": ["activations", "traffic", "peak", "latency", "intensity"]},
            "unit": {"enum": ["bytes", "seconds", "FLOP/byte"]},
            "dtype": {"type": "string"}, "weight_dtype": {"type": "string"},
            "memory_model": {"type": "string"}, "device": {"type": ["string", "null"]},
            "total": _d({"type": "string"}, "the metric in alpha and rho, sympy syntax: a "
                        "polynomial for activations and traffic, with Max terms for peak and "
                        "latency, a ratio of polynomials for intensity"),
            "layers": _d({"type": "array", "items": _obj({
                "name": {"type": "string"}, "op": {"type": "string"},
                "value": {"type": "string"}})}, "with --layers")},
            required=["name", "unit", "dtype", "weight_dtype", "memory_model", "device",
                      "total"]), "with --metric other than madds"),
        "approximations": _d({"type": "array", "items": {"type": "string"}},
                             "where the forms are continuous approximations (empty: exact)"),
        "exact_at_base": _d({"type": "boolean"}, "the forms equal the exact counts at alpha = rho = 1"),
        "train": TRAIN_FIELD,
    }, required=["model", "title", "convention", "variables", "madds", "params",
                 "approximations", "exact_at_base"])


def list_json_schema():
    """`mbcost list --format json` (schema mbcost.list/1)."""
    spec = _obj({"name": {"type": "string"}, "title": {"type": "string"},
                 "description": {"type": "string"}, "source": {"type": "string"},
                 "input": _d(SHAPE, "[H, W, C] at rho = 1")})
    weights = {"type": "object", "additionalProperties": {"type": "number"}}
    conv = _obj({"name": {"type": "string"}, "summary": {"type": "string"},
                 "notes": {"type": "string"},
                 "default": _d({"type": "boolean"}, "the default convention"),
                 "madds": _d(weights, "raw cost category -> weight in the mult-adds"),
                 "params": _d(weights, "raw cost category -> weight in the parameters")})
    out = _layout(LIST_SCHEMA, "list", {
        "specs": _d({"type": "array", "items": spec}, "the bundled specs (without --conventions)"),
        "conventions": _d({"type": "array", "items": conv}, "with --conventions"),
        "devices": _d({"type": "array", "items": _obj({
            "name": {"type": "string"}, "title": {"type": "string"}, "kind": {"type": "string"},
            "bandwidth": _d({"type": "number", "minimum": 0}, "bytes per second"),
            "peak": _d({"type": "object", "additionalProperties": {"type": "number"}},
                       "data type -> operations per second"),
            "sources": _d({"type": "object", "additionalProperties": {"type": "string"}},
                          "field -> the public source of its figure")})}, "with --devices"),
    }, required=[])
    out["anyOf"] = [{"required": ["specs"]}, {"required": ["conventions"]},
                    {"required": ["devices"]}]
    return out


GENERATORS = {"spec": spec_json_schema, "table": table_json_schema,
              "table-by-kind": by_kind_json_schema, "sweep": sweep_json_schema,
              "check": check_json_schema, "fit": fit_json_schema, "compare": compare_json_schema,
              "layer": layer_json_schema, "formula": formula_json_schema, "list": list_json_schema}


def schema_text(which):
    """The committed text of a generated schema: 2-space indented JSON in definition order, final newline."""
    return json.dumps(GENERATORS[which](), indent=2, ensure_ascii=False) + "\n"


def schema_path(which):
    """Where the installed schema file lives."""
    return Path(str(resources.files("mbcost") / "schema" / SCHEMA_FILES[which]))


def write_schemas(folder=None):
    """Regenerate the schema files (in the package, or in folder); return their paths."""
    out = []
    for which, fname in SCHEMA_FILES.items():
        target = Path(folder) / fname if folder else schema_path(which)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(schema_text(which), encoding="utf-8")
        out.append(target)
    return out


if __name__ == "__main__":
    for p in write_schemas():
        print(p)
