"""The column model of ``mbcost table``: every output column is one definition.

A ``Col`` is a textview ``Column`` (terminal header, alignment, role, drop rank) that
also carries what the other formats need: its JSON/CSV field name, the noun it counts
(``unit``), how its value is read from a layer ``Row``, how totals combine it (``SUM``,
``MAX`` or any function of the values; None: no total), whether a share of the total
follows it, its JSON Schema entry (an ``Encoding`` and a description) and the option
that shows it (``when``). ``LAYER`` lists the per-layer columns. The two layouts derive
theirs from it: ``layer_columns`` (one row per layer, plus row numbers and shares on
screen) and ``kind_columns`` (one row per layer type, MobileNet v1's Table 2: every
column with a total, combined per type, and its share). The renderers in ``report``
(terminal and plain text, CSV, JSON, Markdown), the library's records (``Row.to_dict``,
``Row.record``, ``KindRow`` from ``Analysis.by_kind``) and the JSON Schemas (``schemas``)
all iterate those lists, and ``Layout`` computes the values and totals they print.

To add a column, append one ``Col`` to ``LAYER`` (CSV columns are only ever appended),
document its field in docs/output-format.md and test its values; tests/test_columns.py
fails if any format, the schema or the docs leave it out. No cost logic lives here.
"""

from __future__ import annotations

import copy
from collections import namedtuple
from fractions import Fraction
from operator import attrgetter, itemgetter

from .textview import BAR, NAME, Column
from .units import MEMORY_QUANTITIES, QUANTITIES

# ---------------------------------------------------------------- how values are written


def number(x):
    """A Fraction as a JSON-friendly number: int if whole, else float."""
    if isinstance(x, Fraction):
        return int(x) if x.denominator == 1 else float(x)
    return x


def fmt_alpha(a):
    """The width multiplier as every text output shows it: 0.75 -> '0.75', 1 -> '1.0'
    (JSON gives ``number(a)``: 0.75, 1)."""
    a = Fraction(a)
    return f"{float(a):g}" if a.denominator != 1 else f"{int(a)}.0"


def shape_str(s):
    """(112, 112, 32) -> '112x112x32'."""
    return "x".join(str(int(v)) for v in s)


def si(n, unit=""):
    """Human units: 76524800 -> '76.52M'."""
    n = int(n)
    for div, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(n) >= div:
            return f"{n / div:.2f}{suffix}{unit}"
    return f"{n}{unit}"


def pct(part, whole):
    """Share as a percentage (0.0 when whole is 0)."""
    return 100.0 * part / whole if whole else 0.0


def _same(v):
    return v


class Encoding:
    """How one type of value is written: its JSON Schema, its JSON value, its CSV cell,
    its text on screen (``text``; ``exact`` with --exact and in totals) and in Markdown
    (exact unless said otherwise), its alignment on screen, whether Markdown right-aligns
    it, and (``parts``) the suffixes of the flat fields ``Row.record`` splits it into
    (``flat`` writes a value, or each part, there). ``memo``: values repeat (shapes), so
    each one's text is made once."""

    __slots__ = ("schema", "json", "csv", "text", "exact", "markdown", "align", "right",
                 "parts", "flat", "memo")

    def __init__(self, schema, json=_same, csv=_same, text=str, exact=None, markdown=None,
                 align="right", right=True, parts=(), flat=None, memo=False):
        self.schema, self.json, self.csv, self.text = schema, json, csv, text
        self.exact = exact or text
        self.markdown = markdown or self.exact
        self.align, self.right, self.parts, self.flat, self.memo = align, right, parts, flat, memo
        self.flat = flat or json

    def write(self, values, fn):
        """[fn(v) for v in values], fn one of this encoding's writers (a list either way)."""
        if fn is _same:
            return values if isinstance(values, list) else list(values)
        if self.memo and fn is not self.json:
            done = {}
            out = []
            for v in values:
                t = done.get(v)
                if t is None:
                    t = done[v] = fn(v)
                out.append(t)
            return out
        return list(map(fn, values))

    def split(self, values):
        """The flat columns of values: one per part (or values written by ``flat``)."""
        if not self.parts:
            return [self.write(values, self.flat)]
        values = values if isinstance(values, list) else list(values)
        return [list(map(self.flat, map(itemgetter(i), values))) for i in range(len(self.parts))]


