"""Activation memory, weight bytes, traffic and peak live activations (mbcost/memory.py).

Every expected number is derived by hand in the test or cited."""

import pytest

import mbcost
from mbcost import memory, report
from mbcost.errors import UsageError


def one_layer(layer, input_shape, **mem):
    return mbcost.analyze({"name": "one", "input": list(input_shape), "layers": [layer]},
                          memory=mem or True)


def test_torchstat_documented_example():
    # torchstat's README: Conv2d(3, 10, 5) with bias on 3x224x224 -> 10x220x220,
    # MemRead 605,152 B = 4 x (3*224*224 + 5*5*3*10 + 10), MemWrite 1,936,000 B = 4 x 10*220*220
    a = one_layer({"conv": {"k": 5, "out": 10, "padding": "valid", "bias": True}}, (224, 224, 3),
                  memory_model="eager")
    m = a.rows[0].mem
    assert a.rows[0].output == (220, 220, 10)
    assert (m.read_bytes, m.write_bytes) == (605_152, 1_936_000)
    assert m.read_bytes == 4 * (3 * 224 * 224 + 5 * 5 * 3 * 10 + 10)
    assert (m.act_elems, m.act_bytes, m.weight_bytes) == (484_000, 1_936_000, 4 * 760)


@pytest.mark.parametrize("h, w, c1, c2", [(7, 5, 12, 20), (56, 56, 24, 144), (1, 1, 1280, 1000)])
def test_pointwise_traffic_is_shufflenet_v2_mac(h, w, c1, c2):
    # ShuffleNetV2 §2 G1: a 1x1 conv's memory access cost is hw(c1 + c2) + c1*c2 (int8: bytes)
    a = one_layer({"pw": {"out": c2}}, (h, w, c1), dtype="int8", memory_model="eager")
    m = a.rows[0].mem
    assert m.traffic_bytes == h * w * (c1 + c2) + c1 * c2
    assert m.macs == h * w * c1 * c2


@pytest.mark.parametrize("dtype, size", [("fp32", 4), ("fp16", 2), ("bf16", 2), ("int8", 1)])
def test_dtype_scales_bytes(dtype, size):
    a = one_layer({"pw": {"out": 8}}, (4, 4, 2), dtype=dtype, memory_model="eager")
    m = a.rows[0].mem
    assert (m.act_bytes, m.weight_bytes) == (4 * 4 * 8 * size, 2 * 8 * size)
    assert m.read_bytes == (4 * 4 * 2 + 16) * size


def test_weight_dtype_apart_from_activations():
    a = one_layer({"pw": {"out": 8}}, (4, 4, 2), dtype="fp16", weight_dtype="int8",
                  memory_model="eager")
    m = a.rows[0].mem
    assert (m.act_bytes, m.weight_bytes, m.read_bytes) == (4 * 4 * 8 * 2, 16, 4 * 4 * 2 * 2 + 16)


def test_eager_bn_reads_its_four_per_channel_parameters_fused_folds_them():
    spec = {"name": "cb", "input": [6, 6, 3],
            "layers": [{"conv": {"k": 3, "out": 4, "bn": True, "act": "relu"}}]}
    eager = mbcost.analyze(spec, memory={"memory_model": "eager", "dtype": "int8"})
    conv, bn, relu = (r.mem for r in eager.rows)
    out = 6 * 6 * 4
    assert (conv.weight_bytes, bn.weight_bytes, relu.weight_bytes) == (3 * 3 * 3 * 4, 4 * 4, 0)
    assert (bn.read_bytes, bn.write_bytes) == (out + 16, out)
    assert (relu.read_bytes, relu.write_bytes) == (out, out)
    fused = mbcost.analyze(spec, memory={"memory_model": "fused", "dtype": "int8"})
    conv, bn, relu = (r.mem for r in fused.rows)
    # BN folded: the conv gains a 4-element bias; BN and ReLU move nothing
    assert conv.weight_bytes == 3 * 3 * 3 * 4 + 4
    assert conv.read_bytes == 6 * 6 * 3 + 3 * 3 * 3 * 4 + 4 and conv.write_bytes == out
    assert (bn.traffic_bytes, relu.traffic_bytes, bn.weight_bytes) == (0, 0, 0)
    assert fused.memory.peak_act_bytes == 6 * 6 * 3 + out  # input and the one output


