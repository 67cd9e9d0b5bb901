"""Design under a budget: check limits, fit alpha or resolution, sweep grids,
compare two networks, densify separable pairs, and a one-layer calculator.

Everything here returns plain dataclasses; rendering is in ``design_report``.

Fast exact grid. Under every convention a layer's cost is a product of a
channel part and a spatial part (MobileNets §3.3: D_K·D_K·αM·ρD_F·ρD_F +
αM·αN·ρD_F·ρD_F), and in a spec the channels depend only on alpha and the
spatial sizes only on the resolution. So ``GridEvaluator`` builds the graph
once per distinct resolution (at alpha = 1) and once more through a
``ChannelTape``, which records how every channel count follows from alpha
(scale and round, expand an actual count, add up). A point is then evaluated by
replaying the tape at its alpha (cached per alpha) and handing every counted
layer's cost rule those channels with the spatial sizes of its resolution: the
exact rounded integers, without rebuilding the graph per point. Replaying the
tape in ``Monomials`` instead gives the closed form (``fit``'s starting point).
"""

from __future__ import annotations

import operator
import os
from pathlib import Path
from dataclasses import dataclass, field, replace
from fractions import Fraction

from .cost import (CONVENTIONS, DEFAULT_CONVENTION, analyze, analyze_graph, get_convention,
                   parse_alpha, parse_rho, resolve_resolution, weigh)
from . import numbers
from .errors import BudgetFileError, LimitError, MbcostError, SpecError, UsageError, show
from .graph import (MAX_CHANNELS, MAX_RESOLUTION, MAX_WORK, Builder, ExactDomain, Graph, Node, Work,
                    build_graph, sharing_work, spatial_size)
from .layers import PRIMITIVES
from .spec import (NodeBudget, exists, key_line, line_of, load_spec, parse_yaml, read_text, sharing_nodes,
                   suggest)

QUANTITIES = ("madds", "params")
QUANTITY_LABELS = {"madds": "mult-adds", "params": "params"}
MAX_QUANTITY = 10**18
MAX_GRID_POINTS = 100_000
MAX_LIST_VALUES = 10_000
# a sweep or fit rebuilds the layers once per distinct resolution and replays their channels
# once per distinct alpha (each about 10-30 microseconds a layer), then sums the counted
# layers once per point (a fraction of a microsecond each): both are bounded
MAX_GRID_WORK = 400_000  # distinct resolutions x expansion steps + distinct alphas x layers
MAX_GRID_TERMS = 10_000_000  # points x counted layers
MAX_CHECKS = 1_000  # checks in one budget file (which, with its specs, shares one YAML node
# budget, spec.MAX_YAML_NODES, and one expansion budget, graph.MAX_WORK)
STANDARD_ALPHAS = tuple(Fraction(a) for a in ("1.4", "1.3", "1.0", "0.75", "0.5", "0.35", "0.25"))
STANDARD_RESOLUTIONS = (224, 192, 160, 128, 96)
DEFAULT_ALPHA_STEP = Fraction(1, 100)
DEFAULT_RES_STEP = 32
MAX_ALPHA = Fraction(64)


# ---------------------------------------------------------------- parsing

def parse_quantity(text, what="limit"):
    """A positive count from '150M', '2.5M', '1G', '64K' or '4200000' (exact, no floats;
    numbers.parse_quantity's grammar)."""
    return numbers.parse_quantity(text, what, MAX_QUANTITY)


def _number_range(text, what):
    """The values of START:STOP:STEP, stop included; their count is checked before any is made."""
    parts = text.split(":")
    if len(parts) != 3:
        raise UsageError(f"{what}: a range is START:STOP:STEP, e.g. 0.25:1:0.05 (got {show(text)})")
    start, stop, step = (_list_value(p, what) for p in parts)
    if step <= 0 or stop < start:
        raise UsageError(f"{what}: a range needs STEP > 0 and STOP >= START (got {show(text)})")
    count = (stop - start) // step + 1
    if count > MAX_LIST_VALUES:
        raise UsageError(f"{what}: more than {MAX_LIST_VALUES} values (got {show(text)})")
    return [start + i * step for i in range(int(count))]


def _list_value(item, what):
    """One number of a value list, a short decimal (numbers.parse_number's grammar)."""
    try:
        return numbers.parse_number(item, what, fraction=False)
    except UsageError:
        raise UsageError(f"{what}: not a number: {show(item.strip())}") from None


def parse_values(text, what="--alpha", integer=False):
    """Comma-separated values and START:STOP:STEP ranges (stop included), exact, in order,
    without repeats: '1,0.75,0.5' or '0.25:1:0.05' or '96:224:32'. At most MAX_LIST_VALUES
    values, counted before they are made; each value in numbers' grammar."""
    if not isinstance(text, str):
        raise UsageError(f"{what}: a list of values such as 1,0.75,0.5 (got {show(text)})")
    if text.count(",") >= MAX_LIST_VALUES:
        raise UsageError(f"{what}: more than {MAX_LIST_VALUES} values")
    out, seen = [], set()
    for item in text.split(","):
        item = item.strip()
        if not item:
            raise UsageError(f"{what}: empty value in {show(text)}")
        values = _number_range(item, what) if ":" in item else [_list_value(item, what)]
        for v in values:
            if integer and v.denominator != 1:
                raise UsageError(f"{what}: resolutions must be whole pixels (got {show(item)})")
            v = int(v) if integer else v
            if v not in seen:
                seen.add(v)
                out.append(v)
                if len(out) > MAX_LIST_VALUES:
                    raise UsageError(f"{what}: more than {MAX_LIST_VALUES} values")
    return out


# ---------------------------------------------------------------- fast exact grid

@dataclass(frozen=True)
class Point:
    """Exact totals of one spec at one (alpha, resolution)."""

    alpha: Fraction
    resolution: int
    madds: int
    params: int

    def value(self, quantity):
        """The total called quantity ('madds' or 'params')."""
        return getattr(self, quantity)


