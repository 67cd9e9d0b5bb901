"""The mbcost command line: a thin click layer over the library. The commands table,
formula and list are here; check, fit, sweep, compare and layer in cli_design.py; what
they share (error handling, output, option decorators) in cli_options.py.

Exit codes: 0 ok; 1 over budget (check); 2 bad input (spec, flags, files);
3 internal error (a bug: please report it).
"""

from __future__ import annotations

import json
import os  # noqa: F401  (tests patch mbcost.cli.os.replace)

import click

from . import __version__, cli_design, explain, report, textview
from .cli_options import (EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_OVER_BUDGET,  # noqa: F401
                          FILE_WIDTH, MainGroup, allow_unknown_option, convention_option, fail,
                          given, handle_errors, output_options, plot_option, point_options,
                          require_plot, show, spec_arg, train_option, write_output)
from .cost import CONVENTIONS, DEFAULT_CONVENTION, analyze, closed_form, dwsep_ratios
from .errors import UsageError
from .spec import bundled_dir, bundled_names, load_spec


def memory_options(fn):
    """--memory, --dtype, --weight-dtype, --memory-model, --device (mbcost.memory, roofline)."""
    from .memory import DEFAULT_DTYPE, DEFAULT_MEMORY_MODEL, DTYPES, MEMORY_MODELS

    fn = click.option("--device", default=None, metavar="NAME|FILE",
                      help="Add intensity and a roofline time bound on a device (implies "
                           "--memory; 'mbcost list --devices'). A bound, not a measurement.")(fn)
    fn = click.option("--memory-model", type=click.Choice(list(MEMORY_MODELS)), default=None,
                      help=f"What is materialized (default {DEFAULT_MEMORY_MODEL}; see README).")(fn)
    fn = click.option("--weight-dtype", type=click.Choice(list(DTYPES)), default=None,
                      help="Weight data type (default: --dtype).")(fn)
    fn = click.option("--dtype", type=click.Choice(list(DTYPES)), default=None,
                      help=f"Activation (and weight) data type (default {DEFAULT_DTYPE}).")(fn)
    return click.option("--memory", is_flag=True,
                        help="Add activation, weight and traffic bytes and the peak live "
                             "activations.")(fn)


def memory_request(ctx, memory, dtype, weight_dtype, memory_model, device):
    """The memory settings asked for (analyze's memory=), or None: the memory options
    other than --memory and --device need one of them."""
    if not (memory or device is not None):
        extra = given(ctx, "dtype", "weight_dtype", "memory_model")
        if extra:
            raise UsageError(f"{extra[0]} goes with --memory or --device")
        return None
    return {"dtype": dtype, "weight_dtype": weight_dtype, "memory_model": memory_model,
            "device": device}

@click.group("mbcost", cls=MainGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="mbcost")
def main():
    """Exact mult-adds and parameters of MobileNet-style networks, per layer and in
    closed form.

    \b
    Example:
        mbcost table mobilenet_v1 --alpha 0.5 --res 160

    Exit codes: 0 ok, 1 over budget, 2 bad input, 3 internal error.
    """


@main.command()
@click.argument("spec")
@point_options
@click.option("--by", type=click.Choice(["layer", "kind"]), default="layer", show_default=True,
              help="One row per layer, or grouped by layer type (the paper's Table 2).")
@output_options("text", "csv", "json", "markdown")
@click.option("--exact", is_flag=True, help="Exact integers in every row instead of K/M/G units.")
@click.option("--flops", is_flag=True, help="Report FLOPs = 2 x mult-adds.")
@click.option("--all", "all_layers", is_flag=True,
              help="Also show layers (with --by kind: types) that cost nothing under the "
                   "convention (BN, activations...).")
@click.option("--explain", "explain_", is_flag=True,
              help="Instead of the layers, show per cost category how --convention differs "
                   "from --against.")
@click.option("--against", type=click.Choice(list(CONVENTIONS)), default=None, metavar="OTHER",
              help=f"The convention --explain compares with (default {DEFAULT_CONVENTION}).")
@memory_options
@plot_option
@click.option("--against-memory-model", "against_model", default=None, metavar="MODEL",
              help="With --explain and --memory-model: show, layer by layer, how the two "
                   "memory models differ.")
@click.option("--plot-roofline", "plot_roofline", type=click.Path(dir_okay=False), default=None,
              help="With --device: draw the roofline chart (intensity vs attained FLOP/s per "
                   "layer, the device's roof) to FILE (.svg, .png or .pdf).")
