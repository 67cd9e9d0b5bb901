"""The peers' activation conventions (issue 12): under --convention fvcore, totals.act_elems is
fvcore's ActivationCountAnalysis total; under --convention torchinfo, mult-adds and parameters
are torchinfo's and totals.act_bytes its "Forward/backward pass size". Reference numbers:
tests/reference/torchvision_counts.json (torch 2.14.1, fvcore 0.1.5, torchinfo 1.8.0; made by
tools/reference_counts.py, subset by tools/reference_subset.py)."""

import json
from pathlib import Path

import pytest

import mbcost
from mbcost import report
from mbcost.cost import CONVENTIONS
from test_baselines import convnext_walk
from refspecs import spec_for

ROOT = Path(__file__).resolve().parent.parent
REF = json.loads((ROOT / "tests" / "reference" / "torchvision_counts.json").read_text(encoding="utf-8"))
ENTRIES = {(e["model"], e["resolution"]): e for e in REF["entries"]}


@pytest.mark.parametrize("model, res", sorted(ENTRIES))
def test_fvcore_activation_count(model, res):
    fv = ENTRIES[model, res]["peers"]["fvcore"]
    a = mbcost.analyze(spec_for(model), resolution=res, convention="fvcore", memory=True)
    totals = report.to_dict(a)["totals"]
    assert totals["act_elems"] == fv["activations_total"]
    # fvcore's by-operator split: conv outputs and linear outputs (torchvision's CNBlock runs
    # its two 1x1 convs as nn.Linear: fvcore files their outputs under linear)
    linear = ("/pwconv1", "/pwconv2") if model == "convnext_tiny" else None
    conv = sum(r.mem.act_elems for r in a.rows if r.kind in ("conv", "dw", "pw")
               and not (linear and r.name.endswith(linear)))
    assert conv == fv["activations_by_operator"]["conv"]


@pytest.mark.parametrize("model, res", sorted(ENTRIES))
def test_torchinfo_convention(model, res):
    ti = ENTRIES[model, res]["peers"]["torchinfo"]
    a = mbcost.analyze(spec_for(model), resolution=res, convention="torchinfo", memory=True)
    assert (a.madds - torchinfo_excess(model, res), a.params) == (ti["total_mult_adds"],
                                                                 ti["total_params"])
    assert report.to_dict(a)["totals"]["act_bytes"] == ti["forward_backward_pass_size_bytes"]


def torchinfo_excess(model, res):
    """What the torchinfo preset counts beyond torchinfo, derived by hand: torchinfo counts a
    Linear's weight and bias once (batch x parameters), also when torchvision's CNBlock runs it
    on a channels-last tensor, once per position; the spec's pw counts multiply-accumulates
    and bias adds per position, as every other counter does."""
    if model != "convnext_tiny":
        return 0
    w = convnext_walk(res)
    return w["linear_positions"] - w["linear_params"]


def test_torchinfo_by_hand_resnet18():
    # torchinfo (model_statistics.py): total_output_bytes sums 2 x 4 bytes x output elements of
    # every leaf with parameters: resnet18's convs and BNs (2,483,712 outputs each) and the FC
    # (1,000): (2,483,712 + 2,483,712 + 1,000) x 8 = 39,747,392; its mult-adds add the FC bias
    # (1,000) and BN's gamma and beta (9,600) to the conv+FC MACs 1,814,073,344
    a = mbcost.analyze("resnet18", convention="torchinfo", memory=True)
    assert a.memory.act_bytes == (2_483_712 + 2_483_712 + 1_000) * 8 == 39_747_392
    assert a.madds == 1_814_073_344 + 1_000 + 9_600


def test_new_conventions_leave_the_others_alone():
    # the default act count is every output once; other conventions' counts did not move
    a = mbcost.analyze("mobilenet_v2", memory=True)
    assert a.memory.act_bytes == 4 * sum(h * w * c for h, w, c in (r.output for r in a.rows))
    assert CONVENTIONS["paper"].acts is None and "bn.params" not in CONVENTIONS["fvcore"].madds
    assert mbcost.analyze("resnet18", convention="fvcore").madds == \
        ENTRIES["resnet18", 224]["peers"]["fvcore"]["flops_total"]


def test_readme_states_the_torchinfo_convnext_excess():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for res in (224, 160):
        e = ENTRIES["convnext_tiny", res]["peers"]["torchinfo"]["total_mult_adds"]
        got = mbcost.analyze("convnext_tiny", resolution=res, convention="torchinfo").madds
        assert got - e == torchinfo_excess("convnext_tiny", res)
        assert f"{got - e:,} more" in " ".join(readme.split())
