"""Memory and latency limits in check and fit (mbcost/memory_budget.py): units, exit codes,
exact answers."""

import json
from fractions import Fraction

import pytest
from clirunner import CliRunner

import mbcost
from mbcost import design
from mbcost.cli import main
from mbcost.errors import UsageError
from mbcost.memory_budget import parse_bytes, parse_duration


def run(*args):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("text, n", [("2MB", 2_000_000), ("512KB", 512_000), ("4MiB", 4 * 2**20),
                                     ("1.5GB", 1_500_000_000), ("4000000", 4_000_000),
                                     ("3 kb", 3000)])
def test_byte_units(text, n):
    assert parse_bytes(text) == n


@pytest.mark.parametrize("text, ns", [("5ms", 5_000_000), ("250us", 250_000), ("0.02s", 20_000_000),
                                      ("1500ns", 1500)])
def test_time_units(text, ns):
    assert parse_duration(text) == ns


@pytest.mark.parametrize("bad", ["5", "5 parsecs", "-1ms", "1e3ms", "", "0ms", "x" * 60])
def test_bad_times(bad):
    with pytest.raises(UsageError, match="--max-latency"):
        parse_duration(bad)


def test_check_peak_and_latency():
    # MobileNetV2 fused fp32: peak 6,021,120 B (tests/test_memory.py, by hand) > 4 MB: exit 1
    r = run("check", "mobilenet_v2", "--max-peak-memory", "4MB", "-f", "json")
    assert r.exit_code == 1
    c = json.loads(r.stdout)["results"][0]["limits"][0]
    assert (c["quantity"], c["limit"], c["value"]) == ("peak_memory", 4_000_000, 4 * 1_505_280)
    r = run("check", "mobilenet_v2", "--max-peak-memory", "7MB", "--max-weights", "14MB")
    assert r.exit_code == 0, r.stdout + r.stderr
    # fp16 halves the peak: 3,010,560 B fits 4 MB
    assert run("check", "mobilenet_v2", "--max-peak-memory", "4MB", "--dtype", "fp16").exit_code == 0


def test_check_latency_is_the_roofline_bound_in_ns():
    a = mbcost.analyze("mobilenet_v1", memory={"device": "jetson_nano"})
    ns = -(-a.memory.time_s * 10**9 // 1)  # rounded up
    r = run("check", "mobilenet_v1", "--max-latency", f"{int(ns)}ns", "--device", "jetson_nano")
    assert r.exit_code == 0
    r = run("check", "mobilenet_v1", "--max-latency", f"{int(ns) - 1}ns", "--device", "jetson_nano")
    assert r.exit_code == 1 and "roofline bound" in r.stdout


@pytest.mark.parametrize("args, msg", [
    (["--max-latency", "5ms"], "--max-latency needs --device"),
    (["--max-madds", "1G", "--device", "rtx_4090"], "--device goes with --max-peak-memory"),
    (["--max-peak-memory", "lots"], "--max-peak-memory: must be a size"),
])
def test_limit_errors(args, msg):
    r = run("check", "mobilenet_v1", *args)
    assert r.exit_code == 2 and msg in r.stderr and r.stderr.count("\n") == 1


def test_fit_under_latency_is_exact():
    limits = {"madds": None, "params": None}
    mem = {"limits": {"latency": 2_000_000}, "settings": {"device": "jetson_nano"}}
    f = design.fit("mobilenet_v1", limits, resolution=224, memory=mem)
    a = f.point.alpha
    assert a == Fraction(55, 100)

    def t(alpha):
        return mbcost.analyze("mobilenet_v1", alpha=alpha, memory={"device": "jetson_nano"}).memory.time_s

    assert t(a) <= Fraction(2, 1000) < t(a + Fraction(1, 100))
    r = run("fit", "mobilenet_v1", "--max-latency", "2ms", "--device", "jetson_nano", "--res", "224")
    assert r.exit_code == 0 and "alpha 0.55" in r.stdout


def test_fit_resolution_under_peak_memory_is_exact():
    r = run("fit", "mobilenet_v1", "--max-peak-memory", "1MB", "--alpha", "1", "-f", "json")
    d = json.loads(r.stdout)
    # fused fp32: conv2.pw holds (32 + 64) x (res/2)^2 x 4 bytes: 96 px -> 884,736 <= 1 MB;
    # 128 px -> 1,572,864 > 1 MB (the fit steps resolutions by 32)
    assert (d["resolution"], d["next_up"]["resolution"]) == (96, 128)
    assert d["headroom"]["peak_memory"] == 1_000_000 - 96 * 48 * 48 * 4


def test_fit_frontier_with_memory_and_mult_adds():
    f = design.fit("mobilenet_v1", {"madds": "300M"},
                   memory={"limits": {"peak_memory": 2_000_000}, "settings": {}})
    assert f.frontier and all(p.madds <= 300_000_000 and p.peak_memory <= 2_000_000
                              for p in f.frontier)


def test_budget_file_memory_limits(tmp_path):
    (tmp_path / "npu.yaml").write_text("name: npu\nbandwidth: 1G\npeak: {fp16: 1T}\n")
    f = tmp_path / "budget.yaml"
    # v2 fp16 fused peak 3,010,560 B (tests/test_memory.py) fits 4 MB; v1 at 0.5 on npu.yaml
    # (a device file next to the budget file) in fp16 is memory-bound: over 1 ms
    f.write_text("checks:\n"
                 "  - {spec: mobilenet_v2, max_peak_memory: 4MB, dtype: fp16}\n"
                 "  - {spec: mobilenet_v1, alpha: 0.5, max_latency: 1ms, device: npu.yaml,\n"
                 "     dtype: fp16}\n")
    results = design.check_budget_file(f)
    assert [r.ok for r in results] == [True, False]
    assert results[0].checks[0].value == 3_010_560
    a = mbcost.analyze("mobilenet_v1", alpha="0.5",
                       memory={"dtype": "fp16", "device": str(tmp_path / "npu.yaml")})
    assert results[1].checks[0].value == -(-a.memory.time_s * 10**9 // 1)
    r = run("check", "--budget", str(f))
    assert r.exit_code == 1


@pytest.mark.parametrize("check, where", [
    ("{spec: mobilenet_v1, max_latency: 1ms}", "field 'max_latency': needs a device"),
    ("{spec: mobilenet_v1, max_weights: 1MB, dtype: fp64}", "field 'dtype': unknown dtype"),
    ("{spec: mobilenet_v1, max_madds: 1G, dtype: fp16}", "field 'dtype': goes with max_peak"),
    ("{spec: mobilenet_v1, max_weights: lots}", "field 'max_weights': must be a size"),
    ("{spec: mobilenet_v1, max_latency: 1ms, device: tpu9}", "field 'device': unknown device"),
])
def test_budget_file_memory_errors(tmp_path, check, where):
    f = tmp_path / "budget.yaml"
    f.write_text(f"checks:\n  - {check}\n")
    r = run("check", "--budget", str(f))
    assert r.exit_code == 2 and r.stderr.startswith(f"{f}:2: {where}"), r.stderr
