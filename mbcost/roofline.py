"""Devices and the roofline latency bound.

A device is a peak rate of operations per data type (FLOP/s; int8: OP/s) and a memory
bandwidth (bytes/s), read from a YAML file: one of the bundled ``mbcost/devices/*.yaml``
(``mbcost list --devices``) or a user's own file of the same form. Every figure in a
bundled file names its public source.

The roofline bound of one layer (Williams, Waterman and Patterson, "Roofline", CACM 2009):
``max(2 x MACs / peak, traffic bytes / bandwidth)``. The layer is compute-bound when the
first term is the larger (its intensity, FLOPs per byte of traffic, is at least the
device's ridge point peak / bandwidth), else memory-bound; a layer that moves no bytes and
does no multiply-accumulates (folded BN, an in-place activation) takes 0 and has no bound.
The network's bound is the sum over its layers. It is a lower bound on time under the
stated memory model, not a measurement: real kernels reach a fraction of either roof.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from .errors import SpecError, UsageError, show
from .numbers import parse_number

DTYPES = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}  # bytes per element

NOT_A_MEASUREMENT = "a roofline bound, not a measurement"
RATE_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15}
_RATE = re.compile(r"([0-9.eE+\-]+)\s*([KMGTP]?)", re.ASCII)
DEVICE_FIELDS = ("mbcost", "name", "title", "kind", "bandwidth", "peak", "sources", "notes")


class DeviceError(SpecError):
    """A device file is malformed."""


@dataclass(frozen=True)
class Device:
    """A roofline target: ``peak`` {dtype: ops per second (Fraction)}, ``bandwidth``
    bytes per second (Fraction), ``sources`` {field: where the figure comes from}."""

    name: str
    title: str
    kind: str
    bandwidth: Fraction
    peak: dict
    sources: dict
    path: str = ""

    def ridge(self, dtype):
        """The ridge point for a data type: peak / bandwidth, in FLOPs per byte."""
        return self.peak_for(dtype) / self.bandwidth

    def peak_for(self, dtype):
        """The peak for dtype, or a UsageError naming the types the device has."""
        if dtype not in self.peak:
            raise UsageError(f"device '{self.name}' has no peak for {dtype}; it has "
                             f"{', '.join(self.peak)}")
        return self.peak[dtype]


def devices_dir():
    """The folder of bundled device files."""
    return Path(__file__).resolve().parent / "devices"


def device_names():
    """The bundled devices' names, sorted."""
    return sorted(p.stem for p in devices_dir().glob("*.yaml"))


def parse_rate(value, what, path, line):
    """A positive rate from '19.5T', '2039G', 25.6e9 or an int (exact Fraction)."""
    text = value if isinstance(value, str) else None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise DeviceError(f"{what} must be a number like 19.5T or 2039G", path=path, line=line,
                          got=value)
    try:
        if text is None:
            amount = parse_number(value, what)
        else:
            m = _RATE.fullmatch(text.strip())
            if not m:
                raise UsageError(f"{what} must be a number like 19.5T or 2039G")
            amount = parse_number(m.group(1), what, fraction=False) * RATE_UNITS[m.group(2)]
    except UsageError:
        raise DeviceError(f"{what} must be a number like 19.5T or 2039G", path=path, line=line,
                          got=value) from None
    if amount <= 0:
        raise DeviceError(f"{what} must be positive", path=path, line=line, got=value)
    return amount


def _text(data, key, path, required=True):
    from .spec import line_of, name_problem

    v = data.get(key)
    if v is None and not required:
        return ""
    if not isinstance(v, str) or not v.strip():
        raise DeviceError(f"'{key}' must be text", path=path, line=line_of(data, key), field=key,
                          got=v)
    bad = name_problem(v, multiline=key == "notes")  # printed on terminals: printable only
    if bad:
        raise DeviceError(f"'{key}' {bad}", path=path, line=line_of(data, key), field=key)
    return v


