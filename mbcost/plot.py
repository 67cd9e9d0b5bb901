"""Charts of a table and of a sweep (the optional matplotlib extra). No cost logic.

- ``plot_layers``: horizontal bars, mult-adds and parameters side by side, names
  readable on the left. A network of up to ``MAX_BARS`` costed layers gets one
  bar per layer in network order; a larger one (EfficientNet-B7 has 815) gets
  its ``TOP_LAYERS`` largest layers per panel plus one bar for all the others;
  ``by_kind`` gets one bar per layer type (the MobileNet paper's Table 2).
- ``plot_sweep``: mult-adds against alpha and resolution, parameters against
  alpha, on log axes (MobileNets Figures 4-5). Lines are coloured along a
  sequential colormap; more than ``MAX_LEGEND`` lines get a colorbar instead of
  a legend, and the alpha and resolution axes are labelled with the grid's own
  values (thinned to at most ``MAX_TICKS``).

Every title names the spec, its setting and the counting convention.
"""

from __future__ import annotations

import io
import math
import os

from .escape import matplotlib as literal  # names are text, never mathtext
from .report import fmt_alpha, pct, shape_str, si, visible_rows

PLOT_HINT = "plotting needs matplotlib: pip install 'mbcost[plot]'"
MAX_BARS = 40  # one bar per layer up to this many costed layers
TOP_LAYERS = 25  # else the largest layers per panel, and one bar for the rest
MAX_LEGEND = 6  # more lines than this: a colorbar instead of a legend
MAX_TICKS = 8  # labelled values on the alpha and resolution axes
COLORMAP = "viridis"


class PlotUnavailable(RuntimeError):
    """matplotlib is not installed (the optional [plot] extra)."""


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend, or PlotUnavailable."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotUnavailable(PLOT_HINT) from None
    return plt


def save(fig, path):
    """Render the figure in memory, then write it as every output is written (mbcost.output)."""
    from .output import write_bytes

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format=os.path.splitext(str(path))[1].lstrip(".").lower(), dpi=100)
    finally:
        pyplot().close(fig)
    write_bytes(path, buf.getvalue())


def _short(v, _pos=None):
    """An axis label: 0, 500K, 1.2M, 37.7G (three significant digits)."""
    v = float(v)
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(v) >= div:
            return f"{v / div:.3g}{suffix}"
    return f"{v:.3g}"


def _log_minor(v, _pos=None):
    """Minor labels of a log axis: only at 2x and 5x a power of ten, so they never crowd."""
    if v <= 0:
        return ""
    mantissa = round(v / 10 ** math.floor(math.log10(v) + 1e-9), 6)
    return _short(v) if mantissa in (2, 5) else ""


# ---------------------------------------------------------------- table --plot

def layer_bars(analysis, by_kind=False, flops=False, all_layers=False):
    """What plot_layers draws, as plain data: (subtitle, [(panel title, [(label, value)])]).

    Values are mult-adds (x2 with flops) and parameters. Per layer: every visible layer
    in network order when there are at most MAX_BARS, else the TOP_LAYERS largest of
    each quantity and one 'other N layers' bar holding the rest (so each panel still
    sums to its total)."""
    f = 2 if flops else 1
    what = "FLOPs" if flops else "mult-adds"
    totals = (f * analysis.madds, analysis.params)
    titles = [f"{what} (total {si(totals[0])})", f"params (total {si(totals[1])})"]
    keys = [lambda r: f * r.madds, lambda r: r.params]
    mem = analysis.memory
    if mem is not None:  # --memory: traffic; --device: the roofline time (a bound)
        titles.append(f"traffic bytes (total {si(mem.traffic_bytes)})")
        keys.append(lambda r: r.mem.traffic_bytes)
        if mem.device is not None:
            titles.append(f"roofline time, us (total {float(mem.time_s) * 1e6:.4g}; a bound, "
                          "not a measurement)")
            keys.append(lambda r: float(r.mem.time_s) * 1e6)
    if by_kind:
        kinds = [k for k in analysis.by_kind() if all_layers or k.madds or k.params
                 or (mem is not None and any(columns_has_traffic(r) for r in analysis.rows
                                             if r.op == k.type))]
        bars = [[(f"{k.type} ({k.layers})", sum(key(r) for r in analysis.rows if r.op == k.type))
                 for k in kinds] for key in keys]
        return "by layer type (number of layers)", list(zip(titles, bars))
    rows = visible_rows(analysis, all_layers)
    if len(rows) <= MAX_BARS:
        bars = [[(literal(r.name), key(r)) for r in rows] for key in keys]
        return "per layer", list(zip(titles, bars))
    panels = []
    for title, key in zip(titles, keys):
        ranked = sorted(rows, key=lambda r: -key(r))
        top, rest = ranked[:TOP_LAYERS], ranked[TOP_LAYERS:]
        bars = [(literal(r.name), key(r)) for r in top]
        if rest:
            bars.append((f"other {len(rest)} layers", sum(key(r) for r in rest)))
        panels.append((title, bars))
    which = "layers" if all_layers else "layers with a cost"
    return f"the {TOP_LAYERS} largest of {len(rows)} {which}, the others in one bar", panels


