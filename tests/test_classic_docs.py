"""docs/classic-networks.md: every example is a spec that analyzes to the numbers derived by
hand here (MobileNets §3: conv D_K·D_K·M·N·D_F², pointwise M·N·D_F², FC M·N), its blocks are
the bundled spec's, and what the guide says about `when:`, `concat.from` and name collisions
is what the builder does."""

import re
from pathlib import Path

import pytest
import yaml

import mbcost
from mbcost.cli import main

from clirunner import CliRunner

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "classic-networks.md"
SPECS = ROOT / "mbcost" / "specs"


def examples():
    text = GUIDE.read_text(encoding="utf-8")
    found = re.findall(r"<!-- classic-example: (\w+)[^>]*-->\s*```yaml\n(.*?)```", text, re.S)
    return {name: yaml.safe_load(body) for name, body in found}


def bundled(name):
    return yaml.safe_load((SPECS / f"{name}.yaml").read_text(encoding="utf-8"))


def rows(spec, **kw):
    return {r.name: r for r in mbcost.analyze(spec, **kw).rows}


def test_the_guide_has_its_examples_and_marked_places():
    text = GUIDE.read_text(encoding="utf-8")
    assert set(examples()) == {"shortcut", "inception", "fire", "shufflenet", "dense", "aux",
                               "convnext"}
    assert "classic-place" not in text  # no section is left waiting for its spec


def test_projection_shortcut_is_resnet18s_block():
    d = examples()["shortcut"]
    assert d["blocks"]["basic"] == bundled("resnet18")["blocks"]["basic"]
    r = rows(d, convention="weights")
    # only layer2 projects: stride 2 and 64 -> 128, a strided 1x1 conv on the 56x56x64 input
    assert [n for n in r if "downsample" in n] == ["layer2/add/b2/downsample",
                                                   "layer2/add/b2/downsample.bn"]
    macs = (2 * 9 * 64 * 64 * 56 * 56  # layer1: two 3x3 64 -> 64 at 56x56
            + 9 * 64 * 128 * 28 * 28 + 9 * 128 * 128 * 28 * 28  # layer2's 3x3 convs at 28x28
            + 64 * 128 * 28 * 28)  # the projection
    a = mbcost.analyze(d, convention="weights")
    assert a.madds == macs
    assert a.params == 2 * 9 * 64 * 64 + 9 * 64 * 128 + 9 * 128 * 128 + 64 * 128
    assert r["layer2/add"].output == (28, 28, 128)


def test_inception_module_is_googlenets_blocks():
    d = examples()["inception"]
    g = bundled("googlenet")["blocks"]
    assert d["blocks"] == {"basic": g["basic"], "inception": g["inception"]}
    a = mbcost.analyze(d)
    hw = 28 * 28
    assert a.madds == hw * (192 * 64 + 192 * 96 + 9 * 96 * 128 + 192 * 16 + 9 * 16 * 32 + 192 * 32)
    assert a.rows[-1].output == (28, 28, 64 + 128 + 32 + 32)
    # every BasicConv2d's ReLU is functional: ptflops counts it once (bias-free convs, BN 2/elem)
    conv_out = hw * (64 + 96 + 128 + 16 + 32 + 32)
    pools = 2 * hw * 192  # the 3x3 max pool module: 1 per input element, twice as a module
    assert mbcost.analyze(d, convention="ptflops").madds == a.madds + 2 * conv_out + conv_out + pools


def test_fire_module_is_squeezenet1_0s():
    d = examples()["fire"]
    assert d["blocks"]["fire"] == bundled("squeezenet1_0")["blocks"]["fire"]
    hw = 54 * 54
    a = mbcost.analyze(d)
    assert a.madds == hw * (96 * 16 + 16 * 64 + 9 * 16 * 64)
    assert a.params == (96 * 16 + 16) + (16 * 64 + 64) + (9 * 16 * 64 + 64)
    assert a.rows[-1].output == (54, 54, 128)
    # torchvision's squeezenet at 224: fire2's input is 54x54x96 (conv1 7x7/2 valid: 109,
    # then MaxPool2d(3, 2, ceil_mode=True): 54)
    r = rows("squeezenet1_0")
    assert r["fire2/squeeze"].input == (54, 54, 96)


def test_shufflenet_unit_is_shufflenet_v2s():
    d = examples()["shufflenet"]
    assert d["blocks"]["unit"] == bundled("shufflenet_v2_x1_0")["blocks"]["unit"]
    big, small = 56 * 56, 28 * 28
    # unit 1 (stride 2, 24 in): branch 1 dw 3x3/2 on 24, 1x1 24 -> 58; branch 2 1x1 24 -> 58 at
    # 56x56, dw 3x3/2 on 58, 1x1 58 -> 58. Unit 2 (stride 1): the convolved half, 58 -> 58
    unit1 = 9 * 24 * small + 24 * 58 * small + 24 * 58 * big + 9 * 58 * small + 58 * 58 * small
    unit2 = 58 * 58 * small + 9 * 58 * small + 58 * 58 * small
    r = rows(d)
    assert mbcost.analyze(d).madds == unit1 + unit2
    assert r["stage2.1/shuffle"].output == r["stage2.2/shuffle"].output == (28, 28, 116)
    assert r["stage2.2/split/b2/x2"].output == (28, 28, 58)
    assert not any(n.startswith("stage2.1/split") or n.startswith("stage2.2/down") for n in r)


