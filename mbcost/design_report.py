"""Rendering of the design commands (check, fit, sweep, compare, layer) as plain
text, JSON, CSV and Markdown (the plots are in ``mbcost.plot``). No cost logic.

The JSON layouts carry a ``schema`` name (``mbcost.<command>/1``) and, like
``report``'s, only ever gain fields within a schema version (docs/output-format.md).
"""

from __future__ import annotations

import csv
import io
import json

from .units import QUANTITY_LABELS
from .escape import markdown as md
from .columns import Options, PointRow, point_columns
from .report import fmt_alpha, number, shape_str, si
from .textview import NAME, Column, Line, Table, plain

CHECK_SCHEMA, FIT_SCHEMA, SWEEP_SCHEMA = "mbcost.check/1", "mbcost.fit/1", "mbcost.sweep/1"
COMPARE_SCHEMA, LAYER_SCHEMA = "mbcost.compare/1", "mbcost.layer/1"


# ---------------------------------------------------------------- shared helpers

def _num(n):
    return "-" if n is None else f"{int(n):,}"


def _signed(n):
    return f"{int(n):+,}"


def _alpha(a):
    return fmt_alpha(a)


def md_table(headers, rows, right=None):
    """A Markdown pipe table; numbers right-aligned. A header may be a Column or a tuple
    of lines (joined with spaces)."""
    right = set(range(1, len(headers))) if right is None else set(right)
    heads = [h.title if isinstance(h, Column) else h if isinstance(h, str) else " ".join(h)
             for h in headers]
    out = ["| " + " | ".join(heads) + " |",
           "|" + "|".join("--:" if i in right else "---" for i in range(len(headers))) + "|"]
    out += ["| " + " | ".join(md(str(c)) for c in r) + " |" for r in rows]
    return out


def _dumps(obj):
    return json.dumps(obj, indent=2) + "\n"


# ---------------------------------------------------------------- check

def _setting(r):
    return (f"alpha {_alpha(r.alpha)}, input {shape_str(r.input)}, convention '{r.convention}'")


def _limit_rows(checks):
    return [[QUANTITY_LABELS[c.quantity], _num(c.limit), _num(c.value), _signed(c.headroom),
             f"{c.headroom_pct:+.2f}%", "ok" if c.ok else "OVER"] for c in checks]


LIMIT_HEADERS = ["limit", "max", "value", "headroom", "%", "status"]
VERDICT = {True: ("within budget", "green"), False: ("OVER BUDGET", "bold red")}
STATUS_STYLES = {"ok": "green", "OVER": "bold red"}


def limit_table(checks):
    """The limits as a textview Table: the status highlighted on a terminal."""
    cols = [Column("limit", "left"), Column("max"), Column("value"), Column("headroom"),
            Column("%"), Column("status", "left", styles=STATUS_STYLES)]
    return Table(cols, _limit_rows(checks), indent=2)


def _top_line(r, q):
    items = [f"{t.name} {t.value:,} ({t.share:.2f}%)" for t in r.top.get(q, [])]
    return f"largest {QUANTITY_LABELS[q]}: " + ", ".join(items) if items else ""


def check_view(results):
    """Each result: its setting and verdict, one row per limit, the largest contributors
    (a textview view)."""
    out = []
    for r in results:
        if out:
            out.append("")
        out.append(Line([(f"{r.model}: {_setting(r)}: ", None), VERDICT[r.ok]], hang=2))
        out.append(limit_table(r.checks))
        for c in r.checks:
            line = _top_line(r, c.quantity)
            if line:
                out.append(Line("  " + line, hang=4))
    if len(results) > 1:
        over = sum(not r.ok for r in results)
        out += ["", Line([(f"{len(results) - over} of {len(results)} within budget", "bold red")]
                         if over else f"all {len(results)} within budget")]
    return out


def check_text(results):
    """The check result as plain text."""
    return plain(check_view(results))