COUNT_SCHEMA = {"type": "integer", "minimum": 0}
SHAPE_SCHEMA = {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 3,
                "maxItems": 3}


def _opt(v):
    return "" if v is None else v


def _exact(n):
    return f"{int(n):,}"


TEXT = Encoding({"type": "string"}, text=_same, align="left", right=False)
SHAPE = Encoding(SHAPE_SCHEMA, json=lambda s: [int(v) for v in s], csv=shape_str, text=shape_str,
                 right=False, parts=("h", "w", "c"), flat=int, memo=True)
OPT_INT = Encoding({"type": ["integer", "null"]}, csv=_opt, text=lambda v: str(_opt(v)),
                   flat=lambda v: int(v or 0))
COUNT = Encoding(COUNT_SCHEMA, json=int, csv=int, text=si, exact=_exact)
INT = Encoding(COUNT_SCHEMA, json=int, csv=int)  # small counts, written plainly: layers, rows
# shares in percent: per layer on screen 1 decimal (Markdown 2, with %); per type as
# MobileNet v1's Table 2, 2 decimals (JSON and CSV round to 2 decimals)
LAYER_SHARE = Encoding({"type": "number", "minimum": 0}, text=lambda x: f"{x:.1f}",
                       markdown=lambda x: f"{x:.2f}%")
KIND_SHARE = Encoding({"type": "number", "minimum": 0}, json=lambda x: round(x, 2),
                      csv=lambda x: f"{round(x, 2):.2f}", text=lambda x: f"{x:.2f}%")


# ---------------------------------------------------------------- the definitions

def _max(values):
    return max(values, default=0)


SUM, MAX = sum, _max  # how totals combine a column (any function of its values will do)


class Options:
    """What the options ask of a table's columns: ``flops`` (FLOPs = 2 x mult-adds),
    ``exact`` (exact integers on screen instead of K/M/G), ``memory`` (the memory columns,
    ``--memory``), ``device`` (the roofline columns, ``--device``), ``limits`` (a
    sweep's budget column, with limits) and ``heads`` (the ``head`` field, for a network
    with side outputs). ``FLAGS`` are the options a column's ``when`` may name. Memory,
    device and heads follow the analysis: a table has memory columns when its ``Analysis``
    was made with memory, a head field when a layer is in a head (``for_rows``)."""

    FLAGS = ("flops", "memory", "device", "limits", "heads")
    __slots__ = ("flops", "exact", "memory", "device", "limits", "heads")

    def __init__(self, flops=False, exact=False, memory=False, device=False, limits=False,
                 heads=False):
        self.flops, self.exact = bool(flops), bool(exact)
        self.memory, self.device, self.limits = bool(memory), bool(device), bool(limits)
        self.heads = bool(heads)

    def for_rows(self, rows):
        """These options, with memory and device as the rows carry them (``Row.mem``), and
        heads when a row is in a head (``Row.head``)."""
        mem = next((r.mem for r in rows), None) if rows else None
        out = copy.copy(self)
        out.memory = mem is not None
        out.device = mem is not None and mem.time_s is not None
        out.heads = any(getattr(r, "head", None) is not None for r in rows or ())
        return out

    @classmethod
    def every(cls):
        """Every flag on: the columns a layout can have at all (its JSON Schema)."""
        return cls(**dict.fromkeys(cls.FLAGS, True))

    @property
    def scale(self):
        """What the screen and Markdown multiply an ``as_flops`` column by."""
        return 2 if self.flops else 1


