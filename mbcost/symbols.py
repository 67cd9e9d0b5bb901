"""The symbols of every closed form: alpha (width multiplier) and rho (resolution multiplier)."""

import sympy

alpha = sympy.Symbol("alpha", positive=True)
rho = sympy.Symbol("rho", positive=True)
