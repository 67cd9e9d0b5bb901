"""The classic CNN baselines (ResNet, ResNeXt, Wide ResNet, MnasNet, DenseNet) against
torchvision, and every peer preset against what its counter printed on the torchvision model.

Where the numbers come from:
- tests/reference/torchvision_counts.json: counts made with torch 2.14.1 / torchvision 0.29.1
  and the peer counters by tools/reference_counts.py (committed; see tools/README.md; never
  run by the suite). Its `source` header names the script, its hash and the versions.
- The walkers below, written from torchvision's module code (resnet.py, mnasnet.py,
  densenet.py) and independent of mbcost, derive MACs, parameters and BN elements by hand.
- The issue's anchors: resnet50 4,089,184,256 MACs / 25,557,032 params (torchvision's
  metadata, _ops 4.089 and num_params); mnasnet1_0 314,415,872 / 4,383,312 (derived by hand
  from mnasnet.py, here by `mnasnet_walk`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from clirunner import CliRunner

import mbcost
from mbcost.cli import main
from refspecs import spec_for

ROOT = Path(__file__).resolve().parent.parent
REF = json.loads((ROOT / "tests" / "reference" / "torchvision_counts.json").read_text(encoding="utf-8"))
ENTRIES = {(e["model"], e["resolution"]): e for e in REF["entries"]}
CLASSIC = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
           "wide_resnet50_2", "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3",
           "densenet121"]
PRESETS = ["fvcore", "ptflops", "ptflops_aten", "thop", "torchprofile"]


def raw(a):
    """Raw mult-add counts by category, summed over an analysis's rows."""
    n = Counter()
    for r in a.rows:
        n.update(r.madd_terms)
    return n


# ---------------------------------------------------------------- the walkers

