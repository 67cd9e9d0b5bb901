"""The one-layer calculator: standard vs depthwise separable cost of one layer
(MobileNets Table 3)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .cost import parse_alpha, parse_rho
from .errors import UsageError, show

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