class Col(Column):
    """One output column, defined once.

    name: the JSON field and CSV column (None: shown on screen only). header: its
    heading on screen (None: JSON and CSV only); md_header: in Markdown, if different.
    enc: how values are written (an ``Encoding``); doc: the JSON Schema description;
    unit: the noun it counts ('mult-adds'), for derived descriptions. value(row): the
    value from a layer ``Row``. total: how totals combine the values of every layer
    (``SUM``, ``MAX``, a function; None: no total); total_doc: the description of the
    total's schema entry. share: a '%' of the total follows (per layer type: a
    ``NAME_pct`` field too); bar: a share bar follows that, on a terminal. as_flops:
    shown as FLOPs (2x, headed 'FLOPs') on screen and in Markdown with --flops. when: the
    ``Options`` flag that adds the column. cell(row): its text on screen and in Markdown,
    if not the encoded value. label: holds 'Total' in the total row. at_total(analysis):
    its cell in the total row of CSV and the terminal when it has no total (the network
    input under Input). flat: the prefix of its flat fields in ``Row.record``. kind_doc:
    the schema description in the per-type layout. markdown_total: Markdown's total row
    shows its total. The remaining keywords lay it out on a terminal (textview.Column).
    """

    __slots__ = ("name", "md_header", "enc", "doc", "unit", "value", "total", "total_doc",
                 "share", "bar", "as_flops", "when", "cell", "label", "at_total", "flat",
                 "kind_doc", "markdown_total", "derive", "source", "share_of")

    def __init__(self, name, header, enc, doc="", *, unit="", value=None, total=None,
                 total_doc=None, share=False, bar=False, as_flops=False, when=None, cell=None,
                 label=False, at_total=None, flat=None, kind_doc=None, markdown_total=True,
                 md_header=None, derive=None, source=None, share_of=None, **layout):
        layout.setdefault("align", enc.align)
        super().__init__(header or "", **layout)
        self.header = header
        self.name, self.md_header, self.enc, self.doc, self.unit = name, md_header, enc, doc, unit
        self.value = attrgetter(name) if value is None and name else value
        self.total, self.total_doc, self.share, self.bar = total, total_doc, share, bar
        self.as_flops, self.when, self.cell, self.label = as_flops, when, cell, label
        self.at_total, self.flat, self.kind_doc = at_total, flat, kind_doc
        self.markdown_total, self.derive = markdown_total, derive
        self.source, self.share_of = source, share_of  # derived columns: what they come from
        missing = [what for what, bad in (
            ("a description (doc)", name and not doc),
            ("a value or a derivation", self.value is None and derive is None),
            ("a JSON/CSV name or a header", not name and header is None),
            ("a unit (share)", share and not unit),
            ("a name (a total is a JSON field)", total and not name),
            ("a known option (when)", when is not None and when not in Options.FLAGS),
        ) if bad]
        if missing:
            raise ValueError(f"column {name or header!r} needs {', '.join(missing)}")

    def __repr__(self):
        return f"Col({self.name!r}, {self.header!r})"

    @property
    def schema(self):
        """Its JSON Schema entry."""
        return {**self.enc.schema, "description": self.doc}

    def shown(self, opts):
        """Whether the options show this column."""
        return self.when is None or getattr(opts, self.when)

    def heading(self, opts, markdown=False):
        """Its heading on screen (or in Markdown) under the options."""
        if self.as_flops and opts.flops:
            return "FLOPs"
        return (self.md_header or self.header) if markdown else self.header


def _mem(attr):
    """A memory column's value: the attribute of the row's ``LayerMemory``."""
    get = attrgetter(attr)
    return lambda r: get(r.mem)


def _num(x):
    return None if x is None else float(x)


def _csv_num(x):
    return "" if x is None else repr(float(x))


def _us(x):
    return "" if x is None else f"{float(x) * 1e6:.2f}"


def _intensity(x):
    return "" if x is None else f"{float(x):.2f}"


HEAD = Encoding({"type": ["string", "null"]}, csv=_opt, text=lambda v: v or "", align="left",
               right=False, flat=_opt)
