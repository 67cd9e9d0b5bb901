"""Rows -> rich table, plain text, CSV, JSON and Markdown. No cost logic lives here.

The table's columns are defined once, in ``mbcost.columns``; the renderers here iterate
them (the per-layer and the per-type layouts) and say only how each format writes a row,
a cell and the total row.

The JSON and CSV layouts are a public contract (docs/output-format.md): fields
are only ever added, never renamed or removed, within a schema version.
"""

from __future__ import annotations

import copy
import csv
import io
import json

from . import columns
from .columns import Options, kind_columns, layer_columns
from .columns import fmt_alpha, number, pct, shape_str, si  # noqa: F401 (also report's, as before)
from .escape import markdown as md
from .limits import RESERVED_NAME as TOTAL  # the CSV's total row; no layer may be called so
from .textview import BAR

JSON_SCHEMA = "mbcost.table/1"
BY_KIND_SCHEMA = "mbcost.table-by-kind/1"
FORMULA_SCHEMA = "mbcost.formula/1"
LIST_SCHEMA = "mbcost.list/1"
# the CSV headers without options (with --flops, ",flops" follows); from mbcost.columns
CSV_FIELDS = tuple(c.name for c in layer_columns(Options(), "data"))
BY_KIND_CSV_FIELDS = tuple(c.name for c in kind_columns(Options(), "data"))


UNKNOWN = "unknown"  # the kind of an operator mbcost cannot count (ONNX, --allow-unknown)


def visible_rows(analysis, all_layers=False):
    """Rows to show: every row, or only those with a non-zero cost and those marked
    unknown (an operator counted as zero because mbcost cannot count it)."""
    if all_layers:
        return list(analysis.rows)
    return [r for r in analysis.rows
            if r.madds or r.params or r.kind == UNKNOWN or columns.has_traffic(r)]


def unknown_note(analysis):
    """A footnote naming the operators counted as zero because mbcost cannot count them."""
    counts = {}
    for r in analysis.rows:
        if r.kind == UNKNOWN:
            counts[r.op] = counts.get(r.op, 0) + 1
    if not counts:
        return ""
    listed = ", ".join(f"{op[len('unknown: '):]} x{n}" for op, n in counts.items())
    return f"{sum(counts.values())} layers marked unknown are counted as zero: {listed}."


def by_kind_rows(analysis, all_kinds=False):
    """[KindRow(type, layers, madds, madds_pct, params, params_pct)] like MobileNet v1
    Table 2: the types with a cost under the convention, or every type (all_kinds, --all)."""
    return [k for k in analysis.by_kind()
            if all_kinds or k.madds or k.params or k.type.startswith(UNKNOWN + ": ")]


# ---------------------------------------------------------------- the two layouts

def layer_layout(analysis, fmt, flops=False, exact=False, rows=None):
    """The per-layer layout (mbcost.columns) in a format: every layer, or rows."""
    return columns.layer_layout(analysis, fmt, Options(flops, exact), rows)


def kind_layout(analysis, fmt, flops=False, all_kinds=False):
    """The per-type layout (MobileNet v1 Table 2) in a format: always exact integers."""
    return columns.kind_layout(analysis, fmt, Options(flops), all_kinds)


def _shown(lay, c):
    """c's values as the screen and Markdown show them (as FLOPs with --flops)."""
    values = lay.values(c)
    if c.as_flops and lay.opts.scale != 1:
        return [v * lay.opts.scale for v in values]
    return values


def _shown_total(lay, c):
    return lay.total(c) * (lay.opts.scale if c.as_flops else 1)


# ---------------------------------------------------------------- machine formats

def envelope(analysis, schema):
    """The fields every table layout starts with: schema, model, title, alpha, resolution,
    input and convention."""
    out = {"schema": schema, "model": analysis.model, "title": analysis.title,
           "alpha": number(analysis.alpha_exact), "resolution": analysis.resolution,
           "input": [int(v) for v in analysis.input], "convention": analysis.convention}
    if has_train_heads(analysis):
        out["train"] = analysis.train  # whether train-only heads' mult-adds are counted
    return out


def has_train_heads(analysis):
    """Whether a layer of analysis is in a train-only head (the `head` kind)."""
    return any(r.head is not None and r.op.endswith(" [train]") for r in analysis.rows)


def _json_rows(lay):
    names = [c.name for c in lay.columns]
    cols = [c.enc.write(lay.values(c), c.enc.json) for c in lay.columns]
    return [dict(zip(names, vals)) for vals in zip(*cols)]


