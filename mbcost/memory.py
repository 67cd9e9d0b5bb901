"""Memory metrics beyond one analysis: the closed forms of activations, traffic, peak and
latency (``memory_closed_form``, ``mbcost formula --metric``) and the layer-by-layer
comparison of two memory models (``explain_models``). The model itself (what a layer
reads, writes and keeps live) is ``mbcost.memory_model``; its names are here too.
"""

from __future__ import annotations

from fractions import Fraction

from .memory_model import (  # noqa: F401
    DEFAULT_DTYPE, DEFAULT_MEMORY_MODEL, DTYPES, FOLD_INTO, MEMORY_MODELS, WEIGHT_TERMS,
    LayerMemory, MemoryReport, _block, _elems, _expr, analyze_memory, attach, check_dtype,
    check_memory_model, largest_by_resolution, memory_settings, tensor_plan,
)


METRICS = {
    "activations": "output tensor bytes summed over every layer (act_bytes)",
    "traffic": "bytes read and written (traffic_bytes, ShuffleNetV2's memory access cost)",
    "peak": "peak live activation bytes: a Max over the layers' live bytes",
    "latency": "roofline bound in seconds on --device: a sum of per-layer Max terms",
    "intensity": "arithmetic intensity, FLOPs (2 x MACs) per byte of traffic: a ratio of "
                 "polynomials per layer, and for the network its total FLOPs over its traffic",
}


def memory_closed_form(spec, metric, convention="paper", exact=False, **settings):
    """(total, [(name, op, expr)]) of a memory metric (``METRICS``) as sympy expressions in
    alpha and rho, under the memory settings (``memory_settings``' keywords; ``latency``
    needs a device). Polynomials for activations and traffic; a ``Max`` for the peak and
    per layer for latency (a bound is the larger of two polynomials); for intensity, a ratio
    of two polynomials per layer (0 for a layer that moves no byte) and the network's total
    FLOPs over its total traffic. exact: the exact form's sizes (``closed_form(exact=True)``)
    instead of the continuous ones."""
    import sympy

    from .cost import get_convention, layer_cost
    from .errors import UsageError, show
    from .graph import build_graph
    from .layers import PRIMITIVES
    from .spec import load_spec

    if metric not in METRICS:
        raise UsageError(f"unknown metric {show(metric)}; one of madds, {', '.join(METRICS)}")
    st = memory_settings(**settings)
    if metric == "latency" and st["device"] is None:
        raise UsageError("--metric latency needs --device")
    conv = get_convention(convention)
    if not isinstance(exact, bool):
        raise UsageError("exact must be true or false")
    g = build_graph(load_spec(spec), symbolic=True, exact=exact)
    terms = [layer_cost(n, g.domain, conv)[2:] for n in g.nodes]
    rep = analyze_memory(g.nodes, [pt for _, pt in terms], [mt.get("mac", 0) for mt, _ in terms],
                         st["dtype"], st["memory_model"], st["weight_dtype"], conv.acts,
                         symbolic="exact" if exact else True)
    if metric == "peak":
        per = [m.live_bytes for m in rep.layers]
    elif metric == "activations":
        per = [m.act_bytes for m in rep.layers]
    elif metric == "traffic":
        per = [m.traffic_bytes for m in rep.layers]
    elif metric == "intensity":
        # FLOPs per byte: 2 x MACs / traffic, a ratio of polynomials (cancelled, not expanded)
        flops = [2 * _as_sympy(m.macs) for m in rep.layers]
        traffic = [sympy.expand(_as_sympy(m.traffic_bytes)) for m in rep.layers]
        per = [sympy.Integer(0) if t == 0 else sympy.cancel(f / t) for f, t in zip(flops, traffic)]
        layers = [(n.name, PRIMITIVES[n.kind].label(n.attrs, n.in_shapes), e)
                  for n, e in zip(g.nodes, per)]
        return sympy.cancel(sympy.expand(sympy.Add(*flops)) / sympy.Add(*traffic)), layers
    else:
        dev = st["device"]
        peak, bw = dev.peak_for(st["dtype"]), dev.bandwidth
        per = [sympy.Max(2 * sympy.Rational(peak.denominator, peak.numerator) * m.macs,
                         sympy.Rational(bw.denominator, bw.numerator) * m.traffic_bytes,
                         evaluate=not exact)
               for m in rep.layers]
    # the exact form is left as the cost rules built it (expanding floors only lengthens it)
    per = [_as_sympy(e) if exact else sympy.expand(_as_sympy(e)) for e in per]
    layers = [(n.name, PRIMITIVES[n.kind].label(n.attrs, n.in_shapes), e) for n, e in zip(g.nodes, per)]
    if metric == "peak":
        total = rep.peak_act_bytes
    else:
        total = sympy.Add(*per)
    return total, layers