# bytes are counts; intensity (FLOPs per byte) and time (seconds) are exact Fractions,
# written as floats; time on screen in microseconds
BYTES = COUNT
INTENSITY = Encoding({"type": ["number", "null"], "minimum": 0}, json=_num, csv=_csv_num,
                     text=_intensity)
SECONDS = Encoding({"type": "number", "minimum": 0}, json=_num, csv=_csv_num, text=_us)
BOUND = Encoding({"type": ["string", "null"], "enum": ["compute", "memory", None]}, csv=_opt,
                 text=lambda v: v or "", align="left", right=False)


def _stride(r):
    return f" /s{r.stride}" if r.stride and r.stride != 1 else ""


# The per-layer columns, in JSON and CSV order (new ones go at the end). On screen the
# ones with a header show, in this order, after the row number; shares follow theirs.
LAYER = [
    Col("name", "Layer", TEXT, "layer name, unique", label=True, role=NAME, key=True),
    Col("kind", None, TEXT, "primitive kind: conv, dw, pw, fc, bn, act, pool, add, mul, concat, "
        "dropout, flatten, unknown"),
    Col("op", "Type", TEXT, "the type label used by --by kind", role=NAME,
        cell=lambda r: r.op + _stride(r)),
    Col("input", "Input", SHAPE, "first input [H, W, C]", flat="in", drop=1,
        at_total=lambda a: a.input),
    Col("output", "Output", SHAPE, "output [H, W, C]", flat="out", drop=2),
    Col("k", None, OPT_INT, "kernel size, null if none"),
    Col("stride", None, OPT_INT, "stride, null if none"),
    Col("madds", "Mult-adds", COUNT, "mult-adds under the convention", unit="mult-adds",
        total=SUM, share=True, bar=True, as_flops=True,
        kind_doc="mult-adds of these layers under the convention"),
    Col("params", "Params", COUNT, "parameters under the convention", unit="parameters",
        total=SUM, share=True, md_header="Parameters", kind_doc="parameters of these layers"),
    Col("flops", None, COUNT, "2 x madds; only with --flops", unit="FLOPs", total=SUM,
        when="flops", value=lambda r: 2 * r.madds),
    # --memory (mbcost.memory): sizes and traffic in bytes of --dtype under --memory-model
    Col("act_elems", None, COUNT, "output tensor elements; only with --memory",
        unit="activation elements", total=SUM, when="memory", value=_mem("act_elems")),
    Col("act_bytes", "Act bytes", BYTES, "output tensor bytes in --dtype; only with --memory",
        unit="activation bytes", total=SUM, when="memory", value=_mem("act_bytes"), drop=3),
    Col("weight_bytes", "Weights B", BYTES, "stored parameters (conv/FC weights and biases, "
        "BN's 4 per channel) in bytes of the weight type; only with --memory",
        unit="weight bytes", total=SUM, when="memory", value=_mem("weight_bytes"), drop=4),
    Col("read_bytes", None, BYTES, "bytes read: inputs and weights, under the memory model; "
        "only with --memory", unit="bytes read", total=SUM, when="memory",
        value=_mem("read_bytes")),
    Col("write_bytes", None, BYTES, "bytes written: the output, under the memory model; only "
        "with --memory", unit="bytes written", total=SUM, when="memory",
        value=_mem("write_bytes")),
    Col("traffic_bytes", "Traffic B", BYTES, "read_bytes + write_bytes (ShuffleNetV2's memory "
        "access cost); only with --memory", unit="bytes of traffic", total=SUM, share=True,
        when="memory", value=_mem("traffic_bytes"),
        kind_doc="bytes read and written by these layers"),
    Col("live_bytes", None, BYTES, "activation bytes live while the layer runs; the total is "
        "the peak; only with --memory", unit="live bytes", total=MAX, when="memory",
        value=_mem("live_bytes")),
    # --device (mbcost.roofline): a roofline bound, not a measurement
    Col("intensity", "FLOP/B", INTENSITY, "2 x MACs per byte of traffic (null: no traffic); "
        "only with --device", when="device", value=_mem("intensity")),
    Col("time_s", "Time us", SECONDS, "roofline bound in seconds, max(2 x MACs / peak, "
        "traffic / bandwidth): a bound, not a measurement; only with --device",
        unit="roofline seconds", total=SUM, share=True, when="device", value=_mem("time_s"),
        kind_doc="roofline bound of these layers in seconds (not a measurement)"),
    Col("bound", "Bound", BOUND, "compute or memory: which roof bounds the layer (null: it "
        "moves and computes nothing); only with --device", when="device", value=_mem("bound")),
    # the `head` kind (side outputs): which head a layer is in; only for a network with heads
    Col("head", None, HEAD, "the head (side output, the spec's `head` kind) the layer belongs "
        "to, null on the main path; only for a network with heads", when="heads",
        value=attrgetter("head")),
]


