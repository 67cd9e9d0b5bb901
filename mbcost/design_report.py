"""Rendering of the design commands (check, fit, sweep, compare, layer) as plain
text, JSON, CSV and Markdown (the plots are in ``mbcost.plot``). No cost logic.

The JSON layouts carry a ``schema`` name (``mbcost.<command>/1``) and, like
``report``'s, only ever gain fields within a schema version (docs/output-format.md).
"""

from __future__ import annotations

import csv
import io
import json

from .design import QUANTITY_LABELS
from .report import fmt_alpha, number, shape_str, si

CHECK_SCHEMA, FIT_SCHEMA, SWEEP_SCHEMA = "mbcost.check/1", "mbcost.fit/1", "mbcost.sweep/1"
COMPARE_SCHEMA, LAYER_SCHEMA = "mbcost.compare/1", "mbcost.layer/1"


# ---------------------------------------------------------------- shared helpers

def _num(n):
    return "-" if n is None else f"{int(n):,}"


def _signed(n):
    return f"{int(n):+,}"


def _alpha(a):
    return fmt_alpha(a)


def text_table(headers, rows, right=None):
    """Plain aligned columns (numbers right-aligned); two spaces between columns."""
    right = set(range(1, len(headers))) if right is None else set(right)
    cells = [list(map(str, headers))] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for r in cells:
        parts = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
        lines.append("  ".join(parts).rstrip())
    return lines


