"""Hostile and broken spec files (issue 5): no code execution, bounded work, and one
clear line `FILE:LINE: layer 'NAME': field 'F': what (got X)` with exit 2 for each."""

from __future__ import annotations

import ast
import builtins
import csv
import io
import os
import subprocess
import sys
import time

import pytest
import yaml
from clirunner import CliRunner
from test_registry import expression_fields

from mbcost import expr, graph, spec
from mbcost.cli import main

H = "name: x\ninput: [32, 32, 3]\n"
RUNNER = CliRunner()
# every YAML backend this PyYAML has: the pure-Python parser, and libyaml's when built in
BACKENDS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if getattr(yaml, "__with_libyaml__", False) else [])


def run(tmp_path, text, *args, name="t.yaml"):
    """Write text (str or bytes) to tmp_path/name and run `mbcost table` on it."""
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(p), RUNNER.invoke(main, ["table", str(p), "-f", "csv", *args])


def bad(tmp_path, text, *args, seconds=5):
    """Run, and check the bad-input contract: exit 2, one stderr line, empty stdout, fast."""
    start = time.monotonic()
    path, res = run(tmp_path, text, *args)
    assert time.monotonic() - start < seconds
    assert res.exit_code == 2, (res.exit_code, res.stdout[:200], res.stderr)
    assert res.stdout == ""
    assert len(res.stderr.splitlines()) == 1, res.stderr
    assert "Traceback" not in res.stderr
    return path, res.stderr.rstrip("\n")


# ---------------------------------------------------------------- 3. one clear line per mistake

