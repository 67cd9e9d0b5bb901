"""What every mbcost command shares: exit codes, the one-line error handler, output
(stdout, -o FILE, a rich console or plain text) and the option decorators (--alpha/--res/
--rho/--convention, --format/-o, --plot). The commands are in cli.py (table, formula,
list) and cli_design.py (check, fit, sweep, compare, layer); both import this module and
not each other.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from functools import wraps
from pathlib import Path

import click
from click.core import ParameterSource

from . import textview
from .cost import CONVENTIONS, DEFAULT_CONVENTION
from .errors import MbcostError, UsageError, one_line
from .numbers import MAX_INT, parse_int
from .output import write_text
from .spec import load_spec, spec_from_data

EXIT_OK, EXIT_OVER_BUDGET, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
FILE_WIDTH = 160  # -o FILE (and a pipe without $COLUMNS): the width a plain-text table fits


def fail(msg, code=EXIT_BAD_INPUT):
    """Print one line to stderr and exit."""
    click.echo(one_line(msg), err=True)
    sys.exit(code)


def pipe_closed():
    """The reader went away (`mbcost list | head`): stop quietly with exit 0, as cat does;
    exit 1 would read as 'over budget'."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(EXIT_OK)


def handle_errors(fn):
    """Turn the library's errors into one line and exit code 2; never a traceback."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except MbcostError as e:
            fail(e, e.exit_code)
        except BrokenPipeError:
            pipe_closed()
        except RecursionError:
            fail("mbcost: input nested too deeply", EXIT_BAD_INPUT)
        except MemoryError:
            fail("mbcost: input too large to process", EXIT_BAD_INPUT)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as e:  # a bug, not bad input: say so on one line
            fail(f"mbcost: internal error ({type(e).__name__}: {e}); please report it", EXIT_INTERNAL)

    return wrapper


def write_output(text, path):
    """Write text to stdout when path is None/-, else to path (see mbcost.output)."""
    if path in (None, "-"):
        click.echo(text, nl=False)
        return
    write_text(path, text)


def console(stderr=False):
    """A rich console: colour and box drawing on a terminal, plain text otherwise."""
    from rich.console import Console

    tty = (sys.stderr if stderr else sys.stdout).isatty()
    width = None if tty else plain_width()
    plain = not tty or "NO_COLOR" in os.environ  # NO_COLOR: no escape codes at all, not even bold
    c = Console(stderr=stderr, width=width, highlight=False, soft_wrap=False,
                no_color=plain, force_terminal=False if plain else True)
    c.on_broken_pipe = pipe_closed  # rich would exit 1, which here means 'over budget'
    return c


def plain_width():
    """The width plain text is fitted to when piped: $COLUMNS, else 160."""
    try:  # the environment is text like any other: mbcost.numbers' grammar
        return parse_int(os.environ.get("COLUMNS", "0") or "0", "COLUMNS", 0, 10**6) or FILE_WIDTH
    except MbcostError:
        return FILE_WIDTH


def show(view, output, fit=True):
    """Print a text view (mbcost.textview): on a terminal through rich, fitted to its
    width with styles; else as plain text to stdout or -o FILE. fit: plain text too is
    fitted (to $COLUMNS or 160 on stdout, 160 in a file); else it keeps its natural width."""
    if output in (None, "-") and sys.stdout.isatty():
        console().print(textview.Rich(view), crop=False)
        return
    width = (plain_width() if output in (None, "-") else FILE_WIDTH) if fit else None
    write_output(textview.plain(view, width), output)


# ---------------------------------------------------------------- shared options

PLOT_SUFFIXES = (".svg", ".png", ".pdf")
PLOT_HELP = ("Also draw a chart to FILE (.svg, .png or .pdf); needs "
             "pip install 'mbcost[plot]'.")


class WholeNumber(click.ParamType):
    """An integer option in mbcost's number grammar (mbcost.numbers): ASCII digits, at most
    40 characters, within [lo, hi]; click's int would take '٢٢٤' or '2_2_4' as 224."""

    name = "integer"

    def __init__(self, lo=None, hi=None):
        self.lo, self.hi = lo, hi

    def convert(self, value, param, ctx):
        """The int, or click's one-line usage error."""
        try:
            return parse_int(value, "value", self.lo, MAX_INT if self.hi is None else self.hi)
        except MbcostError as e:
            self.fail(str(e).replace("value must", "must", 1), param, ctx)


def convention_option(fn):
    """--convention/-c, one of CONVENTIONS (default DEFAULT_CONVENTION)."""
    return click.option("--convention", "-c", type=click.Choice(list(CONVENTIONS)),
                        default=DEFAULT_CONVENTION, show_default=True,
                        help="Counting convention (see 'mbcost list --conventions').")(fn)