def device_from_data(data, path):
    """A ``Device`` from a parsed device file (LDict with lines)."""
    from .spec import line_of, name_problem, suggest

    if not isinstance(data, dict):
        raise DeviceError("a device file is a mapping with name, bandwidth and peak", path=path,
                          line=line_of(data))
    for k in data:
        if k not in DEVICE_FIELDS:
            raise DeviceError(f"unknown field{suggest(k, DEVICE_FIELDS)}", path=path,
                              line=line_of(data, k), field=str(k))
    for k in ("name", "bandwidth", "peak"):
        if k not in data:
            raise DeviceError(f"missing field '{k}'", path=path, line=line_of(data), field=k)
    name = _text(data, "name", path)
    title = _text(data, "title", path, required=False) or name
    kind = _text(data, "kind", path, required=False)
    bw = parse_rate(data["bandwidth"], "bandwidth (bytes/s)", path, line_of(data, "bandwidth"))
    peaks = data["peak"]
    if not isinstance(peaks, dict) or not peaks:
        raise DeviceError("'peak' must map data types to ops per second, like {fp32: 19.5T}",
                          path=path, line=line_of(data, "peak"), field="peak", got=peaks)
    peak = {}
    for k, v in peaks.items():
        if k not in DTYPES:
            raise DeviceError(f"unknown data type{suggest(k, DTYPES)}; one of "
                              f"{', '.join(DTYPES)}", path=path, line=line_of(peaks, k),
                              field=f"peak.{k}")
        peak[k] = parse_rate(v, f"peak.{k} (ops/s)", path, line_of(peaks, k))
    sources = data.get("sources") or {}
    if not isinstance(sources, dict) or not all(
            isinstance(v, str) and not name_problem(v, multiline=True) for v in sources.values()):
        raise DeviceError("'sources' must map fields to printable text", path=path,
                          line=line_of(data, "sources"), field="sources")
    _text(data, "notes", path, required=False)
    return Device(name, title, kind, bw, peak, {str(k): v for k, v in sources.items()}, path)


def load_device(name_or_path):
    """A ``Device`` from a bundled name (``mbcost list --devices``) or a YAML file path."""
    from .spec import parse_yaml, read_text

    if isinstance(name_or_path, Device):
        return name_or_path
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise UsageError(f"a device is a name or a file (got {show(name_or_path)})")
    text = os.fspath(name_or_path)
    p = Path(text)
    if not p.exists() and text.removesuffix(".yaml") in device_names():
        p = devices_dir() / f"{text.removesuffix('.yaml')}.yaml"
    elif not p.exists():
        raise UsageError(f"unknown device {show(text)}: not a file, nor one of "
                         f"{', '.join(device_names())}")
    shown = str(p) if p.parent == devices_dir() else text
    try:
        data = parse_yaml(read_text(p, regular_only=True), shown)
    except DeviceError:
        raise
    except SpecError as e:
        raise DeviceError(e.message, path=e.path or shown, line=e.line, got=e.got) from None
    return device_from_data(data, shown)


def layer_bound(macs, traffic_bytes, peak, bandwidth):
    """(time_s, intensity, bound) of one layer: exact Fractions, bound 'compute',
    'memory' or None (nothing to do)."""
    compute = Fraction(2 * macs) / peak
    memory = Fraction(traffic_bytes) / bandwidth
    intensity = Fraction(2 * macs, traffic_bytes) if traffic_bytes else None
    if not macs and not traffic_bytes:
        return Fraction(0), intensity, None
    return max(compute, memory), intensity, "compute" if compute >= memory else "memory"


def apply_device(report, device):
    """report (a ``memory.MemoryReport``) with every layer's roofline time, intensity and
    bound on device, at the report's activation type (its peak for that type)."""
    device = load_device(device)
    peak = device.peak_for(report.dtype)
    layers = []
    for m in report.layers:
        t, i, b = layer_bound(m.macs, m.traffic_bytes, peak, device.bandwidth)
        layers.append(replace(m, time_s=t, intensity=i, bound=b))
    report.layers, report.device = layers, device
    return report
