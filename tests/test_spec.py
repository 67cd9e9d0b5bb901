"""Loading specs: by path and bundled name from any folder; located errors; extends."""

from fractions import Fraction
from pathlib import Path

import pytest

import mbcost
from mbcost.errors import SpecError
from mbcost import spec as spec_module
from mbcost.spec import bundled_dir, load_spec

V1_PATH = bundled_dir() / "mobilenet_v1.yaml"
TINY = "mbcost: 1\nname: tiny\ninput: [8, 8, 3]\nlayers:\n  - conv: {k: 3, out: 8}\n"


def write(tmp_path, text, name="net.yaml"):
    """Write a spec file and return its path."""
    p = tmp_path / name
    p.write_text(text)
    return p


def load_error(path):
    """The SpecError raised by loading path."""
    with pytest.raises(SpecError) as e:
        load_spec(path)
    return e.value


@pytest.mark.parametrize("ref", ["mobilenet_v1", "mobilenet_v1.yaml"])
def test_bundled_name_from_any_cwd(ref, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no specs/ folder here
    s = load_spec(ref)
    assert s.name == "mobilenet_v1"
    assert s.input == (224, 224, 3) and s.classes == 1000
    assert Path(s.path) == V1_PATH


def test_load_by_path(tmp_path, monkeypatch):
    p = write(tmp_path, TINY)
    assert load_spec(p).name == "tiny"
    assert load_spec(str(p)).name == "tiny"
    monkeypatch.chdir(tmp_path)
    assert load_spec("net.yaml").path == "net.yaml"


def test_existing_path_wins_over_bundled_name(tmp_path, monkeypatch):
    write(tmp_path, TINY.replace("tiny", "local_copy"), "mobilenet_v1.yaml")
    monkeypatch.chdir(tmp_path)
    assert load_spec("mobilenet_v1.yaml").name == "local_copy"
    assert load_spec("mobilenet_v1").name == "mobilenet_v1"  # no such file: the bundled one


def test_unknown_spec_name_suggests():
    e = load_error("mobilenet_v7")
    assert "no such spec file or bundled spec" in str(e)
    assert "did you mean 'mobilenet_v1'" in str(e) or "did you mean 'mobilenet_v2'" in str(e)


def test_spec_from_a_dict():
    s = load_spec({"name": "d", "input": [8, 8, 3], "layers": [{"conv": {"k": 3, "out": 8}}]})
    assert s.name == "d" and s.classes == 1000


def test_unknown_top_level_key_with_suggestion(tmp_path):
    p = write(tmp_path, "mbcost: 1\nname: x\ninput: [8, 8, 3]\nlayres:\n  - conv: {k: 3, out: 8}\n")
    e = load_error(p)
    assert str(e) == f"{p}:4: field 'layres': unknown top-level field (did you mean 'layers'?)"
    assert (e.line, e.field) == (4, "layres")


@pytest.mark.parametrize("text, line, field", [
    ("mbcost: 1\ninput: [8, 8, 3]\nlayers:\n  - conv: {k: 3, out: 8}\n", 1, "name"),
    ("mbcost: 1\nname: x\nlayers:\n  - conv: {k: 3, out: 8}\n", 1, "input"),
    ("mbcost: 1\nname: x\ninput: [8, 8, 3]\n", 1, "layers"),
])
def test_missing_required_fields(tmp_path, text, line, field):
    p = write(tmp_path, text)
    e = load_error(p)
    assert (e.line, e.field) == (line, field)
    assert str(e).startswith(f"{p}:{line}: field '{field}': is required")


def test_bad_width_rule(tmp_path):
    p = write(tmp_path, "mbcost: 1\nname: x\ninput: [8, 8, 3]\nwidth: {rule: round}\n"
                        "layers:\n  - conv: {k: 3, out: 8}\n")
    assert str(load_error(p)) == (f"{p}:4: field 'width.rule': must be one of truncate, "
                                  "make_divisible, fixed (got 'round')")


def test_unknown_width_field(tmp_path):
    p = write(tmp_path, "mbcost: 1\nname: x\ninput: [8, 8, 3]\nwidth:\n  rule: truncate\n  divsor: 8\n"
                        "layers:\n  - conv: {k: 3, out: 8}\n")
    e = load_error(p)
    assert (e.line, e.field) == (6, "width.divsor")
    assert "did you mean 'divisor'" in str(e)


def test_duplicate_yaml_key(tmp_path):
    p = write(tmp_path, "mbcost: 1\nname: x\ninput: [8, 8, 3]\nname: y\nlayers:\n  - conv: {k: 3, out: 8}\n")
    assert str(load_error(p)) == f"{p}:4: duplicate key 'name'"


def test_empty_file(tmp_path):
    p = write(tmp_path, "")
    assert str(load_error(p)) == f"{p}:1: the file is empty"


def test_yaml_syntax_error_has_a_line(tmp_path):
    p = write(tmp_path, "mbcost: 1\nname: x\ninput: [8, 8, 3\nlayers:\n  - conv: {k: 3, out: 8}\n")
    e = load_error(p)
    assert e.line == 4
    assert str(e).startswith(f"{p}:4: YAML syntax error: ")
    assert "\n" not in str(e)


def test_not_a_mapping(tmp_path):
    p = write(tmp_path, "- conv\n- fc\n")
    assert "a spec must be a YAML mapping" in str(load_error(p))


@pytest.mark.parametrize("inp", ["[8, 8]", "[8, 0, 3]", "[8, 8, 3.5]", "224"])
def test_bad_input_shape(tmp_path, inp):
    p = write(tmp_path, f"mbcost: 1\nname: x\ninput: {inp}\nlayers:\n  - conv: {{k: 3, out: 8}}\n")
    e = load_error(p)
    assert (e.line, e.field) == (3, "input")


def test_unsupported_version(tmp_path):
    p = write(tmp_path, TINY.replace("mbcost: 1", "mbcost: 2"))
    e = load_error(p)
    assert (e.line, e.field) == (1, "mbcost") and "(got 2)" in str(e)


def test_yaml_tags_are_not_constructed(tmp_path):
    p = write(tmp_path, "mbcost: 1\nname: !!python/object/apply:os.system ['true']\n"
                        "input: [8, 8, 3]\nlayers: [conv]\n")
    e = load_error(p)
    assert e.line == 2


def test_extends_overrides_input_and_classes(tmp_path):
    p = write(tmp_path, "extends: mobilenet_v1\nname: dogs\ninput: [192, 192, 3]\nclasses: 120\n")
    s = load_spec(p)
    base = load_spec("mobilenet_v1")
    assert (s.name, s.input, s.classes) == ("dogs", (192, 192, 3), 120)
    assert s.layers == base.layers and s.rounding == base.rounding and s.defaults == base.defaults
    # FC 1024 -> 120 instead of 1024 -> 1000: (1000 - 120) * 1024 mult-adds fewer at any resolution
    a, b = mbcost.analyze(s), mbcost.analyze(base, resolution=192)
    assert b.madds - a.madds == (1000 - 120) * 1024


def test_extends_keeps_what_it_does_not_override(tmp_path):
    s = load_spec(write(tmp_path, "extends: mobilenet_v2\nname: v2_small\nwidth: {multiplier: 0.5}\n"))
    assert s.input == (224, 224, 3) and s.classes == 1000
    assert s.rounding.rule == "make_divisible" and s.width_multiplier == Fraction(1, 2)


def test_extends_without_a_name_is_named_after_its_file(tmp_path):
    # the README's two-line TF-slim spec: not 'mobilenet_v1' with the paper's title
    s = load_spec(write(tmp_path, "extends: mobilenet_v1\nclasses: 1001\n", "v1_1001.yaml"))
    assert s.name == "v1_1001" and s.title == "v1_1001 (extends mobilenet_v1)"
    assert s.classes == 1001 and s.input == load_spec("mobilenet_v1").input
    titled = load_spec(write(tmp_path, "extends: mobilenet_v1\ntitle: Dogs\n", "dogs.yaml"))
    assert (titled.name, titled.title) == ("dogs", "Dogs")
    named = load_spec(write(tmp_path, "extends: mobilenet_v1\nname: dogs\n", "x.yaml"))
    assert (named.name, named.title) == ("dogs", "dogs")
    # a dict has no file: the parent's name marked as a variant
    d = load_spec({"extends": "mobilenet_v1", "classes": 10})
    assert d.name == "mobilenet_v1_variant" and "extends mobilenet_v1" in d.title


def test_extends_unknown_parent_is_located(tmp_path):
    p = write(tmp_path, "mbcost: 1\nname: x\nextends: mobilenet_v9\n")
    e = load_error(p)
    assert (e.line, e.field) == (3, "extends")


def test_extends_cycle_is_refused(tmp_path):
    write(tmp_path, "name: a\nextends: b.yaml\n", "a.yaml")
    write(tmp_path, "name: b\nextends: a.yaml\n", "b.yaml")
    e = load_error(tmp_path / "a.yaml")
    assert "circular" in str(e)


def test_bundled_names_include_the_v1_specs():
    names = mbcost.bundled_names()
    assert {"mobilenet_v1", "mobilenet_v1_shallow", "mobilenet_v2"} <= set(names)
    assert names == sorted(names)


HEAD = "name: t\ninput: [32, 32, 3]\n"


@pytest.mark.parametrize("text,message", [
    # n repeats blocks; on a layer say so instead of "did you mean 'bn'?"
    (HEAD + "layers:\n  - dwsep: {k: 3, out: 8, n: 5}\n",
     "net.yaml:4: layer 'dwsep': field 'n': n (repeats) works on blocks, not on a 'dwsep' "
     "layer: put the layer in a block and repeat the block"),
    # a differently-cased activation gets its lower-case name suggested
    (HEAD + "layers:\n  - conv: {k: 3, out: 8, act: ReLU}\n",
     "net.yaml:4: layer 'conv': field 'act': unknown activation (did you mean 'relu'?); one of "
     "relu, relu6, hswish, hsigmoid, swish, silu, sigmoid, tanh, softmax, gelu, none (got 'ReLU')"),
    # defaults: what is allowed
    (HEAD + "defaults: {k: 5}\nlayers:\n  - conv: {k: 3, out: 8}\n",
     "net.yaml:3: field 'defaults.k': unknown default; defaults may set only bn and act (set "
     "other fields on each layer or in a block)"),
    # a block argument that does not exist: the block's arguments
    (HEAD + "blocks:\n  blk:\n    args: {c: null, s: 1}\n    layers: [{conv: {k: 3, out: c}}]\n"
     "layers:\n  - blk: {c: 8, zz: 2}\n",
     "net.yaml:8: layer 'blk': field 'zz': block 'blk' has no argument 'zz'; its arguments: c, s "
     "(and n, name, when)"),
    (HEAD + "blocks:\n  blk:\n    layers: [relu]\nlayers:\n  - blk: {c: 8}\n",
     "net.yaml:7: layer 'blk': field 'c': block 'blk' has no argument 'c'; 'blk' takes no "
     "arguments (only n, name, when)"),
])
def test_errors_say_what_is_allowed(tmp_path, monkeypatch, text, message):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, text)
    with pytest.raises(SpecError) as e:
        mbcost.analyze("net.yaml")
    assert str(e.value) == message


def test_case_is_suggested_first():
    assert spec_module.suggest("Conv", ["conv", "dw", "pw"]) == " (did you mean 'conv'?)"
