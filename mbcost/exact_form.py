"""The exact closed form: sizes in alpha and rho with their rounding kept.

The continuous closed form (domains.Monomials, the papers' polynomial) scales every size
from its value at alpha = rho = 1, so it equals ``table`` only where every width and
spatial size divides evenly. The exact form keeps the integer steps as sympy functions:

- a table channel count c is the spec's rounding rule applied to c x alpha (x the spec's
  width multiplier): ``make_divisible(c*alpha, divisor, min)`` (the function below,
  printed under that name) or ``Max(min, floor(c*alpha))`` for plain ``int(c*alpha)``;
  a derived count (expansion, SE squeeze) the rule applied to its source times the ratio;
- the input is ``H*rho`` pixels high (H the spec's height; ``rho = res / H``, so this is
  the resolution itself) and ``floor(W*rho + 1/2)`` wide when W differs from H; a windowed
  layer's output side is ``ceiling(h/s)`` ('same') or ``floor((h + 2p - k)/s) + 1``.

The builder's channel tape (domains.ChannelTape) records how every size follows from
alpha and from the input; ``exact_sizes`` replays it with these functions, so the exact
form and ``analyze`` share one expansion. ``evaluate`` substitutes exact rationals for
alpha and rho: sympy evaluates every floor, ceiling and make_divisible on rationals,
with no float anywhere. Nothing here reads user text: values are built by type.
"""

from __future__ import annotations

from fractions import Fraction

import sympy

from . import expr as _expr
from .errors import UsageError

# the two forms: what each keeps, and where it equals the exact integer counts of
# ``analyze`` / ``mbcost table`` (formula's text and JSON say both)
FORMS = {
    "continuous": "the papers' polynomial",
    "exact": "channel rounding and strided sizes as make_divisible, floor and ceiling",
}
WHERE_EXACT = {
    "continuous": "equals table where every width and size divides evenly",
    "exact": "equals table at every alpha and resolution table accepts",
}


class make_divisible(sympy.Function):
    """make_divisible(v, divisor=8, min=divisor): v rounded to the nearest multiple of
    divisor, halves up, never below min, plus one divisor if that fell more than 10%
    below v (TF-slim / torchvision ``_make_divisible``; EfficientNet ``round_filters``).
    On a rational v it evaluates to the exact integer (mbcost.expr.make_divisible)."""

    nargs = (1, 2, 3)

    @classmethod
    def eval(cls, v, divisor=None, min_value=None):
        # sympy's evaluation hook (not Python's eval): its arguments are sympy numbers the
        # exact form built by type (_int, _rational), never text
        if not v.is_Rational:
            return None
        d = 8 if divisor is None else int(divisor)
        m = None if min_value is None else int(min_value)
        return sympy.Integer(_expr.make_divisible(Fraction(int(v.p), int(v.q)), d, m))

    def _eval_is_integer(self):
        return True

    def _eval_is_positive(self):
        return True

    def _latex(self, printer, exp=None):
        args = ", ".join(printer._print(a) for a in self.args)
        out = r"\operatorname{make\_divisible}\left(%s\right)" % args
        return out if exp is None else r"%s^{%s}" % (out, exp)


def _int(n):
    return sympy.Integer(int(n))


def _rational(v):
    """An exact int or Fraction as a sympy number (built by type, never parsed)."""
    v = Fraction(v)
    return sympy.Rational(v.numerator, v.denominator)


def rounded(rounding, v):
    """The spec's rounding rule (spec.Rounding) applied to the sympy value v."""
    if rounding.rule == "make_divisible":
        d = int(rounding.divisor)
        if rounding.min is None or int(rounding.min) == d:
            return make_divisible(v) if d == 8 else make_divisible(v, _int(d))
        return make_divisible(v, _int(d), _int(rounding.min))
    # truncate (max(int(v), min)); 'fixed' never rounds (its channels are not scaled)
    return sympy.Max(_int(1 if rounding.min is None else rounding.min), sympy.floor(v))


def _known(x):
    """(d, low): x is a multiple of d and at least low, as its form shows; None if unknown."""
    if x.is_Integer and x > 0:
        return int(x), int(x)
    if isinstance(x, make_divisible):
        d = int(x.args[1]) if len(x.args) > 1 else 8
        return d, int(x.args[2]) if len(x.args) > 2 else d
    if isinstance(x, sympy.Max) and len(x.args) == 2 and x.args[0].is_Integer \
            and isinstance(x.args[1], sympy.floor):
        return 1, int(x.args[0])
    c, rest = x.as_coeff_Mul()
    if c.is_Integer and c > 0 and rest is not x:
        inner = _known(rest)
        if inner is not None:
            return int(c) * inner[0], int(c) * inner[1]
    return None