@dataclass(frozen=True, eq=False)
class _Traced:
    """A size while tracing: its value at alpha = 1 and its place on the channel tape
    (-1 for spatial sizes, which come from the per-resolution graphs instead)."""

    base: int
    index: int

    def __eq__(self, other):
        return isinstance(other, _Traced) and self.base == other.base

    def __hash__(self):
        return hash(self.base)


class ChannelTape:
    """A graph domain that records how every channel count follows from alpha (table
    value scaled and rounded, expansion of an actual count, sums, multiples), so the
    channels at any alpha are a replay of the tape rather than a rebuild of the graph."""

    symbolic = True

    def __init__(self, spec):
        self.spec = spec
        self.exact = ExactDomain(1, spec)
        self.tape = []

    def _record(self, base, op, *args):
        self.tape.append((op, args, base))
        return _Traced(base, len(self.tape) - 1)

    def fixed(self, n):
        """A constant size (image channels, a 1x1 after a global pool)."""
        return self._record(n, "const", n)

    def input_dim(self, n):
        """An input height or width: spatial, taken from the per-resolution graphs."""
        return _Traced(n, -1)

    def v(self, x):
        """The value a cost rule sees: the size at alpha = 1."""
        return x.base

    def base(self, x):
        """The size at alpha = 1 (shape checks)."""
        return x.base

    def div(self, x, n):
        """x / n where n divides x."""
        return x // n

    def scaled(self, c, mode):
        """A table channel count, scaled by alpha with the spec's rounding rule."""
        return self._record(self.exact.scaled(c, mode), "scaled", c, mode)

    def rel(self, c_in, ratio, rounding):
        """A count derived from an actual one (expansion, SE squeeze)."""
        return self._record(self.exact.rel(c_in.base, ratio, rounding), "rel", c_in.index, ratio,
                            rounding)

    def spatial(self, h, k, s, pad):
        """The output size of a windowed layer."""
        b = spatial_size(h.base, k, s, pad)
        # sizes downstream of the input scale with rho; after a global pool or an FC
        # (a constant 1x1) they stay constant
        return _Traced(b, -1) if h.index < 0 else self._record(b, "const", b)

    def mul_int(self, x, n):
        """x times a fixed integer (depthwise channel multiplier)."""
        return self._record(x.base * n, "mul", x.index, n)

    def sum(self, xs):
        """The sum of counts (concatenation)."""
        return self._record(sum(x.base for x in xs), "sum", tuple(x.index for x in xs))

    def replay(self, alpha):
        """Every recorded channel count at width alpha, exactly as ExactDomain rounds it."""
        dom = ExactDomain(alpha, self.spec)
        vals = []
        for op, args, _ in self.tape:
            if op == "const":
                vals.append(args[0])
            elif op == "scaled":
                vals.append(dom.scaled(*args))
            elif op == "rel":
                vals.append(dom.rel(vals[args[0]], args[1], args[2]))
            elif op == "mul":
                vals.append(vals[args[0]] * args[1])
            else:  # sum
                vals.append(sum(vals[i] for i in args[0]))
        return vals

    def replay_closed_form(self):
        """Every recorded channel count as a Monomials closed form: exact at alpha = 1 and
        scaled continuously (graph.SymbolicDomain's rules: table channels b -> b alpha, or
        b max(1, alpha) for scale: up; derived counts in proportion to their source)."""
        vals = []
        for op, args, base in self.tape:
            if op == "scaled" and args[1] is not False:
                vals.append(Monomials({(0, 0, 1) if args[1] == "up" else (1, 0, 0): Fraction(base)}))
            elif op == "rel":
                src = self.tape[args[0]][2]
                vals.append(vals[args[0]] * Fraction(base, src) if src else Monomials.const(base))
            elif op == "mul":
                vals.append(vals[args[0]] * args[1])
            elif op == "sum":
                vals.append(sum((vals[i] for i in args[0]), Monomials({})))
            else:  # const, unscaled table channels
                vals.append(Monomials.const(base))
        return vals