def plot_layers(analysis, path, by_kind=False, flops=False, all_layers=False):
    """Mult-adds and parameters as horizontal bar charts, side by side (see layer_bars)."""
    plt = pyplot()
    subtitle, panels = layer_bars(analysis, by_kind, flops, all_layers)
    same_names = all([b for b, _ in p[1]] == [b for b, _ in panels[0][1]] for p in panels)
    n = max(len(bars) for _, bars in panels)
    label_chars = max((len(label) for _, bars in panels for label, _ in bars), default=10)
    width = 5.5 * len(panels) + 0.09 * label_chars * (1 if same_names else len(panels))
    fig, axes = plt.subplots(1, len(panels), figsize=(width, max(3.5, 1.6 + 0.26 * n)))
    for i, (ax, (title, bars)) in enumerate(zip(axes, panels)):
        _bars(plt, ax, bars, ("tab:blue", "tab:orange", "tab:green", "tab:red")[i],
              labels=i == 0 or not same_names)
        ax.set_title(title)
    fig.suptitle(f"{literal(analysis.title)}: alpha {fmt_alpha(analysis.alpha)}, input "
                 f"{shape_str(analysis.input)}, convention '{analysis.convention}'\n{subtitle}")
    fig.tight_layout()
    save(fig, path)


def _bars(plt, ax, bars, color, labels=True):
    """One panel: a bar per (label, value), first at the top, each labelled with its value
    and share. A trailing 'other N layers' bar larger than the rest is grey and cut at the
    panel's edge (its value written inside), so the named layers keep a readable scale."""
    values = [v for _, v in bars]
    total = sum(values)
    ys = list(range(len(bars)))
    others = bars[-1][0].startswith("other ") if bars else False
    named = values[:-1] if others else values
    edge = 1.3 * max(named or values or [0]) or 1
    ax.barh(ys, values, color=[color] * len(named) + (["0.6"] if others else []))
    ax.set_yticks(ys)
    ax.set_yticklabels([label for label, _ in bars] if labels else [], fontsize="small")
    ax.invert_yaxis()  # first (or largest) at the top, as in the table
    ax.xaxis.set_major_locator(plt.MaxNLocator(5))
    ax.xaxis.set_major_formatter(_short)
    ax.set_xlim(0, edge)  # room for the value labels
    for y, v in zip(ys, values):
        text = f"{si(v)} ({pct(v, total):.1f}%)"
        if others and y == ys[-1] and v > max(named, default=0):  # cut: its value inside
            ax.text(0.98 * edge, y, text + " \u25b8", va="center", ha="right",
                    fontsize="x-small", color="white")
        else:
            ax.text(v, y, " " + text, va="center", fontsize="x-small")
    ax.grid(True, axis="x", alpha=0.3)
    if not bars:
        ax.text(0.5, 0.5, "no layer has a cost under this convention", ha="center",
                va="center", transform=ax.transAxes)


def columns_has_traffic(row):
    """Whether a layer moves or stores bytes (mbcost.columns.has_traffic)."""
    from .columns import has_traffic

    return has_traffic(row)


def roofline_points(analysis):
    """What plot_roofline draws, as plain data: (device, dtype, [(name, intensity, attained
    FLOP/s, bound)]) for every layer that does multiply-accumulates; attained = 2 x MACs /
    its roofline time."""
    mem = analysis.memory
    if mem is None or mem.device is None:
        raise ValueError("a roofline chart needs an analysis made with a device")
    pts = [(r.name, float(r.mem.intensity), float(2 * r.mem.macs / r.mem.time_s), r.mem.bound)
           for r in analysis.rows if r.mem.macs and r.mem.intensity]
    return mem.device, mem.dtype, pts


def plot_roofline(analysis, path):
    """The roofline chart: intensity (FLOP/byte) against attained FLOP/s, one point per
    layer (compute-bound and memory-bound in two colours), the device's roof drawn."""
    plt = pyplot()
    dev, dtype, pts = roofline_points(analysis)
    peak, bw = float(dev.peak_for(dtype)), float(dev.bandwidth)
    xs = [p[1] for p in pts] or [1.0]
    lo, hi = min(xs + [peak / bw]) / 4, max(xs + [peak / bw]) * 4
    fig = plt.figure(figsize=(8, 5.5))
    ax = fig.add_subplot(1, 1, 1)
    roof_x = [lo, peak / bw, hi]
    ax.plot(roof_x, [lo * bw, peak, peak], color="black", lw=1.5,
            label=f"roof: {_short(bw)}B/s, {_short(peak)}FLOP/s ({dtype})")
    for bound, color in (("memory", "tab:blue"), ("compute", "tab:red")):
        sel = [p for p in pts if p[3] == bound]
        ax.scatter([p[1] for p in sel], [p[2] for p in sel], s=14, color=color, alpha=0.7,
                   label=f"{bound}-bound layers ({len(sel)})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP per byte of traffic)")
    ax.set_ylabel("attained FLOP/s (roofline bound)")
    ax.xaxis.set_major_formatter(_short)
    ax.yaxis.set_major_formatter(_short)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    ax.set_title(f"{literal(analysis.title)}\non {literal(dev.title)}: alpha "
                 f"{fmt_alpha(analysis.alpha)}, input {shape_str(analysis.input)}, memory model "
                 f"'{analysis.memory.memory_model}'\na roofline bound, not a measurement",
                 fontsize="small")
    fig.tight_layout()
    save(fig, path)


