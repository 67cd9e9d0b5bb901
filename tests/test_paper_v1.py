"""MobileNet v1 (arXiv 1704.04861): every table mbcost can check, at the paper's printed
precision and against the exact counts of the TF-slim MobileNet v1 checkpoint table.

Table 4 (Conv MobileNet) belongs to issue 4 and is not tested here.
"""

import json
import re
import shlex
from fractions import Fraction
from pathlib import Path

import pytest
from clirunner import CliRunner

import mbcost
from mbcost import report
from mbcost.cli import main

M = 10**6


def rounded(n, digits=0):
    """n / 1e6 rounded half up to the paper's printed digits, as text."""
    r = int(Fraction(n, M) * 10**digits + Fraction(1, 2))
    return f"{r // 10**digits}.{r % 10**digits:0{digits}d}" if digits else str(r)


def truncated(n):
    """n / 1e6 truncated to whole millions, as text."""
    return str(n // M)


def v1(a=1, res=None, convention="paper", spec="mobilenet_v1"):
    """The analysis of a spec at (alpha, resolution)."""
    return mbcost.analyze(spec, alpha=a, resolution=res, convention=convention)


# ---------------------------------------------------------------- Table 2

def shares(convention):
    """{type: (mult-adds %, params %)} rounded to the paper's 2 decimals."""
    a = v1(convention=convention)
    return {k.type: (round(k.madds_pct, 2), round(k.params_pct, 2)) for k in report.by_kind_rows(a)}


def test_table_2_resource_per_layer_type():
    s = shares("weights")  # Table 2's parameter shares leave out the FC bias
    assert s == {"Conv 1x1": (94.86, 74.59), "Conv DW 3x3": (3.06, 1.06),
                 "Conv 3x3": (1.91, 0.02), "FC": (0.18, 24.33)}
    by = {k.type: (k.madds, k.params) for k in report.by_kind_rows(v1(convention="weights"))}
    assert by == {"Conv 1x1": (539_492_352, 3_139_584), "Conv DW 3x3": (17_385_984, 44_640),
                  "Conv 3x3": (10_838_016, 864), "FC": (1_024_000, 1_024_000)}
    assert sum(p for _, p in by.values()) == 4_209_088


def test_table_2_conv_3x3_share_is_a_digit_swap():
    printed = [Fraction(x) for x in ("94.86", "3.06", "1.19", "0.18")]
    assert sum(printed) == Fraction("99.29")      # the printed column does not add up
    fixed = printed[:2] + [Fraction("1.91")] + printed[3:]
    assert sum(fixed) == Fraction("100.01")       # 100 up to the rounding of four shares
    a = v1()
    assert round(100 * 10_838_016 / a.madds, 2) == 1.91
    assert shares("paper")["Conv 3x3"][0] == 1.91


def test_table_2_params_with_the_fc_bias():
    s = shares("paper")  # FC bias counted: 4,210,088 parameters
    assert {op: p for op, (_, p) in s.items()} == {
        "Conv 1x1": 74.57, "Conv DW 3x3": 1.06, "Conv 3x3": 0.02, "FC": 24.35}


# ---------------------------------------------------------------- Table 3

def table3(layer, a=1, rho=None):
    """One layer on a 14x14 map of 512 (alpha-thinned: alpha·512) channels, D_K = 3, N = 512."""
    c = Fraction(512) * Fraction(str(a))  # the input is the output of an alpha-thinned layer
    spec = {"name": "table3", "input": [14, 14, int(c)], "layers": [{layer: {"k": 3, "out": 512}}]}
    return mbcost.analyze(spec, alpha=a, rho=rho)


@pytest.mark.parametrize("row, printed, exact", [
    (("conv", 1, None), ("462", "2.36"), (462_422_016, 2_359_296)),
    (("dwsep", 1, None), ("52.3", "0.27"), (52_283_392, 266_752)),
    (("dwsep", 0.75, None), ("29.6", "0.15"), (29_578_752, 150_912)),
    (("dwsep", 0.75, 0.714), ("15.1", "0.15"), (15_091_200, 150_912)),
])
def test_table_3_one_layer(row, printed, exact):
    layer, a, rho = row
    an = table3(layer, a, rho)
    assert (an.madds, an.params) == exact
    madd_digits = len(printed[0].partition(".")[2])
    assert (rounded(an.madds, madd_digits), rounded(an.params, 2)) == printed


def test_table_3_hand_derivation():
    # D_K·D_K·M·N·D_F² = 3·3·512·512·14²; separable 3·3·512·14² + 512·512·14²
    assert table3("conv").madds == 3 * 3 * 512 * 512 * 14 * 14
    assert table3("dwsep").madds == 3 * 3 * 512 * 14 * 14 + 512 * 512 * 14 * 14
    # alpha 0.75: M = N = 384; rho 0.714: D_F = round(0.714 · 14) = 10 (160/224 · 14)
    assert table3("dwsep", 0.75).madds == 3 * 3 * 384 * 14 * 14 + 384 * 384 * 14 * 14
    an = table3("dwsep", 0.75, 0.714)
    assert an.input[:2] == (10, 10)
    assert an.madds == 3 * 3 * 384 * 10 * 10 + 384 * 384 * 10 * 10


# ---------------------------------------------------------------- Tables 5, 6, 7, 9

def test_table_5_narrow_vs_shallow():
    narrow = v1(0.75)
    shallow = v1(spec="mobilenet_v1_shallow")
    assert (narrow.madds, narrow.params) == (325_400_448, 2_569_144)
    assert (shallow.madds, shallow.params) == (307_323_392, 2_876_328)
    assert (rounded(narrow.madds), rounded(narrow.params, 1)) == ("325", "2.6")
    assert (rounded(shallow.madds), rounded(shallow.params, 1)) == ("307", "2.9")
    # shallow = full minus five dw+pw pairs at 14x14x512: 5·(3·3·512·14² + 512·512·14²)
    full = v1()
    assert full.madds - shallow.madds == 5 * (3 * 3 * 512 * 196 + 512 * 512 * 196)
    assert full.params - shallow.params == 5 * (3 * 3 * 512 + 512 * 512)


@pytest.mark.parametrize("a, printed, exact", [
    (1, ("569", "4.2"), (568_740_352, 4_210_088)),
    (0.75, ("325", "2.6"), (325_400_448, 2_569_144)),
    (0.5, ("149", "1.3"), (149_497_088, 1_320_648)),
    (0.25, ("41", "0.5"), (41_030_272, 464_600)),
])
def test_table_6_width_multiplier(a, printed, exact):
    an = v1(a)
    assert (an.madds, an.params) == exact
    assert (rounded(an.madds), rounded(an.params, 1)) == printed


@pytest.mark.parametrize("res, printed, exact", [
    (224, "569", 568_740_352),
    (192, "418", 418_121_728),
    (160, "290", 290_675_200),
    (128, "186", 186_400_768),
])
def test_table_7_resolution(res, printed, exact):
    an = v1(1, res)
    assert an.madds == exact
    assert an.params == 4_210_088  # resolution never changes the weights: "4.2" in every row
    assert printed in (rounded(an.madds), truncated(an.madds))


def test_table_7_rounds_inconsistently():
    # 568.74 M is printed 569 (rounded), but 290.68 M is printed 290 (truncated);
    # TF-slim's mobilenet_v1.md prints 291 for 1.0_160
    assert (rounded(568_740_352), truncated(568_740_352)) == ("569", "568")
    assert (rounded(290_675_200), truncated(290_675_200)) == ("291", "290")


def test_table_9_half_mobilenet_160():
    an = v1(0.5, 160)
    assert (an.madds, an.params) == (76_524_800, 1_320_648)
    assert rounded(an.params, 2) == "1.32"
    # printed 76: truncated again (rounding gives 77, which TF-slim prints)
    assert (truncated(an.madds), rounded(an.madds)) == ("76", "77")


# ---------------------------------------------------------------- Table 10

@pytest.fixture()
def dogs(tmp_path):
    """MobileNet v1 with a 120-class classifier (Stanford Dogs)."""
    p = tmp_path / "dogs.yaml"
    p.write_text("extends: mobilenet_v1\nname: mobilenet_v1_dogs\nclasses: 120\n")
    return p


@pytest.mark.parametrize("a, res, printed, exact_120, madds_1000", [
    (1, 224, ("569", "3.3"), (567_839_232, 3_308_088), 568_740_352),
    (0.75, 224, ("325", "1.9"), (324_724_608, 1_892_424), 325_400_448),
    (1, 192, ("418", "3.3"), (417_220_608, 3_308_088), 418_121_728),
    (0.75, 192, ("239", "1.9"), (238_597_632, 1_892_424), 239_273_472),
])
def test_table_10_stanford_dogs(dogs, a, res, printed, exact_120, madds_1000):
    an = mbcost.analyze(dogs, alpha=a, resolution=res)
    assert (an.madds, an.params) == exact_120
    # the FC shrinks from (alpha·1024)·1000 to (alpha·1024)·120 mult-adds
    assert madds_1000 - an.madds == int(1024 * Fraction(str(a))) * (1000 - 120)
    assert v1(a, res).madds == madds_1000
    # the params column is the 120-class model's; the mult-adds column is the 1000-class one's
    assert rounded(an.params, 1) == printed[1]
    assert rounded(madds_1000) == printed[0]


def test_table_10_mult_adds_are_not_the_120_class_ones():
    # 567.84 M and 417.22 M would print 568 and 417, not 569 and 418
    assert rounded(567_839_232) == "568" and rounded(417_220_608) == "417"


# ---------------------------------------------------------------- TF-slim docstring (§1.7)

TF_SLIM_ROWS = [  # (layer, params, MACs) from research/slim/nets/mobilenet_v1.py, 1.0/224
    ("conv1", 864, 10_838_016),
    ("conv2.dw", 288, 3_612_672), ("conv2.pw", 2_048, 25_690_112),
    ("conv3.dw", 576, 1_806_336), ("conv3.pw", 8_192, 25_690_112),
    ("conv4.dw", 1_152, 3_612_672), ("conv4.pw", 16_384, 51_380_224),
    ("conv5.dw", 1_152, 903_168), ("conv5.pw", 32_768, 25_690_112),
    ("conv6.dw", 2_304, 1_806_336), ("conv6.pw", 65_536, 51_380_224),
    ("conv7.dw", 2_304, 451_584), ("conv7.pw", 131_072, 25_690_112),
] + [(f"conv{i}.{p}", *v) for i in range(8, 13)
     for p, v in (("dw", (4_608, 903_168)), ("pw", (262_144, 51_380_224)))] + [
    ("conv13.dw", 4_608, 225_792), ("conv13.pw", 524_288, 25_690_112),
    ("conv14.dw", 9_216, 451_584), ("conv14.pw", 1_048_576, 51_380_224),
]


def test_tf_slim_per_layer_rows():
    rows = {r.name: r for r in v1().rows}
    for name, params, macs in TF_SLIM_ROWS:
        assert (rows[name].params, rows[name].madds) == (params, macs), name


@pytest.mark.parametrize("a, res, params, macs", [
    (1, 224, 3_185_088, 567_716_352),
    (0.75, 128, 1_800_144, 106_002_432),
])
def test_tf_slim_base_totals_without_the_fc(a, res, params, macs):
    body = [r for r in v1(a, res).rows if r.kind != "fc"]
    assert (sum(r.params for r in body), sum(r.madds for r in body)) == (params, macs)


def test_tf_slim_plus_fc_gives_the_paper_total():
    # 567,716,352 + 1024·1000 = 568,740,352; 3,185,088 + 1,024,000 + 1,000 = 4,210,088
    an = v1()
    assert (an.madds, an.params) == (567_716_352 + 1_024_000, 3_185_088 + 1_025_000)


# ---------------------------------------------------------------- the README section

def readme_v1_section():
    """The README's MobileNet v1 reproduction section."""
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    start = text.index("### MobileNet v1\n")
    return text[start:text.index("### MobileNetV2, V3 and EfficientNet", start)]


def test_readme_commands_print_the_numbers_shown(tmp_path, monkeypatch):
    section = readme_v1_section()
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.S)
    files = {"table3.yaml": next(b for b in blocks if "name: table3" in b),
             "dogs.yaml": next(b for b in blocks if "classes: 120" in b)}
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    checked = 0
    for line in section.splitlines():
        cmd = re.search(r"`(mbcost table [^`]*)`", line)
        nums = re.search(r"\| ([\d,]+) / ([\d,]+) \|\s*$", line)
        if not (cmd and nums) or "..." in line or "(with" in line:
            continue
        args = shlex.split(cmd.group(1))[1:] + ["-f", "json"]
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 0, (line, r.output)
        got = json.loads(r.stdout)["totals"]
        assert (got["madds"], got["params"]) == tuple(int(n.replace(",", "")) for n in nums.groups()), line
        checked += 1
    assert checked >= 7  # Table 3 (1 row), Table 5 (2), Table 10 (4)