def check_dict(results):
    """The check JSON contract as a dict."""
    return {
        "schema": CHECK_SCHEMA,
        "ok": all(r.ok for r in results),
        "results": [{
            "model": r.model, "title": r.title, "spec": r.spec_path, "alpha": number(r.alpha),
            "resolution": r.resolution, "input": list(r.input), "convention": r.convention,
            "ok": r.ok,
            "limits": [{"quantity": c.quantity, "limit": c.limit, "value": c.value,
                        "headroom": c.headroom, "headroom_pct": round(c.headroom_pct, 4),
                        "ok": c.ok} for c in r.checks],
            "top": {q: [{"name": t.name, "op": t.op, "value": t.value, "share": round(t.share, 4)}
                        for t in ts] for q, ts in r.top.items()},
        } for r in results],
    }


def check_json(results):
    """The check result as JSON text."""
    return _dumps(check_dict(results))


def check_markdown(results):
    """A pull-request comment: verdict, one table per spec, the largest layers."""
    ok = all(r.ok for r in results)
    out = [f"### mbcost check: {'within budget' if ok else 'OVER BUDGET'}", ""]
    for r in results:
        out += [f"**{md(r.model)}** ({_setting(r)}): {'within budget' if r.ok else '**over budget**'}", ""]
        out += md_table(LIMIT_HEADERS, _limit_rows(r.checks), right={1, 2, 3, 4})
        out.append("")
        for c in r.checks:
            line = _top_line(r, c.quantity)
            if line:
                out += [md(line[0].upper() + line[1:]), ""]
    return "\n".join(out).rstrip("\n") + "\n"


# ---------------------------------------------------------------- fit

def _point_dict(p):
    return {"alpha": number(p.alpha), "resolution": p.resolution, "madds": p.madds,
            "params": p.params}


def fit_dict(f):
    """The fit JSON contract as a dict."""
    d = {"schema": FIT_SCHEMA, "model": f.model, "title": f.title, "convention": f.convention,
         "mode": f.mode, "ok": f.ok, "limits": dict(f.limits)}
    if f.mode == "pareto":
        d["frontier"] = [_point_dict(p) for p in f.frontier]
        return d
    p = f.point
    d.update(alpha=number(p.alpha) if p else None, resolution=p.resolution if p else None,
             madds=p.madds if p else None, params=p.params if p else None,
             headroom={c.quantity: c.headroom for c in f.checks()} if p else None,
             step=number(f.step), estimate=f.estimate,
             next_up=_point_dict(f.next_up) if f.next_up else None)
    return d


def fit_json(f):
    """The fit result as JSON text."""
    return _dumps(fit_dict(f))


def _what(f, p):
    return f"alpha {_alpha(p.alpha)}" if f.mode == "alpha" else f"{p.resolution} px"


