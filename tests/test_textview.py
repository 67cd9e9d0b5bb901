"""Tables on a screen (mbcost.textview): every number, total and percentage whole at any
width >= 80, rendered by rich's own Console; what gives way first (the share bar, then
droppable columns such as shapes, then names, cut in the middle, then panels); and the
commands on a real pseudo-terminal: rich styles, 80 columns, OVER BUDGET highlighted.
Expected numbers are derived here from the library's results, never from the renderer.
"""

import io
import json
import os
import re
import subprocess
import sys

import pytest
from rich.cells import cell_len
from rich.console import Console

import mbcost
from mbcost import report, textview
from mbcost.textview import BAR, NAME, Column, Line, Table

WIDTHS = (80, 100, 120)
SPECS = ("mobilenet_v1", "mobilenet_v2", "efficientnet_b7")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
RULE = re.compile(r"^ *─+ *$")


def on_terminal(view, width):
    """What rich's own Console of the given width shows for a view (unicode, no colour codes)."""
    buf = io.StringIO()
    c = Console(file=buf, width=width, force_terminal=True, color_system=None,
                legacy_windows=False, highlight=False)
    c.print(textview.Rich(view), crop=False)
    return buf.getvalue()


def whole(token, line):
    """token appears in line as a whole number: no digit, comma, point or unit glued on."""
    return re.search(rf"(?<![\w.,]){re.escape(token)}(?![\w.,])", line) is not None


def units(n):
    """K/M/G with two decimals: 76524800 -> '76.52M' (the table's default rows)."""
    for div, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "K")):
        if n >= div:
            return f"{n / div:.2f}{suffix}"
    return str(n)


def shown_name(name, line):
    """The name is in the line whole, or cut in its middle (a prefix, '…', a suffix)."""
    if re.search(rf"(?<!\S){re.escape(name)}(?!\S)", line):
        return True
    for tok in line.split():
        if "…" in tok:
            head, tail = tok.split("…", 1)
            if head and name.startswith(head) and name.endswith(tail):
                return True
    return False


def table_parts(text):
    """(lines, body, footer) of a rendered table view: the body sits between the two rules."""
    lines = text.splitlines()
    rules = [i for i, ln in enumerate(lines) if RULE.match(ln)]
    assert len(rules) == 2, text
    return lines, lines[rules[0] + 1:rules[1]], lines[rules[1] + 1]


@pytest.fixture(scope="module")
def analyses():
    return {name: mbcost.analyze(name) for name in SPECS}


# ---------------------------------------------------------------- table on a terminal

@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("mode", ["units", "exact", "all", "flops"])
def test_terminal_table_never_cuts_a_number(analyses, spec, width, mode):
    a = analyses[spec]
    exact, all_layers, flops = mode == "exact", mode == "all", mode == "flops"
    text = on_terminal(report.table_view(a, False, exact, flops, all_layers), width)
    lines, body, footer = table_parts(text)
    assert all(cell_len(ln) <= width for ln in lines), "a line is wider than the terminal"
    f = 2 if flops else 1
    rows = a.rows if all_layers else [r for r in a.rows if r.madds or r.params]
    assert len(body) == len(rows), "one line per layer: a name wrapped, or rows went missing"
    for i, (r, line) in enumerate(zip(rows, body), 1):
        m, p = int(r.madds) * f, int(r.params)
        want = (f"{m:,}", f"{p:,}") if exact else (units(m), units(p))
        assert line.split()[0] == str(i)
        assert whole(want[0], line) and whole(want[1], line), (want, line)
        assert whole(f"{100 * r.madds / a.madds:.1f}", line), line
        assert shown_name(r.name, line), (r.name, line)
    assert whole(f"{int(a.madds) * f:,}", footer) and whole(f"{int(a.params):,}", footer)
    assert footer.count("100%") == 2


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("spec", SPECS)
def test_terminal_by_kind_is_whole(analyses, spec, width):
    a = analyses[spec]
    text = on_terminal(report.table_view(a, by_kind=True), width)
    lines, body, footer = table_parts(text)
    assert all(cell_len(ln) <= width for ln in lines)
    kinds = [(k.type, k.madds, k.params, k.layers) for k in a.by_kind() if k.madds or k.params]
    assert len(body) == len(kinds)
    for (op, m, p, n), line in zip(kinds, body):
        # the type is never cut ("Conv DW 3x3" on one line), every number exact and whole
        assert line.startswith(op + " ") and whole(str(n), line)
        assert whole(f"{m:,}", line) and whole(f"{p:,}", line)
        assert whole(f"{100 * m / a.madds:.2f}%", line) and whole(f"{100 * p / a.params:.2f}%", line)
    assert whole(f"{a.madds:,}", footer) and whole(f"{a.params:,}", footer)
    assert footer.count("100.00%") == 2