def md_table(headers, rows, right=None):
    """A Markdown pipe table; numbers right-aligned."""
    right = set(range(1, len(headers))) if right is None else set(right)
    out = ["| " + " | ".join(map(str, headers)) + " |",
           "|" + "|".join("--:" if i in right else "---" for i in range(len(headers))) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
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


def _top_line(r, q):
    items = [f"{t.name} {t.value:,} ({t.share:.2f}%)" for t in r.top.get(q, [])]
    return f"largest {QUANTITY_LABELS[q]}: " + ", ".join(items) if items else ""


def check_text(results):
    """Each result: its setting, one line per limit, the largest contributors."""
    out = []
    for r in results:
        out.append(f"{r.model}: {_setting(r)}: {'within budget' if r.ok else 'OVER BUDGET'}")
        out += ["  " + line for line in text_table(LIMIT_HEADERS, _limit_rows(r.checks), right={1, 2, 3, 4})]
        for c in r.checks:
            line = _top_line(r, c.quantity)
            if line:
                out.append("  " + line)
        out.append("")
    if len(results) > 1:
        over = sum(not r.ok for r in results)
        out.append(f"{len(results) - over} of {len(results)} within budget" if over
                   else f"all {len(results)} within budget")
    return "\n".join(out).rstrip("\n") + "\n"


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
        out += [f"**{r.model}** ({_setting(r)}): {'within budget' if r.ok else '**over budget**'}", ""]
        out += md_table(LIMIT_HEADERS, _limit_rows(r.checks), right={1, 2, 3, 4})
        out.append("")
        for c in r.checks:
            line = _top_line(r, c.quantity)
            if line:
                out += [line[0].upper() + line[1:], ""]
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


def fit_text(f):
    """The answer, its exact cost and headroom, and the step above that breaks the budget."""
    lim = ", ".join(f"{QUANTITY_LABELS[q]} <= {v:,}" for q, v in f.limits.items())
    if f.mode == "pareto":
        out = [f"{f.model}: settings of the standard grid within {lim} that no larger setting "
               f"beats (Pareto frontier), convention '{f.convention}'"]
        if not f.frontier:
            return "\n".join(out + ["  nothing on the standard grid fits"]) + "\n"
        rows = [[_alpha(p.alpha), p.resolution, _num(p.madds), _num(p.params)] for p in f.frontier]
        out += ["  " + line for line in text_table(["alpha", "resolution", "mult-adds", "params"], rows)]
        return "\n".join(out) + "\n"
    if f.mode == "alpha":
        head = f"{f.model}: largest alpha (step {_alpha(f.step)}) within {lim}"
    else:
        head = f"{f.model}: largest resolution (multiple of {f.step} px) within {lim}"
    out = [f"{head}, convention '{f.convention}'"]
    if f.point is None:
        p = f.next_up
        smallest = f"; the smallest setting, {_what(f, p)}, needs {p.madds:,} mult-adds and " \
                   f"{p.params:,} params" if p else ""
        return "\n".join(out + [f"  nothing fits{smallest}"]) + "\n"
    p = f.point
    out.append(f"  answer: alpha {_alpha(p.alpha)} at {p.resolution} px: {p.madds:,} mult-adds, "
               f"{p.params:,} params")
    out += ["  " + line for line in text_table(LIMIT_HEADERS, _limit_rows(f.checks()), right={1, 2, 3, 4})]
    if f.next_up is not None:
        broken = [QUANTITY_LABELS[c.quantity] for c in f.checks(f.next_up) if not c.ok]
        out.append(f"  next step up, {_what(f, f.next_up)}: {f.next_up.madds:,} mult-adds, "
                   f"{f.next_up.params:,} params (over: {', '.join(broken) or 'none'})")
    else:
        out.append("  the top of the range fits; there is no step up")
    if f.estimate is not None:
        what = "alpha" if f.mode == "alpha" else "resolution"
        out.append(f"  closed-form estimate: {what} = {f.estimate:.4f} (continuous; the exact "
                   "count steps with channel rounding and ceil)")
    return "\n".join(out) + "\n"


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


def sweep_text(sw, exact=False):
    """Rows alpha, columns resolution, cells mult-adds, then params per alpha."""
    out = [f"{sw.model}: mult-adds by width (rows) and resolution (columns), convention "
           f"'{sw.convention}'"]
    out += text_table(_sweep_headers(sw), _sweep_rows(sw, exact))
    return "\n".join(out) + "\n"


def sweep_markdown(sw, exact=True):
    """The sweep as a Markdown pivot table."""
    out = [f"**{sw.model}: mult-adds by width and resolution, convention '{sw.convention}'**", ""]
    out += md_table(_sweep_headers(sw), _sweep_rows(sw, exact))
    return "\n".join(out) + "\n"


def sweep_dict(sw):
    """The sweep JSON contract (schema mbcost.sweep/1): the setting, the grid's axes and
    every point {alpha, resolution, madds, params} in grid order (alpha-major)."""
    return {"schema": SWEEP_SCHEMA, "model": sw.model, "title": sw.title,
            "convention": sw.convention, "alphas": [number(a) for a in sw.alphas],
            "resolutions": list(sw.resolutions), "points": [_point_dict(p) for p in sw.points]}


def sweep_json(sw):
    """The sweep as JSON text."""
    return _dumps(sweep_dict(sw))


def sweep_csv(sw):
    """One row per point: alpha,resolution,madds,params."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["alpha", "resolution", "madds", "params"])
    for p in sw.points:
        w.writerow([_alpha(p.alpha), p.resolution, p.madds, p.params])
    return buf.getvalue()


# ---------------------------------------------------------------- compare

def _ratio(b, a):
    return f"{b / a:.4f}" if a and b is not None else "-"


def _delta(a, b):
    return _signed((b or 0) - (a or 0))


def _compare_table(c):
    kinds = c.by == "kind"
    headers = ["type" if kinds else "layer", "layers A" if kinds else "type A",
               "layers B" if kinds else "type B", "mult-adds A", "mult-adds B", "diff", "B/A",
               "params A", "params B", "diff "]
    if c.dense:
        headers += ["A/B", "1/N+1/D_K^2"]
    rows = []
    for r in c.rows:
        a_col, b_col = (r.layers_a, r.layers_b) if kinds else (r.op_a or "-", r.op_b or "-")
        row = [r.name, a_col, b_col, _num(r.madds_a), _num(r.madds_b),
               _delta(r.madds_a, r.madds_b), _ratio(r.madds_b, r.madds_a), _num(r.params_a),
               _num(r.params_b), _delta(r.params_a, r.params_b)]
        if c.dense:
            row += [_ratio(r.madds_a, r.madds_b) if r.theory is not None else "",
                    f"{float(r.theory):.4f}" if r.theory is not None else ""]
        rows.append(row)
    a, b = c.a, c.b
    total = ["total"] + ([sum(r.layers_a for r in c.rows), sum(r.layers_b for r in c.rows)]
                         if kinds else ["", ""]) + [_num(a.madds), _num(b.madds), _delta(a.madds, b.madds),
             _ratio(b.madds, a.madds), _num(a.params), _num(b.params), _delta(a.params, b.params)]
    if c.dense:
        total += [_ratio(a.madds, b.madds), ""]
    return headers, rows + [total]


def _side(label, an):
    return (f"{label}: {an.title}: alpha {_alpha(an.alpha)}, input {shape_str(an.input)}, "
            f"convention '{an.convention}'")


BY_KIND_NOTE = "Layer names differ: compared by type (as 'mbcost table --by kind') and total."


def _compare_right(c, headers):
    """Right-aligned columns: the numbers (and the layer counts of a by-type comparison)."""
    return set(range(1 if c.by == "kind" else 3, len(headers)))


def compare_text(c):
    """Both sides' settings, then per-layer (or per-type) and total differences (B relative
    to A)."""
    headers, rows = _compare_table(c)
    out = [_side("A", c.a), _side("B", c.b), ""] + ([BY_KIND_NOTE, ""] if c.by == "kind" else [])
    out += text_table(headers, rows, right=_compare_right(c, headers))
    if c.dense:
        out += ["", "A/B is each separable pair's mult-adds over those of the standard conv that "
                "replaces it: 1/N + 1/D_K^2 (MobileNets §3.1) when only multiply-adds count."]
    return "\n".join(out) + "\n"


def compare_markdown(c):
    """The comparison as Markdown."""
    headers, rows = _compare_table(c)
    out = [f"- {_side('A', c.a)}", f"- {_side('B', c.b)}", ""]
    out += [BY_KIND_NOTE, ""] if c.by == "kind" else []
    return "\n".join(out + md_table(headers, rows, right=_compare_right(c, headers))) + "\n"


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


def layer_text(calc):
    """The formulas, the cumulative rows of MobileNets Table 3, and the final ratio."""
    out = [f"One layer: D_K = {calc.k}, M = {calc.c_in}, N = {calc.c_out}, D_F = {calc.size} "
           "(MobileNets §3, Table 3)", ""]
    for name, e in calc.formulas():
        tail = " = 1/N + 1/D_K^2" if name == "ratio" else ""
        out.append(f"  {name + ':':22} {_show(e)}{tail}")
    out.append("")
    base = calc.steps[0].madds
    rows = [[s.label, s.m, s.n, s.size, _num(s.madds), f"{s.madds / 1e6:.1f}", _num(s.params),
             f"{s.params / 1e6:.2f}", f"{s.madds / base:.4f}"] for s in calc.steps]
    out += text_table(["layer/modification", "M", "N", "D_F", "mult-adds", "M mult-adds",
                       "params", "M params", "vs standard"], rows)
    last = calc.steps[-1]
    std = calc.k * calc.k * last.m * last.n * last.size * last.size
    out += ["", f"separable / standard at the last setting = 1/N + 1/D_K^2 = 1/{last.n} + "
            f"1/{calc.k * calc.k} = {calc.ratio} = {float(calc.ratio):.4f} "
            f"({last.madds:,} / {std:,}; {float(1 / calc.ratio):.2f}x fewer mult-adds)"]
    return "\n".join(out) + "\n"


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