CASES = [
    ("string for int", H + "layers:\n  - conv: {k: three, out: 8}\n",
     "{p}:4: layer 'conv': field 'k': unknown variable 'three' (known: classes) (got 'three')"),
    ("list for mapping", H + "layers:\n  - conv: [3, 8]\n",
     "{p}:4: layer 'conv': fields must be a mapping like {{k: 3, out: 64}} (got [3, 8])"),
    ("mapping for list", H + "layers: {a: 1}\n",
     "{p}:3: field 'layers': must be a non-empty list of layers (got {{'a': 1}})"),
    ("unknown kind", H + "layers:\n  - conb: {k: 3, out: 8}\n",
     "{p}:4: unknown layer kind 'conb' (did you mean 'conv'?)"),
    ("unknown field", H + "layers:\n  - conv: {k: 3, out: 8, strid: 2}\n",
     "{p}:4: layer 'conv': field 'strid': unknown field for 'conv' (did you mean 'stride'?)"),
    ("unknown top-level field", "name: x\ninputs: [3, 3, 3]\nlayers: [relu]\n",
     "{p}:2: field 'inputs': unknown top-level field (did you mean 'input'?)"),
    ("missing required field", H + "layers:\n  - conv: {name: c1, out: 8}\n",
     "{p}:4: layer 'c1': field 'k': 'conv' needs field 'k'"),
    ("missing name", "input: [32, 32, 3]\nlayers: [relu]\n", "{p}:1: field 'name': is required and must be text"),
    ("missing layers", H, "{p}:1: field 'layers': is required: a list of layers"),
    ("zero channels", H + "layers:\n  - conv: {k: 3, out: 0}\n",
     "{p}:4: layer 'conv': field 'out': channels must be a positive integer (got 0)"),
    ("negative channels", H + "layers:\n  - conv: {k: 3, out: -8}\n",
     "{p}:4: layer 'conv': field 'out': channels must be a positive integer (got -8)"),
    ("fractional channels", H + "layers:\n  - conv: {k: 3, out: 8.5}\n",
     "{p}:4: layer 'conv': field 'out': channels must be a positive integer (got 8.5)"),
    ("fractional channel expression", H + "layers:\n  - conv: {k: 3, out: '17/2'}\n",
     "{p}:4: layer 'conv': field 'out': channels must be a positive integer (got '17/2')"),
    ("kernel larger than input", H + "layers:\n  - conv: {name: big, k: 33, out: 8, padding: valid}\n",
     "{p}:4: layer 'big': field 'k': kernel 33 is larger than the 32x32 input with valid padding"),
    ("spatial size reaches zero", H + "layers:\n  - conv: {name: c, k: 3, stride: 2, out: 8, padding: 0}\n"
     "  - conv: {name: c2, k: 15, stride: 1, out: 8, padding: 0}\n  - conv: {name: c3, k: 2, out: 8, padding: 0}\n",
     "{p}:6: layer 'c3': spatial size reaches zero (1x1 in, 0x0 out)"),
    ("channel mismatch on add", H + "layers:\n  - conv: {name: a, k: 3, out: 8}\n"
     "  - conv: {name: b, k: 3, out: 16}\n  - add: a\n",
     "{p}:6: layer 'add1': cannot add tensors of shapes 32x32x16 vs 32x32x8"),
    ("groups not dividing", H + "layers:\n  - conv: {name: g, k: 3, out: 8, groups: 2}\n",
     "{p}:4: layer 'g': field 'groups': groups 2 must divide input channels 3 and output channels 8"),
    ("unknown block", H + "blocks:\n  blk: {layers: [relu]}\nlayers:\n  - blok: {n: 2}\n",
     "{p}:6: unknown layer kind 'blok' (did you mean 'blk'?)"),
    ("wrong block argument", H + "blocks:\n  blk: {args: {c: null}, layers: [{conv: {k: 1, out: c}}]}\n"
     "layers:\n  - blk: {cc: 2}\n",
     "{p}:6: layer 'blk': field 'cc': block 'blk' has no argument 'cc' (did you mean 'c'?); "
     "its arguments: c (and n, name, when)"),
    ("missing block argument", H + "blocks:\n  blk: {args: {c: null}, layers: [{conv: {k: 1, out: c}}]}\n"
     "layers:\n  - blk: {}\n",
     "{p}:6: layer 'blk': field 'c': block 'blk' needs argument 'c'"),
    ("duplicate layer name", H + "layers:\n  - conv: {name: a, k: 3, out: 8}\n  - conv: {name: a, k: 3, out: 8}\n",
     "{p}:5: layer 'a': duplicate layer name"),
    ("duplicate key", H + "layers:\n  - conv: {k: 3, k: 5, out: 8}\n", "{p}:4: duplicate key 'k'"),
    ("non-UTF-8", b"name: x\ninput: [32, 32, 3]\nlayers: [\xff\xfe]\n", "{p}:3: file is not UTF-8 text (byte 36)"),
    ("empty file", "", "{p}:1: the file is empty"),
    ("only comments", "# nothing\n\n", "{p}:1: the file is empty"),
    ("not a mapping", "- a\n- b\n",
     "{p}:1: a spec must be a YAML mapping with name, input and layers (got 'list')"),
    ("two documents", H + "layers: [relu]\n---\nname: y\n",
     "{p}:4: a spec file holds one YAML document; found a second '---'"),
    ("control character", "name: \x07x\n", "{p}:1: YAML error: control characters are not allowed (character 7)"),
    ("line separators in a name", H + 'layers: ["\\x1e\\u2028\\t\\x85a"]\n',
     "{p}:3: unknown layer kind '\\x1e\\u2028\\t\\x85a'"),
    ("base-60 number", H + "layers:\n  - conv: {k: 1:30, out: 8}\n",
     "{p}:4: '1:30' is a YAML base-60 number; quote it or write a plain number"),
    ("merge key", H + "layers:\n  - conv: {<<: {k: 3}, out: 8}\n",
     "{p}:4: YAML merge keys (<<) are not supported; write the fields out"),
    ("boolean for number", H + "layers:\n  - conv: {k: true, out: 8}\n",
     "{p}:4: layer 'conv': field 'k': expected a number, not a boolean (got True)"),
    ("date for number", H + "layers:\n  - conv: {k: 2001-01-01, out: 8}\n",
     "{p}:4: layer 'conv': field 'k': expected a number or expression, not a date (got 2001-01-01)"),
    ("infinite number", H + "layers:\n  - conv: {k: 3, out: .inf}\n",
     "{p}:4: layer 'conv': field 'out': expected a finite number (got inf)"),
    ("unknown activation", H + "layers:\n  - conv: {k: 3, out: 8, act: relu7}\n",
     "{p}:4: layer 'conv': field 'act': unknown activation (did you mean 'relu'?); one of relu, relu6, "
     "hswish, hsigmoid, swish, silu, sigmoid, tanh, softmax, gelu, none (got 'relu7')"),
    ("non-boolean bn default", "name: x\ninput: [8, 8, 3]\ndefaults: {bn: 5}\nlayers: [relu]\n",
     "{p}:3: field 'defaults.bn': must be true or false (got 5)"),
    ("block shadows a kind", H + "blocks:\n  conv: {layers: [relu]}\nlayers: [conv]\n",
     "{p}:4: field 'blocks.conv': block name 'conv' is a built-in layer kind; choose another"),
    ("fractional make_divisible divisor", H + "layers:\n  - conv: {k: 3, out: 'make_divisible(8, 2.5)'}\n",
     "{p}:4: layer 'conv': field 'out': make_divisible: divisor must be a positive integer (got 5/2)"),
    ("self-referencing alias", "a: &a [1, *a]\n", "{p}:1: YAML alias '*a' refers to itself"),
    ("unknown alias", "a: *nope\n", "{p}:1: unknown YAML alias '*nope'"),
    ("missing extends parent", "extends: no_such_parent\nname: x\n",
     "{p}:1: field 'extends': no such spec file or bundled spec; 'mbcost list' shows the bundled ones "
     "(got 'no_such_parent')"),
    ("circular extends", "extends: t.yaml\nname: x\n",
     "{p}:1: field 'extends': extends chain is circular or too long (got 't.yaml')"),
]