def derived(rounding, src, ratio):
    """A count derived from src (a sympy value) by an exact ratio and rounded by rounding:
    r x src itself where the rule cannot move it (r whole, r x src a multiple of the
    divisor and at least the minimum, as src's form shows), else rounded(r x src)."""
    ratio = Fraction(ratio)
    if rounding.rule == "whole":  # an equal split part c / n: n divides c (a recorded check)
        return src * _rational(ratio)
    known = _known(src) if ratio.denominator == 1 else None
    if known is not None:
        r = ratio.numerator
        d, low = known
        if rounding.rule == "make_divisible":
            d2 = int(rounding.divisor)
            lowest = d2 if rounding.min is None else int(rounding.min)
            if (r * d) % d2 == 0 and r * low >= lowest:
                return src * r
        elif r * low >= (1 if rounding.min is None else int(rounding.min)):
            return src * r
    return rounded(rounding, src * _rational(ratio))


def _split_step(t, fn):
    """(y, c) when t is fn(y) + c with c an integer, else None."""
    c, rest = t.as_coeff_Add()
    if isinstance(rest, fn) and c.is_Integer:
        return rest.args[0], c
    return None


def spatial(h, k, s, pad, **kw):
    """The output side of a windowed layer as a sympy value (domains.spatial_size on
    sympy). Nested steps fold: ceiling(ceiling(y)/s) = ceiling(y/s) and
    floor((floor(y) + c)/s) = floor((y + c)/s) for integers c and s > 0."""
    from . import domains

    kw = {name: v for name, v in kw.items() if _default(domains.spatial_size, name) != v}
    if kw.pop("ceil", False):  # torch's ceil_mode (pools; never with 'same' padding)
        p = 0 if pad == "valid" else int(pad)
        out = sympy.ceiling((h + 2 * p - k) / s) + 1
        if kw:
            raise UsageError(f"the exact closed form cannot express a window with "
                             f"{', '.join(sorted(kw))}")
        # torch: less one where that last window would start beyond the input and its left
        # padding, (out - 1)·s >= h + p, i.e. out is at most ceiling((h + p)/s); one less is
        # always within it, as torch's padding is at most k/2
        return sympy.Min(out, sympy.ceiling((h + p) / s))
    if kw:  # options a newer shape rule added: its own integer arithmetic on sympy values
        try:
            out = domains.spatial_size(h, k, s, pad, **kw)
        except TypeError:
            raise UsageError(f"the exact closed form cannot express a window with "
                             f"{', '.join(sorted(kw))}") from None
        return _int(out) if isinstance(out, int) else out
    if pad == "same":
        if s == 1:
            return h
        inner = _split_step(h, sympy.ceiling)
        if inner is not None and inner[1] == 0:
            return sympy.ceiling(inner[0] / s)
        return sympy.ceiling(h / s)
    p = 0 if pad == "valid" else int(pad)
    t = h + 2 * p - k
    if s == 1:
        return t + 1
    inner = _split_step(t, sympy.floor)
    if inner is not None:
        return sympy.floor((inner[0] + inner[1]) / s) + 1
    return sympy.floor(t / s) + 1


def _default(fn, name):
    """The default of fn's keyword argument name (a sentinel if it has none)."""
    import inspect

    p = inspect.signature(fn).parameters.get(name)
    return _NO_DEFAULT if p is None or p.default is inspect.Parameter.empty else p.default


_NO_DEFAULT = object()


def exact_sizes(tape):
    """size(x) -> the exact sympy value of a traced size x (domains._Traced) of a graph
    built through tape (a domains.ChannelTape)."""
    from .symbols import alpha, rho

    spec = tape.spec
    h0 = spec.input[0]
    wm = _rational(spec.width_multiplier)
    chans = []
    for op, args, base in tape.tape:
        if op == "const":
            chans.append(_int(args[0]))
        elif op == "scaled":
            c, mode = args
            if mode is False:
                chans.append(_int(c))
            else:
                m = sympy.Max(1, wm * alpha) if mode == "up" else wm * alpha
                chans.append(rounded(spec.rounding, _int(c) * m))
        elif op == "rel":
            chans.append(derived(args[2], chans[args[0]], args[1]))
        elif op == "mul":
            chans.append(chans[args[0]] * args[1])
        else:  # sum
            chans.append(sympy.Add(*(chans[i] for i in args[0])))
    # the height is res = H*rho; a width W != H is round(W*rho)
    sides = tape.replay_spatial(
        lambda n: _int(n) * rho if n == h0 else sympy.floor(_int(n) * rho + sympy.Rational(1, 2)),
        spatial)

    def size(x):
        return sides[x.sp] if x.index < 0 else chans[x.index]

    return size


def evaluate(expr, alpha, rho):
    """expr at exact alpha and rho (ints or Fractions): alpha and rho replaced by sympy
    rationals, every function evaluated exactly. Returns an int, or a Fraction where
    the (continuous) form is not whole there."""
    from .symbols import alpha as a_sym
    from .symbols import rho as r_sym

    if isinstance(expr, int):
        return expr
    v = expr.xreplace({a_sym: _rational(alpha), r_sym: _rational(rho)})
    if not v.is_Rational:
        raise TypeError(f"closed form not evaluated to a number: {v}")
    return int(v.p) if v.q == 1 else Fraction(int(v.p), int(v.q))
