"""Counting conventions: the peer-counter presets against their published rules, the README's
table against the code, and the --explain view.

The peer counters' totals are not published; their rules are (each counter's source:
fvcore's handles, thop's and ptflops' module hooks; README "Counting conventions"). So each expected total is built here by hand:
a small walker, written from the papers' architecture tables and independent of mbcost,
counts every element each rule needs (BN outputs, activation outputs per type, pool inputs and
outputs, SE gate multiplies, bias adds). The walker is first anchored to the published
torchvision numbers (MACs and num_params must come out exact), then each peer's rule is
applied to its counts.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path

import pytest
from clirunner import CliRunner

from mbcost import analyze
from mbcost.cli import main
from mbcost.cost import CONVENTIONS, MADD_ROWS, PARAM_ROWS, conventions_markdown
from mbcost.explain import explain
from mbcost.layers import MADD_CATEGORIES, PARAM_CATEGORIES

README = Path(__file__).resolve().parent.parent / "README.md"


def md(v, d=8):
    """_make_divisible (paper_tables.md §6), written out again for the walker."""
    new = max(d, int(v + d / 2) // d * d)
    return new + d if new < 0.9 * v else new


class Walk:
    """Element counts of a torchvision-style network, layer by layer (SAME padding)."""

    def __init__(self, res):
        self.h, self.c, self.n = res, 3, Counter()

    def conv(self, out=None, k=1, s=1, dw=False, bn=True, act=None):
        h = -(-self.h // s)
        cin = 1 if dw else self.c
        out = self.c if dw else out
        e = out * h * h
        self.n["mac"] += k * k * cin * e
        self.n["weight"] += k * k * cin * out
        if bn:
            self.n["bn"] += e
            self.n["bn_channels"] += out
        if act:
            self.n[act] += e
        self.h, self.c = h, out

    def se(self, squeeze, act, gate):
        # module pool -> 1x1 conv (bias) -> act -> 1x1 conv (bias) -> gate -> x * s
        c, e = self.c, self.c * self.h * self.h
        self.n["pool_in"] += e
        self.n["pool_out"] += c
        self.n["module_pool_in"] += e
        self.n["module_pool_out"] += c
        self.n["mac"] += 2 * c * squeeze
        self.n["weight"] += 2 * c * squeeze
        self.n["bias"] += squeeze + c  # at 1x1 the bias adds equal the bias parameters
        self.n["bias_params"] += squeeze + c
        self.n[act] += squeeze
        self.n[gate] += c
        self.n["mul"] += e

    def pool(self, module):
        e = self.c * self.h * self.h
        self.n["pool_in"] += e
        self.n["pool_out"] += self.c
        if module:
            self.n["module_pool_in"] += e
            self.n["module_pool_out"] += self.c
        self.h = 1

    def fc(self, out, act=None):
        self.n["mac"] += self.c * out
        self.n["weight"] += self.c * out
        self.n["bias"] += out
        self.n["bias_params"] += out
        if act:
            self.n[act] += out
        self.c = out

    def tv_params(self):
        """torchvision num_params: weights, biases, BN gamma and beta."""
        return self.n["weight"] + self.n["bias_params"] + 2 * self.n["bn_channels"]


def walk_v2():
    """MobileNetV2 Table 2; torchvision: ReLU6 modules, functional head pool."""
    w = Walk(224)
    w.conv(32, k=3, s=2, act="relu6")
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            if t != 1:
                w.conv(w.c * t, act="relu6")
            w.conv(k=3, s=s if i == 0 else 1, dw=True, act="relu6")
            w.conv(c)
    w.conv(1280, act="relu6")
    w.pool(module=False)  # torchvision: nn.functional.adaptive_avg_pool2d
    w.fc(1000)
    return w


V3_LARGE = [  # MobileNetV3 Table 1: k, exp, out, SE, NL, s
    (3, 16, 16, 0, "relu", 1), (3, 64, 24, 0, "relu", 2), (3, 72, 24, 0, "relu", 1),
    (5, 72, 40, 1, "relu", 2), (5, 120, 40, 1, "relu", 1), (5, 120, 40, 1, "relu", 1),
    (3, 240, 80, 0, "hswish", 2), (3, 200, 80, 0, "hswish", 1), (3, 184, 80, 0, "hswish", 1),
    (3, 184, 80, 0, "hswish", 1), (3, 480, 112, 1, "hswish", 1), (3, 672, 112, 1, "hswish", 1),
    (5, 672, 160, 1, "hswish", 2), (5, 960, 160, 1, "hswish", 1), (5, 960, 160, 1, "hswish", 1)]
V3_SMALL = [  # MobileNetV3 Table 2 (latest version; no SE on the 576 conv, as in the code)
    (3, 16, 16, 1, "relu", 2), (3, 72, 24, 0, "relu", 2), (3, 88, 24, 0, "relu", 1),
    (5, 96, 40, 1, "hswish", 2), (5, 240, 40, 1, "hswish", 1), (5, 240, 40, 1, "hswish", 1),
    (5, 120, 48, 1, "hswish", 1), (5, 144, 48, 1, "hswish", 1), (5, 288, 96, 1, "hswish", 2),
    (5, 576, 96, 1, "hswish", 1), (5, 576, 96, 1, "hswish", 1)]


def walk_v3(rows, last, head):
    """MobileNetV3 with torchvision's modules (SE: ReLU, Hardsigmoid; pools are modules)."""
    w = Walk(224)
    w.conv(16, k=3, s=2, act="hswish")
    for k, exp, out, se, nl, s in rows:
        if exp != w.c:
            w.conv(exp, act=nl)
        w.conv(k=k, s=s, dw=True, act=nl)
        if se:
            w.se(md(exp / 4), "relu", "hsigmoid")
        w.conv(out)
    w.conv(last, act="hswish")
    w.pool(module=True)
    w.fc(head, act="hswish")
    w.fc(1000)
    return w


