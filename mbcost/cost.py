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
from functools import cached_property
from typing import NamedTuple

from .columns import KindRow, kind_records, layer_dict, layer_records, record_fields  # noqa: F401
from .domains import _MONOMIAL, Monomials
from .errors import UsageError, show
from .graph import build_graph
from .layers import PARAM_CATEGORIES, PRIMITIVES, hw
from .spec import load_spec
from .units import parse_alpha, parse_rho, resolve_resolution  # noqa: F401  (their old home)


SPEC_ARG_DOC = """``spec`` may be a bundled name (``"mobilenet_v1"``, with or without ``.yaml``;
    ``mbcost.bundled_names()`` lists them), a path to a YAML file (a path that exists wins
    over a bundled name), a dict with the same content as a spec file, or a loaded ``Spec``."""


def spec_doc(fn):
    """Put the shared description of the spec argument where fn's docstring says {spec}."""
    if fn.__doc__:  # None under python -OO
        fn.__doc__ = fn.__doc__.replace("{spec}", SPEC_ARG_DOC)
    return fn


@dataclass(frozen=True)
class Convention:
    """How raw per-layer counts become mult-adds and parameters: a weight per category."""

    name: str
    summary: str
    madds: dict
    params: dict
    notes: str = ""
    # how --memory's act_elems counts activations: {layer kind: weight per output element};
    # None: every layer's output once
    acts: dict = None
    # the parameters of a train-only head's layers in eval (held by the model, not run) count,
    # as a module's parameters() do; False: a counter that sees only layers that ran (thop)
    idle_params: bool = True

    @cached_property
    def param_weights(self):
        """``params`` with the 'idle.*' categories (a train-only head's layers in eval)
        weighed like the others, or not at all without ``idle_params``."""
        if not self.idle_params:
            return self.params
        return {**self.params, **{f"idle.{k}": w for k, w in self.params.items()}}