# ---------------------------------------------------------------- sweep --plot

def thin_ticks(values, most=MAX_TICKS):
    """At most `most` of the values, evenly spaced, always the first and the last."""
    values = list(values)
    if len(values) <= most:
        return values
    step = -(-(len(values) - 1) // (most - 1))  # ceil
    picked = values[::step]
    if picked[-1] != values[-1]:
        picked[-1] = values[-1]  # keep the end of the range labelled
    return picked


def _colors(plt, values):
    """{value: colour} along the sequential colormap, smallest value darkest (the palest
    end is left out: it vanishes on white)."""
    cmap = plt.get_cmap(COLORMAP)
    ranked = sorted(set(values))
    return {v: cmap(0.9 * i / max(len(ranked) - 1, 1)) for i, v in enumerate(ranked)}


def _series_key(ax, fig, plt, colors, labels, name):
    """A legend for a few lines; for many, a colorbar of the lines' own colours, one cell
    per value in increasing order, labelled with (a thinned selection of) the values."""
    if len(colors) <= MAX_LEGEND:
        ax.legend(fontsize="small")
        return
    from matplotlib.colors import BoundaryNorm, ListedColormap

    ranked = sorted(colors)
    n = len(ranked)
    mappable = plt.cm.ScalarMappable(norm=BoundaryNorm(list(range(n + 1)), n),
                                     cmap=ListedColormap([colors[v] for v in ranked]))
    ticks = thin_ticks(range(n))
    bar = fig.colorbar(mappable, ax=ax, ticks=[i + 0.5 for i in ticks])
    bar.set_ticklabels([labels(ranked[i]) for i in ticks])
    bar.set_label(name)


def _value_axis(ax, ticks, labels):
    """Log x axis labelled with the grid's own values (no 3x10^-1 minor labels)."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.tick_params(axis="x", which="minor", bottom=False, labelbottom=False)
    ax.set_xticks(ticks)
    ax.set_xticklabels(labels)
    ax.grid(True, which="both", alpha=0.3)


def plot_sweep(sw, path):
    """Mult-adds against alpha (one line per resolution) and against resolution (one line
    per alpha), and parameters against alpha, log axes (MobileNets Figures 4-5)."""
    plt = pyplot()
    alphas = [float(a) for a in sw.alphas]
    res_colors, alpha_colors = _colors(plt, sw.resolutions), _colors(plt, sw.alphas)
    fig, axes = plt.subplots(1, 3, figsize=(17, 5))
    for r in sw.resolutions:
        axes[0].plot(alphas, [sw.at(a, r).madds for a in sw.alphas], marker="o", markersize=3,
                     color=res_colors[r], label=f"{r} px")
    for a in sw.alphas:
        axes[1].plot(sw.resolutions, [sw.at(a, r).madds for r in sw.resolutions], marker="o",
                     markersize=3, color=alpha_colors[a], label=f"alpha {fmt_alpha(a)}")
    # parameters rarely depend on the resolution (only a flatten before an FC makes them)
    per_res = any(len({sw.at(a, r).params for r in sw.resolutions}) > 1 for a in sw.alphas)
    for r in sw.resolutions if per_res else sw.resolutions[:1]:
        axes[2].plot(alphas, [sw.at(a, r).params for a in sw.alphas], marker="o", markersize=3,
                     color=res_colors[r] if per_res else "tab:orange", label=f"{r} px")
    alpha_ticks = thin_ticks(sw.alphas)
    res_ticks = thin_ticks(sw.resolutions)
    for ax, title, xlabel, ylabel in (
            (axes[0], "mult-adds vs alpha", "alpha", "mult-adds"),
            (axes[1], "mult-adds vs resolution", "resolution (px)", "mult-adds"),
            (axes[2], "params vs alpha" + (", per resolution" if per_res else ""), "alpha",
             "params")):
        if xlabel == "alpha":
            _value_axis(ax, [float(a) for a in alpha_ticks], [fmt_alpha(a) for a in alpha_ticks])
        else:
            _value_axis(ax, list(res_ticks), [str(r) for r in res_ticks])
        ax.yaxis.set_major_formatter(_short)
        ax.yaxis.set_minor_formatter(_log_minor)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    _series_key(axes[0], fig, plt, res_colors, str, "resolution (px)")
    _series_key(axes[1], fig, plt, alpha_colors, fmt_alpha, "alpha")
    if per_res:
        _series_key(axes[2], fig, plt, res_colors, str, "resolution (px)")
    na, nr = len(sw.alphas), len(sw.resolutions)
    fig.suptitle(f"{literal(sw.title)}: {na} width{'s' * (na != 1)} x {nr} resolution{'s' * (nr != 1)}, "
                 f"convention '{sw.convention}'")
    fig.tight_layout()
    save(fig, path)
