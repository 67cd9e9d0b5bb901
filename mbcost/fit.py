"""Fit: the largest alpha or resolution within a budget, or the Pareto frontier of
both, found from the closed form and confirmed exactly on the grid."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from .budget import LimitCheck, _limits
from .cost import DEFAULT_CONVENTION, parse_alpha, resolve_resolution
from .errors import LimitError, MbcostError, SpecError, UsageError, show
from .graph import MAX_RESOLUTION
from .grid import GridEvaluator, Point, memory_point
from .memory_budget import MEMORY_QUANTITIES
from .units import MAX_ALPHA, QUANTITIES

STANDARD_ALPHAS = tuple(Fraction(a) for a in ("1.4", "1.3", "1.0", "0.75", "0.5", "0.35", "0.25"))
STANDARD_RESOLUTIONS = (224, 192, 160, 128, 96)
DEFAULT_ALPHA_STEP = Fraction(1, 100)
DEFAULT_RES_STEP = 32

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
        return [LimitCheck(q, self.limits[q], p.value(q)) for q in QUANTITIES + MEMORY_QUANTITIES
                if q in self.limits]


def _within(point, limits):
    return all(point.value(q) <= v for q, v in limits.items())


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
        alpha_step=DEFAULT_ALPHA_STEP, res_step=DEFAULT_RES_STEP, rho=None, memory=None):
    """Largest alpha (resolution fixed) or resolution (alpha fixed) meeting every limit.

    The closed form gives the starting point; a galloping then bisecting search on
    the exact counts (channel rounding and ceil make them a step function) ends at a
    multiple of the step that meets the budget while the next step up does not.
    With neither fixed: the Pareto frontier of the standard grid within budget.
    rho fixes the resolution as round(rho x the spec's), like resolution. memory: as in
    check_budget; its limits are searched the same way on exact memory points."""
    ev = GridEvaluator(spec, convention)
    spec = ev.spec
    mem_limits = (memory or {}).get("limits") or {}
    limits = _limits(limits, allow_empty=bool(mem_limits))
    count_limits = dict(limits)
    limits = {**limits, **mem_limits}
    if mem_limits:
        ev = _MemoryGrid(ev, memory["settings"])
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
            raise UsageError(f"alpha step must be a number in (0, {MAX_ALPHA}], got {show(alpha_step)}") from None
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

    est = _closed_form_estimate(ev, count_limits, mode, fixed) if count_limits else None
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


class _MemoryGrid:
    """A GridEvaluator whose points carry the memory quantities (full exact analyses)."""

    def __init__(self, ev, settings):
        self.ev, self.settings = ev, settings
        self.spec, self.conv = ev.spec, ev.conv

    def point(self, alpha, resolution):
        """The exact MemoryPoint at (alpha, resolution)."""
        return memory_point(self.spec, alpha, resolution, self.conv, self.settings)

    def closed_form(self):
        """The mult-add and parameter closed forms (the memory ones are not searched)."""
        return self.ev.closed_form()


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