# ---------------------------------------------------------------- sweep points

class PointRow:
    """One point of a sweep as its columns read it: the ``grid.Point`` (a ``MemoryPoint``
    with memory) and the limits it breaks (``over``: quantity names, [] within)."""

    __slots__ = ("point", "over")

    def __init__(self, point, over=()):
        self.point, self.over = point, list(over)


def _pt(attr):
    get = attrgetter(attr)
    return lambda r: get(r.point)


_SHORT = {"peak_memory": "peak"}  # on screen and in Markdown


def _over_text(over):
    return "OVER " + ",".join(_SHORT.get(q, q) for q in over) if over else "ok"


ALPHA = Encoding({"type": "number"}, json=number, csv=fmt_alpha, text=fmt_alpha)
RESOLUTION = Encoding({"type": "integer", "minimum": 1}, json=int, csv=int)
OVER = Encoding({"type": "array", "items": {"enum": [*QUANTITIES, *MEMORY_QUANTITIES]}},
                json=list, csv=lambda v: " ".join(v), text=_over_text, align="left", right=False)

# A sweep point's columns (``mbcost sweep``: a JSON point's fields, the CSV's columns, and
# with memory or limits the text and Markdown table's), in order; new ones go at the end.
# The memory ones are ``table --memory``'s totals at that point, under the same names.
POINT = [
    Col("alpha", "alpha", ALPHA, "width multiplier alpha: an integer when whole, else a float",
        value=_pt("alpha"), key=True),
    Col("resolution", "res", RESOLUTION, "input height in pixels", value=_pt("resolution"),
        key=True),
    Col("madds", "Mult-adds", COUNT, "mult-adds under the convention, exact",
        value=_pt("madds")),
    Col("params", "Params", COUNT, "parameters under the convention, exact", value=_pt("params")),
    Col("peak_act_bytes", "Peak B", BYTES, "peak live activation bytes in --dtype under "
        "--memory-model (table --memory's totals.peak_act_bytes); only with --memory or a "
        "memory limit", when="memory", value=_pt("peak_memory")),
    Col("peak_at", None, TEXT, "the layer where the peak is first reached; only with --memory "
        "or a memory limit", when="memory", value=_pt("peak_at")),
    Col("weight_bytes", "Weights B", BYTES, "weight bytes in the weight type (totals."
        "weight_bytes); only with --memory or a memory limit", when="memory",
        value=_pt("weights")),
    Col("traffic_bytes", "Traffic B", BYTES, "bytes read and written (totals.traffic_bytes, "
        "ShuffleNetV2's memory access cost); only with --memory or a memory limit",
        when="memory", value=_pt("traffic")),
    Col("time_s", "Time us", SECONDS, "roofline bound in seconds on --device (totals.time_s): "
        "a bound, not a measurement; only with --device", when="device", value=_pt("time_s")),
    Col("over", "Budget", OVER, "the limits this point exceeds ([]: within every limit); only "
        "with limits", when="limits", value=attrgetter("over")),
]


def point_columns(opts, fmt):
    """A sweep's point columns in a format ('data': JSON and CSV; 'text'; 'markdown')."""
    return [c for c in POINT if c.shown(opts) and _in(c, fmt)]