def fit_view(f):
    """The answer, its exact cost and headroom, and the step above that breaks the budget
    (a textview view)."""
    lim = ", ".join(f"{QUANTITY_LABELS[q]} <= {v:,}" for q, v in f.limits.items())
    if f.mode == "pareto":
        out = [Line(f"{f.model}: settings of the standard grid within {lim} that no larger "
                    f"setting beats (Pareto frontier), convention '{f.convention}'", hang=2)]
        if not f.frontier:
            return out + [Line([("  ", None), ("nothing on the standard grid fits", "bold red")])]
        rows = [[_alpha(p.alpha), str(p.resolution), _num(p.madds), _num(p.params)] for p in f.frontier]
        cols = [Column("alpha", "left"), Column("resolution"), Column("mult-adds"), Column("params")]
        return out + [Table(cols, rows, indent=2)]
    if f.mode == "alpha":
        head = f"{f.model}: largest alpha (step {_alpha(f.step)}) within {lim}"
    else:
        head = f"{f.model}: largest resolution (multiple of {f.step} px) within {lim}"
    out = [Line(f"{head}, convention '{f.convention}'", hang=2)]
    if f.point is None:
        p = f.next_up
        smallest = f"; the smallest setting, {_what(f, p)}, needs {p.madds:,} mult-adds and " \
                   f"{p.params:,} params" if p else ""
        return out + [Line([("  ", None), ("nothing fits", "bold red"), (smallest, None)], hang=4)]
    p = f.point
    out.append(Line([("  answer: ", None), (f"alpha {_alpha(p.alpha)} at {p.resolution} px", "bold"),
                     (f": {p.madds:,} mult-adds, {p.params:,} params", None)], hang=4))
    out.append(limit_table(f.checks()))
    if f.next_up is not None:
        broken = [QUANTITY_LABELS[c.quantity] for c in f.checks(f.next_up) if not c.ok]
        out.append(Line(f"  next step up, {_what(f, f.next_up)}: {f.next_up.madds:,} mult-adds, "
                        f"{f.next_up.params:,} params (over: {', '.join(broken) or 'none'})", hang=4))
    else:
        out.append(Line("  the top of the range fits; there is no step up", hang=4))
    if f.estimate is not None:
        what = "alpha" if f.mode == "alpha" else "resolution"
        out.append(Line(f"  closed-form estimate: {what} = {f.estimate:.4f} (continuous; the exact "
                        "count steps with channel rounding and ceil)", hang=4))
    return out


def fit_text(f):
    """The fit result as plain text."""
    return plain(fit_view(f))


# ---------------------------------------------------------------- sweep

def _sweep_rows(sw, exact):
    cell = _num if exact else si
    rows = []
    for a in sw.alphas:
        params = {sw.at(a, r).params for r in sw.resolutions}  # may vary: an FC after flatten
        rows.append([_alpha(a)] + [cell(sw.at(a, r).madds) for r in sw.resolutions]
                    + [cell(params.pop()) if len(params) == 1 else "varies"])
    return rows


def _sweep_headers(sw):
    return ["alpha \\ res"] + [str(r) for r in sw.resolutions] + ["params"]


def _by_point(sw):
    """Whether the sweep is shown a point per row (with memory or limits) rather than as
    the pivot of mult-adds by width and resolution."""
    return sw.memory is not None or bool(sw.limits)


def _point_layout(sw, fmt, exact=False):
    """(columns, rows) of the sweep's points in a format (mbcost.columns.POINT)."""
    mem = sw.memory
    opts = Options(exact=exact, memory=mem is not None,
                   device=mem is not None and mem.get("device") is not None,
                   limits=bool(sw.limits))
    return point_columns(opts, fmt), [PointRow(p, sw.over(p)) for p in sw.points]


def _point_cells(columns, rows, writer):
    return [list(r) for r in zip(*[c.enc.write(map(c.value, rows), writer(c)) for c in columns])]


def sweep_notes(sw):
    """The lines under a sweep shown by point: the memory settings, that a time is a
    roofline bound, and the limits with how many points meet them."""
    out = []
    mem = sw.memory
    if mem is not None:
        types = mem["dtype"] if mem["weight_dtype"] == mem["dtype"] else \
            f"{mem['dtype']} activations, {mem['weight_dtype']} weights"
        out.append(f"Memory model '{mem['memory_model']}', {types}: peak live activations, "
                   "weights and traffic in bytes.")
        dev = mem.get("device")
        if dev is not None:
            from .roofline import NOT_A_MEASUREMENT

            out.append(f"Time on {dev.name} ({dev.title}): {NOT_A_MEASUREMENT} (ridge point "
                       f"{float(dev.ridge(mem['dtype'])):.1f} FLOP/byte).")
    if sw.limits:
        limits = ", ".join(f"{QUANTITY_LABELS[q]} {v:,}" for q, v in sw.limits.items())
        n = len(sw.within)
        out.append(f"Limits: {limits}; {n} of {len(sw.points)} points within every limit"
                   if n else f"Limits: {limits}; no point is within every limit")
    return out


