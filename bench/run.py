"""The mbcost benchmark: whole-process CLI time against a floor, closed-form grid speed,
and import cost. Not a test; run it by hand (at low priority on a shared machine):

    nice -n 10 python bench/run.py               # print the table
    nice -n 10 python bench/run.py --write       # also rewrite bench/RESULTS.md

Design targets (README "Speed"): `mbcost table SPEC --format json` within 2x of the
floor `python -c "import rich.console, rich.table, click, yaml"` (the libraries a
table run may need), which requires that neither `import mbcost` nor `mbcost table`
imports sympy; a 10,000-point alpha x rho grid of a closed form in under 0.1 s.

The harness is a list of ``Case``s; add a case (a sweep, a fit) by appending to CASES.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
FLOOR_CODE = "import rich.console, rich.table, click, yaml"


@dataclass
class Case:
    """One measurement: a name, what it is, a function returning seconds per repetition,
    and optionally the name of the case it is compared with and a target ratio or time."""

    name: str
    what: str
    run: Callable[[int], list]  # repetitions -> [seconds, ...]
    baseline: str | None = None  # ratio against this case's median
    target: str = ""


@dataclass
class Result:
    """The timings of one case."""

    case: Case
    times: list

    @property
    def median(self):
        """Median seconds."""
        return statistics.median(self.times)

    @property
    def best(self):
        """Fastest repetition in seconds."""
        return min(self.times)


# ---------------------------------------------------------------- measuring

def process_times(argv, reps):
    """Wall time of a whole fresh process (startup included), reps times."""
    out = []
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    subprocess.run(argv, check=True, capture_output=True, env=env)  # warm caches and .pyc
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env)
        out.append(time.perf_counter() - t0)
    return out


def python_process(code_or_args):
    """A Case runner for `python -c CODE` or `python ARGS...`."""
    argv = [sys.executable] + (["-c", code_or_args] if isinstance(code_or_args, str)
                               else list(code_or_args))
    return lambda reps: process_times(argv, reps)


def table_process(spec):
    """A Case runner for `mbcost table SPEC --format json` in a fresh process."""
    return python_process(["-m", "mbcost", "table", spec, "--format", "json"])


def largest_bundled_spec():
    """The bundled spec with the most primitive layers (name, layer count)."""
    import mbcost

    sizes = {n: len(mbcost.analyze(n).rows) for n in mbcost.bundled_names()}
    name = max(sizes, key=lambda n: (sizes[n], n))
    return name, sizes[name]


def grid_times(reps, points=100):
    """Seconds to evaluate MobileNet v1's closed forms on a points x points alpha x rho grid.

    The closed form is derived and compiled once (sympy.lambdify, pure-Python math);
    only the evaluation of the grid is timed. The compiled function is checked against
    the exact integers of `analyze` at alpha = rho = 1, where the closed form is exact.
    """
    import sympy

    import mbcost
    from mbcost.symbols import alpha, rho

    f = mbcost.closed_form("mobilenet_v1")
    fn = sympy.lambdify((alpha, rho), (f.madds, f.params), modules="math")
    exact = mbcost.analyze("mobilenet_v1")
    if tuple(round(v) for v in fn(1.0, 1.0)) != (exact.madds, exact.params):
        raise SystemExit("bench: the compiled closed form disagrees with analyze() at alpha = rho = 1")
    alphas = [0.25 + 0.75 * i / (points - 1) for i in range(points)]
    rhos = [128 / 224 + (96 / 224) * i / (points - 1) for i in range(points)]
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        grid = [fn(a, r) for a in alphas for r in rhos]
        out.append(time.perf_counter() - t0)
    assert len(grid) == points * points
    return out


def build_cases():
    """The benchmark cases, in the order they are reported."""
    big, nlayers = largest_bundled_spec()
    cases = [
        Case("python", "python -c pass (interpreter startup alone)", python_process("pass")),
        Case("floor", f"python -c \"{FLOOR_CODE}\"", python_process(FLOOR_CODE)),
        Case("import mbcost", "python -c \"import mbcost\"", python_process("import mbcost"),
             baseline="floor", target="< 1x floor"),
        Case("table mobilenet_v1", "mbcost table mobilenet_v1 --format json (whole process)",
             table_process("mobilenet_v1"), baseline="floor", target="< 2x floor"),
    ]
    if big != "mobilenet_v1":
        cases.append(Case(f"table {big}", f"mbcost table {big} --format json "
                          f"(largest bundled spec, {nlayers} layers)",
                          table_process(big), baseline="floor", target="< 2x floor"))
    cases.append(Case("closed-form grid", "MobileNet v1 closed forms (mult-adds, params) on a "
                      "100 x 100 alpha x rho grid, lambdify'd once", grid_times,
                      target="< 0.1 s"))
    return cases


# ---------------------------------------------------------------- reporting

def run(cases, reps):
    """Run every case; {name: Result}."""
    results = {}
    for c in cases:
        results[c.name] = Result(c, c.run(reps))
        print(f"  {c.name}: median {results[c.name].median * 1000:.1f} ms", file=sys.stderr)
    return results


def markdown(results, reps):
    """The results as a Markdown table."""
    lines = ["| case | what | median | min | vs floor (median) | target |",
             "|---|---|--:|--:|--:|---|"]
    for r in results.values():
        c = r.case
        ratio = ""
        if c.baseline:
            ratio = f"{r.median / results[c.baseline].median:.2f}x"
        lines.append(f"| {c.name} | {c.what} | {r.median * 1000:.1f} ms | {r.best * 1000:.1f} ms "
                     f"| {ratio} | {c.target} |")
    lines.append("")
    lines.append(f"{reps} repetitions per case (after one warm-up run for processes).")
    return "\n".join(lines) + "\n"


def cpu_model():
    """The CPU model from /proc/cpuinfo, or platform.processor()."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine():
    """Platform, Python, CPU and load, one per line."""
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "unknown"
    return [
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- platform: {platform.platform()}",
        f"- python: {platform.python_implementation()} {platform.python_version()}",
        f"- CPU: {os.cpu_count()} x {cpu_model()}",
        f"- load average (1, 5, 15 min) at the end of the run: {load}",
        f"- priority: nice {os.nice(0)}",
    ]


def load_note():
    """A paragraph on how busy the machine was, which limits how far absolute times can be trusted."""
    try:
        load1 = float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return ""
    busy = load1 > 0.5 * (os.cpu_count() or 1)
    return ("The machine was shared with other jobs during this run (1-minute load "
            f"{load1:.2f} on {os.cpu_count()} CPUs), so absolute times are inflated and noisy; "
            "the ratios against the floor, measured in the same run, and the minima are the "
            "better guide.\n" if busy else
            f"The machine was mostly idle during this run (1-minute load {load1:.2f}).\n")


def main(argv=None):
    """Run the benchmark; print the table, and write bench/RESULTS.md with --write."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=15, help="repetitions per case")
    p.add_argument("--write", action="store_true", help="rewrite bench/RESULTS.md")
    args = p.parse_args(argv)
    if os.nice(0) < 10:
        os.nice(10 - os.nice(0))  # a shared machine: stay out of the way
    results = run(build_cases(), args.reps)
    table = markdown(results, args.reps)
    print(table)
    if args.write:
        head = ["# Benchmark results", "", "Produced by `nice -n 10 python bench/run.py --write`.", "",
                "## Machine", ""] + machine() + ["", "## Results", ""]
        (HERE / "RESULTS.md").write_text("\n".join(head) + "\n" + table + "\n" + load_note())


if __name__ == "__main__":
    main()
