"""GoogLeNet and Inception-v3 (issue 11) against torchvision, with their auxiliary classifiers
as train-only heads (the `head` kind).

Where the numbers come from:
- tests/reference/torchvision_counts.json (tools/reference_counts.py with torch 2.14.1 /
  torchvision 0.29.1; see tools/README.md): params, conv+FC MACs and BN output elements from
  forward hooks in eval, the training graph's conv+FC MACs (hooks_train_graph, aux heads
  running) and its per-head MACs, the aux heads' parameters, torchvision's published metadata.
  The peer presets are checked for these entries in tests/test_baselines.py.
- The issue's anchors: googlenet 6,624,904 params / 1,498,376,192 MACs (torchvision's
  num_params and _ops 1.498 of its published weights, which have no aux heads); inception_v3
  27,161,264 params with its aux head (num_params), 5.713 GMACs (_ops, the eval path).
- Hand derivations in the tests from torchvision's googlenet.py / inception.py.
"""

import json
import re
from pathlib import Path

import pytest

import mbcost
from mbcost.cli import main

from clirunner import CliRunner
from refspecs import spec_for

ROOT = Path(__file__).resolve().parent.parent
REF = json.loads((ROOT / "tests" / "reference" / "torchvision_counts.json").read_text(encoding="utf-8"))
ENTRIES = {(e["model"], e["resolution"]): e for e in REF["entries"]}
MODELS = ("googlenet", "googlenet_aux", "inception_v3", "inception_v3_aux")
KEYS = sorted(k for k in ENTRIES if k[0] in MODELS)


def test_every_entry_at_native_size_and_160():
    assert KEYS == sorted((m, r) for m in MODELS
                          for r in (160, 299 if m.startswith("inception") else 224))


@pytest.mark.parametrize("model, res", KEYS)
def test_torchvision_convention_is_exact(model, res):
    e = ENTRIES[model, res]
    a = mbcost.analyze(spec_for(model), resolution=res, convention="torchvision")
    assert (a.madds, a.params) == (e["conv_linear_macs"], e["params"])
    assert sum(r.madd_terms.get("bn", 0) for r in a.rows) == e["bn_out_elems"]


def test_the_issue_anchors():
    g = mbcost.analyze("googlenet", convention="torchvision")
    assert (g.madds, g.params) == (1_498_376_192, 6_624_904)
    i = mbcost.analyze("inception_v3", convention="torchvision")
    assert i.params == 27_161_264
    for name in ("googlenet", "inception_v3"):
        pub = ENTRIES[name, 299 if name == "inception_v3" else 224]["published"]
        a = mbcost.analyze(name, convention="torchvision")
        assert a.params == pub["num_params"]
        assert round(a.madds / 1e9, 3) == pub["ops_gflops"]


@pytest.mark.parametrize("model, res", [k for k in KEYS if k[0].endswith("_aux")])
def test_the_training_graph_runs_the_aux_heads(model, res):
    aux = ENTRIES[model, res]["aux"]
    spec = spec_for(model)
    a = mbcost.analyze(spec, resolution=res, convention="torchvision")
    heads = {r.head for r in a.rows if r.head}
    assert heads == {"aux1", "aux2"} if model.startswith("googlenet") else heads == {"AuxLogits"}
    assert sum(r.params for r in a.rows if r.head) == aux["params_aux_heads"]
    assert all(r.madds == 0 for r in a.rows if r.head)
    if aux["train_error"]:
        # torch cannot run Inception-v3's AuxLogits at 160 px (its 5x5 conv meets a 2x2 map);
        # neither can mbcost with --train, but eval holds its parameters as torch's model does
        assert "Kernel size" in aux["train_error"]
        with pytest.raises(mbcost.SpecError, match="AuxLogits/conv1"):
            mbcost.analyze(spec, resolution=res, train=True)
        return
    t = mbcost.analyze(spec, resolution=res, convention="torchvision", train=True)
    assert t.madds == aux["train_conv_linear_macs"]
    per_head = {h: sum(r.madds for r in t.rows if r.head == h) for h in heads}
    assert per_head == aux["train_aux_head_macs"]


