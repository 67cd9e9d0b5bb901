"""The mbcost benchmark: whole-process CLI time against a floor, closed-form grid speed,
and import cost. Not a test; run it by hand (at low priority on a shared machine):

    nice -n 10 python bench/run.py               # print the table
    nice -n 10 python bench/run.py --write       # also rewrite bench/RESULTS.md

Design targets (README "Speed"): `mbcost table SPEC --format json` within 2x of the
floor `python -c "import rich.console, rich.table, click, yaml"` (the libraries a
table run may need), which requires that neither `import mbcost` nor `mbcost table`
imports sympy; a 10,000-point alpha x rho grid of a closed form in under 0.1 s; and
(issue 4) `mbcost sweep` over 1,000 points and `mbcost fit` on EfficientNet-B7 and
MobileNet v1 within 1.5x of `python -c "import sympy"`; (issue 8) the rich terminal table of
EfficientNet-B7 within 2x of the floor, and the terminal table of a spec at the layer limit within
2x of its CSV (both on a pseudo-terminal of 120 columns, whole process); (issue 13) reading
and counting a generated 1,000-node ONNX graph (`mbcost table GRAPH.onnx --format json`,
whole process) within 2x of `python -c "import onnx"` (needs the onnx extra).

The harness is a list of ``Case``s; add a case (a sweep, a fit) by appending to CASES.

    nice -n 10 python bench/run.py --limits --write    # bench/LIMITS.md

(issue 9) runs every command once on a generated spec at each documented limit (and the
limits only some commands reach: a budget file's checks, a sweep's grid, a value list) and
records how long each took, so that the README can say what a spec at each limit costs.
These are measurements, not targets: the rule they check is that every command ends
within 10 s on the 2-core test machine.
"""

from __future__ import annotations

import argparse
import atexit
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
FLOOR_CODE = "import rich.console, rich.table, click, yaml"


@dataclass
class Case:
    """One measurement: a name, what it is, and a setup function that prepares the case
    and returns a function timing one repetition (in seconds); optionally the case it
    is compared with, and a target."""

    name: str
    what: str
    setup: Callable[[], Callable[[], float]]
    baseline: str | None = None  # ratios against this case
    max_ratio: float | None = None  # target: median at most this many times the baseline's
    max_seconds: float | None = None  # target: median at most this many seconds
    reps: int | None = None  # time at most this many rounds (a slow case), else every round

    def verdict(self, result, results):
        """'' if the case has no target, else the target and whether the median met it."""
        if self.max_ratio is not None:
            ok = result.median <= self.max_ratio * results[self.baseline].median
            return f"≤ {self.max_ratio:g}x {self.baseline}: {'met' if ok else 'MISSED'}"
        if self.max_seconds is not None:
            ok = result.median <= self.max_seconds
            return f"≤ {self.max_seconds:g} s: {'met' if ok else 'MISSED'}"
        return ""


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

# An installed package has its bytecode compiled (pip does it at install time); a
# PYTHONDONTWRITEBYTECODE in the environment would make every run recompile mbcost's
# modules from source while the libraries' come precompiled, which is not what users see.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def python_process(*args, sympy_ok=False):
    """A Case setup timing one whole fresh `python ARGS...` process (startup included).
    Unless sympy_ok, the setup fails if the process imports sympy."""
    argv = [sys.executable, *args]

    def setup():
        # warm the disk cache and .pyc; -X importtime lists every module the process loads
        done = subprocess.run([sys.executable, "-X", "importtime", *args], check=True,
                              capture_output=True, text=True, env=ENV)
        if not sympy_ok and args[:2] != ("-c", FLOOR_CODE) and " sympy\n" in done.stderr:
            raise SystemExit(f"bench: {' '.join(args)} imports sympy; keep it lazy (cost.py, graph.py)")

        def once():
            t0 = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True, env=ENV)
            return time.perf_counter() - t0

        return once

    return setup


def terminal_process(*args, columns=120):
    """A Case setup timing one whole fresh `python ARGS...` process whose stdout and stderr
    are a pseudo-terminal of the given width (what a person at a terminal sees: rich
    output, styles, the width from the terminal). A thread drains the terminal as fast
    as a terminal emulator would; the time is until the process exits."""
    import fcntl
    import pty
    import struct
    import termios

    argv = [sys.executable, *args]

    def once_on_pty():
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
        got = []

        def drain():
            while True:
                try:
                    data = os.read(master, 1 << 16)
                except OSError:  # the slave side closed: EIO on Linux
                    break
                if not data:
                    break
                got.append(len(data))

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        t0 = time.perf_counter()
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=ENV)
        elapsed = time.perf_counter() - t0
        os.close(slave)
        reader.join(5)
        os.close(master)
        if done.returncode != 0:
            raise SystemExit(f"bench: {' '.join(args)} exited {done.returncode} on a terminal")
        return elapsed, sum(got)

    def setup():
        done = subprocess.run([sys.executable, "-X", "importtime", *args], check=True,
                              capture_output=True, text=True, env=ENV)
        if " sympy\n" in done.stderr:
            raise SystemExit(f"bench: {' '.join(args)} imports sympy; keep it lazy (cost.py, graph.py)")
        _, size = once_on_pty()  # warm, and check that the terminal got the table
        if size < 1000:
            raise SystemExit(f"bench: {' '.join(args)} wrote only {size} bytes to the terminal")
        return lambda: once_on_pty()[0]

    return setup