def test_fused_weights_of_mobilenet_v2():
    # paper params (conv + FC weights, FC bias) plus one folded bias per BN channel: the
    # torchvision count 3,504,872 has gamma and beta (34,112 = 2 per BN channel)
    a = mbcost.analyze("mobilenet_v2", memory=True)
    assert a.memory.weight_bytes == 4 * (a.params + 34_112 // 2)
    eager = mbcost.analyze("mobilenet_v2", memory={"memory_model": "eager"})
    assert eager.memory.weight_bytes == 4 * (a.params + 2 * 34_112)  # gamma, beta, mean, var


# ---------------------------------------------------------------- peak, by hand

def _peak(spec, model):
    a = mbcost.analyze(spec, memory={"memory_model": model, "dtype": "fp16"})
    return a.memory.peak_act_bytes // 2, a.memory.peak_at


def test_mobilenet_v1_peak_eager():
    # at conv2.pw.bn both the pointwise output and the BN output (112x112x64 each) are live
    assert _peak("mobilenet_v1", "eager") == (2 * 112 * 112 * 64, "conv2.pw.bn")


@pytest.mark.parametrize("model", ["fused", "streamed"])
def test_mobilenet_v1_peak_fused_and_streamed(model):
    # conv2.pw reads 112x112x32 and writes 112x112x64 (BN and ReLU folded into it); v1 has
    # no spec blocks, so streamed is fused; the next candidate, conv3.dw, holds
    # 112x112x64 + 56x56x64 = 1,003,520 < 1,204,224
    assert _peak("mobilenet_v1", model) == (112 * 112 * (32 + 64), "conv2.pw")


def test_mobilenet_v2_peak_eager():
    # block 2's expansion to 96 channels at 112x112: its output and its BN's, 2 x 112^2 x 96
    assert _peak("mobilenet_v2", "eager") == (2 * 112 * 112 * 96, "bottleneck2.1/expand.bn")


def test_mobilenet_v2_peak_fused():
    # the stride-2 depthwise of block 2 reads the expanded 112x112x96 and writes 56x56x96
    # (expand: 112^2 x 16 + 112^2 x 96 = 1,404,928, less)
    assert _peak("mobilenet_v2", "fused") == (112 * 112 * 96 + 56 * 56 * 96, "bottleneck2.1/dw")


def test_mobilenet_v2_peak_streamed():
    # only block inputs and outputs: block 1 reads conv1's 112x112x32 and writes 112x112x16
    # (conv1 itself: 224^2 x 3 + 112^2 x 32 = 551,936, less)
    assert _peak("mobilenet_v2", "streamed") == (112 * 112 * (32 + 16), "bottleneck1/project")


def test_streamed_writes_no_inner_tensor():
    a = mbcost.analyze("mobilenet_v2", memory={"memory_model": "streamed"})
    inner = [r for r in a.rows if r.name.startswith("bottleneck2.1/") and r.kind in ("pw", "dw")]
    expand, dw, project = (r.mem for r in inner)
    assert expand.write_bytes == dw.write_bytes == 0 and dw.read_bytes == dw.weight_bytes
    assert project.read_bytes == project.weight_bytes  # it reads only its weights
    assert project.write_bytes == 4 * 56 * 56 * 24  # the block's output is materialized
    assert expand.read_bytes == 4 * 112 * 112 * 16 + expand.weight_bytes


def test_the_peak_is_the_largest_live_bytes():
    a = mbcost.analyze("efficientnet_b0", memory={"memory_model": "eager"})
    d = report.to_dict(a)
    assert d["totals"]["live_bytes"] == d["totals"]["peak_act_bytes"] == max(
        r.mem.live_bytes for r in a.rows)
    assert d["totals"]["peak_at"] == next(r.name for r in a.rows
                                          if r.mem.live_bytes == a.memory.peak_act_bytes)


def test_residual_input_stays_live_across_the_block():
    # bottleneck2.2 (56x56x24, t=6): during its expand.bn the block input (read again by the
    # residual add) is live beside the expansion and its BN: 56^2 x (24 + 144 + 144)
    a = mbcost.analyze("mobilenet_v2", memory={"memory_model": "eager", "dtype": "int8"})
    row = next(r for r in a.rows if r.name == "bottleneck2.2/expand.bn")
    assert row.mem.live_bytes == 56 * 56 * (24 + 144 + 144)


def test_memory_columns_change_no_count():
    plain = mbcost.analyze("mobilenet_v3_large")
    withm = mbcost.analyze("mobilenet_v3_large", memory={"memory_model": "eager"})
    assert (plain.madds, plain.params) == (withm.madds, withm.params)
    assert [r.madds for r in plain.rows] == [r.madds for r in withm.rows]


@pytest.mark.parametrize("kw, msg", [
    ({"dtype": "fp64"}, "unknown dtype 'fp64'"),
    ({"memory_model": "lazy"}, "unknown memory model 'lazy'"),
    ({"weight_dtype": 4}, "unknown weight dtype 4"),
])
def test_bad_settings_are_usage_errors(kw, msg):
    with pytest.raises(UsageError, match=msg):
        mbcost.analyze("mobilenet_v1", memory=kw)


# ---------------------------------------------------------------- MobileNetV2 Table 3

# MobileNetV2 (Sandler et al., arXiv 1801.04381) Table 3: "The max number of
# channels/memory (in Kb) that needs to be materialized at each spatial resolution for
# different architectures. We assume 16-bit floats for activations."
TABLE3_V1 = {112: (64, 1600), 56: (128, 800), 28: (256, 400), 14: (512, 200), 7: (1024, 199),
             1: (1024, 2)}
TABLE3_V2 = {112: (16, 400), 56: (32, 200), 28: (64, 100), 14: (160, 62), 7: (320, 32),
             1: (1280, 2)}


def _table3(spec):
    a = mbcost.analyze(spec, memory={"memory_model": "streamed", "dtype": "fp16"})
    return {h: (c, b) for h, w, c, b in memory.largest_by_resolution(a) if h != 224}


def test_table3_mobilenet_v1_every_cell():
    # each cell: channels x h x w x 2 bytes, in thousands, as the paper rounds (1,605,632 -> 1600K)
    got = _table3("mobilenet_v1")
    for h, (c, kb) in TABLE3_V1.items():
        assert got[h][0] == c
        assert got[h][1] == h * h * c * 2
        # 7x7: the paper prints 199, twice 1024 x 7 x 7 x 2 = 100,352 (a misprint)
        assert abs(got[h][1] * (2 if h == 7 else 1) / 1000 - kb) / kb < 0.04


def test_table3_mobilenet_v2_cells_and_why_some_differ():
    got = _table3("mobilenet_v2")
    # the same cells: 7x7 is 320 in the paper, 1x1 1280 (the pooled features)
    assert got[1] == (1280, 1280 * 2)
    # 112x112: the spec materializes conv1's 32 channels; the paper uses section 5's trick
    # for the first layer and lists the 16 of block 1's output
    assert got[112][0] == 32
    # 56, 28, 14: the paper lists the c of the bottleneck row whose input has that size
    # (Table 2: 56^2 x 24 -> c = 32, 28^2 x 32 -> 64, 14^2 x 96 -> 160); the tensors
    # actually materialized there have 24, 32 and 96 channels
    assert (got[56][0], got[28][0], got[14][0]) == (24, 32, 96)
    # 7x7: the last 1x1 conv's 1280 channels are materialized at 7x7 (the paper: 320)
    assert got[7][0] == 1280


# ---------------------------------------------------------------- --explain between models

def test_explain_memory_models():
    from clirunner import CliRunner

    from mbcost.cli import main

    d = memory.explain_models("mobilenet_v1", "eager", "fused")
    eager = mbcost.analyze("mobilenet_v1", memory={"memory_model": "eager"}).memory
    fused = mbcost.analyze("mobilenet_v1", memory={"memory_model": "fused"}).memory
    t = d["totals"]
    assert (t["traffic_bytes"], t["other_traffic_bytes"]) == (eager.traffic_bytes,
                                                            fused.traffic_bytes)
    assert (t["peak_act_bytes"], t["other_peak_at"]) == (eager.peak_act_bytes, "conv2.pw")
    bn = next(r for r in d["rows"] if r["name"] == "conv1.bn")
    # eager: BN reads 112^2 x 32 and its 4 x 32 parameters, writes 112^2 x 32; fused: folded
    assert (bn["role"], bn["other_role"]) == ("materialized", "folded or in place")
    assert (bn["traffic_bytes"], bn["other_traffic_bytes"]) == (4 * (2 * 112 * 112 * 32 + 128), 0)
    r = CliRunner().invoke(main, ["table", "mobilenet_v2", "--explain", "--memory-model",
                                  "streamed", "--against-memory-model", "fused"])
    assert r.exit_code == 0 and "inside a block" in r.stdout
    for args, msg in ((["--against-memory-model", "eager"], "goes with --explain"),
                      (["--explain", "--memory-model", "eager", "--against-memory-model", "eager"],
                       "both memory models are 'eager'"),
                      (["--explain", "--memory-model", "eager", "--against-memory-model", "fused",
                        "-f", "csv"], "writes text or json")):
        r = CliRunner().invoke(main, ["table", "mobilenet_v1", *args])
        assert r.exit_code == 2 and msg in r.stderr, r.stderr