# ---------------------------------------------------------------- the two layouts

FORMATS = ("data", "text", "markdown")  # JSON and CSV; the terminal and plain text; Markdown


def _in(c, fmt):
    return c.name is not None if fmt == "data" else c.header is not None


def _rows_count(lay):
    return range(1, len(lay.rows) + 1)


ROW_NUMBER = Col(None, "#", INT, derive=_rows_count)


def _share_of(c, enc, name=None, footer=""):
    """The share column that follows c: its values in percent of c's total."""
    def derive(lay):
        t = lay.total(c)
        return [pct(v, t) for v in lay.values(c)]

    doc = f"percent of the total {c.unit}, rounded to 2 decimals" if name else ""
    return Col(name, "%", enc, doc, derive=derive, share_of=c, footer=footer, when=c.when)


def _bar_of(share):
    return Col(None, "Share", share.enc, derive=share.derive, share_of=share.share_of, role=BAR,
               align="left")


def layer_columns(opts, fmt):
    """The per-layer layout's columns in a format ('data': JSON and CSV; 'text';
    'markdown'): LAYER's, and on screen the row number first and a share ('%', then on a
    terminal a bar) after each column that has one."""
    out = [] if fmt == "data" else [ROW_NUMBER]
    for c in LAYER:
        if not (c.shown(opts) and _in(c, fmt)):
            continue
        out.append(c)
        if c.share and fmt != "data":
            share = _share_of(c, LAYER_SHARE, footer="100%")
            out.append(share)
            if c.bar and fmt == "text":
                out.append(_bar_of(share))
    return out


class Group:
    """The layers of one type (op label), in network order, and their mult-adds and
    parameters (which order the types)."""

    __slots__ = ("type", "rows", "madds", "params")

    def __init__(self, type_, rows):
        self.type, self.rows = type_, rows
        self.madds, self.params = sum(r.madds for r in rows), sum(r.params for r in rows)


def kind_groups(analysis, all_kinds=True):
    """The per-type layout's rows: a ``Group`` per type, most mult-adds first (then most
    parameters, then by name), as MobileNet v1's Table 2; without all_kinds only the types
    with a cost under the convention."""
    by_op = {}
    for r in analysis.rows:
        by_op.setdefault(r.op, []).append(r)
    groups = [Group(op, rows) for op, rows in by_op.items()]
    groups.sort(key=lambda g: (-g.madds, -g.params, g.type))
    # a type of operators mbcost could not count (ONNX --allow-unknown) is always listed
    return [g for g in groups if all_kinds or g.madds or g.params or any(map(has_traffic, g.rows))
            or g.type.startswith("unknown: ")]


def has_traffic(row):
    """Whether a layer reads, writes or stores bytes (with --memory: a cost to show)."""
    m = row.mem
    return m is not None and bool(m.read_bytes or m.write_bytes or m.weight_bytes)


KIND_TYPE = Col("type", "Type", TEXT, "the layer type (op label): Conv 1x1, Conv DW 3x3, FC...",
                label=True, role=NAME, key=True)
KIND_LAYERS = Col("layers", "Layers", INT, "how many layers have this type",
                  value=lambda g: len(g.rows), total=SUM, total_doc="layers in the listed types",
                  markdown_total=False)


def _per_type(c):
    """c combined over each type's layers (its total rule applied to the group)."""
    value, total = c.value, c.total
    per = copy.copy(c)
    per.value = lambda g: total(map(value, g.rows))
    per.doc = c.kind_doc or c.doc
    per.source = c
    return per


def kind_columns(opts, fmt):
    """The per-type layout's columns: the type, how many layers it has, then every LAYER
    column with a total, combined per type, each followed by its share of the network's
    total (a NAME_pct field in JSON and CSV; '%', then a bar, on screen)."""
    out = [KIND_TYPE, KIND_LAYERS]
    for c in LAYER:
        if not (c.total and c.shown(opts) and _in(c, fmt)):
            continue
        per = _per_type(c)
        out.append(per)
        if c.share:
            share = _share_of(per, KIND_SHARE, f"{c.name}_pct", footer="100.00%")
            out.append(share)
            if c.bar and fmt == "text":
                out.append(_bar_of(share))
    return out


