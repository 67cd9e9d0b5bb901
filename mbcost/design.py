"""Design under a budget: check limits, fit alpha or resolution, sweep grids,
compare two networks, densify separable pairs, and a one-layer calculator.

Everything here returns plain dataclasses; rendering is in ``design_report``. The
work is in one module per concern: ``units`` (numbers on the command line),
``grid`` (sweep and the fast exact grid), ``budget`` (check and budget files), ``fit``,
``compare`` (densify and compare) and ``layer_calc``; this module gathers their names.
"""

# the public names of the design modules, gathered (import from here or from the module)
from .units import (  # noqa: F401
    MAX_ALPHA, MAX_LIST_VALUES, MAX_QUANTITY, QUANTITIES, QUANTITY_LABELS, parse_alpha, parse_quantity,
    parse_rho, parse_values, resolve_resolution,
)
from .grid import (  # noqa: F401
    ChannelTape, GridEvaluator, MAX_GRID_POINTS, MAX_GRID_TERMS, MAX_GRID_WORK, MemoryPoint,
    Monomials, Point, Sweep, memory_point, sweep,
)
from .budget import (  # noqa: F401
    BUDGET_KEYS, BudgetEntry, BudgetResult, Contributor, LimitCheck, MAX_CHECKS, check_budget,
    check_budget_file, load_budget,
)
from .fit import (  # noqa: F401
    DEFAULT_ALPHA_STEP, DEFAULT_RES_STEP, FitResult, STANDARD_ALPHAS,
    STANDARD_RESOLUTIONS, fit,
)
from .compare import (  # noqa: F401
    CompareRow, Comparison, compare, dense_analysis, densify, names_line_up,
)
from .layer_calc import (  # noqa: F401
    LayerCalc, LayerStep, layer_calc,
)
