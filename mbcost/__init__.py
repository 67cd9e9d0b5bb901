"""mbcost: exact, analytic mult-adds and parameters of MobileNet-style networks.

    >>> import mbcost
    >>> a = mbcost.analyze("mobilenet_v1", alpha=0.5, resolution=160)
    >>> a.madds, a.params
    (76524800, 1320648)

A spec is a bundled name (``bundled_names()``), a path to a YAML file or a dict.
``analyze`` gives an ``Analysis`` (exact integers per layer and in total; ``by_kind()``,
``records()``, ``to_dict()``, ``to_dataframe()``), ``closed_form`` a ``Formula`` (sympy
polynomials in alpha and rho), ``load_spec`` and ``build_graph`` the steps in between.
Bad input raises ``SpecError`` (with ``ExprError`` and ``LimitError``) or ``UsageError``,
all ``ValueError`` and ``MbcostError``. ``help(mbcost.analyze)`` and the others say more.

Where things are (CONTRIBUTING.md has the whole map): a layer kind is one entry in
``layers.py``; a counting convention one in ``cost.CONVENTIONS``; an output column one
in ``columns.LAYER``; a command is in ``cli.py`` or ``cli_design.py``.
"""

__version__ = "0.1.0"

from .cost import (CONVENTIONS, Analysis, Formula, KindRow, Row, analyze, closed_form,  # noqa: E402
                   get_convention)
from .errors import ExprError, LimitError, MbcostError, SpecError, UsageError  # noqa: E402
from .graph import build_graph  # noqa: E402
from .spec import Spec, bundled_names, load_spec  # noqa: E402

__all__ = [
    "analyze", "closed_form", "load_spec", "build_graph", "bundled_names", "get_convention",
    "Analysis", "Formula", "KindRow", "Row", "Spec", "CONVENTIONS",
    "MbcostError", "SpecError", "ExprError", "LimitError", "UsageError", "__version__",
]
