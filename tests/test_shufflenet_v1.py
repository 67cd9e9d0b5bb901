"""ShuffleNet v1 (Zhang et al. 2017, arXiv 1707.01083): the bundled shufflenet_v1 and
shufflenet_v1_2x_g3 against the paper's complexities, the authors' code and MobileNetV2's
Table 3 column "ShuffleNet (2x, g=3)".

Sources (quoted in README, "MobileNetV2 Table 3"):
- ShuffleNet Table 1: Conv1 24 channels, MaxPool, Stages 2-4 with 1 + 3, 1 + 7, 1 + 3 units,
  Stage 2 output channels 144, 200, 240, 272, 384 for g = 1, 2, 3, 4, 8 (doubled per stage),
  complexity 143M, 140M, 137M, 133M, 137M; Table 2: ShuffleNet 0.5x 38 MFLOPs; Table 5:
  ShuffleNet 2x (g = 3) 524, 1.5x (g = 3) 292 MFLOPs; section 3.2: a stride-1 unit costs
  hw(2cm/g + 9m) with bottleneck m = c/4.
- The authors' PyTorch code, megvii-model/ShuffleNet-Series ShuffleNetV1/network.py and
  blocks.py: stage_out_channels per model size and group, mid_channels = out // 4, the
  stride-2 branch makes out - in channels, Linear classifier without bias.
- MobileNetV2 Table 3, ShuffleNet (2x, g=3): 32/800, 48/300, 400/600K, 800/310, 1600/156,
  1600/3, max 600K (channels / KB of 16-bit activations at 112, 56, 28, 14, 7, 1).
"""

import pytest

import mbcost
from mbcost import memory


def variant(g=3, c2=240, c1=24, s=1):
    """shufflenet_v1 with another group count (Table 1's c2 for it), stem or width s."""
    return {"extends": "shufflenet_v1", "vars": {"g": g, "c2": c2, "c1": c1},
            "width": {"multiplier": s, "divisor": g}}


TABLE1 = {1: (144, 143), 2: (200, 140), 3: (240, 137), 4: (272, 133), 8: (384, 137)}


# ---------------------------------------------------------------- mult-adds by hand

