"""Real exports: torchvision models exported to ONNX (tests/fixtures/onnx/, made by
export.py there: torch's exporter, BatchNorm folded into the convs, dynamic height and
width, weights stripped) give the bundled specs' numbers.

- tests/reference/torchvision_counts.json: conv+FC MACs and parameter counts measured
  with torch 2.14.1 / torchvision 0.29.1 (tools/reference_counts.py).
- ShuffleNetV2's counts are also derived by hand below from torchvision's shufflenetv2.py;
  its published num_params is 2,278,604 (the ShuffleNet_V2_X1_0_Weights metadata).

How an export's parameters relate to the conventions: the exporter folds each BatchNorm
(gamma, beta, running mean and variance over C channels) into the conv before it, which
gains a bias of C values. So under `torchvision` (BN gamma and beta counted, convs
without bias) the export has the bundled count minus C per BatchNorm (2C gone, C added),
and under `paper` (BN folded, biases counted) plus C per BatchNorm. Mult-adds of conv
and FC weights do not change.
"""

import json
from pathlib import Path

import pytest
from clirunner import CliRunner
from onnxgraph import onnx
from refspecs import spec_for

import mbcost
from mbcost.cli import main
from mbcost.onnx_reader import import_yaml, read_onnx

ROOT = Path(__file__).resolve().parent
FIXTURES = ROOT / "fixtures" / "onnx"
REF = json.loads((ROOT / "reference" / "torchvision_counts.json").read_text(encoding="utf-8"))
BUNDLED = ("mobilenet_v2", "resnet18", "efficientnet_b0", "shufflenet_v2_x1_0", "googlenet",
           "inception_v3", "convnext_tiny")
# the native size (inception_v3's 299 px) and 160 px, where tests/reference has counts
SIZES = [(n, r) for n in BUNDLED for r in ((299, 160) if n == "inception_v3" else (224, 160))]


def fixture(name):
    return str(FIXTURES / f"{name}.onnx")


def reference(name, res):
    return next(e for e in REF["entries"] if e["model"] == name and e["resolution"] == res)


def bn_channels(analysis):
    """C summed over every BatchNorm of a network (each folds into a C-value conv bias)."""
    return sum(r.output[2] for r in analysis.rows if r.kind == "bn")


def table_json(*args):
    r = CliRunner().invoke(main, ["table", *map(str, args), "--format", "json"])
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("name, res", SIZES)
def test_export_equals_the_bundled_spec(name, res):
    # googlenet and inception_v3: rectangular kernels (1x7, 7x1, 1x3, 3x1), ceil_mode max
    # pools on a dynamic size; convnext_tiny: LayerNormalization, GELU as its erf pattern,
    # nn.Linear on channels-last maps, layer scale (no BatchNorm: parameters equal)
    # an eval export holds no auxiliary head: the reference entry and the spec without it
    # (inception_v3's bundled default keeps AuxLogits, torchvision's published count)
    got = table_json(fixture(name), "--convention", "torchvision", "--res", res)["totals"]
    spec = mbcost.analyze(spec_for(name), resolution=res, convention="torchvision")
    ref = reference(name, res)
    assert got["madds"] == spec.madds == ref["conv_linear_macs"]
    assert spec.params == ref["params"]
    # BN folded: each BatchNorm's 2C gamma/beta become a C-value conv bias
    assert got["params"] == spec.params - bn_channels(spec)
    paper = mbcost.analyze(fixture(name), resolution=res)
    assert paper.params == mbcost.analyze(spec_for(name), resolution=res).params + bn_channels(spec)
    assert paper.madds == got["madds"]


@pytest.mark.parametrize("name, kinds", [
    ("googlenet", {("pool", "ceil_mode"): 4}),  # the four stride-2 max pools (ceil_mode=True)
    # torchvision's inception.py: InceptionC (Mixed_6b-6e, 4 of them) has three 1x7 and
    # three 7x1 convs, InceptionD (Mixed_7a) one of each: 13 and 13; InceptionE (Mixed_7b,
    # 7c) two 1x3 and two 3x1 each: 4 and 4
    ("inception_v3", {("conv", "k", (1, 7)): 4 * 3 + 1, ("conv", "k", (7, 1)): 4 * 3 + 1,
                      ("conv", "k", (1, 3)): 2 * 2, ("conv", "k", (3, 1)): 2 * 2}),
    ("convnext_tiny", {("layernorm",): 23, ("layer_scale",): 18, ("pw", "act", "gelu"): 18}),
])
def test_imported_forms_and_round_trip(tmp_path, name, kinds):
    text = import_yaml(fixture(name))
    out = tmp_path / f"{name}.yaml"
    out.write_text(text)
    layers = []

    def walk(ls):
        for layer in ls:
            (kind, f), = layer.items()
            if kind == "parallel":
                for br in f["branches"]:
                    walk(br)
            layers.append((kind, f))

    walk(read_onnx(fixture(name))["layers"])
    for key, n in kinds.items():
        kind, *cond = key
        found = [f for k, f in layers if k == kind and (
            not cond or (cond[0] in f and (len(cond) == 1 or f[cond[0]] == (
                list(cond[1]) if isinstance(cond[1], tuple) else cond[1]))))]
        assert len(found) == n, (key, len(found))
    assert not [k for k, _ in layers if k == "unknown"]
    for res in (160, 97):  # any size: the written spec counts as the graph does
        for conv_ in ("torchvision", "fvcore"):
            a = mbcost.analyze(fixture(name), resolution=res, convention=conv_)
            b = mbcost.analyze(str(out), resolution=res, convention=conv_)
            assert (a.madds, a.params) == (b.madds, b.params)