def sweep_view(sw, exact=False):
    """Rows alpha, columns resolution, cells mult-adds, then params per alpha (a textview
    view; split into panels, alpha repeated, when the columns do not fit). With memory or
    limits: one row per point, the columns of mbcost.columns.POINT, then sweep_notes."""
    if _by_point(sw):
        cols, rows = _point_layout(sw, "text", exact)
        cells = _point_cells(cols, rows, lambda c: c.enc.exact if exact else c.enc.text)
        return ([Line(f"{sw.model}: exact totals by width and resolution, convention "
                      f"'{sw.convention}'"), Table(cols, cells)]
                + [Line(n) for n in sweep_notes(sw)])
    heads = _sweep_headers(sw)
    cols = [Column(heads[0], "left", key=True)] + [Column(h) for h in heads[1:]]
    return [Line(f"{sw.model}: mult-adds by width (rows) and resolution (columns), convention "
                 f"'{sw.convention}'"), Table(cols, _sweep_rows(sw, exact))]


def sweep_text(sw, exact=False):
    """The sweep as plain text."""
    return plain(sweep_view(sw, exact))


def sweep_markdown(sw, exact=True):
    """The sweep as a Markdown pivot table (with memory or limits: a row per point)."""
    if _by_point(sw):
        cols, rows = _point_layout(sw, "markdown", exact)
        out = [f"**{md(sw.model)}: exact totals by width and resolution, convention "
               f"'{sw.convention}'**", ""]
        out += md_table([c.md_header or c.header for c in cols],
                        _point_cells(cols, rows, lambda c: c.enc.markdown if exact else c.enc.text),
                        right={i for i, c in enumerate(cols) if c.enc.right})
        notes = sweep_notes(sw)
        return "\n".join(out + ([""] + [md(n) for n in notes] if notes else [])) + "\n"
    out = [f"**{md(sw.model)}: mult-adds by width and resolution, convention '{sw.convention}'**", ""]
    out += md_table(_sweep_headers(sw), _sweep_rows(sw, exact))
    return "\n".join(out) + "\n"


def sweep_dict(sw):
    """The sweep JSON contract (schema mbcost.sweep/1): the setting, the grid's axes and
    every point {alpha, resolution, madds, params} in grid order (alpha-major); with
    memory, each point's memory fields and the settings; with limits, the limits, each
    point's ``over`` and ``ok`` (some point is within every limit)."""
    cols, rows = _point_layout(sw, "data")
    d = {"schema": SWEEP_SCHEMA, "model": sw.model, "title": sw.title,
         "convention": sw.convention, "alphas": [number(a) for a in sw.alphas],
         "resolutions": list(sw.resolutions),
         "points": [dict(zip([c.name for c in cols], values)) for values in
                    zip(*[c.enc.write(map(c.value, rows), c.enc.json) for c in cols])]}
    mem = sw.memory
    if mem is not None:
        dev = mem.get("device")
        d.update(dtype=mem["dtype"], weight_dtype=mem["weight_dtype"],
                 memory_model=mem["memory_model"], device=None if dev is None else dev.name)
    if sw.limits:
        d.update(limits=dict(sw.limits), ok=sw.ok)
    return d


def sweep_json(sw):
    """The sweep as JSON text."""
    return _dumps(sweep_dict(sw))


def sweep_csv(sw):
    """One row per point: alpha,resolution,madds,params (and, with memory or limits, the
    columns they add: mbcost.columns.POINT)."""
    cols, rows = _point_layout(sw, "data")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([c.name for c in cols])
    w.writerows(_point_cells(cols, rows, lambda c: c.enc.csv))
    return buf.getvalue()


# ---------------------------------------------------------------- compare

def _ratio(b, a):
    return f"{b / a:.4f}" if a and b is not None else "-"


def _delta(a, b):
    return _signed((b or 0) - (a or 0))


