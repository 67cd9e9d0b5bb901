"""The design commands: check, fit, sweep, compare, layer (a thin layer over
``mbcost.design``; rendering in ``mbcost.design_report``).

Exit codes: 0 ok / within budget; 1 over budget (check) or nothing fits (fit, and a sweep
with limits where no point is within every one);
2 bad input (spec, budget file, flags); 3 internal error.
"""

from __future__ import annotations

import sys

import click

from . import design, design_report
from .cli_options import (EXIT_OVER_BUDGET, WholeNumber, allow_unknown_option, convention_option,
                          fixed_width, given, handle_errors, output_options, plot_option,
                          point_options, require_plot, show, spec_arg, train_option,
                          write_output)
from .cost import analyze
from .errors import UsageError


def limit_options(fn):
    """--max-madds and --max-params, with K/M/G units."""
    fn = click.option("--max-params", default=None, metavar="N",
                      help="Parameter limit, e.g. 2M, 2.5M, 4200000.")(fn)
    return click.option("--max-madds", default=None, metavar="N",
                        help="Mult-adds limit, e.g. 150M, 1.2G, 600000000.")(fn)


def memory_limit_options(fn):
    """--max-peak-memory, --max-weights, --max-latency and the memory settings they use."""
    from .memory import DTYPES, MEMORY_MODELS

    for opt in reversed([
        click.option("--max-peak-memory", default=None, metavar="SIZE",
                     help="Peak live activations limit: 2MB, 512KB, 4MiB (B, KB, MB, GB)."),
        click.option("--max-weights", default=None, metavar="SIZE",
                     help="Weight bytes limit: 4MB, 16MiB (B, KB, MB, GB)."),
        click.option("--max-latency", default=None, metavar="TIME",
                     help="Roofline latency bound limit on --device: 5ms, 250us (ns, us, ms, s)."),
        click.option("--device", default=None, metavar="NAME|FILE",
                     help="Device for --max-latency ('mbcost list --devices')."),
        click.option("--dtype", type=click.Choice(list(DTYPES)), default=None,
                     help="Data type for the memory limits (default fp32)."),
        click.option("--weight-dtype", type=click.Choice(list(DTYPES)), default=None,
                     help="Weight data type (default: --dtype)."),
        click.option("--memory-model", type=click.Choice(list(MEMORY_MODELS)), default=None,
                     help="Memory model for --max-peak-memory (default fused)."),
    ]):
        fn = opt(fn)
    return fn


def memory_request(ctx, max_peak_memory, max_weights, max_latency, device, dtype, weight_dtype,
                   memory_model):
    """design's memory= argument from the options, or None without a memory limit."""
    from .memory_budget import memory_limits

    limits = memory_limits(max_peak_memory, max_weights, max_latency, device)
    if not limits:
        extra = given(ctx, "device", "dtype", "weight_dtype", "memory_model")
        if extra:
            raise UsageError(f"{extra[0]} goes with --max-peak-memory, --max-weights or "
                             "--max-latency")
        return None
    return {"limits": limits, "settings": {"dtype": dtype, "weight_dtype": weight_dtype,
                                           "memory_model": memory_model, "device": device}}


MEMORY_OPTION_NAMES = ("max_peak_memory", "max_weights", "max_latency", "device", "dtype",
                       "weight_dtype", "memory_model")


@click.command()
@click.argument("spec", required=False)
@click.option("--budget", "-b", "budget", default=None, metavar="FILE",
              help="A budget file with several specs, each with its alpha/res and limits.")
@limit_options
@memory_limit_options
@point_options
@click.option("--top", type=WholeNumber(0, 100), default=3, show_default=True,
              help="How many of the largest layers to name per limit.")
