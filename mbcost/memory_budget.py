"""Memory and latency limits for check and fit: --max-peak-memory, --max-weights (bytes) and
--max-latency (a roofline bound on --device).

The values are exact: bytes are integers, the latency bound an exact Fraction of seconds
compared with the limit exactly (it is reported in whole nanoseconds, rounded up, which
keeps the comparison exact for a limit in whole nanoseconds).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from .errors import UsageError, show
from .numbers import MAX_CHARS
from .units import MEMORY_LABELS as LABELS, MEMORY_QUANTITIES  # noqa: F401

BYTE_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20,
              "GIB": 2**30}
TIME_UNITS = {"NS": 1, "US": 10**3, "MS": 10**6, "S": 10**9}  # in nanoseconds
_AMOUNT = re.compile(r"([0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*([A-Za-z]*)", re.ASCII)


def _amount(value, what, units, example, default_unit):
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise UsageError(f"{what}: must be {example} (got {show(value)})")
    text = str(value).strip()
    m = _AMOUNT.fullmatch(text) if len(text) <= MAX_CHARS else None
    unit = (m.group(2) or default_unit).upper() if m else None
    if not m or unit not in units:
        raise UsageError(f"{what}: must be {example} (got {show(value)})")
    amount = Fraction(m.group(1)) * units[unit]
    if amount <= 0 or amount > 10**18:
        raise UsageError(f"{what}: must be positive and at most 10**18 units (got {show(value)})")
    return amount


def parse_bytes(value, what="--max-peak-memory"):
    """Whole bytes from '2MB', '512KB', '1.5GB', '4MiB' or '4000000' (exact, rounded down)."""
    return int(_amount(value, what, BYTE_UNITS, "a size like 2MB, 512KB, 4MiB or 4000000 (bytes)",
                       "B"))


def parse_duration(value, what="--max-latency"):
    """Whole nanoseconds from '5ms', '250us', '0.02s' or '1500000ns' (rounded down)."""
    return int(_amount(value, what, TIME_UNITS, "a time with its unit, like 5ms, 250us or 0.02s",
                       ""))


def memory_limits(peak=None, weights=None, latency=None, device=None):
    """{quantity: limit} of the memory limits given, parsed; latency needs a device."""
    out = {}
    if peak is not None:
        out["peak_memory"] = parse_bytes(peak, "--max-peak-memory")
    if weights is not None:
        out["weights"] = parse_bytes(weights, "--max-weights")
    if latency is not None:
        if device is None:
            raise UsageError("--max-latency needs --device NAME|FILE")
        out["latency"] = parse_duration(latency, "--max-latency")
    return out


def values(analysis):
    """{quantity: exact value} of an analysis made with memory (latency in whole ns,
    rounded up; None without a device)."""
    m = analysis.memory
    t = m.time_s
    return {"peak_memory": m.peak_act_bytes, "weights": m.weight_bytes,
            "latency": None if t is None else math.ceil(t * 10**9)}


def top_layers(analysis, quantity, top):
    """[(name, op, value, share)] of the layers contributing most to a quantity (the peak:
    the layers where the most is live)."""
    get = {"peak_memory": lambda m: m.live_bytes, "weights": lambda m: m.weight_bytes,
           "latency": lambda m: m.time_s}[quantity]
    rows = [(r, get(r.mem)) for r in analysis.rows if get(r.mem)]
    total = max((v for _, v in rows), default=0) if quantity == "peak_memory" else \
        sum(v for _, v in rows)
    rows.sort(key=lambda rv: -rv[1])
    out = []
    for r, v in rows[:max(0, top)]:
        shown = math.ceil(v * 10**9) if quantity == "latency" else int(v)
        out.append((r.name, r.op, shown, float(100 * Fraction(v) / total) if total else 0.0))
    return out


BUDGET_KEYS = ("max_peak_memory", "max_weights", "max_latency", "device", "dtype",
               "weight_dtype", "memory_model")


def budget_memory(item, where, path):
    """check_budget's memory= from one budget-file check (None without a memory limit);
    errors are BudgetFileErrors naming the file, the line and the field. A device path
    is taken relative to the budget file, as a spec path is."""
    from pathlib import Path

    from .errors import BudgetFileError, SpecError
    from .memory_model import memory_settings

    def bad(key, msg, got=None):
        return BudgetFileError(msg, path=path, line=where(key), field=key, got=got)

    limits = {}
    for key, parse in (("max_peak_memory", parse_bytes), ("max_weights", parse_bytes),
                       ("max_latency", parse_duration)):
        if key in item:
            try:
                limits[key[4:]] = parse(item[key], key)
            except UsageError as e:
                raise bad(key, str(e).split(": ", 1)[1]) from None
    settings = {k: item.get(k) for k in ("dtype", "weight_dtype", "memory_model", "device")}
    if not limits:
        extra = next((k for k, v in settings.items() if v is not None), None)
        if extra:
            raise bad(extra, "goes with max_peak_memory, max_weights or max_latency")
        return None
    if "latency" in limits and settings["device"] is None:
        raise bad("max_latency", "needs a device (a bundled name or a device file)")
    dev = settings["device"]
    if dev is not None:
        if not isinstance(dev, str) or not dev or "\0" in dev or len(dev) > 4096:
            raise bad("device", "must be a device name or a path", dev)
        sibling = Path(path).parent / dev
        if not Path(dev).is_absolute() and sibling.exists():
            settings["device"] = str(sibling)
    for key in ("dtype", "weight_dtype", "memory_model"):
        if settings[key] is not None and not isinstance(settings[key], str):
            raise bad(key, "must be a name", settings[key])
    try:
        settings = memory_settings(**settings)
    except UsageError as e:
        key = next((k for k in ("weight_dtype", "memory_model", "dtype", "device")
                    if settings.get(k) is not None and str(settings[k]) in str(e)), "device")
        raise bad(key, str(e)) from None
    except SpecError:
        raise  # a device file's own error names that file and line
    return {"limits": limits, "settings": settings}