def memory_totals(analysis):
    """The totals --memory adds that are no column's sum: the peak live activations, where
    it occurs, the data types, the memory model and the device ({} without --memory)."""
    return {} if analysis.memory is None else analysis.memory.totals()


def to_dict(analysis, flops=False):
    """The JSON contract as a plain dict (all layers, exact integers)."""
    lay = layer_layout(analysis, "data", flops)
    return {**envelope(analysis, JSON_SCHEMA), "layers": _json_rows(lay),
            "totals": {**lay.totals(), **memory_totals(analysis)}}


def to_json(analysis, flops=False):
    """The JSON contract as text."""
    return json.dumps(to_dict(analysis, flops), indent=2) + "\n"


def _csv_total(lay, c):
    """c's cell in the CSV's total row."""
    if c.label:
        return TOTAL
    if c.total:
        return c.enc.csv(lay.total(c))
    if c.share_of is not None:
        return c.enc.csv(100.0 if lay.total(c.share_of) else 0.0)
    if c.at_total:
        return c.enc.csv(c.at_total(lay.analysis))
    return ""


def _csv(lay):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([c.name for c in lay.columns])
    w.writerows(zip(*[c.enc.write(lay.values(c), c.enc.csv) for c in lay.columns]))
    w.writerow([_csv_total(lay, c) for c in lay.columns])
    return buf.getvalue()


def to_csv(analysis, flops=False):
    """One row per layer, then a 'total' row."""
    return _csv(layer_layout(analysis, "data", flops))


def by_kind_dict(analysis, flops=False, all_kinds=False):
    """The by-kind JSON contract (schema mbcost.table-by-kind/1) as a plain dict."""
    lay = kind_layout(analysis, "data", flops, all_kinds)
    return {**envelope(analysis, BY_KIND_SCHEMA), "all": bool(all_kinds), "kinds": _json_rows(lay),
            "totals": lay.totals()}


def by_kind_json(analysis, flops=False, all_kinds=False):
    """The by-kind JSON contract as text."""
    return json.dumps(by_kind_dict(analysis, flops, all_kinds), indent=2) + "\n"


def by_kind_csv(analysis, flops=False, all_kinds=False):
    """One row per layer type (MobileNet v1 Table 2), then the 'total' row."""
    return _csv(kind_layout(analysis, "data", flops, all_kinds))


def header_line(analysis, flops=False):
    """One-line description of what the numbers are."""
    unit = "FLOPs (2 x mult-adds)" if flops else "mult-adds"
    if has_train_heads(analysis):
        unit += (", train-only heads [train] counted (--train)" if analysis.train else
                 ", train-only heads [train] not counted (--train counts them)")
    return (f"{analysis.title}: alpha {fmt_alpha(analysis.alpha)}, input "
            f"{shape_str(analysis.input)}, convention '{analysis.convention}', {unit}")


def _md_line(cells):
    """One line of a Markdown pipe table (an empty cell is a single space)."""
    cells = tuple(cells)
    if all(cells):
        return "| " + " | ".join(cells) + " |"
    return "|" + "".join(f" {c} |" if c else " |" for c in cells)


def _md_cells(lay, c):
    """c's cells in Markdown, each escaped (mbcost.escape): a spec's names are literal text."""
    if c.cell:
        return [md(c.cell(r)) for r in lay.rows]
    return [md(x) for x in c.enc.write(_shown(lay, c), c.enc.markdown)]


def _md_total(lay, c):
    """c's cell in Markdown's total row: the totals in bold, shares 100%."""
    if c.total and c.markdown_total:
        return f"**{c.enc.markdown(_shown_total(lay, c))}**"
    return "100%" if c.share_of is not None else ""


def to_markdown(analysis, by_kind=False, flops=False, all_layers=False):
    """A pipe table fit for a pull-request comment: numbers right-aligned, the total row
    labelled in its first cell."""
    if by_kind:
        lay = kind_layout(analysis, "markdown", flops, all_layers)
    else:
        lay = layer_layout(analysis, "markdown", flops, rows=visible_rows(analysis, all_layers))
    cols = lay.columns
    lines = [f"**{md(header_line(analysis, flops))}**", "",
             _md_line(c.heading(lay.opts, markdown=True) for c in cols),
             "|" + "|".join("--:" if c.enc.right else "---" for c in cols) + "|"]
    lines += map(_md_line, zip(*[_md_cells(lay, c) for c in cols]))
    lines.append(_md_line(["**Total**"] + [_md_total(lay, c) for c in cols[1:]]))
    notes = memory_notes(analysis)
    return "\n".join(lines + ([""] + [md(n) for n in notes] if notes else [])) + "\n"


