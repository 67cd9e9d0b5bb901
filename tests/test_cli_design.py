"""CliRunner tests of the design commands: exit codes (0 ok, 1 over budget, 2 bad
input), golden outputs, every bundled spec, and the plot paths without matplotlib.

Golden files live in tests/golden/design/; after a deliberate change of layout,
regenerate them with ``python -m pytest tests/test_cli_design.py --update-golden``
and review the diff. The numbers in them are the paper's (see test_design.py).
"""

import json
import sys
import types
from fractions import Fraction
from pathlib import Path

import pytest
from clirunner import CliRunner

import mbcost
from mbcost.cli import main
from mbcost.spec import bundled_names

GOLDEN = Path(__file__).parent / "golden" / "design"


def run(*args, **kw):
    """Invoke mbcost with stdout and stderr kept apart."""
    return CliRunner().invoke(main, [str(a) for a in args], env={"COLUMNS": "160"}, **kw)


# ---------------------------------------------------------------- golden outputs

GOLDEN_CASES = {
    "check_within.txt": (["check", "mobilenet_v1", "--alpha", "0.5", "--max-madds", "150M",
                          "--max-params", "2M"], 0),
    "check_over.md": (["check", "mobilenet_v1", "--max-madds", "150M", "--max-params", "4200000",
                       "--format", "markdown"], 1),
    "check_over.json": (["check", "mobilenet_v1", "--res", "160", "--max-madds", "290M",
                         "--format", "json", "--top", "2"], 1),
    "fit_alpha.txt": (["fit", "mobilenet_v1", "--max-madds", "150M", "--res", "224"], 0),
    "fit_alpha.json": (["fit", "mobilenet_v1", "--max-madds", "150M", "--res", "224",
                        "--format", "json"], 0),
    "fit_res.txt": (["fit", "mobilenet_v1", "--max-madds", "150M", "--alpha", "1"], 0),
    "fit_pareto.txt": (["fit", "mobilenet_v1", "--max-madds", "150M"], 0),
    "fit_none.txt": (["fit", "mobilenet_v1", "--max-params", "5K", "--res", "224"], 1),
    "sweep_tables_6_7.txt": (["sweep", "mobilenet_v1", "--alpha", "1,0.75,0.5,0.25",
                              "--res", "224,192,160,128"], 0),
    "sweep_exact.md": (["sweep", "mobilenet_v1", "--format", "markdown"], 0),
    "sweep.csv": (["sweep", "mobilenet_v1", "--alpha", "1,0.5", "--res", "224,160",
                   "--format", "csv"], 0),
    "sweep.json": (["sweep", "mobilenet_v1", "--alpha", "1,0.5", "--res", "224,160",
                    "--format", "json"], 0),
    "sweep_memory.txt": (["sweep", "mobilenet_v1", "--alpha", "1,0.5", "--res", "224,160",
                          "--max-latency", "2ms", "--device", "jetson_nano"], 0),
    "sweep_memory.csv": (["sweep", "mobilenet_v2", "--alpha", "1,0.5", "--res", "224,160",
                          "--memory", "--max-madds", "300M", "--format", "csv"], 0),
    "sweep_memory.json": (["sweep", "mobilenet_v1", "--alpha", "1,0.5", "--res", "224",
                           "--device", "rtx_4090", "--max-peak-memory", "3MB", "--format", "json"], 0),
    "sweep_memory_over.md": (["sweep", "mobilenet_v1", "--alpha", "1,0.5", "--res", "224,160",
                              "--memory-model", "streamed", "--dtype", "fp16",
                              "--max-weights", "1MB", "--format", "markdown"], 1),
    "formula_by_kind_layers.json": (["formula", "mobilenet_v1", "--by", "kind", "--layers",
                                     "--format", "json"], 0),
    "list_conventions.json": (["list", "--conventions", "--format", "json"], 0),
    "compare_dense.txt": (["compare", "mobilenet_v1", "--dense"], 0),
    "compare_settings.md": (["compare", "mobilenet_v1", "--b-alpha", "0.5", "--b-res", "160",
                             "--format", "markdown"], 0),
    "layer_table_3.txt": (["layer", "dwsep", "--k", "3", "--in", "512", "--out", "512",
                           "--size", "14", "--alpha", ".75", "--rho", "0.714"], 0),
    "layer_table_3.json": (["layer", "dwsep", "--k", "3", "--in", "512", "--out", "512",
                            "--size", "14", "--alpha", ".75", "--rho", "0.714", "--format", "json"], 0),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden(name, golden):
    args, code = GOLDEN_CASES[name]
    r = run(*args)
    assert r.exit_code == code, r.stderr
    assert r.stderr == ""
    golden(GOLDEN / name, r.stdout)


# ---------------------------------------------------------------- numbers through the CLI

def test_check_headroom_numbers():
    r = run("check", "mobilenet_v1", "--alpha", "0.5", "--max-madds", "150M", "--format", "json")
    assert r.exit_code == 0
    d = json.loads(r.stdout)
    (lim,) = d["results"][0]["limits"]
    # Table 6: 149,497,088; headroom 150,000,000 - 149,497,088
    assert (lim["value"], lim["headroom"], lim["ok"]) == (149_497_088, 502_912, True)
    assert d["ok"] is True


def test_fit_json_object():
    r = run("fit", "mobilenet_v1", "--max-madds", "150M", "--res", "224", "--format", "json")
    d = json.loads(r.stdout)
    assert (d["alpha"], d["resolution"], d["madds"], d["params"]) == (0.5, 224, 149_497_088, 1_320_648)
    assert d["limits"] == {"madds": 150_000_000} and d["headroom"] == {"madds": 502_912}


def test_sweep_json_is_an_envelope_of_points():
    r = run("sweep", "mobilenet_v1", "--alpha", "0.25:1:0.25", "--res", "128:224:32", "--format", "json")
    assert r.exit_code == 0
    d = json.loads(r.stdout)
    assert (d["schema"], d["model"], d["convention"]) == ("mbcost.sweep/1", "mobilenet_v1", "paper")
    assert d["alphas"] == [0.25, 0.5, 0.75, 1] and d["resolutions"] == [128, 160, 192, 224]
    pts = d["points"]
    assert len(pts) == 16 and set(pts[0]) == {"alpha", "resolution", "madds", "params"}
    by = {(p["alpha"], p["resolution"]): p for p in pts}
    assert by[(0.75, 160)]["madds"] == 166_396_800  # paper_tables.md §1.8
    assert by[(0.25, 192)]["params"] == 464_600


def test_sweep_output_file_and_thousand_points(tmp_path):
    out = tmp_path / "grid.csv"
    r = run("sweep", "mobilenet_v2", "--alpha", "0.3:1.29:0.01", "--res", "96:240:16", "--format",
            "csv", "-o", out)
    assert r.exit_code == 0 and r.stdout == ""
    lines = out.read_text().splitlines()
    assert lines[0] == "alpha,resolution,madds,params" and len(lines) == 1 + 100 * 10
    # MobileNetV2 1.0 at 224: 300,774,272 MACs (torchvision, paper_tables.md §2); params: the
    # TF-slim 1001-class 3,472,041 less one class's 1280 FC weights and bias = 3,470,760
    assert f"1.0,224,300774272,{3_472_041 - 1281}" in lines


def test_compare_dense_totals_table_4():
    r = run("compare", "mobilenet_v1", "--dense", "--format", "json")
    d = json.loads(r.stdout)
    assert (d["b"]["madds"], d["b"]["params"]) == (4_867_293_184, 29_282_120)
    assert (d["a"]["madds"], d["a"]["params"]) == (568_740_352, 4_210_088)


def test_compare_two_specs():
    r = run("compare", "mobilenet_v1", "mobilenet_v2")
    assert r.exit_code == 0
    assert "568,740,352" in r.stdout and "300,774,272" in r.stdout


# ---------------------------------------------------------------- exit codes

def test_check_budget_file_exit_codes(tmp_path):
    f = tmp_path / "budget.yaml"
    f.write_text("checks:\n  - {spec: mobilenet_v1, alpha: 0.5, max_madds: 150M}\n"
                 "  - {spec: mobilenet_v1, alpha: 0.5, res: 160, max_params: 1.4M}\n")
    assert run("check", "--budget", f).exit_code == 0
    f.write_text("checks:\n  - {spec: mobilenet_v1, alpha: 0.5, max_madds: 150M}\n"
                 "  - {spec: mobilenet_v1, max_madds: 150M}\n")
    r = run("check", "--budget", f, "--format", "json")
    assert r.exit_code == 1
    assert [x["ok"] for x in json.loads(r.stdout)["results"]] == [True, False]


@pytest.mark.parametrize("args,message", [
    (["check", "mobilenet_v1", "--max-madds", "15Q"], "--max-madds: must be a count"),
    (["check", "mobilenet_v1", "--max-params", "-1"], "--max-params"),
    (["check", "mobilenet_v1"], "at least one limit"),
    (["check"], "give a SPEC"),
    (["check", "nosuchnet", "--max-madds", "1M"], "no such spec"),
    (["check", "mobilenet_v1", "--alpha", "0", "--max-madds", "1M"], "alpha"),
    (["check", "--budget", "nope.yaml"], "nope.yaml: cannot read file"),
    (["fit", "mobilenet_v1", "--max-madds", "1M", "--alpha", "1", "--res", "224"], "not both"),
    (["fit", "mobilenet_v1", "--max-madds", "abc", "--res", "224"], "--max-madds"),
    (["fit", "mobilenet_v1", "--res", "224"], "at least one limit"),
    (["fit", "mobilenet_v1", "--max-madds", "1M", "--res", "224", "--alpha-step", "x"], "alpha step"),
    (["sweep", "mobilenet_v1", "--alpha", "1,x"], "--alpha: not a number"),
    (["sweep", "mobilenet_v1", "--res", "100.5"], "whole pixels"),
    (["sweep", "mobilenet_v1", "--res", "0"], "resolution must be between"),
    (["sweep", "mobilenet_v1", "--plot", "chart.txt"], "must end in"),
    (["compare", "mobilenet_v1"], "nothing to compare"),
    (["compare", "mobilenet_v1", "nosuchnet"], "no such spec"),
    (["layer", "dwsep", "--k", "3", "--in", "0", "--out", "8", "--size", "7"], "--in"),
    (["layer", "dwsep", "--k", "3", "--in", "8", "--out", "8", "--size", "7", "--rho", "-1"], "rho"),
])
def test_bad_input_exits_2_with_one_line(args, message):
    r = run(*args)
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert r.stdout == ""
    assert message in r.stderr and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_budget_and_flags_conflict(tmp_path):
    f = tmp_path / "b.yaml"
    f.write_text("checks:\n  - {spec: mobilenet_v1, max_madds: 1G}\n")
    r = run("check", "--budget", f, "--max-madds", "1M")
    assert r.exit_code == 2 and "drop --max-madds" in r.stderr


def test_budget_file_error_exit_2(tmp_path):
    f = tmp_path / "b.yaml"
    f.write_text("checks:\n  - spec: mobilenet_v1\n    max_madds: lots\n")
    r = run("check", "--budget", f)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == f"{f}:3: field 'max_madds': must be a count like 150M, 2.5M, 1G or 4200000 " \
                       "(got 'lots')\n"


def test_click_usage_errors_exit_2():
    assert run("layer", "conv", "--k", "3").exit_code == 2
    assert run("sweep").exit_code == 2


def test_every_command_has_help_with_an_example():
    for cmd in ("check", "fit", "sweep", "compare", "layer"):
        r = run(cmd, "--help")
        assert r.exit_code == 0 and "Example" in r.stdout


# ---------------------------------------------------------------- every bundled spec

@pytest.mark.parametrize("name", bundled_names())
def test_every_command_on_every_bundled_spec(name):
    a = mbcost.analyze(name)
    assert run("check", name, "--max-madds", a.madds, "--max-params", a.params).exit_code == 0
    assert run("check", name, "--max-madds", a.madds - 1).exit_code == 1
    f = json.loads(run("fit", name, "--max-madds", a.madds, "--res", a.resolution, "--format",
                       "json").stdout)
    assert f["alpha"] >= 1 and f["madds"] <= a.madds  # alpha 1 meets its own cost
    f = json.loads(run("fit", name, "--max-madds", a.madds, "--alpha", 1, "--res-step", 8,
                       "--format", "json").stdout)
    assert f["resolution"] >= a.resolution - a.resolution % 8
    sw = json.loads(run("sweep", name, "--alpha", "1,0.5", "--res", f"{a.resolution},128",
                        "--format", "json").stdout)
    assert (sw["points"][0]["madds"], sw["points"][0]["params"]) == (a.madds, a.params)
    half = mbcost.analyze(name, alpha=0.5, resolution=128)
    assert (sw["points"][3]["madds"], sw["points"][3]["params"]) == (half.madds, half.params)
    assert run("compare", name, "--dense").exit_code == 0
    assert run("compare", name, "--b-alpha", "0.5").exit_code == 0
    assert run("fit", name, "--max-madds", a.madds).exit_code == 0


# ---------------------------------------------------------------- plots

@pytest.fixture
def no_matplotlib(monkeypatch):
    """Make `import matplotlib` fail, whether or not it is installed."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)


@pytest.mark.parametrize("args", [["sweep", "mobilenet_v1"], ["table", "mobilenet_v1"]])
def test_plot_without_matplotlib_says_how_to_get_it(no_matplotlib, tmp_path, args):
    r = run(*args, "--plot", tmp_path / "x.svg")
    assert r.exit_code == 2 and r.stdout == ""
    # one line, no 'mbcost:' prefix (no other bad-input message has one)
    assert r.stderr == "plotting needs matplotlib: pip install 'mbcost[plot]'\n"
    assert not (tmp_path / "x.svg").exists()


class _Recorder:
    """A stand-in for matplotlib objects: every attribute is another recorder, every call is
    logged as (name, args, kwargs) and returns another recorder."""

    def __init__(self, log, name="plt"):
        self._log, self._name = log, name

    def __getattr__(self, attr):
        return _Recorder(self._log, f"{self._name}.{attr}")

    def __call__(self, *args, **kw):
        self._log.append((self._name, args, kw))
        if self._name.endswith(".subplots"):
            n = args[0] * args[1]
            return _Recorder(self._log, "fig"), [_Recorder(self._log, f"ax{i}") for i in range(n)]
        if self._name.endswith(".savefig"):  # into a file object (mbcost writes it out) or a path
            args[0].write(b"plot") if hasattr(args[0], "write") else Path(args[0]).write_text("plot")
        return _Recorder(self._log, f"{self._name}()")


@pytest.fixture
def fake_matplotlib(monkeypatch):
    """A recording matplotlib so the plotting code runs without the real package."""
    log = []
    mpl = types.ModuleType("matplotlib")
    mpl.use = lambda backend: log.append(("use", (backend,), {}))
    pyplot = _Recorder(log)
    colors = types.ModuleType("matplotlib.colors")
    colors.BoundaryNorm = _Recorder(log, "colors").BoundaryNorm
    colors.ListedColormap = _Recorder(log, "colors").ListedColormap
    mpl.pyplot, mpl.colors = pyplot, colors
    monkeypatch.setitem(sys.modules, "matplotlib", mpl)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", pyplot)
    monkeypatch.setitem(sys.modules, "matplotlib.colors", colors)
    return log


def calls(log, name):
    """The (args, kwargs) of every recorded call to name, e.g. 'ax0.barh'."""
    return [(args, kw) for n, args, kw in log if n == name]


def test_sweep_plot_draws_log_axes(fake_matplotlib, tmp_path):
    out = tmp_path / "grid.svg"
    r = run("sweep", "mobilenet_v1", "--alpha", "1,0.5", "--res", "224,160", "--plot", out)
    assert r.exit_code == 0 and out.read_text() == "plot"
    plots = calls(fake_matplotlib, "ax0.plot")
    # mult-adds against alpha at 224 px: Table 6's 568,740,352 and 149,497,088
    assert plots[0][0] == ([1.0, 0.5], [568_740_352, 149_497_088])
    assert ("ax0.set_xscale", ("log",), {}) in fake_matplotlib
    assert ("ax1.set_yscale", ("log",), {}) in fake_matplotlib
    # two lines each: a legend, no colorbar; the convention in the title
    assert calls(fake_matplotlib, "ax0.legend") and not calls(fake_matplotlib, "fig.colorbar")
    (title,) = calls(fake_matplotlib, "fig.suptitle")
    assert "convention 'paper'" in title[0][0]


def test_sweep_plot_of_many_widths_has_a_colorbar_and_real_alpha_ticks(fake_matplotlib, tmp_path):
    from mbcost.plot import MAX_TICKS

    r = run("sweep", "mobilenet_v1", "--alpha", "0.25:1:0.05", "--res", "224,160",
            "--plot", tmp_path / "grid.png")
    assert r.exit_code == 0, r.stderr
    # 16 widths: a colorbar on the mult-adds-vs-resolution panel instead of a 16-entry legend
    assert not calls(fake_matplotlib, "ax1.legend")
    (bar,) = [kw for args, kw in calls(fake_matplotlib, "fig.colorbar") if kw["ax"] is not None]
    labels = calls(fake_matplotlib, "fig.colorbar().set_ticklabels")
    assert labels[0][0][0][0] == "0.25" and labels[0][0][0][-1] == "1.0"
    # 16 distinct colours, one per line, darkest for the smallest width
    colours = [kw["color"] for args, kw in calls(fake_matplotlib, "ax1.plot")]
    assert len(colours) == 16 and len(set(map(str, colours))) == 16
    # the alpha axes are labelled with the grid's own values, first and last included
    for ax in ("ax0", "ax2"):
        (ticks,), _ = calls(fake_matplotlib, f"{ax}.set_xticks")[0]
        (labels,), _ = calls(fake_matplotlib, f"{ax}.set_xticklabels")[0]
        assert 2 <= len(ticks) <= MAX_TICKS and labels[0] == "0.25" and labels[-1] == "1.0"
        assert [float(x) for x in labels] == ticks
    # params do not depend on the resolution here: one line, no resolution in the title
    assert len(calls(fake_matplotlib, "ax2.plot")) == 1
    (title,), _ = calls(fake_matplotlib, "ax2.set_title")[0]
    assert title == "params vs alpha"


def test_sweep_plot_params_per_resolution_when_they_vary(fake_matplotlib, tmp_path):
    # a flatten before the FC makes the parameters depend on the resolution
    spec = tmp_path / "flat.yaml"
    spec.write_text("name: flat\ninput: [32, 32, 3]\nlayers:\n  - conv: {k: 3, out: 4}\n"
                    "  - flatten\n  - fc: {out: 2}\n")
    r = run("sweep", spec, "--alpha", "1", "--res", "32,16", "--plot", tmp_path / "g.svg")
    assert r.exit_code == 0, r.stderr
    params = [args[1] for args, kw in calls(fake_matplotlib, "ax2.plot")]
    # conv 3*3*3*4 weights (no bias by default); FC (H*W*4)*2 weights + 2 biases, with
    # 'same' padding H = W = the resolution
    assert params == [[108 + 32 * 32 * 4 * 2 + 2], [108 + 16 * 16 * 4 * 2 + 2]]
    (title,), _ = calls(fake_matplotlib, "ax2.set_title")[0]
    assert title == "params vs alpha, per resolution"


def _bars(log, ax):
    ((ys, values), _kw), = calls(log, f"{ax}.barh")
    (labels,), _ = calls(log, f"{ax}.set_yticklabels")[0]
    return labels, values


def test_table_plot_draws_per_layer_bars(fake_matplotlib, tmp_path):
    out = tmp_path / "layers.png"
    r = run("table", "mobilenet_v1", "--plot", out)
    assert r.exit_code == 0 and out.exists()
    labels, values = _bars(fake_matplotlib, "ax0")
    assert sum(values) == 568_740_352 and labels[0] == "conv1" and labels[-1] == "fc"
    _, params = _bars(fake_matplotlib, "ax1")
    assert sum(params) == 4_210_088
    (title,) = calls(fake_matplotlib, "fig.suptitle")
    assert "convention 'paper'" in title[0][0]


def test_table_plot_of_a_large_network_shows_the_largest_layers_and_the_rest(fake_matplotlib,
                                                                               tmp_path):
    from mbcost.plot import TOP_LAYERS

    a = mbcost.analyze("efficientnet_b7")
    costed = [r for r in a.rows if r.madds or r.params]
    r = run("table", "efficientnet_b7", "--plot", tmp_path / "b7.png", "-c", "fvcore",
            "--format", "csv")
    assert r.exit_code == 0, r.stderr
    fvcore = mbcost.analyze("efficientnet_b7", convention="fvcore")
    for ax, key, total in (("ax0", "madds", fvcore.madds), ("ax1", "params", fvcore.params)):
        labels, values = _bars(fake_matplotlib, ax)
        assert len(labels) == TOP_LAYERS + 1 and labels[-1].startswith("other ")
        assert sum(values) == total  # the rest is one bar, nothing dropped
        assert values[:-1] == sorted(values[:-1], reverse=True)
    # readable: one horizontal bar per row, a figure that grows with the rows, not the layers
    (args, kw), = calls(fake_matplotlib, "plt.subplots")
    assert args == (1, 2) and kw["figsize"][1] < 12 and len(costed) > 200
    (title,) = calls(fake_matplotlib, "fig.suptitle")
    assert "convention 'fvcore'" in title[0][0]


def test_table_plot_by_kind_is_table_2(fake_matplotlib, tmp_path):
    r = run("table", "mobilenet_v1", "--by", "kind", "--convention", "weights", "--flops",
            "--plot", tmp_path / "kinds.svg")
    assert r.exit_code == 0, r.stderr
    labels, values = _bars(fake_matplotlib, "ax0")
    # MobileNets Table 2 (README): Conv 1x1 539,492,352 of 568,740,352 mult-adds; FLOPs = 2x
    assert labels[0] == "Conv 1x1 (13)" and values[0] == 2 * 539_492_352
    assert sum(values) == 2 * 568_740_352 and len(labels) == 4
    _, params = _bars(fake_matplotlib, "ax1")
    assert params[0] == 3_139_584 and sum(params) == 4_209_088
    (title,), _ = calls(fake_matplotlib, "ax0.set_title")[0]
    assert title.startswith("FLOPs")


def test_readme_shows_every_design_command():
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    for cmd in ("check", "fit", "sweep", "compare", "layer"):
        assert f"mbcost {cmd} " in readme
    # the worked examples the issue asks for
    assert "mbcost fit mobilenet_v1 --max-madds 150M" in readme
    assert "mbcost check --budget budget.yaml" in readme
    assert "mbcost sweep mobilenet_v1 --alpha 1,0.75,0.5,0.25 --res 224,192,160,128" in readme


def test_readme_examples_match_the_commands():
    # the fit and sweep outputs printed in the README are what the commands print now
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    fit = run("fit", "mobilenet_v1", "--max-madds", "150M", "--max-params", "2M", "--res", "224")
    assert fit.stdout in readme
    sweep = run("sweep", "mobilenet_v1", "--alpha", "1,0.75,0.5,0.25", "--res", "224,192,160,128")
    assert sweep.stdout in readme


@pytest.mark.parametrize("first", ["mbcost.cli_design", "mbcost.cli"])
def test_commands_registered_whichever_module_is_imported_first(first):
    import subprocess

    code = (f"import {first}; from mbcost.cli import main; "
            "assert {'check', 'fit', 'sweep', 'compare', 'layer', 'table'} <= set(main.commands)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


ONE_LAYER = """name: table3
input: [14, 14, 512]
width: {rule: truncate}
layers:
  - pw: {name: stem, out: 512}
  - dwsep: {name: layer, k: 3, out: 512}
"""


@pytest.mark.parametrize("flags,sep,dense", [
    # MobileNets Table 3 through compare --dense on a one-layer spec (the stem makes the
    # layer's input alpha-scaled): 462 M standard, 52.3 / 29.6 / 15.1 M separable
    ([], 52_283_392, 462_422_016),
    (["--alpha", "0.75"], 29_578_752, 9 * 384 * 384 * 14 * 14),
    (["--alpha", "0.75", "--res", "10"], 15_091_200, 9 * 384 * 384 * 10 * 10),
])
def test_compare_dense_reproduces_table_3_rows(tmp_path, flags, sep, dense):
    spec = tmp_path / "table3.yaml"
    spec.write_text(ONE_LAYER)
    d = json.loads(run("compare", spec, "--dense", "--format", "json", *flags).stdout)
    (row,) = [r for r in d["layers"] if r["name"] == "layer"]
    assert (row["madds_a"], row["madds_b"]) == (sep, dense)
    n = 512 if not flags else 384
    assert Fraction(row["ratio_theory"]) == Fraction(1, n) + Fraction(1, 9)


def test_readme_budget_example(tmp_path):
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    block = readme.split("# budget.yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "nets").mkdir()
    # as the README's comment describes it: no name, so it is named after its file
    (tmp_path / "nets" / "tiny_v1.yaml").write_text(
        "extends: mobilenet_v1\ninput: [160, 160, 3]\nclasses: 10\n")
    (tmp_path / "budget.yaml").write_text(block)
    r = run("check", "--budget", tmp_path / "budget.yaml", "--format", "json")
    assert r.exit_code == 0
    tiny = json.loads(r.stdout)["results"][0]["limits"]
    # Table 9's 0.5 MobileNet-160 (76,524,800 / 1,320,648) with a 10-class FC instead of
    # 1000 classes: 512*1000 -> 512*10 mult-adds, 513,000 -> 5,130 params
    assert tiny[0]["value"] == 76_524_800 - 512 * 1000 + 512 * 10
    assert tiny[1]["value"] == 1_320_648 - 513_000 + 5_130
    text = run("check", "--budget", tmp_path / "budget.yaml").stdout
    assert "\n".join(text.splitlines()[:6]) in readme


def test_readme_compare_by_type_example_is_current():
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    cmd = "$ mbcost compare mobilenet_v1 mobilenet_v2\n"
    shown = readme[readme.index(cmd) + len(cmd):].split("```")[0]
    r = run("compare", "mobilenet_v1", "mobilenet_v2")
    assert r.exit_code == 0 and r.stdout == shown


def test_readme_uses_one_vocabulary():
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert "--format table" not in readme and "table\\|csv" not in readme
    assert "--explain [--against OTHER]" in readme and "--explain [OTHER]" not in readme
    assert ".svg`, `.png` or `.pdf`" in readme
