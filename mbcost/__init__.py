"""mbcost: exact, analytic mult-adds and parameters of MobileNet-style networks.

    >>> import mbcost
    >>> a = mbcost.analyze("mobilenet_v1", alpha=0.5, resolution=160)
    >>> a.madds, a.params
    (76524800, 1320648)

A spec is a bundled name (``bundled_names()``), a path to a YAML file, a path to an ONNX
model (``read_onnx`` gives its spec as a dict; needs the ``onnx`` extra) or a dict.
``analyze`` gives an ``Analysis`` (exact integers per layer and in total; ``by_kind()``,
``records()``, ``to_dict()``, ``to_dataframe()``), ``closed_form`` a ``Formula`` (sympy
polynomials in alpha and rho; ``exact=True``: the exact form, with channel rounding and
strided sizes kept; ``Formula.at(alpha, resolution)`` evaluates either exactly),
``load_spec`` and ``build_graph`` the steps in between.
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



def read_onnx(path, allow_unknown=False, resolution=None):
    """An ONNX model as a plain spec dict, the spec ``mbcost import`` writes.

    ``path`` is an ``.onnx`` file (its external weights file need not exist: layer sizes
    come from the initializers' dimensions). ``allow_unknown``: operators mbcost cannot
    count become zero-cost ``unknown`` layers instead of an error. ``resolution``: the
    pixels a dynamic height and width stand for at rho = 1 (default 224). Channels are
    fixed (width rule ``fixed``): ``analyze`` refuses an alpha other than 1.

    Returns a dict that ``analyze``, ``closed_form`` and ``load_spec`` take. Raises
    ``mbcost.SpecError`` (a ``ValueError``) for a file that is not a readable model, an
    unknown operator (all listed with their counts), a structure or limit it refuses
    (``LimitError``), and ``mbcost.UsageError`` when the optional ``onnx`` package is
    missing (``pip install 'mbcost[onnx]'``); ``load_spec("model.onnx")`` reads it too.

        >>> spec = read_onnx("tests/fixtures/onnx/resnet18.onnx")    # doctest: +SKIP
        >>> analyze(spec, resolution=160, convention="torchvision").madds   # doctest: +SKIP
        925798400
    """
    from .onnx_reader import read_onnx as read

    return read(path, allow_unknown, resolution)


__all__ = [
    "analyze", "closed_form", "load_spec", "build_graph", "bundled_names", "get_convention",
    "read_onnx",
    "Analysis", "Formula", "KindRow", "Row", "Spec", "CONVENTIONS",
    "MbcostError", "SpecError", "ExprError", "LimitError", "UsageError", "__version__",
]