class GridEvaluator:
    """Exact totals at many (alpha, resolution) points: one graph per distinct resolution,
    one replay of the channel tape per distinct alpha, combined per point."""

    def __init__(self, spec, convention=DEFAULT_CONVENTION):
        self.spec = load_spec(spec)
        self.conv = get_convention(convention)
        self._chan, self._spat, self._points = {}, {}, {}
        self._svec, self._cvec = {}, {}
        self._tape = ChannelTape(self.spec)
        builder = Builder(self.spec, self._tape)
        g = builder.build(self.spec.input)
        # what a new resolution costs (a rebuild: its expansion steps) and a new alpha (a
        # replay of the channel tape and the counted layers), in steps of MAX_GRID_WORK
        self.layers, self.work = len(g.nodes), 0
        self.build_cost = max(1, self.layers, builder.work.used)
        self.replay_cost = max(1, len(self._tape.tape), len(g.nodes))
        self._nodes = [n for n in g.nodes if _counts(
            PRIMITIVES[n.kind].cost(self._tape, n.in_shapes, n.out_shape, n.attrs), self.conv)]
        # the validity rules the builder recorded on channel sizes (groups divide, merged
        # channels equal), checked again at every alpha; spatial rules are checked by the
        # per-resolution builds
        self._checks = [c for n in g.nodes for c in n.checks
                        if all(s.index >= 0 for s in c.sizes)]
        # residual adds appear only where shapes match, which can differ between the traced
        # and the per-resolution graphs; they are free unless a convention counts 'add'
        self.exact_only = bool(self.conv.madds.get("add"))

    def closed_form(self):
        """{'madds': Monomials, 'params': Monomials}: the totals in closed form (exact at
        alpha = rho = 1, continuous elsewhere; equal to ``mbcost.closed_form``'s)."""
        vals = self._tape.replay_closed_form()

        def size(x):
            return Monomials({(0, 1, 0): Fraction(x.base)}) if x.index < 0 else vals[x.index]

        tm, tp = Monomials({}), Monomials({})
        for n in self._nodes:
            ins = [tuple(size(x) for x in shape) for shape in n.in_shapes]
            mt, pt = PRIMITIVES[n.kind].cost(_MONOMIAL, ins, tuple(size(x) for x in n.out_shape), n.attrs)
            tm, tp = tm + weigh(mt, self.conv.madds), tp + weigh(pt, self.conv.params)
        return {"madds": tm, "params": tp}

    def charge(self, resolutions=0, alphas=0, ahead=False):
        """Count the work of new resolutions (a rebuild each) and new alphas (a replay each)
        against MAX_GRID_WORK; ahead: only check that so many more would fit."""
        work = self.work + resolutions * self.build_cost + alphas * self.replay_cost
        if not ahead:
            self.work = work
        if work > MAX_GRID_WORK:
            raise LimitError(f"needs more than {MAX_GRID_WORK} steps ({self.build_cost} for each "
                             f"resolution, {self.replay_cost} for each alpha); ask for fewer values",
                             path=self.spec.path)

    def _channels(self, alpha):
        if alpha not in self._chan:
            self.charge(alphas=1)
            self._chan[alpha] = self._tape.replay(alpha)
        return self._chan[alpha]

    def _spatial(self, res):
        if res not in self._spat:
            self.charge(resolutions=1)
            g = build_graph(self.spec, 1, res)
            self._spat[res] = {n.name: n for n in g.nodes}
        return self._spat[res]

    def point(self, alpha, resolution):
        """Exact (madds, params) at alpha and resolution as a Point."""
        a = parse_alpha(alpha)
        res = resolve_resolution(self.spec, resolution)
        key = (a, res)
        if key not in self._points:
            self._points[key] = self._combine(a, res) if not self.exact_only else None
            if self._points[key] is None:
                self.charge(resolutions=1)  # a whole build, as a new resolution
                full = analyze(self.spec, a, res, convention=self.conv)
                self._points[key] = Point(a, res, full.madds, full.params)
        return self._points[key]

    def _combine(self, a, res):
        # every cost term is a product of sizes, so it factors into a spatial part (from the
        # resolution) times a channel part (from alpha): a point is one dot product per measure
        svec, cvec = self._spatial_vector(res), self._channel_vector(a)
        if svec is None or cvec is None:
            return None
        (sm, sp), (cm, cp) = svec, cvec
        return Point(a, res, sum(map(operator.mul, sm, cm)), sum(map(operator.mul, sp, cp)))

    def _terms(self, n, ins, out):
        """The weighted (madds, params) terms of node n as _Pair lists, in a fixed order."""
        mt, pt = PRIMITIVES[n.kind].cost(_PAIRS, ins, out, n.attrs)
        cw, pw = self.conv.madds, self.conv.params
        return ([_Pair.of(v) * cw[c] for c, v in mt.items() if cw.get(c)],
                [_Pair.of(v) * pw[c] for c, v in pt.items() if pw.get(c)])

    def _spatial_vector(self, res):
        """Spatial factors of every term at res, or None if the structure differs there."""
        if res not in self._svec:
            spat, sm, sp = self._spatial(res), [], []
            for n in self._nodes:
                s = spat.get(n.name)
                if s is None or s.kind != n.kind:
                    sm = None  # structure differs: evaluate these points the slow, exact way
                    break
                ins = [(_Pair(si[0], 1), _Pair(si[1], 1), _Pair(1, 1)) for si in s.in_shapes]
                out = (_Pair(s.out_shape[0], 1), _Pair(s.out_shape[1], 1), _Pair(1, 1))
                m, p = self._terms(n, ins, out)
                sm += [t.s for t in m]
                sp += [t.s for t in p]
            self._svec[res] = None if sm is None else (sm, sp)
        return self._svec[res]

    def _channel_vector(self, a):
        """Channel factors of every term at alpha, or None if the real build would differ."""
        if a not in self._cvec:
            ch = self._channels(a)
            self._cvec[a] = None
            if max(ch, default=0) > MAX_CHANNELS:
                return None  # the real build refuses it: let analyze() say why
            value = (lambda s: ch[s.index])
            if not all(c.holds(value) for c in self._checks):
                return None  # the real build refuses this alpha (or has no residual there)
            cm, cp = [], []
            for n in self._nodes:
                ins = [(_Pair(1, 1), _Pair(1, 1), _Pair(1, ch[ci[2].index])) for ci in n.in_shapes]
                out = (_Pair(1, 1), _Pair(1, 1), _Pair(1, ch[n.out_shape[2].index]))
                m, p = self._terms(n, ins, out)
                cm += [t.c for t in m]
                cp += [t.c for t in p]
            self._cvec[a] = (cm, cp)
        return self._cvec[a]


class _Pair:
    """A cost factor kept as (spatial part, channel part); products multiply both."""

    __slots__ = ("s", "c")

    def __init__(self, s, c):
        self.s, self.c = s, c

    @staticmethod
    def of(v):
        """A plain integer (a constant term) as a pair."""
        return v if isinstance(v, _Pair) else _Pair(v, 1)

    def __mul__(self, other):
        if isinstance(other, _Pair):
            return _Pair(self.s * other.s, self.c * other.c)
        return _Pair(self.s * other, self.c)

    __rmul__ = __mul__


