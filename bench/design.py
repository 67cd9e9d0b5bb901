"""Whole-process timings of the design commands next to the `import sympy` floor.

Targets (issue 4): `mbcost sweep` over a 1,000-point grid and `mbcost fit` on
EfficientNet-B7 (MobileNetV2 while that spec is not bundled) and MobileNet v1,
each within 1.5x of a bare `python -c "import sympy"`.

    python bench/design.py [--repeat N]

Prints the machine (platform, CPU count, Python) and, per command, the best wall
time and the median CPU time of N round-robin runs, their ratios to the floor,
and whether the wall-time ratio meets the target.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

TARGET = 1.5


def bundled():
    """Names of the bundled specs (to pick EfficientNet-B7 when it exists)."""
    from mbcost.spec import bundled_names

    return set(bundled_names())


def commands():
    """(label, argv) of the timed commands; argv[0] is the Python running this script."""
    py = [sys.executable]
    mb = py + ["-m", "mbcost"]
    big = "efficientnet_b7" if "efficientnet_b7" in bundled() else "mobilenet_v2"
    big_res = "600" if big == "efficientnet_b7" else "224"
    big_limit = "20G" if big == "efficientnet_b7" else "200M"
    return [
        ("floor: python -c 'import sympy'", py + ["-c", "import sympy"]),
        ("sweep mobilenet_v1, 1000 points", mb + ["sweep", "mobilenet_v1", "--alpha", "0.25:1.24:0.01",
                                                  "--res", "96:240:16", "--format", "csv", "-o", os.devnull]),
        ("sweep mobilenet_v2, 1000 points", mb + ["sweep", "mobilenet_v2", "--alpha", "0.25:1.24:0.01",
                                                  "--res", "96:240:16", "--format", "csv", "-o", os.devnull]),
        (f"fit {big} alpha at {big_res} px", mb + ["fit", big, "--max-madds", big_limit, "--res", big_res]),
        (f"fit {big} resolution at alpha 1", mb + ["fit", big, "--max-madds", big_limit, "--alpha", "1"]),
        ("fit mobilenet_v1 alpha at 224 px", mb + ["fit", "mobilenet_v1", "--max-madds", "150M",
                                                  "--res", "224"]),
        ("fit mobilenet_v1 Pareto grid", mb + ["fit", "mobilenet_v1", "--max-madds", "150M"]),
    ]


# An installed package has its bytecode compiled (pip does it at install time); a
# PYTHONDONTWRITEBYTECODE in the environment would make every run recompile mbcost's
# modules from source while sympy's come precompiled, which is not what users see.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_once(argv):
    """(wall seconds, CPU seconds of the child) of one run of argv."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env=ENV)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    if status:
        raise SystemExit(f"failed ({status}): {' '.join(argv)}")
    return wall, usage.ru_utime + usage.ru_stime


def main():
    """Time every command (round-robin, so load on a shared machine hits all alike)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="runs per command")
    args = ap.parse_args()
    cmds = commands()
    for _, argv in cmds:  # warm-up: file cache, .pyc
        run_once(argv)
    walls = {label: [] for label, _ in cmds}
    cpus = {label: [] for label, _ in cmds}
    for _ in range(args.repeat):
        for label, argv in cmds:
            w, c = run_once(argv)
            walls[label].append(w)
            cpus[label].append(c)
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    if "PYTHONDONTWRITEBYTECODE" in os.environ:
        print("note: PYTHONDONTWRITEBYTECODE is set here; the timed runs cache bytecode as an "
              "installed package does")
    print(f"{args.repeat} round-robin runs each; best wall time and median CPU time; "
          f"target: within {TARGET}x of the floor")
    floor_w, floor_c = min(walls[cmds[0][0]]), statistics.median(cpus[cmds[0][0]])
    width = max(len(label) for label, _ in cmds)
    print(f"{'command':{width}}  {'wall s':>7}  {'ratio':>6}  {'CPU s':>6}  {'ratio':>6}  target")
    for label, _ in cmds:
        w, c = min(walls[label]), statistics.median(cpus[label])
        verdict = "" if label.startswith("floor") else (
            "ok" if w / floor_w <= TARGET else "SLOW")
        print(f"{label:{width}}  {w:7.3f}  {w / floor_w:5.2f}x  {c:6.3f}  {c / floor_c:5.2f}x  {verdict}")


if __name__ == "__main__":
    main()