# ---------------------------------------------------------------- terminal and plain text

def _text_footer(lay, c):
    """c's cell in the footer (the total row): always exact."""
    if c.label:
        return "Total"
    if c.total:
        return c.enc.exact(_shown_total(lay, c))
    if c.at_total:
        return c.enc.exact(c.at_total(lay.analysis))
    return c.footer


def _text_cells(lay, c):
    if c.role == BAR:
        return lay.values(c)  # shares, drawn as bars
    if c.cell:
        return [c.cell(r) for r in lay.rows]
    return c.enc.write(_shown(lay, c), c.enc.exact if lay.opts.exact else c.enc.text)


def layer_table(analysis, by_kind=False, exact=False, flops=False, all_layers=False):
    """The table view's column model and rows (a textview.Table): right-aligned numbers,
    share bars, totals in the footer. Numbers never narrow; the share bar gives way
    first, then the shapes (Input, then Output), then the names (see mbcost.textview).
    The per-type view is the paper's Table 2: always exact integers."""
    from .textview import Table

    if by_kind:
        lay = kind_layout(analysis, "text", flops, all_layers)
    else:
        lay = layer_layout(analysis, "text", flops, exact, visible_rows(analysis, all_layers))
    cols = []
    for c in lay.columns:
        view = copy.copy(c)
        view.header, view.footer = c.heading(lay.opts), _text_footer(lay, c)
        cols.append(view)
    rows = list(zip(*[_text_cells(lay, c) for c in lay.columns]))
    return Table(cols, rows, footer=True, frame=True,
                 more="a wider window or --format csv shows them")


def table_view(analysis, by_kind=False, exact=False, flops=False, all_layers=False):
    """What `mbcost table` shows as text: the header line, the table and the note on
    hidden zero-cost layers (a textview view: plain text or a terminal)."""
    from .textview import Line

    out = [Line([(header_line(analysis, flops), "bold")]),
           layer_table(analysis, by_kind, exact, flops, all_layers)]
    note = "" if by_kind else hidden_note(analysis, all_layers)
    if note:
        out.append(Line(note))
    if unknown_note(analysis):
        out.append(Line(unknown_note(analysis)))
    out += [Line(n) for n in memory_notes(analysis)]
    return out


def memory_notes(analysis):
    """What --memory and --device add under the table: the settings, the peak and where it
    occurs, and that the time is a roofline bound, not a measurement."""
    m = analysis.memory
    if m is None:
        return []
    from .roofline import NOT_A_MEASUREMENT

    types = m.dtype if m.weight_dtype == m.dtype else f"{m.dtype} activations, {m.weight_dtype} weights"
    out = [f"Memory model '{m.memory_model}', {types}: peak live activations "
           f"{m.peak_act_bytes:,} bytes at {m.peak_at}; weights {m.weight_bytes:,} bytes; "
           f"traffic {m.traffic_bytes:,} bytes."]
    if m.device is not None:
        out.append(f"Time on {m.device.name} ({m.device.title}): {float(m.time_s) * 1e3:.4g} ms, "
                   f"{NOT_A_MEASUREMENT} (ridge point {float(m.device.ridge(m.dtype)):.1f} "
                   "FLOP/byte).")
    return out


def hidden_note(analysis, all_layers):
    """A footnote when zero-cost layers were hidden, else ''."""
    hidden = len(analysis.rows) - len(visible_rows(analysis, all_layers))
    if hidden:
        return (f"{hidden} layers with no cost under convention '{analysis.convention}' "
                "(BN, activations, ...) are hidden; --all shows them.")
    return ""


# ---------------------------------------------------------------- formulas

def metric_formula(metric, total, per, settings):
    """A memory metric's closed forms, as formula_view and formula_dict take them (mem=)."""
    from .memory_model import DEFAULT_DTYPE, DEFAULT_MEMORY_MODEL

    dev = settings.get("device")
    dtype = settings.get("dtype") or DEFAULT_DTYPE
    return {"name": metric, "dtype": dtype, "weight_dtype": settings.get("weight_dtype") or dtype,
            "memory_model": settings.get("memory_model") or DEFAULT_MEMORY_MODEL,
            "device": None if dev is None else str(dev),
            "unit": METRIC_UNITS.get(metric, "bytes"), "total": total, "layers": per}


