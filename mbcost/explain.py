"""How two counting conventions differ on one spec, cost category by cost category.

Every cost rule (layers.py) emits raw counts per category; a convention weighs
them (cost.py). For a spec at one width and resolution this module sums the raw
counts of each category over all layers and shows, where the two conventions
weigh a category differently, what each adds to its total. The differences add
up exactly to the gap between the two totals.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field

from .columns import fmt_alpha, number
from .cost import analyze, get_convention
from .escape import markdown as md
from .layers import MADD_CATEGORIES, PARAM_CATEGORIES


@dataclass(frozen=True)
class CategoryDiff:
    """One category that the two conventions weigh differently."""

    measure: str  # "mult-adds" or "params"
    category: str
    what: str
    count: int  # raw count in the spec
    weight: int  # in the chosen convention
    other_weight: int
    value: int  # count x weight
    other_value: int

    @property
    def difference(self):
        """What this category adds to (chosen - other)."""
        return self.value - self.other_value


@dataclass
class Explanation:
    """The per-category differences between two conventions on one spec."""

    model: str
    alpha: object
    resolution: int
    convention: str
    other: str
    madds: int
    other_madds: int
    params: int
    other_params: int
    rows: list = field(default_factory=list)  # CategoryDiff, in category order
    absent: list = field(default_factory=list)  # categories weighed differently but not in the spec

    def to_dict(self):
        """Plain data for JSON."""
        d = asdict(self)
        d["alpha"] = number(self.alpha)  # as mbcost table's JSON: 0.75, 1
        for r, row in zip(d["rows"], self.rows):
            r["difference"] = row.difference
        return d


def _raw_totals(rows, attr):
    totals = {}
    for r in rows:
        for cat, n in getattr(r, attr).items():
            totals[cat] = totals.get(cat, 0) + n
    return totals


def explain(spec, convention, other="paper", alpha=1, resolution=None, rho=None):
    """Explanation of how convention and other differ on spec, per cost category."""
    a = analyze(spec, alpha=alpha, resolution=resolution, rho=rho, convention=convention)
    b = analyze(spec, alpha=alpha, resolution=resolution, rho=rho, convention=other)
    ca, cb = get_convention(convention), get_convention(other)
    ex = Explanation(a.model, a.alpha_exact, a.resolution, ca.name, cb.name, a.madds, b.madds,
                     a.params, b.params)
    for measure, cats, attr, wa, wb in (
            ("mult-adds", MADD_CATEGORIES, "madd_terms", ca.madds, cb.madds),
            ("params", PARAM_CATEGORIES, "param_terms", ca.param_weights, cb.param_weights)):
        raw = _raw_totals(a.rows, attr)
        for cat, what in cats.items():
            x, y = wa.get(cat, 0), wb.get(cat, 0)
            if x == y:
                continue
            n = raw.get(cat, 0)
            if n:
                ex.rows.append(CategoryDiff(measure, cat, what, n, x, y, n * x, n * y))
            elif not cat.startswith("idle."):  # only a spec with train-only heads has these
                ex.absent.append(f"{measure}: {cat}")
    return ex


def _fmt(n):
    return f"{n:,}"


def explain_rows(ex):
    """Table rows (lists of strings), the two total rows last."""
    rows = []
    for r in ex.rows:
        rows.append([r.measure, r.category, r.what, _fmt(r.count), str(r.weight),
                     str(r.other_weight), _fmt(r.value), _fmt(r.other_value),
                     f"{r.difference:+,}"])
    rows.append(["mult-adds", "total", "", "", "", "", _fmt(ex.madds), _fmt(ex.other_madds),
                 f"{ex.madds - ex.other_madds:+,}"])
    rows.append(["params", "total", "", "", "", "", _fmt(ex.params), _fmt(ex.other_params),
                 f"{ex.params - ex.other_params:+,}"])
    return rows


def explain_headers(ex):
    """Column titles naming the two conventions."""
    a, b = ex.convention, ex.other
    return ["measure", "category", "one unit is", "count", f"x {a}", f"x {b}", a, b,
            f"{a} - {b}"]


def explain_title(ex):
    """One line: which spec, point and conventions."""
    return (f"{ex.model}: alpha {fmt_alpha(ex.alpha)}, resolution {ex.resolution}; convention "
            f"'{ex.convention}' vs '{ex.other}', per cost category")


def explain_note(ex):
    """The closing note: categories weighed differently that the spec does not have."""
    if not ex.rows and not ex.absent:
        return f"'{ex.convention}' and '{ex.other}' weigh every category alike."
    if ex.absent:
        return "Also weighed differently, but absent from this spec: " + ", ".join(ex.absent) + "."
    return ""


def explain_view(ex):
    """The explanation as a textview view: title, table and note. On a narrow screen the
    'one unit is' column goes first, then the category names are cut in the middle."""
    from .textview import NAME, Column, Line, Table

    heads = explain_headers(ex)
    cols = [Column(heads[0], "left", key=True), Column(heads[1], "left", NAME, key=True),
            Column(heads[2], "left", drop=1)] + [Column(h) for h in heads[3:]]
    out = [Line(explain_title(ex)), Table(cols, explain_rows(ex), indent=1)]
    note = explain_note(ex)
    return out + ([Line(note)] if note else [])


def explain_markdown(ex):
    """The explanation as a Markdown table."""
    heads = explain_headers(ex)
    lines = [f"**{md(explain_title(ex))}**", "", "| " + " | ".join(heads) + " |",
             "|" + "---|" * len(heads)]
    lines += ["| " + " | ".join(r) + " |" for r in explain_rows(ex)]
    note = explain_note(ex)
    return "\n".join(lines) + "\n" + (f"\n{note}\n" if note else "")


def explain_csv(ex):
    """The explanation as CSV: a header, one line per category, the two total lines."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(explain_headers(ex))
    for row in explain_rows(ex):
        w.writerow([c.replace(",", "") if i >= 3 else c for i, c in enumerate(row)])
    return buf.getvalue()
