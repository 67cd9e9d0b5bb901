"""Exact totals on a grid of widths and resolutions (sweep, and fit's search), and
the closed form derived from the same trace.

Fast exact grid. Under every convention a layer's cost is a product of a
channel part and a spatial part (MobileNets §3.3: D_K·D_K·αM·ρD_F·ρD_F +
αM·αN·ρD_F·ρD_F), and in a spec the channels depend only on alpha and the
spatial sizes only on the resolution. So ``GridEvaluator`` builds the graph
once, through a ``ChannelTape``, which records how every channel count follows
from alpha (scale and round, expand an actual count, add up) and how every
spatial size follows from the input (each window's kernel, stride, padding and
ceil_mode). A point is then evaluated by replaying the channel steps at its alpha
(cached per alpha) and the spatial steps at its resolution (cached per
resolution), and handing every counted layer's cost rule those sizes: the exact
rounded integers, without rebuilding the graph per point. Replaying the tape in
``Monomials`` instead gives the closed form (``fit``'s starting point).

A resolution's replay stands for the whole build only where it is certain to give
the same graph: every replayed size in [1, MAX_RESOLUTION] (the builder refuses
others) and every rule the builder checked on spatial sizes (recorded on the nodes
and on ``Graph.checks``: merged sizes equal, a valid-padding kernel that fits, a
residual left out where shapes differ) holding there, with no idle train-only head
(whose sizes the builder may clamp). Elsewhere that resolution is built whole, as
before, which gives the real structure or the real, located error.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from fractions import Fraction

from . import numbers
from .cost import (DEFAULT_CONVENTION, analyze, get_convention, parse_alpha, resolve_resolution,
                   weigh)
from .errors import LimitError, UsageError, show
from .domains import _MONOMIAL, ChannelTape, Monomials, _Traced, spatial_size  # noqa: F401
from .graph import Builder, build_graph, training
from .layers import PRIMITIVES
from .limits import MAX_CHANNELS, MAX_RESOLUTION
from .spec import load_spec
from .units import MAX_LIST_VALUES

MAX_GRID_POINTS = 100_000
# a sweep or fit replays the spatial steps once per distinct resolution (rebuilding the
# layers where the replay is not certain) and the channels once per distinct alpha (each
# about 3-30 microseconds a step), then sums the counted layers once per point (a fraction
# of a microsecond each): both are bounded
MAX_GRID_WORK = 400_000  # resolutions x spatial steps + rebuilds x expansion steps + alphas x layers
MAX_GRID_TERMS = 10_000_000  # points x counted layers
# a sweep with memory analyzes every point whole (build, counts, memory pass: about 1.5x a
# build on mobilenet_v1 and EfficientNet-B7), charged as two rebuilds against MAX_GRID_WORK
MEMORY_POINT_BUILDS = 2

# ---------------------------------------------------------------- fast exact grid

@dataclass(frozen=True)
class Point:
    """Exact totals of one spec at one (alpha, resolution) (with memory limits, a
    ``MemoryPoint``)."""

    alpha: Fraction
    resolution: int
    madds: int
    params: int

    def value(self, quantity):
        """The total called quantity ('madds' or 'params')."""
        return getattr(self, quantity)


@dataclass(frozen=True)
class MemoryPoint(Point):
    """A Point with the memory quantities (mbcost.memory_budget): peak live activation and
    weight bytes, and the roofline latency bound in whole ns (None without a device)."""

    peak_memory: int = 0
    weights: int = 0
    latency: int | None = None
    traffic: int = 0  # bytes read and written (table --memory's totals.traffic_bytes)
    peak_at: str = ""  # the layer where the peak is first reached
    time_s: object = None  # the exact roofline bound in seconds (a Fraction; None: no device)


def memory_point(spec, alpha, resolution, convention, settings):
    """The exact MemoryPoint of spec at (alpha, resolution) under memory settings: the
    totals of ``analyze(..., memory=settings)``, as ``table --memory`` prints them."""
    from .memory_budget import values

    a = analyze(spec, alpha=alpha, resolution=resolution, convention=convention, memory=settings)
    m = a.memory
    return MemoryPoint(a.alpha_exact, a.resolution, a.madds, a.params, **values(a),
                       traffic=m.traffic_bytes, peak_at=m.peak_at, time_s=m.time_s)


class GridEvaluator:
    """Exact totals at many (alpha, resolution) points: one replay of the spatial steps per
    distinct resolution (a whole graph where the replay is not certain), one replay of the
    channel tape per distinct alpha, combined per point."""

    def __init__(self, spec, convention=DEFAULT_CONVENTION, train=None):
        self.spec = load_spec(spec)
        self.conv = get_convention(convention)
        with training(train) as mode:
            self.train = mode  # every graph it builds later is built the same way
        self._chan, self._spat, self._points = {}, {}, {}
        self._svec, self._cvec = {}, {}
        self._tape = ChannelTape(self.spec)
        with training(self.train):
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
        # channels equal), checked again at every alpha; rules on spatial sizes are checked
        # by each resolution's replay (_replay)
        checks = [c for n in g.nodes for c in n.checks] + list(g.checks)
        self._checks = [c for c in checks if all(s.index >= 0 for s in c.sizes)]
        # the spatial sizes at a new resolution are a replay of the tape's spatial steps
        # (domains.spatial_size from the input, as the builder computed them) where that is
        # certain to give the graph a whole build would: see _replay
        self._setup_replay(g, checks)
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
            tm, tp = tm + weigh(mt, self.conv.madds), tp + weigh(pt, self.conv.param_weights)
        return {"madds": tm, "params": tp}

    def _setup_replay(self, g, checks):
        """What a resolution's replay needs: the tape's spatial steps, the checks on spatial
        sizes, and whether replaying is certain at all."""
        ops = self._tape.spatial_ops
        tape = self._tape.tape

        def spatial(x):
            return x.index < 0

        def constant(x):  # a spatial size that no resolution moves (after a global pool)
            return x.index >= 0 and tape[x.index][0] == "const"

        shapes = [s for n in g.nodes for s in (*n.in_shapes, n.out_shape)]
        # an idle head's sizes may be clamped to 1 (Builder.notional), which the tape does
        # not record; a spatial position holding a size that is neither replayed nor a
        # constant would be read at the base resolution: both need whole builds
        self._replayable = (not any(n.attrs.get("idle") for n in g.nodes)
                            and [op for op, _ in ops[:2]] == ["input", "input"]
                            and all(spatial(x) or constant(x) for sh in shapes for x in sh[:2]))
        # a rule holding a channel count too (layers.Differ: a residual left out) is checked
        # with the channels at alpha = 1, as the whole build at alpha 1 that a resolution
        # stood for until now decides it; a residual that only a width makes appear adds an
        # 'add' node, free unless the convention counts it (then every point is analyzed)
        self._res_checks = [c for c in checks if any(map(spatial, c.sizes))]
        self._replays = {}
        self.spatial_cost = max(1, len(ops) + len(self._res_checks) + len(self._nodes))

    def charge(self, resolutions=0, alphas=0, ahead=False, replays=0):
        """Count the work of whole builds (resolutions: a rebuild each), new alphas (a replay
        of the channel tape each) and new resolutions (replays: a replay of the spatial
        steps each) against MAX_GRID_WORK; ahead: only check that so many more would fit."""
        work = (self.work + resolutions * self.build_cost + alphas * self.replay_cost
                + replays * self.spatial_cost)
        if not ahead:
            self.work = work
        if work > MAX_GRID_WORK:
            raise LimitError(f"needs more than {MAX_GRID_WORK} steps ({self.spatial_cost} for "
                             f"each resolution, {self.build_cost} for each one that needs a "
                             f"rebuild, {self.replay_cost} for each alpha); ask for fewer values",
                             path=self.spec.path)

    def rebuilds(self, resolutions):
        """How many of resolutions need a whole build (their replay is not certain); replays
        each new one (charged)."""
        return sum(self._replay(resolve_resolution(self.spec, r)) is None
                   for r in dict.fromkeys(resolutions))

    def _replay(self, res):
        """Every spatial size at res as a list by its place on the tape (replayed), or None
        where only a whole build is certain to give the graph: a size below 1 or above
        MAX_RESOLUTION (the builder refuses it), a recorded rule on spatial sizes that does
        not hold there (a kernel larger than its input, merged sizes that differ, a residual
        whose shapes now match), an idle head."""
        if res not in self._replays:
            self.charge(replays=1)
            self._replays[res] = self._replayed(res) if self._replayable else None
        return self._replays[res]

    def _replayed(self, res):
        h0 = self.spec.input[0]
        # the height is res; a width n != h0 is build_graph's round(n * res / h0)
        vals = self._tape.replay_spatial(
            lambda n: res if n == h0 else (n * res + h0 // 2) // h0, spatial_size)
        if any(v < 1 or v > MAX_RESOLUTION for v in vals):
            return None

        def value(x):
            return vals[x.sp] if x.index < 0 else x.base

        return vals if all(c.holds(value) for c in self._res_checks) else None

    def _channels(self, alpha):
        if alpha not in self._chan:
            self.charge(alphas=1)
            self._chan[alpha] = self._tape.replay(alpha)
        return self._chan[alpha]

    def _spatial(self, res):
        """The nodes of a whole build at res (alpha 1) by name: where a replay is not
        certain (the build gives the real structure, or the real located error)."""
        if res not in self._spat:
            self.charge(resolutions=1)
            g = build_graph(self.spec, 1, res, train=self.train)
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
                full = analyze(self.spec, a, res, convention=self.conv, train=self.train)
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
        cw, pw = self.conv.madds, self.conv.param_weights
        return ([_Pair.of(v) * cw[c] for c, v in mt.items() if cw.get(c)],
                [_Pair.of(v) * pw[c] for c, v in pt.items() if pw.get(c)])

    def _spatial_vector(self, res):
        """Spatial factors of every term at res, or None if the structure differs there."""
        if res not in self._svec:
            vals = self._replay(res)
            if vals is not None:
                self._svec[res] = self._replayed_vector(vals)
                return self._svec[res]
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

    def _replayed_vector(self, vals):
        """Spatial factors of every term from replayed sizes (vals, by tape place)."""
        sm, sp, one = [], [], _Pair(1, 1)

        def pair(x):
            return _Pair(vals[x.sp] if x.index < 0 else x.base, 1)

        for n in self._nodes:
            ins = [(pair(si[0]), pair(si[1]), one) for si in n.in_shapes]
            m, p = self._terms(n, ins, (pair(n.out_shape[0]), pair(n.out_shape[1]), one))
            sm += [t.s for t in m]
            sp += [t.s for t in p]
        return sm, sp

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
    """Exact totals over a grid of widths and resolutions.

    limits: {quantity: limit} (mult-adds, parameters, and the memory limits of
    ``mbcost.memory_budget``; {} without limits); ``over(point)`` names the ones a point
    breaks. memory: the checked memory settings (``memory_settings``) when the points
    carry the memory quantities (``MemoryPoint``), else None."""

    model: str
    title: str
    convention: str
    alphas: list
    resolutions: list
    points: list  # Point, alpha-major
    limits: dict = field(default_factory=dict)
    memory: dict | None = None
    _index: dict = field(default_factory=dict, repr=False, compare=False)

    def at(self, alpha, resolution):
        """The Point at (alpha, resolution)."""
        if len(self._index) != len(self.points):
            self._index = {(p.alpha, p.resolution): p for p in self.points}
        return self._index[(numbers.parse_number(alpha, "alpha"), resolution)]

    def over(self, point):
        """The quantities whose limit point exceeds, in the order of the limits ([]: within
        every limit; equal is within)."""
        return [q for q, v in self.limits.items() if point.value(q) > v]

    @property
    def within(self):
        """The points within every limit (all of them without limits)."""
        return [p for p in self.points if not self.over(p)]

    @property
    def ok(self):
        """Some point is within every limit (a sweep without limits is always ok)."""
        return not self.limits or any(not self.over(p) for p in self.points)


def sweep(spec, alphas, resolutions, convention=DEFAULT_CONVENTION, rhos=None, limits=None,
          memory=None, train=None):
    """Every (alpha, resolution) combination, exact, via the fast grid; with rhos instead
    of resolutions, each resolution is round(rho x the spec's); train as for analyze.

    limits: mult-add and parameter limits as ``check_budget`` takes them ({'madds': '150M'}).
    memory: {'settings': memory settings, 'limits': ``memory_budget.memory_limits(...)``}
    (either may be left out; True: the default settings, no limit): every point then carries the memory quantities of
    ``table --memory`` (a ``MemoryPoint``: one exact analysis per point, each charged as
    MEMORY_POINT_BUILDS rebuilds against MAX_GRID_WORK; without memory the grid stays the
    fast one)."""
    for what, values in (("alphas", alphas), ("resolutions", resolutions), ("rhos", rhos)):
        if (values is not None or what == "alphas") and (not isinstance(values, (list, tuple, range))
                                   or len(values) > MAX_LIST_VALUES):
            raise UsageError(f"{what} must be a list of at most {MAX_LIST_VALUES} values "
                             f"(got {show(values)})")
    settings, all_limits = _sweep_memory(memory)
    if limits is not None:
        from .budget import _limits

        all_limits = {**_limits(limits, allow_empty=True), **all_limits}
    ev = GridEvaluator(spec, convention, train)
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
    if settings is not None:
        # one whole analysis with memory per point: charged as MEMORY_POINT_BUILDS rebuilds
        per = MEMORY_POINT_BUILDS * ev.build_cost
        if ev.work + len(alphas) * len(resolutions) * per > MAX_GRID_WORK:
            raise LimitError(f"needs more than {MAX_GRID_WORK} steps ({per} for each point with "
                             "memory: a whole analysis); ask for fewer values", path=ev.spec.path)
        points = []
        for a in alphas:
            for r in resolutions:
                ev.charge(resolutions=MEMORY_POINT_BUILDS)
                points.append(memory_point(ev.spec, a, r, ev.conv, settings))
        return Sweep(ev.spec.name, ev.spec.title, ev.conv.name, alphas, resolutions, points,
                     all_limits, settings)
    # known up front: refuse before working (the replays first, then the rebuilds they need)
    ev.charge(alphas=len(alphas), replays=len(set(resolutions)), ahead=True)
    ev.charge(ev.rebuilds(resolutions), len(alphas), ahead=True)
    if len(alphas) * len(resolutions) * len(ev._nodes) > MAX_GRID_TERMS:
        raise LimitError(f"needs more than {MAX_GRID_TERMS} terms (points x {len(ev._nodes)} "
                         "counted layers); ask for fewer values", path=ev.spec.path)
    points = [ev.point(a, r) for a in alphas for r in resolutions]
    return Sweep(ev.spec.name, ev.spec.title, ev.conv.name, alphas, resolutions, points,
                 all_limits)


def _sweep_memory(memory):
    """(checked memory settings or None, memory limits) from sweep's memory= argument."""
    if memory is None or memory is False:
        return None, {}
    if memory is True:  # the default settings, as analyze(memory=True)
        memory = {}
    if not isinstance(memory, dict) or not set(memory) <= {"settings", "limits"}:
        raise UsageError("memory is a mapping {'settings': {...}, 'limits': {...}} "
                         f"(got {show(memory)})")
    from .memory_model import memory_settings

    raw = memory.get("settings") or {}
    if not isinstance(raw, dict) or not set(raw) <= {"dtype", "weight_dtype", "memory_model",
                                                     "device"}:
        raise UsageError("memory settings are a mapping of dtype, weight_dtype, memory_model "
                         f"and device (got {show(raw)})")
    settings = memory_settings(**raw)
    limits = dict(memory.get("limits") or {})
    from .units import MEMORY_QUANTITIES

    for q, v in limits.items():
        if q not in MEMORY_QUANTITIES or isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise UsageError(f"memory limits are {{quantity: positive integer}} with a quantity "
                             f"in {', '.join(MEMORY_QUANTITIES)} (got {show(q)}: {show(v)})")
    if "latency" in limits and settings["device"] is None:
        raise UsageError("a latency limit needs a device")
    return settings, limits


# ---------------------------------------------------------------- closed forms

def _counts(terms, conv):
    mt, pt = terms
    return any(conv.madds.get(c) for c in mt) or any(conv.param_weights.get(c) for c in pt)
