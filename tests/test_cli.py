"""The command line: every command, format and exit code (click CliRunner)."""

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from clirunner import CliRunner

from mbcost import __version__
from mbcost.cli import main

ANSI = re.compile(r"\x1b\[")
README = Path(__file__).resolve().parent.parent / "README.md"
BAD_SPEC = "mbcost: 1\nname: x\ninput: [8, 8, 3]\nlayres:\n  - conv: {k: 3, out: 8}\n"


def run(*args, env=None):
    """Invoke the CLI in-process; stdout and stderr kept apart."""
    return CliRunner().invoke(main, list(args), env=env)


def ok(*args, env=None):
    """Invoke and assert exit 0 with nothing on stderr; return stdout."""
    r = run(*args, env=env)
    assert r.exit_code == 0, r.output
    assert r.stderr == ""
    return r.stdout


# ---------------------------------------------------------------- table

def test_table_plain_text():
    out = ok("table", "mobilenet_v1", "--alpha", "0.5", "--res", "160")
    assert "76,524,800" in out and "1,320,648" in out
    assert "conv14.pw" in out and "conv1.bn" not in out
    assert not ANSI.search(out)


def test_table_by_kind_weights_is_table_2():
    out = ok("table", "mobilenet_v1", "--by", "kind", "--convention", "weights")
    for share in ("94.86%", "3.06%", "1.91%", "0.18%", "74.59%", "1.06%", "0.02%", "24.33%"):
        assert share in out


def test_table_exact_and_all():
    out = ok("table", "mobilenet_v1", "--exact")
    assert "10,838,016" in out  # conv1: 3·3·3·32·112²
    assert "conv1.bn" in ok("table", "mobilenet_v1", "--all")


def test_table_json_csv_markdown():
    d = json.loads(ok("table", "mobilenet_v1", "-a", "0.5", "--res", "160", "-f", "json"))
    assert (d["totals"]["madds"], d["totals"]["params"]) == (76_524_800, 1_320_648)
    rows = list(csv.DictReader(io.StringIO(ok("table", "mobilenet_v1", "--format", "csv"))))
    assert (rows[-1]["name"], rows[-1]["madds"], rows[-1]["params"]) == ("total", "568740352", "4210088")
    md = ok("table", "mobilenet_v1", "-f", "markdown", "--by", "kind")
    assert "| Conv 1x1 | 13 | 539,492,352 |" in md


def test_table_flops_doubles():
    d = json.loads(ok("table", "mobilenet_v1", "-f", "json", "--flops"))
    assert d["totals"]["flops"] == 2 * 568_740_352
    assert "1,137,480,704" in ok("table", "mobilenet_v1", "--flops")
    assert "FLOPs" in ok("table", "mobilenet_v1", "--flops", "--by", "kind")


def test_table_rho():
    d = json.loads(ok("table", "mobilenet_v1", "--rho", "0.714", "-f", "json"))
    assert d["resolution"] == 160 and d["totals"]["madds"] == 290_675_200


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_output_file(tmp_path, fmt):
    target = tmp_path / f"out.{fmt}"
    r = run("table", "mobilenet_v1", "-f", fmt, "-o", str(target))
    assert r.exit_code == 0 and r.stdout == ""
    text = target.read_text()
    assert "568,740,352" in text or "568740352" in text
    assert not ANSI.search(text)
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temp file left


def test_output_file_replaces_atomically(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    assert run("table", "mobilenet_v1", "-f", "json", "-o", str(target)).exit_code == 0
    assert json.loads(target.read_text())["model"] == "mobilenet_v1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


# ---------------------------------------------------------------- formula, list, version

def test_formula():
    out = ok("formula", "mobilenet_v1")
    assert "mult-adds = 539492352*alpha^2*rho^2 + 28224000*alpha*rho^2 + 1024000*alpha" in out
    assert "params    = 3139584*alpha^2 + 1069504*alpha + 1000" in out


def test_formula_latex_layers_by_kind():
    assert "\\alpha^{2} \\rho^{2}" in ok("formula", "mobilenet_v1", "--latex")
    out = ok("formula", "mobilenet_v1", "--layers")
    assert "conv1 [Conv 3x3]: mult-adds = 10838016*alpha*rho^2; params = 864*alpha" in out
    assert "1/N + 1/D_K^2" in out
    by = ok("formula", "mobilenet_v1", "--by", "kind")
    assert "Conv 1x1: mult-adds = 539492352*alpha^2*rho^2; params = 3139584*alpha^2" in by


def test_list():
    out = ok("list")
    names = [line.split()[0] for line in out.splitlines()]
    assert {"mobilenet_v1", "mobilenet_v1_shallow", "mobilenet_v2"} <= set(names)
    conv = ok("list", "--conventions")
    assert conv.split()[0] == "paper" and "weights" in conv


def test_version():
    assert ok("--version").strip() == f"mbcost, version {__version__}"


# ---------------------------------------------------------------- exit codes

def test_bad_spec_one_line_exit_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("bad.yaml").write_text(BAD_SPEC)
    for args in (["table", "bad.yaml"], ["table", "bad.yaml", "-f", "json"], ["formula", "bad.yaml"]):
        r = run(*args)
        assert r.exit_code == 2
        assert r.stdout == ""
        assert r.stderr == "bad.yaml:4: field 'layres': unknown top-level field (did you mean 'layers'?)\n"


def test_bad_spec_leaves_existing_output_untouched(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_SPEC)
    target = tmp_path / "out.csv"
    target.write_text("keep me")
    r = run("table", str(bad), "-f", "csv", "-o", str(target))
    assert r.exit_code == 2 and r.stdout == ""
    assert target.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "out.csv"]