# LayerNorm's gamma and beta and ConvNeXt's layer scale count where BN's gamma and beta do
_LN_PARAMS = {"ln.affine": 1, "ln.affine.functional": 1, "scale": 1}
_TV_PARAMS = {"weight": 1, "bias": 1, "bn.affine": 1, **_LN_PARAMS}
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
        "torchvision's weight metadata: `num_params` and `_ops` (GFLOPS, really GMACs). "
        "Parameters include LayerNorm's gamma and beta and ConvNeXt's layer scale."),
    "keras": Convention(
        "keras", "conv+FC multiply-adds; params count BN gamma, beta, moving mean and variance",
        {"mac": 1}, {**_TV_PARAMS, "bn.stats": 1},
        "Keras `count_params()` and TF variable counts include the BN moving statistics "
        "(layers Keras adds around a model, such as EfficientNet's input Normalization, "
        "are not in the specs)."),
    "fvcore": Convention(
        "fvcore", "fvcore FlopCountAnalysis: BN 2/elem, adaptive avg pool 1/input elem",
        {"mac": 1, "bn": 2, "pool.global.in": 1, "ln": 5}, _TV_PARAMS,
        "Traces aten ops: adaptive_avg_pool2d is counted whether called as a module or "
        "functionally (SE pools included); relu, hardtanh (ReLU6), hardswish, silu, sigmoid, "
        "gelu, mul, add, max_pool2d, avg_pool2d and mean (x.mean, `call: method`) are "
        "unsupported or ignored, so 0; layer_norm counts 5/elem. --memory's "
        "act_elems are its ActivationCountAnalysis: the outputs of conv and linear only.",
        {"conv": 1, "dw": 1, "pw": 1, "fc": 1}),
    "ptflops": Convention(
        "ptflops", "ptflops (pytorch backend): bias 1/elem, BN 2/elem, ReLU 2/elem (1 if "
        "functional), ReLU6, SiLU and softmax 1/elem, pools 1/input elem (2 for pool modules)",
        {"mac": 1, "bias": 1, "bn": 2, "act.relu": 1, "act.relu.module": 1, "act.relu6": 1,
         "act.swish": 1, "act.gelu": 1, "act.gelu.module": 1, "act.softmax": 1, "ln.module": 1,
         **_POOL_IN, **_POOL_MODULE_IN}, _TV_PARAMS,
        "Module hooks plus patched torch.nn.functional: nn.ReLU counts twice (its hook and the "
        "F.relu it calls), a functional F.relu (`call: functional`) once, nn.ReLU6 once "
        "(F.hardtanh is not patched), F.relu6 once, nn.SiLU and F.silu once; a pool module "
        "counts twice, a functional pool (`call: functional`) once; tensor methods (x.mean, "
        "`call: method`) are not patched: 0. The SE `scale * x` is Tensor.__mul__, not "
        "patched: 0. nn.GELU counts twice (hook and F.gelu), nn.LayerNorm once; F.softmax "
        "is patched (nn.Softmax calls it; no module hook): once; "
        "torchvision's LayerNorm2d (`call: functional`) not at all: the hooks match the exact "
        "type."),
    "ptflops_aten": Convention(
        "ptflops_aten", "ptflops aten backend: conv+FC multiply-adds plus bias adds",
        {"mac": 1, "bias": 1}, _TV_PARAMS),
    "thop": Convention(
        "thop", "thop profile: BN 4/elem, adaptive avg pool modules (k+1)/output elem",
        {"mac": 1, "bn": 4, "pool.global.module.in": 1, "pool.global.module.out": 1,
         "pool.avg.module.out": 1, "ln.module": 4},
        {"weight": 1, "bias": 1, "bn.affine": 1, "ln.affine": 1},
        "Module hooks only: a functional pool (torchvision MobileNetV2's F.adaptive_avg_pool2d, "
        "`call: functional`) is not seen; nn.AdaptiveAvgPool2d costs (k+1) per output element, "
        "i.e. input + output elements for a global pool; biases and activations are free. "
        "nn.LayerNorm costs 4/elem; parameters are those of the modules it has a rule for, "
        "so not LayerNorm2d's (`call: functional`) nor ConvNeXt's layer scale.",
        idle_params=False),  # its parameters: only the modules that ran (README table)
    "torchprofile": Convention(
        "torchprofile", "torchprofile: BN 1/elem, avg pools 1/output elem, SE gate multiply 1/elem",
        {"mac": 1, "bn": 1, "pool.global.out": 1, "pool.global.method.out": 1, "pool.avg.out": 1,
         "mul": 1, "ln": 1, "scale": 1}, _TV_PARAMS,
        "Traces the graph: aten::mul (the SE gate) counts 1/elem, average pools and means "
        "(x.mean, `call: method`) 1 per output element; sigmoid, silu, hardswish and "
        "hardsigmoid are free or skipped; layer_norm 1/elem, ConvNeXt's layer-scale multiply "
        "(aten::mul) 1/elem."),
    "torchinfo": Convention(
        "torchinfo", "torchinfo summary: a parameterized layer's mult-adds are its parameters x "
        "output positions (conv MACs + bias adds, BN gamma and beta once)",
        {"mac": 1, "bias": 1, "bn.params": 1, "ln.params": 1}, _TV_PARAMS,
        "torchinfo 1.8.0 (layer_info.py): a Conv's macs are (weight + bias parameters) x output "
        "positions, any other leaf with parameters counts its parameters once (BN: gamma, beta; "
        "Linear: weight + bias); --memory's act_bytes are its 'Forward/backward pass size': 2 x "
        "the output of every layer with parameters (conv, FC, BN), 4 bytes each in fp32.",
        {"conv": 2, "dw": 2, "pw": 2, "fc": 2, "bn": 2, "layernorm": 2}),
}
DEFAULT_CONVENTION = "paper"


def get_convention(name):
    """The ``Convention`` called name (or name itself if it is one).

    Returns a ``Convention``: ``name``, ``summary``, and the weight of each raw cost
    category in ``madds`` and ``params`` (``mbcost list --conventions`` lists them).
    Raises ``mbcost.UsageError`` (a ``ValueError``) for an unknown name.

        >>> get_convention("weights").params
        {'weight': 1}
    """
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
    """One primitive layer's shapes and exact cost under a convention.

    ``k`` and ``stride`` are None for layers without them (BN, activations...);
    ``to_dict()`` is the layer object of the JSON output, ``record()`` a flat,
    all-integer record for data frames (see ``Analysis.records``).
    """

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
    mem: object = field(default=None, repr=False, compare=False)  # memory.LayerMemory (--memory)
    head: str | None = None  # the head (`head` kind) the layer belongs to, None on the main path

    def to_dict(self):
        """The layer as in ``mbcost table --format json`` (shapes as lists, k/stride None if
        absent): the fields of ``mbcost.columns.LAYER``."""
        return layer_dict(self)

    def record(self):
        """A flat record: shapes as in_h..out_c, k and stride 0 where the layer has none,
        every number a Python int (so a data frame gets int64 columns)."""
        return layer_records([self])[0]