def compare_columns(c):
    """The comparison's column model: one header per column naming the metric and the side
    (B - A and B/A; with --dense A/B, the separable cost over the dense one, next to the
    theory 1/N + 1/D_K^2). Groups keep a metric's columns in one panel on a narrow screen.
    Compared by type (layer names do not line up), the first columns are the type and how
    many layers of it each side has."""
    ratio = "A/B" if c.dense else "B/A"
    if c.by == "kind":
        cols = [Column("type", "left", NAME, key=True), Column(("layers", "A"), group="type"),
                Column(("layers", "B"), group="type")]
    else:
        cols = [Column("layer", "left", NAME, key=True), Column("type A", "left", NAME, group="type"),
                Column("type B", "left", NAME, group="type")]
    for metric, group in (("mult-adds", "madds"), ("params", "params")):
        cols += [Column((metric, "A"), group=group), Column((metric, "B"), group=group),
                 Column((metric, "B - A"), group=group), Column((metric, ratio), group=group)]
        if c.dense and group == "madds":
            cols.append(Column(("theory", "1/N+1/D_K^2"), group=group))
    return cols


def _compare_rows(c):
    def ratio(a, b):
        return _ratio(a, b) if c.dense else _ratio(b, a)

    kinds = c.by == "kind"
    rows = []
    for r in c.rows:
        a_col, b_col = (str(r.layers_a), str(r.layers_b)) if kinds else (r.op_a or "-", r.op_b or "-")
        row = [r.name, a_col, b_col, _num(r.madds_a), _num(r.madds_b),
               _delta(r.madds_a, r.madds_b), ratio(r.madds_a, r.madds_b)]
        if c.dense:
            row.append(f"{float(r.theory):.4f}" if r.theory is not None else "")
        row += [_num(r.params_a), _num(r.params_b), _delta(r.params_a, r.params_b),
                ratio(r.params_a, r.params_b)]
        rows.append(row)
    a, b = c.a, c.b
    counts = ([str(sum(r.layers_a for r in c.rows)), str(sum(r.layers_b for r in c.rows))]
              if c.by == "kind" else ["", ""])
    total = ["total", *counts, _num(a.madds), _num(b.madds), _delta(a.madds, b.madds),
             ratio(a.madds, b.madds)] + ([""] if c.dense else []) + [
             _num(a.params), _num(b.params), _delta(a.params, b.params), ratio(a.params, b.params)]
    return rows + [total]


def _side(label, an):
    return (f"{label}: {an.title}: alpha {_alpha(an.alpha)}, input {shape_str(an.input)}, "
            f"convention '{an.convention}'")


BY_KIND_NOTE = "Layer names differ: compared by type (as 'mbcost table --by kind') and total."
DENSE_NOTE = ("A/B is each separable pair's cost over that of the standard conv that replaces "
              "it; for mult-adds and weights both are 1/N + 1/D_K^2 (MobileNets §3.1).")


def compare_view(c):
    """Both sides' settings, then per-layer (or per-type) and total differences (B relative
    to A), as a textview view: on a narrow screen the metrics go to panels of their own."""
    out = [Line(_side("A", c.a), hang=3), Line(_side("B", c.b), hang=3), ""]
    out += [Line(BY_KIND_NOTE), ""] if c.by == "kind" else []
    out.append(Table(compare_columns(c), _compare_rows(c)))
    if c.dense:
        out += ["", Line(DENSE_NOTE)]
    return out


def compare_text(c):
    """The comparison as plain text."""
    return plain(compare_view(c))


def compare_markdown(c):
    """The comparison as Markdown."""
    cols = compare_columns(c)
    out = [f"- {md(_side('A', c.a))}", f"- {md(_side('B', c.b))}", ""]
    out += [BY_KIND_NOTE, ""] if c.by == "kind" else []
    right = set(range(1 if c.by == "kind" else 3, len(cols)))
    return "\n".join(out + md_table(cols, _compare_rows(c), right=right)) + "\n"


