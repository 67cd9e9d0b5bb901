"""sweep with memory and latency (issue 12): each point's peak memory, weights, traffic and
roofline time equal what `table --memory` and `check` give at that point; limits mark the
points over budget (equal is within), exit 1 only when no point is within every limit;
bad units are one-line errors with exit 2."""

import csv
import io
import json
import math

import pytest
from clirunner import CliRunner

import mbcost
from mbcost import design
from mbcost.cli import main
from mbcost.columns import POINT
from mbcost.grid import MemoryPoint, Point

ALPHAS, RESOLUTIONS = ["1", "0.5"], [224, 160]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], env={"COLUMNS": "160"})


def sweep_json(*args):
    r = run("sweep", *args, "--format", "json")
    assert r.stderr == "", r.stderr
    return r.exit_code, json.loads(r.stdout)


# ---------------------------------------------------------------- the numbers

@pytest.mark.parametrize("spec", ["mobilenet_v1", "mobilenet_v2"])
@pytest.mark.parametrize("model", ["eager", "fused", "streamed"])
def test_points_equal_the_analysis_at_each_point(spec, model):
    settings = {"memory_model": model, "device": "jetson_nano", "dtype": "fp16"}
    sw = design.sweep(spec, ALPHAS, RESOLUTIONS, memory={"settings": settings})
    assert len(sw.points) == 4
    for p in sw.points:
        a = mbcost.analyze(spec, alpha=p.alpha, resolution=p.resolution, memory=settings)
        m = a.memory
        assert (p.madds, p.params) == (a.madds, a.params)
        assert (p.peak_memory, p.peak_at, p.weights, p.traffic, p.time_s) == (
            m.peak_act_bytes, m.peak_at, m.weight_bytes, m.traffic_bytes, m.time_s)
        assert p.latency == math.ceil(m.time_s * 10**9)  # check's latency: whole ns, rounded up


def test_memory_leaves_the_counts_of_the_fast_grid_alone():
    plain = design.sweep("mobilenet_v2", ALPHAS, RESOLUTIONS)
    mem = design.sweep("mobilenet_v2", ALPHAS, RESOLUTIONS, memory=True)
    assert all(type(p) is Point for p in plain.points)
    assert all(isinstance(p, MemoryPoint) for p in mem.points)
    assert [(p.alpha, p.resolution, p.madds, p.params) for p in plain.points] == \
        [(p.alpha, p.resolution, p.madds, p.params) for p in mem.points]
    # mult-add and parameter limits alone keep the fast grid
    lim = design.sweep("mobilenet_v2", ALPHAS, RESOLUTIONS, limits={"madds": "300M"})
    assert all(type(p) is Point for p in lim.points) and lim.points == plain.points


def test_hand_derived_peak_and_weights_of_mobilenet_v1():
    # fused fp32, alpha 1 at 224: the peak is during conv2.pw, whose input (the dw output,
    # 112x112x32) and output (112x112x64) are both live: 112*112*(32+64)*4 bytes
    _, d = sweep_json("mobilenet_v1", "--alpha", "1,0.5", "--res", "224,160", "--memory")
    p = d["points"][0]
    assert (p["alpha"], p["resolution"]) == (1, 224)
    assert (p["peak_act_bytes"], p["peak_at"]) == (112 * 112 * (32 + 64) * 4, "conv2.pw")
    # alpha 0.5 at 160: the same layer, 80x80 with 16 and 32 channels
    q = d["points"][3]
    assert (q["alpha"], q["resolution"]) == (0.5, 160)
    assert (q["peak_act_bytes"], q["peak_at"]) == (80 * 80 * (16 + 32) * 4, "conv2.pw")
    # weights: the 4,210,088 parameters of Table 1 (BN folded, FC bias) plus, BN folded into
    # each conv as a bias, one per output channel of the 27 convs:
    # 32 + (32+64) + (64+128) + (128+128) + (128+256) + (256+256) + (256+512)
    #    + 5 x (512+512) + (512+1024) + (1024+1024) = 10,944; 4 bytes each in fp32
    biases = 32 + 96 + 192 + 256 + 384 + 512 + 768 + 5 * 1024 + 1536 + 2048
    assert biases == 10_944
    assert p["weight_bytes"] == 4 * (4_210_088 + biases)
    assert d["memory_model"] == "fused" and d["dtype"] == "fp32" and d["device"] is None
    assert "time_s" not in p and "over" not in p and "limits" not in d