RECORD_FIELDS = record_fields()  # name kind op in_h in_w in_c out_h out_w out_c k stride madds params


@dataclass
class Analysis:
    """The per-layer rows and exact integer totals of one spec at one width and resolution.

    Attributes: ``model``, ``title``, ``alpha`` (a float; ``alpha_exact`` is the exact
    Fraction), ``resolution`` (input height), ``input`` ([H, W, C]), ``convention``,
    ``rows`` (one ``Row`` per primitive layer, zero-cost ones included), ``madds`` and
    ``params`` (the exact totals), ``spec_path``.

        >>> a = analyze("mobilenet_v1", alpha=0.5, resolution=160)
        >>> a
        Analysis(model='mobilenet_v1', alpha=0.5, resolution=160, convention='paper', madds=76524800, params=1320648, rows=<84 rows>)
        >>> a.alpha, a.alpha_exact
        (0.5, Fraction(1, 2))
    """

    model: str
    title: str
    alpha_exact: Fraction
    resolution: int
    input: tuple
    convention: str
    rows: list
    madds: int
    params: int
    spec_path: str = ""
    memory: object = field(default=None, repr=False, compare=False)  # memory.MemoryReport
    train: bool = False  # built for training: train-only heads' mult-adds are counted

    @property
    def alpha(self):
        """The width multiplier as a float (``alpha_exact`` keeps the exact Fraction)."""
        return float(self.alpha_exact)

    @property
    def totals(self):
        """{'madds': int, 'params': int}."""
        return {"madds": self.madds, "params": self.params}

    def __repr__(self):
        return (f"Analysis(model={self.model!r}, alpha={self.alpha!r}, resolution={self.resolution}, "
                f"convention={self.convention!r}, madds={self.madds}, params={self.params}, "
                f"rows=<{len(self.rows)} rows>)")

    def by_kind(self):
        """One ``KindRow`` per layer type (op label), largest mult-adds first: the MobileNet
        paper's Table 2. Every type is listed, zero-cost ones (BN, ReLU...) included.

            >>> k = analyze("mobilenet_v1", convention="weights").by_kind()[0]
            >>> k.type, k.layers, k.madds, round(k.madds_pct, 2), round(k.params_pct, 2)
            ('Conv 1x1', 13, 539492352, 94.86, 74.59)
        """
        return kind_records(self)

    def to_dict(self, flops=False):
        """The JSON layout of ``mbcost table --format json`` (schema ``mbcost.table/1``,
        docs/output-format.md) as a plain dict: every layer, exact integers."""
        from .report import to_dict

        return to_dict(self, flops)

    def records(self):
        """One flat dict per layer (``Row.record``), zero-cost layers included:
        ``name kind op in_h in_w in_c out_h out_w out_c k stride madds params`` (made with
        ``memory=``: then the memory fields, ``intensity`` and ``time_s`` floats or None).
        Every number is an int; ``k`` and ``stride`` are 0 where a layer has none, so
        ``pandas.DataFrame(a.records())`` has int64 columns.

            >>> analyze("mobilenet_v1").records()[0]["madds"]
            10838016
        """
        return layer_records(self.rows)

    def to_dataframe(self):
        """``pandas.DataFrame(self.records())``; pandas is optional (never a dependency
        of mbcost). Raises ImportError, saying so, when pandas is not installed."""
        try:
            import pandas
        except ImportError:
            raise ImportError("Analysis.to_dataframe needs pandas (pip install pandas); "
                              "records() gives the same rows as plain dicts") from None
        from .columns import Options

        fields = record_fields(Options().for_rows(self.rows))  # RECORD_FIELDS, + memory's
        return pandas.DataFrame(self.records(), columns=list(fields))


def layer_cost(node, dom, convention):
    """(madds, params, madd_terms, param_terms) of one node in a domain."""
    mt, pt = PRIMITIVES[node.kind].cost(dom, node.in_shapes, node.out_shape, node.attrs)
    return weigh(mt, convention.madds), weigh(pt, convention.param_weights), mt, pt


