"""Rows -> rich table, plain text, CSV, JSON and Markdown. No cost logic lives here.

The JSON and CSV layouts are a public contract (docs/output-format.md): fields
are only ever added, never renamed or removed, within a schema version.
"""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction

from .graph import RESERVED_NAME as TOTAL  # the CSV's total row; no layer may be called so

JSON_SCHEMA = "mbcost.table/1"
BY_KIND_SCHEMA = "mbcost.table-by-kind/1"
FORMULA_SCHEMA = "mbcost.formula/1"
LIST_SCHEMA = "mbcost.list/1"
CSV_FIELDS = ("name", "kind", "op", "input", "output", "k", "stride", "madds", "params")
BY_KIND_CSV_FIELDS = ("type", "layers", "madds", "madds_pct", "params", "params_pct")


def number(x):
    """A Fraction as a JSON-friendly number: int if whole, else float."""
    if isinstance(x, Fraction):
        return int(x) if x.denominator == 1 else float(x)
    return x


def fmt_alpha(a):
    """0.75 -> '0.75', 1 -> '1.0'."""
    a = Fraction(a)
    return f"{float(a):g}" if a.denominator != 1 else f"{int(a)}.0"


def shape_str(s):
    """(112, 112, 32) -> '112x112x32'."""
    return "x".join(str(int(v)) for v in s)


def si(n, unit=""):
    """Human units: 76524800 -> '76.52M'."""
    n = int(n)
    for div, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(n) >= div:
            return f"{n / div:.2f}{suffix}{unit}"
    return f"{n}{unit}"


def pct(part, whole):
    """Share as a percentage (0.0 when whole is 0)."""
    return 100.0 * part / whole if whole else 0.0


UNKNOWN = "unknown"  # the kind of an operator mbcost cannot count (ONNX, --allow-unknown)


def visible_rows(analysis, all_layers=False):
    """Rows to show: every row, or only those with a non-zero cost and those marked
    unknown (an operator counted as zero because mbcost cannot count it)."""
    if all_layers:
        return list(analysis.rows)
    return [r for r in analysis.rows if r.madds or r.params or r.kind == UNKNOWN]


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


def _scale(analysis, flops):
    return 2 if flops else 1


# ---------------------------------------------------------------- machine formats

def envelope(analysis, schema):
    """The fields every table layout starts with: schema, model, title, alpha, resolution,
    input and convention."""
    return {"schema": schema, "model": analysis.model, "title": analysis.title,
            "alpha": number(analysis.alpha_exact), "resolution": analysis.resolution,
            "input": [int(v) for v in analysis.input], "convention": analysis.convention}


def to_dict(analysis, flops=False):
    """The JSON contract as a plain dict (all layers, exact integers)."""
    layers = []
    for r in analysis.rows:
        d = r.to_dict()
        if flops:
            d["flops"] = 2 * d["madds"]
        layers.append(d)
    totals = {"madds": int(analysis.madds), "params": int(analysis.params)}
    if flops:
        totals["flops"] = 2 * totals["madds"]
    return {**envelope(analysis, JSON_SCHEMA), "layers": layers, "totals": totals}


def to_json(analysis, flops=False):
    """The JSON contract as text."""
    return json.dumps(to_dict(analysis, flops), indent=2) + "\n"


def to_csv(analysis, flops=False):
    """One row per layer, then a 'total' row."""
    buf = io.StringIO()
    fields = CSV_FIELDS + (("flops",) if flops else ())
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(fields)
    for r in analysis.rows:
        row = [r.name, r.kind, r.op, shape_str(r.input), shape_str(r.output),
               "" if r.k is None else r.k, "" if r.stride is None else r.stride,
               int(r.madds), int(r.params)]
        w.writerow(row + ([2 * int(r.madds)] if flops else []))
    w.writerow([TOTAL, "", "", shape_str(analysis.input), "", "", "", int(analysis.madds),
                int(analysis.params)] + ([2 * int(analysis.madds)] if flops else []))
    return buf.getvalue()


def by_kind_rows(analysis, all_kinds=False):
    """[KindRow(type, layers, madds, madds_pct, params, params_pct)] like MobileNet v1
    Table 2: the types with a cost under the convention, or every type (all_kinds, --all)."""
    return [k for k in analysis.by_kind()
            if all_kinds or k.madds or k.params or k.type.startswith(UNKNOWN + ": ")]


def _pct2(x):
    """A share as the by-kind layouts give it: percent rounded to 2 decimals (Table 2's)."""
    return round(x, 2)


