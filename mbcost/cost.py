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

from dataclasses import dataclass, field
from fractions import Fraction

from .errors import UsageError, show
from .graph import MAX_RESOLUTION, build_graph
from .layers import KINDS
from .numbers import parse_number
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
# a pool's elements, counted once whether it runs as a module or a functional call ...
_POOL_IN = {f"pool.{k}.in": 1 for k in ("global", "avg", "max")}
# ... and once more when it is a module (ptflops: module hook + its patched F.*pool*)
_POOL_MODULE_IN = {f"pool.{k}.module.in": 1 for k in ("global", "avg", "max")}

# The peer presets reproduce what each counter reports for the torchvision implementation
# (per-operation rules measured with torch 2.14 on torchvision models; fvcore 0.1.5, ptflops 0.7.5, thop 0.1.1,
# torchprofile 0.1.0). Their parameters are torchvision's: module parameters, no BN buffers.
CONVENTIONS = {
    "paper": Convention(
        "paper", "conv+FC multiply-adds; weights and biases; BN folded (the papers, TF-slim)",
        {"mac": 1}, {"weight": 1, "bias": 1},
        "The MobileNet v1/v2/v3 and EfficientNet papers, TF-slim's MACs, torchvision's GFLOPS, "
        "calflops MACs and torch FlopCounterMode / 2."),
    "weights": Convention(
        "weights", "as paper, but biases are not parameters (MobileNet v1 Table 2's shares)",
        {"mac": 1}, {"weight": 1}),
    "torchvision": Convention(
        "torchvision", "conv+FC multiply-adds (its GFLOPS); params count BN gamma and beta",
        {"mac": 1}, _TV_PARAMS,
        "torchvision's weight metadata: `num_params` and `_ops` (GFLOPS, really GMACs)."),
    "keras": Convention(
        "keras", "conv+FC multiply-adds; params count BN gamma, beta, moving mean and variance",
        {"mac": 1}, {**_TV_PARAMS, "bn.stats": 1},
        "Keras `count_params()` and TF variable counts include the BN moving statistics "
        "(layers Keras adds around a model, such as EfficientNet's input Normalization, "
        "are not in the specs)."),
    "fvcore": Convention(
        "fvcore", "fvcore FlopCountAnalysis: BN 2/elem, adaptive avg pool 1/input elem",
        {"mac": 1, "bn": 2, "pool.global.in": 1}, _TV_PARAMS,
        "Traces aten ops: adaptive_avg_pool2d is counted whether called as a module or "
        "functionally (SE pools included); relu, hardtanh (ReLU6), hardswish, silu, sigmoid, "
        "mul, add, max_pool2d and avg_pool2d are unsupported or ignored, so 0."),
    "ptflops": Convention(
        "ptflops", "ptflops (pytorch backend): bias 1/elem, BN 2/elem, ReLU 2/elem, ReLU6 and "
        "SiLU 1/elem, pools 1/input elem (2 for pool modules)",
        {"mac": 1, "bias": 1, "bn": 2, "act.relu": 2, "act.relu6": 1, "act.swish": 1,
         **_POOL_IN, **_POOL_MODULE_IN}, _TV_PARAMS,
        "Module hooks plus patched torch.nn.functional: nn.ReLU counts twice (its hook and the "
        "F.relu it calls), nn.ReLU6 once (F.hardtanh is not patched), nn.SiLU once (F.silu); "
        "a pool module counts twice, a functional pool (`call: functional`) once. Activations "
        "are assumed to be modules, as in torchvision. The SE `scale * x` is Tensor.__mul__, "
        "not patched: 0."),
    "ptflops_aten": Convention(
        "ptflops_aten", "ptflops aten backend: conv+FC multiply-adds plus bias adds",
        {"mac": 1, "bias": 1}, _TV_PARAMS),
    "thop": Convention(
        "thop", "thop profile: BN 4/elem, adaptive avg pool modules (k+1)/output elem",
        {"mac": 1, "bn": 4, "pool.global.module.in": 1, "pool.global.module.out": 1,
         "pool.avg.module.out": 1}, _TV_PARAMS,
        "Module hooks only: a functional pool (torchvision MobileNetV2's F.adaptive_avg_pool2d, "
        "`call: functional`) is not seen; nn.AdaptiveAvgPool2d costs (k+1) per output element, "
        "i.e. input + output elements for a global pool; biases and activations are free."),
    "torchprofile": Convention(
        "torchprofile", "torchprofile: BN 1/elem, avg pools 1/output elem, SE gate multiply 1/elem",
        {"mac": 1, "bn": 1, "pool.global.out": 1, "pool.avg.out": 1, "mul": 1}, _TV_PARAMS,
        "Traces the graph: aten::mul (the SE gate) counts 1/elem, average pools and means 1 per "
        "output element; sigmoid, silu, hardswish and hardsigmoid are free or skipped."),
}
DEFAULT_CONVENTION = "paper"


def get_convention(name):
    """The Convention called name (or the object itself)."""
    if isinstance(name, Convention):
        return name
    if isinstance(name, str) and name in CONVENTIONS:
        return CONVENTIONS[name]
    raise UsageError(f"unknown convention {show(name)}; one of {', '.join(CONVENTIONS)}")


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


def parse_alpha(alpha):
    """alpha as an exact positive fraction ('0.75' -> 3/4); numbers.parse_number's grammar."""
    a = parse_number(alpha, "alpha", example="a positive number")
    if a <= 0 or a > 64:
        raise UsageError(f"alpha must be in (0, 64], got {show(alpha, quote=False)}")
    return a


def parse_rho(rho):
    """rho as an exact positive fraction ('0.714' -> 357/500); numbers.parse_number's grammar."""
    r = parse_number(rho, "rho", example="a positive number")
    if r <= 0:
        raise UsageError(f"rho must be positive, got {show(rho, quote=False)}")
    return r


