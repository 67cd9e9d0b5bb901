"""Densify separable pairs into standard convolutions (MobileNets Table 4) and compare
two analyses layer by layer."""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from .cost import DEFAULT_CONVENTION, analyze_graph, parse_alpha, resolve_resolution
from .errors import UsageError
from .graph import Graph, Node, build_graph
from .spec import load_spec

# ---------------------------------------------------------------- densify and compare

_SKIPPABLE = ("bn", "act")


def densify(graph):
    """(graph, merged): every depthwise (multiplier 1) followed by a pointwise conv on its
    output (only BN/activations between, nothing else reading them) replaced by the
    standard conv of the same kernel, stride, input and output (MobileNets Table 4).

    merged maps each removed node name to the new conv's name."""
    nodes = graph.nodes
    # a node's output tensor is its index + 1 (tensor 0 is the network input; graph.Builder)
    readers = {}
    for n in nodes:
        for t in n.inputs:
            readers[t] = readers.get(t, 0) + 1
    out, merged, i = [], {}, 0
    while i < len(nodes):
        n = nodes[i]
        j = i + 1
        if n.kind == "dw" and n.attrs.get("multiplier", 1) == 1:
            while j < len(nodes) and nodes[j].kind in _SKIPPABLE and nodes[j].inputs == [j]:
                j += 1
            pw = nodes[j] if j < len(nodes) else None
            chain_private = all(readers.get(t, 0) == 1 for t in range(i + 1, j + 1))
            if (pw is not None and pw.kind == "pw" and pw.attrs["groups"] == 1
                    and pw.inputs == [j] and chain_private):
                name = _pair_name(n.name, pw.name)
                attrs = {"k": n.attrs["k"], "stride": n.attrs["stride"],
                         "padding": n.attrs["padding"], "bias": pw.attrs["bias"], "groups": 1,
                         "depthwise": False, "c_out": pw.attrs["c_out"]}
                if "dilation" in n.attrs:
                    attrs["dilation"] = n.attrs["dilation"]
                out.append(Node(name, "conv", attrs, list(n.inputs), list(n.in_shapes),
                                pw.out_shape, n.path, n.line, "dense"))
                for m in nodes[i:j + 1]:
                    merged[m.name] = name
                i = j + 1
                continue
        out.append(n)
        i += 1
    return Graph(graph.spec, out, graph.input_shape, graph.domain, graph.train), merged


def _pair_name(dw, pw):
    if dw.endswith(".dw") and pw.endswith(".pw") and dw[:-3] == pw[:-3]:
        return dw[:-3]
    return f"{dw}+{pw}"


def dense_analysis(spec, alpha=1, resolution=None, rho=None, convention=DEFAULT_CONVENTION):
    """(Analysis, merged) of spec with every separable pair made a standard conv."""
    spec = load_spec(spec)
    a = parse_alpha(alpha)
    res = resolve_resolution(spec, resolution, rho)
    g, merged = densify(build_graph(spec, a, res))
    an = analyze_graph(spec, g, a, res, convention)
    return replace(an, title=f"{an.title}, dense (separable pairs as standard convs)"), merged


@dataclass
class CompareRow:
    """One layer (or merged pair, or layer type) on both sides; None where a side lacks it."""

    name: str
    op_a: str | None
    op_b: str | None
    madds_a: int | None
    madds_b: int | None
    params_a: int | None
    params_b: int | None
    theory: Fraction | None = None  # dense: 1/N + 1/D_K^2 (MobileNets §3.1)
    layers_a: int = 0  # how many of A's layers the row holds
    layers_b: int = 0


@dataclass
class Comparison:
    """Per-layer (or per-type) and total differences between two analyses (B relative to A)."""

    a: object
    b: object
    rows: list
    dense: bool = False
    by: str = "layer"  # "layer": rows matched by name; "kind": by layer type (the names differ)


def names_line_up(a, b):
    """Whether a and b can be compared layer by layer: at least half of the smaller side's
    costed layer names are also on the other side (v1 vs v1_shallow yes, v1 vs v2 no)."""
    na = {r.name for r in a.rows if r.madds or r.params}
    nb = {r.name for r in b.rows if r.madds or r.params}
    return 2 * len(na & nb) >= min(len(na), len(nb))


def compare(a, b, merged=None, by=None):
    """Align the rows of analyses a and b by layer name (a's rows renamed by merged), or,
    with by="kind" (the default when the names do not line up), by layer type."""
    merged = merged or {}
    if by is None:
        by = "layer" if merged or names_line_up(a, b) else "kind"
    if by not in ("layer", "kind"):
        raise UsageError(f"compare by 'layer' or 'kind', got {by!r}")
    groups, order = {}, []

    def add(row, side):
        if by == "kind":
            key = row.op
        else:
            key = merged.get(row.name, row.name) if side == "a" else row.name
        if not (row.madds or row.params):
            return
        if key not in groups:
            groups[key] = {"a": [], "b": []}
            order.append(key)
        groups[key][side].append(row)

    for r in a.rows:
        add(r, "a")
    for r in b.rows:
        add(r, "b")
    rows = []
    for key in order:
        ga, gb = groups[key]["a"], groups[key]["b"]
        theory = None
        if merged and len(ga) == 2 and len(gb) == 1 and gb[0].source_kind == "dense":
            n_out, k = gb[0].output[2], gb[0].k
            theory = Fraction(1, n_out) + Fraction(1, k * k)
        if by == "kind":
            ops = (key if ga else None, key if gb else None)
        else:
            ops = (" + ".join(r.op for r in ga) or None, " + ".join(r.op for r in gb) or None)
        rows.append(CompareRow(
            key, *ops,
            sum(r.madds for r in ga) if ga else None, sum(r.madds for r in gb) if gb else None,
            sum(r.params for r in ga) if ga else None, sum(r.params for r in gb) if gb else None,
            theory, len(ga), len(gb)))
    if by == "kind":  # largest first, as `table --by kind`
        rows.sort(key=lambda r: (-max(r.madds_a or 0, r.madds_b or 0),
                                 -max(r.params_a or 0, r.params_b or 0), r.name))
    return Comparison(a, b, rows, dense=bool(merged), by=by)