def test_aux_head_macs_by_hand():
    # googlenet.py InceptionAux: F.adaptive_avg_pool2d(x, (4, 4)), conv 1x1 to 128, fc 2048 ->
    # 1024, fc 1024 -> 1000: 4*4*C*128 + 2048*1024 + 1024*1000 with C = 512 (aux1), 528 (aux2)
    g = mbcost.analyze(spec_for("googlenet_aux"), train=True)
    for head, c in (("aux1", 512), ("aux2", 528)):
        assert sum(r.madds for r in g.rows if r.head == head) == 16 * c * 128 + 2048 * 1024 + 1024 * 1000
    # inception.py InceptionAux on Mixed_6e's 17x17x768: F.avg_pool2d(5, stride 3) -> 5x5,
    # conv0 1x1 to 128, conv1 5x5 (valid) to 768 on 1x1, fc 768 -> 1000
    i = mbcost.analyze("inception_v3", train=True)
    rows = {r.name: r for r in i.rows if r.head}
    assert rows["AuxLogits/avg_pool"].output == (5, 5, 768)
    assert rows["AuxLogits/conv1/conv"].output == (1, 1, 768)
    assert sum(r.madds for r in rows.values()) == 25 * 768 * 128 + 25 * 128 * 768 + 768 * 1000


def test_googlenet_pools_round_up():
    # torchvision's MaxPool2d(3, 2, ceil_mode=True): 112 -> 56 -> 28 -> 14, MaxPool2d(2, 2,
    # ceil_mode=True) 14 -> 7; at 160: 80 -> 40 -> 20 -> 10 -> 5
    for res, sizes in ((224, (56, 28, 14, 7)), (160, (40, 20, 10, 5))):
        rows = {r.name: r for r in mbcost.analyze("googlenet", resolution=res).rows}
        assert tuple(rows[f"maxpool{i}"].output[0] for i in (1, 2, 3, 4)) == sizes


def test_inception_v3_by_kind_has_rectangular_kernels():
    # inception.py: InceptionC (Mixed_6b-6e) has three 1x7 and three 7x1 convs, InceptionD
    # (Mixed_7a) one of each; InceptionE (Mixed_7b, 7c) two 1x3 and two 3x1
    r = CliRunner().invoke(main, ["table", "inception_v3", "--by", "kind", "-f", "json"])
    assert r.exit_code == 0, r.stderr
    kinds = {k["type"]: k for k in json.loads(r.stdout)["kinds"]}
    assert {t: kinds[t]["layers"] for t in ("Conv 1x7", "Conv 7x1", "Conv 1x3", "Conv 3x1")} == {
        "Conv 1x7": 13, "Conv 7x1": 13, "Conv 1x3": 4, "Conv 3x1": 4}
    # the aux head's layers are their own types, with no eval mult-adds
    assert kinds["Conv 5x5 [train]"]["madds"] == 0 and kinds["Conv 5x5 [train]"]["params"] == 25 * 128 * 768
    text = CliRunner().invoke(main, ["table", "inception_v3", "--by", "kind"]).stdout
    assert re.search(r"Conv 1x7 +\| +13 ", text) and re.search(r"Conv 7x1 +\| +13 ", text)


def test_list_shows_both():
    r = CliRunner().invoke(main, ["list", "-f", "json"])
    names = {s["name"] for s in json.loads(r.stdout)["specs"]}
    assert {"googlenet", "inception_v3"} <= names


def test_cli_train_prints_the_training_graph():
    r = CliRunner().invoke(main, ["table", "googlenet", "-c", "torchvision"])
    assert re.search(r"Total.*1,498,376,192.*6,624,904", r.stdout)
    r = CliRunner().invoke(main, ["table", "inception_v3", "-c", "torchvision", "--train"])
    assert r.exit_code == 0, r.stderr
    assert re.search(r"Total.*5,718,899,296.*27,161,264", r.stdout)
    r = CliRunner().invoke(main, ["table", "inception_v3", "--res", "160", "--train"])
    assert r.exit_code == 2 and r.stderr.count("\n") == 1
    assert "inception_v3.yaml:" in r.stderr and "AuxLogits/conv1" in r.stderr
