"""Devices and the roofline bound (mbcost/roofline.py), and the memory options of
`mbcost table` and `mbcost list --devices`. Expected numbers derived by hand."""

import json
from fractions import Fraction

import pytest
from clirunner import CliRunner

import mbcost
from mbcost import roofline
from mbcost.cli import main
from mbcost.errors import SpecError, UsageError

TOY = """\
mbcost: 1
name: toy
title: A toy device
bandwidth: 100        # bytes/s
peak:
  int8: 1K            # ops/s
  fp32: 250
sources:
  peak: made up for a test
"""


@pytest.fixture()
def toy(tmp_path):
    p = tmp_path / "toy.yaml"
    p.write_text(TOY)
    return p


def test_pointwise_bound_by_hand(toy):
    # 1x1 conv 7x5x12 -> 20, int8, eager: 8,400 MACs; traffic 35 x 32 + 240 = 1,360 bytes.
    # compute 2 x 8,400 / 1,000 = 16.8 s > memory 1,360 / 100 = 13.6 s: compute-bound
    a = mbcost.analyze({"name": "g1", "input": [7, 5, 12], "layers": [{"pw": {"out": 20}}]},
                       memory={"dtype": "int8", "memory_model": "eager", "device": str(toy)})
    m = a.rows[0].mem
    assert (m.time_s, m.bound, m.intensity) == (Fraction(84, 5), "compute", Fraction(16800, 1360))
    assert a.memory.time_s == Fraction(84, 5)
    dev = roofline.load_device(toy)
    assert dev.ridge("int8") == 10 and m.intensity >= dev.ridge("int8")
    # in fp32 the same layer moves 4x the bytes: 54.4 s of memory against 67.2 s of compute
    a = mbcost.analyze({"name": "g1", "input": [7, 5, 12], "layers": [{"pw": {"out": 20}}]},
                       memory={"dtype": "fp32", "memory_model": "eager", "device": str(toy)})
    assert (a.rows[0].mem.time_s, a.rows[0].mem.bound) == (Fraction(2 * 8400, 250), "compute")


def test_elementwise_layers_are_memory_bound_and_folded_ones_free(toy):
    spec = {"name": "cb", "input": [4, 4, 2], "layers": [{"pw": {"out": 3, "bn": True,
                                                                  "act": "relu"}}]}
    eager = mbcost.analyze(spec, memory={"dtype": "int8", "memory_model": "eager",
                                         "device": str(toy)})
    bn, relu = eager.rows[1].mem, eager.rows[2].mem
    # BN reads 48 + 12 and writes 48 bytes; no MACs: 108 / 100 s, memory-bound, intensity 0
    assert (bn.time_s, bn.bound, bn.intensity) == (Fraction(108, 100), "memory", 0)
    assert (relu.time_s, relu.bound) == (Fraction(96, 100), "memory")
    fused = mbcost.analyze(spec, memory={"dtype": "int8", "device": str(toy)})
    bn = fused.rows[1].mem
    assert (bn.time_s, bn.bound, bn.intensity) == (0, None, None)


@pytest.mark.parametrize("c", [8, 32, 144, 960])
def test_depthwise_intensity_does_not_depend_on_channels(c):
    # a k x k depthwise conv, stride 1, no bias, eager, b bytes per element: 2 k^2 hwc FLOPs
    # over b (2hwc + k^2 c) bytes = 2 k^2 hw / (b (2hw + k^2)): no c, so no alpha; -> k^2/b
    for dtype, b in (("fp32", 4), ("int8", 1)):
        a = mbcost.analyze({"name": "dw", "input": [20, 20, c], "layers": [{"dw": {"k": 3}}]},
                           memory={"dtype": dtype, "memory_model": "eager",
                                   "device": "a100_sxm4_80gb"})
        assert a.rows[0].mem.intensity == Fraction(2 * 9 * 400, b * (2 * 400 + 9))


def test_bundled_devices_name_their_sources():
    names = roofline.device_names()
    assert len(names) >= 4
    kinds = set()
    for n in names:
        d = roofline.load_device(n)
        assert d.name == n and d.sources.get("peak") and d.sources.get("bandwidth")
        assert "fp32" in d.peak and d.bandwidth > 0
        kinds.add(d.kind)
    assert {"data-centre GPU", "desktop GPU", "edge module", "single-board CPU"} <= kinds