def test_exact_form_of_an_export_with_ceil_mode_pools():
    # formula --exact on GoogLeNet's export: its ceil_mode pools as ceilings; equal to the
    # table (and to the bundled spec) at sizes the strides do not divide
    import sympy

    from mbcost.symbols import rho

    form = mbcost.closed_form(fixture("googlenet"), convention="torchvision", exact=True).madds
    for res in (97, 161):
        want = mbcost.analyze("googlenet", resolution=res, convention="torchvision").madds
        assert form.subs(rho, sympy.Rational(res, 224)) == want


# ---------------------------------------------------------------- torch's dynamo exporter

DYNAMO = ("mobilenet_v2", "resnet18")
# biases an untrained torchvision model starts at zero besides the folded BN ones:
# mobilenetv2.py zeroes nn.Linear biases (1000); resnet.py keeps nn.Linear's uniform init
ZERO_LINEAR_BIAS = {"mobilenet_v2": 1000, "resnet18": 0}


@pytest.mark.parametrize("name", DYNAMO)
@pytest.mark.parametrize("res", [224, 160])
def test_dynamo_export_equals_the_bundled_spec(name, res):
    # torch.onnx.export(dynamo=True), the default since torch 2.9: BN folded as above, but
    # its optimizer then removes every bias that is all zero (RemoveOptionalBiasFromConv,
    # ...Gemm): in an untrained model each folded bias (beta - mean*gamma/sqrt(var) = 0)
    # and each zero-initialized Linear bias. So 2C per BatchNorm fewer, and those biases.
    got = table_json(fixture(f"{name}.dynamo"), "--convention", "torchvision", "--res", res)["totals"]
    spec = mbcost.analyze(name, resolution=res, convention="torchvision")
    assert got["madds"] == spec.madds == reference(name, res)["conv_linear_macs"]
    assert got["params"] == spec.params - 2 * bn_channels(spec) - ZERO_LINEAR_BIAS[name]


def test_dynamo_layer_names_come_from_the_module_scopes():
    spec = read_onnx(fixture("resnet18.dynamo"))
    names = [next(iter(layer.values()))["name"] for layer in spec["layers"]]
    if hasattr(onnx.NodeProto(), "metadata_props"):  # onnx >= 1.16 reads node metadata
        # a conv fused with its BatchNorm carries the BatchNorm module's scope
        assert names[:3] == ["bn1", "maxpool", "layer1.0.bn1"]
    else:
        assert names[:2] == ["node_Conv_292", "node_max_pool2d"]  # the node names


@pytest.mark.parametrize("name", BUNDLED + ("mobilenet_v2.dynamo", "resnet18.dynamo"))
def test_fixture_is_dynamic_and_has_no_weights(name):
    m = onnx.load(fixture(name), load_external_data=False)
    dims = m.graph.input[0].type.tensor_type.shape.dim
    batch = "" if name.endswith(".dynamo") else "batch"
    assert [d.dim_param for d in dims] == [batch, "", "height", "width"]
    assert dims[1].dim_value == 3
    external = {e.value for t in m.graph.initializer for e in t.external_data if e.key == "location"}
    assert external == {f"{name}.weights"} and not (FIXTURES / f"{name}.weights").exists()
    assert Path(fixture(name)).stat().st_size < 200_000