@spec_doc
def analyze(spec, alpha=1, resolution=None, rho=None, convention=DEFAULT_CONVENTION, memory=None,
            train=None):
    """Per-layer rows and exact integer totals of spec at width alpha and resolution.

    {spec}
    ``alpha`` is the width multiplier, in (0, 64]: a number or a short decimal string,
    taken exactly (``"0.75"`` is 3/4). ``resolution`` is the input height in pixels
    (default: the spec's); or give ``rho``, the resolution multiplier (resolution =
    round(rho x the spec's height)), not both. ``convention`` is a name from
    ``mbcost.CONVENTIONS`` (default ``"paper"``: conv and FC multiply-adds, BN folded).

    Returns an ``Analysis``: ``madds`` and ``params`` (exact ints), ``rows`` (one ``Row``
    per primitive layer), ``by_kind()`` (Table 2), ``records()`` and ``to_dict()``.
    ``memory`` (a dict of ``mbcost.memory.memory_settings``' keywords: ``dtype``,
    ``weight_dtype``, ``memory_model``, ``device``; ``True`` for the defaults) adds
    activation memory, traffic and, with a device, the roofline bound: ``Analysis.memory``
    and each ``Row.mem``. ``train=True`` counts the mult-adds of train-only heads (the
    ``head`` kind: GoogLeNet's and Inception-v3's auxiliary classifiers), which inference
    does not run; their parameters count either way (default None: eval, unless inside
    ``mbcost.graph.training``).

    Raises ``mbcost.SpecError`` for a missing or malformed spec (with file, line, layer
    and field; its subclasses ``ExprError`` for a bad expression and ``LimitError`` for a
    spec over a documented limit) and ``mbcost.UsageError`` for a bad alpha, resolution,
    rho or convention. All are ``ValueError`` and ``mbcost.MbcostError``.

        >>> a = analyze("mobilenet_v1", alpha=0.5, resolution=160)
        >>> a.madds, a.params
        (76524800, 1320648)
        >>> a.rows[0].name, a.rows[0].madds
        ('conv1', 2764800)
        >>> analyze({"name": "one", "input": [14, 14, 512],
        ...          "layers": [{"dwsep": {"k": 3, "out": 512}}]}).madds
        52283392
        >>> analyze("mobilenet_v1", alpha=0)
        Traceback (most recent call last):
        mbcost.errors.UsageError: alpha must be in (0, 64], got 0
    """
    spec = load_spec(spec)
    conv = get_convention(convention)
    a = parse_alpha(alpha)
    res = resolve_resolution(spec, resolution, rho)
    settings = None
    if memory is not None and memory is not False:
        from .memory_model import memory_settings

        settings = memory_settings(**({} if memory is True else memory))
    return analyze_graph(spec, build_graph(spec, a, res, train=train), a, res, conv, settings)



def _square(v):
    """A kernel size or stride for the k and stride columns: None when the two axes differ
    (a 1x7 kernel: its type label says so)."""
    return None if isinstance(v, tuple) else v


def analyze_graph(spec, g, alpha, resolution, convention, memory=None):
    """Rows and totals of an already built exact graph (possibly transformed, e.g. densified);
    memory: checked ``memory.memory_settings`` to add memory columns."""
    conv, a, res = get_convention(convention), alpha, resolution
    rows, tm, tp = [], 0, 0
    for n in g.nodes:
        m, p, mt, pt = layer_cost(n, g.domain, conv)
        rows.append(Row(n.name, n.kind, PRIMITIVES[n.kind].label(n.attrs, n.in_shapes),
                        tuple(n.in_shapes[0]), tuple(n.out_shape), _square(n.attrs.get("k")),
                        _square(n.attrs.get("stride")), m, p, n.source_kind, n.line, mt, pt,
                        head=n.attrs.get("head")))
        tm += m
        tp += p
    an = Analysis(spec.name, spec.title, a, res, g.input_shape, conv.name, rows, tm, tp, spec.path,
                  train=g.train)
    if memory is not None:
        from .memory_model import attach

        attach(an, g.nodes, memory, conv.acts)
    return an


# ---------------------------------------------------------------- closed forms

class KindFormula(NamedTuple):
    """One layer type's closed forms (sympy expressions in alpha and rho)."""

    type: str
    madds: object
    params: object


