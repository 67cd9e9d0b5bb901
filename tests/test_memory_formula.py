"""Closed forms of the memory metrics (formula --metric): exact where the mult-add forms are,
ShuffleNetV2's G1 and the depthwise intensity from mbcost's own closed forms."""

import json
from fractions import Fraction

import pytest
import sympy
from clirunner import CliRunner

import mbcost
from mbcost.cli import main
from mbcost.memory import memory_closed_form
from mbcost.symbols import alpha, rho


def _exact(spec, a, res, metric, **mem):
    an = mbcost.analyze(spec, alpha=a, resolution=res, memory=mem or True)
    m = an.memory
    return {"activations": m.act_bytes, "traffic": m.traffic_bytes, "peak": m.peak_act_bytes,
            "latency": m.time_s}[metric]


@pytest.mark.parametrize("metric", ["activations", "traffic", "peak"])
@pytest.mark.parametrize("model", ["fused", "eager", "streamed"])
def test_mobilenet_v1_forms_are_exact(metric, model):
    # v1 at alpha 1/2, 160 px: every width a multiple of 8 and 160 divisible by every stride
    # product, so the closed forms hold exactly there, as the mult-add forms do
    total, _ = memory_closed_form("mobilenet_v1", metric, memory_model=model, dtype="fp16")
    for a, res in ((1, 224), (Fraction(1, 2), 160), (Fraction(3, 4), 192)):
        got = total.subs({alpha: sympy.Rational(a), rho: sympy.Rational(res, 224)})
        assert got == _exact("mobilenet_v1", a, res, metric, memory_model=model, dtype="fp16")


@pytest.mark.parametrize("metric", ["activations", "traffic", "peak", "latency"])
def test_mobilenet_v2_forms_at_the_base_point(metric):
    dev = {"device": "jetson_nano"} if metric == "latency" else {}
    total, _ = memory_closed_form("mobilenet_v2", metric, **dev)
    got = total.subs({alpha: 1, rho: 1})
    assert sympy.Rational(got) == _exact("mobilenet_v2", 1, 224, metric, **dev)


def test_activations_and_traffic_are_polynomials_peak_and_latency_are_not():
    for metric in ("activations", "traffic"):
        total, _ = memory_closed_form("mobilenet_v1", metric)
        assert not total.has(sympy.Max)
        assert total.is_polynomial(alpha, rho)
    peak, _ = memory_closed_form("mobilenet_v1", "peak")
    lat, _ = memory_closed_form("mobilenet_v1", "latency", device="rtx_4090")
    assert peak.has(sympy.Max) and lat.has(sympy.Max)


def _pw_traffic(c1, c2, hw=28):
    """The closed-form traffic of a 1x1 conv c1 -> c2 (both scaled by alpha: a first 1x1
    conv makes the c1 channels from the 3-channel input)."""
    spec = {"name": "g1", "input": [hw, hw, 3],
            "layers": [{"pw": {"name": "make", "out": c1}}, {"pw": {"name": "g1", "out": c2}}]}
    _, layers = memory_closed_form(spec, "traffic", memory_model="eager", dtype="int8")
    return dict((n, e) for n, _, e in layers)["g1"]


def test_shufflenet_v2_g1_from_the_closed_forms():
    # G1: for fixed FLOPs (c1 * c2 fixed, here 4096 at 28x28), a 1x1 conv's memory access
    # cost hw(c1 + c2) + c1 c2 is smallest when c1 = c2; mbcost's closed forms say so at
    # every width and resolution (both scale c1 and c2 alike)
    pairs = [(8, 512), (16, 256), (32, 128), (64, 64), (128, 32), (256, 16), (512, 8)]
    forms = {p: _pw_traffic(*p) for p in pairs}
    assert forms[64, 64] == 28 * 28 * (64 + 64) * alpha * rho**2 + 64 * 64 * alpha**2
    for at in ({alpha: 1, rho: 1}, {alpha: sympy.Rational(1, 2), rho: sympy.Rational(5, 7)},
               {alpha: 2, rho: 3}):
        values = {p: f.subs(at) for p, f in forms.items()}
        assert min(values, key=values.get) == (64, 64)
        assert all(values[p] > values[64, 64] for p in pairs if p != (64, 64))