def conv(n, x, out, k=1, s=1, g=1, bn=True):
    """nn.Conv2d(c, out, k, stride s, padding k // 2, groups g, bias=False) [+ BatchNorm2d]
    on x = (size, channels): output size floor((h + 2p - k) / s) + 1."""
    h, c = x
    ho = (h + 2 * (k // 2) - k) // s + 1
    n["macs"] += k * k * (c // g) * out * ho * ho
    n["params"] += k * k * (c // g) * out
    if bn:
        norm(n, (ho, out))
    return ho, out


def norm(n, x):
    """BatchNorm2d: gamma and beta are parameters; one output element per input element."""
    h, c = x
    n["params"] += 2 * c
    n["bn"] += c * h * h


def maxpool(x):
    """nn.MaxPool2d(3, stride=2, padding=1), the ResNet and DenseNet stem pool."""
    return (x[0] + 2 - 3) // 2 + 1, x[1]


def fc(n, c, out=1000):
    """nn.Linear(c, out) after the global average pool."""
    n["macs"] += c * out
    n["params"] += c * out + out


def resnet_walk(res, block, layers, groups=1, width_per_group=64):
    """torchvision resnet.py: ResNet._make_layer, BasicBlock, Bottleneck (stride on the 3x3)."""
    n = Counter()
    x = maxpool(conv(n, (res, 3), 64, k=7, s=2))
    for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers)):
        for b in range(blocks):
            s = 2 if i > 0 and b == 0 else 1
            if block == "basic":
                y = conv(n, conv(n, x, planes, k=3, s=s), planes, k=3)
            else:
                width = int(planes * (width_per_group / 64.0)) * groups
                y = conv(n, conv(n, conv(n, x, width), width, k=3, s=s, g=groups), 4 * planes)
            if s != 1 or x[1] != y[1]:  # downsample = conv1x1(stride) + BN
                conv(n, x, y[1], s=s)
            x = y
    n["final_size"] = x[0]
    fc(n, x[1])
    return n


def round_to_multiple_of(val, divisor=8):
    """torchvision mnasnet.py _round_to_multiple_of, round_up_bias 0.9."""
    new = max(divisor, int(val + divisor / 2) // divisor * divisor)
    return new if new >= 0.9 * val else new + divisor


def mnasnet_walk(res, alpha):
    """torchvision mnasnet.py MNASNet(alpha): depths, stem, separable conv, _stack x 6, head."""
    d = [round_to_multiple_of(v * alpha) for v in (32, 16, 24, 40, 80, 96, 192, 320)]
    n = Counter()
    x = conv(n, (res, 3), d[0], k=3, s=2)
    x = conv(n, x, d[0], k=3, g=d[0])
    x = conv(n, x, d[1])
    # _stack(in, out, kernel, stride, expansion, repeats)
    for (k, s, t, repeats), out in zip([(3, 2, 3, 3), (5, 2, 3, 3), (5, 2, 6, 3), (3, 1, 6, 2),
                                        (5, 2, 6, 4), (3, 1, 6, 1)], d[2:]):
        for i in range(repeats):
            mid = x[1] * t
            y = conv(n, conv(n, x, mid), mid, k=k, s=s if i == 0 else 1, g=mid)
            x = conv(n, y, out)
    x = conv(n, x, 1280)
    n["final_size"] = x[0]
    fc(n, 1280)
    return n


def densenet121_walk(res):
    """torchvision densenet.py DenseNet(32, (6, 12, 24, 16), 64): BN-ReLU-conv layers."""
    n = Counter()
    x = maxpool(conv(n, (res, 3), 64, k=7, s=2))
    for i, layers in enumerate((6, 12, 24, 16)):
        for _ in range(layers):
            norm(n, x)  # norm1 on the concatenation so far
            y = conv(n, x, 4 * 32)  # conv1, then norm2
            y = conv(n, y, 32, k=3, bn=False)  # conv2
            x = (x[0], x[1] + 32)
        if i < 3:  # _Transition: norm, relu, conv1x1 to num_features // 2, AvgPool2d(2, 2)
            norm(n, x)
            x = conv(n, x, x[1] // 2, bn=False)
            x = (x[0] // 2, x[1])
    norm(n, x)  # norm5
    n["final_size"] = x[0]
    fc(n, x[1])
    return n


WALKS = {
    "resnet18": lambda r: resnet_walk(r, "basic", (2, 2, 2, 2)),
    "resnet34": lambda r: resnet_walk(r, "basic", (3, 4, 6, 3)),
    "resnet50": lambda r: resnet_walk(r, "bottleneck", (3, 4, 6, 3)),
    "resnet101": lambda r: resnet_walk(r, "bottleneck", (3, 4, 23, 3)),
    "resnet152": lambda r: resnet_walk(r, "bottleneck", (3, 8, 36, 3)),
    "resnext50_32x4d": lambda r: resnet_walk(r, "bottleneck", (3, 4, 6, 3), 32, 4),
    "wide_resnet50_2": lambda r: resnet_walk(r, "bottleneck", (3, 4, 6, 3), 1, 128),
    "mnasnet0_5": lambda r: mnasnet_walk(r, 0.5),
    "mnasnet0_75": lambda r: mnasnet_walk(r, 0.75),
    "mnasnet1_0": lambda r: mnasnet_walk(r, 1.0),
    "mnasnet1_3": lambda r: mnasnet_walk(r, 1.3),
    "densenet121": densenet121_walk,
}


# ---------------------------------------------------------------- the reference file

def test_reference_file_names_its_source():
    src = REF["source"]
    script = (ROOT / src["script"]).read_bytes()
    assert hashlib.sha256(script).hexdigest() == src["script_sha256"]
    assert src["versions"]["torch"].startswith("2.14.1")
    assert src["versions"]["torchvision"].startswith("0.29.1")
    assert (src["versions"]["fvcore"], src["versions"]["ptflops"],
            src["versions"]["torchprofile"]) == ("0.1.5.post20221221", "0.7.5", "0.1.0")
    assert src["versions"]["thop"].startswith("0.1.1")
    # every classic baseline at its native size and at 160 px
    assert {(m, r) for m in CLASSIC for r in (224, 160)} <= set(ENTRIES)


def test_the_issue_anchors():
    # issue 11: resnet50 4,089,184,256 / 25,557,032 (torchvision _ops 4.089, num_params);
    # mnasnet1_0 314,415,872 / 4,383,312 derived by hand from mnasnet.py (mnasnet_walk)
    anchors = {"resnet50": (4_089_184_256, 25_557_032), "mnasnet1_0": (314_415_872, 4_383_312)}
    for name, (macs, params) in anchors.items():
        w = WALKS[name](224)
        assert (w["macs"], w["params"]) == (macs, params)
        a = mbcost.analyze(name, convention="torchvision")
        assert (a.madds, a.params) == (macs, params)
        e = ENTRIES[(name, 224)]
        assert (e["conv_linear_macs"], e["params"]) == (macs, params)


def test_cli_prints_the_resnet50_anchor():
    r = CliRunner().invoke(main, ["table", "resnet50", "--convention", "torchvision"])
    assert r.exit_code == 0, r.output
    assert re.search(r"Total.*4,089,184,256.*25,557,032", r.output)


# ---------------------------------------------------------------- torchvision, exactly

@pytest.mark.parametrize("res", [224, 160])
@pytest.mark.parametrize("name", CLASSIC)
def test_walker_matches_torch(name, res):
    w, e = WALKS[name](res), ENTRIES[(name, res)]
    assert (w["macs"], w["params"], w["bn"]) == (e["conv_linear_macs"], e["params"], e["bn_out_elems"])


@pytest.mark.parametrize("res", [224, 160])
@pytest.mark.parametrize("name", CLASSIC)
def test_torchvision_convention_is_exact(name, res):
    e = ENTRIES[(name, res)]
    a = mbcost.analyze(name, resolution=res, convention="torchvision")
    assert (a.madds, a.params) == (e["conv_linear_macs"], e["params"])
    assert raw(a)["bn"] == e["bn_out_elems"]


@pytest.mark.parametrize("name", CLASSIC)
def test_published_metadata(name):
    # torchvision's num_params and _ops (GFLOPS, really GMACs, to 3 decimals) of the default weights
    pub = ENTRIES[(name, 224)]["published"]
    a = mbcost.analyze(name, convention="torchvision")
    assert a.params == pub["num_params"]
    assert round(a.madds / 1e9, 3) == pub["ops_gflops"]


# ---------------------------------------------------------------- the peer presets

@pytest.mark.parametrize("name, res", sorted(ENTRIES))
def test_peer_presets(name, res):
    e = ENTRIES[(name, res)]
    for preset in PRESETS:
        a = mbcost.analyze(spec_for(name), resolution=res, convention=preset)
        peer = e["peers"][preset]
        printed = peer["flops_total"] if preset == "fvcore" else peer["macs"]
        assert a.madds == printed, preset
        if "params" in peer:
            assert a.params == peer["params"], preset


@pytest.mark.parametrize("name, res", sorted(ENTRIES))
def test_fvcore_by_operator(name, res):
    # fvcore's per-operator totals are mbcost's raw categories: conv + linear = MACs, batch_norm =
    # 2 per BN element, adaptive_avg_pool2d = the input elements of every pool it sees
    e = ENTRIES[(name, res)]
    ops, unsupported = e["peers"]["fvcore"]["flops_by_operator"], e["peers"]["fvcore"]["flops_unsupported_ops"]
    n = raw(mbcost.analyze(spec_for(name), resolution=res))
    assert ops["conv"] + ops.get("linear", 0) == n["mac"]
    assert ops["batch_norm"] == 2 * n["bn"]
    # x.mean([2, 3]) (`call: method`) is aten::mean: unsupported, and not a pool
    assert ops.get("adaptive_avg_pool2d", 0) == n["pool.global.in"]
    assert unsupported.get("aten::mean", 0) == (1 if n["pool.global.method.in"] else 0)


@pytest.mark.parametrize("res", [224, 160])
def test_call_styles_where_torchvision_has_them(res):
    # mnasnet.py ends with x.mean([2, 3]), a tensor method: 1280 x f x f input elements that
    # fvcore, ptflops and thop do not count, torchprofile counts once per output (1280)
    for name in ("mnasnet0_5", "mnasnet1_0"):
        f = WALKS[name](res)["final_size"]
        n = raw(mbcost.analyze(name, resolution=res))
        assert (n["pool.global.method.in"], n["pool.global.method.out"]) == (1280 * f * f, 1280)
        assert n["pool.global.in"] == n["pool.global.out"] == 0
    # densenet.py's forward: F.relu after norm5 (1024 x f x f, once in ptflops), every other
    # ReLU an nn.ReLU module (twice in ptflops)
    f = WALKS["densenet121"](res)["final_size"]
    n = raw(mbcost.analyze("densenet121", resolution=res))
    assert n["act.relu"] - n["act.relu.module"] == 1024 * f * f


# ---------------------------------------------------------------- the specs themselves

SPECS = ROOT / "mbcost" / "specs"


@pytest.mark.parametrize("child,parent,changes", [
    ("resnet34", "resnet18.yaml", {"vars": {"n1": 3, "n2": 4, "n3": 6, "n4": 3}}),
    ("resnet101", "resnet50.yaml", {"vars": {"n3": 23}}),
    ("resnet152", "resnet50.yaml", {"vars": {"n2": 8, "n3": 36}}),
    ("resnext50_32x4d", "resnet50.yaml", {"vars": {"groups": 32, "width_per_group": 4},
                                          "width": {"divisor": 32}}),
    ("wide_resnet50_2", "resnet50.yaml", {"vars": {"width_per_group": 128}}),
    ("mnasnet0_5", "mnasnet1_0.yaml", {"width": {"multiplier": 0.5}}),
    ("mnasnet0_75", "mnasnet1_0.yaml", {"width": {"multiplier": 0.75}}),
    ("mnasnet1_3", "mnasnet1_0.yaml", {"width": {"multiplier": 1.3}}),
])
def test_variants_come_from_one_base(child, parent, changes):
    data = yaml.safe_load((SPECS / f"{child}.yaml").read_text(encoding="utf-8"))
    assert data["extends"] == parent
    assert {k: data[k] for k in changes} == changes
    assert "layers" not in data and "blocks" not in data


def test_projection_shortcuts_where_torchvision_has_them():
    # torchvision: downsample when stride != 1 or inplanes != planes * expansion, i.e. in the
    # first block of every stage, except ResNet-18/34's layer1 (64 -> 64, stride 1)
    for name, stages in (("resnet18", (2, 2, 2, 2)), ("resnet50", (3, 4, 6, 3))):
        rows = {r.name: r for r in mbcost.analyze(name).rows}
        got = sorted(n.split("/")[0] for n in rows if n.endswith("/downsample"))
        first = 2 if name == "resnet18" else 1
        assert got == [f"layer{i}.1" for i in range(first, 5)]
        for i, n in enumerate(stages, 1):  # the residual add ends every block, then a ReLU
            assert all(f"layer{i}.{b}/add" in rows and f"layer{i}.{b}/relu1" in rows
                       for b in range(1, n + 1))


@pytest.mark.parametrize("alpha", [0.3, 0.5, 0.75, 1.3, 2])
def test_resnext_groups_divide_at_any_width(alpha):
    # channels round to multiples of 32 so that cardinality 32 divides every grouped conv
    a = mbcost.analyze("resnext50_32x4d", alpha=alpha, resolution=160)
    grouped = [r for r in a.rows if r.op.endswith("grouped")]
    assert len(grouped) == 16 and all(r.input[2] % 32 == 0 for r in grouped)


def test_densenet_transition_halves_the_channels():
    # _Transition(num_features, num_features // 2): 256 -> 128, 512 -> 256, 1024 -> 512; the
    # classifier sees 1024 channels; at alpha 0.5 the growth is 16 and the halving still floors
    rows = {r.name: r for r in mbcost.analyze("densenet121").rows}
    assert [rows[f"transition{i}/conv"].output[2] for i in (1, 2, 3)] == [128, 256, 512]
    assert rows["classifier"].input[2] == 1024
    half = {r.name: r for r in mbcost.analyze("densenet121", alpha=0.5).rows}
    c = 32 + 6 * 16  # stem 64 * 0.5, then six layers of growth 16
    assert (half["transition1/conv"].input[2], half["transition1/conv"].output[2]) == (c, c // 2)


# ---------------------------------------------------------------- the docs' example

def _shortcut_example():
    text = (ROOT / "docs" / "spec-format.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- shortcut-example[^>]*-->\s*```yaml\n(.*?)```", text, re.S)
    assert m, "docs/spec-format.md lost its <!-- shortcut-example --> yaml block"
    return yaml.safe_load(m.group(1))


def test_docs_shortcut_example_is_the_bundled_block():
    bundled = yaml.safe_load((SPECS / "resnet18.yaml").read_text(encoding="utf-8"))
    assert _shortcut_example()["blocks"]["basic"] == bundled["blocks"]["basic"]


def test_docs_shortcut_example_analyzes():
    rows = {r.name: r for r in mbcost.analyze(_shortcut_example()).rows}
    # a projection only in stage2.1 (stride 2, 16 -> 32): 1x1 weights 16 * 32, BN 2 * 32
    assert [n for n in rows if "downsample" in n] == ["stage2.1/add/b2/downsample",
                                                      "stage2.1/add/b2/downsample.bn"]
    assert rows["stage2.1/add/b2/downsample"].params == 16 * 32
    assert rows["stage2.1/add/b2/downsample"].output == (16, 16, 32)
    # every block adds its two branches (identity or projection), then a ReLU
    for b in ("stage1.1", "stage1.2", "stage2.1", "stage2.2"):
        assert rows[f"{b}/add"].kind == "add" and f"{b}/relu1" in rows
    assert rows["stage2.2/add"].input == rows["stage2.2/add"].output == (16, 16, 32)


# ---------------------------------------------------------------- the README

def _readme_section():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("### Classic CNNs")[1].split("\n## ")[0]


def _num(cell):
    return int(cell.strip().replace(",", "").replace("+", ""))


def test_readme_table_is_what_mbcost_counts():
    table = _readme_section().split("| spec | extends |")[1].split("\n\n")[0]
    rows = [line.strip("|").split("|") for line in table.splitlines() if line.startswith("| `")]
    assert [r[0].strip().strip("`") for r in rows] == CLASSIC
    for name, parent, params, m224, m160 in rows:
        name = name.strip().strip("`")
        a = mbcost.analyze(name, convention="torchvision")
        b = mbcost.analyze(name, convention="torchvision", resolution=160)
        assert (_num(params), _num(m224), _num(m160)) == (a.params, a.madds, b.madds), name
        data = yaml.safe_load((SPECS / f"{name}.yaml").read_text(encoding="utf-8"))
        assert parent.strip().strip("`") == data.get("extends", "").removesuffix(".yaml")