class _PairDomain:
    """The domain the cost rules see when a grid factors them (see GridEvaluator._combine)."""

    @staticmethod
    def v(x):
        return x

    @staticmethod
    def div(x, n):
        # groups divide the channel count (checked per alpha); the spatial part never divides
        return _Pair(x.s, x.c // n) if isinstance(x, _Pair) else x // n


_PAIRS = _PairDomain()


@dataclass
class Sweep:
    """Exact totals over a grid of widths and resolutions."""

    model: str
    title: str
    convention: str
    alphas: list
    resolutions: list
    points: list  # Point, alpha-major
    _index: dict = field(default_factory=dict, repr=False, compare=False)

    def at(self, alpha, resolution):
        """The Point at (alpha, resolution)."""
        if len(self._index) != len(self.points):
            self._index = {(p.alpha, p.resolution): p for p in self.points}
        return self._index[(numbers.parse_number(alpha, "alpha"), resolution)]


def sweep(spec, alphas, resolutions, convention=DEFAULT_CONVENTION, rhos=None):
    """Every (alpha, resolution) combination, exact, via the fast grid; with rhos instead
    of resolutions, each resolution is round(rho x the spec's)."""
    for what, values in (("alphas", alphas), ("resolutions", resolutions), ("rhos", rhos)):
        if (values is not None or what == "alphas") and (not isinstance(values, (list, tuple, range))
                                   or len(values) > MAX_LIST_VALUES):
            raise UsageError(f"{what} must be a list of at most {MAX_LIST_VALUES} values "
                             f"(got {show(values)})")
    ev = GridEvaluator(spec, convention)
    alphas = [parse_alpha(a) for a in alphas]
    if rhos is not None:
        if resolutions is not None:
            raise UsageError("give either resolutions or rhos, not both")
        resolutions = list(dict.fromkeys(resolve_resolution(ev.spec, None, r) for r in rhos))
    resolutions = [resolve_resolution(ev.spec, r) for r in resolutions or ()]
    if not alphas or not resolutions:
        raise UsageError("a sweep needs at least one alpha and one resolution")
    if len(alphas) * len(resolutions) > MAX_GRID_POINTS:
        raise UsageError(f"the grid has {len(alphas) * len(resolutions)} points; the limit is "
                         f"{MAX_GRID_POINTS}")
    ev.charge(len(resolutions), len(alphas), ahead=True)  # known up front: refuse before working
    if len(alphas) * len(resolutions) * len(ev._nodes) > MAX_GRID_TERMS:
        raise LimitError(f"needs more than {MAX_GRID_TERMS} terms (points x {len(ev._nodes)} "
                         "counted layers); ask for fewer values", path=ev.spec.path)
    points = [ev.point(a, r) for a in alphas for r in resolutions]
    return Sweep(ev.spec.name, ev.spec.title, ev.conv.name, alphas, resolutions, points)


# ---------------------------------------------------------------- check

@dataclass
class LimitCheck:
    """One limit against one value: headroom > 0 is room left, < 0 is the excess."""

    quantity: str
    limit: int
    value: int

    @property
    def ok(self):
        """Within the limit (equal is within)."""
        return self.value <= self.limit

    @property
    def headroom(self):
        """limit - value."""
        return self.limit - self.value

    @property
    def headroom_pct(self):
        """Headroom as a percentage of the limit."""
        return 100.0 * self.headroom / self.limit


@dataclass
class Contributor:
    """A layer among those contributing most to a quantity."""

    name: str
    op: str
    value: int
    share: float


@dataclass
class BudgetResult:
    """A spec at one setting checked against its limits."""

    model: str
    title: str
    spec_path: str
    alpha: Fraction
    resolution: int
    input: tuple
    convention: str
    checks: list  # LimitCheck
    top: dict  # quantity -> [Contributor]

    @property
    def ok(self):
        """Every limit met."""
        return all(c.ok for c in self.checks)


def check_budget(spec, limits, alpha=1, resolution=None, rho=None,
                 convention=DEFAULT_CONVENTION, top=3):
    """Check spec at (alpha, resolution) against limits {'madds': n, 'params': n}.

    Over budget is a result (``BudgetResult.ok`` false), not an exception."""
    limits = _limits(limits)
    a = analyze(spec, alpha=alpha, resolution=resolution, rho=rho, convention=convention)
    checks = [LimitCheck(q, limits[q], getattr(a, q)) for q in QUANTITIES if q in limits]
    contrib = {}
    for c in checks:
        total = getattr(a, c.quantity)
        rows = sorted((r for r in a.rows if getattr(r, c.quantity)),
                      key=lambda r: -getattr(r, c.quantity))[:max(0, top)]
        contrib[c.quantity] = [Contributor(r.name, r.op, getattr(r, c.quantity),
                                           100.0 * getattr(r, c.quantity) / total if total else 0.0)
                               for r in rows]
    shown = spec if isinstance(spec, str) else str(a.spec_path)  # as the user named it
    return BudgetResult(a.model, a.title, shown, a.alpha_exact, a.resolution, a.input,
                        a.convention, checks, contrib)


def _limits(limits):
    if limits is not None and not isinstance(limits, dict):
        raise UsageError(f"limits are a mapping like {{'madds': '150M'}} (got {show(limits)})")
    out = {}
    for q, v in (limits or {}).items():
        if q not in QUANTITIES:
            raise UsageError(f"unknown limit {show(q)}; one of {', '.join(QUANTITIES)}")
        if v is not None:
            out[q] = parse_quantity(v, f"--max-{q}")
    if not out:
        raise UsageError("give at least one limit (--max-madds or --max-params)")
    return out


# ---------------------------------------------------------------- budget files

BUDGET_KEYS = ("spec", "alpha", "res", "resolution", "rho", "convention", "max_madds",
               "max_params")


@dataclass
class BudgetEntry:
    """One spec and setting with its limits, from a budget file."""

    spec: str
    alpha: object
    resolution: int | None
    rho: object
    convention: str
    limits: dict
    line: int | None = None
    spec_line: int | None = None


def load_budget(path):
    """Parse a budget file into BudgetEntry objects; errors carry FILE:LINE.

    Format::

        convention: paper          # optional default for every check
        checks:
          - spec: mobilenet_v1     # bundled name, or a path relative to this file
            alpha: 0.5
            res: 160
            max_madds: 150M
            max_params: 2M
    """
    if not isinstance(path, (str, os.PathLike)):
        raise UsageError(f"a budget file is a path (got {show(path)})")
    shown = os.fspath(path)
    try:
        text = read_text(path)
        data = parse_yaml(text, shown)
    except SpecError as e:
        raise BudgetFileError(e.message, path=e.path or shown, line=e.line, got=e.got) from None
    if not isinstance(data, dict) or "checks" not in data:
        raise BudgetFileError("a budget file is a mapping with a 'checks' list", path=shown,
                              line=line_of(data))
    for k in data:
        if k not in ("checks", "convention", "mbcost"):
            raise BudgetFileError(f"unknown top-level field{suggest(k, ('checks', 'convention'))}",
                                  path=shown, line=line_of(data, k), field=str(k))
    default_conv = data.get("convention", DEFAULT_CONVENTION)
    _budget_convention(default_conv, shown, line_of(data, "convention"))
    checks = data["checks"]
    if not isinstance(checks, list) or not checks:
        raise BudgetFileError("must be a non-empty list of checks", path=shown,
                              line=line_of(data, "checks"), field="checks")
    if len(checks) > MAX_CHECKS:
        raise LimitError(f"more than {MAX_CHECKS} checks", path=shown, line=key_line(data, "checks"),
                         field="checks")
    out = []
    for i, item in enumerate(checks):
        line = line_of(checks, i)
        if not isinstance(item, dict):
            raise BudgetFileError("a check is a mapping like {spec: mobilenet_v1, max_madds: 150M}",
                                  path=shown, line=line, got=item)
        raw = checks[i]
        item = {}
        for k, v in raw.items():
            key = str(k).replace("-", "_")
            if key in item:
                raise BudgetFileError(f"'{k}' repeats another spelling of '{key}'", path=shown,
                                      line=line_of(raw, k), field=str(k))
            item[key] = v

        def where(key):
            for k in raw:
                if str(k).replace("-", "_") == key:
                    return line_of(raw, k)
            return line

        for k in item:
            if k not in BUDGET_KEYS:
                raise BudgetFileError(f"unknown field{suggest(k, BUDGET_KEYS)}", path=shown,
                                      line=where(k), field=k)
        spec = item.get("spec")
        if not isinstance(spec, str) or not spec:
            raise BudgetFileError("each check needs 'spec': a bundled name or a path", path=shown,
                                  line=where("spec"), field="spec", got=spec)
        if "\0" in spec or len(spec) > 4096:
            raise BudgetFileError("not a usable spec name or path", path=shown, line=where("spec"),
                                  field="spec", got=spec)
        sibling = Path(shown).parent / spec
        if not Path(spec).is_absolute() and exists(sibling):
            spec = str(sibling)
        limits = {}
        for q in QUANTITIES:
            key = f"max_{q}"
            if key in item:
                try:
                    limits[q] = parse_quantity(item[key], key)
                except UsageError as e:
                    raise BudgetFileError(str(e).split(": ", 1)[1], path=shown, line=where(key),
                                          field=key) from None
        if not limits:
            raise BudgetFileError("each check needs max_madds and/or max_params", path=shown,
                                  line=line, field="max_madds")
        if "res" in item and "resolution" in item:
            raise BudgetFileError("give res or resolution, not both", path=shown,
                                  line=where("resolution"), field="resolution")
        res = item.get("res", item.get("resolution"))
        if res is not None and (isinstance(res, bool) or not isinstance(res, int) or res < 1):
            key = "res" if "res" in item else "resolution"
            raise BudgetFileError("must be a positive integer", path=shown, line=where(key),
                                  field=key, got=res)
        conv = item.get("convention", default_conv)
        _budget_convention(conv, shown, where("convention"))
        try:
            alpha = parse_alpha(item.get("alpha", 1))
            rho = parse_rho(item["rho"]) if item.get("rho") is not None else None
        except UsageError as e:
            key = "alpha" if str(e).startswith("alpha") else "rho"
            raise BudgetFileError(str(e), path=shown, line=where(key), field=key) from None
        out.append(BudgetEntry(spec, alpha, res, rho, conv, limits, line, where("spec")))
    return out


def _budget_convention(name, path, line):
    if not isinstance(name, str) or name not in CONVENTIONS:
        raise BudgetFileError(f"unknown convention; one of {', '.join(CONVENTIONS)}", path=path,
                              line=line, field="convention", got=name)


def check_budget_file(path, top=3):
    """Check every entry of a budget file; a list of BudgetResult.

    The budget file and every spec it names draw from one YAML node budget and one
    expansion budget (spec.MAX_YAML_NODES, graph.MAX_WORK: what one spec may use), so
    a thousand aliases of a large check end early; each spec is read once. A spec path
    must be a regular file, and one that is not a spec is not shown (spec.load_spec)."""
    nodes = NodeBudget()
    with sharing_nodes(nodes):
        entries = load_budget(path)
    work = Work(MAX_WORK, f"the checks need more than {MAX_WORK} steps to expand in total "
                          "(layers, expression terms, repeats, branches, merge inputs, copied values)")
    results, specs = [], {}
    with sharing_nodes(nodes), sharing_work(work):
        for e in entries:
            try:
                if e.spec not in specs:
                    specs[e.spec] = load_spec(e.spec, _named_by_a_file=True)
                results.append(check_budget(specs[e.spec], e.limits, e.alpha, e.resolution, e.rho,
                                            e.convention, top))
                results[-1].spec_path = e.spec  # as the budget file names it
            except UsageError as err:
                raise BudgetFileError(str(err), path=str(path), line=e.line) from None
            except SpecError as err:
                if work.used > work.limit:
                    raise BudgetFileError(work.what, path=str(path), line=e.line) from None
                if str(err.path) not in (e.spec, str(Path(e.spec))) or err.line is not None:
                    raise  # an error inside the spec file: it names that file and line
                raise BudgetFileError(err.message, path=str(path), line=e.spec_line, field="spec",
                                      got=e.spec) from None
    return results


# ---------------------------------------------------------------- fit

@dataclass
class FitResult:
    """The largest alpha (or resolution) within every limit, or the Pareto frontier."""

    model: str
    title: str
    convention: str
    mode: str  # 'alpha', 'resolution' or 'pareto'
    limits: dict
    point: Point | None  # the answer (None: nothing fits)
    next_up: Point | None  # one step up, over budget (None: at the top of the range)
    step: object
    estimate: float | None  # the closed-form solution the search started from
    frontier: list = field(default_factory=list)  # pareto mode: Points

    @property
    def ok(self):
        """Something fits the budget."""
        return self.point is not None or bool(self.frontier)

    def checks(self, point=None):
        """LimitChecks of point (default: the answer)."""
        p = point or self.point
        return [LimitCheck(q, self.limits[q], p.value(q)) for q in QUANTITIES if q in self.limits]


def _within(point, limits):
    return all(point.value(q) <= v for q, v in limits.items())


def _counts(terms, conv):
    mt, pt = terms
    return any(conv.madds.get(c) for c in mt) or any(conv.params.get(c) for c in pt)


class Monomials:
    """A polynomial in alpha, rho and m = Max(1, alpha) as {(i, j, u): coefficient}:
    the closed forms' own arithmetic (+, *, / by an integer), cheaper than sympy's."""

    __slots__ = ("terms",)

    def __init__(self, terms):
        self.terms = {k: v for k, v in terms.items() if v}

    @classmethod
    def const(cls, c):
        """The constant c."""
        return cls({(0, 0, 0): Fraction(c)})

    def _coerce(self, other):
        return other if isinstance(other, Monomials) else Monomials.const(other)

    def __add__(self, other):
        out = dict(self.terms)
        for k, v in self._coerce(other).terms.items():
            out[k] = out.get(k, 0) + v
        return Monomials(out)

    __radd__ = __add__

    def __mul__(self, other):
        if not isinstance(other, Monomials):
            return Monomials({k: v * other for k, v in self.terms.items()})
        out = {}
        for (i, j, u), v in self.terms.items():
            for (i2, j2, u2), v2 in self._coerce(other).terms.items():
                k = (i + i2, j + j2, u + u2)
                out[k] = out.get(k, 0) + v * v2
        return Monomials(out)

    __rmul__ = __mul__

    def __truediv__(self, n):
        return Monomials({k: v / Fraction(n) for k, v in self.terms.items()})

    def at(self, alpha=None, rho=None):
        """{power: coefficient} in the one variable left free after fixing the other."""
        out = {}
        for (i, j, u), v in self.terms.items():
            if alpha is not None:  # a polynomial in rho
                k, v = j, v * Fraction(alpha) ** i * max(Fraction(1), Fraction(alpha)) ** u
            else:  # in alpha, for alpha <= 1 (m = 1) as key (power, 0) and >= 1 (m = alpha) as (power, 1)
                k, v = None, v * Fraction(rho) ** j
                out[(i, 0)] = out.get((i, 0), 0) + v
                out[(i + u, 1)] = out.get((i + u, 1), 0) + v
                continue
            out[k] = out.get(k, 0) + v
        return out

    def to_sympy(self):
        """The polynomial as a sympy expression in alpha and rho."""
        import sympy

        from .symbols import alpha, rho

        m = sympy.Max(1, alpha)
        return sympy.Add(*[sympy.Rational(v.numerator, v.denominator) * alpha**i * rho**j * m**u
                           for (i, j, u), v in sorted(self.terms.items())])


class _MonomialView:
    """The domain interface cost rules need, over Monomials."""

    def v(self, x):
        """The closed form itself."""
        return x

    def div(self, x, n):
        """x / n, continuous."""
        return x / n


_MONOMIAL = _MonomialView()


def closed_form_polys(spec, convention=DEFAULT_CONVENTION):
    """{'madds': Monomials, 'params': Monomials}: the closed-form totals of spec."""
    return GridEvaluator(spec, convention).closed_form()


def closed_form_totals(spec, convention=DEFAULT_CONVENTION):
    """{'madds': expr, 'params': expr}: the closed-form totals as sympy expressions."""
    return {q: f.to_sympy() for q, f in closed_form_polys(spec, convention).items()}


def _positive_root(coeffs, target, lo=0, hi=None):
    """The smallest real root in (lo, hi] of sum(c x^k) = target, by sympy's nroots."""
    import sympy

    degree = max(coeffs, default=0)
    if degree == 0:
        return None
    x = sympy.Symbol("x")
    rep = [sympy.Rational(0)] * (degree + 1)
    for k, c in coeffs.items():
        rep[degree - k] += sympy.Rational(c.numerator, c.denominator)
    rep[degree] -= target
    from mpmath.libmp.libhyper import NoConvergence  # what Poly.nroots raises (sympy polytools)

    try:
        roots = [complex(r) for r in sympy.Poly.from_list(rep, x).nroots()]
    except (NoConvergence, sympy.polys.polyerrors.PolynomialError):
        return None  # the exact search then starts from the top of the range
    real = sorted(r.real for r in roots if abs(r.imag) < 1e-9 and lo < r.real
                  and (hi is None or r.real <= hi))
    return real[0] if real else None


def _closed_form_estimate(ev, limits, mode, fixed):
    """The continuous solution of the closed forms: alpha (or resolution) at the limit."""
    spec = ev.spec
    forms = ev.closed_form()
    base = spec.input[0]
    best = None
    for q, limit in limits.items():
        if mode == "alpha":
            c = forms[q].at(rho=Fraction(fixed, base))
            below = {k: v for (k, hi), v in c.items() if hi == 0}  # Max(1, alpha) = 1
            above = {k: v for (k, hi), v in c.items() if hi == 1}  # Max(1, alpha) = alpha
            x = _positive_root(below, limit, 0, 1)
            x = x if x is not None else _positive_root(above, limit, 1 - 1e-9)
        else:
            x = _positive_root(forms[q].at(alpha=fixed), limit)
            x = None if x is None else x * base
        if x is not None:
            best = x if best is None else min(best, x)
    return best


def fit(spec, limits, alpha=None, resolution=None, convention=DEFAULT_CONVENTION,
        alpha_step=DEFAULT_ALPHA_STEP, res_step=DEFAULT_RES_STEP, rho=None):
    """Largest alpha (resolution fixed) or resolution (alpha fixed) meeting every limit.

    The closed form gives the starting point; a galloping then bisecting search on
    the exact counts (channel rounding and ceil make them a step function) ends at a
    multiple of the step that meets the budget while the next step up does not.
    With neither fixed: the Pareto frontier of the standard grid within budget.
    rho fixes the resolution as round(rho x the spec's), like resolution."""
    ev = GridEvaluator(spec, convention)
    spec = ev.spec
    limits = _limits(limits)
    if rho is not None:
        resolution = resolve_resolution(spec, resolution, rho)
    if alpha is not None and resolution is not None:
        raise UsageError("fix either --alpha or --res/--rho (the other is fitted), not both")
    if alpha is None and resolution is None:
        return _pareto(ev, limits)
    if resolution is not None:
        mode, fixed = "alpha", resolve_resolution(spec, resolution)
        try:
            step = parse_alpha(alpha_step)
        except UsageError:
            raise UsageError(f"alpha step must be a number in (0, 64], got {show(alpha_step)}") from None
        kmax = int(MAX_ALPHA / step)

        def at(k):
            return ev.point(k * step, fixed)
    else:
        mode, fixed = "resolution", parse_alpha(alpha)
        step = res_step
        if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= MAX_RESOLUTION:
            raise UsageError(f"resolution step must be an integer in 1..{MAX_RESOLUTION}, got {show(step)}")
        kmax = MAX_RESOLUTION // step

        def at(k):
            return ev.point(fixed, k * step)

    def ok(k):
        try:
            return _within(at(k), limits)
        except LimitError:
            raise  # the search itself is too long: an answer without it would be wrong
        except SpecError:
            return False  # e.g. a resolution so small that a feature map vanishes

    est = _closed_form_estimate(ev, limits, mode, fixed)
    k0 = min(kmax, max(1, int(Fraction(est) / step))) if est is not None else kmax
    lo, hi = _bracket(ok, k0, kmax)
    result = dict(model=spec.name, title=spec.title, convention=ev.conv.name, mode=mode,
                  limits=limits, step=step, estimate=est)
    if lo is None:
        return FitResult(point=None, next_up=_safe(at, 1), **result)
    while hi is not None and hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return FitResult(point=at(lo), next_up=_safe(at, hi) if hi is not None else None, **result)


def _safe(at, k):
    try:
        return at(k)
    except LimitError:
        raise
    except MbcostError:
        return None


def _bracket(ok, k0, kmax):
    """(lo, hi) with ok(lo) and not ok(hi) (hi None: lo is kmax); lo None: not even k = 1."""
    if ok(k0):
        lo, d = k0, 1
        while True:
            hi = min(kmax, lo + d)
            if hi == lo:
                return lo, None
            if not ok(hi):
                return lo, hi
            lo, d = hi, d * 2
    hi, d = k0, 1
    while True:
        lo = max(1, hi - d)
        if ok(lo):
            return lo, hi
        if lo == 1:
            return None, 1
        hi, d = lo, d * 2


def _pareto(ev, limits):
    spec = ev.spec
    pts = [ev.point(a, r) for a in STANDARD_ALPHAS for r in STANDARD_RESOLUTIONS]
    fits = [p for p in pts if _within(p, limits)]
    front = [p for p in fits
             if not any(q is not p and q.alpha >= p.alpha and q.resolution >= p.resolution
                        for q in fits)]
    front.sort(key=lambda p: (-p.madds, -p.params, -p.alpha))
    return FitResult(spec.name, spec.title, ev.conv.name, "pareto", limits, None, None, None,
                     None, front)


# ---------------------------------------------------------------- densify and compare

_SKIPPABLE = ("bn", "act")


def densify(graph):
    """(graph, merged): every depthwise (multiplier 1) followed by a pointwise conv on its
    output (only BN/activations between, nothing else reading them) replaced by the
    standard conv of the same kernel, stride, input and output (MobileNets Table 4).

    merged maps each removed node name to the new conv's name."""
    nodes = graph.nodes
    # a node's output tensor is its index + 1 (tensor 0 is the network input; graph.Builder)
    readers = {}
    for n in nodes:
        for t in n.inputs:
            readers[t] = readers.get(t, 0) + 1
    out, merged, i = [], {}, 0
    while i < len(nodes):
        n = nodes[i]
        j = i + 1
        if n.kind == "dw" and n.attrs.get("multiplier", 1) == 1:
            while j < len(nodes) and nodes[j].kind in _SKIPPABLE and nodes[j].inputs == [j]:
                j += 1
            pw = nodes[j] if j < len(nodes) else None
            chain_private = all(readers.get(t, 0) == 1 for t in range(i + 1, j + 1))
            if (pw is not None and pw.kind == "pw" and pw.attrs["groups"] == 1
                    and pw.inputs == [j] and chain_private):
                name = _pair_name(n.name, pw.name)
                attrs = {"k": n.attrs["k"], "stride": n.attrs["stride"],
                         "padding": n.attrs["padding"], "bias": pw.attrs["bias"], "groups": 1,
                         "depthwise": False, "c_out": pw.attrs["c_out"]}
                out.append(Node(name, "conv", attrs, list(n.inputs), list(n.in_shapes),
                                pw.out_shape, n.path, n.line, "dense"))
                for m in nodes[i:j + 1]:
                    merged[m.name] = name
                i = j + 1
                continue
        out.append(n)
        i += 1
    return Graph(graph.spec, out, graph.input_shape, graph.domain), merged


def _pair_name(dw, pw):
    if dw.endswith(".dw") and pw.endswith(".pw") and dw[:-3] == pw[:-3]:
        return dw[:-3]
    return f"{dw}+{pw}"


def dense_analysis(spec, alpha=1, resolution=None, rho=None, convention=DEFAULT_CONVENTION):
    """(Analysis, merged) of spec with every separable pair made a standard conv."""
    spec = load_spec(spec)
    a = parse_alpha(alpha)
    res = resolve_resolution(spec, resolution, rho)
    g, merged = densify(build_graph(spec, a, res))
    an = analyze_graph(spec, g, a, res, convention)
    return replace(an, title=f"{an.title}, dense (separable pairs as standard convs)"), merged


@dataclass
class CompareRow:
    """One layer (or merged pair, or layer type) on both sides; None where a side lacks it."""

    name: str
    op_a: str | None
    op_b: str | None
    madds_a: int | None
    madds_b: int | None
    params_a: int | None
    params_b: int | None
    theory: Fraction | None = None  # dense: 1/N + 1/D_K^2 (MobileNets §3.1)
    layers_a: int = 0  # how many of A's layers the row holds
    layers_b: int = 0


@dataclass
class Comparison:
    """Per-layer (or per-type) and total differences between two analyses (B relative to A)."""

    a: object
    b: object
    rows: list
    dense: bool = False
    by: str = "layer"  # "layer": rows matched by name; "kind": by layer type (the names differ)


def names_line_up(a, b):
    """Whether a and b can be compared layer by layer: at least half of the smaller side's
    costed layer names are also on the other side (v1 vs v1_shallow yes, v1 vs v2 no)."""
    na = {r.name for r in a.rows if r.madds or r.params}
    nb = {r.name for r in b.rows if r.madds or r.params}
    return 2 * len(na & nb) >= min(len(na), len(nb))


def compare(a, b, merged=None, by=None):
    """Align the rows of analyses a and b by layer name (a's rows renamed by merged), or,
    with by="kind" (the default when the names do not line up), by layer type."""
    merged = merged or {}
    if by is None:
        by = "layer" if merged or names_line_up(a, b) else "kind"
    if by not in ("layer", "kind"):
        raise UsageError(f"compare by 'layer' or 'kind', got {by!r}")
    groups, order = {}, []

    def add(row, side):
        if by == "kind":
            key = row.op
        else:
            key = merged.get(row.name, row.name) if side == "a" else row.name
        if not (row.madds or row.params):
            return
        if key not in groups:
            groups[key] = {"a": [], "b": []}
            order.append(key)
        groups[key][side].append(row)

    for r in a.rows:
        add(r, "a")
    for r in b.rows:
        add(r, "b")
    rows = []
    for key in order:
        ga, gb = groups[key]["a"], groups[key]["b"]
        theory = None
        if merged and len(ga) == 2 and len(gb) == 1 and gb[0].source_kind == "dense":
            n_out, k = gb[0].output[2], gb[0].k
            theory = Fraction(1, n_out) + Fraction(1, k * k)
        if by == "kind":
            ops = (key if ga else None, key if gb else None)
        else:
            ops = (" + ".join(r.op for r in ga) or None, " + ".join(r.op for r in gb) or None)
        rows.append(CompareRow(
            key, *ops,
            sum(r.madds for r in ga) if ga else None, sum(r.madds for r in gb) if gb else None,
            sum(r.params for r in ga) if ga else None, sum(r.params for r in gb) if gb else None,
            theory, len(ga), len(gb)))
    if by == "kind":  # largest first, as `table --by kind`
        rows.sort(key=lambda r: (-max(r.madds_a or 0, r.madds_b or 0),
                                 -max(r.params_a or 0, r.params_b or 0), r.name))
    return Comparison(a, b, rows, dense=bool(merged), by=by)


# ---------------------------------------------------------------- one layer

@dataclass
class LayerStep:
    """One row of the one-layer calculator (MobileNets Table 3 rows are cumulative)."""

    label: str
    m: int
    n: int
    size: int
    madds: int
    params: int


@dataclass
class LayerCalc:
    """A standard conv and its depthwise separable replacement, then alpha and rho."""

    k: int
    c_in: int
    c_out: int
    size: int
    alpha: Fraction | None
    rho: Fraction | None
    steps: list
    ratio: Fraction  # separable / standard at the final setting = 1/N + 1/D_K^2

    def formulas(self):
        """[(name, sympy expression)] of the costs in the paper's notation."""
        import sympy

        dk, m, n, df, a, r = sympy.symbols("D_K M N D_F alpha rho", positive=True)
        return [
            ("standard mult-adds", dk**2 * m * n * df**2),
            ("separable mult-adds", dk**2 * m * df**2 + m * n * df**2),
            ("ratio", sympy.cancel((dk**2 * m * df**2 + m * n * df**2) / (dk**2 * m * n * df**2))),
            ("with alpha, rho", dk**2 * a * m * (r * df)**2 + a * m * a * n * (r * df)**2),
            ("standard params", dk**2 * m * n),
            ("separable params", dk**2 * m + m * n),
        ]


def layer_calc(k, c_in, c_out, size, alpha=None, rho=None):
    """Standard vs depthwise separable cost of one layer (MobileNets §3.1, Table 3).

    size is D_F, the output feature map; alpha scales M and N (truncated, as in
    TF-slim), rho scales D_F (rounded half up: rho 0.714 of 14 is 10)."""
    for what, v in (("--k", k), ("--in", c_in), ("--out", c_out), ("--size", size)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1 or v > 10**6:
            raise UsageError(f"{what} must be a positive integer up to 1000000, got {show(v)}")
    steps = [
        LayerStep("Convolution", c_in, c_out, size, k * k * c_in * c_out * size * size,
                  k * k * c_in * c_out),
        _sep_step("Depthwise Separable Conv", k, c_in, c_out, size),
    ]
    m, n, d = c_in, c_out, size
    a = r = None
    if alpha is not None:
        a = parse_alpha(alpha)
        m, n = max(1, int(a * c_in)), max(1, int(a * c_out))
        steps.append(_sep_step(f"alpha = {_num(a)}", k, m, n, d))
    if rho is not None:
        r = parse_rho(rho)
        d = max(1, int(r * size + Fraction(1, 2)))  # rounded half up, as resolve_resolution
        steps.append(_sep_step(f"rho = {_num(r)}", k, m, n, d))
    ratio = Fraction(1, n) + Fraction(1, k * k)
    return LayerCalc(k, c_in, c_out, size, a, r, steps, ratio)


def _sep_step(label, k, m, n, d):
    # depthwise D_K²·M·D_F² + pointwise M·N·D_F² (MobileNets eq. 5)
    return LayerStep(label, m, n, d, k * k * m * d * d + m * n * d * d, k * k * m + m * n)


def _num(x):
    x = Fraction(x)
    return str(x.numerator) if x.denominator == 1 else f"{float(x):g}"