def test_at_80_columns_decoration_and_shapes_give_way_with_a_note():
    # MobileNet v1 0.5-160 (Table 9): at 120 columns everything shows; at 80 the share bar
    # and the input shapes go (said in a note), output shapes and every name stay whole
    a = mbcost.analyze("mobilenet_v1", alpha=0.5, resolution=160)
    wide = on_terminal(report.table_view(a), 120)
    assert "Share" in wide and "Input" in wide and "To fit" not in wide
    narrow = on_terminal(report.table_view(a), 80)
    lines, body, _ = table_parts(narrow)
    header = lines[lines.index(body[0]) - 2].split()
    assert header == ["#", "Layer", "Type", "Output", "Mult-adds", "%", "Params", "%"]
    assert "█" not in narrow
    assert "To fit 80 columns: Input hidden" in narrow
    assert "…" not in narrow
    assert whole("80x80x16", body[0])  # conv1's output, 3·3·3·16 at stride 2 from 160


def test_plain_text_keeps_the_frame_and_the_width_it_is_given():
    a = mbcost.analyze("efficientnet_b7")
    text = textview.plain(report.table_view(a, exact=True), 80)
    assert "\x1b" not in text and "…" not in text and "█" not in text  # ASCII only
    assert all(len(ln) <= 80 for ln in text.splitlines())
    (total,) = [ln for ln in text.splitlines() if ln.startswith("|") and "Total" in ln]
    assert whole(f"{a.madds:,}", total) and whole(f"{a.params:,}", total)


# ---------------------------------------------------------------- the layout rules, by hand

def _table(**kw):
    cols = [Column("Name", "left", NAME), Column("Shape", drop=1), Column("Number"),
            Column("Share", "left", BAR)]
    return Table(cols, [["abcdefghijklmnop", "123x123x123", "1,234,567", 50.0]], **kw)


def _shown(t, width):
    panels, note = t.layout(width, terminal=True)
    return [[(t.columns[i].title, w) for i, w in p] for p in panels], note


def test_layout_order_bar_then_droppable_then_names():
    t = _table()
    # natural: 16 + 11 + 9 + 10 and three gaps of two = 52
    assert _shown(t, 52) == ([[("Name", 16), ("Shape", 11), ("Number", 9), ("Share", 10)]], "")
    assert _shown(t, 48)[0] == [[("Name", 16), ("Shape", 11), ("Number", 9), ("Share", 6)]]
    assert _shown(t, 46) == ([[("Name", 16), ("Shape", 11), ("Number", 9)]], "")  # bar < 5: gone
    panels, note = _shown(t, 38)
    assert panels == [[("Name", 16), ("Number", 9)]] and "Shape hidden" in note
    panels, note = _shown(t, 20)
    assert panels == [[("Name", 9), ("Number", 9)]] and "names shortened in the middle" in note
    text = "".join(ln if isinstance(ln, str) else "".join(p for p, _ in ln)
                   for ln in t.render(20, terminal=True, unicode=True))
    assert "abcd…mnop" in text and "1,234,567" in text


def test_panels_repeat_the_key_and_keep_groups_together():
    cols = [Column("layer", "left", NAME, key=True)]
    cols += [Column(("mult-adds", s), group="m") for s in ("A", "B", "B - A")]
    cols += [Column(("params", s), group="p") for s in ("A", "B", "B - A")]
    row = ["conv1", "111,111,111", "222,222,222", "+111,111,111", "1,111", "2,222", "+1,111"]
    t = Table(cols, [row])
    panels, note = t.layout(50, terminal=True)
    titles = [[t.columns[i].title for i, _ in p] for p in panels]
    assert titles == [["layer", "mult-adds A", "mult-adds B", "mult-adds B - A"],
                      ["layer", "params A", "params B", "params B - A"]]
    assert note == ""  # nothing hidden or cut: the table is split instead
    text = textview.plain([t], 50)
    for cell in row:
        assert whole(cell, text) or cell == "conv1"
    assert text.count("conv1") == 2