@output_options("text", "json", "markdown")
@allow_unknown_option
@click.pass_context
@train_option
@handle_errors
def check(ctx, spec, budget, max_madds, max_params, max_peak_memory, max_weights, max_latency,
          device, dtype, weight_dtype, memory_model, alpha, res, rho, convention, top, fmt,
          output, allow_unknown):
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
        mbcost check mobilenet_v2 --max-peak-memory 4MB --max-latency 5ms --device jetson_nano
    """
    if (spec is None) == (budget is None):
        raise UsageError("give a SPEC with limits, or --budget FILE (not both)")
    if budget is not None:
        extra = given(ctx, "max_madds", "max_params", "alpha", "res", "rho", "convention",
                      "allow_unknown", *MEMORY_OPTION_NAMES)
        if extra:
            raise UsageError(f"--budget takes its settings from the file; drop {extra[0]}")
        results = design.check_budget_file(budget, top)
    else:
        limits = {"madds": max_madds, "params": max_params}
        spec = spec_arg(spec, allow_unknown)
        mem = memory_request(ctx, max_peak_memory, max_weights, max_latency, device, dtype,
                             weight_dtype, memory_model)
        results = [design.check_budget(spec, limits, alpha, res, rho, convention, top, mem)]
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
@memory_limit_options
@click.option("--alpha", "-a", default=None, help="Fix alpha and fit the resolution.")
@click.option("--res", "--resolution", "res", type=WholeNumber(1), default=None,
              help="Fix the resolution and fit alpha.")
@click.option("--rho", default=None,
              help="Fix the resolution as rho x the spec's (rounded) and fit alpha.")
@click.option("--alpha-step", default="0.01", show_default=True,
              help="Fitted alpha is a multiple of this.")
@click.option("--res-step", type=WholeNumber(1), default=design.DEFAULT_RES_STEP,
              show_default=True, help="Fitted resolution is a multiple of this (the stride step).")
@convention_option
@output_options("text", "json")
@allow_unknown_option
@click.pass_context
@train_option
@handle_errors
def fit(ctx, spec, max_madds, max_params, max_peak_memory, max_weights, max_latency, device, dtype,
        weight_dtype, memory_model, alpha, res, rho, alpha_step, res_step, convention, fmt,
        output, allow_unknown):
    """The largest alpha (at a fixed --res) or resolution (at a fixed --alpha) within budget.

    The closed form gives the start; the exact integer counts decide: the answer
    meets every limit and the next step up does not. With neither --alpha nor
    --res/--rho: the Pareto frontier of the standard grid (alpha 1.4 ... 0.25, res 224 ... 96).
    Exit 0 found, 1 nothing fits, 2 bad input.

    \b
    Examples:
        mbcost fit mobilenet_v1 --max-madds 150M --res 224
        mbcost fit mobilenet_v2 --max-madds 300M --alpha 1.0 --format json
        mbcost fit mobilenet_v1 --max-madds 150M --max-params 2M
        mbcost fit mobilenet_v1 --max-latency 2ms --device jetson_nano --res 224
    """
    applies = {"--alpha-step": res is not None or rho is not None, "--res-step": alpha is not None}
    unused = [n for n in given(ctx, "alpha_step", "res_step") if not applies[n]]
    if unused:  # a step of what is not being fitted would be silently ignored
        fitted = ("alpha (at --res)" if res is not None or rho is not None else "the resolution (at --alpha)"
                  if alpha is not None else "the standard grid's frontier")
        raise UsageError(f"{unused[0]} does not apply: fit finds {fitted}")
    spec = spec_arg(spec, allow_unknown)
    if fixed_width(spec):  # an ONNX graph's channels: only the resolution can be fitted
        if res is not None or rho is not None:
            raise UsageError(f"{spec.path}: its channels are fixed (an ONNX graph), so alpha "
                             "cannot be fitted; drop --res/--rho to fit the resolution")
        alpha = "1" if alpha is None else alpha
    mem = memory_request(ctx, max_peak_memory, max_weights, max_latency, device, dtype,
                         weight_dtype, memory_model)
    f = design.fit(spec, {"madds": max_madds, "params": max_params}, alpha=alpha, resolution=res,
                   convention=convention, alpha_step=alpha_step, res_step=res_step, rho=rho,
                   memory=mem)
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
@click.option("--rho", "rhos", default=None,
              help="Resolution multipliers instead of --res (resolution = round(rho x the "
                   "spec's)): a list and/or ranges, e.g. 0.5:1:0.25.")
@convention_option
@click.option("--exact", is_flag=True, help="Exact integers instead of K/M/G units.")
@limit_options
@click.option("--memory", is_flag=True,
              help="Add each point's peak live activations, weight bytes and traffic (as "
                   "'table --memory' totals them; one exact analysis per point).")
@memory_limit_options
@output_options("text", "csv", "json", "markdown")
@plot_option
@allow_unknown_option
@click.pass_context
@train_option
@handle_errors
def sweep(ctx, spec, alphas, resolutions, rhos, convention, exact, max_madds, max_params, memory,
          max_peak_memory, max_weights, max_latency, device, dtype, weight_dtype, memory_model,
          fmt, output, plot, allow_unknown):
    """Mult-adds of every alpha x resolution combination in one table (params per alpha).

    MobileNet v1 Tables 6-7 and the TF-slim table of 16 variants in one command.
    JSON (schema mbcost.sweep/1) holds the grid's points {alpha, resolution, madds,
    params} in "points"; CSV has one row per point with those columns.

    With --memory (or --device, or a memory limit) every point also gets its peak live
    activations, weight bytes and traffic (and with --device its roofline time, a bound,
    not a measurement), and the table has a row per point. With limits (--max-madds,
    --max-params, --max-peak-memory, --max-weights, --max-latency) each point says which
    it exceeds. Exit 0 when some point is within every limit (or no limits), 1 when none
    is, 2 bad input.

    \b
    Examples:
        mbcost sweep mobilenet_v1 --alpha 1,0.75,0.5,0.25 --res 224,192,160,128
        mbcost sweep mobilenet_v2 --alpha 0.25:1.4:0.05 --res 96:224:32 --format csv
        mbcost sweep efficientnet_b0 --alpha 0.25:1:0.05 --rho 0.5:1:0.25 --plot grid.png
        mbcost sweep mobilenet_v2 --memory --device jetson_nano --max-latency 5ms
    """
    require_plot(plot)
    if rhos is not None and given(ctx, "resolutions"):
        raise UsageError("give either --res or --rho, not both")
    spec = spec_arg(spec, allow_unknown)
    if fixed_width(spec) and not given(ctx, "alphas"):
        alphas = "1"  # an ONNX graph's channels are fixed: sweep the resolution alone
    mem = sweep_memory_request(ctx, memory, max_peak_memory, max_weights, max_latency, device,
                               dtype, weight_dtype, memory_model)
    limits = {"madds": max_madds, "params": max_params}
    values = design.parse_values(alphas, "--alpha")
    if rhos is not None:
        sw = design.sweep(spec, values, None, convention, rhos=design.parse_values(rhos, "--rho"),
                          limits=limits, memory=mem)
    else:
        sw = design.sweep(spec, values, design.parse_values(resolutions, "--res", integer=True),
                          convention, limits=limits, memory=mem)
    if fmt == "text":
        show(design_report.sweep_view(sw, exact), output, fit=False)
    else:
        text = {"csv": lambda: design_report.sweep_csv(sw), "json": lambda: design_report.sweep_json(sw),
                "markdown": lambda: design_report.sweep_markdown(sw, True)}[fmt]()
        write_output(text, output)
    if plot:
        from .plot import plot_sweep

        plot_sweep(sw, plot)
    if not sw.ok:
        sys.exit(EXIT_OVER_BUDGET)


def sweep_memory_request(ctx, memory, max_peak_memory, max_weights, max_latency, device, dtype,
                         weight_dtype, memory_model):
    """sweep's memory= from the options: None unless --memory, --device or a memory limit
    (then the settings and the memory limits, perhaps none)."""
    from .memory_budget import memory_limits

    limits = memory_limits(max_peak_memory, max_weights, max_latency, device)
    if not (memory or device is not None or limits):
        extra = given(ctx, "dtype", "weight_dtype", "memory_model")
        if extra:
            raise UsageError(f"{extra[0]} goes with --memory, --device or a memory limit")
        return None
    return {"limits": limits, "settings": {"dtype": dtype, "weight_dtype": weight_dtype,
                                           "memory_model": memory_model, "device": device}}


@click.command()
@click.argument("a")
@click.argument("b", required=False)
@point_options
@click.option("--b-alpha", default=None, help="Alpha of B (default: the same as A).")
@click.option("--b-res", type=WholeNumber(1), default=None, help="Resolution of B (default: A's).")
@click.option("--b-rho", default=None, help="Resolution multiplier of B (of B's own resolution).")
@click.option("--dense", is_flag=True,
              help="B with every depthwise separable pair replaced by the standard conv of the "
                   "same kernel, input and output (MobileNets Table 4).")
@output_options("text", "json", "markdown")
@allow_unknown_option
@train_option
@handle_errors
def compare(a, b, alpha, res, rho, convention, b_alpha, b_res, b_rho, dense, fmt, output,
            allow_unknown):
    """Per-layer and total differences between A and B (two specs, or one spec at two settings).

    \b
    Examples:
        mbcost compare mobilenet_v1 mobilenet_v2
        mbcost compare mobilenet_v1 --b-alpha 0.5 --b-res 160
        mbcost compare mobilenet_v1 --dense        # Conv MobileNet, Table 4

    When the layer names of A and B do not line up (two different networks), the
    rows are the layer types (as in 'mbcost table --by kind') and the total.
    """
    if b is None and b_alpha is None and b_res is None and b_rho is None and not dense:
        raise UsageError("nothing to compare: give B, --b-alpha/--b-res/--b-rho, or --dense")
    if b_res is not None and b_rho is not None:
        raise UsageError("give either --b-res or --b-rho, not both")
    from .onnx_reader import is_onnx

    if allow_unknown and not (is_onnx(a) or (b is not None and is_onnx(b))):
        raise UsageError("--allow-unknown applies to ONNX files (.onnx)")
    a = spec_arg(a, allow_unknown and is_onnx(a))
    b = None if b is None else spec_arg(b, allow_unknown and is_onnx(b))
    an_a = analyze(a, alpha=alpha, resolution=res, rho=rho, convention=convention)
    b_spec = a if b is None else b
    b_a = alpha if b_alpha is None else b_alpha
    if b_res is not None or b_rho is not None:
        b_r = b_res  # B's own setting (--b-rho: of B's own resolution)
    elif b is None:
        b_r, b_rho = an_a.resolution, None  # one spec: A's resolution
    else:
        b_r, b_rho = res, rho  # another spec: the same --res or --rho
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
@click.option("--k", "k", type=WholeNumber(), required=True, help="Kernel size D_K.")
@click.option("--in", "c_in", type=WholeNumber(), required=True, help="Input channels M.")
@click.option("--out", "c_out", type=WholeNumber(), required=True, help="Output channels N.")
@click.option("--size", type=WholeNumber(), required=True, help="Feature map size D_F.")
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


COMMANDS = (check, fit, sweep, compare, layer)  # cli.py adds them to the mbcost group