@dataclass(repr=False)
class Formula:
    """Closed forms in alpha and rho: per layer, per kind, and totals.

    ``madds`` and ``params`` are sympy expressions in ``mbcost.symbols.alpha`` and
    ``rho``; ``layers`` holds (name, op, madds, params, node) per primitive layer;
    ``approximations`` says where the forms are continuous approximations of the exact,
    rounded counts, and ``exact_at_base`` whether they match them at alpha = rho = 1;
    ``form`` is ``"continuous"`` (the papers' polynomial) or ``"exact"`` (rounding and
    strided sizes kept, ``closed_form(exact=True)``), ``where_exact`` where it equals
    ``analyze``, and ``at(alpha, resolution)`` its exact value there.

        >>> closed_form("mobilenet_v1")
        Formula(model='mobilenet_v1', convention='paper', madds=539492352*alpha**2*rho**2 + 28224000*alpha*rho**2 + 1024000*alpha, params=3139584*alpha**2 + 1069504*alpha + 1000, layers=<84 layers>)
    """

    model: str
    convention: str
    layers: list  # (name, op, madds_expr, params_expr, node)
    madds: object
    params: object
    approximations: list
    exact_at_base: bool
    title: str = ""
    form: str = "continuous"  # or "exact" (closed_form(exact=True)): exact_form.FORMS
    spec: object = field(default=None, compare=False)  # the loaded Spec (for at())
    train: bool = False  # built for training: train-only heads' mult-adds are in the forms

    def __repr__(self):
        def short(e):
            text = str(e)
            return text if len(text) <= 300 else text[:297] + "..."

        return (f"Formula(model={self.model!r}, convention={self.convention!r}, "
                f"madds={short(self.madds)}, params={short(self.params)}, "
                f"layers=<{len(self.layers)} layers>)")

    @property
    def where_exact(self):
        """Where this form equals the exact counts of ``analyze``, in words."""
        from .exact_form import WHERE_EXACT

        return WHERE_EXACT[self.form]

    def at(self, alpha=1, resolution=None, rho=None, check=True):
        """{'madds', 'params'}: the closed forms at width alpha and a resolution (or rho,
        as ``analyze`` takes them), evaluated exactly (rationals substituted, no floats).
        The exact form gives ``analyze``'s integers wherever ``analyze`` accepts the spec;
        the continuous form an int or a Fraction, equal to them where sizes divide evenly.
        Where ``analyze`` refuses the spec (groups that no longer divide the channels, a
        size that reaches zero) ``at`` raises the same ``SpecError``: ``check`` builds the
        graph at that point to find out (``check=False`` skips it: the value is then
        meaningless at such a point).

            >>> f = closed_form("mobilenet_v1", exact=True)
            >>> f.at(1, 100)["madds"], analyze("mobilenet_v1", resolution=100).madds
            (139938112, 139938112)
            >>> closed_form("mobilenet_v1").at(1, 100)["madds"]
            114169000
        """
        from .exact_form import evaluate

        a = parse_alpha(alpha)
        res = resolve_resolution(self.spec, resolution, rho)
        if not isinstance(check, bool):
            raise UsageError("check must be true or false")
        if check:
            build_graph(self.spec, a, res, train=self.train)  # raises where analyze would
        r = Fraction(res, self.spec.input[0])
        return {"madds": evaluate(self.madds, a, r), "params": evaluate(self.params, a, r)}

    def by_kind(self):
        """One ``KindFormula(type, madds, params)`` per op label, in network order."""
        import sympy

        groups = {}
        for name, op, m, p, _ in self.layers:
            g = groups.setdefault(op, [sympy.Integer(0), sympy.Integer(0)])
            g[0] += m
            g[1] += p
        return [KindFormula(op, sympy.expand(m), sympy.expand(p)) for op, (m, p) in groups.items()]