def test_a_number_wider_than_the_screen_is_left_long_not_cut():
    t = Table([Column("n")], [["123,456,789,012"]])
    assert "123,456,789,012" in textview.plain([t], 5)


def test_truncate_middle_and_wide_characters():
    assert textview.truncate_middle("mbconv6.3/se.expand", 12) == "mbconv…xpand"
    assert textview.truncate_middle("short", 12) == "short"
    cut = textview.truncate_middle("層層層層層層", 7)  # six wide characters, 12 cells
    assert textview.cell_width(cut) <= 7 and cut.startswith("層") and cut.endswith("層")
    t = Table([Column("Layer", "left", NAME), Column("n")], [["層層層層層層層層", "1"], ["ab", "22"]])
    lines = textview.plain([t], 12).splitlines()
    # the names column narrows from 16 cells to 8: 4 + "~" (plain text is ASCII) + 2, then padded
    assert [cell_len(ln) for ln in lines[:3]] == [12, 12, 12]
    assert "names shortened" in " ".join(lines[3:])
    assert lines[1].startswith("層層~層 ")


def test_spec_text_never_reaches_the_terminal_as_escape_codes():
    t = Table([Column("Layer", "left", NAME), Column("n")], [["a\x1b[31mb", "1"]])
    view = [Line("title \x1b]0;pwned\x07"), t]
    for text in (textview.plain(view, 80), on_terminal(view, 80)):
        assert "\x1b" not in text and "\x07" not in text
        assert "\\x1b[31m" in text and "\\x1b]0;pwned\\x07" in text


def test_lines_wrap_between_words_never_inside_a_number():
    line = Line("largest mult-adds: conv4.pw 51,380,224 (9.03%), conv6.pw 51,380,224 (9.03%)",
                hang=4)
    out = ["".join(t for t, _ in seg) for seg in line.render(30)]
    assert all(len(s) <= 30 for s in out) and len(out) > 1
    assert all(s.startswith("    ") for s in out[1:])
    assert " ".join(s.strip() for s in out) == line.parts


# ---------------------------------------------------------------- compare's columns

def test_compare_dense_has_one_header_per_column_and_a_params_ratio():
    from mbcost import design, design_report

    a = mbcost.analyze("mobilenet_v1")
    b, merged = design.dense_analysis("mobilenet_v1", 1, 224, None, "paper")
    c = design.compare(a, b, merged)
    cols = design_report.compare_columns(c)
    titles = [col.title for col in cols]
    assert len(set(titles)) == len(titles)
    for t in titles[3:]:
        assert re.fullmatch(r"(mult-adds|params) (A|B|B - A|A/B)|theory 1/N\+1/D_K\^2", t), t
    assert "params A/B" in titles
    text = design_report.compare_text(c)
    # Table 4: 4.2 M params separable against 29.3 M dense
    assert whole(f"{a.params / b.params:.4f}", text.splitlines()[-3])


# ---------------------------------------------------------------- the commands on a terminal

def run_on_terminal(*args, columns=80):
    """Run mbcost with stdout and stderr on a pseudo-terminal of the given width; (exit
    code, raw output)."""
    import fcntl
    import pty
    import struct
    import termios
    import threading

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    chunks = []

    def drain():
        while True:
            try:
                data = os.read(master, 1 << 16)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    done = subprocess.run([sys.executable, "-m", "mbcost", *args], stdin=subprocess.DEVNULL,
                          stdout=slave, stderr=slave, env=env, timeout=120)
    os.close(slave)
    reader.join(10)
    os.close(master)
    return done.returncode, b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def screen_lines(raw):
    return ANSI.sub("", raw).splitlines()


def _fits(raw, width=80):
    lines = screen_lines(raw)
    assert lines and all(cell_len(ln) <= width for ln in lines), \
        max(lines, key=cell_len)
    return "\n".join(lines)


def test_table_on_a_terminal_is_rich_and_fits():
    code, raw = run_on_terminal("table", "mobilenet_v1", "--alpha", "0.5", "--res", "160")
    assert code == 0 and ANSI.search(raw)  # styled: the rich path ran
    text = _fits(raw)
    assert whole("76,524,800", text) and whole("1,320,648", text)  # Table 9's totals