@pytest.mark.parametrize("name", ["mobilenet_v2", "efficientnet_b0"])
def test_shared_folded_biases_count_per_layer(name):
    # untrained BN folds to identical biases, which the exporter stores once and hands to
    # several convs through Identity nodes; the count must not depend on that
    m = onnx.load(fixture(name), load_external_data=False)
    alias = {n.output[0]: n.input[0] for n in m.graph.node if n.op_type == "Identity"}
    convs = [n for n in m.graph.node if n.op_type == "Conv" and len(n.input) > 2]
    shared = {alias.get(n.input[2], n.input[2]) for n in convs}
    assert len(shared) < len(convs) / 2
    a = mbcost.analyze(fixture(name))
    biases = sum(r.param_terms.get("bias", 0) for r in a.rows if r.kind in ("conv", "dw", "pw"))
    dims = {t.name: t.dims[0] for t in m.graph.initializer}
    assert biases == sum(dims[alias.get(n.input[2], n.input[2])] for n in convs)


@pytest.mark.parametrize("name", BUNDLED)
def test_import_round_trip(name, tmp_path):
    out = tmp_path / f"{name}.yaml"
    out.write_text(import_yaml(fixture(name)))
    for res in (224, 160, 193):
        a = mbcost.analyze(fixture(name), resolution=res, convention="torchvision")
        b = mbcost.analyze(str(out), resolution=res, convention="torchvision")
        assert (a.madds, a.params) == (b.madds, b.params)
        assert [r.name for r in a.rows] == [r.name for r in b.rows]
    assert mbcost.closed_form(str(out)).madds == mbcost.closed_form(fixture(name)).madds


def test_import_reads_like_the_bundled_specs():
    text = import_yaml(fixture("resnet18"))
    # torch's 7x7 conv with padding 3 is SAME (ceil(H/2) at every H); BN is folded into
    # the bias; ReLU follows the add; most convs have no activation, so no defaults line
    assert text.startswith("# Imported by 'mbcost import' from resnet18.onnx (pytorch 2.14.1, "
                           "opset 17).\n")
    assert "  - conv: {name: conv1, k: 7, out: 64, stride: 2, bias: true, act: relu}" in text
    assert "  - pool: {name: maxpool, type: max, k: 3, stride: 2, padding: 1}" in text
    assert ("      name: layer2.0\n      merge: add\n      branches:\n"
            "        - - conv: {name: conv1, k: 3, out: 128, stride: 2, bias: true, act: relu}\n"
            "          - conv: {name: conv2, k: 3, out: 128, bias: true}\n"
            "        - - pw: {name: downsample.0, out: 128, stride: 2, bias: true}\n"
            "  - relu: {name: layer2.0.relu_1}\n") in text
    assert "  - add: {name: layer1.1, from: layer1.0.relu_1}\n" in text
    assert "defaults:" not in text


def test_closed_form_in_rho_of_a_dynamic_export():
    from mbcost.symbols import rho

    f = mbcost.closed_form(fixture("mobilenet_v2"))
    assert f.madds.free_symbols == {rho} and f.params.free_symbols == set()
    # exact at rho = 1 (224 px) and wherever the strides (32 in all) divide the resolution
    for res in (224, 160, 96):
        assert f.madds.subs(rho, res / 224) == pytest.approx(mbcost.analyze(fixture("mobilenet_v2"),
                                                                            resolution=res).madds)


# ---------------------------------------------------------------- ShuffleNetV2 by hand

