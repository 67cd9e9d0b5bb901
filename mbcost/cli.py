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
                          FILE_WIDTH, MainGroup, convention_option, fail, given, handle_errors,
                          output_options, plot_option, point_options, require_plot, show,
                          write_output)
from .cost import CONVENTIONS, DEFAULT_CONVENTION, analyze, closed_form, dwsep_ratios
from .errors import UsageError
from .spec import bundled_dir, bundled_names, load_spec

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
@plot_option
@click.pass_context
@handle_errors
def table(ctx, spec, alpha, res, rho, convention, by, fmt, output, exact, flops, all_layers,
          explain_, against, plot):
    """Per-layer mult-adds and parameters of SPEC (a file or a bundled name).

    \b
    Examples:
        mbcost table mobilenet_v1.yaml --alpha 0.5 --res 160
        mbcost table mobilenet_v1 --by kind --convention weights
        mbcost table my_net.yaml --format json -o cost.json
        mbcost table efficientnet_b7 --by kind --plot b7.png
        mbcost table mobilenet_v3_large --convention fvcore --explain
        mbcost table mobilenet_v2 --convention thop --explain --against ptflops
    """
    if explain_:
        other = against or DEFAULT_CONVENTION
        clash = given(ctx, "by", "flops", "plot", "exact", "all_layers")
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
    a = analyze(spec, alpha=alpha, resolution=res, rho=rho, convention=convention)
    by_kind = by == "kind"
    if plot:
        from .plot import plot_layers

        plot_layers(a, plot, by_kind=by_kind, flops=flops, all_layers=all_layers)
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
@click.option("--latex", is_flag=True, help="Print LaTeX instead of plain text.")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write to FILE (atomically) instead of stdout.")
@handle_errors
def formula(spec, convention, by, layers, latex, fmt, output):
    """Closed-form mult-adds and parameters of SPEC as polynomials in alpha and rho.

    \b
    Examples:
        mbcost formula mobilenet_v1 --by kind --layers
        mbcost formula mobilenet_v2 --format json -o formula.json
    """
    if latex and fmt == "json":
        raise UsageError("--latex goes with the text format; JSON gives every expression "
                         "in sympy syntax")
    f = closed_form(spec, convention)
    ratios = dwsep_ratios(f) if layers else ()
    if fmt == "json":
        write_output(report.formula_json(f, by == "kind", layers, ratios), output)
    else:
        show(report.formula_view(f, by == "kind", layers, latex, ratios), output, fit=False)


@main.command("list")
@click.option("--conventions", is_flag=True, help="List the counting conventions instead.")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write to FILE (atomically) instead of stdout.")
@handle_errors
def list_(conventions, fmt, output):
    """The bundled specs (or the counting conventions), one line each.

    \b
    Examples:
        mbcost list
        mbcost list --conventions --format json
    """
    if conventions:
        d = report.list_dict(conventions=list(CONVENTIONS.values()), default=DEFAULT_CONVENTION)
    else:
        d = report.list_dict(specs=[load_spec(bundled_dir() / f"{n}.yaml") for n in bundled_names()])
    write_output(report.list_json(d) if fmt == "json" else report.list_text(d), output)


# the design commands (check, fit, sweep, compare, layer): cli_design adds them to main
for _command in cli_design.COMMANDS:
    main.add_command(_command)