def test_check_on_a_terminal_highlights_over_budget():
    code, raw = run_on_terminal("check", "mobilenet_v1", "--max-madds", "100M", "--max-params", "2M")
    assert code == 1
    assert re.search(r"\x1b\[[0-9;]*m(\x1b\[[0-9;]*m)*OVER BUDGET", raw)
    text = _fits(raw)
    # 568,740,352 mult-adds and 4,210,088 params (MobileNet v1, Table 1) over the limits
    for n in ("568,740,352", "-468,740,352", "4,210,088", "-2,210,088"):
        assert whole(n, text), n


def test_compare_dense_on_a_terminal_fits_80_columns():
    code, raw = run_on_terminal("compare", "mobilenet_v1", "--dense")
    assert code == 0
    text = _fits(raw)
    d = json.loads(subprocess.run([sys.executable, "-m", "mbcost", "compare", "mobilenet_v1", "--dense",
                                   "--format", "json"], capture_output=True, text=True).stdout)
    for layer in d["layers"]:
        for key in ("madds_a", "madds_b", "params_a", "params_b"):
            assert whole(f"{layer[key]:,}", text), (layer["name"], key)
    for side in ("a", "b"):
        assert whole(f"{d[side]['madds']:,}", text) and whole(f"{d[side]['params']:,}", text)
    assert whole(f"{d['a']['params'] / d['b']['params']:.4f}", text)  # the params ratio


def test_sweep_exact_on_a_terminal_splits_instead_of_cutting():
    args = ("sweep", "mobilenet_v1", "--res", "96:224:16", "--exact")
    code, raw = run_on_terminal(*args)
    assert code == 0
    text = _fits(raw)
    points = json.loads(subprocess.run([sys.executable, "-m", "mbcost", *args, "--format", "json"],
                                       capture_output=True, text=True).stdout)["points"]
    assert len(points) == 4 * 9
    for p in points:
        assert whole(f"{p['madds']:,}", text), p


TABLE_3 = ("layer", "dwsep", "--k", "3", "--in", "512", "--out", "512", "--size", "14",
           "--alpha", ".75", "--rho", "0.714")


@pytest.mark.parametrize("args,columns", [
    (TABLE_3, 100),
    (("fit", "mobilenet_v1", "--max-madds", "150M", "--res", "224"), 80),
    (("formula", "mobilenet_v2", "--by", "kind"), 80),
    (("table", "mobilenet_v3_large", "--convention", "fvcore", "--explain"), 80),
])
def test_other_commands_on_a_terminal_fit_and_keep_every_number(args, columns):
    code, raw = run_on_terminal(*args, columns=columns)
    assert code == 0
    text = _fits(raw, columns)
    piped = subprocess.run([sys.executable, "-m", "mbcost", *args], capture_output=True, text=True,
                           env={**os.environ, "COLUMNS": "1000"}).stdout
    assert not ANSI.search(piped)  # plain text when piped
    numbers = set(re.findall(r"(?<![\w.,])[+-]?\d[\d,]*(?:\.\d+)?(?![\w.,])", piped))
    assert numbers
    for n in numbers:
        assert whole(n, text), n


def test_layer_at_80_columns_drops_the_restated_millions_not_the_counts():
    code, raw = run_on_terminal(*TABLE_3)
    assert code == 0
    text = _fits(raw)
    d = json.loads(subprocess.run([sys.executable, "-m", "mbcost", *TABLE_3, "--format", "json"],
                                  capture_output=True, text=True).stdout)
    for row in d["rows"]:  # MobileNets Table 3: 462 M, 52.3 M, 29.6 M, 15.1 M mult-adds
        assert whole(f"{row['madds']:,}", text) and whole(f"{row['params']:,}", text)
    assert "'M mult-adds' and 'M params' hidden" in text.replace("\n", " ")


def test_readme_compare_dense_example_is_the_80_column_screen():
    from pathlib import Path

    from mbcost import design, design_report

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    cmd = "$ mbcost compare mobilenet_v1 --dense\n"
    shown = readme[readme.index(cmd) + len(cmd):].split("```")[0].splitlines()
    a = mbcost.analyze("mobilenet_v1")
    b, merged = design.dense_analysis("mobilenet_v1", 1, 224, None, "paper")
    screen = [ln.rstrip() for ln in on_terminal(design_report.compare_view(design.compare(a, b, merged)),
                                                80).splitlines()]
    assert [ln for ln in shown if ln != "..."]
    for ln in shown:
        assert ln == "..." or ln in screen, ln