def test_depthwise_intensity_is_free_of_alpha_pointwise_grows_with_it():
    # fused fp32: a stride-1 3x3 depthwise reads hwc + 9c + c (weights, folded BN bias) and
    # writes hwc: intensity 18 hw c / (4 (2 hwc + 10 c)), c cancels (so alpha does), and it
    # tends to 9/4 = k^2 / bytes as the resolution grows
    f = mbcost.closed_form("mobilenet_v1")
    _, traffic = memory_closed_form("mobilenet_v1", "traffic")
    per = {name: e for name, _, e in traffic}
    madds = {name: m for name, _, m, _, _ in f.layers}
    dw = sympy.simplify(2 * madds["conv4.dw"] / per["conv4.dw"])
    assert sympy.diff(dw, alpha) == 0
    assert sympy.limit(dw, rho, sympy.oo) == sympy.Rational(9, 4)
    pw = sympy.simplify(2 * madds["conv4.pw"] / per["conv4.pw"])
    assert sympy.simplify(sympy.diff(pw, alpha).subs({rho: 1, alpha: 1})) > 0


def test_formula_cli_metric():
    r = CliRunner().invoke(main, ["formula", "mobilenet_v1", "--metric", "latency", "--device",
                                  "jetson_nano"])
    assert r.exit_code == 0 and "a roofline bound, not a measurement" in r.stdout
    r = CliRunner().invoke(main, ["formula", "mobilenet_v1", "--metric", "latency"])
    assert r.exit_code == 2 and "--metric latency needs --device" in r.stderr
    d = json.loads(CliRunner().invoke(main, ["formula", "mobilenet_v1", "--metric", "traffic",
                                             "-f", "json", "--layers"]).stdout)
    assert d["metric"]["name"] == "traffic" and d["metric"]["unit"] == "bytes"
    assert sympy.sympify(d["metric"]["total"]).subs({"alpha": 1, "rho": 1}) == \
        mbcost.analyze("mobilenet_v1", memory=True).memory.traffic_bytes
    r = CliRunner().invoke(main, ["formula", "mobilenet_v1", "--device", "rtx_4090"])
    assert r.exit_code == 2 and "--device goes with --metric" in r.stderr


def test_intensity_metric_is_flops_per_byte_of_traffic():
    # formula --metric intensity: per layer 2 x MACs / traffic as one ratio of polynomials.
    # By hand, conv12.dw (fused fp32, 14x14x512 at alpha = rho = 1, stride 1): 2 x 9 x 196 rho^2
    # x 512 alpha FLOPs over 4 x 512 alpha (196 rho^2 read + 9 weights + 1 folded BN bias + 196
    # rho^2 written) bytes = 441 rho^2 / (196 rho^2 + 5): free of alpha, tending to 9/4
    total, layers = memory_closed_form("mobilenet_v1", "intensity")
    per = {name: e for name, _, e in layers}
    assert sympy.simplify(per["conv12.dw"] - 441 * rho**2 / (196 * rho**2 + 5)) == 0
    # at alpha = rho = 1 every layer's form is the exact 2 x MACs / traffic of table --memory
    an = mbcost.analyze("mobilenet_v1", memory=True)
    for r in an.rows:
        m = r.mem
        exact = Fraction(2 * m.macs, m.traffic_bytes) if m.traffic_bytes else 0
        assert per[r.name].subs({alpha: 1, rho: 1}) == exact, r.name
    flops = 2 * sum(r.mem.macs for r in an.rows)
    assert total.subs({alpha: 1, rho: 1}) == Fraction(flops, an.memory.traffic_bytes)
    r = CliRunner().invoke(main, ["formula", "mobilenet_v1", "--metric", "intensity", "-f", "json"])
    d = json.loads(r.stdout)["metric"]
    assert r.exit_code == 0 and (d["name"], d["unit"]) == ("intensity", "FLOP/byte")


def test_readme_intensity_lines_are_what_formula_prints():
    from pathlib import Path

    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8").split())
    out = CliRunner().invoke(main, ["formula", "mobilenet_v1", "--metric", "intensity",
                                    "--layers"]).stdout
    for line in ("conv12.dw [Conv DW 3x3]: 441*rho^2/(196*rho^2 + 5)",
                 "conv12.pw [Conv 1x1]: 50176*alpha*rho^2/(512*alpha + 392*rho^2 + 1)"):
        assert line in out and f"`{line}`" in readme