def test_convnext_block_is_convnext_tinys():
    d = examples()["convnext"]
    b = bundled("convnext_tiny")["blocks"]
    assert d["blocks"] == {"cnblock": b["cnblock"], "downsample": b["downsample"]}
    # per block on 56 x 56 x 96 (ConvNeXt Figure 4): 7x7 depthwise 49 * 96 D_F^2, the two
    # 1x1s (nn.Linear per position) 96 * 384 D_F^2 each; the downsample's 2x2 stride-2 conv
    # 4 * 96 * 192 at 28 x 28
    big, small = 56 * 56, 28 * 28
    block = 49 * 96 * big + 2 * 96 * 384 * big
    assert mbcost.analyze(d).madds == 3 * block + 4 * 96 * 192 * small
    # torchvision's parameters: dw 49*96 + 96, LayerNorm 2*96, Linears 96*384 + 384 and
    # 384*96 + 96, layer scale 96; the downsample's LayerNorm2d 2*96 and conv 4*96*192 + 192
    per_block = (49 * 96 + 96) + 2 * 96 + (96 * 384 + 384) + (384 * 96 + 96) + 96
    assert mbcost.analyze(d, convention="torchvision").params == (
        3 * per_block + 2 * 96 + 4 * 96 * 192 + 192)
    r = rows(d)
    assert r["stage1.3/add"].output == (56, 56, 96)
    assert r["downsample1/conv"].output == (28, 28, 192)


def test_dense_block_is_densenet121s():
    d = examples()["dense"]
    assert d["blocks"]["dense_layer"] == bundled("densenet121")["blocks"]["dense_layer"]
    r = rows(d)
    hw = 8 * 8
    # repetition 1 on 64 channels, repetition 2 on 64 + 32: 1x1 to 4 x 32, 3x3 to 32
    assert mbcost.analyze(d).madds == hw * (64 * 128 + 9 * 128 * 32 + 96 * 128 + 9 * 128 * 32)
    assert r["denseblock1.1/cat"].output == (8, 8, 96)
    assert r["denseblock1.2/cat"].output == (8, 8, 128)


def test_aux_head_is_googlenets():
    d = examples()["aux"]
    g = bundled("googlenet")
    assert d["blocks"]["basic"] == g["blocks"]["basic"]
    head = next(x["head"] for x in g["layers"] if isinstance(x, dict) and "head" in x)
    assert d["layers"][0]["head"] == head
    ev, tr = mbcost.analyze(d), mbcost.analyze(d, train=True)
    nxt = 14 * 14 * 512 * 512  # the 1x1 conv after the head, from the 14x14x512 input
    aux = 4 * 4 * 512 * 128 + 2048 * 1024 + 1024 * 1000  # torchvision's aux1: 4,169,728
    assert (ev.madds, tr.madds) == (nxt, nxt + aux) and aux == 4_169_728
    assert ev.params == 512 * 512 + 512 * 128 + 2048 * 1024 + 1024 + 1024 * 1000 + 1000
    d["vars"]["aux_logits"] = 0
    assert mbcost.analyze(d, train=True).madds == nxt


# ---------------------------------------------------------------- the rules the guide states


def _net(layers, blocks=None):
    return {"name": "n", "input": [8, 8, 4], "blocks": blocks or {}, "layers": layers}


def test_when_sees_in_c_block_in_c_classes_vars_and_block_args():
    blocks = {"b": {"args": {"c": None}, "layers": [
        {"pw": {"name": "keep", "out": "c", "when": "(block_in_c == 4) * (c == 8)"}},
        {"pw": {"name": "drop", "out": "c", "when": "in_c == 4"}}]}}
    d = _net([{"b": {"name": "x", "c": 8, "when": "(in_c == 4) * (classes == 1000) * v"}}], blocks)
    d["vars"] = {"v": 1}
    assert [r.name for r in mbcost.analyze(d).rows] == ["x/keep"]
    d["vars"] = {"v": 0}
    assert mbcost.analyze(d).rows == []


def test_concat_from_one_name_repeated_names_and_add():
    d = _net([{"conv": {"name": "a", "k": 1, "out": 4}},
              {"concat": {"name": "twice", "from": ["a", "a"]}},
              {"concat": {"name": "again", "from": "a"}},
              {"add": {"name": "sum", "from": ["again", "a"]}}])
    r = rows(d, convention="ptflops")
    assert r["twice"].output == (8, 8, 8) and r["again"].output == (8, 8, 4)
    # add: the current tensor ('again') first, 'a' once more: one add per element
    assert r["sum"].madd_terms == {"add": 8 * 8 * 4}


def test_a_block_call_named_like_a_repetition_collides(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text("name: net\ninput: [8, 8, 4]\nblocks:\n  b:\n    layers:\n"
                    "      - conv: {name: c, k: 1, out: 4}\nlayers:\n"
                    "  - b: {name: stage2, n: 3}\n  - b: {name: stage2.1}\n")
    r = CliRunner().invoke(main, ["table", str(path)])
    assert r.exit_code == 2
    assert r.stderr == f"{path}:6: layer 'stage2.1/c': duplicate layer name\n"
    assert "layer 'stage2.1/c': duplicate layer name" in GUIDE.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["googlenet", "inception_v3", "resnet18", "densenet121"])
def test_the_bundled_specs_the_guide_names_exist(name):
    assert name in mbcost.bundled_names()