def by_kind_dict(analysis, flops=False, all_kinds=False):
    """The by-kind JSON contract (schema mbcost.table-by-kind/1) as a plain dict."""
    kinds = []
    for k in by_kind_rows(analysis, all_kinds):
        d = {"type": k.type, "layers": k.layers, "madds": int(k.madds),
             "madds_pct": _pct2(k.madds_pct), "params": int(k.params),
             "params_pct": _pct2(k.params_pct)}
        if flops:
            d["flops"] = 2 * int(k.madds)
        kinds.append(d)
    totals = {"layers": sum(k["layers"] for k in kinds), "madds": int(analysis.madds),
              "params": int(analysis.params)}
    if flops:
        totals["flops"] = 2 * int(analysis.madds)
    return {**envelope(analysis, BY_KIND_SCHEMA), "all": bool(all_kinds), "kinds": kinds,
            "totals": totals}


def by_kind_json(analysis, flops=False, all_kinds=False):
    """The by-kind JSON contract as text."""
    return json.dumps(by_kind_dict(analysis, flops, all_kinds), indent=2) + "\n"


def by_kind_csv(analysis, flops=False, all_kinds=False):
    """One row per layer type (MobileNet v1 Table 2), then the 'total' row."""
    d = by_kind_dict(analysis, flops, all_kinds)
    fields = BY_KIND_CSV_FIELDS + (("flops",) if flops else ())
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(fields)
    for k in d["kinds"]:
        w.writerow([_csv_pct(k[f]) if f.endswith("_pct") else k[f] for f in fields])
    t = d["totals"]
    w.writerow([TOTAL, t["layers"], t["madds"], _csv_pct(100.0 if t["madds"] else 0.0), t["params"],
                _csv_pct(100.0 if t["params"] else 0.0)] + ([t["flops"]] if flops else []))
    return buf.getvalue()


def _csv_pct(x):
    return f"{x:.2f}"


def header_line(analysis, flops=False):
    """One-line description of what the numbers are."""
    unit = "FLOPs (2 x mult-adds)" if flops else "mult-adds"
    return (f"{analysis.title}: alpha {fmt_alpha(analysis.alpha)}, input "
            f"{shape_str(analysis.input)}, convention '{analysis.convention}', {unit}")


def to_markdown(analysis, by_kind=False, flops=False, all_layers=False):
    """A pipe table fit for a pull-request comment."""
    f = _scale(analysis, flops)
    unit = "FLOPs" if flops else "Mult-adds"
    lines = [f"**{header_line(analysis, flops)}**", ""]
    if by_kind:
        lines += [f"| Type | Layers | {unit} | % | Parameters | % |", "|---|--:|--:|--:|--:|--:|"]
        for op, n, m, mp, p, pp in by_kind_rows(analysis, all_layers):
            lines.append(f"| {op} | {n} | {m * f:,} | {mp:.2f}% | {p:,} | {pp:.2f}% |")
    else:
        lines += [f"| # | Layer | Type | Input | Output | {unit} | % | Parameters | % |",
                  "|--:|---|---|---|---|--:|--:|--:|--:|"]
        for i, r in enumerate(visible_rows(analysis, all_layers), 1):
            lines.append(
                f"| {i} | {r.name} | {r.op}{_stride(r)} | {shape_str(r.input)} | {shape_str(r.output)} "
                f"| {r.madds * f:,} | {pct(r.madds, analysis.madds):.2f}% | {r.params:,} "
                f"| {pct(r.params, analysis.params):.2f}% |")
    lines.append(f"| **Total** |{' |' * (1 if by_kind else 4)} **{analysis.madds * f:,}** | 100% "
                 f"| **{analysis.params:,}** | 100% |")
    return "\n".join(lines) + "\n"


def _stride(r):
    return f" /s{r.stride}" if r.stride and r.stride != 1 else ""


# ---------------------------------------------------------------- terminal and plain text