def test_cli_points_equal_table_memory_and_check():
    args = ["--device", "rtx_4090", "--memory-model", "eager", "--dtype", "fp16"]
    _, d = sweep_json("mobilenet_v2", "--alpha", "0.75", "--res", "192,128", *args)
    assert d["device"] == "rtx_4090" and d["memory_model"] == "eager"
    for p in d["points"]:
        r = run("table", "mobilenet_v2", "--alpha", "0.75", "--res", p["resolution"], *args,
                "--format", "json")
        t = json.loads(r.stdout)["totals"]
        for name in ("madds", "params", "peak_act_bytes", "peak_at", "weight_bytes",
                     "traffic_bytes", "time_s"):
            assert p[name] == t[name], name
        r = run("check", "mobilenet_v2", "--alpha", "0.75", "--res", p["resolution"], *args,
                "--max-peak-memory", "1GB", "--max-weights", "1GB", "--max-latency", "1s",
                "--format", "json")
        got = {c["quantity"]: c["value"] for c in json.loads(r.stdout)["results"][0]["limits"]}
        assert got["peak_memory"] == p["peak_act_bytes"]
        assert got["weights"] == p["weight_bytes"]
        assert got["latency"] == math.ceil(p["time_s"] * 1e9 - 1e-6)


# ---------------------------------------------------------------- limits

def test_limit_equal_is_within_and_one_over_is_over():
    _, d = sweep_json("mobilenet_v1", "--alpha", "1", "--res", "224", "--memory")
    peak = d["points"][0]["peak_act_bytes"]
    code, d = sweep_json("mobilenet_v1", "--alpha", "1", "--res", "224",
                         "--max-peak-memory", f"{peak}B")
    assert code == 0 and d["points"][0]["over"] == [] and d["ok"] is True
    assert d["limits"] == {"peak_memory": peak}
    code, d = sweep_json("mobilenet_v1", "--alpha", "1", "--res", "224",
                         "--max-peak-memory", f"{peak - 1}")
    assert code == 1 and d["points"][0]["over"] == ["peak_memory"] and d["ok"] is False


def test_some_point_within_is_exit_0_and_the_others_are_marked():
    code, d = sweep_json("mobilenet_v1", "--alpha", "1,0.5", "--res", "224,160",
                         "--max-madds", "300M", "--max-weights", "6MB")
    assert code == 0 and d["ok"] is True
    over = {(p["alpha"], p["resolution"]): p["over"] for p in d["points"]}
    # alpha 1: 16,884,128 weight bytes > 6 MB, and 568.7M mult-adds at 224 > 300M
    assert over == {(1, 224): ["madds", "weights"], (1, 160): ["weights"], (0.5, 224): [],
                    (0.5, 160): []}
    assert d["limits"] == {"madds": 300_000_000, "weights": 6_000_000}
    # no memory settings asked for beyond the weight limit's: the columns come with it
    # Table 1's parameters plus the folded BN biases, as test_hand_derived_peak_and_weights
    assert d["points"][0]["weight_bytes"] == 4 * (4_210_088 + 10_944)


def test_no_point_within_is_exit_1_in_every_format():
    args = ["sweep", "mobilenet_v1", "--alpha", "1,0.5", "--res", "224,160", "--max-params", "1M"]
    for fmt in ("text", "csv", "json", "markdown"):
        r = run(*args, "--format", fmt)
        assert r.exit_code == 1 and r.stderr == "", (fmt, r.stderr)
    r = run(*args)
    assert "no point is within every limit" in r.stdout
    assert r.stdout.count("OVER params") == 4


def test_latency_limit_marks_the_points_check_finds_over():
    code, d = sweep_json("mobilenet_v1", "--alpha", "1,0.75,0.5", "--res", "224,160",
                         "--max-latency", "2ms", "--device", "jetson_nano")
    assert code == 0
    for p in d["points"]:
        r = run("check", "mobilenet_v1", "--alpha", p["alpha"], "--res", p["resolution"],
                "--max-latency", "2ms", "--device", "jetson_nano")
        assert (r.exit_code == 1) == (p["over"] == ["latency"]), p


