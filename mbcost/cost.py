"""Counting conventions, per-layer costs, totals and closed forms.

The counting convention is stated here once; the README's table is generated
from ``CONVENTIONS`` (see ``conventions_markdown``) and checked by a test.

Default convention ``paper`` (MobileNet v1/v2/v3 and EfficientNet papers,
TF-slim, torchvision's published GFLOPS):
  * one multiply-accumulate of a conv or FC weight is one mult-add (MAC);
    a FLOP count is 2x that (``--flops``);
  * BatchNorm is folded into the preceding conv: 0 mult-adds, 0 parameters;
  * bias adds, activations, pooling, the squeeze-and-excite gate multiply and
    residual adds cost 0 mult-adds;
  * parameters are conv and FC weights plus their biases (the FC bias counts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

from .errors import UsageError
from .graph import MAX_RESOLUTION, build_graph
from .layers import KINDS, MADD_CATEGORIES, PARAM_CATEGORIES
from .spec import load_spec


@dataclass(frozen=True)
class Convention:
    """How raw per-layer counts become mult-adds and parameters: a weight per category."""

    name: str
    summary: str
    madds: dict
    params: dict
    notes: str = ""


_TV_PARAMS = {"weight": 1, "bias": 1, "bn.affine": 1}

CONVENTIONS = {
    "paper": Convention(
        "paper", "conv+FC multiply-adds; weights and biases; BN folded (the papers, TF-slim)",
        {"mac": 1}, {"weight": 1, "bias": 1}),
    "weights": Convention(
        "weights", "as paper, but biases are not parameters (MobileNet v1 Table 2's shares)",
        {"mac": 1}, {"weight": 1}),
    "torchvision": Convention(
        "torchvision", "conv+FC multiply-adds (its GFLOPS); params count BN gamma and beta",
        {"mac": 1}, _TV_PARAMS),
    "keras": Convention(
        "keras", "conv+FC multiply-adds; params count BN gamma, beta, moving mean and variance",
        {"mac": 1}, {**_TV_PARAMS, "bn.stats": 1}),
    "fvcore": Convention(
        "fvcore", "fvcore FlopCountAnalysis: BN 2/elem, adaptive avg pool 1/input elem",
        {"mac": 1, "bn": 2, "pool.global.in": 1}, _TV_PARAMS),
    "ptflops": Convention(
        "ptflops", "ptflops (pytorch backend): bias 1/elem, BN 2/elem, ReLU 2/elem, ReLU6 and "
        "SiLU 1/elem, pool modules 2/input elem",
        {"mac": 1, "bias": 1, "bn": 2, "act.relu": 2, "act.relu6": 1, "act.swish": 1,
         "pool.global.in": 2, "pool.avg.in": 2, "pool.max.in": 2}, _TV_PARAMS),
    "thop": Convention(
        "thop", "thop profile: BN 4/elem, adaptive avg pool (k+1)/output elem, no biases or activations",
        {"mac": 1, "bn": 4, "pool.global.in": 1, "pool.global.out": 1, "pool.avg.out": 1},
        _TV_PARAMS),
    "torchprofile": Convention(
        "torchprofile", "torchprofile: BN 1/elem, avg pools 1/output elem, SE gate multiply 1/elem",
        {"mac": 1, "bn": 1, "pool.global.out": 1, "pool.avg.out": 1, "mul": 1}, _TV_PARAMS),
}
DEFAULT_CONVENTION = "paper"


def get_convention(name):
    """The Convention called name (or the object itself)."""
    if isinstance(name, Convention):
        return name
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise UsageError(f"unknown convention '{name}'; one of {', '.join(CONVENTIONS)}") from None


def weigh(terms, weights):
    """Sum of count x weight over the categories a convention counts."""
    total = 0
    for cat, n in terms.items():
        w = weights.get(cat, 0)
        if w:
            total += n * w
    return total


@dataclass
class Row:
    """One primitive layer's shapes and exact cost under a convention."""

    name: str
    kind: str
    op: str
    input: tuple
    output: tuple
    k: int | None
    stride: int | None
    madds: int
    params: int
    source_kind: str = ""
    line: int | None = None
    madd_terms: dict = field(default_factory=dict, repr=False)
    param_terms: dict = field(default_factory=dict, repr=False)


@dataclass
class Analysis:
    """The per-layer rows and totals of one spec at one width and resolution."""

    model: str
    title: str
    alpha: Fraction
    resolution: int
    input: tuple
    convention: str
    rows: list
    madds: int
    params: int
    spec_path: str = ""

    @property
    def totals(self):
        """{'madds': int, 'params': int}."""
        return {"madds": self.madds, "params": self.params}

    def by_kind(self):
        """Rows grouped by op label (the MobileNet paper's Table 2), largest mult-adds first."""
        groups = {}
        for r in self.rows:
            g = groups.setdefault(r.op, [r.op, 0, 0, 0])
            g[1] += r.madds
            g[2] += r.params
            g[3] += 1
        return sorted(groups.values(), key=lambda g: (-g[1], -g[2], g[0]))


def _short_fraction(value, what):
    """value as an exact Fraction, refusing long text and huge exponents first
    (Fraction('1e-999999999') would compute 10**999999999 and hang)."""
    if isinstance(value, Fraction):
        return value
    text = str(value).strip()
    if len(text) > 40 or re.search(r"[eE][+-]?0*\d{4}", text):
        raise UsageError(f"{what} must be a short decimal number, got {text[:40]!r}")
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"{what} must be a positive number, got {value!r}") from None


def parse_alpha(alpha):
    """alpha as an exact positive fraction ('0.75' -> 3/4)."""
    a = _short_fraction(alpha, "alpha")
    if a <= 0 or a > 64:
        raise UsageError(f"alpha must be in (0, 64], got {alpha}")
    return a