def resolve_resolution(spec, resolution=None, rho=None):
    """Input height from --res, or from --rho times the spec's base (rounded half up)."""
    base = spec.input[0]
    if resolution is not None and rho is not None:
        raise UsageError("give either resolution or rho, not both")
    if rho is not None:
        r = parse_rho(rho)
        if r * base > MAX_RESOLUTION:
            raise UsageError(f"rho {show(rho, quote=False)} x {base} px exceeds the "
                             f"{MAX_RESOLUTION} px limit")
        resolution = int(r * base + Fraction(1, 2))
    if resolution is None:
        return base
    if isinstance(resolution, bool) or not isinstance(resolution, int):
        raise UsageError(f"resolution must be a positive integer, got {show(resolution)}")
    if not 1 <= resolution <= MAX_RESOLUTION:
        raise UsageError(f"resolution must be between 1 and {MAX_RESOLUTION}, got {show(resolution)}")
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
    return analyze_graph(spec, build_graph(spec, a, res), a, res, conv)


def analyze_graph(spec, g, alpha, resolution, convention):
    """Rows and totals of an already built exact graph (possibly transformed, e.g. densified)."""
    conv, a, res = get_convention(convention), alpha, resolution
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
    for n in g.nodes:
        m, p, _, _ = layer_cost(n, g.domain, conv)
        # a category-free layer weighs to the int 0; everything else is already sympy
        m, p = (sympy.expand(x) if isinstance(x, sympy.Basic) else sympy.Integer(x) for x in (m, p))
        layers.append((n.name, KINDS[n.kind].label(n.attrs, n.in_shapes), m, p, n))
    # one Add of all terms: adding layer by layer re-flattens the growing sum every time
    tm = sympy.expand(sympy.Add(*(layer[2] for layer in layers)))
    tp = sympy.expand(sympy.Add(*(layer[3] for layer in layers)))
    base = analyze(spec, convention=conv)
    exact = tm.subs({alpha: 1, rho: 1}) == base.madds and tp.subs({alpha: 1, rho: 1}) == base.params
    return Formula(spec.name, conv.name, layers, tm, tp, sorted(g.domain.approx), bool(exact))


# The README's rows: what is counted, and the raw categories (layers.py) behind each row.
_POOLS = {k: [f"pool.{k}.{e}" for e in ("in", "out", "module.in", "module.out")]
          for k in ("global", "avg", "max")}
MADD_ROWS = [
    ("conv and FC weights (multiply-accumulates)", ["mac"]),
    ("conv and FC bias adds", ["bias"]),
    ("BatchNorm (inference)", ["bn"]),
    ("ReLU", ["act.relu"]),
    ("ReLU6", ["act.relu6"]),
    ("h-swish", ["act.hswish"]),
    ("h-sigmoid", ["act.hsigmoid"]),
    ("swish / SiLU", ["act.swish"]),
    ("sigmoid", ["act.sigmoid"]),
    ("tanh, softmax", ["act.tanh", "act.softmax"]),
    ("global average pool", _POOLS["global"]),
    ("windowed average pool", _POOLS["avg"]),
    ("max pool", _POOLS["max"]),
    ("SE gate multiply", ["mul"]),
    ("residual / merge add", ["add"]),
]
PARAM_ROWS = [
    ("conv and FC weights", ["weight"]),
    ("conv and FC biases", ["bias"]),
    ("BN gamma, beta", ["bn.affine"]),
    ("BN running mean, variance", ["bn.stats"]),
]


def _unit(cat, w):
    """How much one unit of a mult-add category costs, in words ('2/elem')."""
    if cat == "mac":
        return "1/MAC" if w == 1 else f"{w}/MAC"
    if ".module." in cat:
        return f"{w}/{cat.rsplit('.', 1)[1]} elem if a module"
    if cat.startswith("pool."):
        return f"{w}/{cat.rsplit('.', 1)[1]} elem"
    return f"{w}/elem"


def conventions_markdown():
    """The README's table of conventions (one row per counted thing), generated from CONVENTIONS."""
    convs = list(CONVENTIONS.values())
    lines = ["| counted as | " + " | ".join(f"`{c.name}`" for c in convs) + " |",
             "|---" * (len(convs) + 1) + "|"]
    for title, cats in MADD_ROWS:
        cells = []
        for c in convs:
            parts = [_unit(k, c.madds[k]) for k in cats if c.madds.get(k)]
            cells.append(" + ".join(parts) if parts else "0")
        lines.append(f"| mult-adds: {title} | " + " | ".join(cells) + " |")
    for title, cats in PARAM_ROWS:
        cells = ["yes" if any(c.params.get(k) for k in cats) else "no" for c in convs]
        lines.append(f"| parameters: {title} | " + " | ".join(cells) + " |")
    lines.append("")
    for c in convs:
        lines.append(f"- `{c.name}`: {c.summary}." + (f" {c.notes}" if c.notes else ""))
    return "\n".join(lines) + "\n"


def dwsep_ratios(formula):
    """[(name, ratio)] for each depthwise separable pair: its mult-adds over those of the
    standard conv it replaces, 1/N + 1/D_K^2 (MobileNets §3.1), N in alpha."""
    import sympy

    out = []
    dw_k = {n.name: n.attrs.get("k") for _, _, _, _, n in formula.layers if n.kind == "dw"}
    for name, op, m, p, node in formula.layers:
        if node.source_kind == "dwsep" and node.kind == "pw" and name.endswith(".pw"):
            k = dw_k[name[:-3] + ".dw"]
            out.append((name[:-3], 1 / node.out_shape[2].expr + sympy.Rational(1, k * k)))
    return out