def compare_dict(c):
    """The comparison JSON contract as a dict."""
    def side(an):
        return {"model": an.model, "title": an.title, "alpha": number(an.alpha_exact),
                "resolution": an.resolution, "convention": an.convention, "madds": an.madds,
                "params": an.params}

    # by "kind": each entry of "layers" is a layer type (name = op), with its layer counts
    return {"schema": COMPARE_SCHEMA, "convention": c.a.convention, "a": side(c.a),
            "b": side(c.b), "dense": c.dense, "by": c.by,
            "layers": [{"name": r.name, "op_a": r.op_a, "op_b": r.op_b, "madds_a": r.madds_a,
                        "madds_b": r.madds_b, "params_a": r.params_a, "params_b": r.params_b,
                        **({"ratio_theory": str(r.theory)} if r.theory is not None else {}),
                        **({"layers_a": r.layers_a, "layers_b": r.layers_b}
                           if c.by == "kind" else {})}
                       for r in c.rows],
            "totals": {"madds_diff": c.b.madds - c.a.madds, "params_diff": c.b.params - c.a.params}}


def compare_json(c):
    """The comparison as JSON text."""
    return _dumps(compare_dict(c))


# ---------------------------------------------------------------- one layer

def _show(e):
    return str(e).replace("**", "^")


def layer_view(calc):
    """The formulas, the cumulative rows of MobileNets Table 3, and the final ratio (a
    textview view; the columns in millions go first on a narrow screen)."""
    out = [Line(f"One layer: D_K = {calc.k}, M = {calc.c_in}, N = {calc.c_out}, D_F = {calc.size} "
                "(MobileNets §3, Table 3)"), ""]
    for name, e in calc.formulas():
        tail = " = 1/N + 1/D_K^2" if name == "ratio" else ""
        out.append(Line(f"  {name + ':':22} {_show(e)}{tail}", hang=25))
    out.append("")
    base = calc.steps[0].madds
    rows = [[s.label, str(s.m), str(s.n), str(s.size), _num(s.madds), f"{s.madds / 1e6:.1f}",
             _num(s.params), f"{s.params / 1e6:.2f}", f"{s.madds / base:.4f}"] for s in calc.steps]
    cols = [Column("layer/modification", "left", NAME, key=True), Column("M"), Column("N"),
            Column("D_F"), Column("mult-adds"), Column("M mult-adds", drop=1), Column("params"),
            Column("M params", drop=2), Column("vs standard")]
    out.append(Table(cols, rows))
    last = calc.steps[-1]
    std = calc.k * calc.k * last.m * last.n * last.size * last.size
    out += ["", Line(f"separable / standard at the last setting = 1/N + 1/D_K^2 = 1/{last.n} + "
                     f"1/{calc.k * calc.k} = {calc.ratio} = {float(calc.ratio):.4f} "
                     f"({last.madds:,} / {std:,}; {float(1 / calc.ratio):.2f}x fewer mult-adds)")]
    return out


def layer_text(calc):
    """The one-layer result as plain text."""
    return plain(layer_view(calc))


def layer_dict(calc):
    """The one-layer result as a dict."""
    return {"schema": LAYER_SCHEMA, "kind": "dwsep", "k": calc.k, "in": calc.c_in, "out": calc.c_out,
            "size": calc.size, "alpha": number(calc.alpha) if calc.alpha is not None else None,
            "rho": number(calc.rho) if calc.rho is not None else None,
            "rows": [{"label": s.label, "m": s.m, "n": s.n, "size": s.size, "madds": s.madds,
                      "params": s.params} for s in calc.steps],
            "ratio": str(calc.ratio),
            "formulas": {name: _show(e) for name, e in calc.formulas()}}


def layer_json(calc):
    """The one-layer result as JSON text."""
    return _dumps(layer_dict(calc))