def walk_efficientnet(width, depth, res):
    """EfficientNet B0 stages (Table 1 + official block strings), round_filters/round_repeats."""
    w = Walk(res)
    w.conv(md(32 * width), k=3, s=2, act="swish")
    for t, k, s, c, n in [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
                          (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]:
        for i in range(math.ceil(depth * n)):
            block_in = w.c
            if t != 1:
                w.conv(block_in * t, act="swish")
            w.conv(k=k, s=s if i == 0 else 1, dw=True, act="swish")
            w.se(max(1, int(block_in * 0.25)), "swish", "sigmoid")
            w.conv(md(c * width))
    w.conv(md(1280 * width), act="swish")
    w.pool(module=True)
    w.fc(1000)
    return w


B = {0: (1.0, 1.0, 224), 1: (1.0, 1.1, 240), 2: (1.1, 1.2, 260), 3: (1.2, 1.4, 300),
     4: (1.4, 1.8, 380), 5: (1.6, 2.2, 456), 6: (1.8, 2.6, 528), 7: (2.0, 3.1, 600)}

# published torchvision num_params and _ops-exact MACs (paper_tables.md §4.5, §5; issue text)
PUBLISHED = {
    "mobilenet_v2": (walk_v2, 3_504_872, 300_774_272),
    "mobilenet_v3_large": (lambda: walk_v3(V3_LARGE, 960, 1280), 5_483_032, 216_589_760),
    "mobilenet_v3_small": (lambda: walk_v3(V3_SMALL, 576, 1024), 2_542_856, 56_510_400),
    "efficientnet_b0": (lambda: walk_efficientnet(*B[0]), 5_288_548, 385_814_752),
    "efficientnet_b1": (lambda: walk_efficientnet(*B[1]), 7_794_184, 686_802_832),
    "efficientnet_b2": (lambda: walk_efficientnet(*B[2]), 9_109_994, 993_561_872),
    "efficientnet_b3": (lambda: walk_efficientnet(*B[3]), 12_233_232, 1_827_141_392),
    "efficientnet_b4": (lambda: walk_efficientnet(*B[4]), 19_341_616, 4_393_771_024),
    "efficientnet_b5": (lambda: walk_efficientnet(*B[5]), 30_389_784, 10_266_384_752),
    "efficientnet_b6": (lambda: walk_efficientnet(*B[6]), 43_040_704, 19_067_593_536),
    "efficientnet_b7": (lambda: walk_efficientnet(*B[7]), 66_347_960, 37_745_884_192),
}

# Each peer's rule (peer_conventions.md), in the walker's element counts.
PEER_RULES = {
    # fvcore: BN 2/elem; adaptive_avg_pool2d 1 per input elem (module or functional)
    "fvcore": lambda n: n["mac"] + 2 * n["bn"] + n["pool_in"],
    # ptflops pytorch: bias 1/elem, BN 2/elem, nn.ReLU 2/elem, ReLU6 and SiLU 1/elem;
    # pools 1 per input elem, once more for pool modules; h-swish, sigmoid, x*s, += free
    "ptflops": lambda n: (n["mac"] + n["bias"] + 2 * n["bn"] + 2 * n["relu"] + n["relu6"]
                          + n["swish"] + n["pool_in"] + n["module_pool_in"]),
    "ptflops_aten": lambda n: n["mac"] + n["bias"],
    # thop: BN 4/elem; nn.AdaptiveAvgPool2d (k+1) per output elem = input + output elems
    "thop": lambda n: n["mac"] + 4 * n["bn"] + n["module_pool_in"] + n["module_pool_out"],
    # torchprofile: BN 1/elem, average pools 1 per output elem, aten::mul 1/elem
    "torchprofile": lambda n: n["mac"] + n["bn"] + n["pool_out"] + n["mul"],
    "torchvision": lambda n: n["mac"],
    "paper": lambda n: n["mac"],
}


@pytest.fixture(scope="module")
def walks():
    out = {}
    for name, (make, _, _) in PUBLISHED.items():
        w = make()
        out[name] = Counter(w.n)  # missing counts read as 0
        out[name]["tv_params"] = w.tv_params()
    return out


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_walker_reproduces_published_torchvision_numbers(name, walks):
    _, params, macs = PUBLISHED[name]
    assert walks[name]["mac"] == macs
    assert walks[name]["tv_params"] == params


@pytest.mark.parametrize("conv", list(PEER_RULES))
@pytest.mark.parametrize("name", list(PUBLISHED))
def test_peer_convention_totals(name, conv, walks):
    a = analyze(name, convention=conv)
    assert a.madds == PEER_RULES[conv](walks[name])
    if conv != "paper":  # every torch counter reports module parameters (BN gamma, beta too)
        assert a.params == PUBLISHED[name][1]


def test_module_vs_functional_pool_quirk(walks):
    # torchvision MobileNetV2's head pool is functional: thop sees no pool at all, ptflops
    # counts its input once; V3's head pool is nn.AdaptiveAvgPool2d: twice for ptflops
    v2 = walks["mobilenet_v2"]
    assert v2["module_pool_in"] == 0 and v2["pool_in"] == 7 * 7 * 1280
    assert analyze("mobilenet_v2", convention="thop").madds == 300_774_272 + 4 * v2["bn"]
    v3 = walks["mobilenet_v3_large"]
    head_in = 7 * 7 * 960
    ptf = analyze("mobilenet_v3_large", convention="ptflops").madds
    no_head = ptf - 2 * head_in
    assert no_head == (v3["mac"] + v3["bias"] + 2 * v3["bn"] + 2 * v3["relu"]
                       + 2 * (v3["pool_in"] - head_in))


def test_fvcore_by_hand_on_mobilenet_v2():
    # worked example: BN elements of MobileNetV2 summed stage by stage from Table 2
    bn = 112 * 112 * 32  # stem
    bn += 112 * 112 * (32 + 16)  # first bottleneck (t=1): dw 32, project 16
    size, c_in = 112, 16
    for t, c, n, s in [(6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                       (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            out = size // (s if i == 0 else 1)
            bn += size * size * 6 * c_in + out * out * (6 * c_in + c)
            size, c_in = out, c
    bn += 7 * 7 * 1280
    assert bn == 6_678_112
    fvcore = 300_774_272 + 2 * bn + 7 * 7 * 1280
    assert analyze("mobilenet_v2", convention="fvcore").madds == fvcore == 314_193_216


def test_keras_counts_bn_statistics():
    # Keras-style MobileNetV2 1.4: 6,156,712 (paper_tables §2.4, the ZFTurbo/Keras count)
    assert analyze("mobilenet_v2", alpha="1.4", convention="keras").params == 6_156_712
    assert analyze("mobilenet_v2", convention="keras").params == 3_538_984


# ---------------------------------------------------------------- the README table

def test_readme_table_is_generated_from_the_code():
    assert conventions_markdown() in README.read_text(encoding="utf-8")


def test_readme_table_covers_every_category_and_convention():
    md_cats = [c for _, cats in MADD_ROWS for c in cats]
    p_cats = [c for _, cats in PARAM_ROWS for c in cats]
    assert sorted(md_cats) == sorted(MADD_CATEGORIES)
    assert sorted(p_cats) == sorted(PARAM_CATEGORIES)
    text = conventions_markdown()
    header = text.splitlines()[0]
    assert all(f"`{c}`" in header for c in CONVENTIONS)
    for c in CONVENTIONS.values():  # every weight a convention uses is in some row
        assert set(c.madds) <= set(md_cats) and set(c.params) <= set(p_cats)


def test_readme_table_cells():
    rows = {line.split(" | ")[0].lstrip("| "): line.strip("|").split(" | ")[1:]
            for line in conventions_markdown().splitlines() if line.startswith("| ")}
    names = list(CONVENTIONS)
    bn = dict(zip(names, (c.strip() for c in rows["mult-adds: BatchNorm (inference)"])))
    assert (bn["paper"], bn["fvcore"], bn["thop"], bn["torchprofile"]) == ("0", "2/elem", "4/elem", "1/elem")
    pool = dict(zip(names, (c.strip() for c in rows["mult-adds: global average pool"])))
    assert pool["thop"] == "1/in elem if a module + 1/out elem if a module"
    assert pool["ptflops"] == "1/in elem + 1/in elem if a module"


# ---------------------------------------------------------------- --explain

@pytest.mark.parametrize("a,b", [("fvcore", "paper"), ("thop", "ptflops"), ("keras", "weights"),
                                 ("torchprofile", "torchvision")])
@pytest.mark.parametrize("name", ["mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0"])
def test_explain_differences_add_up(name, a, b):
    ex = explain(name, a, b)
    assert ex.madds == analyze(name, convention=a).madds
    assert ex.other_madds == analyze(name, convention=b).madds
    md_rows = [r for r in ex.rows if r.measure == "mult-adds"]
    p_rows = [r for r in ex.rows if r.measure == "params"]
    assert sum(r.difference for r in md_rows) == ex.madds - ex.other_madds
    assert sum(r.difference for r in p_rows) == ex.params - ex.other_params
    assert all(r.weight != r.other_weight and r.count > 0 for r in ex.rows)


def test_explain_fvcore_vs_paper_on_v3_large(walks):
    n = walks["mobilenet_v3_large"]
    ex = explain("mobilenet_v3_large", "fvcore")
    got = {(r.measure, r.category): (r.count, r.weight, r.other_weight) for r in ex.rows}
    assert got == {("mult-adds", "bn"): (n["bn"], 2, 0),
                   ("mult-adds", "pool.global.in"): (n["pool_in"], 1, 0),
                   ("params", "bn.affine"): (2 * n["bn_channels"], 1, 0)}


def test_cli_explain_default_other_is_paper():
    r = CliRunner().invoke(main, ["table", "mobilenet_v3_large.yaml", "--convention", "fvcore",
                                  "--explain"])
    assert r.exit_code == 0, r.output
    assert "'fvcore' vs 'paper'" in r.output
    assert re.search(r"mult-adds\s+total\s+226,033,824\s+216,589,760\s+\+9,444,064", r.output)


def test_cli_explain_other_json():
    r = CliRunner().invoke(main, ["table", "mobilenet_v2", "-c", "thop", "--explain", "--against",
                                  "ptflops", "-f", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert (d["convention"], d["other"]) == ("thop", "ptflops")
    cats = {row["category"]: row["difference"] for row in d["rows"]}
    # V2 has a functional head pool: thop 0, ptflops 1 per input element
    assert cats["pool.global.in"] == -7 * 7 * 1280
    assert "pool.global.module.in" not in cats


def test_cli_explain_unknown_convention_is_bad_input():
    r = CliRunner().invoke(main, ["table", "mobilenet_v2", "--explain", "--against", "nope"])
    assert r.exit_code == 2
    assert "nope" in r.stderr and r.stderr.count("\n") == 1


def test_cli_explain_does_not_swallow_the_spec():
    # `--explain [OTHER]` used to take the next word as OTHER; now the spec may come after it
    r = CliRunner().invoke(main, ["table", "--convention", "fvcore", "--explain",
                                  "mobilenet_v3_large"])
    assert r.exit_code == 0, r.stderr
    assert re.search(r"mult-adds\s+total\s+226,033,824\s+216,589,760\s+\+9,444,064", r.stdout)


@pytest.mark.parametrize("args", [[], ["--convention", "paper"], ["-c", "fvcore", "--against",
                                                                  "fvcore"]])
def test_cli_explain_with_nothing_to_compare_is_one_line(args):
    # a bare --explain under the default convention would be an empty 'paper vs paper' table
    r = CliRunner().invoke(main, ["table", "mobilenet_v2", "--explain", *args])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "--against" in r.stderr and "--convention" in r.stderr


@pytest.mark.parametrize("extra,flag", [(["--plot", "x.svg"], "--plot"), (["--flops"], "--flops"),
                                        (["--by", "kind"], "--by"), (["--by", "layer"], "--by"),
                                        (["--exact"], "--exact"), (["--all"], "--all")])
def test_cli_explain_refuses_options_it_would_ignore(extra, flag):
    r = CliRunner().invoke(main, ["table", "mobilenet_v2", "-c", "fvcore", "--explain", *extra])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and flag in r.stderr


def test_cli_against_needs_explain():
    r = CliRunner().invoke(main, ["table", "mobilenet_v2", "--against", "fvcore"])
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and "--explain" in r.stderr


def test_cli_torchvision_totals_of_v3_large():
    r = CliRunner().invoke(main, ["table", "mobilenet_v3_large.yaml", "--convention", "torchvision"])
    assert r.exit_code == 0, r.output
    assert re.search(r"Total.*216,589,760.*5,483,032", r.output)


def test_readme_explain_example_is_current():
    cmd = "$ mbcost table mobilenet_v3_large --convention fvcore --explain\n"
    text = README.read_text(encoding="utf-8")
    shown = text[text.index(cmd) + len(cmd):].split("```")[0]
    r = CliRunner().invoke(main, ["table", "mobilenet_v3_large", "--convention", "fvcore",
                                  "--explain"])
    assert r.output == shown


@pytest.mark.parametrize("alpha, text, value", [("0.75", "alpha 0.75,", 0.75), ("1", "alpha 1.0,", 1)])
def test_explain_writes_alpha_as_table_does(alpha, text, value):
    def first_line(*args):
        r = CliRunner().invoke(main, ["table", "mobilenet_v2", "--alpha", alpha, *args])
        assert r.exit_code == 0, r.stderr
        return r.stdout

    # one formatter: 'alpha 0.75' (never '3/4') in the text, 0.75 (never "3/4") in JSON
    assert text in first_line().splitlines()[0]
    assert text in first_line("-c", "fvcore", "--explain").splitlines()[0]
    assert text in first_line("-c", "fvcore", "--explain", "-f", "markdown").splitlines()[0]
    for args in ([], ["-c", "fvcore", "--explain"]):
        got = json.loads(first_line(*args, "-f", "json"))["alpha"]
        assert got == value and type(got) is type(value)


POOL_SPEC = """mbcost: 1
name: pools
input: [32, 32, 3]
defaults: {bn: true}
layers:
  - conv: {k: 3, out: 8}
  - pool: {type: avg, global: true, call: CALL}
  - fc: {out: 10}
"""


@pytest.mark.parametrize("call,thop_pool,ptflops_pool,fvcore_pool", [
    # 32x32x8 = 8192 input elements, 8 output elements
    ("module", 8192 + 8, 2 * 8192, 8192),
    ("functional", 0, 8192, 8192),
    # x.mean([2, 3]): aten::mean, unsupported by fvcore; no module, no patched function
    ("method", 0, 0, 0),
])
def test_pool_call_attribute(tmp_path, call, thop_pool, ptflops_pool, fvcore_pool):
    p = tmp_path / "pools.yaml"
    p.write_text(POOL_SPEC.replace("CALL", call))
    macs = 3 * 3 * 3 * 8 * 32 * 32 + 8 * 10
    bn = 8 * 32 * 32  # the conv's BN output elements (no activation by default)
    assert analyze(str(p), convention="thop").madds == macs + 4 * bn + thop_pool
    # ptflops also counts the 10 FC bias adds
    assert analyze(str(p), convention="ptflops").madds == macs + 10 + 2 * bn + ptflops_pool
    assert analyze(str(p), convention="fvcore").madds == macs + 2 * bn + fvcore_pool
    # torchprofile: avg pools, adaptive ones and means alike, 1 per output element
    assert analyze(str(p), convention="torchprofile").madds == macs + bn + 8


def test_method_call_is_a_global_pool(tmp_path):
    p = tmp_path / "pools.yaml"
    p.write_text(POOL_SPEC.replace("global: true, call: CALL", "k: 2, call: method"))
    r = CliRunner().invoke(main, ["table", str(p)])
    assert r.exit_code == 2
    assert r.stderr.startswith(f"{p}:7: layer 'pool1': field 'call': 'method' is a global pool")
    assert r.stderr.count("\n") == 1


ACT_SPEC = """mbcost: 1
name: acts
input: [32, 32, 3]
layers:
  - conv: {k: 3, out: 8}
  - FN: {call: CALL}
  - fc: {out: 10}
"""


@pytest.mark.parametrize("fn,call,ptflops_act", [
    # 32x32x8 = 8192 activation outputs. ptflops: nn.ReLU's hook plus the patched F.relu it
    # calls; F.relu alone; x.relu() is patched by nothing. nn.ReLU6 calls F.hardtanh (not
    # patched): its hook only; F.relu6 is patched. nn.SiLU has no hook, F.silu is patched.
    ("relu", "module", 2 * 8192), ("relu", "functional", 8192), ("relu", "method", 0),
    ("relu6", "module", 8192), ("relu6", "functional", 8192), ("relu6", "method", 0),
    ("silu", "module", 8192), ("silu", "functional", 8192), ("silu", "method", 0),
    ("hswish", "module", 0), ("hswish", "functional", 0),
    # softmax: ptflops 0.7.5 patches F.softmax (FUNCTIONAL_MAPPING, 1 per element) and has no
    # nn.Softmax module hook; nn.Softmax.forward calls F.softmax: once either way
    ("softmax", "module", 8192), ("softmax", "functional", 8192), ("softmax", "method", 0),
])
def test_activation_call_attribute(tmp_path, fn, call, ptflops_act):
    p = tmp_path / "acts.yaml"
    p.write_text(ACT_SPEC.replace("FN", fn).replace("CALL", call))
    macs = 3 * 3 * 3 * 8 * 32 * 32 + 32 * 32 * 8 * 10  # the FC flattens 32x32x8
    assert analyze(str(p), convention="ptflops").madds == macs + 10 + ptflops_act
    for other in ("fvcore", "thop", "torchprofile", "paper"):  # activations are free there
        assert analyze(str(p), convention=other).madds == macs
    # `- act: {fn: F, call: C}` is the same layer
    q = tmp_path / "act.yaml"
    q.write_text(ACT_SPEC.replace("FN: {", "act: {fn: " + fn + ", ").replace("CALL", call))
    assert analyze(str(q), convention="ptflops").madds == macs + 10 + ptflops_act


@pytest.mark.parametrize("call", ["module", "functional", "method"])
def test_call_agrees_in_every_evaluator(tmp_path, call):
    from fractions import Fraction

    from mbcost import closed_form
    from mbcost.grid import sweep
    from mbcost.symbols import alpha, rho

    relu = "  - relu: {call: " + call + "}\n"
    spec = POOL_SPEC.replace("CALL", call).replace("  - fc:", relu + "  - fc:")
    p = tmp_path / "calls.yaml"
    p.write_text(spec)
    for conv in ("ptflops", "torchprofile", "thop", "fvcore"):
        f = closed_form(str(p), convention=conv)
        sw = sweep(str(p), [Fraction(1, 2), 1], [32, 64], convention=conv)
        for a, r in ((Fraction(1, 2), 32), (1, 32), (1, 64)):
            exact = analyze(str(p), alpha=a, resolution=r, convention=conv).madds
            assert sw.at(a, r).madds == exact, (conv, a, r)
            if a == 1:  # the closed form rounds channels continuously: exact at alpha 1
                assert f.madds.subs({alpha: a, rho: Fraction(r, 32)}) == exact, (conv, a, r)


def test_pool_call_bad_value(tmp_path):
    p = tmp_path / "pools.yaml"
    p.write_text(POOL_SPEC.replace("CALL", "hook"))
    r = CliRunner().invoke(main, ["table", str(p)])
    assert r.exit_code == 2
    assert r.stderr.strip() == (f"{p}:7: layer 'pool': field 'call': must be one of module, "
                                "functional, method (got 'hook')")


def test_cli_explain_csv_rows_add_up():
    import csv
    import io

    r = CliRunner().invoke(main, ["table", "efficientnet_b0", "-c", "ptflops", "--explain", "-f", "csv"])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.output)))
    md = [row for row in rows if row["measure"] == "mult-adds"]
    total = md.pop()
    assert total["category"] == "total"
    assert sum(int(row["ptflops - paper"]) for row in md) == int(total["ptflops - paper"])
    assert int(total["ptflops"]) == analyze("efficientnet_b0", convention="ptflops").madds


def test_readme_family_totals_agree_with_the_code():
    # the README's per-convention totals of the family are documentation; keep them current
    text = README.read_text(encoding="utf-8")
    head = next(line for line in text.splitlines() if line.startswith("| spec | res | `paper`"))
    cols = [c.strip() for c in head.strip("|").split("|")]
    rows = [line for line in text.splitlines() if re.match(r"\| `(mobilenet|efficientnet)\w*` \| \d+ \|", line)]
    assert len(rows) == 11
    checked = 0
    for line in rows:
        cells = dict(zip(cols, (c.strip() for c in line.strip("|").split("|"))))
        name = cells["spec"].strip("`")
        for col, text_value in cells.items():
            m = re.fullmatch(r"(params )?`(\w+)`( mult-adds)?", col)
            if m and col != "spec":
                a = analyze(name, convention=m.group(2))
                assert int(text_value.replace(",", "")) == (a.params if m.group(1) else a.madds)
                checked += 1
    assert checked == 11 * 9  # six mult-add and three parameter columns
