"""ONNX in: every supported operator on small graphs built with onnx.helper (no torch),
static and dynamic sizes, each expected count derived here; unknown operators; the
import round trip; hostile files. The real torchvision exports: tests/test_onnx_exports.py.
"""

import json
import random
import sys
from pathlib import Path

import pytest
import yaml
from clirunner import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from onnxgraph import bn, conv, floats, helper, ints, model, node, random_graph, save, weight

import mbcost
from mbcost import onnx_reader, onnx_spec
from mbcost.cli import main
from mbcost.errors import LimitError, SpecError, UsageError
from mbcost.onnx_reader import import_yaml, read_onnx
from mbcost.symbols import rho


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line_error(r, code=2):
    """The contract of bad input: the exit code, nothing on stdout, one line on stderr."""
    assert r.exit_code == code, (r.exit_code, r.stdout, r.stderr)
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    return r.stderr.strip()


def analyze(tmp_path, m, **kw):
    allow = kw.pop("allow_unknown", False)
    return mbcost.analyze(read_onnx(save(tmp_path, m), allow_unknown=allow), **kw)


def rows(a, kind=None):
    return [r for r in a.rows if kind is None or r.kind == kind]


# ---------------------------------------------------------------- convolutions


def test_conv_with_bias_static(tmp_path):
    inits = []
    m = model([conv("x", "y", 3, 8, 3, inits, pads=[1, 1, 1, 1])], inits)
    a = analyze(tmp_path, m)
    # D_K^2 M N D_F^2 with D_F = 32 (pad 1 keeps the size); weights 3*3*3*8 plus 8 biases
    assert a.madds == 3 * 3 * 3 * 8 * 32 * 32
    assert a.params == 3 * 3 * 3 * 8 + 8
    assert a.input == (32, 32, 3) and a.rows[0].output == (32, 32, 8)


@pytest.mark.parametrize("attrs, size, out", [
    ({"strides": [2, 2], "auto_pad": "SAME_UPPER"}, 33, 17),  # ceil(33 / 2)
    ({"strides": [2, 2], "auto_pad": "SAME_LOWER"}, 33, 17),
    ({"auto_pad": "VALID"}, 32, 30),  # 32 - 3 + 1
    ({"strides": [2, 2], "pads": [1, 1, 1, 1]}, 33, 17),  # floor((33 + 2 - 3) / 2) + 1
    ({"strides": [3, 3], "pads": [2, 2, 2, 2]}, 32, 12),  # floor((32 + 4 - 3) / 3) + 1
    ({"dilations": [2, 2], "pads": [2, 2, 2, 2]}, 32, 32),  # k_eff 5, total pad 4
    ({"dilations": [2, 2], "pads": [3, 3, 3, 3]}, 32, 34),  # k_eff 5, total pad 6
])
def test_conv_windows(tmp_path, attrs, size, out):
    inits = []
    m = model([conv("x", "y", 4, 8, 3, inits, bias=False, **attrs)], inits, shape=(1, 4, size, size))
    a = analyze(tmp_path, m)
    assert a.rows[0].output == (out, out, 8)
    assert a.madds == 3 * 3 * 4 * 8 * out * out  # dilation spreads the taps, it adds none
    assert a.params == 3 * 3 * 4 * 8


