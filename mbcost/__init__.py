"""mbcost: exact, analytic mult-adds and parameters of MobileNet-style networks.

    >>> import mbcost
    >>> a = mbcost.analyze("mobilenet_v1", alpha=0.5, resolution=160)
    >>> a.madds, a.params
    (76524800, 1320648)
"""

__version__ = "0.1.0"

from .cost import CONVENTIONS, Analysis, Formula, Row, analyze, closed_form, get_convention  # noqa: E402
from .errors import ExprError, LimitError, MbcostError, SpecError, UsageError  # noqa: E402
from .graph import build_graph  # noqa: E402
from .spec import Spec, bundled_names, load_spec  # noqa: E402

__all__ = [
    "analyze", "closed_form", "load_spec", "build_graph", "bundled_names", "get_convention",
    "Analysis", "Formula", "Row", "Spec", "CONVENTIONS",
    "MbcostError", "SpecError", "ExprError", "LimitError", "UsageError", "__version__",
]