METRIC_UNITS = {"latency": "seconds", "intensity": "FLOP/byte"}  # the others are bytes


def _metric_lines(mem, layers, show, poly):
    from .roofline import NOT_A_MEASUREMENT

    where = f"memory model '{mem['memory_model']}', {mem['dtype']}"
    if mem["device"]:
        where += f", device {mem['device']}"
    out = ["", f"{mem['name']} ({mem['unit']}; {where}):"]
    out.append(poly(f"  {mem['name']} = {show(mem['total'])}", 4))
    if mem["name"] == "latency":
        out.append(f"  ({NOT_A_MEASUREMENT}: a sum of per-layer Max(compute, memory) terms)")
    elif mem["name"] == "peak":
        out.append("  (a Max over the layers' live bytes: not one polynomial)")
    elif mem["name"] == "intensity":
        out.append("  (2 x MACs / traffic bytes: a ratio of polynomials; the network's is its "
                   "total FLOPs over its total traffic)")
    if layers:
        for name, op, e in mem["layers"]:
            if e != 0:
                out.append(poly(f"    {name} [{op}]: {show(e)}", 6))
    return out


def formula_view(formula, by_kind=False, layers=False, latex=False, ratios=(), mem=None):
    """Closed forms as text (or LaTeX), with the approximations stated: a textview view
    whose long polynomials wrap between terms on a terminal, continuation lines indented
    (LaTeX is left on one line, to copy)."""
    import sympy

    from .textview import Line

    show = sympy.latex if latex else (lambda e: str(e).replace("**", "^"))

    def poly(text, hang):
        return Line(text, hang=hang, wrap=not latex)

    from .exact_form import FORMS

    exact = formula.form == "exact"
    out = [Line(f"{formula.model}: closed forms in alpha (width) and rho (resolution), "
                f"convention '{formula.convention}'"),
           Line(f"form: {formula.form} ({FORMS[formula.form]}): {formula.where_exact}"
                + ("" if exact else "; --exact gives the exact form"), hang=2), ""]
    out.append(poly(f"mult-adds = {show(formula.madds)}", 12))
    out.append(poly(f"params    = {show(formula.params)}", 12))
    if any(n.attrs.get("head_train") for *_, n in formula.layers):
        out.append(Line("train-only heads' mult-adds " + (
            "counted (--train)" if formula.train else "not counted (--train counts them)")))
    if by_kind:
        out += ["", "by type:"]
        for op, m, p in formula.by_kind():
            if m != 0 or p != 0:
                out.append(poly(f"  {op}: mult-adds = {show(m)}; params = {show(p)}", 4))
    if layers:
        out += ["", "per layer:"]
        for name, op, m, p, node in formula.layers:
            if m == 0 and p == 0:
                continue
            out.append(poly(f"  {name} [{op}]: mult-adds = {show(m)}; params = {show(p)}", 4))
    if ratios:
        out += ["", "depthwise separable vs standard convolution (mult-adds ratio 1/N + 1/D_K^2):"]
        for name, r in ratios:
            at1 = r.subs(sympy.Symbol("alpha", positive=True), 1)
            out.append(poly(f"  {name}: {show(r)}  (= {float(at1):.4f} at alpha = 1, "
                            f"{float(1 / at1):.1f}x fewer)", 4))
    if mem is not None:
        out += _metric_lines(mem, layers, show, poly)
    out += [""]
    if exact:
        h = formula.spec.input[0] if formula.spec is not None else "the spec's height"
        out.append(Line("These closed forms are exact at every alpha and resolution where table "
                        f"accepts the spec ({'checked' if formula.exact_at_base else 'NOT equal'} "
                        f"at alpha = 1, rho = 1), with rho = resolution / {h}.", hang=2))
    elif formula.approximations:
        out.append(Line("These closed forms are exact at alpha = 1, rho = 1 "
                        f"({'checked' if formula.exact_at_base else 'NOT exact there'}) and continuous "
                        "approximations elsewhere:"))
        out += [Line(f"  - {a}", hang=4) for a in formula.approximations]
        out.append("Exact integers at any alpha and resolution: mbcost table.")
    else:
        out.append("These closed forms are exact for every alpha and rho.")
    return out


def formula_text(formula, by_kind=False, layers=False, latex=False, ratios=()):
    """Closed forms as plain text (or LaTeX), with the approximations stated."""
    from .textview import plain

    return plain(formula_view(formula, by_kind, layers, latex, ratios))


