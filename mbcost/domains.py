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
- ``spatial(h, k, s, pad)``: the output side of a windowed layer.

``ExactDomain`` works on Python integers at a concrete width multiplier and
resolution; ``SymbolicDomain`` carries, for every size, its exact value at the spec's
base point (alpha = 1, rho = 1) and a sympy expression that scales it continuously in
alpha and rho; ``grid.ChannelTape`` records how channels follow from alpha. The same
expansion and the same shape rules run in all of them, so structure never differs.
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

    def spatial(self, h, k, s, pad):
        return spatial_size(h, k, s, pad)

    def mul_int(self, x, n):
        return x * n

    def div(self, x, n):
        """x / n where n is known to divide x."""
        return x // n

    def sum(self, xs):
        return sum(xs)


@dataclass(frozen=True)
class Sym:
    """A size known exactly at the base point, and as a closed form in alpha, rho."""

    base: int
    expr: object  # sympy expression

    def __eq__(self, other):
        return isinstance(other, Sym) and self.base == other.base

    def __hash__(self):
        return hash(self.base)


class SymbolicDomain:
    """Sizes as closed forms: exact at alpha = rho = 1, continuous elsewhere."""

    symbolic = True

    def __init__(self, spec):
        from .symbols import alpha, rho

        self.alpha, self.rho = alpha, rho
        self.exact = ExactDomain(1, spec)
        self.approx = set()  # which continuous approximations were made

    def fixed(self, n):
        import sympy

        return Sym(n, sympy.Integer(n))

    def input_dim(self, n):
        return Sym(n, n * self.rho)

    def v(self, x):
        return x.expr

    def base(self, x):
        return x.base

    def _like(self, b, src):
        import sympy

        if src.base == 0:
            return Sym(b, sympy.Integer(b))
        return Sym(b, sympy.Rational(b, src.base) * src.expr)

    def scaled(self, c, mode):
        import sympy

        b = self.exact.scaled(c, mode)
        if mode is False:
            return Sym(b, sympy.Integer(b))
        self.approx.add(f"channel rounding {self.exact.rounding.describe()} taken as continuous")
        if mode == "up":
            return Sym(b, b * sympy.Max(1, self.alpha))
        return Sym(b, b * self.alpha)

    def rel(self, c_in, ratio, rounding):
        b = self.exact.rel(c_in.base, ratio, rounding)
        if b != c_in.base * ratio:
            self.approx.add(f"derived widths rounded at alpha = 1 ({rounding.describe()})")
        return self._like(b, c_in)

    def spatial(self, h, k, s, pad):
        b = spatial_size(h.base, k, s, pad)
        if pad != "same" or h.base % s:
            self.approx.add("spatial sizes scaled continuously from their value at rho = 1 "
                            "(exact only where strides divide the resolution)")
        return self._like(b, h)

    def mul_int(self, x, n):
        return Sym(x.base * n, x.expr * n)

    def div(self, x, n):
        return x / n

    def sum(self, xs):
        return Sym(sum(x.base for x in xs), sum(x.expr for x in xs))


def spatial_size(h, k, s, pad):
    """Output size: 'same' -> ceil(h/s) (TF SAME, torch pad=(k-1)//2 for odd k);
    'valid' -> floor((h-k)/s)+1; an integer p -> floor((h+2p-k)/s)+1."""
    if pad == "same":
        return -(-h // s)
    p = 0 if pad == "valid" else pad
    return (h + 2 * p - k) // s + 1