def test_a100_figures():
    # NVIDIA A100 datasheet: FP32 19.5 TFLOPS, FP16 tensor 312 TFLOPS, 2,039 GB/s (80GB SXM)
    d = roofline.load_device("a100_sxm4_80gb")
    assert (d.peak["fp32"], d.peak["fp16"], d.bandwidth) == (19_500 * 10**9, 312 * 10**12,
                                                             2_039 * 10**9)


@pytest.mark.parametrize("text, msg", [
    ("name: x\npeak: {fp32: 1G}\n", "missing field 'bandwidth'"),
    ("name: x\nbandwidth: 1G\npeak: {fp64: 1G}\n", "dev.yaml:3: field 'peak.fp64': unknown data type"),
    ("name: x\nbandwidth: -5\npeak: {fp32: 1G}\n", "dev.yaml:2: bandwidth (bytes/s) must be positive"),
    ("name: x\nbandwidth: lots\npeak: {fp32: 1G}\n", "bandwidth (bytes/s) must be a number"),
    ("name: x\nbandwith: 1G\npeak: {fp32: 1G}\n", "did you mean 'bandwidth'"),
    ("[1, 2]\n", "a device file is a mapping"),
])
def test_bad_device_files(tmp_path, text, msg):
    p = tmp_path / "dev.yaml"
    p.write_text(text)
    with pytest.raises(SpecError) as e:
        roofline.load_device(p)
    assert msg in str(e.value) and "dev.yaml" in str(e.value)
    r = CliRunner().invoke(main, ["table", "mobilenet_v1", "--device", str(p)])
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and "dev.yaml" in r.stderr


def test_unknown_device_and_missing_dtype():
    with pytest.raises(UsageError, match="unknown device 'tpu9'"):
        roofline.load_device("tpu9")
    with pytest.raises(UsageError, match="'jetson_nano' has no peak for int8"):
        mbcost.analyze("mobilenet_v1", memory={"dtype": "int8", "device": "jetson_nano"})


# ---------------------------------------------------------------- the command line

def run(*args):
    return CliRunner().invoke(main, list(args))


def test_table_memory_device_text_says_it_is_a_bound():
    r = run("table", "mobilenet_v2", "--memory", "--device", "jetson_nano")
    assert r.exit_code == 0, r.stderr
    assert "a roofline bound, not a measurement" in r.stdout
    assert "peak live activations 6,021,120 bytes at bottleneck2.1/dw" in " ".join(r.stdout.split())
    for head in ("Traffic B", "Time us", "Bound", "FLOP/B"):
        assert head in r.stdout


def test_table_json_memory_fields():
    r = run("table", "mobilenet_v2", "--device", "rtx_4090", "--dtype", "fp16", "-f", "json")
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    t = d["totals"]
    assert (t["dtype"], t["memory_model"], t["device"]) == ("fp16", "fused", "rtx_4090")
    assert t["peak_act_bytes"] == 2 * (112 * 112 * 96 + 56 * 56 * 96)  # see test_memory
    assert t["traffic_bytes"] == sum(x["read_bytes"] + x["write_bytes"] for x in d["layers"])
    assert t["time_s"] == pytest.approx(sum(x["time_s"] for x in d["layers"]))
    assert {x["bound"] for x in d["layers"]} <= {"compute", "memory", None}


def test_without_memory_options_nothing_changes():
    plain = run("table", "mobilenet_v1", "-f", "json").stdout
    assert "act_bytes" not in plain and "peak_act_bytes" not in plain


@pytest.mark.parametrize("args, msg", [
    (["--dtype", "fp16"], "--dtype goes with --memory or --device"),
    (["--memory-model", "eager"], "--memory-model goes with --memory or --device"),
    (["--explain", "--memory", "-c", "fvcore"], "drop --memory"),
    (["--memory", "--dtype", "fp64"], "fp64"),
])
def test_memory_option_errors(args, msg):
    r = run("table", "mobilenet_v1", *args)
    assert r.exit_code == 2 and msg in r.stderr and r.stderr.count("\n") == 1


def test_by_kind_shares_of_traffic_and_time():
    r = run("table", "mobilenet_v2", "--by", "kind", "--device", "jetson_nano", "-f", "json")
    d = json.loads(r.stdout)
    dw = next(k for k in d["kinds"] if k["type"] == "Conv DW 3x3")
    # depthwise: under 7% of the mult-adds, far more of the traffic and of the time
    assert dw["madds_pct"] < 7 and dw["traffic_bytes_pct"] > 30 and dw["time_s_pct"] > 25
    assert abs(sum(k["time_s_pct"] for k in d["kinds"]) - 100) < 0.1