@allow_unknown_option
@click.pass_context
@train_option
@handle_errors
def table(ctx, spec, alpha, res, rho, convention, by, fmt, output, exact, flops, all_layers,
          explain_, against, memory, dtype, weight_dtype, memory_model, device, plot,
          against_model, plot_roofline, allow_unknown):
    """Per-layer mult-adds and parameters of SPEC (a YAML file, an ONNX model or a bundled name).

    \b
    Examples:
        mbcost table mobilenet_v1.yaml --alpha 0.5 --res 160
        mbcost table model.onnx --convention torchvision --res 160
        mbcost table mobilenet_v1 --by kind --convention weights
        mbcost table my_net.yaml --format json -o cost.json
        mbcost table efficientnet_b7 --by kind --plot b7.png
        mbcost table mobilenet_v3_large --convention fvcore --explain
        mbcost table mobilenet_v2 --convention thop --explain --against ptflops
        mbcost table mobilenet_v2 --memory --device jetson_nano

    --memory adds activation bytes, weight bytes, memory traffic and the peak live
    activations (under --memory-model, in --dtype); --device adds each layer's
    arithmetic intensity and roofline time: a roofline bound, not a measurement.
    """
    spec = spec_arg(spec, allow_unknown)
    if against_model is not None:
        if not explain_ or memory_model is None:
            raise UsageError("--against-memory-model goes with --explain and --memory-model")
        clash = given(ctx, "by", "flops", "plot", "exact", "all_layers", "device", "against",
                      "weight_dtype", "plot_roofline")
        if clash:
            raise UsageError(f"--explain compares memory models: drop {clash[0]}")
        if fmt not in ("text", "json"):
            raise UsageError("--explain with --against-memory-model writes text or json")
        from .memory import explain_models, explain_models_text

        d = explain_models(spec, memory_model, against_model, alpha=alpha, resolution=res,
                           rho=rho, dtype=dtype, convention=convention)
        write_output(json.dumps(d, indent=2) + "\n" if fmt == "json" else explain_models_text(d),
                     output)
        return
    if explain_:
        other = against or DEFAULT_CONVENTION
        clash = given(ctx, "by", "flops", "plot", "exact", "all_layers", "memory", "dtype",
                      "weight_dtype", "memory_model", "device", "plot_roofline")
        if clash:
            raise UsageError(f"--explain shows conventions, not layers: drop {clash[0]}")
        if other == convention:
            raise UsageError(f"--explain: nothing to compare, --convention and --against are both "
                             f"'{other}'; pick --against C or --convention C")
        ex = explain.explain(spec, convention, other, alpha=alpha, resolution=res, rho=rho)
        if fmt == "text":
            show(explain.explain_view(ex), output)
        else:
            write_output(explain_text(ex, fmt), output)
        return
    if against is not None:
        raise UsageError("--against goes with --explain")
    require_plot(plot)
    if plot_roofline is not None and device is None:
        raise UsageError("--plot-roofline needs --device NAME|FILE")
    require_plot(plot_roofline)
    mem = memory_request(ctx, memory, dtype, weight_dtype, memory_model, device)
    a = analyze(spec, alpha=alpha, resolution=res, rho=rho, convention=convention, memory=mem)
    by_kind = by == "kind"
    if plot:
        from .plot import plot_layers

        plot_layers(a, plot, by_kind=by_kind, flops=flops, all_layers=all_layers)
    if plot_roofline:
        from .plot import plot_roofline as draw_roofline

        draw_roofline(a, plot_roofline)
    if fmt == "json":
        text = report.by_kind_json(a, flops, all_layers) if by_kind else report.to_json(a, flops)
    elif fmt == "csv":
        text = report.by_kind_csv(a, flops, all_layers) if by_kind else report.to_csv(a, flops)
    elif fmt == "markdown":
        text = report.to_markdown(a, by_kind, flops, all_layers)
    else:
        show(report.table_view(a, by_kind, exact, flops, all_layers), output)
        return
    write_output(text, output)


def explain_text(ex, fmt, width=FILE_WIDTH):
    """The --explain view as JSON, Markdown or a plain-text table."""
    if fmt == "json":
        return json.dumps(ex.to_dict(), indent=2) + "\n"
    if fmt == "csv":
        return explain.explain_csv(ex)
    if fmt == "markdown":
        return explain.explain_markdown(ex)
    return textview.plain(explain.explain_view(ex), width)


def render_text(a, by_kind, exact, flops, all_layers, width=FILE_WIDTH):
    """The table as plain text (for files and golden tests)."""
    return textview.plain(report.table_view(a, by_kind, exact, flops, all_layers), width)


@main.command()
@click.argument("spec")
@convention_option
@click.option("--by", type=click.Choice(["total", "kind"]), default="total", show_default=True,
              help="Totals only, or also grouped by layer type.")
@click.option("--layers", is_flag=True, help="Also the closed form of every layer.")
@click.option("--exact", is_flag=True,
              help="The exact form (channel rounding and strided sizes as make_divisible, "
                   "floor, ceiling: equals table everywhere) instead of the papers' polynomial.")
@click.option("--latex", is_flag=True, help="Print LaTeX instead of plain text.")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write to FILE (atomically) instead of stdout.")
@click.option("--metric", type=click.Choice(["madds", "activations", "traffic", "peak", "latency",
                                           "intensity"]),
              default="madds", show_default=True,
              help="Also a memory metric's closed form (bytes; latency: seconds on --device, "
                   "a roofline bound; intensity: FLOPs per byte of traffic).")