def test_1x_g3_mult_adds_by_hand_from_table_1():
    g, c1 = 3, 24
    conv1 = 3 * 3 * 3 * c1 * 112 * 112

    def unit(c, m, hw):  # section 3.2: a stride-1 unit costs hw(2cm/g + 9m)
        return hw * hw * (2 * c * m // g + 9 * m)

    def down(c_in, c, m, hw_in, g1):  # stride 2: 1x1 (g1 groups) at the input size, dw and
        hw = hw_in // 2               # the 1x1 to c - c_in channels at the output size
        return hw_in ** 2 * c_in * m // g1 + hw * hw * 9 * m + hw * hw * m * (c - c_in) // g

    stages = (down(24, 240, 60, 56, 1) + 3 * unit(240, 60, 28)
              + down(240, 480, 120, 28, g) + 7 * unit(480, 120, 14)
              + down(480, 960, 240, 14, g) + 3 * unit(960, 240, 7))
    fc = 960 * 1000
    assert conv1 + stages + fc == 137_460_672
    a = mbcost.analyze("shufflenet_v1")
    assert a.madds == 137_460_672
    assert round(a.madds / 1e6) == TABLE1[3][1]  # Table 1, g = 3: 137M
    # one stride-1 unit of Stage 2, row by row
    rows = [r for r in a.rows if r.name.startswith("stage2.1/")]
    assert sum(r.madds for r in rows) == unit(240, 60, 28) == 7_949_760


@pytest.mark.parametrize("g", sorted(TABLE1))
def test_table_1_every_group_count(g):
    c2, paper = TABLE1[g]
    a = mbcost.analyze(variant(g=g, c2=c2))
    fc = 4 * c2 * 1000
    # g = 1, 2, 3 are Table 1's value in whole millions (143.1, 140.8, 137.5); g = 4 and 8
    # are 1.3M and 1.4M above it (134,339,776 and 138,365,952). Every column is the count
    # without the FC layer, rounded: an observation, not a statement of how the paper counted.
    assert round((a.madds - fc) / 1e6) == paper
    assert abs(a.madds / 1e6 - paper) < 1.5
    assert (a.madds // 10**6 == paper) == (g in (1, 2, 3))


def test_scaled_variants_against_tables_2_and_5():
    # ShuffleNet 2x (g = 3): 524 MFLOPs (Tables 5, 6, 8); 5.4M parameters (MobileNetV2 Table 4)
    two = mbcost.analyze("shufflenet_v1_2x_g3")
    # 524,045,184: the authors' 2x (g = 3) model derived by hand (megvii, below)
    assert two.madds == megvii(48, (480, 960, 1920), 3)[0] and round(two.madds / 1e6) == 524
    assert round(two.params / 1e5) == 54
    assert two.madds == mbcost.analyze("shufflenet_v1", alpha=2).madds
    # ShuffleNet 0.5x (g = 3): 38 MFLOPs (Tables 2 and 8)
    assert round(mbcost.analyze("shufflenet_v1", alpha=0.5).madds / 1e6) == 38
    # ShuffleNet 1.5x (g = 3): Table 5 says 292. Scaling every filter, Conv1 too, gives 299.6;
    # Conv1 kept at 24 channels, as the authors' code has it for 1.5x, gives 292.4
    assert round(mbcost.analyze("shufflenet_v1", alpha=1.5).madds / 1e6) == 300
    assert round(mbcost.analyze(variant(c1=16, s=1.5)).madds / 1e6) == 292


# ---------------------------------------------------------------- the authors' code by hand

def megvii(c1, stages, g):
    """(conv + FC mult-adds, parameters with BN gamma and beta) of megvii's ShuffleNetV1,
    derived from network.py and blocks.py: 224 px, three stages of 4, 8, 4 units."""
    macs = 27 * c1 * 112 * 112
    params = 27 * c1 + 2 * c1
    inp, hw = c1, 56
    for i, (oc, repeat) in enumerate(zip(stages, (4, 8, 4))):
        for j in range(repeat):
            stride, mid = (2 if j == 0 else 1), oc // 4
            g1 = 1 if (i == 0 and j == 0) else g
            outputs = oc - inp if stride == 2 else oc
            out_hw = hw // stride
            macs += hw * hw * inp * mid // g1 + out_hw ** 2 * (9 * mid + mid * outputs // g)
            params += inp * mid // g1 + 2 * mid + 9 * mid + 2 * mid + mid * outputs // g + 2 * outputs
            inp, hw = oc, out_hw
    return macs + stages[-1] * 1000, params + stages[-1] * 1000  # Linear(bias=False)


# network.py: stage_out_channels[1:] per (group, model size); the README's FLOPs and #Params
MEGVII = {
    (3, 0.5): ((12, 120, 240, 480), 38, 0.7), (3, 1): ((24, 240, 480, 960), 138, 1.9),
    (3, 1.5): ((24, 360, 720, 1440), 292, 3.4), (3, 2): ((48, 480, 960, 1920), 524, 5.4),
    (8, 0.5): ((16, 192, 384, 768), 40, 1.0), (8, 1): ((24, 384, 768, 1536), 138, 2.4),
    (8, 1.5): ((24, 576, 1152, 2304), 290, 4.3), (8, 2): ((48, 768, 1536, 3072), 522, 6.5),
}


@pytest.mark.parametrize("g, s", sorted(MEGVII))
def test_the_authors_code_exactly(g, s):
    (c1, *stages), mflops, mparams = MEGVII[(g, s)]
    macs, params = megvii(c1, stages, g)
    a = mbcost.analyze(variant(g=g, c2=stages[0] / s, c1=c1 / s, s=s), convention="torchvision")
    assert (a.madds, a.params) == (macs, params)
    # their README rounds to 0.1M parameters; its FLOPs are within 1M of the exact count
    assert round(params / 1e5) == round(mparams * 10)
    assert abs(macs / 1e6 - mflops) < 1


# ---------------------------------------------------------------- MobileNetV2 Table 3

# size: (channels, KB) as the paper prints them, 16-bit activations
TABLE3_SHUFFLENET = {112: (32, 800), 56: (48, 300), 28: (400, 600), 14: (800, 310),
                     7: (1600, 156), 1: (1600, 3)}


def _table3(spec):
    a = mbcost.analyze(spec, memory={"memory_model": "streamed", "dtype": "fp16"})
    return {h: (c, b) for h, w, c, b in memory.largest_by_resolution(a) if h != 224}


def test_table3_shufflenet_2x_g3_column():
    got = _table3("shufflenet_v1_2x_g3")
    # every cell is one materialized tensor: channels x h x w x 2 bytes; the widths are 2x
    # Table 1's g = 3 column (Conv1 48; Stage 2, 3, 4: 480, 960, 1920; pooled 1920)
    want = {112: 48, 56: 48, 28: 480, 14: 960, 7: 1920, 1: 1920}
    assert got == {h: (c, c * h * h * 2) for h, c in want.items()}
    # 56x56: the max pool's 48 channels, as the paper (48/300: 301,056 B); a unit's
    # bottleneck (120 channels at 56x56 in Stage 2's first unit) is not materialized
    assert got[56] == (48, 301_056) and round(got[56][1] / 1000) == 301
    # the largest tensor: Conv1's output, 1,204,224 B; without it (the paper applies
    # section 5's trick to the first layer), Stage 2's 480 channels at 28x28: 752,640 B
    assert max(b for c, b in got.values()) == 1_204_224
    assert max(b for h, (c, b) in got.items() if h != 112) == 752_640


def test_table3_paper_cells_are_the_g2_widths():
    # the paper's 28, 14, 7 and 1 cells (400, 800, 1600, 1600 channels) are Table 1's g = 2
    # widths doubled (200 -> 400), not g = 3's (240 -> 480)
    got = _table3(variant(g=2, c2=200, s=2))
    exact = {28: 627_200, 14: 313_600, 7: 156_800, 1: 3_200}
    for h, b in exact.items():
        c, kb = TABLE3_SHUFFLENET[h]
        assert got[h] == (c, b) == (c, c * h * h * 2)
        # the paper prints these as 600K, 310, 156 and 3 (thousands, coarsely rounded down)
        assert kb <= b / 1000 < 1.05 * kb or (h == 1 and b // 1000 == kb)
    # 112x112: the paper's 32 channels (802,816 B) are no ShuffleNet width: Conv1 has 24 x 2
    assert got[112][0] == 48 != TABLE3_SHUFFLENET[112][0]


def test_listed_and_described():
    from clirunner import CliRunner

    from mbcost.cli import main

    r = CliRunner().invoke(main, ["list"])
    assert r.exit_code == 0
    assert {"shufflenet_v1", "shufflenet_v1_2x_g3"} <= {ln.split()[0] for ln in r.stdout.splitlines()
                                                        if ln.split()}


def test_readme_rows_are_what_mbcost_counts():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = text.split("### MobileNetV2 Table 3")[1].split("\n### ")[0]
    rows = [ln.strip("|").split("|") for ln in section.splitlines() if ln.startswith("| `shufflenet")]
    assert [r[0].strip().strip("`") for r in rows] == ["shufflenet_v1", "shufflenet_v1_2x_g3"]
    for name, _, params, madds, _ in rows:
        a = mbcost.analyze(name.strip().strip("`"))
        assert (int(params.replace(",", "")), int(madds.replace(",", ""))) == (a.params, a.madds)
    for cell in ("292,443,552", "299,612,448", "37,589,856", "143,078,976", "140,836,512",
                 "134,339,776", "138,365,952", "752,640 B", "627,200 B"):
        assert cell in section
    # 292,443,552: the authors' 1.5x (g = 3) model, Conv1 at 24, derived by hand (megvii)
    assert mbcost.analyze(variant(c1=16, s=1.5)).madds == megvii(24, (360, 720, 1440), 3)[0]


def test_every_alpha_builds_and_the_paper_scales_keep_every_residual():
    from fractions import Fraction

    dropped = []
    for k in range(1, 41):
        a = mbcost.analyze("shufflenet_v1", alpha=Fraction(k, 20))
        adds = [r for r in a.rows if r.kind == "add"]
        if len(adds) != 3 + 7 + 3:
            dropped.append(Fraction(k, 20))
        if Fraction(k, 20) in (Fraction(1, 4), Fraction(1, 2), 1, Fraction(3, 2), 2):
            s = Fraction(k, 20)
            assert len(adds) == 13
            assert [r.output[2] for r in adds] == [240 * s] * 3 + [480 * s] * 7 + [960 * s] * 3
            assert a.rows[0].output[2] == 24 * s  # conv1
    # the README's list: there a stage's first unit is not the stage's rounded width
    assert dropped == [Fraction(1, 20), Fraction(3, 20), Fraction(3, 10)]