def formula_dict(formula, by_kind=False, layers=False, ratios=(), mem=None):
    """The formula JSON contract (schema mbcost.formula/1) as a plain dict. Expressions are
    strings in sympy syntax (``*``, ``**``), which ``sympy.sympify`` reads back (the exact
    form's with ``locals={"make_divisible": mbcost.exact_form.make_divisible}``); like the
    text, kinds and layers whose closed forms are both 0 are left out."""
    import sympy

    def nonzero(m, p):
        return m != 0 or p != 0

    d = {"schema": FORMULA_SCHEMA, "model": formula.model, "title": formula.title,
         "convention": formula.convention, "form": formula.form,
         "where_exact": formula.where_exact, "variables": ["alpha", "rho"],
         "madds": str(formula.madds), "params": str(formula.params)}
    if by_kind:
        d["kinds"] = [{"type": k.type, "madds": str(k.madds), "params": str(k.params)}
                      for k in formula.by_kind() if nonzero(k.madds, k.params)]
    if layers:
        d["layers"] = [{"name": name, "op": op, "madds": str(m), "params": str(p)}
                       for name, op, m, p, _ in formula.layers if nonzero(m, p)]
        a = sympy.Symbol("alpha", positive=True)
        d["dwsep_ratios"] = [{"name": name, "ratio": str(r), "at_alpha_1": float(r.subs(a, 1))}
                             for name, r in ratios]
    if mem is not None:
        d["metric"] = {k: mem[k] for k in ("name", "unit", "dtype", "weight_dtype",
                                            "memory_model", "device")}
        d["metric"]["total"] = str(mem["total"])
        if layers:
            d["metric"]["layers"] = [{"name": n, "op": op, "value": str(e)}
                                     for n, op, e in mem["layers"] if e != 0]
    d["approximations"] = list(formula.approximations)
    d["exact_at_base"] = bool(formula.exact_at_base)
    if any(n.attrs.get("head_train") for *_, n in formula.layers):
        d["train"] = bool(formula.train)  # whether train-only heads' mult-adds are in the forms
    return d


def formula_json(formula, by_kind=False, layers=False, ratios=(), mem=None):
    """The formula JSON contract as text."""
    return json.dumps(formula_dict(formula, by_kind, layers, ratios, mem), indent=2) + "\n"


# ---------------------------------------------------------------- mbcost list

def list_dict(specs=None, conventions=None, default=None, devices=None):
    """The list JSON contract (schema mbcost.list/1): the bundled specs, the conventions or
    the devices (rates in ops or bytes per second, as numbers)."""
    if devices is not None:
        return {"schema": LIST_SCHEMA, "devices": [
            {"name": d.name, "title": d.title, "kind": d.kind,
             "bandwidth": number(d.bandwidth), "peak": {k: number(v) for k, v in d.peak.items()},
             "sources": dict(d.sources)} for d in devices]}
    if conventions is not None:
        return {"schema": LIST_SCHEMA, "conventions": [
            {"name": c.name, "summary": c.summary, "notes": c.notes, "default": c.name == default,
             "madds": dict(c.madds), "params": dict(c.params)} for c in conventions]}
    return {"schema": LIST_SCHEMA, "specs": [
        {"name": s.name, "title": s.title, "description": s.description, "source": s.source,
         "input": [int(v) for v in s.input]} for s in specs]}


def _rate(x):
    """19500000000000 -> '19.5T' (the device files' units)."""
    for div, suffix in ((10**15, "P"), (10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(x) >= div:
            return f"{x / div:g}{suffix}"
    return f"{x:g}"


def list_json(d):
    """The list as JSON text."""
    return json.dumps(d, indent=2) + "\n"


def list_text(d):
    """One line per spec (name, description or title) or per convention (name, summary)."""
    if "conventions" in d:
        return "".join(f"{c['name']:13} {c['summary']}\n" for c in d["conventions"])
    if "devices" in d:
        return "".join(f"{x['name']:15} {x['title']}: {_rate(x['bandwidth'])}B/s, "
                       + ", ".join(f"{k} {_rate(v)}OP/s" for k, v in x["peak"].items()) + "\n"
                       for x in d["devices"])
    width = max((len(s["name"]) for s in d["specs"]), default=0) + 1
    return "".join(f"{s['name']:{width}} {s['description'] or s['title']}\n" for s in d["specs"])
