"""Numbers given on the command line, in budget files and to the library: alpha, rho
and resolution (one limit each), quantities ('150M'), value lists and ranges
('0.25:1:0.05'), and the names of the measured quantities."""

from __future__ import annotations

from fractions import Fraction

from . import numbers
from .errors import UsageError, show
from .limits import MAX_RESOLUTION
from .numbers import parse_number

MAX_ALPHA = Fraction(64)  # the largest width multiplier anything accepts

QUANTITIES = ("madds", "params")
# the memory limits (mbcost.memory_budget: check and fit with --max-peak-memory ...)
MEMORY_QUANTITIES = ("peak_memory", "weights", "latency")
MEMORY_LABELS = {"peak_memory": "peak memory (B)", "weights": "weights (B)",
                 "latency": "latency (ns, roofline bound)"}
QUANTITY_LABELS = {"madds": "mult-adds", "params": "params", **MEMORY_LABELS}
MAX_QUANTITY = 10**18
MAX_LIST_VALUES = 10_000
# a sweep or fit rebuilds the layers once per distinct resolution and replays their channels
# once per distinct alpha (each about 10-30 microseconds a layer), then sums the counted
# layers once per point (a fraction of a microsecond each): both are bounded

# ---------------------------------------------------------------- parsing

def parse_quantity(text, what="limit"):
    """A positive count from '150M', '2.5M', '1G', '64K' or '4200000' (exact, no floats;
    numbers.parse_quantity's grammar)."""
    return numbers.parse_quantity(text, what, MAX_QUANTITY)


def _number_range(text, what):
    """The values of START:STOP:STEP, stop included; their count is checked before any is made."""
    parts = text.split(":")
    if len(parts) != 3:
        raise UsageError(f"{what}: a range is START:STOP:STEP, e.g. 0.25:1:0.05 (got {show(text)})")
    start, stop, step = (_list_value(p, what) for p in parts)
    if step <= 0 or stop < start:
        raise UsageError(f"{what}: a range needs STEP > 0 and STOP >= START (got {show(text)})")
    count = (stop - start) // step + 1
    if count > MAX_LIST_VALUES:
        raise UsageError(f"{what}: more than {MAX_LIST_VALUES} values (got {show(text)})")
    return [start + i * step for i in range(int(count))]


def _list_value(item, what):
    """One number of a value list, a short decimal (numbers.parse_number's grammar)."""
    try:
        return numbers.parse_number(item, what, fraction=False)
    except UsageError:
        raise UsageError(f"{what}: not a number: {show(item.strip())}") from None


def parse_values(text, what="--alpha", integer=False):
    """Comma-separated values and START:STOP:STEP ranges (stop included), exact, in order,
    without repeats: '1,0.75,0.5' or '0.25:1:0.05' or '96:224:32'. At most MAX_LIST_VALUES
    values, counted before they are made; each value in numbers' grammar."""
    if not isinstance(text, str):
        raise UsageError(f"{what}: a list of values such as 1,0.75,0.5 (got {show(text)})")
    if text.count(",") >= MAX_LIST_VALUES:
        raise UsageError(f"{what}: more than {MAX_LIST_VALUES} values")
    out, seen = [], set()
    for item in text.split(","):
        item = item.strip()
        if not item:
            raise UsageError(f"{what}: empty value in {show(text)}")
        values = _number_range(item, what) if ":" in item else [_list_value(item, what)]
        for v in values:
            if integer and v.denominator != 1:
                raise UsageError(f"{what}: resolutions must be whole pixels (got {show(item)})")
            v = int(v) if integer else v
            if v not in seen:
                seen.add(v)
                out.append(v)
                if len(out) > MAX_LIST_VALUES:
                    raise UsageError(f"{what}: more than {MAX_LIST_VALUES} values")
    return out


def parse_alpha(alpha):
    """alpha as an exact positive fraction ('0.75' -> 3/4); numbers.parse_number's grammar."""
    a = parse_number(alpha, "alpha", example="a positive number")
    if a <= 0 or a > MAX_ALPHA:
        raise UsageError(f"alpha must be in (0, {MAX_ALPHA}], got {show(alpha, quote=False)}")
    return a


def parse_rho(rho):
    """rho as an exact positive fraction ('0.714' -> 357/500); numbers.parse_number's grammar."""
    r = parse_number(rho, "rho", example="a positive number")
    if r <= 0:
        raise UsageError(f"rho must be positive, got {show(rho, quote=False)}")
    return r


def resolve_resolution(spec, resolution=None, rho=None):
    """Input height from --res, or from --rho times the spec's base (rounded half up)."""
    base = spec.input[0]
    if resolution is not None and rho is not None:
        raise UsageError("give either resolution or rho, not both")
    if rho is not None:
        r = parse_rho(rho)
        if r * base > MAX_RESOLUTION:
            raise UsageError(f"rho {show(rho, quote=False)} x {base} px exceeds the "
                             f"{MAX_RESOLUTION} px limit")
        resolution = int(r * base + Fraction(1, 2))
    if resolution is None:
        return base
    if isinstance(resolution, bool) or not isinstance(resolution, int):
        raise UsageError(f"resolution must be a positive integer, got {show(resolution)}")
    if not 1 <= resolution <= MAX_RESOLUTION:
        raise UsageError(f"resolution must be between 1 and {MAX_RESOLUTION}, got {show(resolution)}")
    return resolution