@pytest.mark.parametrize("text,want", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_spec_gets_one_exact_line(tmp_path, text, want):
    path, line = bad(tmp_path, text)
    assert line == want.format(p=path)


@pytest.mark.parametrize("loader", BACKENDS, ids=lambda b: b.__name__)
def test_yaml_syntax_error_is_located(tmp_path, monkeypatch, loader):
    # the backend words the problem (its wording is not the contract); mbcost locates it
    monkeypatch.setattr(spec, "_LOADER", loader)
    path, line = bad(tmp_path, "name: x\ninput: [1, 2\nlayers: [relu]\n")
    assert line.startswith(f"{path}:3: YAML syntax error: ")


def test_directory_as_spec(tmp_path):
    res = RUNNER.invoke(main, ["table", str(tmp_path)])
    assert (res.exit_code, res.stdout) == (2, "")
    assert res.stderr == f"{tmp_path}: is a directory, not a spec file\n"


def test_missing_file_suggests_a_bundled_name():
    res = RUNNER.invoke(main, ["table", "mobilenet_v3"])
    assert res.exit_code == 2
    assert res.stderr.startswith("mobilenet_v3: no such spec file or bundled spec (did you mean 'mobilenet_v")


# ---------------------------------------------------------------- -o is atomic

def test_error_leaves_existing_output_untouched(tmp_path):
    out = tmp_path / "cost.csv"
    out.write_text("previous result\n")
    p = tmp_path / "t.yaml"
    p.write_text(H + "layers:\n  - conv: {k: 3, out: -1}\n")
    res = RUNNER.invoke(main, ["table", str(p), "-f", "csv", "-o", str(out)])
    assert res.exit_code == 2 and res.stdout == ""
    assert out.read_text() == "previous result\n"
    assert sorted(os.listdir(tmp_path)) == ["cost.csv", "t.yaml"]  # no temporary left behind


def test_error_creates_no_output_file(tmp_path):
    out = tmp_path / "new.csv"
    p = tmp_path / "t.yaml"
    p.write_text("name: x\n")
    res = RUNNER.invoke(main, ["table", str(p), "-o", str(out)])
    assert res.exit_code == 2
    assert sorted(os.listdir(tmp_path)) == ["t.yaml"]


# ---------------------------------------------------------------- 1. no code execution

INJECTIONS = [
    "__import__('os').system('touch {marker}')",
    "__import__(\"os\").system(\"touch {marker}\")",
    "open('{marker}', 'w')",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__",
    "lambda: __import__('os')",
    "__builtins__",
    "_private",
    "Symbol('x').__class__",
    "exec('open(\"{marker}\", \"w\")')",
    "eval('1')",
    "globals()",
    "[c for c in ()]",
]
# every field that takes an expression, as a spec with {v} in that field: the layer
# fields from the registry (test_registry.expression_fields), the others by hand
EXPRESSION_FIELDS = {
    **expression_fields(),
    "width.min": H + "width: {{min: \"{v}\"}}\nlayers: [relu]\n",
    "vars": H + "vars: {{a: \"{v}\"}}\nlayers: [relu]\n",
    "input": "name: x\ninput: [\"{v}\", 32, 3]\nlayers: [relu]\n",
    "classes": H + "classes: \"{v}\"\nlayers: [relu]\n",
    "width.divisor": H + "width: {{divisor: \"{v}\"}}\nlayers: [relu]\n",
    "width.multiplier": H + "width: {{multiplier: \"{v}\"}}\nlayers: [relu]\n",
    "depth.multiplier": H + "depth: {{multiplier: \"{v}\"}}\nlayers: [relu]\n",
    "block n": H + "blocks: {{b: {{layers: [relu]}}}}\nlayers:\n  - b: {{n: \"{v}\"}}\n",
    "block arg": H + "blocks: {{b: {{args: {{c: 8}}, layers: [{{conv: {{k: 1, out: c}}}}]}}}}\n"
                     "layers:\n  - b: {{c: \"{v}\"}}\n",
}


@pytest.fixture
def tripwires(monkeypatch):
    """Make every way of running text as code fail loudly while a spec is processed."""
    import sympy.parsing.sympy_parser as sp

    def trip(*a, **k):
        raise AssertionError(f"user text reached an evaluator: {a[:1]!r}")

    RUNNER.invoke(main, ["table", "mobilenet_v2", "-f", "csv"])  # import everything first
    for mod, name in ((builtins, "eval"), (builtins, "exec"),
                      (sp, "parse_expr"), (yaml, "load"),
                      (yaml, "unsafe_load"), (yaml, "full_load"), (yaml, "load_all")):
        monkeypatch.setattr(mod, name, trip)


@pytest.mark.parametrize("field", sorted(EXPRESSION_FIELDS))
def test_injection_is_refused_in_every_expression_field(tmp_path, field, tripwires):
    marker = tmp_path / "PWNED"
    for inj in INJECTIONS:
        text = EXPRESSION_FIELDS[field].format(v=inj.format(marker=marker).replace('"', '\\"'))
        path, line = bad(tmp_path, text)
        assert line.startswith(f"{path}:"), line
        assert not marker.exists()


def test_bundled_specs_run_with_the_tripwires_set(tripwires):
    res = RUNNER.invoke(main, ["table", "mobilenet_v2", "-f", "csv", "--alpha", "0.75"])
    assert res.exit_code == 0, res.stderr


def test_python_tags_are_refused(tmp_path):
    marker = tmp_path / "PWNED"
    for text in (f"!!python/object/apply:os.system ['touch {marker}']\n",
                 f"name: !!python/object/apply:os.system ['touch {marker}']\n",
                 "name: !!python/name:os.system ''\n",
                 f"name: !!python/object/new:subprocess.Popen [['touch', '{marker}']]\n"):
        path, line = bad(tmp_path, text)
        assert line.startswith(f"{path}:1: "), line
        assert not marker.exists()


def test_no_evaluator_appears_in_the_source():
    # no code names an evaluator or an unsafe YAML loader; the only sympify in mbcost
    # runs on expressions the engine itself built (cost.py), never on spec text
    banned = {"eval", "exec", "__import__", "parse_expr", "load", "load_all", "unsafe_load",
              "full_load", "FullLoader", "UnsafeLoader", "Loader", "UnsafeConstructor", "FullConstructor"}
    folder = os.path.dirname(spec.__file__)
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            tree = ast.parse(open(os.path.join(folder, name), encoding="utf-8").read())
            used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            used |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
            assert not used & banned, (name, used & banned)


# ---------------------------------------------------------------- 2. bounded work

def test_alias_bomb_stops_at_the_node_budget(tmp_path):
    rows = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    rows += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path, line = bad(tmp_path, "\n".join(rows) + "\n")
    assert line == f"{path}:6: YAML expands to more than {spec.MAX_YAML_NODES} nodes (alias bomb?)"


def test_alias_depth_counts_as_nesting(tmp_path):
    # each alias is shallow, but the expanded value is 70 lists deep
    rows = ["a0: &a0 [1]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 70)]
    path, line = bad(tmp_path, "\n".join(rows) + "\n")
    assert line.endswith(f"YAML nested deeper than {spec.MAX_YAML_DEPTH} levels")


@pytest.mark.parametrize("loader", BACKENDS, ids=lambda b: b.__name__)
@pytest.mark.parametrize("opener", ["[", "{a: ", "[{a: ", "[ '[]', "])
def test_deep_yaml_nesting_stops_early(tmp_path, monkeypatch, opener, loader):
    # one limit and one message whichever backend runs: libyaml (PyYAML >= 6.0.4)
    # reads ahead over [[[[ and stops on a nesting limit of its own first
    monkeypatch.setattr(spec, "_LOADER", loader)
    closer = {"[": "]", "{a: ": "}", "[{a: ": "}]", "[ '[]', ": "]"}[opener]
    text = H + "layers: " + opener * 100_000 + "1" + closer * 100_000 + "\n"
    path, line = bad(tmp_path, text, seconds=3)
    assert line == f"{path}:3: YAML nested deeper than {spec.MAX_YAML_DEPTH} levels"


_PARSE = yaml.parse


class _ReadsAheadThenGivesUp:
    """A stand-in YAML backend: it hands over a few events, then stops with an error
    of its own wording deep inside what it read ahead (as libyaml's limit does)."""

    def __init__(self, text, fail_at):
        self.text, self.fail_at = text, fail_at

    def __call__(self, text, Loader=None):
        for ev in _PARSE(self.text, Loader=yaml.SafeLoader):
            if ev.end_mark is not None and ev.end_mark.index >= self.text.index("["):
                break
            yield ev
        mark = yaml.Mark("<x>", self.fail_at, 2, 0, None, None)
        raise yaml.scanner.ScannerError("while doing something", mark, "a backend limit", mark)


@pytest.mark.parametrize("depth, limited", [(spec.MAX_YAML_DEPTH - 1, False), (spec.MAX_YAML_DEPTH, True)])
def test_backend_own_limit_maps_to_mbcost_limit(monkeypatch, depth, limited):
    # the mapping counts the brackets the backend read ahead, not its wording: with the
    # top-level mapping, MAX_YAML_DEPTH - 1 lists are within the limit (the backend's own
    # error stands) and one more is mbcost's limit; the quoted ']' closes nothing
    text = H + "layers: " + "['a]', " * depth + "1" + "]" * depth + "\n"
    monkeypatch.setattr(spec.yaml, "parse", _ReadsAheadThenGivesUp(text, len(text) - 2))
    with pytest.raises(spec.SpecError) as err:
        spec.parse_yaml(text, "x.yaml")
    if limited:
        assert isinstance(err.value, spec.LimitError)
        assert str(err.value) == f"x.yaml:3: YAML nested deeper than {spec.MAX_YAML_DEPTH} levels"
    else:
        assert str(err.value) == "x.yaml:3: YAML syntax error: a backend limit"


def test_deep_block_indentation_stops_early(tmp_path):
    text = H + "layers:\n" + "".join(" " * i + "- \n" for i in range(1, 2000)) + " " * 2000 + "- 1\n"
    path, line = bad(tmp_path, text, seconds=3)
    assert line.endswith(f"YAML nested deeper than {spec.MAX_YAML_DEPTH} levels")


def test_too_many_yaml_nodes(tmp_path):
    # 2 MB of one-word layers: under the size limit, over the node budget
    text = H + "layers:\n" + "  - relu\n" * 220_000
    # composing 200,000 nodes takes about 4 s on an idle 2-core machine: the bound here
    # guards against a hang (bench/run.py --limits measures the time), not a speed target
    path, line = bad(tmp_path, text, seconds=30)
    assert line.startswith(f"{path}:") and line.endswith(
        f"YAML expands to more than {spec.MAX_YAML_NODES} nodes (alias bomb?)")


def test_50_mb_file_is_refused_before_reading(tmp_path):
    p = tmp_path / "big.yaml"
    with open(p, "wb") as fh:
        fh.write(b"name: x\n")
        fh.truncate(50 * 1024 * 1024)
    start = time.monotonic()
    res = RUNNER.invoke(main, ["table", str(p)])
    assert time.monotonic() - start < 2
    assert res.exit_code == 2
    assert res.stderr == f"{p}: file is {50 * 1024 * 1024} bytes; the limit is {spec.MAX_FILE_BYTES}\n"


def test_endless_file_is_read_only_up_to_the_limit():
    # the user's own SPEC argument may be any readable file; /dev/zero never ends
    start = time.monotonic()
    res = RUNNER.invoke(main, ["table", "/dev/zero"])
    assert time.monotonic() - start < 5
    assert res.exit_code == 2
    # the same wording as a file whose size is known (README, Bad input)
    assert res.stderr == (f"/dev/zero: file is over {spec.MAX_FILE_BYTES} bytes; the limit is "
                          f"{spec.MAX_FILE_BYTES}\n")


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_extends_of_a_device_or_pipe_is_refused(tmp_path, target):
    # an `extends:` written by someone else must not make mbcost read a device or wait on a
    # pipe that nobody writes to (reading the FIFO would block this test forever)
    if target == "fifo":
        target = str(tmp_path / "fifo")
        os.mkfifo(target)
    path, line = bad(tmp_path, f"extends: {target}\nname: x\n")
    assert line.startswith(f"{path}:1: field 'extends': is not a regular file (got '")


def test_repeat_count_of_a_billion(tmp_path):
    text = H + "blocks: {b: {layers: [relu]}}\nlayers:\n  - b: {n: 1000000000}\n"
    path, line = bad(tmp_path, text)
    assert line == (f"{path}:5: layer 'b': field 'n': must be an integer >= 0 up to "
                    f"{graph.MAX_LAYERS} (got 1000000000)")


def test_expansion_past_the_layer_limit(tmp_path):
    # 3 x 7,000 = 21,000 relu layers > MAX_LAYERS
    n = graph.MAX_LAYERS // 3 + 1  # 3n > MAX_LAYERS
    text = H + f"blocks: {{b: {{layers: [relu, relu, relu]}}}}\nlayers:\n  - b: {{n: {n}}}\n"
    path, line = bad(tmp_path, text, seconds=10)
    assert f"spec expands to more than {graph.MAX_LAYERS} layers" in line


def test_empty_repeats_are_bounded_too(tmp_path):
    # nothing is ever emitted (linear is no layer), but 10^4 x 10^4 x 10^9 repeats are still work
    n = graph.MAX_LAYERS
    text = ("name: x\ninput: [8, 8, 3]\ndepth: {multiplier: 1000000000}\n"
            f"blocks:\n  e: {{layers: [linear]}}\n  b: {{layers: [{{e: {{n: {n}}}}}]}}\n"
            f"layers:\n  - b: {{n: {n}}}\n")
    path, line = bad(tmp_path, text)
    assert line == (f"{path}:6: layer 'e': spec needs more than {graph.MAX_WORK} steps to expand "
                    "(layers, expression terms, repeats, branches, merge inputs, copied values)")


def test_resolution_of_10_to_the_12(tmp_path):
    text = "name: x\ninput: [1000000000000, 1000000000000, 3]\nlayers: [relu]\n"
    path, line = bad(tmp_path, text)
    assert line == (f"{path}:2: field 'input': input exceeds the limits ({graph.MAX_RESOLUTION} px, "
                    f"{graph.MAX_CHANNELS} channels) (got [1000000000000, 1000000000000, 3])")
    p = tmp_path / "ok.yaml"
    p.write_text(H + "layers: [relu]\n")
    res = RUNNER.invoke(main, ["table", str(p), "--res", str(10**12)])
    assert res.exit_code == 2 and len(res.stderr.splitlines()) <= 2 and "Traceback" not in res.stderr


def test_padding_cannot_grow_sizes_past_the_limit(tmp_path):
    text = H + "layers:\n" + "  - conv: {k: 1, out: 8, padding: 1024}\n" * 10
    path, line = bad(tmp_path, text)
    assert line.endswith(f"exceeds {graph.MAX_RESOLUTION} px")


def test_channel_limit(tmp_path):
    path, line = bad(tmp_path, H + "layers:\n  - dw: {multiplier: 100000000}\n")
    assert line == f"{path}:4: layer 'dw1': more than {graph.MAX_CHANNELS} channels (got 300000000)"


def test_recursive_blocks(tmp_path):
    text = H + "blocks:\n  a: {layers: [b]}\n  b: {layers: [a]}\nlayers: [a]\n"
    path, line = bad(tmp_path, text)
    assert line == f"{path}:5: layer 'a': block 'a' uses itself (recursive definition)"


def test_blocks_nested_too_deep(tmp_path):
    blocks = "".join(f"  b{i}: {{layers: [b{i + 1}]}}\n" for i in range(30)) + "  b30: {layers: [relu]}\n"
    path, line = bad(tmp_path, H + "blocks:\n" + blocks + "layers: [b0]\n")
    assert line.endswith(f"blocks nested deeper than {graph.MAX_NESTING}")


@pytest.mark.parametrize("text,want", [
    ("1" + "+1" * 200, f"expression longer than {expr.MAX_SOURCE} characters"),
    ("(" * 40 + "1" + ")" * 40, f"expression nested deeper than {expr.MAX_DEPTH}"),
    ("-" * 40 + "1", f"expression nested deeper than {expr.MAX_DEPTH}"),
    ("999999999*999999999*999999999", "expression value exceeds 1e+18"),
    ("1e99", "expression value exceeds 1e+18"),
    ("2**10", "unexpected '*' in expression"),
    ("8/0", "division by zero in expression"),
])
def test_expression_limits(tmp_path, text, want):
    path, line = bad(tmp_path, H + f"layers:\n  - conv: {{k: 1, out: '{text}'}}\n")
    assert line.startswith(f"{path}:4: layer 'conv': field 'out': {want}")


def test_ten_thousand_layers_still_work(tmp_path):
    # conv k=1 to 8 channels on 8x8: the first sees 3 channels (8*8*3*8 = 1,536 mult-adds),
    # the other 9,999 see 8 (8*8*8*8 = 4,096 each)
    p = tmp_path / "big.yaml"
    p.write_text("name: big\ninput: [8, 8, 3]\nlayers:\n" + "  - conv: {k: 1, out: 8}\n" * 10_000)
    start = time.monotonic()
    res = RUNNER.invoke(main, ["table", str(p), "-f", "csv"])
    assert time.monotonic() - start < 15
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 1 + 10_000 + 1
    total = next(csv.DictReader(io.StringIO(lines[0] + "\n" + lines[-1])))
    assert (total["name"], total["madds"], total["params"]) == (
        "total", str(1536 + 9999 * 4096), str(24 + 9999 * 64))


# ---------------------------------------------------------------- real processes

@pytest.mark.parametrize("text", [
    b"name: x\ninput: [1, 2\n",
    b"a: &a [1, *a]\n",
    b"\xff\xfe\x00",
    b"name: x\ninput: [32, 32, 3]\nlayers:\n  - conv: {k: \"__import__('os')\", out: 8}\n",
])
def test_real_process_prints_one_line_and_no_traceback(tmp_path, text):
    p = tmp_path / "t.yaml"
    p.write_bytes(text)
    proc = subprocess.run([sys.executable, "-m", "mbcost", "table", str(p)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith(f"{p}:")
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------- command-line values and rendering

@pytest.mark.parametrize("args,want", [
    (("--alpha", "1e-999999999"), "alpha must be a short decimal number, got '1e-999999999'"),
    (("--rho", "1e999999999"), "rho must be a short decimal number, got '1e999999999'"),
    (("--rho", "1e999"), "rho must be a short decimal number, got '1e999'"),
    (("--rho", "1e99"), "rho 1e99 x 224 px exceeds the 16384 px limit"),
    (("--alpha", "nan"), "alpha must be a positive number, got 'nan'"),
    (("--alpha", "1/0"), "alpha must be a positive number, got '1/0'"),
    (("--alpha", "65"), "alpha must be in (0, 64], got 65"),
])
def test_huge_or_bad_alpha_and_rho_end_fast(args, want):
    start = time.monotonic()
    res = RUNNER.invoke(main, ["table", "mobilenet_v1", *args])
    assert time.monotonic() - start < 5
    assert (res.exit_code, res.stdout, res.stderr) == (2, "", want + "\n")


@pytest.mark.parametrize("fmt", [("-f", "table", "--all"), ("--by", "kind"), ("-f", "markdown")])
def test_markup_in_names_is_shown_literally(tmp_path, fmt):
    # rich would read "[/bold]" as a closing tag and fail; names and titles are plain text
    p = tmp_path / "m.yaml"
    p.write_text('name: "[/x]"\ntitle: "[/y]"\ninput: [8, 8, 3]\n'
                 'layers:\n  - conv: {name: "[/bold]", k: 1, out: 8}\n  - relu: {name: "[red]r"}\n')
    res = RUNNER.invoke(main, ["table", str(p), *fmt])
    assert res.exit_code == 0, res.stderr
    assert ("\\[/y\\]" if "markdown" in fmt else "[/y]") in res.stdout  # Markdown escapes links
    if "--all" in fmt:
        assert "[/bold]" in res.stdout and "[red]r" in res.stdout


def test_megabyte_names_give_a_bounded_line(tmp_path):
    from mbcost.errors import MAX_MESSAGE

    path, line = bad(tmp_path, H + "layers:\n  - ? " + "a" * 100_000 + "\n    : {}\n")
    assert line.startswith(f"{path}:5: unknown layer kind 'aaa") and line.endswith("...")
    assert len(line) == MAX_MESSAGE


def test_a_name_too_long_for_the_file_system_is_bad_input(tmp_path):
    # 300 characters exceed NAME_MAX (255): Path.exists() raises OSError instead of saying no
    res = CliRunner().invoke(main, ["table", "x" * 300])
    assert res.exit_code == 2, res.output
    assert "no such spec file or bundled spec" in res.stderr


def test_a_closed_pipe_ends_quietly():
    # `mbcost list | head -1`: the reader goes away; no internal error, no traceback
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-m", "mbcost", "table", "efficientnet_b7", "--all",
                          "--exact"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait() == 0, err
    assert err == ""


def test_a_block_with_a_number_for_an_argument_name(tmp_path):
    # found by the long fuzz run: a non-text key among a block's args broke the
    # 'did you mean' suggestion for a misspelled argument (exit 3, TypeError)
    text = H + ("blocks:\n  b:\n    args: {t: null, 1}\n    layers: [relu]\n"
                "layers:\n  - b: {t: 1, c: 16}\n")
    path, line = bad(tmp_path, text)
    assert line == (f"{path}:8: layer 'b': field 'c': block 'b' has no argument 'c'; its "
                    "arguments: t, 1 (and n, name, when)")