def shufflenet_v2_counts(res, repeats=(4, 8, 4), widths=(24, 116, 232, 464, 1024), classes=1000):
    """(conv+FC MACs, torchvision parameters, BN channels) of torchvision's ShuffleNetV2,
    walked from shufflenetv2.py: conv1 3x3/2 + BN + ReLU, maxpool 3/2 pad 1, stages of
    InvertedResidual (stride 2: branch1 = dw 3x3/2 + BN, 1x1 + BN + ReLU; branch2 = 1x1 +
    BN + ReLU, dw 3x3/s + BN, 1x1 + BN + ReLU; stride 1: branch2 on half the channels),
    conv5 1x1 + BN + ReLU, mean, fc with bias. Convs have no bias."""
    macs = params = bn = 0

    def conv(cin, cout, k, hw, groups=1):
        nonlocal macs, params, bn
        macs += k * k * (cin // groups) * cout * hw * hw
        params += k * k * (cin // groups) * cout + 2 * cout  # + BN gamma, beta
        bn += cout

    h = (res + 2 - 3) // 2 + 1
    conv(3, widths[0], 3, h)
    h = (h + 2 - 3) // 2 + 1
    cin = widths[0]
    for n, cout in zip(repeats, widths[1:4]):
        bf = cout // 2
        h2 = (h + 2 - 3) // 2 + 1
        conv(cin, cin, 3, h2, groups=cin)
        conv(cin, bf, 1, h2)
        conv(cin, bf, 1, h)
        conv(bf, bf, 3, h2, groups=bf)
        conv(bf, bf, 1, h2)
        h = h2
        for _ in range(n - 1):
            conv(bf, bf, 1, h)
            conv(bf, bf, 3, h, groups=bf)
            conv(bf, bf, 1, h)
        cin = cout
    conv(cin, widths[4], 1, h)
    macs += widths[4] * classes
    params += widths[4] * classes + classes
    return macs, params, bn


def test_shufflenet_walker_matches_torchvision_metadata():
    macs, params, _ = shufflenet_v2_counts(224)
    assert params == 2_278_604  # ShuffleNet_V2_X1_0_Weights: num_params
    assert round(macs / 1e9, 2) == 0.14  # its _ops (GFLOPS, really GMACs)


@pytest.mark.parametrize("res", [224, 160])
def test_shufflenet_split_and_shuffle_are_read(res):
    # x.chunk(2, dim=1) exports as two Slices (a split layer each), channel_shuffle as
    # Reshape-Transpose-Reshape (a channel_shuffle layer): nothing unknown, exact by hand
    macs, params, bn = shufflenet_v2_counts(res)
    got = table_json(fixture("shufflenet_v2_x1_0"), "--convention", "torchvision", "--res", res)
    assert got["totals"] == {"madds": macs, "params": params - bn}
    kinds = [r["kind"] for r in got["layers"]]
    # 13 stride-1 units split their input in two; all 16 units shuffle
    assert (kinds.count("split"), kinds.count("channel_shuffle"), kinds.count("unknown")) == (26, 16, 0)
    assert all(r["madds"] == r["params"] == 0 for r in got["layers"]
               if r["kind"] in ("split", "channel_shuffle"))
    spec = read_onnx(fixture("shufflenet_v2_x1_0"))
    assert [next(iter(x)) for x in spec["layers"]].count("parallel") == 16
    assert [next(iter(x)) for x in spec["layers"]].count("channel_shuffle") == 16


def test_shufflenet_import_reads_like_the_bundled_spec():
    # the imported unit is the bundled block's: two split halves in parallel branches, the
    # second convolved, a concat, then the shuffle in 2 groups
    text = import_yaml(fixture("shufflenet_v2_x1_0"))
    assert ("  - parallel:\n      name: stage2.1\n      merge: concat\n      branches:\n"
            "        - - split: {name: slice, take: 1}\n"
            "        - - split: {name: slice, take: 2}\n"
            "          - pw: {name: branch2.0, out: 58, bias: true}\n") in text
    assert "  - channel_shuffle: {name: stage2.1.channel_shuffle, groups: 2}\n" in text
    bundled = {r.kind: 0 for r in mbcost.analyze("shufflenet_v2_x1_0").rows}
    for r in mbcost.analyze("shufflenet_v2_x1_0").rows:
        bundled[r.kind] += 1
    imported = {}
    for r in mbcost.analyze(fixture("shufflenet_v2_x1_0")).rows:
        imported[r.kind] = imported.get(r.kind, 0) + 1
    # the same layers but the BatchNorms (folded into the convs by the exporter)
    assert {k: v for k, v in bundled.items() if k != "bn"} == imported


# ---------------------------------------------------------------- the README's ONNX section

README = (ROOT.parent / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## ONNX models", 1)[1].split("\n## ", 1)[0]


def _run(args, code=0):
    r = CliRunner(env={"COLUMNS": "160"}).invoke(main, args)
    assert r.exit_code == code, r.stderr
    return r.stdout if code == 0 else r.stderr


def test_readme_operator_table_lists_every_mapped_operator():
    from mbcost.onnx_reader import SUPPORTED_OPS

    table = SECTION.split("**Supported operators**", 1)[1].split("\n\n", 2)[1]
    for op in SUPPORTED_OPS:
        assert f"`{op}`" in table, op


def test_readme_onnx_examples_are_what_mbcost_prints(monkeypatch):
    monkeypatch.chdir(FIXTURES)
    blocks = SECTION.split("```")
    for block in blocks[1::2]:
        lines = block.strip("\n").splitlines()
        cmd = None
        for line in lines:
            if line.startswith("$ mbcost "):
                args = line[len("$ mbcost "):].split()
                cmd = args
                code = 0 if "cannot count" not in block or "--allow-unknown" in args else 2
                out = _run(args, code)
                continue
            if cmd is None or line == "..." or not line.strip():
                continue
            assert line in out.splitlines(), (cmd, line)
    # the import excerpt is the start of what mbcost import writes for resnet18
    excerpt = next(b for b in blocks[1::2] if b.startswith("yaml"))
    written = import_yaml("resnet18.onnx")
    for part in excerpt[len("yaml\n"):].split("  ...\n"):
        assert part in written