def layer_table(analysis, by_kind=False, exact=False, flops=False, all_layers=False):
    """The table view's column model and rows (a textview.Table): right-aligned numbers,
    share bars, totals in the footer. Numbers never narrow; the share bar gives way
    first, then the shapes (Input, then Output), then the names (see mbcost.textview)."""
    from .textview import BAR, NAME, Column, Table

    f = _scale(analysis, flops)
    unit = "FLOPs" if flops else "Mult-adds"
    num = (lambda n: f"{int(n):,}") if exact else si
    total_m, total_p = f"{analysis.madds * f:,}", f"{analysis.params:,}"
    more = "a wider window or --format csv shows them"
    if by_kind:
        kinds = by_kind_rows(analysis, all_layers)
        cols = [Column("Type", "left", NAME, "Total", key=True),
                Column("Layers", footer=str(sum(n for _, n, *_ in kinds))),
                Column(unit, footer=total_m), Column("%", footer="100.00%"),
                Column("Share", "left", BAR), Column("Params", footer=total_p),
                Column("%", footer="100.00%")]
        # the per-type view is the paper's Table 2: always exact integers
        rows = [[op, str(n), f"{m * f:,}", f"{mp:.2f}%", mp, f"{p:,}", f"{pp:.2f}%"]
                for op, n, m, mp, p, pp in kinds]
        return Table(cols, rows, footer=True, frame=True, more=more)
    cols = [Column("#"), Column("Layer", "left", NAME, "Total", key=True),
            Column("Type", "left", NAME), Column("Input", footer=shape_str(analysis.input), drop=1),
            Column("Output", drop=2), Column(unit, footer=total_m), Column("%", footer="100%"),
            Column("Share", "left", BAR), Column("Params", footer=total_p),
            Column("%", footer="100%")]
    tm, tp = analysis.madds, analysis.params
    shapes = {}  # a long network repeats a few shapes: format each once

    def shape(s):
        text = shapes.get(s)
        if text is None:
            text = shapes[s] = shape_str(s)
        return text

    rows = []
    for i, r in enumerate(visible_rows(analysis, all_layers), 1):
        mp, pp = pct(r.madds, tm), pct(r.params, tp)
        rows.append([str(i), r.name, r.op + _stride(r), shape(r.input), shape(r.output),
                     num(r.madds * f), f"{mp:.1f}", mp, num(r.params), f"{pp:.1f}"])
    return Table(cols, rows, footer=True, frame=True, more=more)


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
    return out


def hidden_note(analysis, all_layers):
    """A footnote when zero-cost layers were hidden, else ''."""
    hidden = len(analysis.rows) - len(visible_rows(analysis, all_layers))
    if hidden:
        return (f"{hidden} layers with no cost under convention '{analysis.convention}' "
                "(BN, activations, ...) are hidden; --all shows them.")
    return ""


# ---------------------------------------------------------------- formulas

def formula_view(formula, by_kind=False, layers=False, latex=False, ratios=()):
    """Closed forms as text (or LaTeX), with the approximations stated: a textview view
    whose long polynomials wrap between terms on a terminal, continuation lines indented
    (LaTeX is left on one line, to copy)."""
    import sympy

    from .textview import Line

    show = sympy.latex if latex else (lambda e: str(e).replace("**", "^"))

    def poly(text, hang):
        return Line(text, hang=hang, wrap=not latex)

    out = [Line(f"{formula.model}: closed forms in alpha (width) and rho (resolution), "
                f"convention '{formula.convention}'"), ""]
    out.append(poly(f"mult-adds = {show(formula.madds)}", 12))
    out.append(poly(f"params    = {show(formula.params)}", 12))
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
    out += [""]
    if formula.approximations:
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


def formula_dict(formula, by_kind=False, layers=False, ratios=()):
    """The formula JSON contract (schema mbcost.formula/1) as a plain dict. Expressions are
    strings in sympy syntax (``*``, ``**``), which ``sympy.sympify`` reads back; like the
    text, kinds and layers whose closed forms are both 0 are left out."""
    import sympy

    def nonzero(m, p):
        return m != 0 or p != 0

    d = {"schema": FORMULA_SCHEMA, "model": formula.model, "title": formula.title,
         "convention": formula.convention, "variables": ["alpha", "rho"],
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
    d["approximations"] = list(formula.approximations)
    d["exact_at_base"] = bool(formula.exact_at_base)
    return d


def formula_json(formula, by_kind=False, layers=False, ratios=()):
    """The formula JSON contract as text."""
    return json.dumps(formula_dict(formula, by_kind, layers, ratios), indent=2) + "\n"


# ---------------------------------------------------------------- mbcost list

def list_dict(specs=None, conventions=None, default=None):
    """The list JSON contract (schema mbcost.list/1): the bundled specs, or the conventions."""
    if conventions is not None:
        return {"schema": LIST_SCHEMA, "conventions": [
            {"name": c.name, "summary": c.summary, "notes": c.notes, "default": c.name == default,
             "madds": dict(c.madds), "params": dict(c.params)} for c in conventions]}
    return {"schema": LIST_SCHEMA, "specs": [
        {"name": s.name, "title": s.title, "description": s.description, "source": s.source,
         "input": [int(v) for v in s.input]} for s in specs]}


def list_json(d):
    """The list as JSON text."""
    return json.dumps(d, indent=2) + "\n"


def list_text(d):
    """One line per spec (name, description or title) or per convention (name, summary)."""
    if "conventions" in d:
        return "".join(f"{c['name']:13} {c['summary']}\n" for c in d["conventions"])
    width = max((len(s["name"]) for s in d["specs"]), default=0) + 1
    return "".join(f"{s['name']:{width}} {s['description'] or s['title']}\n" for s in d["specs"])