def _as_sympy(value):
    """An internal closed-form value (a sympy expression, or an exact int or Fraction where
    a layer's size does not depend on alpha or rho) as a sympy expression; built by type,
    never parsed from text."""
    import sympy

    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return sympy.Integer(value)
    if isinstance(value, Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    raise TypeError(f"not a closed-form value: {type(value).__name__}")


def layer_role(report, i, nodes_kind):
    """How the memory model treats layer i, in words: 'materialized', 'folded or in place',
    'inside a block (not materialized)'."""
    if report.layers[i].materialized:
        return "materialized"
    return "folded or in place" if nodes_kind in ("bn", "act") else "inside a block"


def explain_models(spec, model, other, alpha=1, resolution=None, rho=None, dtype=None,
                   convention="paper"):
    """How two memory models differ on one spec: {'model', 'other', per-layer 'rows' where
    the traffic or the live bytes differ (name, op, each model's role, traffic and live
    bytes), and the totals}: plain data (``mbcost table --explain --memory-model A
    --against-memory-model B``)."""
    from .cost import analyze
    from .errors import UsageError

    check_memory_model(model)
    check_memory_model(other)
    if model == other:
        raise UsageError(f"--explain: nothing to compare, both memory models are '{model}'")
    a = analyze(spec, alpha=alpha, resolution=resolution, rho=rho, convention=convention,
                memory={"memory_model": model, "dtype": dtype})
    b = analyze(spec, alpha=alpha, resolution=resolution, rho=rho, convention=convention,
                memory={"memory_model": other, "dtype": dtype})
    rows = []
    for i, (ra, rb) in enumerate(zip(a.rows, b.rows)):
        ma, mb = ra.mem, rb.mem
        if (ma.traffic_bytes, ma.live_bytes, ma.weight_bytes) == \
                (mb.traffic_bytes, mb.live_bytes, mb.weight_bytes):
            continue
        rows.append({"name": ra.name, "op": ra.op,
                     "role": layer_role(a.memory, i, ra.kind),
                     "other_role": layer_role(b.memory, i, rb.kind),
                     "traffic_bytes": ma.traffic_bytes, "other_traffic_bytes": mb.traffic_bytes,
                     "live_bytes": ma.live_bytes, "other_live_bytes": mb.live_bytes})
    ta, tb = a.memory, b.memory
    return {"model": a.model, "memory_model": model, "other": other, "dtype": ta.dtype,
            "rows": rows,
            "totals": {"traffic_bytes": ta.traffic_bytes, "other_traffic_bytes": tb.traffic_bytes,
                       "weight_bytes": ta.weight_bytes, "other_weight_bytes": tb.weight_bytes,
                       "peak_act_bytes": ta.peak_act_bytes, "peak_at": ta.peak_at,
                       "other_peak_act_bytes": tb.peak_act_bytes, "other_peak_at": tb.peak_at}}


def explain_models_text(d):
    """The memory-model explanation as plain text lines (one layer a line, then totals)."""
    a, b = d["memory_model"], d["other"]
    out = [f"{d['model']}: memory model '{a}' vs '{b}' ({d['dtype']}), the layers whose "
           f"traffic or live bytes differ ({len(d['rows'])})"]
    for r in d["rows"]:
        out.append(f"  {r['name']} [{r['op']}]: {a} {r['role']}, traffic {r['traffic_bytes']:,}, "
                   f"live {r['live_bytes']:,}; {b} {r['other_role']}, traffic "
                   f"{r['other_traffic_bytes']:,}, live {r['other_live_bytes']:,}")
    t = d["totals"]
    out.append(f"traffic: {a} {t['traffic_bytes']:,}, {b} {t['other_traffic_bytes']:,} "
               f"({t['traffic_bytes'] - t['other_traffic_bytes']:+,}); weights: {a} "
               f"{t['weight_bytes']:,}, {b} {t['other_weight_bytes']:,}")
    out.append(f"peak live activations: {a} {t['peak_act_bytes']:,} at {t['peak_at']}, {b} "
               f"{t['other_peak_act_bytes']:,} at {t['other_peak_at']}")
    return "\n".join(out) + "\n"