_SCRATCH = []


def scratch_dir():
    """A temporary folder for generated specs, removed when the benchmark exits."""
    if not _SCRATCH:
        _SCRATCH.append(tempfile.mkdtemp(prefix="mbcost-bench-"))
        atexit.register(shutil.rmtree, _SCRATCH[0], True)
    return Path(_SCRATCH[0])


def long_spec(pairs=99):
    """A generated spec of 1 + 100 x pairs layers (9,901 for the default, just under the
    10,000-layer limit): a stem conv, then a block of 50 depthwise + pointwise pairs
    repeated; no BN or activation, so every layer is a row of the table."""
    inner = "\n".join("      - dw: {k: 3}\n      - pw: {out: 8}" for _ in range(50))
    path = scratch_dir() / "long.yaml"
    path.write_text("mbcost: 1\nname: long\ninput: [32, 32, 8]\nblocks:\n  fifty_pairs:\n"
                    f"    layers:\n{inner}\nlayers:\n  - conv: {{k: 3, out: 8}}\n"
                    f"  - fifty_pairs: {{n: {pairs}}}\n")
    return str(path)


def table_process(spec):
    """A Case setup timing `mbcost table SPEC --format json` in a fresh process."""
    return python_process("-m", "mbcost", "table", spec, "--format", "json")


def largest_bundled_spec():
    """The bundled spec with the most primitive layers (name, layer count)."""
    import mbcost

    sizes = {n: len(mbcost.analyze(n).rows) for n in mbcost.bundled_names()}
    name = max(sizes, key=lambda n: (sizes[n], n))
    return name, sizes[name]


def in_process(fn_name, spec, **kwargs):
    """A Case setup timing mbcost.<fn_name>(spec, **kwargs) inside this process (no startup
    cost)."""

    def setup():
        import mbcost

        fn = getattr(mbcost, fn_name)
        fn(spec, **kwargs)  # warm: modules imported, spec file cached by the OS

        def once():
            t0 = time.perf_counter()
            fn(spec, **kwargs)
            return time.perf_counter() - t0

        return once

    return setup


