"""Property tests and fuzzing of the spec pipeline (issue 5, item 4).

(a) generated valid specs: rows sum to totals, costs are non-negative integers,
    the closed form equals the exact count where all sizes divide evenly, and
    mult-adds never decrease as alpha or the resolution grows;
(b) generated and mutated broken specs: the CLI exits 0 or 2, and on 2 prints
    exactly one line on stderr, nothing on stdout, never a traceback.

CI runs a bounded number of examples. A long run sets MBCOST_FUZZ_EXAMPLES
(examples per fuzz test), e.g. ``MBCOST_FUZZ_EXAMPLES=100000 pytest tests/test_fuzz.py -k broken``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import time
from fractions import Fraction

import pytest
import yaml
from clirunner import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mbcost
from mbcost.cli import main
from mbcost.cost import CONVENTIONS
from mbcost.spec import bundled_dir, spec_from_data
from mbcost.symbols import alpha as ALPHA
from mbcost.symbols import rho as RHO
from fuzz_strategies import (BUNDLED_TEXTS, EVEN_ALPHAS, HOSTILE_NUMBERS, dump, even_specs,
                             mutate_bytes, mutate_data)

LONG = int(os.environ.get("MBCOST_FUZZ_EXAMPLES", "0") or 0)
SLOW_SECONDS = 10 if LONG else 5  # one spec must end within this (long runs share the CPU)
COUNTS = {}


def examples(ci):
    """ci examples in CI, MBCOST_FUZZ_EXAMPLES in a long run."""
    return settings(max_examples=LONG or ci, deadline=None, derandomize=not LONG,
                    suppress_health_check=list(HealthCheck), database=None)


def _count(name):
    COUNTS[name] = COUNTS.get(name, 0) + 1


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    """Print how many specs each fuzz test ran (the README records the long run's)."""
    yield
    if COUNTS:
        print("\nfuzz examples run: " + ", ".join(f"{k}={v}" for k, v in sorted(COUNTS.items())))


# ---------------------------------------------------------------- (a) valid specs

@examples(40)
@given(even_specs(), st.sampled_from(EVEN_ALPHAS), st.sampled_from(list(CONVENTIONS)))
def test_rows_sum_to_totals_and_costs_are_non_negative_integers(case, a, convention):
    spec, _, _ = case
    _count("valid_rows")
    r = mbcost.analyze(spec_from_data(spec), alpha=a, convention=convention)
    assert r.rows
    for row in r.rows:
        assert type(row.madds) is int and row.madds >= 0, row
        assert type(row.params) is int and row.params >= 0, row
    assert sum(row.madds for row in r.rows) == r.madds
    assert sum(row.params for row in r.rows) == r.params


@examples(15)
@given(even_specs(), st.sampled_from(EVEN_ALPHAS), st.integers(1, 4))
def test_closed_form_equals_exact_count_where_sizes_divide_evenly(case, a, scale):
    # resolution R = P*scale with P the total stride: every spatial size is R/2^i exactly,
    # and every width is an exact multiple at alpha a, so the closed form has no rounding
    spec, stride_product, h = case
    _count("valid_closed_form")
    s = spec_from_data(spec)
    res = stride_product * scale
    f = mbcost.closed_form(s)
    exact = mbcost.analyze(s, alpha=a, resolution=res)
    point = {ALPHA: a, RHO: Fraction(res, h)}
    assert f.madds.subs(point) == exact.madds
    assert f.params.subs(point) == exact.params


def _madds_or_none(spec, a, res):
    try:
        return mbcost.analyze(spec, alpha=a, resolution=res).madds
    except mbcost.MbcostError:
        return None  # e.g. groups no longer divide the channels at this width


@examples(25)
@given(even_specs(), st.fractions(Fraction(1, 8), 3), st.fractions(Fraction(1, 8), 3),
       st.integers(1, 64), st.integers(1, 64))
def test_madds_never_decrease_with_alpha_or_resolution(case, a1, a2, r1, r2):
    # both rounding rules are non-decreasing in their argument and every size is a
    # product of such roundings, so mult-adds are monotone, but only weakly: nearby
    # alphas can round to the same widths (make_divisible steps of 8)
    spec, _, h = case
    _count("valid_monotone")
    s = spec_from_data(spec)
    a1, a2 = sorted((a1, a2))
    r1, r2 = sorted((r1, r2))
    lo, hi = _madds_or_none(s, a1, h), _madds_or_none(s, a2, h)
    if lo is not None and hi is not None:
        assert lo <= hi
    lo, hi = _madds_or_none(s, 1, r1), _madds_or_none(s, 1, r2)
    if lo is not None and hi is not None:
        assert lo <= hi


@examples(20)
@given(even_specs(), st.integers(2, 64))
def test_doubling_resolution_strictly_increases_madds(case, res):
    # the stem conv sees the input itself: its output side ceil(2R/s) > ceil(R/s) for R >= 2,
    # so its mult-adds grow, and no other layer's shrink
    spec, _, _ = case
    _count("valid_strict")
    s = spec_from_data(spec)
    lo, hi = _madds_or_none(s, 1, res), _madds_or_none(s, 1, 2 * res)
    if lo is not None and hi is not None:
        assert lo < hi


# ---------------------------------------------------------------- (b) broken specs

FOLDER = tempfile.mkdtemp(prefix="mbcost-fuzz-")
# csv most of the time (it checks the total row); the renderers see spec names and titles too
OPTIONS = [(), (), (), ("-f", "table"), ("-f", "table", "--all", "--exact"), ("--by", "kind"),
           ("-f", "markdown"), ("-f", "json", "--flops"), ("-f", "csv", "--alpha", "0.35"),
           ("-f", "csv", "--res", "97", "-c", "ptflops")]
RUNNER = CliRunner()


def assert_clean(data, args=()):
    """Run `mbcost table` on data; exit 0 (still valid) or 2 with exactly one stderr line."""
    path = os.path.join(FOLDER, "spec.yaml")
    with open(path, "wb") as fh:
        fh.write(data)
    start = time.monotonic()
    with _deadline(4 * SLOW_SECONDS):
        res = RUNNER.invoke(main, ["table", path, *(args or ("-f", "csv"))])
    took = time.monotonic() - start
    _count(f"exit{res.exit_code}")
    assert took < SLOW_SECONDS, f"took {took:.1f} s on {data[:300]!r}"
    assert res.exit_code in (0, 2), (res.exit_code, res.stderr, data[:500])
    assert "Traceback" not in res.stderr + res.stdout
    if res.exit_code == 2:
        lines = res.stderr.splitlines()
        assert len(lines) == 1 and lines[0].strip(), (res.stderr, data[:500])
        assert res.stdout == "", data[:500]
        # the spec itself, or a bundled spec it extends (an error inside an inherited block)
        located = (path, str(bundled_dir()), "mbcost:")
        assert lines[0].startswith(located), lines[0]
    else:  # names are printable text: no escape sequence, bell or bidi control gets out
        assert not set(res.stdout) & CONTROL, (res.stdout[:300], data[:300])
        if "markdown" in args:
            assert "<!--" not in res.stdout.replace("\\<!--", ""), data[:300]
    if res.exit_code == 0 and not args:
        assert res.stderr == "" and res.stdout.splitlines()[-1].startswith("total,")
    return res


CONTROL = {chr(c) for c in range(32) if chr(c) not in "\n"} | {"\x7f", "\u2028", "\u2029", "\u202e"}


@examples(150)
@given(st.data())
def test_mutated_specs_exit_2_with_one_line(data):
    # start from a generated valid spec or a bundled one, mutate its data, then maybe its bytes
    if data.draw(st.booleans(), "bundled"):
        base = yaml.safe_load(data.draw(st.sampled_from(BUNDLED_TEXTS), "text"))
    else:
        base = data.draw(even_specs(), "spec")[0]
    text = dump(data.draw(mutate_data(base), "mutated")).encode()
    if data.draw(st.booleans(), "bytes too"):
        text = data.draw(mutate_bytes(text), "bytes")
    _count("broken_mutated")
    assert_clean(text, data.draw(st.sampled_from(OPTIONS), "opts"))


@examples(100)
@given(st.data())
def test_byte_mutated_bundled_specs_exit_2_with_one_line(data):
    text = data.draw(mutate_bytes(data.draw(st.sampled_from(BUNDLED_TEXTS), "text")), "bytes")
    _count("broken_bytes")
    assert_clean(text, data.draw(st.sampled_from(OPTIONS), "opts"))


YAML_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@examples(60)
@given(st.dictionaries(st.sampled_from(["mbcost", "name", "input", "classes", "width", "depth",
                                        "defaults", "vars", "blocks", "layers", "extends", "x"]),
                       YAML_VALUES, max_size=6))
def test_random_yaml_trees_exit_2_with_one_line(tree):
    _count("broken_random")
    tree.setdefault("name", "r")
    if "extends" in tree:
        tree["extends"] = str(tree["extends"])[:20]
    assert_clean(dump(tree).encode())


@examples(30)
@given(st.binary(max_size=400))
def test_random_bytes_exit_2_with_one_line(data):
    _count("broken_raw")
    assert_clean(data)


@examples(25)
@given(st.data())
def test_mutated_specs_through_formula_exit_2_with_one_line(data):
    # the closed forms build the graph in the symbolic domain: the same contract holds there
    base = data.draw(even_specs(), "spec")[0]
    text = dump(data.draw(mutate_data(base), "mutated")).encode()
    _count("broken_formula")
    path = os.path.join(FOLDER, "formula.yaml")
    with open(path, "wb") as fh:
        fh.write(text)
    res = RUNNER.invoke(main, ["formula", path])
    assert res.exit_code in (0, 2), (res.exit_code, res.stderr, text[:500])
    if res.exit_code == 2:
        assert len(res.stderr.splitlines()) == 1 and res.stdout == "", (res.stderr, text[:500])


NUMBER_TEXT = st.one_of(
    st.text(max_size=12), st.fractions().map(str), st.floats().map(str),
    st.integers(-10**6, 10**6).map(lambda e: f"1e{e}"), st.integers(-10**30, 10**30).map(str),
    st.sampled_from(HOSTILE_NUMBERS),
    st.integers(1, 5000).map(lambda n: "9" * n),
    st.text("0123456789_eE.+-/", max_size=16),
    st.text(st.characters(whitelist_categories=("Nd",)), min_size=1, max_size=4),  # any script's digits
)
# a value list: items, and START:STOP:STEP ranges
LIST_TEXT = st.one_of(NUMBER_TEXT, st.lists(NUMBER_TEXT, min_size=1, max_size=3).map(",".join),
                      st.tuples(NUMBER_TEXT, NUMBER_TEXT, NUMBER_TEXT).map(":".join))
# every option that reads a number: (command line with {} for the value, exit codes allowed)
NUMBER_OPTIONS = [
    (["table", "mobilenet_v1", "-f", "csv", "--alpha", "{}"], (0, 2)),
    (["table", "mobilenet_v1", "-f", "csv", "--rho", "{}"], (0, 2)),
    (["table", "mobilenet_v1", "-f", "csv", "--res", "{}"], (0, 2)),
    (["check", "mobilenet_v1", "--max-madds", "{}"], (0, 1, 2)),
    (["check", "mobilenet_v1", "--max-madds", "1G", "--max-params", "{}"], (0, 1, 2)),
    (["fit", "mobilenet_v1", "--max-madds", "150M", "--res", "224", "--alpha-step", "{}"], (0, 1, 2)),
    (["fit", "mobilenet_v1", "--max-madds", "150M", "--alpha", "{}"], (0, 1, 2)),
    (["sweep", "mobilenet_v1", "-f", "csv", "--res", "224", "--alpha", "{}"], (0, 2)),
    (["sweep", "mobilenet_v1", "-f", "csv", "--alpha", "1", "--res", "{}"], (0, 2)),
    (["compare", "mobilenet_v1", "--b-alpha", "{}"], (0, 2)),
    (["layer", "dwsep", "--k", "3", "--in", "8", "--out", "8", "--size", "7", "--alpha", "{}"], (0, 2)),
    (["layer", "dwsep", "--k", "{}", "--in", "8", "--out", "8", "--size", "7"], (0, 2)),
]


@contextlib.contextmanager
def _deadline(seconds):
    """Fail instead of hanging: a run still going after seconds is interrupted (a blocking
    read of a FIFO or /dev/stdin included)."""
    def expired(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _clean_exit(res, allowed, what):
    """The exit code is allowed; on 2 exactly one line on stderr and nothing on stdout."""
    assert res.exit_code in allowed, (res.exit_code, res.stderr[-500:], what)
    assert "Traceback" not in res.stderr + res.stdout, what
    if res.exit_code == 2:
        lines = res.stderr.splitlines()
        assert len(lines) == 1 and lines[0].strip() and res.stdout == "", (res.stderr[-500:], what)


@examples(60)
@given(st.sampled_from(range(len(NUMBER_OPTIONS))), st.data())
def test_number_text_in_every_option_never_escapes(which, data):
    # issue 9: one grammar for every number read from an option (underscore exponents,
    # other scripts' digits, 5,000-digit integers), all within seconds
    argv, allowed = NUMBER_OPTIONS[which]
    value = data.draw(LIST_TEXT if argv[0] == "sweep" else NUMBER_TEXT, "value")
    _count("broken_options")
    args = [value if a == "{}" else a for a in argv]
    start = time.monotonic()
    with _deadline(4 * SLOW_SECONDS):
        res = RUNNER.invoke(main, args)
    assert time.monotonic() - start < SLOW_SECONDS, args
    _clean_exit(res, allowed, args)


SECRET = "root$6$saltsalt$Wq0HashOfThePassword.7Xg"


def _budget_targets():
    """Paths a budget file may name (made once): a FIFO, a device, a folder, a file that is
    not a spec and holds a secret, a valid spec, bundled names, nonsense."""
    folder = os.path.join(FOLDER, "targets")
    if not os.path.isdir(folder):
        os.makedirs(os.path.join(folder, "adir"))
        os.mkfifo(os.path.join(folder, "fifo"))
        with open(os.path.join(folder, "secret"), "w") as fh:
            fh.write(f"{SECRET}: 19000\n")
        with open(os.path.join(folder, "valid.yaml"), "w") as fh:
            fh.write("name: v\ninput: [32, 32, 3]\nlayers:\n  - conv: {k: 3, out: 8}\n")
    return (os.path.join(folder, "fifo"), os.path.join(folder, "secret"), os.path.join(folder, "adir"),
            "valid.yaml", "secret", "fifo", "/dev/null", "/dev/zero", "/dev/stdin", "mobilenet_v1",
            "efficientnet_b7", "nosuch", "", "\x1b[2J", "../targets/secret")


BUDGET_VALUES = st.one_of(st.sampled_from(HOSTILE_NUMBERS), st.integers(-10, 10**6), st.floats(),
                          st.text(max_size=8), st.sampled_from([0.5, 224, "150M", "1G", "paper", None]))
BUDGET_KEYS = ["alpha", "res", "resolution", "rho", "max_madds", "max_params", "convention", "x"]


@examples(60)
@given(st.data())
def test_budget_files_exit_2_with_one_line(data):
    # issue 9: a budget file's spec: paths are someone else's choice (a FIFO, a device, a
    # secret that is no spec), its numbers are any text, its checks may be aliased by the
    # thousand; every run ends within seconds, one line on 2, the secret never shown
    targets = _budget_targets()
    checks = []
    for _ in range(data.draw(st.integers(1, 3), "checks")):
        check = {"spec": data.draw(st.sampled_from(targets), "spec")}
        for key in data.draw(st.lists(st.sampled_from(BUDGET_KEYS), max_size=3, unique=True), "keys"):
            check[key] = data.draw(BUDGET_VALUES, key)
        if data.draw(st.booleans(), "limit"):
            check.setdefault("max_madds", "10G")
        checks.append(check)
    copies = data.draw(st.sampled_from([0, 0, 0, 20, 1500]), "copies")
    if copies:
        first = yaml.safe_dump(checks[0], default_flow_style=True, width=10_000).strip()
        text = f"checks:\n  - &c {first}\n" + "  - *c\n" * copies
    else:
        text = dump({"checks": checks})
    raw = text.encode()
    if data.draw(st.booleans(), "bytes too"):
        raw = data.draw(mutate_bytes(raw), "bytes")
    path = os.path.join(FOLDER, "targets", "budget.yaml")
    with open(path, "wb") as fh:
        fh.write(raw)
    _count("broken_budget")
    start = time.monotonic()
    with _deadline(4 * SLOW_SECONDS):
        res = RUNNER.invoke(main, ["check", "--budget", path, "-f",
                                   data.draw(st.sampled_from(["text", "json", "markdown"]), "format")])
    assert time.monotonic() - start < SLOW_SECONDS, raw[:300]
    _count(f"budget_exit{res.exit_code}")
    _clean_exit(res, (0, 1, 2), raw[:300])
    assert "Wq0Hash" not in res.stdout + res.stderr, raw[:300]