def test_csv_and_markdown_carry_the_same_columns():
    args = ["sweep", "mobilenet_v1", "--alpha", "1,0.5", "--res", "224", "--device", "rtx_4090",
            "--max-madds", "300M"]
    rows = list(csv.DictReader(io.StringIO(run(*args, "--format", "csv").stdout)))
    _, d = sweep_json(*args[1:])
    assert list(rows[0]) == list(d["points"][0]) == [c.name for c in POINT]
    for row, p in zip(rows, d["points"]):
        assert int(row["peak_act_bytes"]) == p["peak_act_bytes"]
        assert int(row["traffic_bytes"]) == p["traffic_bytes"]
        assert float(row["time_s"]) == p["time_s"]
        assert row["over"] == " ".join(p["over"])
    md = run(*args, "--format", "markdown").stdout
    head = md.splitlines()[2]
    assert head == "| " + " | ".join(c.md_header or c.header for c in POINT
                                     if c.header is not None) + " |"
    assert f"{d['points'][0]['traffic_bytes']:,}" in md  # Markdown is exact
    assert "a roofline bound, not a measurement" in md


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("args, msg", [
    (["--max-peak-memory", "2XB"], "--max-peak-memory: must be a size"),
    (["--max-weights", "-4MB"], "--max-weights: must be a size"),
    (["--max-latency", "5", "--device", "jetson_nano"], "--max-latency: must be a time with its unit"),
    (["--max-latency", "5 fortnights", "--device", "jetson_nano"], "--max-latency: must be a time"),
    (["--max-latency", "5ms"], "--max-latency needs --device"),
    (["--max-madds", "1.5Q"], "--max-madds"),
    (["--dtype", "fp16"], "--dtype goes with --memory, --device or a memory limit"),
    (["--device", "no_such_device"], "unknown device"),
])
def test_bad_limits_are_one_line_exit_2(args, msg):
    r = run("sweep", "mobilenet_v1", *args)
    assert r.exit_code == 2 and msg in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert r.stdout == ""


def test_library_refuses_malformed_memory_arguments():
    from mbcost.errors import UsageError

    for memory in ({"settings": {"colour": "red"}}, {"limits": {"peak_memory": "2MB"}},
                   {"limits": {"latency": 5}}, {"oops": 1}):
        with pytest.raises(UsageError):
            design.sweep("mobilenet_v1", ["1"], [224], memory=memory)


def test_memory_points_are_charged_against_the_grid_work():
    from mbcost.errors import LimitError

    # each memory point costs two rebuilds (2 x 184 steps for mobilenet_v1): 2,500 points
    # exceed MAX_GRID_WORK before any is computed
    with pytest.raises(LimitError, match="steps"):
        design.sweep("mobilenet_v1", [f"{k / 100}" for k in range(1, 51)], list(range(96, 146)),
                     memory={"settings": {}})


def test_readme_example_is_what_sweep_prints():
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    r = run("sweep", "mobilenet_v1", "--alpha", "1,0.5", "--res", "224,160", "--max-latency",
            "2ms", "--device", "jetson_nano")
    assert r.exit_code == 0
    assert "$ mbcost sweep mobilenet_v1 --alpha 1,0.5 --res 224,160 --max-latency 2ms --device " \
           "jetson_nano\n" + r.stdout in readme


def test_memory_sweep_refuses_up_front_one_point_past_the_work_limit():
    from mbcost.errors import LimitError
    from mbcost.grid import MAX_GRID_WORK, MEMORY_POINT_BUILDS, GridEvaluator

    per = MEMORY_POINT_BUILDS * GridEvaluator("mobilenet_v1").build_cost
    fits = MAX_GRID_WORK // per
    alphas = [f"{k / 1000}" for k in range(1, fits + 2)]
    with pytest.raises(LimitError, match=f"more than {MAX_GRID_WORK} steps"):
        design.sweep("mobilenet_v1", alphas, [32], memory={"settings": {}})