def grid_setup(points=100):
    """A Case setup timing MobileNet v1's closed forms on a points x points alpha x rho grid.

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

    def once():
        t0 = time.perf_counter()
        grid = [fn(a, r) for a in alphas for r in rhos]
        elapsed = time.perf_counter() - t0
        assert len(grid) == points * points
        return elapsed

    return once


def build_cases():
    """The benchmark cases, in the order they are reported."""
    big, nlayers = largest_bundled_spec()
    cases = [
        Case("python", "python -c pass (interpreter startup alone)", python_process("-c", "pass")),
        Case("floor", f"python -c \"{FLOOR_CODE}\"", python_process("-c", FLOOR_CODE)),
        Case("import mbcost", "python -c \"import mbcost\"", python_process("-c", "import mbcost"),
             baseline="floor"),
        Case("table mobilenet_v1", "mbcost table mobilenet_v1 --format json (whole process)",
             table_process("mobilenet_v1"), baseline="floor", max_ratio=2),
    ]
    if big != "mobilenet_v1":
        cases.append(Case(f"table {big}", f"mbcost table {big} --format json "
                          f"(largest bundled spec, {nlayers} layers)",
                          table_process(big), baseline="floor", max_ratio=2))
    cases.append(Case(f"analyze {big}", f"mbcost.analyze('{big}') in an already running process",
                      in_process("analyze", big)))
    cases.append(Case("closed_form mobilenet_v1", "mbcost.closed_form('mobilenet_v1') in a "
                      "running process (sympy imported, its cache warm: repeats are cheap)", in_process("closed_form", "mobilenet_v1")))
    cases.append(Case("closed_form mobilenet_v1 exact", "the same with exact=True (formula "
                      "--exact: rounding and strided sizes kept), against the continuous form",
                      in_process("closed_form", "mobilenet_v1", exact=True),
                      baseline="closed_form mobilenet_v1"))
    cases.append(Case("closed-form grid", "MobileNet v1 closed forms (mult-adds, params) on a "
                      "100 x 100 alpha x rho grid, lambdify'd once", grid_setup,
                      max_seconds=0.1))
    cases += design_cases(big)
    cases += terminal_cases()
    cases += onnx_cases()
    cases += memory_cases()
    return cases


def onnx_graph(blocks=166):
    """A generated ONNX model of 6 x blocks + 5 nodes (1,001 for the default): a stem conv
    and ReLU, then inverted residual blocks (1x1 conv, ReLU, depthwise 3x3, ReLU, 1x1 conv,
    residual Add) on 16 channels, a global pool, Flatten and Gemm; dynamic height and
    width; weights stripped (an external file that does not exist), as a stripped export."""
    from onnx import TensorProto, helper

    inits, nodes = [], []

    def w(name, dims):
        t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=list(dims))
        t.data_location = TensorProto.EXTERNAL
        e = t.external_data.add()
        e.key, e.value = "location", "weights.bin"
        inits.append(t)
        return name

    def conv(x, y, cin, cout, k, group=1):
        pads = [k // 2] * 4
        nodes.append(helper.make_node("Conv", [x, w(f"{y}.w", (cout, cin // group, k, k)),
                                               w(f"{y}.b", (cout,))], [y], name=f"/{y}/Conv",
                                      kernel_shape=[k, k], pads=pads, group=group))

    c = 16
    conv("x", "stem", 3, c, 3)
    nodes.append(helper.make_node("Relu", ["stem"], ["s0"], name="/stem/Relu"))
    cur = "s0"
    for i in range(blocks):
        b = f"block{i}"
        conv(cur, f"{b}.expand", c, 4 * c, 1)
        nodes.append(helper.make_node("Relu", [f"{b}.expand"], [f"{b}.r1"], name=f"/{b}/Relu"))
        conv(f"{b}.r1", f"{b}.dw", 4 * c, 4 * c, 3, group=4 * c)
        nodes.append(helper.make_node("Relu", [f"{b}.dw"], [f"{b}.r2"], name=f"/{b}/Relu_1"))
        conv(f"{b}.r2", f"{b}.project", 4 * c, c, 1)
        nodes.append(helper.make_node("Add", [cur, f"{b}.project"], [f"{b}.out"], name=f"/{b}/Add"))
        cur = f"{b}.out"
    nodes.append(helper.make_node("GlobalAveragePool", [cur], ["pool"], name="/pool"))
    nodes.append(helper.make_node("Flatten", ["pool"], ["flat"], name="/flatten"))
    nodes.append(helper.make_node("Gemm", ["flat", w("fc.w", (1000, c)), w("fc.b", (1000,))],
                                  ["logits"], name="/fc/Gemm", transB=1))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, "height", "width"])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1000])
    graph = helper.make_graph(nodes, "generated", [x], [y], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = scratch_dir() / "generated.onnx"
    path.write_bytes(model.SerializeToString())
    return str(path), len(nodes)


def onnx_cases():
    """Issue 13: a 1,000-node ONNX graph read and counted within 2x of `import onnx`."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        print("  onnx is not installed: no ONNX cases (pip install 'mbcost[onnx]')", file=sys.stderr)
        return []
    path, n = onnx_graph()
    return [
        Case("onnx floor", 'python -c "import onnx"', python_process("-c", "import onnx")),
        Case(f"table {n:,}-node ONNX", f"mbcost table GRAPH.onnx --format json (a generated "
             f"{n:,}-node graph, weights stripped; whole process)", table_process(path),
             baseline="onnx floor", max_ratio=2),
    ]


def memory_cases():
    """Issue 12: the memory and roofline columns cost at most 1.2x the plain table on
    EfficientNet-B7 (whole process, JSON to a pipe); and in a running process, analyze
    with memory and a device against analyze alone."""
    import mbcost

    b7 = "efficientnet_b7" if "efficientnet_b7" in mbcost.bundled_names() else largest_bundled_spec()[0]
    device = {"memory": {"device": "a100_sxm4_80gb"}}

    def analyze_memory():
        mbcost.analyze(b7, **device)

        def once():
            t0 = time.perf_counter()
            mbcost.analyze(b7, **device)
            return time.perf_counter() - t0

        return once

    return [
        Case(f"plain table {b7}", f"mbcost table {b7} --format json (whole process)",
             table_process(b7)),
        Case(f"memory table {b7}", f"mbcost table {b7} --memory --device a100_sxm4_80gb "
             "--format json (whole process)",
             python_process("-m", "mbcost", "table", b7, "--memory", "--device", "a100_sxm4_80gb",
                            "--format", "json"),
             baseline=f"plain table {b7}", max_ratio=1.2),
        Case(f"analyze {b7} (memory)", f"mbcost.analyze('{b7}') in a running process, alone",
             in_process("analyze", b7)),
        Case(f"analyze {b7} + memory, device", f"mbcost.analyze('{b7}', memory={{device: "
             "a100}) in a running process", analyze_memory,
             baseline=f"analyze {b7} (memory)"),
    ]