def test_unknown_spec_name():
    r = run("table", "mobilenet_v7")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("mobilenet_v7: no such spec file or bundled spec")
    assert r.stderr.count("\n") == 1


@pytest.mark.parametrize("args, message", [
    (["--alpha", "abc"], "alpha must be a positive number, got 'abc'"),
    (["--alpha", "0"], "alpha must be in (0, 64], got 0"),
    (["--alpha", "-1"], "alpha must be in (0, 64], got -1"),
    (["--rho", "x"], "rho must be a positive number"),
])
def test_bad_point_exit_2(args, message):
    r = run("table", "mobilenet_v1", *args)
    assert r.exit_code == 2 and r.stdout == ""
    assert message in r.stderr and r.stderr.count("\n") == 1


@pytest.mark.parametrize("args", [["table", "mobilenet_v1", "-c", "nope"],
                                  ["formula", "mobilenet_v1", "--convention", "nope"],
                                  ["table", "mobilenet_v1", "--res", "0"],
                                  ["table", "mobilenet_v1", "--format", "xml"]])
def test_bad_choices_exit_2(args):
    r = run(*args)
    assert r.exit_code == 2 and r.stdout == ""
    assert "Invalid value" in r.stderr


@pytest.mark.parametrize("args", [
    ["table", "mobilenet_v1", "--bogus"],  # no such option
    ["table"],  # missing argument
    ["table", "mobilenet_v1", "--alpha"],  # option without its value
    ["table", "mobilenet_v1", "extra"],  # extra argument
    ["sweep", "mobilenet_v1", "--format", "xml"],  # bad choice
    ["layer", "conv", "--k", "3"],
    ["check", "mobilenet_v1", "--top", "x"],
    ["nosuchcommand"],
])
def test_usage_errors_are_one_line_with_the_help_hint(args):
    # click prints usage, a hint and the error on four lines; mbcost promises one
    r = run(*args)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "--help'" in r.stderr, r.stderr
    command = "mbcost" if args[0] == "nosuchcommand" else f"mbcost {args[0]}"
    assert f"'{command} --help'" in r.stderr


# ---------------------------------------------------------------- one vocabulary

TEXT_COMMANDS = {  # every command with a plain-text format, and a cheap way to run it
    "table": ["table", "mobilenet_v1"],
    "sweep": ["sweep", "mobilenet_v1", "--alpha", "1,0.5", "--res", "224"],
    "check": ["check", "mobilenet_v1", "--max-madds", "1G"],
    "fit": ["fit", "mobilenet_v1", "--max-madds", "150M", "--res", "224"],
    "compare": ["compare", "mobilenet_v1", "--b-alpha", "0.5"],
    "layer": ["layer", "dwsep", "--k", "3", "--in", "8", "--out", "8", "--size", "7"],
}


@pytest.mark.parametrize("command", sorted(TEXT_COMMANDS))
def test_plain_text_is_text_everywhere_and_table_is_its_alias(command, tmp_path):
    args = TEXT_COMMANDS[command]
    text = ok(*args, "--format", "text")
    assert text == ok(*args, "--format", "table") == ok(*args)
    assert "[text|table|" in " ".join(ok(command, "--help").split())
    out = tmp_path / "out.txt"  # -o on every command
    ok(*args, "--format", "text", "-o", out)
    assert out.read_text() == text


def test_every_command_with_res_takes_rho():
    for command in ("table", "check", "fit", "sweep", "compare"):
        assert "--rho" in ok(command, "--help"), command
    assert "--b-rho" in ok("compare", "--help")