@spec_doc
def closed_form(spec, convention=DEFAULT_CONVENTION, exact=False, train=None):
    """Total and per-layer mult-adds and params as sympy expressions in alpha and rho.

    {spec}
    ``convention`` is a name from ``mbcost.CONVENTIONS`` (default ``"paper"``); ``train``
    as for ``analyze`` (train-only heads' mult-adds count only when True).

    Returns a ``Formula``. By default the continuous form (the papers' polynomial): each
    size is exact at alpha = rho = 1 and scales continuously from there (alpha for scaled
    channels, rho for spatial sizes); the approximations made (channel rounding, ceil on
    odd sizes) are listed in ``Formula.approximations``. ``exact=True`` gives the exact
    form instead: channel rounding as ``make_divisible`` or ``floor`` and strided sizes as
    ``floor``/``ceiling`` of rho (mbcost.exact_form), equal to ``analyze`` at every alpha
    and resolution it accepts (``Formula.at`` evaluates either form exactly).
    Imports sympy (about half a second); ``analyze`` does not.

    Raises ``mbcost.SpecError`` for a missing or malformed spec (its subclasses
    ``ExprError`` for a bad expression and ``LimitError`` for a spec over a documented
    limit), ``mbcost.UsageError`` for an unknown convention; all are ``ValueError`` and
    ``mbcost.MbcostError``.

        >>> f = closed_form("mobilenet_v1")
        >>> f.params
        3139584*alpha**2 + 1069504*alpha + 1000
        >>> from mbcost.symbols import alpha, rho
        >>> f.madds.subs({alpha: 1, rho: 1})
        568740352
    """
    import sympy

    from .symbols import alpha, rho

    spec = load_spec(spec)
    conv = get_convention(convention)
    if not isinstance(exact, bool):
        raise UsageError("exact must be true or false")
    if exact:
        return _exact_closed_form(spec, conv, train)
    g = build_graph(spec, symbolic=True, train=train)
    layers = []
    for n in g.nodes:
        # the cost rule on the sizes' Monomials (domains.py: the one closed-form engine);
        # sympy prints the result. A category-free layer weighs to the int 0.
        ins = [tuple(x.poly for x in s) for s in n.in_shapes]
        mt, pt = PRIMITIVES[n.kind].cost(_MONOMIAL, ins, tuple(x.poly for x in n.out_shape), n.attrs)
        m, p = (x.to_sympy() if isinstance(x, Monomials) else sympy.Integer(x)
                for x in (weigh(mt, conv.madds), weigh(pt, conv.param_weights)))
        layers.append((n.name, PRIMITIVES[n.kind].label(n.attrs, n.in_shapes), m, p, n))
    # one Add of all terms: adding layer by layer re-flattens the growing sum every time
    tm = sympy.expand(sympy.Add(*(layer[2] for layer in layers)))
    tp = sympy.expand(sympy.Add(*(layer[3] for layer in layers)))
    bm, bp = _base_totals(g, conv, spec)
    exact = tm.subs({alpha: 1, rho: 1}) == bm and tp.subs({alpha: 1, rho: 1}) == bp
    return Formula(spec.name, conv.name, layers, tm, tp, sorted(g.domain.approx), bool(exact),
                   spec.title, spec=spec, train=g.train)


def _base_totals(g, conv, spec):
    """analyze()'s totals at alpha = 1 and the base resolution, from the closed-form graph's
    own sizes there (each Sym's base: the builder computed them with the exact rules), so
    the check costs no second build: the cost rules on integers, as analyze runs them."""
    from .domains import ExactDomain, Sym

    def base(v):
        if isinstance(v, Sym):
            return v.base
        return tuple(base(x) for x in v) if isinstance(v, tuple) else v

    dom = ExactDomain(1, spec)
    tm = tp = 0
    for n in g.nodes:
        at_base = _NodeAt([base(s) for s in n.in_shapes], base(n.out_shape),
                          {k: base(v) for k, v in n.attrs.items()}, n.kind)
        m, p = layer_cost(at_base, dom, conv)[:2]
        tm, tp = tm + m, tp + p
    return tm, tp


class _NodeAt(NamedTuple):
    """A node's shapes and attributes at one point (what layer_cost reads)."""

    in_shapes: list
    out_shape: tuple
    attrs: dict
    kind: str