def resolve_resolution(spec, resolution=None, rho=None):
    """Input height from --res, or from --rho times the spec's base (rounded half up)."""
    base = spec.input[0]
    if resolution is not None and rho is not None:
        raise UsageError("give either resolution or rho, not both")
    if rho is not None:
        r = _short_fraction(rho, "rho")
        if r <= 0:
            raise UsageError(f"rho must be positive, got {rho}")
        if r * base > MAX_RESOLUTION:
            raise UsageError(f"rho {rho} x {base} px exceeds the {MAX_RESOLUTION} px limit")
        resolution = int(r * base + Fraction(1, 2))
    if resolution is None:
        return base
    if isinstance(resolution, bool) or not isinstance(resolution, int):
        raise UsageError(f"resolution must be a positive integer, got {resolution!r}")
    if not 1 <= resolution <= MAX_RESOLUTION:
        raise UsageError(f"resolution must be between 1 and {MAX_RESOLUTION}, got {resolution}")
    return resolution


def layer_cost(node, dom, convention):
    """(madds, params, madd_terms, param_terms) of one node in a domain."""
    mt, pt = KINDS[node.kind].cost(dom, node.in_shapes, node.out_shape, node.attrs)
    return weigh(mt, convention.madds), weigh(pt, convention.params), mt, pt


def analyze(spec, alpha=1, resolution=None, rho=None, convention=DEFAULT_CONVENTION):
    """Per-layer rows and exact integer totals of spec at width alpha and resolution."""
    spec = load_spec(spec)
    conv = get_convention(convention)
    a = parse_alpha(alpha)
    res = resolve_resolution(spec, resolution, rho)
    g = build_graph(spec, a, res)
    rows, tm, tp = [], 0, 0
    for n in g.nodes:
        m, p, mt, pt = layer_cost(n, g.domain, conv)
        rows.append(Row(n.name, n.kind, KINDS[n.kind].label(n.attrs, n.in_shapes),
                        tuple(n.in_shapes[0]), tuple(n.out_shape), n.attrs.get("k"),
                        n.attrs.get("stride"), m, p, n.source_kind, n.line, mt, pt))
        tm += m
        tp += p
    return Analysis(spec.name, spec.title, a, res, g.input_shape, conv.name, rows, tm, tp, spec.path)


# ---------------------------------------------------------------- closed forms

@dataclass
class Formula:
    """Closed forms in alpha and rho: per layer, per kind, and totals."""

    model: str
    convention: str
    layers: list  # (name, op, madds_expr, params_expr, node)
    madds: object
    params: object
    approximations: list
    exact_at_base: bool

    def by_kind(self):
        """(op, madds_expr, params_expr) grouped by op label."""
        import sympy

        groups = {}
        for name, op, m, p, _ in self.layers:
            g = groups.setdefault(op, [op, sympy.Integer(0), sympy.Integer(0)])
            g[1] += m
            g[2] += p
        return [(op, sympy.expand(m), sympy.expand(p)) for op, m, p in groups.values()]


def closed_form(spec, convention=DEFAULT_CONVENTION):
    """Total and per-layer mult-adds and params as sympy expressions in alpha and rho.

    Each size is exact at alpha = rho = 1 and scales continuously from there
    (alpha for scaled channels, rho for spatial sizes); the approximations made
    (channel rounding, ceil on odd sizes) are listed in ``approximations``.
    """
    import sympy

    from .symbols import alpha, rho

    spec = load_spec(spec)
    conv = get_convention(convention)
    g = build_graph(spec, symbolic=True)
    layers = []
    tm, tp = sympy.Integer(0), sympy.Integer(0)
    for n in g.nodes:
        m, p, _, _ = layer_cost(n, g.domain, conv)
        m, p = sympy.expand(sympy.sympify(m)), sympy.expand(sympy.sympify(p))
        layers.append((n.name, KINDS[n.kind].label(n.attrs, n.in_shapes), m, p, n))
        tm += m
        tp += p
    tm, tp = sympy.expand(tm), sympy.expand(tp)
    base = analyze(spec, convention=conv)
    exact = tm.subs({alpha: 1, rho: 1}) == base.madds and tp.subs({alpha: 1, rho: 1}) == base.params
    return Formula(spec.name, conv.name, layers, tm, tp, sorted(g.domain.approx), bool(exact))


def conventions_markdown():
    """The README's table of conventions, generated from CONVENTIONS."""
    cats = list(MADD_CATEGORIES)
    pcats = list(PARAM_CATEGORIES)
    head = "| convention | what it is | mult-adds count | parameters count |\n|---|---|---|---|\n"
    lines = []
    for c in CONVENTIONS.values():
        m = ", ".join(f"{k}" + (f"×{v}" if v != 1 else "") for k, v in c.madds.items() if k in cats)
        p = ", ".join(f"{k}" + (f"×{v}" if v != 1 else "") for k, v in c.params.items() if k in pcats)
        lines.append(f"| `{c.name}` | {c.summary} | {m} | {p} |")
    return head + "\n".join(lines) + "\n"


def dwsep_ratios(formula):
    """[(name, ratio)] for each depthwise separable pair: its mult-adds over those of the
    standard conv it replaces, 1/N + 1/D_K^2 (MobileNets §3.1), N in alpha."""
    import sympy

    out = []
    for name, op, m, p, node in formula.layers:
        if node.source_kind == "dwsep" and node.kind == "pw" and name.endswith(".pw"):
            k = next(n.attrs["k"] for _, _, _, _, n in formula.layers if n.name == name[:-3] + ".dw")
            out.append((name[:-3], 1 / node.out_shape[2].expr + sympy.Rational(1, k * k)))
    return out