@memory_options
@allow_unknown_option
@click.pass_context
@train_option
@handle_errors
def formula(ctx, spec, convention, by, layers, exact, latex, fmt, output, metric, memory, dtype,
            weight_dtype, memory_model, device, allow_unknown):
    """Closed-form mult-adds and parameters of SPEC as polynomials in alpha and rho.

    The default is the continuous polynomial (the papers' formula), equal to table where
    every width and size divides evenly; --exact keeps channel rounding and strided sizes
    (make_divisible, floor, ceiling) and equals table at every alpha and resolution.

    \b
    Examples:
        mbcost formula mobilenet_v1 --by kind --layers
        mbcost formula mobilenet_v1 --exact
        mbcost formula mobilenet_v2 --format json -o formula.json
        mbcost formula model.onnx          # a dynamic-size export: a polynomial in rho
        mbcost formula mobilenet_v1 --metric traffic --dtype fp16
        mbcost formula mobilenet_v1 --metric latency --device jetson_nano
        mbcost formula mobilenet_v1 --metric intensity --layers
    """
    spec = spec_arg(spec, allow_unknown)
    if latex and fmt == "json":
        raise UsageError("--latex goes with the text format; JSON gives every expression "
                         "in sympy syntax")
    if memory:
        raise UsageError("formula takes --metric, not --memory")
    mem = None
    if metric != "madds":
        from .memory import memory_closed_form

        settings = {"dtype": dtype, "weight_dtype": weight_dtype, "memory_model": memory_model,
                    "device": device}
        total, per = memory_closed_form(spec, metric, convention, exact, **settings)
        mem = report.metric_formula(metric, total, per, settings)
    else:
        clash = given(ctx, "dtype", "weight_dtype", "memory_model", "device")
        if clash:
            raise UsageError(f"{clash[0]} goes with --metric "
                             "activations|traffic|peak|latency|intensity")
    f = closed_form(spec, convention, exact)
    ratios = dwsep_ratios(f) if layers else ()
    if fmt == "json":
        write_output(report.formula_json(f, by == "kind", layers, ratios, mem), output)
    else:
        show(report.formula_view(f, by == "kind", layers, latex, ratios, mem), output, fit=False)


@main.command("list")
@click.option("--conventions", is_flag=True, help="List the counting conventions instead.")
@click.option("--devices", is_flag=True, help="List the bundled roofline devices instead.")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write to FILE (atomically) instead of stdout.")
@handle_errors
def list_(conventions, devices, fmt, output):
    """The bundled specs (or the counting conventions, or the devices), one line each.

    \b
    Examples:
        mbcost list
        mbcost list --conventions --format json
        mbcost list --devices
    """
    if conventions and devices:
        raise UsageError("--conventions or --devices, not both")
    if devices:
        from .roofline import device_names, load_device

        d = report.list_dict(devices=[load_device(n) for n in device_names()])
    elif conventions:
        d = report.list_dict(conventions=list(CONVENTIONS.values()), default=DEFAULT_CONVENTION)
    else:
        d = report.list_dict(specs=[load_spec(bundled_dir() / f"{n}.yaml") for n in bundled_names()])
    write_output(report.list_json(d) if fmt == "json" else report.list_text(d), output)


@main.command("import")
@click.argument("model")
@click.option("--format", "-f", "fmt", type=click.Choice(["yaml", "json"]), default="yaml",
              show_default=True,
              help="YAML, or the same spec as JSON (mbcost/schema/spec.schema.json).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write the spec to FILE (atomically) instead of stdout.")
@click.option("--res", "--resolution", "res", type=click.IntRange(1, 16384), default=None,
              help="The input size a dynamic height and width stand for (default 224).")
@allow_unknown_option
@handle_errors
def import_(model, fmt, output, res, allow_unknown):
    """Write the ONNX model MODEL as an mbcost spec (YAML) with the same counts.

    Layer names come from the graph; conv + BN + activation are one layer, as in the
    bundled specs; branches become parallel blocks. Channels are the graph's (width
    rule 'fixed'); a dynamic height and width become the resolution. Needs the
    optional extra: pip install 'mbcost[onnx]'.

    \b
    Examples:
        mbcost import model.onnx -o model.yaml
        mbcost table model.yaml --res 160
    """
    from .onnx_reader import import_yaml, is_onnx, read_onnx

    if not is_onnx(model):
        raise UsageError(f"mbcost import reads ONNX models (.onnx), got {model}")
    if fmt == "json":
        text = json.dumps(read_onnx(model, allow_unknown, res), indent=2) + "\n"
    else:
        text = import_yaml(model, allow_unknown, res)
    write_output(text, output)


# the design commands (check, fit, sweep, compare, layer): cli_design adds them to main
for _command in cli_design.COMMANDS:
    main.add_command(_command)