LONG_REPS = 5  # the 10,000-layer cases take a second each


def terminal_cases():
    """Issue 8: what a person sees. The rich terminal table of EfficientNet-B7 within 2x of
    the floor; the terminal table of a spec at the layer limit within 2x of its CSV."""
    import mbcost

    b7 = "efficientnet_b7" if "efficientnet_b7" in mbcost.bundled_names() else largest_bundled_spec()[0]
    long = long_spec()
    n = len(mbcost.analyze(long).rows)
    return [
        Case(f"terminal table {b7}", f"mbcost table {b7} on a 120-column pseudo-terminal "
             "(rich, whole process)", terminal_process("-m", "mbcost", "table", b7),
             baseline="floor", max_ratio=2),
        Case(f"csv {n:,} layers", f"mbcost table LONG.yaml --format csv (a generated {n:,}-layer "
             "spec, to a pipe)", python_process("-m", "mbcost", "table", long, "--format", "csv"),
             reps=LONG_REPS),
        Case(f"terminal table {n:,} layers", "mbcost table LONG.yaml on a 120-column "
             "pseudo-terminal (every row)", terminal_process("-m", "mbcost", "table", long),
             baseline=f"csv {n:,} layers", max_ratio=2, reps=LONG_REPS),
    ]


def design_cases(big):
    """Issue 4: sweep over 1,000 points and fit, whole process, within 1.5x of `import sympy`
    (they legitimately import sympy: fit starts from the closed form)."""
    import mbcost

    b7 = "efficientnet_b7"
    big = b7 if b7 in mbcost.bundled_names() else big
    res = str(mbcost.load_spec(big).input[0])
    sweep = ["--alpha", "0.25:1.24:0.01", "--res", "96:240:16", "--format", "csv", "-o", os.devnull]
    cmds = [
        ("sweep mobilenet_v1", "1,000-point alpha x resolution grid", ["sweep", "mobilenet_v1", *sweep]),
        (f"sweep {big}", "1,000-point alpha x resolution grid", ["sweep", big, *sweep]),
        (f"fit {big} alpha", f"largest alpha at {res} px within 20G", ["fit", big, "--max-madds", "20G",
                                                                        "--res", res]),
        (f"fit {big} resolution", "largest resolution at alpha 1 within 20G",
         ["fit", big, "--max-madds", "20G", "--alpha", "1"]),
        ("fit mobilenet_v1 alpha", "largest alpha at 224 px within 150M",
         ["fit", "mobilenet_v1", "--max-madds", "150M", "--res", "224"]),
    ]
    out = [Case("sympy floor", 'python -c "import sympy"', python_process("-c", "import sympy",
                                                                           sympy_ok=True))]
    for name, what, argv in cmds:
        out.append(Case(name, f"mbcost {' '.join(argv[:2])}: {what} (whole process)",
                        python_process("-m", "mbcost", *argv, sympy_ok=True),
                        baseline="sympy floor", max_ratio=1.5))
    # issue 12: limits on the fast grid cost nothing; memory points are one exact analysis
    # each (measured against the plain 1,000-point sweep of the same spec, same run)
    limits = ["--max-madds", "300M", "--max-params", "3M"]
    out.append(Case("sweep mobilenet_v1 limits", "mbcost sweep mobilenet_v1: the same 1,000 "
                    "points with --max-madds and --max-params (whole process)",
                    python_process("-m", "mbcost", "sweep", "mobilenet_v1", *sweep, *limits,
                                   sympy_ok=True), baseline="sweep mobilenet_v1", max_ratio=1.2))
    memory = ["--device", "jetson_nano", "--max-latency", "20ms", "--max-peak-memory", "30MB",
              "--format", "csv", "-o", os.devnull]
    for spec, alphas, resolutions in (("mobilenet_v1", "0.25:1.15:0.1", "96:240:16"),
                                      (big, "0.5,0.75,1", "128,160,192,224")):
        n = len(alphas.split(",")) * len(resolutions.split(",")) if "," in alphas else 100
        out.append(Case(f"sweep {spec} memory", f"mbcost sweep {spec}: {n} points with --device, "
                        "--max-latency and --max-peak-memory (one exact analysis each; whole "
                        "process)", python_process("-m", "mbcost", "sweep", spec, "--alpha", alphas,
                                                   "--res", resolutions, *memory, sympy_ok=True),
                        baseline=f"sweep {spec}"))
    return out


def select(cases, only):
    """The cases whose name contains only, with the baselines they need, in order."""
    if not only:
        return cases
    by_name = {c.name: c for c in cases}
    keep = set()
    for c in cases:
        if only in c.name:
            while c is not None and c.name not in keep:
                keep.add(c.name)
                c = by_name.get(c.baseline)
    return [c for c in cases if c.name in keep]