def point_options(fn):
    """--alpha, --res, --rho, --convention."""
    fn = convention_option(fn)
    fn = click.option("--rho", type=str, default=None,
                      help="Resolution multiplier; resolution = round(rho x base).")(fn)
    fn = click.option("--res", "--resolution", "res", type=WholeNumber(1), default=None,
                      help="Input resolution in pixels (default: the spec's).")(fn)
    fn = click.option("--alpha", "-a", type=str, default="1", show_default=True,
                      help="Width multiplier alpha.")(fn)
    return fn


def _text_alias(ctx, param, value):
    return "text" if value == "table" else value  # 'table' is the older name of 'text'


def output_options(*formats):
    """--format (the first is the default; 'text' also answers to 'table') and -o/--output."""
    choices = [c for f in formats for c in (("text", "table") if f == "text" else (f,))]

    def deco(fn):
        """Add the two options to fn."""
        fn = click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
                          help="Write to FILE (atomically) instead of stdout.")(fn)
        return click.option("--format", "-f", "fmt", type=click.Choice(choices),
                            default=formats[0], show_default=True, callback=_text_alias,
                            help="Output format ('table' is another name for 'text').")(fn)
    return deco


def plot_option(fn):
    """--plot FILE.svg|png|pdf (needs the optional matplotlib extra)."""
    return click.option("--plot", "plot", type=click.Path(dir_okay=False), default=None,
                        help=PLOT_HELP)(fn)


def require_plot(path):
    """Exit 2 before any output if a plot is asked for and cannot be made."""
    if path is None:
        return
    if Path(path).suffix.lower() not in PLOT_SUFFIXES:
        fail(f"--plot {path}: the file name must end in {', '.join(PLOT_SUFFIXES)}")
    from .plot import PlotUnavailable, pyplot

    try:
        pyplot()
    except PlotUnavailable as e:
        fail(e, EXIT_BAD_INPUT)


def given(ctx, *names):
    """The options among names set on the command line, as their long flags (--max-madds)."""
    out = []
    for p in ctx.command.params:
        if p.name in names and ctx.get_parameter_source(p.name) == ParameterSource.COMMANDLINE:
            out.append(next((o for o in p.opts if o.startswith("--")), p.opts[0]))
    return out


TRAIN_HELP = ("Count the mult-adds of train-only heads (GoogLeNet's and Inception-v3's "
              "auxiliary classifiers), which inference does not run; their parameters "
              "always count.")


def train_option(fn):
    """--train: the command's graphs are built for training (graph.training), so the
    mult-adds of train-only heads (the spec's `head` kind) count."""
    from .graph import training

    @wraps(fn)
    def wrapper(*args, train=False, **kwargs):
        with training(bool(train)):
            return fn(*args, **kwargs)

    return click.option("--train", is_flag=True, help=TRAIN_HELP)(wrapper)


def allow_unknown_option(fn):
    """--allow-unknown: an ONNX operator mbcost cannot count is a zero row marked unknown."""
    return click.option("--allow-unknown", is_flag=True,
                        help="ONNX files: count operators mbcost does not know as zero, shown "
                             "as rows marked unknown (default: refuse them, listing each).")(fn)


def spec_arg(spec, allow_unknown=False):
    """SPEC for the library: an ONNX model read once (with --allow-unknown if given), a
    bundled name or YAML path as given; --allow-unknown on anything but ONNX is refused."""
    if str(spec).lower().endswith(".onnx"):  # onnx_reader.is_onnx, without importing it
        from .onnx_reader import read_onnx

        return spec_from_data(read_onnx(spec, allow_unknown=allow_unknown), spec)
    if allow_unknown:
        raise UsageError("--allow-unknown applies to ONNX files (.onnx)")
    return spec


def fixed_width(spec):
    """Whether spec's channels are fixed (width rule 'fixed', an ONNX graph's): alpha is 1."""
    return load_spec(spec).rounding.rule == "fixed"


# ---------------------------------------------------------------- one-line usage errors

def usage_line(e, command="mbcost"):
    """A click usage error as one line: click's message and where the help is."""
    cmd = e.ctx.command_path if getattr(e, "ctx", None) is not None else command
    return one_line(f"{e.format_message().rstrip('.')}; try '{cmd} --help'")


@contextmanager
def one_line_usage(command=lambda: "mbcost"):
    """Make a click usage error raised inside print one line (exit 2), not four;
    command() names the command whose help to suggest when click's error does not."""
    try:
        yield
    except click.UsageError as e:
        # click >= 8.2 shows the help for a bare `mbcost` through an error: keep that
        if not isinstance(e, getattr(click.exceptions, "NoArgsIsHelpError", ())):
            cmd = command()
            e.show = lambda file=None, _e=e: click.echo(usage_line(_e, cmd), err=True)
        raise


class MainGroup(click.Group):
    """The mbcost group: its own and its commands' usage errors are one line on stderr."""

    def make_context(self, *args, **kwargs):
        with one_line_usage():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):
        def command():
            sub = ctx.invoked_subcommand  # set before the subcommand parses its options
            return f"{ctx.command_path} {sub}" if sub else ctx.command_path

        with one_line_usage(command):
            return super().invoke(ctx)
