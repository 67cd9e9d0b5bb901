"""Domains: what a size is while the builder propagates shapes.

Every shape rule and cost rule (layers.py) does its arithmetic through a domain, so
one expansion serves every evaluator. A domain provides:

- ``symbolic``: whether sizes are closed forms (True) or plain integers (False);
- ``fixed(n)``: a constant size; ``input_dim(n)`` (symbolic domains): an input side;
- ``v(x)``: the value a cost rule multiplies; ``base(x)``: the size at alpha = rho = 1
  (what shape checks and validity rules compare);
- ``scaled(c, mode)``: a table channel count scaled by alpha with the spec's rounding
  (mode True, False or 'up'); ``rel(c, ratio, rounding)``: a count derived from an
  actual one; ``mul_int``, ``sum``, ``div`` (by a divisor known to divide);
- ``spatial(h, k, s, pad, ceil=False)``: the output side of a windowed layer (``ceil``:
  torch's ``ceil_mode`` of pools).

``ExactDomain`` works on Python integers at a concrete width multiplier and
resolution. ``ChannelTape`` records how every channel count follows from alpha (at
alpha = 1 it builds the same graph); replaying the tape gives the exact channels at
any alpha (the sweep/fit grid) or, in ``Monomials``, the closed forms in alpha and rho
(``symbolic_sizes``: the one closed-form engine; sympy only prints and solves them).
The same expansion and the same shape rules run in both, so structure never differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


class ExactDomain:
    """Integer shapes at a concrete width multiplier (alpha)."""

    symbolic = False

    def __init__(self, alpha, spec):
        self.alpha = Fraction(alpha)
        self.mult = spec.width_multiplier * self.alpha
        self.rounding = spec.rounding
        if spec.rounding.rule == "fixed" and self.alpha != 1:
            from .errors import UsageError

            raise UsageError(f"{spec.path}: its channels are fixed (width rule 'fixed', as for an "
                             f"ONNX graph, which does not say how they would scale), so alpha "
                             f"must be 1, got {float(self.alpha):g}")

    def fixed(self, n):
        return n

    def v(self, x):
        return x

    def base(self, x):
        return x

    def scaled(self, c, mode):
        """Channels for table value c: scaled by alpha with the spec's rounding rule."""
        if mode is False:
            return int(c)
        m = max(Fraction(1), self.mult) if mode == "up" else self.mult
        return self.rounding.apply(Fraction(c) * m)

    def rel(self, c_in, ratio, rounding):
        """Channels derived from an actual channel count (expansion, SE squeeze)."""
        return rounding.apply(Fraction(c_in) * ratio)

    def spatial(self, h, k, s, pad, ceil=False):
        return spatial_size(h, k, s, pad, ceil)

    def mul_int(self, x, n):
        return x * n

    def div(self, x, n):
        """x / n where n is known to divide x."""
        return x // n

    def sum(self, xs):
        return sum(xs)


class Sym:
    """A size known exactly at the base point (base), and as a closed form in alpha, rho:
    poly (Monomials) and expr (its sympy expression, made when first asked for)."""

    __slots__ = ("base", "poly", "_expr")

    def __init__(self, base, poly):
        self.base, self.poly, self._expr = base, poly, None

    @property
    def expr(self):
        """The closed form as a sympy expression."""
        if self._expr is None:
            self._expr = self.poly.to_sympy()
        return self._expr

    def __eq__(self, other):
        return isinstance(other, Sym) and self.base == other.base

    def __hash__(self):
        return hash(self.base)

    def __repr__(self):
        return f"Sym(base={self.base}, expr={self.expr})"