@pytest.mark.parametrize("attrs", [
    {"strides": [2, 2], "auto_pad": "SAME_UPPER"},
    {"strides": [2, 2], "pads": [1, 1, 1, 1]},
    {"dilations": [2, 2], "pads": [2, 2, 2, 2]},
    {"strides": [2, 2], "pads": [0, 0, 2, 2]},  # total k - 1: ceil(H / 2) at every H
])
@pytest.mark.parametrize("res", [224, 161, 97])
def test_dynamic_windows_follow_the_resolution(tmp_path, attrs, res):
    inits = []
    m = model([conv("x", "y", 3, 8, 3, inits, bias=False, **attrs)], inits,
              shape=(None, 3, "height", "width"))
    a = analyze(tmp_path, m, resolution=res)
    s, pad = attrs.get("strides", [1])[0], attrs.get("pads", [0, 0, 0, 0])
    ke = 2 * (3 - 1) + 1 if "dilations" in attrs else 3
    want = -(-res // s) if "auto_pad" in attrs else (res + pad[0] + pad[2] - ke) // s + 1
    assert a.rows[0].output == (want, want, 8)
    assert a.madds == 9 * 3 * 8 * want * want


def test_grouped_and_depthwise(tmp_path):
    inits = []
    nodes = [conv("x", "g", 8, 16, 3, inits, group=2, bias=False, pads=[1, 1, 1, 1]),
             conv("g", "d", 16, 32, 3, inits, group=16, bias=False, pads=[1, 1, 1, 1]),
             conv("d", "y", 32, 32, 1, inits, bias=False)]
    a = analyze(tmp_path, model(nodes, inits, shape=(1, 8, 16, 16)))
    g, d, p = a.rows
    hw = 16 * 16
    assert (g.op, g.madds, g.params) == ("Conv 3x3 grouped", 9 * (8 // 2) * 16 * hw, 9 * 4 * 16)
    # depthwise with channel multiplier 2: D_K^2 N D_F^2, N = 16 x 2
    assert (d.op, d.madds, d.params) == ("Conv DW 3x3", 9 * 32 * hw, 9 * 32)
    assert (p.op, p.madds, p.params) == ("Conv 1x1", 32 * 32 * hw, 32 * 32)
    spec = read_onnx(save(tmp_path, model(nodes, inits, shape=(1, 8, 16, 16))))
    kinds = [next(iter(layer)) for layer in spec["layers"]]
    assert kinds == ["conv", "dw", "pw"]
    assert spec["layers"][1]["dw"]["multiplier"] == 2


def test_conv_bn_activation_is_one_layer(tmp_path):
    inits = []
    nodes = [conv("x", "c", 3, 16, 3, inits, bias=False, pads=[1, 1, 1, 1], name="stem"),
             bn("c", "b", 16, inits, name="stem_bn"),
             node("Relu", ["b"], ["y"], name="stem_relu")]
    p = save(tmp_path, model(nodes, inits))
    spec = read_onnx(p)
    assert spec["layers"] == [{"conv": {"name": "stem", "k": 3, "out": 16}}]
    assert spec["defaults"] == {"bn": True, "act": "relu"}
    a = mbcost.analyze(spec, convention="torchvision")
    assert [r.name for r in a.rows] == ["stem", "stem.bn", "stem.relu"]
    # torchvision counts BN gamma and beta: 2 per channel; keras also the running stats
    assert a.params == 3 * 3 * 3 * 16 + 2 * 16
    assert mbcost.analyze(spec, convention="keras").params == 3 * 3 * 3 * 16 + 4 * 16


def test_identity_shared_bias_counts_for_each_conv(tmp_path):
    # torch.onnx.export stores one initializer for identical folded biases and feeds it to
    # several convs through Identity nodes; each conv still has its own 8 biases
    inits = [weight("w1", (8, 3, 1, 1)), weight("w2", (8, 8, 1, 1)), weight("shared", (8,))]
    nodes = [node("Identity", ["shared"], ["b1"]), node("Identity", ["shared"], ["b2"]),
             node("Conv", ["x", "w1", "b1"], ["c1"], kernel_shape=[1, 1]),
             node("Conv", ["c1", "w2", "b2"], ["y"], kernel_shape=[1, 1])]
    a = analyze(tmp_path, model(nodes, inits))
    assert a.params == (3 * 8 + 8) + (8 * 8 + 8)


def _roundtrip(tmp_path, p, resolutions=(None,)):
    """mbcost import writes a spec with the ONNX file's totals (at each resolution)."""
    out = tmp_path / "imported.yaml"
    out.write_text(import_yaml(p))
    for res in resolutions:
        for conv_ in ("paper", "fvcore", "torchvision"):  # fvcore counts pools and norms
            a = mbcost.analyze(p, resolution=res, convention=conv_)
            b = mbcost.analyze(str(out), resolution=res, convention=conv_)
            assert (a.madds, a.params) == (b.madds, b.params)
            assert [r.output for r in a.rows] == [r.output for r in b.rows]
    return read_onnx(p)


def _onnx_size(h, k, s, d, pb, pe):
    """ONNX's (and torch's) output size of a window: floor((H + pads - span) / s) + 1."""
    return (h + pb + pe - (d * (k - 1) + 1)) // s + 1


# kernel (h, w), strides, dilations, pads [top, left, bottom, right] -> the spec's fields
RECT_CONVS = [
    ((1, 7), [1, 1], [1, 1], [0, 3, 0, 3], {"k": [1, 7]}),  # Inception's 1x7
    ((7, 1), [1, 1], [1, 1], [3, 0, 3, 0], {"k": [7, 1]}),
    ((3, 3), [1, 2], [1, 1], [1, 1, 1, 1], {"k": 3, "stride": [1, 2]}),
    ((3, 3), [1, 1], [2, 2], [0, 0, 0, 0], {"k": 3, "padding": "valid", "dilation": 2}),
    ((3, 3), [1, 1], [1, 2], [1, 2, 1, 2], {"k": 3, "dilation": [1, 2]}),
    ((3, 3), [2, 2], [2, 2], [2, 2, 2, 2], {"k": 3, "stride": 2, "dilation": 2}),
    ((3, 5), [2, 1], [1, 1], [0, 2, 0, 2], {"k": [3, 5], "stride": [2, 1], "padding": [0, 2]}),
    ((3, 3), [1, 1], [3, 1], [2, 1, 2, 1], {"k": 3, "padding": [2, 1], "dilation": [3, 1]}),
]


@pytest.mark.parametrize("k, strides, dil, pads, fields", RECT_CONVS)
@pytest.mark.parametrize("shape", [(1, 4, 17, 23), (None, 4, "h", "w")])
def test_rectangular_strided_and_dilated_convs(tmp_path, k, strides, dil, pads, fields, shape):
    inits = []
    m = model([conv("x", "y", 4, 8, k, inits, bias=False, strides=strides, dilations=dil,
                    pads=pads)], inits, shape=shape)
    p = save(tmp_path, m)
    spec = _roundtrip(tmp_path, p, (None, 161, 97) if shape[0] is None else (None,))
    assert spec["layers"] == [{"conv": {"name": "y", **{"k": k, "out": 8, **fields}}}]
    for res in ((224, 161, 97) if shape[0] is None else (None,)):
        h, w = (shape[2], shape[3]) if res is None else (res, res)
        oh = _onnx_size(h, k[0], strides[0], dil[0], pads[0], pads[2])
        ow = _onnx_size(w, k[1], strides[1], dil[1], pads[1], pads[3])
        a = analyze(tmp_path, m, resolution=res)
        assert a.rows[0].output == (oh, ow, 8)
        # K_h K_w M N D_F^2: dilation spreads the taps, it adds none
        assert (a.madds, a.params) == (k[0] * k[1] * 4 * 8 * oh * ow, k[0] * k[1] * 4 * 8)
        assert a.rows[0].op == f"Conv {k[0]}x{k[1]}"


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(k=st.tuples(st.integers(1, 7), st.integers(1, 7)), s=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       d=st.tuples(st.integers(1, 3), st.integers(1, 3)), pads=st.lists(st.integers(0, 4), min_size=4, max_size=4),
       pool=st.sampled_from([None, "MaxPool", "AveragePool"]), ceil=st.booleans())
# a ceil_mode pool padded over half its kernel: torch refuses it, so the spec cannot say it
@example(k=(1, 1), s=(1, 1), d=(1, 1), pads=[0, 1, 0, 1], pool="MaxPool", ceil=True)
def test_a_mapped_window_has_the_graphs_size_at_every_resolution(tmp_path, k, s, d, pads, pool, ceil):
    # the reader checks the spec against the graph at the base size; the padding it writes
    # must give the graph's size at any other size too (or the op is refused as unknown)
    inits = []
    if pool:
        d = (1, 1)
        m = model([node(pool, ["x"], ["y"], kernel_shape=list(k), strides=list(s), pads=pads,
                        ceil_mode=int(ceil))], shape=(None, 3, "h", "w"))
    else:
        m = model([conv("x", "y", 3, 4, k, inits, bias=False, strides=list(s), dilations=list(d),
                        pads=pads)], inits, shape=(None, 3, "h", "w"))
    p = save(tmp_path, m)
    try:
        spec = read_onnx(p)
    except SpecError as e:
        assert "cannot count" in str(e)
        return
    for res in (40, 41, 57, 64, 97):
        want = []
        for i in (0, 1):
            span = d[i] * (k[i] - 1) + 1
            if pool and ceil:
                o = -(-(res + pads[i] + pads[i + 2] - span) // s[i]) + 1
                o -= (o - 1) * s[i] >= res + pads[i]
            else:
                o = _onnx_size(res, k[i], s[i], d[i], pads[i], pads[i + 2])
            want.append(o)
        got = mbcost.analyze(spec, resolution=res).rows[0].output
        assert got[:2] == tuple(want), (res, spec["layers"])


def test_depthwise_rectangular_kernel(tmp_path):
    inits = []
    m = model([conv("x", "y", 8, 8, (1, 5), inits, bias=False, group=8, pads=[0, 2, 0, 2],
                    strides=[2, 2])], inits, shape=(None, 8, "h", "w"))
    spec = _roundtrip(tmp_path, save(tmp_path, m), (None, 99))
    assert spec["layers"] == [{"dw": {"name": "y", "k": [1, 5], "stride": 2}}]
    a = analyze(tmp_path, m, resolution=99)
    o = -(-99 // 2)  # total padding span - 1 on both axes: ceil(H / 2)
    assert a.rows[0].output == (o, o, 8) and a.madds == 5 * 8 * o * o


def test_asymmetric_padding(tmp_path):
    # ZeroPadding2D((0, 1), (0, 1)) then a 3x3 stride-2 valid conv (Keras' correct_pad)
    inits = []
    nodes = [conv("x", "y", 3, 8, 3, inits, bias=False, strides=[2, 2], pads=[0, 0, 1, 1])]
    fixed = analyze(tmp_path, model(nodes, inits, shape=(1, 3, 32, 32)))
    out = (32 + 1 - 3) // 2 + 1  # 16 at the graph's own size
    assert fixed.rows[0].output == (out, out, 8) and fixed.madds == 27 * 8 * out * out
    # with a dynamic size no spec padding gives floor((H + 1 - 3) / 2) + 1 at every H
    p = save(tmp_path, model(nodes, inits, shape=(1, 3, "h", "w")), "dyn.onnx")
    assert "Conv (asymmetric padding: pads [0, 0, 1, 1])" in one_line_error(run("table", p))


def test_pad_folds_into_the_next_conv(tmp_path):
    inits = [ints("pads", [0, 0, 1, 1, 0, 0, 1, 1])]
    nodes = [node("Pad", ["x", "pads"], ["p"]),
             conv("p", "y", 3, 8, 3, inits, bias=False, auto_pad="VALID")]
    a = analyze(tmp_path, model(nodes, inits, shape=(1, 3, "h", "w")), resolution=50)
    assert [r.kind for r in a.rows] == ["conv"]
    assert a.rows[0].output == (50, 50, 8) and a.madds == 27 * 8 * 50 * 50


# ---------------------------------------------------------------- activations


@pytest.mark.parametrize("op, attrs, fn", [
    ("Relu", {}, "relu"), ("HardSwish", {}, "hswish"), ("Sigmoid", {}, "sigmoid"),
    ("HardSigmoid", {"alpha": 1 / 6}, "hsigmoid"), ("Tanh", {}, "tanh"),
    ("Softmax", {"axis": 1}, "softmax"),
])
def test_activations_after_a_conv(tmp_path, op, attrs, fn):
    inits = []
    nodes = [conv("x", "c", 3, 8, 1, inits, bias=False), node(op, ["c"], ["y"], **attrs)]
    spec = read_onnx(save(tmp_path, model(nodes, inits)))
    assert spec["defaults"]["act"] == fn
    a = mbcost.analyze(spec)
    assert [r.name for r in a.rows] == ["c", f"c.{fn}"]


def _gelu_nodes(grouping, x="c", y="y", sqrt2_div=True):
    """x * 0.5 * (1 + erf(x / sqrt 2)) as exporters write nn.GELU before opset 20, in
    each grouping of the three products (torch's is 'torch')."""
    inits = [floats("sqrt2", [2 ** 0.5] if sqrt2_div else [2 ** -0.5]), floats("one", [1.0]),
             floats("half", [0.5])]
    nodes = [node("Div" if sqrt2_div else "Mul", [x, "sqrt2"], ["s"]), node("Erf", ["s"], ["e"]),
             node("Add", ["e", "one"], ["u"])]
    if grouping == "torch":  # (x * (1 + erf)) * 0.5
        nodes += [node("Mul", [x, "u"], ["m"]), node("Mul", ["m", "half"], [y])]
    elif grouping == "half_first":  # (0.5 * x) * (1 + erf)
        nodes += [node("Mul", ["half", x], ["h"]), node("Mul", ["h", "u"], [y])]
    else:  # x * ((1 + erf) * 0.5)
        nodes += [node("Mul", ["u", "half"], ["h"]), node("Mul", [x, "h"], [y])]
    return nodes, inits


@pytest.mark.parametrize("grouping, div", [("torch", True), ("half_first", True),
                                           ("half_last", False), ("op", None)])
def test_gelu_op_and_erf_pattern(tmp_path, grouping, div):
    inits = []
    nodes = [conv("x", "c", 3, 8, 3, inits, bias=True, pads=[1, 1, 1, 1])]
    if grouping == "op":  # opset 20's Gelu
        nodes.append(node("Gelu", ["c"], ["y"], approximate="none"))
    else:
        more, consts = _gelu_nodes(grouping, sqrt2_div=div)
        nodes += more
        inits += consts
    p = save(tmp_path, model(nodes, inits, shape=(1, 3, "h", "w"), opset=20 if div is None else 17))
    spec = _roundtrip(tmp_path, p, (None, 97))
    # one conv with its GELU, as ConvNeXt's spec writes nn.GELU
    assert spec["layers"] == [{"conv": {"name": "c", "k": 3, "out": 8, "bias": True}}]
    assert spec["defaults"] == {"bn": False, "act": "gelu"}
    a = mbcost.analyze(p, resolution=97)
    assert [r.name for r in a.rows] == ["c", "c.gelu"]
    assert a.madds == 27 * 8 * 97 * 97  # the taps; no bias adds, no GELU under paper
    # ptflops counts an nn.GELU's elements twice (its hook and the F.gelu it calls)
    pt = mbcost.analyze(p, resolution=97, convention="ptflops")
    assert pt.rows[1].madds == 2 * 8 * 97 * 97


def test_a_near_gelu_stays_unknown(tmp_path):
    inits = []
    nodes = [conv("x", "c", 3, 8, 1, inits, bias=False)]
    more, consts = _gelu_nodes("torch")
    consts[1] = floats("one", [2.0])  # 2 + erf: not GELU
    p = save(tmp_path, model(nodes + more, inits + consts))
    err = one_line_error(run("table", p))
    assert ": 5 operators mbcost cannot count: " in err and "Erf x1" in err


def _ln_inits(c, dims=None):
    return [weight("gamma", dims or (c,)), weight("beta", dims or (c,))]


def test_layernormalization_channels_last(tmp_path):
    # ConvNeXt's block: permute to N H W C, LayerNorm over C, permute back (opset 17)
    inits = _ln_inits(8)
    nodes = [conv("x", "c", 3, 8, 3, inits, bias=True, pads=[1, 1, 1, 1]),
             node("Transpose", ["c"], ["t"], perm=[0, 2, 3, 1]),
             node("LayerNormalization", ["t", "gamma", "beta"], ["n"], axis=-1, epsilon=1e-6),
             node("Transpose", ["n"], ["b"], perm=[0, 3, 1, 2]),
             conv("b", "y", 8, 16, 1, inits, bias=True)]
    p = save(tmp_path, model(nodes, inits, shape=(1, 3, "h", "w")))
    spec = _roundtrip(tmp_path, p, (None, 97))
    assert {"layernorm": {"name": "n"}} in spec["layers"]
    hw = 97 * 97
    conv_madds = 27 * 8 * hw + 8 * 16 * hw  # the taps (torchvision: no bias adds)
    conv_params = 27 * 8 + 8 + 8 * 16 + 16
    tv = mbcost.analyze(p, resolution=97, convention="torchvision")
    assert (tv.madds, tv.params) == (conv_madds, conv_params + 2 * 8)  # gamma, beta
    fv = mbcost.analyze(p, resolution=97, convention="fvcore")
    assert fv.madds == 27 * 8 * hw + 8 * 16 * hw + 5 * 8 * hw  # fvcore: 5 per LN element


def test_convnext_block_channels_last_linear_and_layer_scale(tmp_path):
    # torchvision's CNBlock as torch exports it (opset 17): 7x7 depthwise, permute to
    # channels last, LayerNorm, Linear (MatMul + Add), GELU (the erf pattern), Linear,
    # permute back, layer scale (Mul by C x 1 x 1), residual add
    c = 8
    inits = _ln_inits(c) + [weight("w1", (c, 4 * c)), weight("b1", (4 * c,)),
                            weight("w2", (4 * c, c)), weight("b2", (c,)), weight("ls", (c, 1, 1))]
    gelu, consts = _gelu_nodes("torch", x="h1", y="g")
    nodes = [conv("x", "dw", c, c, 7, inits, group=c, pads=[3, 3, 3, 3]),
             node("Transpose", ["dw"], ["t"], perm=[0, 2, 3, 1]),
             node("LayerNormalization", ["t", "gamma", "beta"], ["n"], axis=-1),
             node("MatMul", ["n", "w1"], ["m1"]), node("Add", ["m1", "b1"], ["h1"]), *gelu,
             node("MatMul", ["g", "w2"], ["m2"]), node("Add", ["b2", "m2"], ["h2"]),
             node("Transpose", ["h2"], ["tb"], perm=[0, 3, 1, 2]),
             node("Mul", ["ls", "tb"], ["scaled"]), node("Add", ["x", "scaled"], ["y"])]
    p = save(tmp_path, model(nodes, inits + consts, shape=(1, c, "h", "w")))
    spec = _roundtrip(tmp_path, p, (None, 57))
    body = [{k: {f: v for f, v in x.items() if f != "name"}} for layer in spec["layers"]
            for k, x in layer.items()]
    assert body == [{"dw": {"k": 7, "bias": True}}, {"layernorm": {}},  # pads 3: same
                    {"pw": {"out": 32, "bias": True, "act": "gelu"}}, {"pw": {"out": 8, "bias": True}},
                    {"layer_scale": {}}, {"add": {"from": "input"}}]
    hw = 57 * 57
    tv = mbcost.analyze(p, resolution=57, convention="torchvision")
    assert tv.madds == 49 * c * hw + 2 * c * 4 * c * hw  # the taps
    # dw 49C + C, LayerNorm 2C, Linears 4C^2 + 4C and 4C^2 + C, layer scale C
    assert tv.params == (49 * c + c) + 2 * c + (4 * c * c + 4 * c) + (4 * c * c + c) + c
    # the same as the bundled convnext_tiny's block (tests/test_baselines.py checks that
    # block against torchvision), under every convention
    block = yaml.safe_load((Path(mbcost.__file__).parent / "specs" / "convnext_tiny.yaml").read_text())
    ref = {"mbcost": 1, "name": "block", "input": [57, 57, c], "defaults": {"bn": False, "act": "none"},
           "blocks": {"cnblock": block["blocks"]["cnblock"]},
           "layers": [{"cnblock": {"name": "stage", "c": c, "n": 1}}]}
    for conv_ in ("paper", "torchvision", "fvcore", "ptflops", "thop", "torchprofile"):
        a, b = mbcost.analyze(p, resolution=57, convention=conv_), mbcost.analyze(ref, convention=conv_)
        assert (a.madds, a.params) == (b.madds, b.params), conv_


def test_layernormalization_on_a_1x1_map_and_refused_forms(tmp_path):
    # ConvNeXt's head: LayerNorm2d over the channels of the pooled 1x1 map
    inits = _ln_inits(8) + [weight("w", (8, 5))]
    nodes = [conv("x", "c", 3, 8, 1, inits, bias=False), node("GlobalAveragePool", ["c"], ["g"]),
             node("LayerNormalization", ["g", "gamma", "beta"], ["n"], axis=1),
             node("Flatten", ["n"], ["f"]), node("MatMul", ["f", "w"], ["y"])]
    p = save(tmp_path, model(nodes, inits, shape=(1, 3, "h", "w")))
    spec = _roundtrip(tmp_path, p, (None, 97))
    assert spec["layers"][2] == {"layernorm": {"name": "n"}}
    assert mbcost.analyze(p, convention="torchvision").params == 3 * 8 + 2 * 8 + 8 * 5
    # over C, H and W of a map larger than 1x1: not the spec's layernorm
    nodes = [conv("x", "c", 3, 8, 1, inits, bias=False),
             node("LayerNormalization", ["c", "gamma", "beta"], ["y"], axis=1)]
    err = one_line_error(run("table", save(tmp_path, model(nodes, inits), "chw.onnx")))
    assert "LayerNormalization (not over the channels alone) x1" in err


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_layernorm_pattern_of_older_exports(tmp_path, layout):
    # (x - mean) / sqrt(mean((x - mean)^2) + eps) * gamma + beta over the channels:
    # torch's opset < 17 export of nn.LayerNorm (channels last), and ConvNeXt's own
    # channels-first LayerNorm (mean over axis 1, gamma of shape C x 1 x 1)
    last = layout == "channels_last"
    inits = _ln_inits(8, None if last else (8, 1, 1)) + [floats("two", [2.0]), floats("eps", [1e-6])]
    ax = [-1] if last else [1]
    nodes = [conv("x", "c", 3, 8, 1, inits, bias=False)]
    x = "c"
    if last:
        nodes.append(node("Transpose", ["c"], ["t"], perm=[0, 2, 3, 1]))
        x = "t"
    nodes += [node("ReduceMean", [x], ["mu"], axes=ax), node("Sub", [x, "mu"], ["d"]),
              node("Pow", ["d", "two"], ["d2"]), node("ReduceMean", ["d2"], ["var"], axes=ax),
              node("Add", ["var", "eps"], ["ve"]), node("Sqrt", ["ve"], ["sd"]),
              node("Div", ["d", "sd"], ["z"]), node("Mul", ["z", "gamma"], ["zg"]),
              node("Add", ["zg", "beta"], ["n" if last else "y"])]
    if last:
        nodes.append(node("Transpose", ["n"], ["y"], perm=[0, 3, 1, 2]))
    p = save(tmp_path, model(nodes, inits, shape=(1, 3, "h", "w"), opset=13))
    spec = _roundtrip(tmp_path, p, (None, 97))
    assert [next(iter(layer)) for layer in spec["layers"]] == ["pw", "layernorm"]
    tv = mbcost.analyze(p, resolution=97, convention="torchvision")
    assert (tv.madds, tv.params) == (3 * 8 * 97 * 97, 3 * 8 + 2 * 8)
    # the same with x^3 in place of x^2 is no LayerNorm: each op stays unknown
    inits = [floats("two", [3.0]) if t.name == "two" else t for t in inits]
    err = one_line_error(run("table", save(tmp_path, model(nodes, inits, opset=13), "p3.onnx")))
    assert "Pow x1" in err and "Sqrt x1" in err


def test_clip_is_relu6_from_inputs_and_from_attributes(tmp_path):
    inits = [floats("lo", [0.0]), floats("hi", [6.0])]
    new = [conv("x", "c", 3, 8, 1, inits, bias=False), node("Clip", ["c", "lo", "hi"], ["y"])]
    assert read_onnx(save(tmp_path, model(new, inits)))["defaults"]["act"] == "relu6"
    inits = []
    old = [conv("x", "c", 3, 8, 1, inits, bias=False), node("Clip", ["c"], ["y"], min=0.0, max=6.0)]
    assert read_onnx(save(tmp_path, model(old, inits, opset=10), "old.onnx"))["defaults"]["act"] == "relu6"
    inits = [floats("lo", [-1.0]), floats("hi", [1.0])]
    other = [conv("x", "c", 3, 8, 1, inits, bias=False), node("Clip", ["c", "lo", "hi"], ["y"])]
    err = one_line_error(run("table", save(tmp_path, model(other, inits), "o.onnx")))
    assert "Clip (-1, 1) x1" in err


def test_swish_and_hswish_patterns(tmp_path):
    inits = []
    nodes = [conv("x", "c", 3, 8, 1, inits, bias=False), node("Sigmoid", ["c"], ["s"]),
             node("Mul", ["c", "s"], ["m"]),
             conv("m", "c2", 8, 8, 1, inits, bias=False), node("HardSigmoid", ["c2"], ["h"]),
             node("Mul", ["h", "c2"], ["y"])]
    a = analyze(tmp_path, model(nodes, inits), convention="ptflops")
    assert [r.name for r in a.rows] == ["c", "c.swish", "c2", "c2.hswish"]
    # ptflops: 1/elem for SiLU, 0 for h-swish; MACs 3*8 and 8*8 per pixel
    assert a.madds == (3 * 8 + 8 * 8) * 32 * 32 + 8 * 32 * 32


# ---------------------------------------------------------------- merges, SE, pools, FC


def test_squeeze_excite(tmp_path):
    inits = []
    c, s, hw = 16, 4, 8 * 8
    nodes = [conv("x", "f", 3, c, 1, inits, bias=False), node("Relu", ["f"], ["r"]),
             node("GlobalAveragePool", ["r"], ["p"], name="se/pool"),
             conv("p", "q", c, s, 1, inits, name="se/fc1"), node("Relu", ["q"], ["qa"]),
             conv("qa", "e", s, c, 1, inits, name="se/fc2"),
             node("HardSigmoid", ["e"], ["g"], alpha=1 / 6),
             node("Mul", ["r", "g"], ["y"], name="/se/Mul")]
    spec = read_onnx(save(tmp_path, model(nodes, inits, shape=(1, 3, 8, 8))))
    se = spec["layers"][1]["se"]
    assert se == {"name": "se", "ratio": 0.25, "round": "truncate", "act": "relu", "gate": "hsigmoid"}
    a = mbcost.analyze(spec)
    # reduce C->S and expand S->C 1x1 convs with biases on the pooled 1x1 map
    assert a.params == 3 * c + (c * s + s) + (s * c + c)
    assert a.madds == 3 * c * hw + c * s + s * c
    # torchprofile counts the gate multiply (C x H x W) and the global pool's output (C)
    tp = mbcost.analyze(spec, convention="torchprofile")
    assert tp.madds - a.madds == c * hw + c


def test_a_pool_used_elsewhere_is_not_an_se(tmp_path):
    # the pooled vector also feeds a classifier: fusing it into an se layer would lose it
    inits = [weight("fc.w", (10, 8)), weight("fc.b", (10,))]
    nodes = [conv("x", "f", 3, 8, 1, inits, bias=False), node("GlobalAveragePool", ["f"], ["p"]),
             conv("p", "q", 8, 2, 1, inits), conv("q", "e", 2, 8, 1, inits),
             node("Sigmoid", ["e"], ["g"]), node("Mul", ["f", "g"], ["m"]),
             node("Flatten", ["p"], ["pf"]), node("Gemm", ["pf", "fc.w", "fc.b"], ["y"], transB=1)]
    p = save(tmp_path, model(nodes, inits, outputs=("y", "m")))
    assert "1 operators mbcost cannot count: Mul x1" in one_line_error(run("table", p))


def test_residual_add_and_concat(tmp_path):
    inits = []
    nodes = [conv("x", "a", 3, 8, 1, inits, bias=False, name="/stem/Conv"),
             conv("a", "b", 8, 8, 3, inits, bias=False, pads=[1, 1, 1, 1], name="/blk/conv/Conv"),
             node("Add", ["a", "b"], ["s"], name="/blk/Add"),
             conv("s", "l", 8, 4, 1, inits, bias=False, name="/mix/left/Conv"),
             conv("s", "r", 8, 6, 1, inits, bias=False, name="/mix/right/Conv"),
             node("Concat", ["l", "r"], ["cat"], axis=1, name="/mix/Concat"),
             conv("cat", "y", 10, 2, 1, inits, bias=False, name="/head/Conv")]
    spec = read_onnx(save(tmp_path, model(nodes, inits, shape=(1, 3, 16, 16))))
    assert spec["layers"][2] == {"add": {"name": "blk", "from": "stem"}}
    par = spec["layers"][3]["parallel"]
    assert par["name"] == "mix" and par["merge"] == "concat"
    assert [b[0]["pw"]["name"] for b in par["branches"]] == ["left", "right"]
    a = mbcost.analyze(spec)
    hw = 16 * 16
    assert a.madds == (3 * 8 + 9 * 8 * 8 + 8 * 4 + 8 * 6 + 10 * 2) * hw
    assert [r.name for r in a.rows if r.kind == "concat"] == ["mix"]


def test_graph_that_is_not_series_parallel_uses_references(tmp_path):
    # s = a + b; y = s + a: 'a' is used across the first merge, so no parallel block holds it
    inits = []
    nodes = [conv("x", "a", 3, 8, 1, inits, bias=False), conv("x", "b", 3, 8, 1, inits, bias=False),
             node("Add", ["a", "b"], ["s"]), node("Add", ["s", "a"], ["y"])]
    spec = read_onnx(save(tmp_path, model(nodes, inits)))
    assert {"concat": {"name": "b.from", "from": ["input"]}} in spec["layers"]
    a = mbcost.analyze(spec, convention="torchvision")
    assert a.madds == 2 * 3 * 8 * 32 * 32
    assert [(r.name, r.kind) for r in a.rows if r.kind == "add"] == [("s", "add"), ("y", "add")]


def test_an_unknown_merge_is_written_with_references(tmp_path):
    # a * b of two branches: no kind merges by multiplying, so no parallel block either
    inits = []
    nodes = [conv("x", "a", 3, 8, 1, inits, bias=False), conv("x", "b", 3, 8, 1, inits, bias=False),
             node("Mul", ["a", "b"], ["m"]), conv("m", "y", 8, 4, 1, inits, bias=False)]
    spec = read_onnx(save(tmp_path, model(nodes, inits)), allow_unknown=True)
    assert {"unknown": {"name": "m", "op": "Mul", "from": ["b"]}} in spec["layers"]
    assert {"concat": {"name": "m.from", "from": ["a"]}} in spec["layers"]
    a = mbcost.analyze(spec)
    assert a.madds == (3 * 8 + 3 * 8 + 8 * 4) * 32 * 32
    assert [r.input for r in a.rows if r.kind == "unknown"] == [(32, 32, 8)]


def test_pools_and_classifier_through_a_shape_chain(tmp_path):
    # x.view(x.size(0), -1) exports as Shape -> Gather -> Unsqueeze -> Concat -> Reshape
    inits = [weight("fc.w", (10, 8)), weight("fc.b", (10,))]
    nodes = [conv("x", "c", 3, 8, 3, inits, bias=False, pads=[1, 1, 1, 1]),
             node("MaxPool", ["c"], ["m"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
             node("AveragePool", ["m"], ["v"], kernel_shape=[2, 2], strides=[2, 2]),
             node("GlobalAveragePool", ["v"], ["g"]),
             node("Shape", ["g"], ["sh"]), node("Constant", [], ["zero"],
                                                value=helper.make_tensor("z", 7, [], [0])),
             node("Gather", ["sh", "zero"], ["n"], axis=0),
             node("Unsqueeze", ["n", "ax"], ["n1"]),
             node("Concat", ["n1", "minus1"], ["shape"], axis=0),
             node("Reshape", ["g", "shape"], ["flat"]),
             node("Gemm", ["flat", "fc.w", "fc.b"], ["y"], transB=1)]
    inits += [ints("ax", [0]), ints("minus1", [-1])]
    a = analyze(tmp_path, model(nodes, inits, shape=(None, 3, "h", "w")), resolution=64)
    assert [r.op for r in a.rows] == ["Conv 3x3", "Max pool", "Avg pool", "Global pool", "FC"]
    assert [r.output[0] for r in a.rows] == [64, 32, 16, 1, 1]
    assert a.madds == 27 * 8 * 64 * 64 + 8 * 10
    assert a.params == 27 * 8 + 8 * 10 + 10
    # thop: a global pool module costs its input and output elements (16x16x8 in, 8 out),
    # a windowed average pool module one per output element (16x16x8), a max pool nothing
    thop = mbcost.analyze(read_onnx(save(tmp_path, model(nodes, inits, shape=(None, 3, "h", "w")),
                                         "t.onnx")), resolution=64, convention="thop")
    assert thop.madds == a.madds + 16 * 16 * 8 + 8 + 16 * 16 * 8


def test_reducemean_matmul_bias_dropout_identity(tmp_path):
    inits = [ints("axes", [2, 3]), weight("w", (8, 5)), weight("b", (5,)), floats("p", [0.2])]
    nodes = [conv("x", "c", 3, 8, 1, inits, bias=False),
             node("ReduceMean", ["c", "axes"], ["r"], keepdims=0),
             node("Identity", ["r"], ["i"]),
             node("Dropout", ["i", "p"], ["d"]),
             node("MatMul", ["d", "w"], ["mm"]), node("Add", ["mm", "b"], ["logits"]),
             node("Softmax", ["logits"], ["y"], axis=1)]
    spec = read_onnx(save(tmp_path, model(nodes, inits, opset=18)))
    assert spec["layers"][-1] == {"fc": {"name": "mm", "out": "classes", "act": "softmax"}}
    assert spec["classes"] == 5
    a = mbcost.analyze(spec)
    assert [r.op for r in a.rows if r.madds or r.params] == ["Conv 1x1", "FC"]
    assert a.params == 3 * 8 + 8 * 5 + 5
    assert {"dropout": {"name": "d", "p": 0.2}} in spec["layers"]


def _torch_ceil(h, k, s, p):
    """torch's ceil_mode size (aten pooling_output_shape): ceil((H + 2p - k) / s) + 1,
    less one if the last window starts at or beyond H + p."""
    out = -(-(h + 2 * p - k) // s) + 1
    return out - 1 if (out - 1) * s >= h + p else out


@pytest.mark.parametrize("pads", [[0, 0, 0, 0], [1, 1, 1, 1]])
def test_maxpool_ceil_mode(tmp_path, pads):
    inits = []
    nodes = [conv("x", "c", 3, 4, 1, inits, bias=False),
             node("MaxPool", ["c"], ["y"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1,
                  pads=pads)]
    # a fixed 33x33 input without padding: ceil((33 - 3) / 2) + 1 = floor(...) + 1 = 16
    a = analyze(tmp_path, model(nodes, inits, shape=(1, 3, 33, 33)))
    assert a.rows[1].output == (_torch_ceil(33, 3, 2, pads[0]),) * 2 + (4,)
    # dynamic: ceil and floor differ at some sizes: the spec says ceil_mode (GoogLeNet's)
    p = save(tmp_path, model(nodes, inits, shape=(1, 3, "h", "w")), "d.onnx")
    spec = _roundtrip(tmp_path, p, (None, 160, 161, 97))
    want = {"type": "max", "k": 3, "stride": 2, "ceil_mode": True}
    if pads[0]:
        want["padding"] = 1
    assert spec["layers"][1] == {"pool": {"name": "y", **want}}
    for res in (224, 160, 161, 97):
        o = _torch_ceil(res, 3, 2, pads[0])
        assert mbcost.analyze(p, resolution=res).rows[1].output == (o, o, 4)
    assert _torch_ceil(224, 3, 2, 0) == 112 != (224 - 3) // 2 + 1  # the case that needs it


def test_ceil_mode_drops_a_window_that_starts_in_the_padding(tmp_path):
    # 5 px, k 2, s 2, pads 1: ceil((5 + 2 - 2) / 2) + 1 = 4 windows, but the fourth would
    # start at 6 = H + p, in the right padding: 3 (torch's rule; ONNX's since onnx 1.16)
    nodes = [node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1,
                  pads=[1, 1, 1, 1])]
    a = analyze(tmp_path, model(nodes, shape=(1, 3, 5, 5)))
    assert a.rows[0].output == (3, 3, 3) == (_torch_ceil(5, 2, 2, 1),) * 2 + (3,)


def test_rectangular_pools(tmp_path):
    nodes = [node("AveragePool", ["x"], ["a"], kernel_shape=[1, 3], pads=[0, 1, 0, 1],
                  strides=[1, 1]),
             node("MaxPool", ["a"], ["y"], kernel_shape=[3, 2], strides=[2, 1], ceil_mode=1)]
    p = save(tmp_path, model(nodes, shape=(1, 4, "h", "w")))
    spec = _roundtrip(tmp_path, p, (None, 97))
    assert spec["layers"] == [
        {"pool": {"name": "a", "type": "avg", "k": [1, 3], "stride": 1, "padding": [0, 1]}},
        {"pool": {"name": "y", "type": "max", "k": [3, 2], "stride": [2, 1], "ceil_mode": True}}]
    a = mbcost.analyze(p, resolution=97)
    # the avg pool keeps 97x97; the max pool: torch's ceil rule per axis
    assert a.rows[1].output == (_torch_ceil(97, 3, 2, 0), _torch_ceil(97, 2, 1, 0), 4)


@pytest.mark.parametrize("op, attrs", [
    ("GlobalMaxPool", {}), ("ReduceMax", {"axes": [2, 3], "keepdims": 1}),
    ("ReduceMax", {"axes": [-1, -2], "keepdims": 0}),
])
def test_global_max_pool(tmp_path, op, attrs):
    inits = [weight("w", (8, 5))]
    nodes = [conv("x", "c", 3, 8, 1, inits, bias=False), node(op, ["c"], ["g"], **attrs),
             node("Flatten", ["g"], ["f"]), node("MatMul", ["f", "w"], ["y"])]
    p = save(tmp_path, model(nodes, inits, shape=(1, 3, "h", "w")))
    spec = _roundtrip(tmp_path, p, (None, 97))
    # an adaptive max pool to 1x1 (torch's nn.AdaptiveMaxPool2d(1)): 1x1x8 at any size
    assert spec["layers"][1] == {"pool": {"name": "g", "type": "max", "out_size": 1}}
    a = mbcost.analyze(p, resolution=97)
    assert a.rows[1].output == (1, 1, 8)
    assert a.madds == 3 * 8 * 97 * 97 + 8 * 5 and a.params == 3 * 8 + 8 * 5


def test_nhwc_input_with_a_transpose(tmp_path):
    inits = []
    nodes = [node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
             conv("t", "y", 3, 8, 3, inits, bias=False, pads=[1, 1, 1, 1])]
    a = analyze(tmp_path, model(nodes, inits, shape=(1, 20, 20, 3)))
    assert a.input == (20, 20, 3) and a.madds == 27 * 8 * 20 * 20


# ---------------------------------------------------------------- dynamic sizes, alpha


def _dynamic_net(tmp_path):
    inits = [weight("fc.w", (10, 16)), weight("fc.b", (10,))]
    nodes = [conv("x", "c", 3, 16, 3, inits, pads=[1, 1, 1, 1], strides=[2, 2], name="stem"),
             node("Relu", ["c"], ["r"]), node("GlobalAveragePool", ["r"], ["g"]),
             node("Flatten", ["g"], ["f"]), node("Gemm", ["f", "fc.w", "fc.b"], ["y"], transB=1)]
    return save(tmp_path, model(nodes, inits, shape=("batch", 3, "height", "width")))


def test_dynamic_size_is_the_resolution(tmp_path):
    p = _dynamic_net(tmp_path)
    for res in (224, 160, 97):
        d = -(-res // 2)  # stride 2, pad 1: ceil(res / 2)
        a = mbcost.analyze(p, resolution=res)
        assert a.madds == 27 * 16 * d * d + 16 * 10
        assert a.params == 27 * 16 + 16 + 16 * 10 + 10
    f = mbcost.closed_form(p)
    # 27 * 16 * (112 rho)^2 + 160: exact wherever the stride divides the resolution
    assert f.madds.expand() == 27 * 16 * 112 ** 2 * rho ** 2 + 160
    r = run("formula", p)
    assert r.exit_code == 0 and "mult-adds = 5419008*rho^2 + 160" in r.stdout
    assert "alpha" not in r.stdout.split("\n\n")[1]


def test_alpha_is_refused_with_one_line(tmp_path):
    p = _dynamic_net(tmp_path)
    err = one_line_error(run("table", p, "--alpha", "0.5"))
    assert err.startswith(f"{p}: its channels are fixed") and err.endswith("alpha must be 1, got 0.5")
    with pytest.raises(UsageError):
        mbcost.analyze(p, alpha=0.75)
    assert run("table", p, "--alpha", "1").exit_code == 0


def test_design_commands_on_onnx(tmp_path):
    p = _dynamic_net(tmp_path)
    r = run("sweep", p, "--res", "224,160", "--format", "json")
    assert r.exit_code == 0
    assert [(q["alpha"], q["resolution"]) for q in json.loads(r.stdout)["points"]] == [(1, 224), (1, 160)]
    assert "alpha must be 1" in one_line_error(run("sweep", p, "--alpha", "1,0.5"))
    r = run("fit", p, "--max-madds", "1M", "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["alpha"] == 1
    # the fitted resolution: the largest multiple of 32 with 432 ceil(R/2)^2 + 160 <= 1M
    assert json.loads(r.stdout)["resolution"] == 96
    assert "cannot be fitted" in one_line_error(run("fit", p, "--max-madds", "1M", "--res", "224"))
    r = run("check", p, "--max-madds", "20M", "--res", "160")
    assert r.exit_code == 0
    assert run("compare", p, "--b-res", "160").exit_code == 0


# ---------------------------------------------------------------- channel split and shuffle

def _split_shuffle(tmp_path):
    """conv 3 -> 12; Split [4, 8] (the 8 convolved), Concat; Reshape-Transpose-Reshape in 3
    groups; two Slices of channels [0, 6) and [6, 12) (x.chunk(2)), the second convolved,
    Concat: a ShuffleNet unit twice over."""
    inits = [ints("split", [4, 8]), ints("shape5", [1, 3, 4, 8, 8]), ints("shape4", [1, 12, 8, 8]),
             ints("zero", [0]), ints("six", [6]), ints("twelve", [12]), ints("axis1", [1])]
    nodes = [conv("x", "c", 3, 12, 1, inits, bias=False),
             node("Split", ["c", "split"], ["s1", "s2"], axis=1),
             conv("s2", "b", 8, 8, 1, inits, bias=False),
             node("Concat", ["s1", "b"], ["cat"], axis=1),
             node("Reshape", ["cat", "shape5"], ["r5"]),
             node("Transpose", ["r5"], ["t5"], perm=[0, 2, 1, 3, 4]),
             node("Reshape", ["t5", "shape4"], ["sh"]),
             node("Slice", ["sh", "zero", "six", "axis1"], ["h1"]),
             node("Slice", ["sh", "six", "twelve", "axis1"], ["h2"]),
             conv("h2", "d", 6, 6, 1, inits, bias=False),
             node("Concat", ["h1", "d"], ["y"], axis=1)]
    return save(tmp_path, model(nodes, inits, shape=(1, 3, 8, 8)))


def test_split_and_shuffle_become_their_kinds(tmp_path):
    p = _split_shuffle(tmp_path)
    a = mbcost.analyze(p)  # no --allow-unknown needed
    assert [r.kind for r in a.rows].count("unknown") == 0
    splits = rows(a, "split")
    # Split [4, 8]: parts 1 and 2; the Slices: halves of 12
    assert sorted(r.output[2] for r in splits) == [4, 6, 6, 8]
    assert all(r.input == (8, 8, 12) and r.madds == r.params == 0 for r in splits)
    (shuffle,) = rows(a, "channel_shuffle")
    assert shuffle.input == shuffle.output == (8, 8, 12)
    # 1x1 convs on 8 x 8: 3 -> 12, 8 -> 8, 6 -> 6 (M N D_F^2)
    assert a.madds == (3 * 12 + 8 * 8 + 6 * 6) * 64 and a.params == 3 * 12 + 8 * 8 + 6 * 6
    text = import_yaml(p)
    assert text.count("split: {name: ") == 4
    assert "parts: [4, 8], take: 1}" in text and "parts: [4, 8], take: 2}" in text
    assert text.count(", take: 1}") == 2 and "groups: 3}" in text
    assert "channel_shuffle: {name: " in text and "unknown" not in text
    out = tmp_path / "net.yaml"
    out.write_text(text)
    b = mbcost.analyze(str(out))
    assert (b.madds, b.params) == (a.madds, a.params)


def test_uneven_split_outputs_each_part(tmp_path):
    # Split of 12 channels into [2, 3, 7], all three used (a three-way concat)
    inits = [ints("split", [2, 3, 7])]
    nodes = [conv("x", "c", 3, 12, 1, inits, bias=False),
             node("Split", ["c", "split"], ["s1", "s2", "s3"], axis=1),
             node("Concat", ["s3", "s1", "s2"], ["y"], axis=1)]
    a = analyze(tmp_path, model(nodes, inits, shape=(1, 3, 8, 8)))
    # in the concat's order: part 3 (7 channels), part 1 (2), part 2 (3)
    assert [r.output[2] for r in rows(a, "split")] == [7, 2, 3]
    assert rows(a, "concat")[0].output == (8, 8, 12)


# ---------------------------------------------------------------- unknown operators


def _with_unknown(tmp_path):
    inits = [ints("split", [4, 4]), ints("shape5", [1, 2, 4, 8, 8]), ints("shape4", [1, 8, 8, 8])]
    nodes = [conv("x", "c", 3, 8, 1, inits, bias=False), node("LeakyRelu", ["c"], ["l"]),
             node("Split", ["l", "split"], ["s1", "s2"], axis=1),
             conv("s2", "b", 4, 4, 1, inits, bias=False),
             node("Concat", ["s1", "b"], ["cat"], axis=1),
             node("Reshape", ["cat", "shape5"], ["r5"]),
             node("Transpose", ["r5"], ["t5"], perm=[0, 2, 1, 3, 4]),
             node("Reshape", ["t5", "shape4"], ["sh"]),
             node("Erf", ["sh"], ["e"]), node("LeakyRelu", ["e"], ["y"])]
    return save(tmp_path, model(nodes, inits, shape=(1, 3, 8, 8)))


def test_supported_ops_are_the_handlers_folds_and_patterns():
    import inspect

    R = onnx_reader.Reader
    handlers = {n[len("_op_"):] for n in vars(R) if n.startswith("_op_")}
    listed = set(onnx_reader.SUPPORTED_OPS)
    assert handlers | set(onnx_reader.ACTIVATION_OPS) <= listed
    # every folded op is one the folding code names, every pattern op one the fuser names
    fold_src = inspect.getsource(R._fold) + inspect.getsource(R._eval)
    for op in onnx_reader.FOLDED_OPS:
        assert f'"{op}"' in fold_src or op in handlers, op
    fuse_src = inspect.getsource(onnx_spec.Fuser)
    for op in onnx_reader.PATTERN_OPS:
        assert f'"{op}"' in fuse_src or f"_op_{op}" in vars(R), op
    assert listed == handlers | set(onnx_reader.ACTIVATION_OPS) | set(onnx_reader.FOLDED_OPS) \
        | set(onnx_reader.PATTERN_OPS)
    # an op type outside the list is refused by its name
    for op in ("LeakyRelu", "Elu", "Mish", "Exp"):
        assert op not in listed


def test_unknown_operators_are_listed_with_counts(tmp_path):
    p = _with_unknown(tmp_path)
    err = one_line_error(run("table", p))
    # the Split and the Reshape-Transpose-Reshape shuffle are split and channel_shuffle layers
    assert err == (f"{p}: 3 operators mbcost cannot count: LeakyRelu x2, Erf x1; "
                   "--allow-unknown counts them as zero, shown as rows marked unknown")
    with pytest.raises(SpecError):
        mbcost.load_spec(p)
    # the README's example is this error, for this graph
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    shown = readme.split("<!-- unknown-example", 1)[1].split("```\n", 1)[1].splitlines()[0]
    assert shown == err.replace(p, "net.onnx")


def test_allow_unknown_counts_zero_and_marks_rows(tmp_path):
    p = _with_unknown(tmp_path)
    r = run("table", p, "--allow-unknown", "--format", "csv")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    unknown = [ln for ln in lines if ",unknown," in ln]
    assert len(unknown) == 3 and all(ln.endswith(",0,0") for ln in unknown)
    assert lines[-1].endswith(f",{3 * 8 * 64 + 4 * 4 * 64},{3 * 8 + 4 * 4}")
    # on the text table they show without --all, with a footnote naming them (the README's)
    r = run("table", p, "--allow-unknown")
    assert r.exit_code == 0
    assert r.stdout.count("unknown: ") >= 3
    note = "3 layers marked unknown are counted as zero: LeakyRelu x2, Erf x1."
    assert note in r.stdout
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert note in " ".join(readme.split())
    r = run("table", p, "--allow-unknown", "--by", "kind", "--format", "json")
    types = {k["type"]: k["layers"] for k in json.loads(r.stdout)["kinds"]}
    assert types["unknown: LeakyRelu"] == 2 and types["unknown: Erf"] == 1
    r = run("table", p, "--allow-unknown", "--format", "json")
    kinds = [layer["kind"] for layer in json.loads(r.stdout)["layers"]]
    assert (kinds.count("split"), kinds.count("channel_shuffle")) == (2, 1)


def test_allow_unknown_only_on_onnx():
    err = one_line_error(run("table", "mobilenet_v1", "--allow-unknown"))
    assert err == "--allow-unknown applies to ONNX files (.onnx)"


# ---------------------------------------------------------------- import


def test_import_round_trip(tmp_path):
    p = _dynamic_net(tmp_path)
    out = tmp_path / "net.yaml"
    r = run("import", p, "-o", out)
    assert r.exit_code == 0 and r.stdout == ""
    text = out.read_text()
    assert text.startswith("# Imported by 'mbcost import' from net.onnx")
    assert "width: {rule: fixed}" in text
    for res in (224, 160):
        a, b = mbcost.analyze(p, resolution=res), mbcost.analyze(str(out), resolution=res)
        assert (a.madds, a.params) == (b.madds, b.params)
    assert mbcost.closed_form(str(out)).madds == mbcost.closed_form(p).madds


def test_import_json_validates_against_the_spec_schema(tmp_path):
    from minischema import errors

    from mbcost import schemas

    r = run("import", _with_unknown(tmp_path), "--allow-unknown", "--format", "json")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert errors(data, schemas.spec_json_schema()) == []
    assert mbcost.analyze(data).madds == 3 * 8 * 64 + 4 * 4 * 64


def test_import_refuses_other_files(tmp_path):
    err = one_line_error(run("import", "mobilenet_v1"))
    assert err == "mbcost import reads ONNX models (.onnx), got mobilenet_v1"


def test_import_res_sets_the_dynamic_size(tmp_path):
    text = import_yaml(_dynamic_net(tmp_path), resolution=160)
    assert yaml.safe_load(text)["input"] == [160, 160, 3]


# ---------------------------------------------------------------- the optional extra


def test_without_onnx_one_line_names_the_extra(tmp_path, monkeypatch):
    p = _dynamic_net(tmp_path)
    monkeypatch.setitem(sys.modules, "onnx", None)
    err = one_line_error(run("table", p))
    assert err == f"{p}: reading ONNX files needs the optional onnx package: pip install 'mbcost[onnx]'"


def test_import_mbcost_does_not_import_onnx():
    import subprocess

    code = "import sys, mbcost, mbcost.cli; mbcost.analyze('mobilenet_v1'); print('onnx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_reading_loads_only_onnx_protobuf_classes(tmp_path):
    # onnx's package init imports numpy and its helpers; reading a graph needs neither, and
    # a later `import onnx` gets the very module mbcost loaded
    import subprocess

    p = _dynamic_net(tmp_path)
    code = ("import sys, mbcost; mbcost.analyze(%r); print('numpy' in sys.modules, 'onnx' in sys.modules); "
            "import onnx; print(onnx.ModelProto is sys.modules['onnx.onnx_ml_pb2'].ModelProto, "
            "len(onnx.load(%r, load_external_data=False).graph.node))" % (p, p))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "True", "5"]


# ---------------------------------------------------------------- hostile files


def _cycle():
    inits = []
    nodes = [conv("y", "a", 3, 3, 1, inits, bias=False), node("Relu", ["a"], ["y"])]
    return model(nodes, inits)


def _dangling():
    inits = []
    return model([conv("x", "a", 3, 3, 1, inits, bias=False), node("Add", ["a", "ghost"], ["y"])], inits)


def _two_inputs():
    inits = []
    return model([conv("x", "y", 3, 3, 1, inits, bias=False)], inits, extra_inputs=["x2"])


def _zero_stride():
    inits = []
    return model([conv("x", "y", 3, 3, 3, inits, bias=False, strides=[0, 0])], inits)


def _bad_weight():
    inits = [weight("w", (8, 5, 3, 3))]
    return model([node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3])], inits)


def _vector_input():
    inits = []
    m = model([node("Relu", ["x"], ["y"])], inits, shape=(1, 3))
    return m


def _huge():
    inits = []
    return model([conv("x", "y", 3, 3, 1, inits, bias=False)], inits, shape=(1, 3, 10 ** 9, 10 ** 9))


def _varint(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def _ld(field, payload):
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _nested_graph(depth=20):
    # an If whose branch holds an If whose branch holds ..., written at the wire level
    # (onnx.helper itself stops at protobuf's nesting limit): GraphProto.node = 1,
    # NodeProto.op_type = 4 and .attribute = 5, AttributeProto.name = 1, .g = 6, .type = 20
    graph = b""
    for _ in range(depth):
        attr = _ld(1, b"then_branch") + _varint(20 << 3) + _varint(5) + _ld(6, graph)
        graph = _ld(1, _ld(4, b"If") + _ld(5, attr))
    base = model([node("Relu", ["x"], ["y"])], []).SerializeToString()
    return base + _ld(7, graph)  # ModelProto.graph = 7: a repeated message field merges


@pytest.mark.parametrize("make, why", [
    (lambda: b"\x08\x07garbage\xff\xff", "not a readable ONNX model"),
    (lambda: b"", "the file is empty"),
    (lambda: b"\x08\x07", "not an ONNX model: no graph nodes"),
    (_cycle, "the graph has a cycle"),
    (_dangling, "input 'ghost' is not made by any node, initializer or graph input (dangling)"),
    (_two_inputs, "mbcost reads models with one image input"),
    (_zero_stride, "kernel, strides and dilations must be positive"),
    (_bad_weight, "weight [8, 5, 3, 3] with 1 groups does not fit 3 input channels"),
    (_vector_input, "input 'x' has 2 dimensions"),
    (_huge, "is too large"),
    (_nested_graph, "subgraphs (If, Loop, Scan bodies) nested deeper than 16"),
    # deeper than protobuf's own limit (100 in upb): refused by the parser or by mbcost
    (lambda: _nested_graph(150), ("not a readable ONNX model", "nested deeper than 16")),
])
def test_hostile_files_are_one_line_errors(tmp_path, make, why):
    p = save(tmp_path, make())
    whys = why if isinstance(why, tuple) else (why,)
    for args in (("table", p), ("import", p), ("formula", p)):
        err = one_line_error(run(*args))
        assert err.startswith(p) and any(w in err for w in whys), err


def test_limits_on_size_nodes_and_nesting(tmp_path, monkeypatch):
    inits = []
    nodes = [conv("x", "a", 3, 8, 1, inits, bias=False)]
    for i in range(3):
        nodes.append(node("Relu", ["a" if i == 0 else f"r{i - 1}"], [f"r{i}"]))
    p = save(tmp_path, model(nodes + [node("Relu", ["r2"], ["y"])], inits))
    monkeypatch.setattr(onnx_reader, "MAX_ONNX_BYTES", 10)
    err = one_line_error(run("table", p))
    assert "the limit for ONNX files is 10" in err
    monkeypatch.setattr(onnx_reader, "MAX_ONNX_BYTES", 1 << 30)
    monkeypatch.setattr(onnx_reader, "MAX_ONNX_NODES", 3)
    assert "the graph has 5 nodes; the limit is 3" in one_line_error(run("table", p))
    with pytest.raises(LimitError):
        read_onnx(p)


def test_deeply_nested_branches_are_written_with_references(tmp_path, monkeypatch):
    # s5 = [t, relu(t)]; s_i = [t, relu(s_(i+1))]: each concat's branch holds the next one
    inits = []
    depth = 6
    nodes = [conv("x", "t", 3, 4, 1, inits, bias=False), node("Relu", ["t"], [f"u{depth}"])]
    for i in reversed(range(depth)):
        nodes.append(node("Concat", ["t", f"u{i + 1}"], [f"s{i}"], axis=1))
        nodes.append(node("Relu", [f"s{i}"], [f"u{i}"] if i else ["y"]))
    p = save(tmp_path, model(nodes, inits))
    nested = read_onnx(p)
    monkeypatch.setattr(onnx_spec, "MAX_BRANCH_NESTING", 3)
    flat = read_onnx(p)
    assert "parallel" in json.dumps(nested) and "parallel" not in json.dumps(flat)
    for spec in (nested, flat):
        a = mbcost.analyze(spec, convention="torchvision")
        assert a.madds == 3 * 4 * 32 * 32
        assert sum(1 for r in a.rows if r.kind == "concat") == depth
        assert a.rows[-1].output == (32, 32, 4 * (depth + 1))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1), allow=st.booleans())
def test_random_graphs_count_or_refuse_with_one_line(tmp_path, seed, allow):
    # any graph: a spec that builds and round-trips through YAML, or mbcost's own error
    rng = random.Random(seed)
    p = save(tmp_path, random_graph(rng))
    try:
        spec = read_onnx(p, allow_unknown=allow)
    except mbcost.MbcostError as e:
        assert "\n" not in str(e)
        return
    a = mbcost.analyze(spec, resolution=97)
    b = mbcost.analyze(yaml.safe_load(onnx_reader.to_yaml(spec)), resolution=97)
    assert (a.madds, a.params) == (b.madds, b.params)


def test_a_directory_a_fifo_and_a_missing_file(tmp_path):
    import os

    fifo = tmp_path / "pipe.onnx"
    os.mkfifo(fifo)
    assert one_line_error(run("table", fifo)).endswith("pipe.onnx: is not a regular file")
    d = tmp_path / "dir.onnx"
    d.mkdir()
    assert one_line_error(run("table", d)).endswith("is a directory, not an ONNX file")
    assert one_line_error(run("table", tmp_path / "missing.onnx")).endswith("missing.onnx: no such file")


def test_unknown_rows_fit_the_output_schemas(tmp_path):
    from minischema import errors

    from mbcost import schemas

    p = _with_unknown(tmp_path)
    got = json.loads(run("table", p, "--allow-unknown", "--format", "json").stdout)
    assert errors(got, schemas.table_json_schema()) == []
    kinds = json.loads(run("table", p, "--allow-unknown", "--by", "kind", "--format", "json").stdout)
    assert errors(kinds, schemas.by_kind_json_schema()) == []
    assert {k["type"]: k["layers"] for k in kinds["kinds"] if k["type"].startswith("unknown")} == {
        "unknown: LeakyRelu": 2, "unknown: Erf": 1}