# ---------------------------------------------------------------- specs at the limits (issue 9)

def _write(name, text):
    path = scratch_dir() / name
    path.write_text(text)
    return str(path)


def limit_specs():
    """[(limit, what, path)]: a generated spec at each documented limit that a spec can reach
    (bench/LIMITS.md; the README's Bad input table quotes the slowest command of each)."""
    from mbcost import expr, graph, numbers, spec

    head = "mbcost: 1\nname: at_limit\ninput: [32, 32, 8]\n"
    stem = "  - conv: {name: stem, k: 3, out: 8}\n"
    out = []
    # primitive layers: every one a counted row (dw + pw pairs), exactly MAX_LAYERS
    pairs, extra = divmod(graph.MAX_LAYERS - 1, 100)
    inner = "".join("      - dw: {k: 3}\n      - pw: {out: 8}\n" for _ in range(50))
    out.append(("graph.MAX_LAYERS", f"{graph.MAX_LAYERS:,} primitive layers (dw + pw pairs)",
                _write("layers.yaml", head + f"blocks:\n  pairs:\n    layers:\n{inner}layers:\n{stem}"
                       f"  - pairs: {{n: {pairs}}}\n" + "  - pw: {out: 8}\n" * extra)))
    # expansion steps: empty bodies repeated, just under MAX_WORK steps
    outer = (graph.MAX_WORK - 1000) // (graph.MAX_LAYERS + 2)
    out.append(("graph.MAX_WORK", f"{outer} x {graph.MAX_LAYERS:,} repeats of an empty block "
                f"(about {outer * (graph.MAX_LAYERS + 2):,} steps)",
                _write("work.yaml", head + "blocks:\n  e: {layers: []}\n"
                       f"  b: {{layers: [{{e: {{n: {graph.MAX_LAYERS}}}}}]}}\nlayers:\n{stem}"
                       f"  - b: {{n: {outer}}}\n")))
    # YAML nodes: variables, two nodes each, just under MAX_YAML_NODES
    nvars = (spec.MAX_YAML_NODES - 100) // 2
    variables = "".join(f"  v{i}: {i}\n" for i in range(nvars))
    out.append(("spec.MAX_YAML_NODES", f"{2 * nvars:,} YAML nodes ({nvars:,} variables)",
                _write("nodes.yaml", head + f"vars:\n{variables}layers:\n{stem}")))
    # file size: comments up to just under MAX_FILE_BYTES
    body = head + f"layers:\n{stem}"
    line = "# " + "x" * 77 + "\n"
    comments = line * ((spec.MAX_FILE_BYTES - len(body) - 100) // len(line))
    out.append(("spec.MAX_FILE_BYTES", f"{spec.MAX_FILE_BYTES // 2**20} MiB of text (comments)",
                _write("size.yaml", comments + body)))
    # YAML nesting: a list MAX_YAML_DEPTH deep under a layer that is skipped
    depth = spec.MAX_YAML_DEPTH - 4  # under the top mapping, layers, an item and its fields
    out.append(("spec.MAX_YAML_DEPTH", f"YAML nested {spec.MAX_YAML_DEPTH} levels",
                _write("depth.yaml", head + f"layers:\n{stem}  - parallel: {{when: 0, branches: "
                       + "[" * depth + "relu" + "]" * depth + "}\n")))
    # an extends chain of MAX_EXTENDS files sharing MAX_YAML_NODES between them
    per = (spec.MAX_YAML_NODES - 200) // (2 * (spec.MAX_EXTENDS + 1))
    parent = _write("chain0.yaml", head + "vars:\n" + "".join(f"  a{i}: {i}\n" for i in range(per))
                    + f"layers:\n{stem}")
    for k in range(1, spec.MAX_EXTENDS + 1):
        parent = _write(f"chain{k}.yaml", f"extends: {parent}\nname: chain{k}\nvars:\n"
                        + "".join(f"  c{k}_{i}: {i}\n" for i in range(per)))
    out.append(("spec.MAX_EXTENDS", f"an extends chain of {spec.MAX_EXTENDS} files, "
                f"{2 * per * (spec.MAX_EXTENDS + 1):,} YAML nodes among them", parent))
    # blocks nested MAX_NESTING deep
    blocks = "".join(f"  n{i}: {{layers: [n{i + 1}]}}\n" for i in range(graph.MAX_NESTING - 1))
    blocks += f"  n{graph.MAX_NESTING - 1}: {{layers: [{{conv: {{k: 3, out: 8}}}}]}}\n"
    out.append(("graph.MAX_NESTING", f"blocks nested {graph.MAX_NESTING} deep",
                _write("nesting.yaml", head + f"blocks:\n{blocks}layers:\n{stem}  - n0\n")))
    # the largest sizes: resolution, channels, kernel, expression value and length, a name,
    # a number written out
    long_expr = "+".join(["1"] * (expr.MAX_SOURCE // 2 - 4)) + "+7"
    name = "n" * spec.MAX_NAME
    number = "0." + "0" * (numbers.MAX_CHARS - 3) + "5"
    out.append(("sizes", f"{graph.MAX_RESOLUTION:,} px, {graph.MAX_CHANNELS:,} channels, "
                f"kernel {graph.MAX_KERNEL}, a {len(long_expr)}-character expression, a "
                f"{spec.MAX_NAME}-character name, a {numbers.MAX_CHARS}-character number",
                _write("sizes.yaml", f"mbcost: 1\nname: {name}\ninput: [{graph.MAX_RESOLUTION}, "
                       f"{graph.MAX_RESOLUTION}, 3]\nvars: {{half: {number}}}\nlayers:\n"
                       f"  - conv: {{name: {name}, k: {graph.MAX_KERNEL}, out: {graph.MAX_CHANNELS}, "
                       "padding: valid}\n"
                       f"  - conv: {{k: 3, stride: {graph.MAX_KERNEL}, out: '{long_expr}'}}\n"
                       "  - pool: {type: global}\n  - fc: {out: classes}\n")))
    return out


# every command, on a spec ({} is its path); the resolution 32 is the generated specs' own
LIMIT_COMMANDS = [
    ("table csv", ["table", "{}", "-f", "csv"]),
    ("table json", ["table", "{}", "-f", "json"]),
    ("table markdown", ["table", "{}", "-f", "markdown"]),
    ("table text", ["table", "{}"]),
    ("table --by kind", ["table", "{}", "--by", "kind"]),
    ("table --explain", ["table", "{}", "--explain", "--against", "fvcore"]),
    ("formula --layers", ["formula", "{}", "--layers"]),
    ("check", ["check", "{}", "--max-madds", "1G"]),
    ("fit alpha", ["fit", "{}", "--max-madds", "1G", "--rho", "1"]),
    ("fit resolution", ["fit", "{}", "--max-madds", "1G", "--alpha", "1"]),
    ("fit pareto", ["fit", "{}", "--max-madds", "1G"]),
    ("sweep 3x3", ["sweep", "{}", "--alpha", "0.5,0.75,1", "--rho", "0.5,0.75,1", "-f", "csv"]),
    ("compare", ["compare", "{}", "{}"]),
    ("compare --dense", ["compare", "{}", "--dense"]),
]


def limit_runs():
    """[(limit, what, command name, argv)]: every command on every spec at a limit, then the
    limits only some commands reach (a budget file's checks, a sweep's grid, a value list)."""
    import mbcost
    from mbcost import design, graph

    runs = [(limit, what, name, [a.replace("{}", path) for a in argv])
            for limit, what, path in limit_specs() for name, argv in LIMIT_COMMANDS]
    checks = _write("checks.yaml", "checks:\n" + "  - {spec: mobilenet_v1, max_madds: 1G}\n"
                    * design.MAX_CHECKS)
    runs.append(("design.MAX_CHECKS", f"{design.MAX_CHECKS:,} checks of mobilenet_v1", "check --budget",
                 ["check", "--budget", checks]))
    work = graph.Work()
    with graph.sharing_work(work):
        mbcost.analyze("efficientnet_b7")
    n = graph.MAX_WORK // work.used  # checks sharing one expansion budget, just within it
    b7 = _write("b7.yaml", "checks:\n  - &c {spec: efficientnet_b7, max_madds: 100G}\n"
                + "  - *c\n" * (n - 1))
    runs.append(("graph.MAX_WORK (budget)", f"{n} checks of efficientnet_b7 (they share one "
                 "expansion budget)", "check --budget", ["check", "--budget", b7]))
    side = 316  # 316 x 316 = 99,856 points: MAX_GRID_POINTS
    runs.append(("design.MAX_GRID_POINTS", f"{side * side:,}-point sweep of mobilenet_v1",
                 "sweep", ["sweep", "mobilenet_v1", "--alpha", f"0.1:{0.1 + 0.002 * (side - 1):.3f}:0.002",
                           "--res", f"100:{100 + side - 1}:1", "-f", "csv"]))
    ev = design.GridEvaluator("efficientnet_b7")
    # a grid just within the work limit (a replay per resolution, one per alpha: none of
    # these resolutions needs a rebuild) with the most alphas that keep it within the terms
    work, terms = design.MAX_GRID_WORK, design.MAX_GRID_TERMS // len(ev._nodes)
    na = next(a for a in range(400, 0, -1)
              if a * ((work - a * ev.replay_cost) // ev.spatial_cost) <= terms)
    nr = (work - na * ev.replay_cost) // ev.spatial_cost
    runs.append(("design.MAX_GRID_WORK", f"a {na} x {nr} sweep of efficientnet_b7 "
                 f"({ev.layers} layers)", "sweep",
                 ["sweep", "efficientnet_b7", "--alpha", f"0.1:{0.1 + 0.01 * (na - 1):.2f}:0.01",
                  "--res", f"500:{500 + nr - 1}:1", "-f", "csv"]))
    hundred = _write("hundred.yaml", "mbcost: 1\nname: hundred\ninput: [8, 8, 8]\nblocks:\n"
                     "  p: {layers: [{pw: {out: 8}}]}\nlayers:\n  - p: {n: 100}\n")
    terms = design.MAX_GRID_TERMS // 100  # points, each of 100 counted layers
    runs.append(("design.MAX_GRID_TERMS", f"a 500 x {terms // 500} sweep of a 100-layer spec "
                 f"({terms * 100:,} terms)", "sweep", ["sweep", hundred, "--alpha", "0.002:1:0.002",
                                                       "--res", f"8:{8 + terms // 500 - 1}:1", "-f", "csv"]))
    one = _write("one.yaml", "mbcost: 1\nname: one\ninput: [8, 8, 3]\nlayers:\n  - conv: {k: 1, out: 8}\n")
    runs.append(("design.MAX_LIST_VALUES", f"a sweep of {design.MAX_LIST_VALUES:,} alphas (one-layer spec)",
                 "sweep", ["sweep", one, "--alpha", "0.0001:1:0.0001", "--res", "8", "-f", "csv"]))
    names = "".join(f"  blk{i:05d}{'abcde' * 11}: {{layers: [relu]}}\n" for i in range(20_000))  # 100,000 nodes
    typo = _write("typo.yaml", "mbcost: 1\nname: typo\ninput: [8, 8, 3]\nblocks:\n" + names
                  + "layers: [blk00000abcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdx]\n")
    runs.append(("spec.MAX_SUGGEST_WORK", "'did you mean' among 20,000 60-character block names",
                 "table csv", ["table", typo, "-f", "csv"]))
    return runs


def time_limit_runs(reps=1):
    """{(limit, what): {command: (median seconds, exit codes)}}, each run a whole process."""
    out = {}
    for limit, what, name, argv in limit_runs():
        times, codes = [], set()
        for _ in range(reps):
            t0 = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "mbcost", *argv], capture_output=True, env=ENV)
            times.append(time.perf_counter() - t0)
            codes.add(done.returncode)
        out.setdefault((limit, what), {})[name] = (statistics.median(times), codes)
        print(f"  {limit}: {name}: {times[-1]:.2f} s (exit {', '.join(map(str, sorted(codes)))})",
              file=sys.stderr)
    return out


def limits_markdown(results, reps):
    """The limit runs as a table: a row per spec at a limit, its slowest command first."""
    lines = ["| limit | spec at the limit | slowest command | every command (seconds; exit code if not 0) |",
             "|---|---|--:|---|"]
    for (limit, what), by_command in results.items():
        slow = max(by_command, key=lambda c: by_command[c][0])
        cells = ", ".join(f"{c} {t:.2f}" + (f" (exit {'/'.join(map(str, sorted(k)))})" if k != {0} else "")
                          for c, (t, k) in by_command.items())
        lines.append(f"| `{limit}` | {what} | {slow}: {by_command[slow][0]:.2f} s | {cells} |")
    lines += ["", f"Each command a whole process (`python -m mbcost ...`), the median of {reps} "
              "run(s); exit 1 is over budget or nothing fits, exit 2 a limit error."]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- reporting

def run(cases, reps):
    """Set every case up, then time the cases round-robin, reps rounds, so that changes in
    the machine's load hit every case alike; {name: Result}."""
    timers = {}
    for c in cases:
        print(f"  setting up {c.name}", file=sys.stderr)
        timers[c.name] = c.setup()
    results = {c.name: Result(c, []) for c in cases}
    for n in range(reps):
        for c in cases:
            if c.reps is None or n < c.reps:
                results[c.name].times.append(timers[c.name]())
    return results


def markdown(results, reps):
    """The results as a Markdown table."""
    lines = ["| case | what | median | min | vs baseline (median) | vs baseline (min) | target |",
             "|---|---|--:|--:|--:|--:|---|"]
    for r in results.values():
        c = r.case
        ratios = ["", ""]
        if c.baseline:
            base = results[c.baseline]
            ratios = [f"{r.median / base.median:.2f}x", f"{r.best / base.best:.2f}x"]
        lines.append(f"| {c.name} | {c.what} | {r.median * 1000:.1f} ms | {r.best * 1000:.1f} ms "
                     f"| {ratios[0]} | {ratios[1]} | {c.verdict(r, results)} |")
    lines.append("")
    lines.append(f"{reps} rounds; each round times every case once, in this order (processes "
                 "after one untimed warm-up run); cases with fewer times than rounds (the "
                 "10,000-layer ones) stop after that many rounds. The baseline of each ratio is "
                 "named in its target.")
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


def loadavg():
    """The 1, 5 and 15-minute load averages as text."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def machine(load_before):
    """Platform, Python, CPU and load, one per line."""
    return [
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- platform: {platform.platform()}",
        f"- python: {platform.python_implementation()} {platform.python_version()}",
        f"- CPU: {os.cpu_count()} x {cpu_model()}",
        f"- load average (1, 5, 15 min): {load_before} before the run, {loadavg()} after it",
        f"- priority: nice {os.nice(0)}",
    ]


READING = """\
## How to read this

- `floor` is what a table run may need at most besides mbcost: the interpreter plus
  rich, click and PyYAML. `mbcost table --format json` needs neither rich nor sympy,
  so it lands near the floor: its cost is `import mbcost` plus the `analyze` row plus
  writing the JSON.
- Before timing, every process case is run once under `python -X importtime`; the
  benchmark stops if `import mbcost` or `mbcost table` loaded sympy.
- The grid row times only the evaluation of 10,000 (alpha, rho) points of the
  lambdify'd closed forms (pure-Python `math`, no numpy). Deriving the closed form
  (the `closed_form` row; the first call, with the sympy import, takes most of a
  second) and compiling it happen once.
- The design rows (issue 4) compare with `python -c "import sympy"`, since `fit` starts
  from the closed form. Every `fit` and both sweeps meet the 1.5x target (the
  EfficientNet-B7 sweep missed it at about 1.6x until its resolutions were replayed).
  Each grid point is two dot products:
  every cost term factors into a spatial part (one graph per resolution) times a channel
  part (one replay of the channel rounding per width). That took it from 2.55x to about
  1.6x; replaying the recorded spatial steps per resolution instead of building its
  graph (a whole build only where the replay could differ) took it under 1.5x. What
  remains is mostly the 100 width replays (make_divisible on Fractions) and their terms.
- The terminal rows (issue 8) run mbcost with its stdout on a pseudo-terminal of 120
  columns, drained by a thread as a terminal emulator would: the rich path, styles and
  the width taken from the terminal. The terminal table renders column by column (one
  string join per row, one segment per run of unstyled lines), so EfficientNet-B7 costs
  the JSON row plus the `rich.console` import, and a 9,901-layer table (every row
  shown, about 1 MB of text; the layer limit was 100,000 until issue 9) stays close to
  its CSV: most of both is `analyze`.
- The ONNX rows (issue 13) read and count a generated 1,001-node graph (MobileNetV2-like
  inverted residuals, weights stripped), whole process, against `python -c "import onnx"`.
  mbcost loads only onnx's generated protobuf module, not the package (whose init imports
  numpy and its helpers), so a whole table run can cost less than importing onnx.
"""


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
    p.add_argument("--only", metavar="TEXT", default=None,
                   help="only the cases whose name contains TEXT (and their baselines); not with --write")
    p.add_argument("--limits", action="store_true",
                   help="instead: every command on a spec at each documented limit (bench/LIMITS.md "
                        "with --write; --reps defaults to 1 here)")
    args = p.parse_args(argv)
    if args.limits:
        if os.nice(0) < 10:
            os.nice(10 - os.nice(0))
        reps = args.reps if "--reps" in (argv if argv is not None else sys.argv) else 1
        load_before = loadavg()
        table = limits_markdown(time_limit_runs(reps), reps)
        print(table)
        if args.write:
            head = ["# Every command on a spec at each limit", "",
                    "Produced by `nice -n 10 python bench/run.py --limits --write` (issue 9: every "
                    "command on any input ends within 10 s on the 2-core test machine, or stops "
                    "early with a one-line limit error).", "", "## Machine", ""]
            (HERE / "LIMITS.md").write_text("\n".join(head + machine(load_before) + ["", "## Results", ""])
                                            + "\n" + table + "\n" + load_note())
        return
    if args.only and args.write:
        p.error("--only measures a part; RESULTS.md holds the whole run")
    if os.nice(0) < 10:
        os.nice(10 - os.nice(0))  # a shared machine: stay out of the way
    load_before = loadavg()
    results = run(select(build_cases(), args.only), args.reps)
    table = markdown(results, args.reps)
    print(table)
    if args.write:
        head = ["# Benchmark results", "", "Produced by `nice -n 10 python bench/run.py --write`.", "",
                "## Machine", ""] + machine(load_before) + ["", "## Results", ""]
        (HERE / "RESULTS.md").write_text("\n".join(head) + "\n" + table + "\n" + load_note()
                                         + "\n" + READING)


if __name__ == "__main__":
    main()