def spatial_size(h, k, s, pad, ceil=False):
    """Output size: 'same' -> ceil(h/s) (TF SAME, torch pad=(k-1)//2 for odd k);
    'valid' -> floor((h-k)/s)+1; an integer p -> floor((h+2p-k)/s)+1. ceil (torch's
    ceil_mode, pooling_output_shape in aten/src/ATen/native/Pool.h): ceil((h+2p-k)/s)+1,
    less one if that last window would start beyond the input and its left padding,
    i.e. (out-1)*s >= h+p."""
    if pad == "same":
        return -(-h // s)
    p = 0 if pad == "valid" else pad
    if ceil:
        out = -(-(h + 2 * p - k) // s) + 1
        return out - 1 if (out - 1) * s >= h + p else out
    return (h + 2 * p - k) // s + 1


@dataclass(frozen=True, eq=False)
class _Traced:
    """A size while tracing: its value at alpha = 1 and its place on the channel tape
    (-1 for spatial sizes, which come from the per-resolution graphs instead)."""

    base: int
    index: int
    sp: int = -1  # a spatial size's place on ChannelTape.spatial_ops (the exact form's)

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
        self.spatial_ops = []  # how each spatial size follows from the input (exact_form.py)
        self.approx = set()  # the continuous approximations the closed form makes

    def _record(self, base, op, *args):
        self.tape.append((op, args, base))
        return _Traced(base, len(self.tape) - 1)

    def fixed(self, n):
        """A constant size (image channels, a 1x1 after a global pool)."""
        return self._record(n, "const", n)

    def input_dim(self, n):
        """An input height or width: spatial, taken from the per-resolution graphs."""
        self.spatial_ops.append(("input", (n,)))
        return _Traced(n, -1, len(self.spatial_ops) - 1)

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
        if mode is not False:
            self.approx.add(f"channel rounding {self.exact.rounding.describe()} taken as continuous")
        return self._record(self.exact.scaled(c, mode), "scaled", c, mode)

    def rel(self, c_in, ratio, rounding):
        """A count derived from an actual one (expansion, SE squeeze)."""
        b = self.exact.rel(c_in.base, ratio, rounding)
        if b != c_in.base * ratio:
            self.approx.add(f"derived widths rounded at alpha = 1 ({rounding.describe()})")
        return self._record(b, "rel", c_in.index, ratio, rounding)

    def spatial(self, h, k, s, pad, **kw):
        """The output size of a windowed layer."""
        b = spatial_size(h.base, k, s, pad, **kw)
        if pad != "same" or h.base % s:
            self.approx.add("spatial sizes scaled continuously from their value at rho = 1 "
                            "(exact only where strides divide the resolution)")
        # sizes downstream of the input scale with rho; after a global pool or an FC
        # (a constant 1x1) they stay constant
        if h.index >= 0:
            return self._record(b, "const", b)
        self.spatial_ops.append(("window", (h.sp, k, s, pad, tuple(sorted(kw.items())))))
        return _Traced(b, -1, len(self.spatial_ops) - 1)

    def replay_spatial(self, side, window):
        """Every spatial size by its place on ``spatial_ops`` (a _Traced size's ``sp``):
        ``side(n)`` for an input side of n pixels at the base resolution, ``window(size,
        k, s, pad, **kw)`` for a windowed layer on an earlier size. Integers at one
        resolution (grid.py) and sympy forms in rho (exact_form.py) are the two replays."""
        vals = []
        for op, args in self.spatial_ops:
            if op == "input":
                vals.append(side(args[0]))
            else:
                src, k, s, pad, kw = args
                vals.append(window(vals[src], k, s, pad, **dict(kw)))
        return vals

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
        scaled continuously (the closed forms' one set of scaling rules: table channels
        b -> b alpha, or b max(1, alpha) for scale: up; derived counts in proportion to
        their source)."""
        vals = []
        for op, args, base in self.tape:
            if op == "scaled" and args[1] is not False:
                vals.append(Monomials({(0, 0, 1) if args[1] == "up" else (1, 0, 0): base}))
            elif op == "rel":
                src = self.tape[args[0]][2]
                vals.append(vals[args[0]] * _exact(Fraction(base, src)) if src else Monomials.const(base))
            elif op == "mul":
                vals.append(vals[args[0]] * args[1])
            elif op == "sum":
                vals.append(sum((vals[i] for i in args[0]), Monomials({})))
            else:  # const, unscaled table channels
                vals.append(Monomials.const(base))
        return vals


def _exact(v):
    """v (an int or Fraction) as an int when whole: int arithmetic is much the faster."""
    v = Fraction(v)
    return v.numerator if v.denominator == 1 else v


class Monomials:
    """A polynomial in alpha, rho and m = Max(1, alpha) as {(i, j, u): coefficient}:
    the closed forms' own arithmetic (+, *, / by an integer), cheaper than sympy's."""

    __slots__ = ("terms",)

    def __init__(self, terms):
        self.terms = {k: v for k, v in terms.items() if v}

    @classmethod
    def const(cls, c):
        """The constant c."""
        return cls({(0, 0, 0): _exact(c)})

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
        return Monomials({k: _exact(Fraction(v, n)) for k, v in self.terms.items()})

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

        return sympy.Add(*[sympy.Rational(v.numerator, v.denominator) * _monomial(k)
                           for k, v in sorted(self.terms.items())])


_MONOMIALS = {}


def _monomial(powers):
    """alpha^i rho^j max(1, alpha)^u as sympy, made once per (i, j, u)."""
    if powers not in _MONOMIALS:
        from .symbols import alpha, alpha_or_1, rho

        i, j, u = powers
        _MONOMIALS[powers] = alpha**i * rho**j * alpha_or_1**u
    return _MONOMIALS[powers]


class _MonomialView:
    """The domain interface cost rules need, over Monomials."""

    def v(self, x):
        """The closed form itself."""
        return x

    def div(self, x, n):
        """x / n, continuous."""
        return x / n


_MONOMIAL = _MonomialView()


def symbolic_sizes(tape, exact_of=None):
    """size(x) -> Sym of a traced size x: its value at alpha = rho = 1, its closed form as
    Monomials (poly) and as a sympy expression (expr). Spatial sizes downstream of the
    input scale with rho, every channel count by its recorded rule. exact_of (x -> sympy,
    exact_form.exact_sizes): expr is the exact form instead (rounding and strided sizes
    kept; poly stays the continuous one)."""
    vals = tape.replay_closed_form()
    memo = {}

    def size(x):
        key = (x.index, x.base) if x.index < 0 else x.index
        if exact_of is not None and x.index < 0:
            key = ("sp", x.sp)  # equal at rho = 1 is not equal everywhere
        if key not in memo:
            poly = Monomials({(0, 1, 0): x.base}) if x.index < 0 else vals[x.index]
            memo[key] = Sym(x.base, poly)
            if exact_of is not None:
                memo[key]._expr = exact_of(x)
        return memo[key]

    return size