def test_rho_gives_the_same_numbers_as_the_resolution_it_rounds_to():
    # MobileNets Table 3: rho 0.714 of 224 px is round(159.9) = 160 px
    fit_res = json.loads(ok("fit", "mobilenet_v1", "--max-madds", "80M", "--res", "160", "-f", "json"))
    fit_rho = json.loads(ok("fit", "mobilenet_v1", "--max-madds", "80M", "--rho", "0.714", "-f", "json"))
    assert fit_rho == fit_res and fit_res["resolution"] == 160
    sweep = json.loads(ok("sweep", "mobilenet_v1", "--alpha", "1", "--rho", "1,0.714,0.5", "-f", "json"))["points"]
    # Table 7: 568,740,352 at 224 and 290,675,200 at 160; 112 px = rho 0.5
    assert [(p["resolution"], p["madds"]) for p in sweep][:2] == [(224, 568_740_352), (160, 290_675_200)]
    assert sweep[2]["resolution"] == 112
    cmp_ = json.loads(ok("compare", "mobilenet_v1", "--b-rho", "0.714", "-f", "json"))
    assert (cmp_["b"]["resolution"], cmp_["b"]["madds"]) == (160, 290_675_200)
    check = json.loads(ok("check", "mobilenet_v1", "--rho", "0.714", "--max-madds", "1G", "-f", "json"))
    assert check["results"][0]["limits"][0]["value"] == 290_675_200


@pytest.mark.parametrize("args", [
    ["sweep", "mobilenet_v1", "--res", "224", "--rho", "1"],
    ["fit", "mobilenet_v1", "--max-madds", "1G", "--res", "224", "--rho", "1"],
    ["compare", "mobilenet_v1", "--b-res", "160", "--b-rho", "0.5"],
])
def test_res_and_rho_together_are_refused(args):
    r = run(*args)
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and "not both" in r.stderr


def test_plot_formats_are_the_same_in_every_help_and_error(tmp_path):
    for command in ("table", "sweep"):
        assert ".svg, .png or .pdf" in " ".join(ok(command, "--help").split())
        r = run(command, "mobilenet_v1", "--plot", tmp_path / "x.jpg")
        assert r.exit_code == 2 and r.stderr.rstrip().endswith(".svg, .png, .pdf")


# ---------------------------------------------------------------- help, README, colour

COMMANDS = sorted(main.commands)


@pytest.mark.parametrize("command", [None] + COMMANDS)
def test_help_has_an_example(command):
    out = ok(*([command] if command else []), "--help")
    assert "Example" in out


def test_every_command_is_in_the_readme():
    readme = README.read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f"mbcost {command}" in readme, command


def test_no_color_env():
    out = ok("table", "mobilenet_v1", "--by", "kind", env={"NO_COLOR": "1"})
    assert not ANSI.search(out)


def test_piped_output_has_no_ansi():
    # a real process with stdout on a pipe (not a TTY)
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "COLUMNS")}
    p = subprocess.run([sys.executable, "-m", "mbcost", "table", "mobilenet_v1", "--by", "kind"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0 and p.stderr == ""
    assert not ANSI.search(p.stdout)
    assert "568,740,352" in p.stdout


def test_unwritable_output_exit_2(tmp_path):
    r = run("table", "mobilenet_v1", "-f", "csv", "-o", str(tmp_path / "nodir" / "x.csv"))
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.endswith("x.csv: cannot write: No such file or directory\n")
    r = run("table", "mobilenet_v1", "-f", "csv", "-o", str(tmp_path))
    assert r.exit_code == 2 and "is a directory" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_the_old_file_and_no_temp(tmp_path, monkeypatch):
    import mbcost.cli

    target = tmp_path / "out.csv"
    target.write_text("keep me")

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(mbcost.cli.os, "replace", refuse)
    r = run("table", "mobilenet_v1", "-f", "csv", "-o", str(target))
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.endswith("out.csv: cannot write: Permission denied\n")
    assert target.read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_no_color_on_a_terminal_has_no_escapes():
    def on_tty(extra):
        master, slave = os.openpty()
        env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
        env.update(extra, TERM="xterm-256color")
        p = subprocess.Popen([sys.executable, "-m", "mbcost", "table", "mobilenet_v1", "--by", "kind"],
                             stdout=slave, stderr=slave, env=env)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO once the child has closed the terminal
                break
            if not chunk:
                break
            out += chunk
        os.close(master)
        assert p.wait(timeout=60) == 0
        return out.decode()

    assert ANSI.search(on_tty({}))             # a terminal gets styles (bold headers)...
    assert not ANSI.search(on_tty({"NO_COLOR": "1"}))  # ...unless NO_COLOR is set