# ---------------------------------------------------------------- other published counts of v1

@pytest.fixture()
def slim(tmp_path):
    """MobileNet v1 as the TF-slim checkpoints are built: 1001 classes (a background class)."""
    p = tmp_path / "v1_1001.yaml"
    p.write_text("extends: mobilenet_v1\nname: mobilenet_v1_1001\nclasses: 1001\n")
    return p


@pytest.mark.parametrize("res, printed", [(224, 317), (192, 233), (160, 162), (128, 104)])
def test_tf_slim_readme_0_75_rows_leave_out_the_stem(slim, res, printed):
    # TF-slim mobilenet_v1.md prints 317/233/162/104 M MACs for alpha 0.75: the exact totals
    # (325.4/239.3/166.4/106.8 M) minus the 3x3 stem conv, truncated to whole millions
    a = mbcost.analyze(slim, alpha=0.75, resolution=res)
    stem = next(r for r in a.rows if r.name == "conv1")
    assert stem.madds == 3 * 3 * 3 * 24 * (res // 2) ** 2  # 24 = int(32 * 0.75) channels
    assert truncated(a.madds - stem.madds) == str(printed)
    assert truncated(a.madds) != str(printed)


def test_tf_slim_readme_0_25_192_is_a_typo(slim):
    # the README prints 34 M for 0.25_192, between 0.25_224 (41) and 0.25_160 (21); exact: 30.2 M
    a = mbcost.analyze(slim, alpha=0.25, resolution=192)
    assert rounded(a.madds, 1) == "30.2"


@pytest.mark.parametrize("a, printed", [(1, "4.24"), (0.75, "2.59"), (0.5, "1.34"), (0.25, "0.47")])
def test_tf_slim_readme_params_are_1001_classes_plus_three_bn_values(slim, a, printed):
    # TF-slim's BN has beta, moving mean and moving variance but no gamma (scale=False):
    # 3 values per BN channel on top of the BN-free count with 1001 classes
    an = mbcost.analyze(slim, alpha=a, convention="paper")
    bn_channels = sum(r.output[2] for r in an.rows if r.kind == "bn")
    assert rounded(an.params + 3 * bn_channels, 2) == printed
    assert rounded(an.params, 2) != printed


def test_keras_mobilenet_params():
    # Keras MobileNet(alpha=1.0).count_params() = 4,253,864 (keras-applications): weights,
    # FC bias, and all four BN values per channel; 10,944 BN channels in the 27 BN layers
    an = mbcost.analyze("mobilenet_v1", convention="keras")
    bn_channels = sum(r.output[2] for r in an.rows if r.kind == "bn")
    dw_in = [32, 64, 128, 128, 256, 256] + [512] * 6 + [1024]        # Table 1's 13 dw convs
    pw_out = [64, 128, 128, 256, 256] + [512] * 6 + [1024, 1024]     # and their 1x1 convs
    assert bn_channels == 32 + sum(dw_in) + sum(pw_out) == 10_944    # + the stem's 32
    assert an.params == 4_210_088 + 4 * bn_channels == 4_253_864


def test_no_convention_gives_the_v2_papers_575m_for_v1():
    # MobileNetV2's Table 4 lists MobileNetV1 at 575M MAdds; the v1 paper and TF-slim say 569
    for name in mbcost.CONVENTIONS:
        madds = mbcost.analyze("mobilenet_v1", convention=name).madds
        assert truncated(madds) != "575", name


# ---------------------------------------------------------------- Table 8

def test_table_8_vgg16_derived_by_hand():
    # VGG-16 (configuration D): 3x3 convs with bias at 224/112/56/28/14 px, then 3 FC layers
    convs = [(224, 3, 64), (224, 64, 64), (112, 64, 128), (112, 128, 128),
             (56, 128, 256), (56, 256, 256), (56, 256, 256),
             (28, 256, 512), (28, 512, 512), (28, 512, 512),
             (14, 512, 512), (14, 512, 512), (14, 512, 512)]
    fcs = [(7 * 7 * 512, 4096), (4096, 4096), (4096, 1000)]
    macs = sum(9 * m * n * d * d for d, m, n in convs) + sum(m * n for m, n in fcs)
    params = sum(9 * m * n + n for _, m, n in convs) + sum(m * n + n for m, n in fcs)
    a = mbcost.analyze("vgg16")
    assert (a.madds, a.params) == (macs, params)
    assert params == 138_357_544  # torchvision vgg16 num_params
    # the paper's Table 8 prints 15300 M mult-adds and 138 M parameters
    assert rounded(a.params) == "138" and round(a.madds / 10**9, 1) == 15.5


def test_table_8_claims_against_vgg16():
    # "MobileNet is ... 32 times smaller and 27 times less compute intensive" than VGG16
    vgg, mob = mbcost.analyze("vgg16"), mbcost.analyze("mobilenet_v1")
    assert int(vgg.params / mob.params) == 32     # 32.9x
    assert int(vgg.madds / mob.madds) == 27       # 27.2x


# ---------------------------------------------------------------- Table 9's baselines

def test_table_9_alexnet_and_squeezenet():
    # the paper: AlexNet 720 M mult-adds / 60 M params, Squeezenet 1700 / 1.25; the bundled
    # specs are torchvision's models (README, "Reproducing the papers")
    alex, sq, half = (mbcost.analyze(n, **kw) for n, kw in (
        ("alexnet", {}), ("squeezenet1_0", {}), ("mobilenet_v1", {"alpha": 0.5, "resolution": 160})))
    assert (alex.madds, alex.params) == (714_188_480, 61_100_840)  # torchvision alexnet
    assert (sq.madds, sq.params) == (818_924_576, 1_248_424)  # torchvision squeezenet1_0
    assert round(sq.params / 10**6, 2) == 1.25
    # "45x smaller and 9.4x less compute than AlexNet": 46.3x and 9.3x with these counts
    assert int(alex.params / half.params) == 46 and round(alex.madds / half.madds, 1) == 9.3
    # Squeezenet's 1700 is about its FLOPs (2 per mult-add), not its mult-adds
    assert round(2 * sq.madds / 10**8) == 16 and round(sq.madds / half.madds, 1) == 10.7


def test_table_9_alexnet_is_the_two_gpu_original():
    # the paper's 720 / 60 is Krizhevsky et al. 2012's network (227 px input, conv2, conv4,
    # conv5 in 2 groups), derived here by hand: 55, 27, 13 px maps
    convs = [(55, 3, 96, 11, 1), (27, 96, 256, 5, 2), (13, 256, 384, 3, 1),
             (13, 384, 384, 3, 2), (13, 384, 256, 3, 2)]
    fcs = [(6 * 6 * 256, 4096), (4096, 4096), (4096, 1000)]
    macs = sum(k * k * (m // g) * n * d * d for d, m, n, k, g in convs) + sum(m * n for m, n in fcs)
    params = sum(k * k * (m // g) * n + n for _, m, n, k, g in convs) + sum(m * n + n for m, n in fcs)
    assert round(macs / 10**7) == 72 and round(params / 10**6) == 61
    spec = {"name": "alexnet_2012", "input": [227, 227, 3], "defaults": {"act": "relu"},
            "layers": [{"conv": {"k": 11, "stride": 4, "padding": "valid", "out": 96, "bias": True}},
                       {"pool": {"type": "max", "k": 3, "stride": 2}},
                       {"conv": {"k": 5, "padding": 2, "out": 256, "groups": 2, "bias": True}},
                       {"pool": {"type": "max", "k": 3, "stride": 2}},
                       {"conv": {"k": 3, "padding": 1, "out": 384, "bias": True}},
                       {"conv": {"k": 3, "padding": 1, "out": 384, "groups": 2, "bias": True}},
                       {"conv": {"k": 3, "padding": 1, "out": 256, "groups": 2, "bias": True}},
                       {"pool": {"type": "max", "k": 3, "stride": 2}},
                       {"fc": {"out": 4096}}, {"fc": {"out": 4096}}, {"fc": {"out": 1000}}]}
    a = mbcost.analyze(spec)
    assert (a.madds, a.params) == (macs, params) == (724_406_816, 60_965_224)


def test_table_8_googlenet():
    # the paper: GoogleNet 1550 M mult-adds / 6.8 M params; torchvision's googlenet (its
    # published num_params 6,624,904 = 6,610,344 weights + 14,560 BN gamma and beta)
    g, mob = mbcost.analyze("googlenet"), mbcost.analyze("mobilenet_v1")
    assert (g.madds, g.params) == (1_498_376_192, 6_610_344)
    assert mbcost.analyze("googlenet", convention="torchvision").params == 6_624_904
    # "more than 2.5 times less computation" than GoogleNet
    assert round(g.madds / mob.madds, 2) == 2.63
    # the paper's 5x5 kernels in the third branch: 9 -> 25 taps of each branch3b conv
    extra = sum(16 * r.madds // 9 for r in g.rows if r.name.endswith("/branch3.1/conv"))
    assert g.madds + extra == 1_582_671_872


# ---------------------------------------------------------------- Table 10's Inception V3

def test_table_10_inception_v3():
    # the paper: Inception V3 5000 M mult-adds / 23.2 M params; torchvision's inception_v3 at
    # 299 px, inference (its _ops 5.713 GFLOPS; 23,834,568 params with BN gamma and beta,
    # 27,161,264 published with the training-only AuxLogits)
    no_aux = {"extends": "inception_v3.yaml", "vars": {"aux_logits": 0}}
    a = mbcost.analyze(no_aux)
    assert a.resolution == 299 and (a.madds, a.params) == (5_713_216_096, 23_800_136)
    assert mbcost.analyze(no_aux, convention="torchvision").params == 23_834_568
    # the bundled spec holds AuxLogits as a train-only head: same eval mult-adds, its weights
    # (768*128 + 25*128*768 + 768*1000 + 1000) count as parameters
    b = mbcost.analyze("inception_v3")
    assert (b.madds, b.params) == (a.madds, a.params + 768 * 128 + 25 * 128 * 768 + 768 * 1000 + 1000)
    assert mbcost.analyze("inception_v3", convention="torchvision").params == 27_161_264
    assert round(a.params / 10**6, 1) == 23.8
    kinds = {k.type: k for k in a.by_kind()}
    # the factorized convs, counted by hand from inception.py: InceptionC has three 1x7 and
    # three 7x1 (x4 modules), InceptionD one of each: 13 rows each; InceptionE two 1x3 and
    # two 3x1 (x2 modules)
    assert (kinds["Conv 1x7"].layers, kinds["Conv 7x1"].layers) == (13, 13)
    assert (kinds["Conv 1x3"].layers, kinds["Conv 3x1"].layers) == (4, 4)
    assert kinds["Conv 1x7"].madds == kinds["Conv 7x1"].madds
