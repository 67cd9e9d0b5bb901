"""The symbols of every closed form: alpha (width multiplier) and rho (resolution multiplier)."""

import sympy

alpha = sympy.Symbol("alpha", positive=True)
rho = sympy.Symbol("rho", positive=True)
alpha_or_1 = sympy.Max(1, alpha)  # widths with scale: up (made once: Max is slow to build)