def _exact_closed_form(spec, conv, train):
    """closed_form(exact=True): the cost rules on the exact sizes (sympy expressions with
    floor, ceiling and make_divisible), summed without expanding them."""
    import sympy

    from .symbols import alpha, rho

    g = build_graph(spec, symbolic=True, exact=True, train=train)
    layers = []
    for n in g.nodes:
        m, p = (x if isinstance(x, sympy.Basic) else sympy.Integer(x)
                for x in layer_cost(n, g.domain, conv)[:2])
        layers.append((n.name, PRIMITIVES[n.kind].label(n.attrs, n.in_shapes), m, p, n))
    tm = sympy.Add(*(layer[2] for layer in layers))
    tp = sympy.Add(*(layer[3] for layer in layers))
    bm, bp = _base_totals(g, conv, spec)
    exact = tm.subs({alpha: 1, rho: 1}) == bm and tp.subs({alpha: 1, rho: 1}) == bp
    return Formula(spec.name, conv.name, layers, tm, tp, [], bool(exact), spec.title, "exact", spec,
                   g.train)


# The README's rows: what is counted, and the raw categories (layers.py) behind each row.
_POOLS = {k: [f"pool.{k}.{e}" for e in ("in", "out", "module.in", "module.out")]
          for k in ("global", "avg", "max")}
_POOLS["global"] += ["pool.global.method.in", "pool.global.method.out"]


def _act_cats(*fns):
    """An activation row's categories: module or functional calls, modules, tensor methods."""
    return [f"act.{f}{c}" for f in fns for c in ("", ".module", ".method")]


MADD_ROWS = [
    ("conv and FC weights (multiply-accumulates)", ["mac"]),
    ("conv and FC bias adds", ["bias"]),
    ("BatchNorm (inference)", ["bn"]),
    ("BatchNorm gamma, beta (once per layer)", ["bn.params"]),
    ("ReLU", _act_cats("relu")),
    ("ReLU6", _act_cats("relu6")),
    ("h-swish", _act_cats("hswish")),
    ("h-sigmoid", _act_cats("hsigmoid")),
    ("swish / SiLU", _act_cats("swish")),
    ("sigmoid", _act_cats("sigmoid")),
    ("tanh, softmax", _act_cats("tanh", "softmax")),
    ("GELU", _act_cats("gelu")),
    ("LayerNorm", ["ln", "ln.module"]),
    ("LayerNorm gamma, beta (once per layer)", ["ln.params"]),
    ("layer scale multiply", ["scale"]),
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
    ("LayerNorm gamma, beta", ["ln.affine", "ln.affine.functional"]),
    ("layer scale", ["scale"]),
    ("a train-only head's, in eval (held, not run)",
     [k for k in PARAM_CATEGORIES if k.startswith("idle.")]),
]


def _unit(cat, w):
    """How much one unit of a mult-add category costs, in words ('2/elem')."""
    if cat == "mac":
        return "1/MAC" if w == 1 else f"{w}/MAC"
    what = f"{cat.rsplit('.', 1)[1]} elem" if cat.startswith("pool.") else "elem"
    call = next((c for c in ("module", "method") if f".{c}." in cat + "."), None)
    return f"{w}/{what}" + (f" if a {call}" if call else "")


def _acts(acts):
    """How a convention counts activations, in words."""
    if acts is None:
        return "every output"
    kinds = sorted(acts, key=list(PRIMITIVES).index)
    w = set(acts.values())
    return (f"{w.pop()}x " if len(w) == 1 and 1 not in w else "") + "+".join(kinds) + " outputs"


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
        cells = ["yes" if any(c.param_weights.get(k) for k in cats) else "no" for c in convs]
        lines.append(f"| parameters: {title} | " + " | ".join(cells) + " |")
    lines.append("| activations (`--memory`'s `act_elems`) | " + " | ".join(
        _acts(c.acts) for c in convs) + " |")
    lines.append("")
    for c in convs:
        lines.append(f"- `{c.name}`: {c.summary}." + (f" {c.notes}" if c.notes else ""))
    return "\n".join(lines) + "\n"


def dwsep_ratios(formula):
    """[(name, ratio)] for each depthwise separable pair: its mult-adds over those of the
    standard conv it replaces, 1/N + 1/D_K^2 (MobileNets §3.1), N in alpha."""
    import sympy

    out = []
    dw_k = {n.name: hw(n.attrs.get("k")) for _, _, _, _, n in formula.layers if n.kind == "dw"}
    for name, op, m, p, node in formula.layers:
        if node.source_kind == "dwsep" and node.kind == "pw" and name.endswith(".pw"):
            kh, kw = dw_k[name[:-3] + ".dw"]
            out.append((name[:-3], 1 / node.out_shape[2].expr + sympy.Rational(1, kh * kw)))
    return out