def test_list_devices():
    r = run("list", "--devices")
    assert r.exit_code == 0 and r.stdout.splitlines()[0].startswith("a100_sxm4_80gb")
    d = json.loads(run("list", "--devices", "-f", "json").stdout)
    assert [x["name"] for x in d["devices"]] == roofline.device_names()
    assert run("list", "--devices", "--conventions").exit_code == 2


def test_readme_lists_every_device_and_the_peaks_it_shows():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Memory and latency", 1)[1].split("\n## ", 1)[0]
    for n in roofline.device_names():
        assert f"| `{n}` |" in section, n
    assert "roofline bound, not a measurement" in section
    for spec in ("mobilenet_v1", "mobilenet_v2"):
        for model in ("eager", "fused", "streamed"):
            m = mbcost.analyze(spec, memory={"memory_model": model, "dtype": "fp16"}).memory
            assert f"{m.peak_act_bytes:,} B at `{m.peak_at}`" in section, (spec, model)


# ---------------------------------------------------------------- plots

from test_cli_design import calls, fake_matplotlib  # noqa: E402,F401 (a fixture)


def test_layer_bars_add_traffic_and_time():
    from mbcost.plot import layer_bars

    a = mbcost.analyze("mobilenet_v2", memory={"device": "jetson_nano"})
    _, panels = layer_bars(a, by_kind=True)
    assert len(panels) == 4 and "not a measurement" in panels[3][0]
    assert sum(v for _, v in panels[2][1]) == a.memory.traffic_bytes
    assert sum(v for _, v in panels[3][1]) == pytest.approx(float(a.memory.time_s) * 1e6)


def test_roofline_points_lie_on_the_roof():
    from mbcost.plot import roofline_points

    a = mbcost.analyze("mobilenet_v2", memory={"device": "jetson_nano"})
    dev, dtype, pts = roofline_points(a)
    peak, bw = float(dev.peak["fp32"]), float(dev.bandwidth)
    assert len(pts) == sum(1 for r in a.rows if r.mem.macs)
    for name, intensity, attained, bound in pts:  # the bound is min(peak, intensity x bw)
        assert attained == pytest.approx(min(peak, intensity * bw))
        assert bound == ("compute" if intensity * bw >= peak else "memory")


def test_plot_roofline_cli(fake_matplotlib, tmp_path):
    out = tmp_path / "roof.svg"
    r = run("table", "mobilenet_v1", "--device", "rtx_4090", "--plot-roofline", str(out))
    assert r.exit_code == 0 and out.read_text() == "plot"
    assert len(calls(fake_matplotlib, "plt.figure().add_subplot().scatter")) == 2  # memory, compute
    r = run("table", "mobilenet_v1", "--plot-roofline", str(tmp_path / "x.svg"))
    assert r.exit_code == 2 and "--plot-roofline needs --device" in r.stderr


# ---------------------------------------------------------------- hostile device files

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_VALUES = st.one_of(st.integers(-10**30, 10**30), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=60), st.booleans(), st.none(),
                    st.sampled_from(["1e99G", "1/0", "nan", "inf", "1_000", "٢G", "-0", "0.0T",
                                     "9" * 45, "1e3 T", "2039G", ".5K"]))


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.one_of(st.text(max_size=30), st.integers()), bw=_VALUES,
       peak=st.dictionaries(st.sampled_from(["fp32", "fp16", "int8", "fp64", "x"]), _VALUES,
                            max_size=3))
def test_any_device_file_is_a_device_or_one_located_error(tmp_path, name, bw, peak):
    p = tmp_path / "dev.yaml"
    p.write_text(json.dumps({"name": name, "bandwidth": bw, "peak": peak}, allow_nan=True))
    try:
        d = roofline.load_device(p)
    except SpecError as e:
        assert "dev.yaml" in str(e) and "\n" not in str(e)
        return
    assert d.bandwidth > 0 and all(v > 0 for v in d.peak.values())


@pytest.mark.parametrize("field", ["name", "title", "kind"])
def test_device_text_is_printable(tmp_path, field):
    p = tmp_path / "dev.yaml"
    base = {"name": "x", "title": "X", "kind": "gpu", "bandwidth": "1G", "peak": {"fp32": "1G"}}
    base[field] = "evil\x1b]0;owned\x07"
    p.write_text(json.dumps(base))
    with pytest.raises(SpecError, match=f"field '{field}'"):
        roofline.load_device(p)
