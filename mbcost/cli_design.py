"""The design commands: check, fit, sweep, compare, layer (a thin layer over
``mbcost.design``; rendering in ``mbcost.design_report``).

Exit codes: 0 ok / within budget; 1 over budget (check) or nothing fits (fit);
2 bad input (spec, budget file, flags); 3 internal error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click.core import ParameterSource

from . import design, design_report
from .cli import (EXIT_BAD_INPUT, EXIT_OVER_BUDGET, fail, handle_errors, main, point_options,
                  show, write_output)
from .cost import CONVENTIONS, DEFAULT_CONVENTION, analyze
from .errors import UsageError

PLOT_SUFFIXES = (".svg", ".png", ".pdf")


def output_options(*formats):
    """--format (first choice is the default) and --output."""
    def deco(fn):
        """Add the two options to fn."""
        fn = click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
                          help="Write to FILE (atomically) instead of stdout.")(fn)
        return click.option("--format", "-f", "fmt", type=click.Choice(list(formats)),
                            default=formats[0], show_default=True, help="Output format.")(fn)
    return deco


def limit_options(fn):
    """--max-madds and --max-params, with K/M/G units."""
    fn = click.option("--max-params", default=None, metavar="N",
                      help="Parameter limit, e.g. 2M, 2.5M, 4200000.")(fn)
    return click.option("--max-madds", default=None, metavar="N",
                        help="Mult-adds limit, e.g. 150M, 1.2G, 600000000.")(fn)


def plot_option(fn):
    """--plot FILE.svg|png (needs the optional matplotlib extra)."""
    return click.option("--plot", "plot", type=click.Path(dir_okay=False), default=None,
                        help="Also draw a chart to FILE (.svg, .png or .pdf); needs "
                             "pip install 'mbcost[plot]'.")(fn)


def require_plot(path):
    """Exit 2 before any output if a plot is asked for and cannot be made."""
    if path is None:
        return
    if Path(path).suffix.lower() not in PLOT_SUFFIXES:
        fail(f"--plot {path}: the file name must end in {', '.join(PLOT_SUFFIXES)}")
    try:
        design_report._pyplot()
    except design_report.PlotUnavailable as e:
        fail(f"mbcost: {e}", EXIT_BAD_INPUT)


def _given(ctx, *names):
    return [n for n in names if ctx.get_parameter_source(n) == ParameterSource.COMMANDLINE]


@click.command()
@click.argument("spec", required=False)
@click.option("--budget", "-b", "budget", default=None, metavar="FILE",
              help="A budget file with several specs, each with its alpha/res and limits.")
@limit_options
@point_options
@click.option("--top", type=click.IntRange(0, 100), default=3, show_default=True,
              help="How many of the largest layers to name per limit.")
@output_options("text", "json", "markdown")
@click.pass_context
@handle_errors
def check(ctx, spec, budget, max_madds, max_params, alpha, res, rho, convention, top, fmt, output):
    """Check SPEC (or every entry of a budget file) against mult-adds and parameter limits.

    Prints each limit, the value, the headroom (+) or excess (-) absolute and in %,
    and the layers that contribute most. Exit 0 all within budget, 1 over budget,
    2 bad input. Units: K, M, G or plain integers.

    \b
    Budget file:
        checks:
          - {spec: mobilenet_v1, alpha: 0.5, res: 160, max_madds: 150M, max_params: 2M}
          - {spec: nets/my_net.yaml, max_madds: 300M}

    \b
    Examples:
        mbcost check mobilenet_v1 --alpha 0.5 --max-madds 150M --max-params 2M
        mbcost check --budget budget.yaml --format markdown
    """
    if (spec is None) == (budget is None):
        raise UsageError("give a SPEC with limits, or --budget FILE (not both)")
    if budget is not None:
        extra = _given(ctx, "max_madds", "max_params", "alpha", "res", "rho", "convention")
        if extra:
            raise UsageError(f"--budget takes its settings from the file; drop --{extra[0].replace('_', '-')}")
        results = design.check_budget_file(budget, top)
    else:
        limits = {"madds": max_madds, "params": max_params}
        results = [design.check_budget(spec, limits, alpha, res, rho, convention, top)]
    if fmt == "text":
        show(design_report.check_view(results), output, fit=False)
    else:
        render = {"json": design_report.check_json, "markdown": design_report.check_markdown}[fmt]
        write_output(render(results), output)
    if not all(r.ok for r in results):
        sys.exit(EXIT_OVER_BUDGET)


@click.command()
@click.argument("spec")
@limit_options
@click.option("--alpha", "-a", default=None, help="Fix alpha and fit the resolution.")
@click.option("--res", "--resolution", "res", type=click.IntRange(1), default=None,
              help="Fix the resolution and fit alpha.")
@click.option("--alpha-step", default="0.01", show_default=True,
              help="Fitted alpha is a multiple of this.")
@click.option("--res-step", type=click.IntRange(1), default=design.DEFAULT_RES_STEP,
              show_default=True, help="Fitted resolution is a multiple of this (the stride step).")
@click.option("--convention", "-c", type=click.Choice(list(CONVENTIONS)), default=DEFAULT_CONVENTION,
              show_default=True, help="Counting convention.")
@output_options("text", "json")
@handle_errors
def fit(spec, max_madds, max_params, alpha, res, alpha_step, res_step, convention, fmt, output):
    """The largest alpha (at a fixed --res) or resolution (at a fixed --alpha) within budget.

    The closed form gives the start; the exact integer counts decide: the answer
    meets every limit and the next step up does not. With neither --alpha nor
    --res: the Pareto frontier of the standard grid (alpha 1.4 ... 0.25, res 224 ... 96).
    Exit 0 found, 1 nothing fits, 2 bad input.

    \b
    Examples:
        mbcost fit mobilenet_v1 --max-madds 150M --res 224
        mbcost fit mobilenet_v2 --max-madds 300M --alpha 1.0 --format json
        mbcost fit mobilenet_v1 --max-madds 150M --max-params 2M
    """
    f = design.fit(spec, {"madds": max_madds, "params": max_params}, alpha=alpha, resolution=res,
                   convention=convention, alpha_step=alpha_step, res_step=res_step)
    if fmt == "json":
        write_output(design_report.fit_json(f), output)
    else:
        show(design_report.fit_view(f), output, fit=False)
    if not f.ok:
        sys.exit(EXIT_OVER_BUDGET)


@click.command()
@click.argument("spec")
@click.option("--alpha", "-a", "alphas", default="1,0.75,0.5,0.25", show_default=True,
              help="Widths: a list and/or START:STOP:STEP ranges, e.g. 0.25:1:0.05.")
@click.option("--res", "--resolution", "resolutions", default="224,192,160,128", show_default=True,
              help="Resolutions: a list and/or ranges, e.g. 96:224:32.")
@click.option("--convention", "-c", type=click.Choice(list(CONVENTIONS)), default=DEFAULT_CONVENTION,
              show_default=True, help="Counting convention.")
@click.option("--exact", is_flag=True, help="Exact integers instead of K/M/G units.")
@output_options("table", "csv", "json", "markdown")
@plot_option
@handle_errors
def sweep(spec, alphas, resolutions, convention, exact, fmt, output, plot):
    """Mult-adds of every alpha x resolution combination in one table (params per alpha).

    MobileNet v1 Tables 6-7 and the TF-slim table of 16 variants in one command.
    JSON is a list of {alpha, resolution, madds, params}; CSV has the same columns.

    \b
    Examples:
        mbcost sweep mobilenet_v1 --alpha 1,0.75,0.5,0.25 --res 224,192,160,128
        mbcost sweep mobilenet_v2 --alpha 0.25:1.4:0.05 --res 96:224:32 --format csv
    """
    require_plot(plot)
    sw = design.sweep(spec, design.parse_values(alphas, "--alpha"),
                      design.parse_values(resolutions, "--res", integer=True), convention)
    if fmt == "table":
        show(design_report.sweep_view(sw, exact), output, fit=False)
    else:
        text = {"csv": lambda: design_report.sweep_csv(sw), "json": lambda: design_report.sweep_json(sw),
                "markdown": lambda: design_report.sweep_markdown(sw, True)}[fmt]()
        write_output(text, output)
    if plot:
        design_report.plot_sweep(sw, plot)


@click.command()
@click.argument("a")
@click.argument("b", required=False)
@point_options
@click.option("--b-alpha", default=None, help="Alpha of B (default: the same as A).")
@click.option("--b-res", type=click.IntRange(1), default=None, help="Resolution of B (default: A's).")
@click.option("--dense", is_flag=True,
              help="B with every depthwise separable pair replaced by the standard conv of the "
                   "same kernel, input and output (MobileNets Table 4).")
@output_options("text", "json", "markdown")
@handle_errors
def compare(a, b, alpha, res, rho, convention, b_alpha, b_res, dense, fmt, output):
    """Per-layer and total differences between A and B (two specs, or one spec at two settings).

    \b
    Examples:
        mbcost compare mobilenet_v1 mobilenet_v2
        mbcost compare mobilenet_v1 --b-alpha 0.5 --b-res 160
        mbcost compare mobilenet_v1 --dense        # Conv MobileNet, Table 4
    """
    if b is None and b_alpha is None and b_res is None and not dense:
        raise UsageError("nothing to compare: give B, --b-alpha/--b-res, or --dense")
    an_a = analyze(a, alpha=alpha, resolution=res, rho=rho, convention=convention)
    b_spec = a if b is None else b
    b_a = alpha if b_alpha is None else b_alpha
    b_r = b_res if b_res is not None else (an_a.resolution if b is None else res)
    b_rho = rho if b is not None and b_res is None else None
    if dense:
        an_b, merged = design.dense_analysis(b_spec, b_a, b_r, b_rho, convention)
    else:
        an_b, merged = analyze(b_spec, alpha=b_a, resolution=b_r, rho=b_rho, convention=convention), None
    c = design.compare(an_a, an_b, merged)
    if fmt == "text":
        show(design_report.compare_view(c), output, fit=False)
    else:
        render = {"json": design_report.compare_json, "markdown": design_report.compare_markdown}[fmt]
        write_output(render(c), output)


@click.command()
@click.argument("kind", type=click.Choice(["dwsep"]))
@click.option("--k", "k", type=int, required=True, help="Kernel size D_K.")
@click.option("--in", "c_in", type=int, required=True, help="Input channels M.")
@click.option("--out", "c_out", type=int, required=True, help="Output channels N.")
@click.option("--size", type=int, required=True, help="Feature map size D_F.")
@click.option("--alpha", "-a", default=None, help="Width multiplier (scales M and N).")
@click.option("--rho", default=None, help="Resolution multiplier (scales D_F, rounded).")
@output_options("text", "json")
@handle_errors
def layer(kind, k, c_in, c_out, size, alpha, rho, fmt, output):
    """One layer: standard vs depthwise separable convolution, symbolically and as numbers.

    \b
    Example (MobileNets Table 3; rho 0.714 makes D_F = 10):
        mbcost layer dwsep --k 3 --in 512 --out 512 --size 14 --alpha 0.75 --rho 0.714
    """
    calc = design.layer_calc(k, c_in, c_out, size, alpha, rho)
    if fmt == "json":
        write_output(design_report.layer_json(calc), output)
    else:
        show(design_report.layer_view(calc), output, fit=False)


COMMANDS = (check, fit, sweep, compare, layer)
# registered here, not in cli.py, so that importing either module first works
for _command in COMMANDS:
    main.add_command(_command)
