"""Whole-process timings of the design commands next to the `import sympy` floor.

Targets (issue 4): `mbcost sweep` over a 1,000-point grid and `mbcost fit` on
EfficientNet-B7 (MobileNetV2 while that spec is not bundled) and MobileNet v1,
each within 1.5x of a bare `python -c "import sympy"`.

    python bench/design.py [--repeat N]

Prints the machine (platform, CPU count, Python) and, per command, the median
wall time of N runs, its ratio to the floor, and whether it meets the target.
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


def wall(argv, repeat):
    """Median wall-clock seconds of running argv repeat times (after one warm-up run)."""
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    """Time every command and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs per command (median)")
    args = ap.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"median of {args.repeat} runs; target: each within {TARGET}x of the floor")
    rows, floor = [], None
    for label, argv in commands():
        t = wall(argv, args.repeat)
        floor = t if floor is None else floor
        ratio = t / floor
        verdict = "" if label.startswith("floor") else ("ok" if ratio <= TARGET else "SLOW")
        rows.append((label, f"{t:.3f}", f"{ratio:.2f}x", verdict))
    width = max(len(r[0]) for r in rows)
    print(f"{'command':{width}}  {'seconds':>8}  {'ratio':>6}  target")
    for label, t, ratio, verdict in rows:
        print(f"{label:{width}}  {t:>8}  {ratio:>6}  {verdict}")


if __name__ == "__main__":
    main()