class Layout:
    """A table's rows and columns under some options: every column's values (in row
    order) and totals.

    rows: the rows shown (layer ``Row``s, or ``Group``s per type). The totals of LAYER's
    columns (and of their per-type forms) combine every layer of the network, hidden
    ones included; those of a layout's own columns, the rows shown."""

    def __init__(self, analysis, opts, columns, rows):
        self.analysis, self.opts, self.columns, self.rows = analysis, opts, columns, rows
        self._values, self._totals = {}, {}

    def values(self, c):
        """c's value in every row shown."""
        got = self._values.get(id(c))
        if got is None:
            got = c.derive(self) if c.derive else list(map(c.value, self.rows))
            self._values[id(c)] = got
        return got

    def total(self, c):
        """c's total: LAYER columns (and their per-type forms) over the whole network,
        the layout's own over the rows shown."""
        got = self._totals.get(id(c))
        if got is None:
            base = c.source or c
            if any(base is d for d in LAYER):
                got = base.total(map(base.value, self.analysis.rows))
            else:
                got = c.total(self.values(c))
            self._totals[id(c)] = got
        return got

    def totals(self):
        """{name: JSON value} of the columns with a total, in column order."""
        return {c.name: c.enc.json(self.total(c)) for c in self.columns if c.total}


def layer_dict(row, opts=None):
    """A layer as in ``mbcost table --format json``."""
    opts = (opts or Options()).for_rows([row])
    return {c.name: c.enc.json(c.value(row)) for c in layer_columns(opts, "data")}


def record_fields(opts=None):
    """The fields of ``Row.record``: JSON's, with shapes split into PREFIX_h, _w, _c."""
    out = []
    for c in layer_columns(opts or Options(), "data"):
        out += [f"{c.flat or c.name}_{p}" for p in c.enc.parts] if c.enc.parts else [c.name]
    return tuple(out)


def layer_records(rows, opts=None):
    """Each layer as one flat record, every number a Python int (see ``Row.record``;
    with memory columns, intensity and time are floats)."""
    opts = (opts or Options()).for_rows(rows)
    columns = []
    for c in layer_columns(opts, "data"):
        columns += c.enc.split(map(c.value, rows))
    fields = record_fields(opts)
    return [dict(zip(fields, values)) for values in zip(*columns)]


def layer_layout(analysis, fmt, opts=None, rows=None):
    """The per-layer layout in a format: every layer, or rows."""
    opts = (opts or Options()).for_rows(analysis.rows)
    return Layout(analysis, opts, layer_columns(opts, fmt), analysis.rows if rows is None else rows)


def kind_layout(analysis, fmt, opts=None, all_kinds=True):
    """The per-type layout in a format (always exact integers on screen)."""
    opts = Options(opts.flops if opts else False, exact=True).for_rows(analysis.rows)
    return Layout(analysis, opts, kind_columns(opts, fmt), kind_groups(analysis, all_kinds))


KindRow = namedtuple("KindRow", [c.name for c in kind_columns(Options(), "data")])
KindRow.__doc__ = """One layer type's totals (a row of MobileNet v1's Table 2): the per-type
layout's fields (the by-kind CSV's columns); shares in percent of the network's totals
(0.0 when a total is 0), not rounded."""


def kind_records(analysis):
    """A ``KindRow`` per type (``Analysis.by_kind``), every type, most mult-adds first."""
    opts = Options(exact=True)  # KindRow's fields: the default columns, memory or not
    lay = Layout(analysis, opts, kind_columns(opts, "data"), kind_groups(analysis, True))
    return [KindRow(*values) for values in zip(*[lay.values(c) for c in lay.columns])]
