"""The classic CNN baselines (ResNet, ResNeXt, Wide ResNet, MnasNet, DenseNet, RegNet, ConvNeXt) against
torchvision, and every peer preset against what its counter printed on the torchvision model.

Where the numbers come from:
- tests/reference/torchvision_counts.json: counts made with torch 2.14.1 / torchvision 0.29.1
  and the peer counters by tools/reference_counts.py (committed; see tools/README.md; never
  run by the suite). Its `source` header names the script, its hash and the versions.
- The walkers below, written from torchvision's module code (resnet.py, mnasnet.py,
  densenet.py, regnet.py, convnext.py) and independent of mbcost, derive MACs, parameters,
  BN and LayerNorm elements by hand.
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
           "densenet121", "regnet_y_400mf", "convnext_tiny", "alexnet", "vgg11", "vgg13", "vgg16",
           "vgg19", "squeezenet1_0", "squeezenet1_1", "googlenet", "inception_v3",
           "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"]
PRESETS = ["fvcore", "ptflops", "ptflops_aten", "thop", "torchprofile"]
NATIVE = {"inception_v3": 299}  # every other baseline's native size is 224 px


def at(name, res):
    """The resolution a test means: 'native' is the model's own size, else res itself."""
    return NATIVE.get(name, 224) if res == "native" else res


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


def regnet_walk(res, widths, depths, group_width=8, se_ratio=0.25):
    """torchvision regnet.py: SimpleStemIN (3x3 stride-2 conv to 32, BN, ReLU); per stage
    ResBottleneckBlocks (bottleneck multiplier 1, stride 2 in the first): 1x1, 3x3 with
    groups = width // group_width, SqueezeExcitation with int(round(se_ratio * block input
    width)) squeeze channels (two 1x1 convs with bias on the pooled 1x1), 1x1; a 1x1
    projection + BN where the stride or width changes; AdaptiveAvgPool2d, Linear."""
    n = Counter()
    x = conv(n, (res, 3), 32, k=3, s=2)
    for w, d in zip(widths, depths):
        for b in range(d):
            s = 2 if b == 0 else 1
            y = conv(n, conv(n, x, w), w, k=3, s=s, g=w // group_width)
            sq = int(round(se_ratio * x[1]))
            n["macs"] += w * sq + sq * w  # fc1 and fc2 on 1 x 1
            n["params"] += w * sq + sq + sq * w + w
            y = conv(n, y, w)
            if s != 1 or x[1] != w:
                conv(n, x, w, s=s)
            x = y
    n["final_size"] = x[0]
    fc(n, x[1])
    return n


def conv_bias(n, x, out, k, s=1, p=0):
    """nn.Conv2d(c, out, k, stride s, padding p) with its bias (AlexNet, VGG, SqueezeNet):
    output size floor((h + 2p - k) / s) + 1."""
    h, c = x
    ho = (h + 2 * p - k) // s + 1
    n["macs"] += k * k * c * out * ho * ho
    n["params"] += k * k * c * out + out
    return ho, out


def pool(x, k=3, s=2, ceil=False):
    """nn.MaxPool2d(k, s) (padding 0); ceil_mode: ceil((h - k) / s) + 1, less one if the last
    window would start outside the input (torch's pooling_output_shape; padding 0, so it never
    does for k >= s)."""
    h, c = x
    ho = -(-(h - k) // s) + 1 if ceil else (h - k) // s + 1
    if ceil and (ho - 1) * s >= h:
        ho -= 1
    return ho, c


def linear(n, c, out):
    """nn.Linear(c, out)."""
    n["macs"] += c * out
    n["params"] += c * out + out


def alexnet_walk(res):
    """torchvision alexnet.py: features, AdaptiveAvgPool2d((6, 6)), classifier."""
    n = Counter()
    x = pool(conv_bias(n, (res, 3), 64, 11, 4, 2))
    x = pool(conv_bias(n, x, 192, 5, p=2))
    for out in (384, 256, 256):
        x = conv_bias(n, x, out, 3, p=1)
    n["final_size"] = pool(x)[0]  # then the adaptive pool: 6x6 whatever it is
    for c, out in ((256 * 6 * 6, 4096), (4096, 4096), (4096, 1000)):
        linear(n, c, out)
    return n


VGG_CFGS = {"vgg11": (1, 1, 2, 2, 2), "vgg13": (2, 2, 2, 2, 2), "vgg16": (2, 2, 3, 3, 3),
            "vgg19": (2, 2, 4, 4, 4)}  # vgg.py cfgs A, B, D, E: 3x3 convs per stage


def vgg_walk(res, cfg):
    """torchvision vgg.py make_layers (3x3 convs, padding 1; MaxPool2d(2, 2) after each
    stage), AdaptiveAvgPool2d((7, 7)), classifier 25088-4096-4096-1000."""
    n = Counter()
    x = (res, 3)
    for convs, out in zip(cfg, (64, 128, 256, 512, 512)):
        for _ in range(convs):
            x = conv_bias(n, x, out, 3, p=1)
        x = pool(x, 2, 2)
    n["final_size"] = x[0]
    for c, out in ((512 * 7 * 7, 4096), (4096, 4096), (4096, 1000)):
        linear(n, c, out)
    return n


def squeezenet_walk(res, version):
    """torchvision squeezenet.py: Fire(inplanes, squeeze, e1x1, e3x3) = 1x1 squeeze, then
    1x1 and 3x3 (padding 1) expands concatenated; max pools 3/2 ceil_mode; final 1x1 conv."""
    n = Counter()

    def fire(x, s, e):
        y = conv_bias(n, x, s, 1)
        conv_bias(n, y, e, 1)
        conv_bias(n, y, e, 3, p=1)
        return y[0], 2 * e

    if version == "1_0":
        x = pool(conv_bias(n, (res, 3), 96, 7, 2), ceil=True)
        plan = [(16, 64), (16, 64), (32, 128), "M", (32, 128), (48, 192), (48, 192), (64, 256),
                "M", (64, 256)]
    else:
        x = pool(conv_bias(n, (res, 3), 64, 3, 2), ceil=True)
        plan = [(16, 64), (16, 64), "M", (32, 128), (32, 128), "M", (48, 192), (48, 192),
                (64, 256), (64, 256)]
    for step in plan:
        x = pool(x, ceil=True) if step == "M" else fire(x, *step)
    n["final_size"] = x[0]
    conv_bias(n, x, 1000, 1)  # final_conv, then ReLU and AdaptiveAvgPool2d((1, 1))
    return n


def inception_v3_walk(res):
    """torchvision inception.py Inception3(aux_logits=False): BasicConv2d = conv (no bias) + BN
    + F.relu with (kh, kw) kernels and per-axis padding; InceptionA-E; branch pools keep or
    halve the size like the convs beside them. aux_params: InceptionAux(768, 1000), which
    torchvision's published num_params includes: conv0 1x1 768 -> 128 + BN, conv1 5x5
    128 -> 768 + BN, fc 768 -> 1000."""
    n = Counter()

    def basic(x, out, k=(1, 1), s=1, p=(0, 0)):
        h, w, c = x
        ho, wo = (h + 2 * p[0] - k[0]) // s + 1, (w + 2 * p[1] - k[1]) // s + 1
        n["macs"] += k[0] * k[1] * c * out * ho * wo
        n["params"] += k[0] * k[1] * c * out + 2 * out
        n["bn"] += out * ho * wo
        n["relu"] += out * ho * wo
        return ho, wo, out

    def cat(*xs):
        return xs[0][0], xs[0][1], sum(x[2] for x in xs)

    k3, k5, p1, p2 = (3, 3), (5, 5), (1, 1), (2, 2)
    k17, k71, p03, p30 = (1, 7), (7, 1), (0, 3), (3, 0)
    k13, k31, p01, p10 = (1, 3), (3, 1), (0, 1), (1, 0)

    def a(x, pf):
        return cat(basic(x, 64), basic(basic(x, 48), 64, k5, p=p2),
                   basic(basic(basic(x, 64), 96, k3, p=p1), 96, k3, p=p1), basic(x, pf))

    def b(x):
        y = basic(x, 384, k3, 2)
        return cat(y, basic(basic(basic(x, 64), 96, k3, p=p1), 96, k3, 2), (y[0], y[1], x[2]))

    def c(x, c7):
        b7 = basic(basic(basic(x, c7), c7, k17, p=p03), 192, k71, p=p30)
        d = basic(basic(basic(basic(basic(x, c7), c7, k71, p=p30), c7, k17, p=p03), c7, k71,
                                    p=p30), 192, k17, p=p03)
        return cat(basic(x, 192), b7, d, basic(x, 192))

    def d(x):
        y = basic(basic(x, 192), 320, k3, 2)
        z = basic(basic(basic(basic(x, 192), 192, k17, p=p03), 192, k71, p=p30), 192, k3, 2)
        return cat(y, z, (y[0], y[1], x[2]))

    def e(x):
        y = basic(x, 384)
        z = basic(basic(x, 448), 384, k3, p=p1)
        return cat(basic(x, 320), basic(y, 384, k13, p=p01), basic(y, 384, k31, p=p10),
                   basic(z, 384, k13, p=p01), basic(z, 384, k31, p=p10), basic(x, 192))

    x = basic(basic(basic((res, res, 3), 32, k3, 2), 32, k3), 64, k3, p=p1)
    x = (pool((x[0], 0))[0], pool((x[1], 0))[0], x[2])  # maxpool1 3/2
    x = basic(basic(x, 80), 192, k3)
    x = (pool((x[0], 0))[0], pool((x[1], 0))[0], x[2])  # maxpool2 3/2
    x = a(a(a(x, 32), 64), 64)
    x = b(x)
    for c7 in (128, 160, 160, 192):
        x = c(x, c7)
    x = e(e(d(x)))
    n["final_size"] = x[0]
    fc(n, x[2])
    n["aux_params"] = (768 * 128 + 2 * 128) + (25 * 128 * 768 + 2 * 768) + (768 * 1000 + 1000)
    return n


def googlenet_walk(res):
    """torchvision googlenet.py (aux_logits=False): BasicConv2d = conv (no bias) + BN + F.relu;
    MaxPool2d(..., ceil_mode=True); Inception(in, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5,
    pool_proj) with a 3x3 kernel in the "5x5" branch; branch4's 3/1 pool keeps the size."""
    n = Counter()

    def basic(x, out, k=1, s=1, p=0):
        h, c = x
        ho = (h + 2 * p - k) // s + 1
        n["macs"] += k * k * c * out * ho * ho
        n["params"] += k * k * c * out
        norm(n, (ho, out))
        n["relu"] += out * ho * ho  # F.relu after every BN
        return ho, out

    def inception(x, c1, c3r, c3, c5r, c5, pp):
        basic(x, c1)
        basic(basic(x, c3r), c3, 3, p=1)
        basic(basic(x, c5r), c5, 3, p=1)
        basic(x, pp)
        return x[0], c1 + c3 + c5 + pp

    x = pool(basic((res, 3), 64, 7, 2, 3), ceil=True)
    x = pool(basic(basic(x, 64), 192, 3, p=1), ceil=True)
    x = inception(inception(x, 64, 96, 128, 16, 32, 32), 128, 128, 192, 32, 96, 64)
    x = pool(x, ceil=True)
    for cfg in ((192, 96, 208, 16, 48, 64), (160, 112, 224, 24, 64, 64),
                (128, 128, 256, 24, 64, 64), (112, 144, 288, 32, 64, 64),
                (256, 160, 320, 32, 128, 128)):
        x = inception(x, *cfg)
    x = pool(x, 2, 2, ceil=True)
    x = inception(inception(x, 256, 160, 320, 32, 128, 128), 384, 192, 384, 48, 128, 128)
    n["final_size"] = x[0]
    fc(n, x[1])
    return n


def shufflenet_v2_walk(res, widths, repeats=(4, 8, 4)):
    """torchvision shufflenetv2.py ShuffleNetV2(stages_repeats, stages_out_channels): conv1 (3x3
    s2) + BN + ReLU, MaxPool2d(3, 2, 1), stages of InvertedResidual (stride 2 in the first:
    branch1 = dw 3x3 + BN, 1x1 + BN + ReLU on the input; branch2 = 1x1 + BN + ReLU, dw 3x3 + BN,
    1x1 + BN + ReLU, on the input where the stride is 2, on one half of x.chunk(2) elsewhere;
    torch.cat then channel_shuffle, both free), conv5 1x1 + BN + ReLU, x.mean([2, 3]), fc.
    Also counts ReLU outputs and the max pool's input elements (what ptflops adds)."""
    n = Counter()

    def relu(x):
        n["relu"] += x[1] * x[0] * x[0]
        return x

    x = relu(conv(n, (res, 3), widths[0], k=3, s=2))
    n["maxpool_in"] = x[1] * x[0] * x[0]
    x = maxpool(x)
    for reps, out in zip(repeats, widths[1:4]):
        half = out // 2
        for i in range(reps):
            s, inp = (2, x) if i == 0 else (1, (x[0], half))
            y = relu(conv(n, inp, half))
            y = relu(conv(n, conv(n, y, half, k=3, s=s, g=half), half))
            if s == 2:
                relu(conv(n, conv(n, x, x[1], k=3, s=2, g=x[1]), half))
            x = (y[0], out)
    x = relu(conv(n, x, widths[4]))
    n["final_size"] = x[0]
    fc(n, x[1])
    return n


def layernorm(n, h, c, module):
    """LayerNorm over c channels at h x h positions: gamma and beta; module: an nn.LayerNorm
    (CNBlock's), else torchvision's LayerNorm2d."""
    n["params"] += 2 * c
    n["ln"] += c * h * h
    if module:
        n["ln_module"] += c * h * h


def convnext_walk(res, dims=(96, 192, 384, 768), depths=(3, 3, 9, 3)):
    """torchvision convnext.py: a 4x4 stride-4 stem with bias + LayerNorm2d; CNBlock: 7x7
    depthwise with bias, LayerNorm, Linear(c, 4c), GELU, Linear(4c, c) (the Linears on the
    channels-last tensor: once per position), layer_scale (c); between stages LayerNorm2d +
    2x2 stride-2 conv with bias; head AdaptiveAvgPool2d, LayerNorm2d, Linear."""
    n = Counter()
    h, c = (res - 4) // 4 + 1, dims[0]
    n["macs"] += 16 * 3 * c * h * h
    n["params"] += 16 * 3 * c + c
    n["bias"] += c * h * h
    layernorm(n, h, c, False)
    for i, (c, d) in enumerate(zip(dims, depths)):
        if i:
            layernorm(n, h, dims[i - 1], False)
            h = (h - 2) // 2 + 1
            n["macs"] += 4 * dims[i - 1] * c * h * h
            n["params"] += 4 * dims[i - 1] * c + c
            n["bias"] += c * h * h
        for _ in range(d):
            n["macs"] += 49 * c * h * h + 2 * 4 * c * c * h * h
            n["params"] += (49 * c + c) + (4 * c * c + 4 * c) + (4 * c * c + c) + c
            n["bias"] += (c + 4 * c + c) * h * h
            n["linear_params"] += (4 * c * c + 4 * c) + (4 * c * c + c)
            n["linear_positions"] += h * h * ((4 * c * c + 4 * c) + (4 * c * c + c))
            layernorm(n, h, c, True)
            n["gelu"] += 4 * c * h * h
            n["scale"] += c * h * h
            n["scale_params"] += c
    n["final_size"] = h
    n["pool_in"] = c * h * h
    layernorm(n, 1, c, False)
    fc(n, c)
    n["bias"] += 1000
    return n

SHUFFLENET_WIDTHS = {  # torchvision stages_out_channels
    "shufflenet_v2_x0_5": (24, 48, 96, 192, 1024),
    "shufflenet_v2_x1_0": (24, 116, 232, 464, 1024),
    "shufflenet_v2_x1_5": (24, 176, 352, 704, 1024),
    "shufflenet_v2_x2_0": (24, 244, 488, 976, 2048),
}

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
    "regnet_y_400mf": lambda r: regnet_walk(r, (48, 104, 208, 440), (1, 3, 6, 6)),
    "convnext_tiny": convnext_walk,
    "alexnet": alexnet_walk,
    **{name: (lambda r, c=cfg: vgg_walk(r, c)) for name, cfg in VGG_CFGS.items()},
    "squeezenet1_0": lambda r: squeezenet_walk(r, "1_0"),
    "squeezenet1_1": lambda r: squeezenet_walk(r, "1_1"),
    "googlenet": googlenet_walk,
    "inception_v3": inception_v3_walk,
    **{m: (lambda r, w=w: shufflenet_v2_walk(r, w)) for m, w in SHUFFLENET_WIDTHS.items()},
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
    assert {(m, at(m, r)) for m in CLASSIC for r in ("native", 160)} <= set(ENTRIES)


@pytest.mark.parametrize("name, macs, params", [
    # issue 11: resnet50 4,089,184,256 / 25,557,032 (torchvision _ops 4.089, num_params);
    # mnasnet1_0 314,415,872 / 4,383,312 derived by hand from mnasnet.py (mnasnet_walk);
    # shufflenet_v2_x1_0 144,907,992 / 2,278,604 (torch's hooks and num_params; the walker);
    # torchvision's published num_params and the issue's / the reference's conv+FC MACs:
    # alexnet 61,100,840 / 714,188,480; vgg16 138,357,544 / 15,470,264,320 (issue 11);
    # squeezenet1_0 1,248,424 / 818,924,576
    ("resnet50", 4_089_184_256, 25_557_032), ("mnasnet1_0", 314_415_872, 4_383_312),
    ("shufflenet_v2_x1_0", 144_907_992, 2_278_604), ("alexnet", 714_188_480, 61_100_840),
    ("vgg16", 15_470_264_320, 138_357_544), ("squeezenet1_0", 818_924_576, 1_248_424),
])
def test_the_issue_anchors(name, macs, params):
    w = WALKS[name](224)
    assert (w["macs"], w["params"]) == (macs, params)
    a = mbcost.analyze(name, convention="torchvision")
    assert (a.madds, a.params) == (macs, params)
    e = ENTRIES[(name, 224)]
    assert (e["conv_linear_macs"], e["params"]) == (macs, params)


@pytest.mark.parametrize("name, pool, fc, size", [
    ("alexnet", "avgpool", "fc6", (6, 6, 256)), ("vgg16", "avgpool", "fc6", (7, 7, 512)),
    ("vgg11", "avgpool", "fc6", (7, 7, 512))])
@pytest.mark.parametrize("res", [224, 160, 100])
def test_adaptive_pool_fixes_the_classifier_input(name, pool, fc, size, res):
    # torchvision: nn.AdaptiveAvgPool2d((6, 6)) / ((7, 7)) before the classifier, so its
    # weights and MACs are the same at every resolution (9216·4096 / 25088·4096)
    rows = {r.name: r for r in mbcost.analyze(name, resolution=res).rows}
    assert rows[pool].output == size and rows[fc].input == size
    n = size[0] * size[1] * size[2] * 4096
    assert (rows[fc].madds, rows[fc].params) == (n, n + 4096)


def test_squeezenet_pools_round_up():
    # torchvision squeezenet1_0: conv1 7x7/2 (no padding) 224 -> 109; MaxPool2d(3, 2,
    # ceil_mode=True) 109 -> 54, 54 -> 27 (floor would give 26), 27 -> 13
    rows = {r.name: r for r in mbcost.analyze("squeezenet1_0").rows}
    assert [rows[p].output[0] for p in ("maxpool1", "maxpool4", "maxpool8")] == [54, 27, 13]
    assert rows["maxpool4"].input[0] == 54


def test_cli_prints_the_resnet50_anchor():
    r = CliRunner().invoke(main, ["table", "resnet50", "--convention", "torchvision"])
    assert r.exit_code == 0, r.output
    assert re.search(r"Total.*4,089,184,256.*25,557,032", r.output)


# ---------------------------------------------------------------- torchvision, exactly

@pytest.mark.parametrize("res", ["native", 160])
@pytest.mark.parametrize("name", CLASSIC)
def test_walker_matches_torch(name, res):
    res = at(name, res)
    w, e = WALKS[name](res), ENTRIES[(name, res)]
    assert (w["macs"], w["params"], w["bn"]) == (e["conv_linear_macs"], e["params"], e["bn_out_elems"])


@pytest.mark.parametrize("res", ["native", 160])
@pytest.mark.parametrize("name", CLASSIC)
def test_torchvision_convention_is_exact(name, res):
    res = at(name, res)
    e = ENTRIES[(name, res)]
    a = mbcost.analyze(spec_for(name), resolution=res, convention="torchvision")
    assert (a.madds, a.params) == (e["conv_linear_macs"], e["params"])
    assert raw(a)["bn"] == e["bn_out_elems"]


@pytest.mark.parametrize("name", CLASSIC)
def test_published_metadata(name):
    # torchvision's num_params and _ops (GFLOPS, really GMACs, to 3 decimals) of the default weights
    pub = ENTRIES[(name, at(name, "native"))]["published"]
    a = mbcost.analyze(name, convention="torchvision")
    # inception_v3's published count includes AuxLogits (walker: aux_params), which the
    # bundled spec holds as a train-only head; googlenet's published weights have no heads
    assert a.params == pub["num_params"]
    assert sum(r.params for r in a.rows if r.head) == WALKS[name](at(name, "native"))["aux_params"]
    assert round(a.madds / 1e9, 3) == pub["ops_gflops"]


# ---------------------------------------------------------------- the peer presets

@pytest.mark.parametrize("name, res", sorted(ENTRIES))
def test_peer_presets(name, res):
    res = at(name, res)
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
    res = at(name, res)
    # fvcore's per-operator totals are mbcost's raw categories: conv + linear = MACs, batch_norm =
    # 2 per BN element, adaptive_avg_pool2d = the input elements of every pool it sees
    e = ENTRIES[(name, res)]
    ops, unsupported = e["peers"]["fvcore"]["flops_by_operator"], e["peers"]["fvcore"]["flops_unsupported_ops"]
    n = raw(mbcost.analyze(spec_for(name), resolution=res))
    assert ops["conv"] + ops.get("linear", 0) == n["mac"]
    assert ops.get("batch_norm", 0) == 2 * n["bn"]  # AlexNet, VGG, SqueezeNet have none
    assert ops.get("layer_norm", 0) == 5 * n["ln"]
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


@pytest.mark.parametrize("res", [224, 160])
@pytest.mark.parametrize("name", sorted(SHUFFLENET_WIDTHS))
def test_shufflenet_presets_by_hand(name, res):
    # the peer rules (README, counting conventions) on the walker's element counts, checked
    # against both what each counter printed and what the preset says: x.mean([2, 3]) is
    # counted by torchprofile only (1 per output channel), every ReLU is an nn.ReLU (2/elem
    # in ptflops), the max pool an nn.MaxPool2d (ptflops 2 per input element, thop 0)
    w, e = WALKS[name](res), ENTRIES[(name, res)]
    c5 = SHUFFLENET_WIDTHS[name][4]
    by_hand = {"fvcore": w["macs"] + 2 * w["bn"],
               "ptflops": w["macs"] + 1000 + 2 * w["bn"] + 2 * w["relu"] + 2 * w["maxpool_in"],
               "ptflops_aten": w["macs"] + 1000,
               "thop": w["macs"] + 4 * w["bn"],
               "torchprofile": w["macs"] + w["bn"] + c5}
    for preset, want in by_hand.items():
        peer = e["peers"][preset]
        assert (peer["flops_total"] if preset == "fvcore" else peer["macs"]) == want, preset
        assert mbcost.analyze(name, resolution=res, convention=preset).madds == want, preset


def test_shufflenet_units_split_convolve_concat_shuffle():
    rows = {r.name: r for r in mbcost.analyze("shufflenet_v2_x1_0").rows}
    # stage2.1 strides: both branches see the 24-channel 56x56 input, 58 channels each
    assert rows["stage2.1/down/b1/dw"].input == (56, 56, 24)
    assert rows["stage2.1/down"].kind == "concat" and rows["stage2.1/down"].output == (28, 28, 116)
    # stage2.2: x.chunk(2) gives two 58-channel halves, only the second is convolved
    assert rows["stage2.2/split/b1/x1"].output == rows["stage2.2/split/b2/x2"].output == (28, 28, 58)
    assert rows["stage2.2/split/b2/pw1"].input == (28, 28, 58)
    assert rows["stage2.2/split"].output == (28, 28, 116)
    # every unit ends with channel_shuffle(out, 2); splits are free, two per stride-1 unit
    assert sum(1 for n in rows if n.endswith("/shuffle")) == 4 + 8 + 4
    splits = [r for r in rows.values() if r.kind == "split"]
    assert len(splits) == 2 * (3 + 7 + 3) and all(r.madds == r.params == 0 for r in splits)
    assert rows["mean"].output == (1, 1, 1024) and rows["fc"].input == (1, 1, 1024)


@pytest.mark.parametrize("alpha", ["0.5", "1.5"])
def test_shufflenet_width_extension_agrees_everywhere(alpha):
    # --alpha (mbcost's extension): every split halves an even count (a concat of two equal
    # branches); the fast grid and the exact build agree
    from mbcost.grid import sweep

    a = mbcost.analyze("shufflenet_v2_x1_0", alpha=alpha, resolution=160, convention="ptflops")
    sw = sweep("shufflenet_v2_x1_0", [alpha], [160], convention="ptflops")
    assert (sw.points[0].madds, sw.points[0].params) == (a.madds, a.params)
    assert all(r.input[2] % 2 == 0 for r in a.rows if r.kind == "split")


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
    ("vgg11", "vgg16.yaml", {"vars": {"n1": 1, "n2": 1, "n3": 2, "n4": 2, "n5": 2}}),
    ("vgg13", "vgg16.yaml", {"vars": {"n1": 2, "n2": 2, "n3": 2, "n4": 2, "n5": 2}}),
    ("vgg19", "vgg16.yaml", {"vars": {"n1": 2, "n2": 2, "n3": 4, "n4": 4, "n5": 4}}),
    ("shufflenet_v2_x0_5", "shufflenet_v2_x1_0.yaml",
     {"vars": {"c2": 48, "c3": 96, "c4": 192, "c5": 1024}}),
    ("shufflenet_v2_x1_5", "shufflenet_v2_x1_0.yaml",
     {"vars": {"c2": 176, "c3": 352, "c4": 704, "c5": 1024}}),
    ("shufflenet_v2_x2_0", "shufflenet_v2_x1_0.yaml",
     {"vars": {"c2": 244, "c3": 488, "c4": 976, "c5": 2048}}),
])
def test_variants_come_from_one_base(child, parent, changes):
    data = yaml.safe_load((SPECS / f"{child}.yaml").read_text(encoding="utf-8"))
    assert data["extends"] == parent
    assert {k: data[k] for k in changes} == changes
    assert "layers" not in data and "blocks" not in data


def test_squeezenet1_1_shares_the_fire_block():
    # one base: squeezenet1_1 lists its own stem and pool placement, and takes the fire
    # block and classifier from squeezenet1_0
    data = yaml.safe_load((SPECS / "squeezenet1_1.yaml").read_text(encoding="utf-8"))
    assert data["extends"] == "squeezenet1_0.yaml" and "blocks" not in data
    assert sum("fire" in item for item in data["layers"]) == 8


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

def _docs_example(marker):
    """The yaml block after <!-- marker ... --> in docs/spec-format.md."""
    text = (ROOT / "docs" / "spec-format.md").read_text(encoding="utf-8")
    m = re.search(rf"<!-- {marker}[^>]*-->\s*```yaml\n(.*?)```", text, re.S)
    assert m, f"docs/spec-format.md lost its <!-- {marker} --> yaml block"
    return yaml.safe_load(m.group(1))


def _shortcut_example():
    return _docs_example("shortcut-example")


def _shuffle_example():
    return _docs_example("shuffle-example")


@pytest.mark.parametrize("marker,spec,block", [("shortcut-example", "resnet18", "basic"),
                                               ("shuffle-example", "shufflenet_v2_x1_0", "unit")])
def test_docs_example_is_the_bundled_block(marker, spec, block):
    bundled = yaml.safe_load((SPECS / f"{spec}.yaml").read_text(encoding="utf-8"))
    assert _docs_example(marker)["blocks"][block] == bundled["blocks"][block]


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


def test_docs_shuffle_example_analyzes():
    rows = {r.name: r for r in mbcost.analyze(_shuffle_example()).rows}
    # stage2.1 strides: branch 1 = dw 3x3 (24 ch) + 1x1 24 -> 24; branch 2 = 1x1 24 -> 24,
    # dw 3x3, 1x1 24 -> 24; concat 48 channels at 16x16
    assert rows["stage2.1/down"].output == (16, 16, 48)
    assert rows["stage2.1/down/b1/pw"].params == 24 * 24
    assert "stage2.1/split" not in rows and "stage2.2/down" not in rows
    # stage2.2: two halves of 24 channels, the second through 24 x 24 1x1 convs (BN each)
    assert rows["stage2.2/split/b1/x1"].output == (16, 16, 24)
    assert rows["stage2.2/split/b2/pw1"].madds == 24 * 24 * 16 * 16
    assert rows["stage2.2/shuffle"].input == rows["stage2.2/shuffle"].output == (16, 16, 48)


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


# ---------------------------------------------------------------- ConvNeXt and RegNet

@pytest.mark.parametrize("res", [224, 160])
def test_convnext_peers_by_hand(res):
    # each counter's total from the walker's element counts and the per-operation rules
    # (docs: README's convention table; measured on torchvision's modules in test_registry):
    # fvcore: layer_norm 5/elem, adaptive_avg_pool2d 1/input elem; ptflops: every bias,
    # nn.LayerNorm 1/elem (LayerNorm2d not seen), nn.GELU 2/elem, the pool module 2/input elem;
    # aten: every bias; thop: nn.LayerNorm 4/elem, the pool input + output; torchprofile:
    # every LayerNorm 1/elem, the layer-scale multiply 1/elem, the pool's 768 outputs
    w, e = convnext_walk(res), ENTRIES[("convnext_tiny", res)]
    peers = e["peers"]
    assert w["macs"] + 5 * w["ln"] + w["pool_in"] == peers["fvcore"]["flops_total"]
    assert (w["macs"] + w["bias"] + w["ln_module"] + 2 * w["gelu"] + 2 * w["pool_in"]
            == peers["ptflops"]["macs"])
    assert w["macs"] + w["bias"] == peers["ptflops_aten"]["macs"]
    assert w["macs"] + 4 * w["ln_module"] + w["pool_in"] + 768 == peers["thop"]["macs"]
    assert w["macs"] + w["ln"] + w["scale"] + 768 == peers["torchprofile"]["macs"]
    # thop's parameters leave out LayerNorm2d's (stem, 3 downsamples, head) and layer_scale
    ln2d = 2 * (96 + 96 + 192 + 384 + 768)
    assert peers["thop"]["params"] == w["params"] - ln2d - w["scale_params"]
    assert (ln2d, w["scale_params"]) == (3_072, 6_624)  # 9,696 short of torch's 28,589,128


def test_convnext_spec_reads_like_the_block():
    rows = {r.name: r for r in mbcost.analyze("convnext_tiny").rows}
    block = [r for r in rows if r.startswith("stage1.1/")]
    assert block == [f"stage1.1/{n}" for n in ("dwconv", "norm", "pwconv1", "pwconv1.gelu",
                                               "pwconv2", "layer_scale", "add")]
    assert [rows[r].op for r in block] == ["Conv DW 7x7", "LayerNorm", "Conv 1x1", "GELU",
                                           "Conv 1x1", "Layer scale", "Add"]
    assert rows["stage1.1/pwconv1"].output == (56, 56, 384)
    assert [len([r for r in rows if r.startswith(f"stage{i}.") and r.endswith("/add")])
            for i in (1, 2, 3, 4)] == [3, 3, 9, 3]
    assert rows["classifier"].input == (1, 1, 768)


def test_regnet_groups_come_from_the_group_width():
    # torchvision: groups = width // 8: 6, 13, 26, 55 in the four stages; the SE squeezes to
    # round(0.25 x the block's input width): 8 (stem 32) in block1, then 12 and 26 in block2
    rows = {r.name: r for r in mbcost.analyze("regnet_y_400mf").rows}
    for stage, w in zip((1, 2, 3, 4), (48, 104, 208, 440)):
        b = rows[f"block{stage}{'' if stage == 1 else '.1'}/add/b1/b"]
        assert (b.op, b.input[2], b.output[2]) == ("Conv 3x3 grouped", w, w)
        assert b.params == 9 * 8 * w  # each output channel sees group_width = 8 inputs
    assert rows["block1/add/b1/se.reduce"].output[2] == 8 and "block1/add/b2/proj" in rows
    assert rows["block2.1/add/b1/se.reduce"].output[2] == 12
    assert rows["block2.2/add/b1/se.reduce"].output[2] == 26


def test_docs_convnext_example_is_the_bundled_block():
    text = (ROOT / "docs" / "spec-format.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- convnext-example[^>]*-->\s*```yaml\n(.*?)```", text, re.S)
    assert m, "docs/spec-format.md lost its <!-- convnext-example --> yaml block"
    example = yaml.safe_load(m.group(1))
    bundled = yaml.safe_load((SPECS / "convnext_tiny.yaml").read_text(encoding="utf-8"))
    assert example["blocks"]["cnblock"] == bundled["blocks"]["cnblock"]
    rows = {r.name: r for r in mbcost.analyze(example, convention="torchvision").rows}
    # per block on 16 x 16 x 96 (torchvision CNBlock(96)): 7x7 depthwise 49*96 + 96, LayerNorm
    # 2*96, Linears 96*384 + 384 and 384*96 + 96, layer scale 96 parameters
    params = sum(r.params for n, r in rows.items() if n.startswith("stage1.1/"))
    assert params == (49 * 96 + 96) + 2 * 96 + (96 * 384 + 384) + (384 * 96 + 96) + 96
    assert rows["stage1.2/add"].output == (16, 16, 96)


def test_memory_models_store_layernorm_and_layer_scale():
    # every parameter category is stored weight in the memory model; ConvNeXt has no BN to
    # fold, so each memory model stores torch's 28,589,128 parameters, 4 bytes each in fp32
    from mbcost.layers import PARAM_CATEGORIES
    from mbcost.memory_model import WEIGHT_TERMS

    # (an idle head's 'idle.*' categories are the same ones, stored under that prefix)
    assert set(WEIGHT_TERMS) == {k for k in PARAM_CATEGORIES if not k.startswith("idle.")}
    assert set(PARAM_CATEGORIES) == set(WEIGHT_TERMS) | {f"idle.{k}" for k in WEIGHT_TERMS}
    for model in ("eager", "fused", "streamed"):
        a = mbcost.analyze("convnext_tiny", memory={"memory_model": model})
        assert a.memory.weight_bytes == 4 * ENTRIES[("convnext_tiny", 224)]["params"]


@pytest.mark.parametrize("name", ["convnext_tiny", "regnet_y_400mf"])
def test_every_evaluator_agrees(name):
    # the closed form is exact at alpha = rho = 1 under each convention; the sweep/fit grid
    # gives table's integers at other widths and resolutions (group widths still divide)
    from mbcost import design

    for conv in ("torchvision", "fvcore", "ptflops", "thop", "torchprofile"):
        assert mbcost.closed_form(name, convention=conv).exact_at_base, conv
    ev = design.GridEvaluator(name, convention="torchvision")
    for alpha, res in (("0.5", 160), ("1", 224), ("1.5", 192), ("0.75", 224)):
        a = mbcost.analyze(name, alpha=alpha, resolution=res, convention="torchvision")
        assert (ev.point(alpha, res).madds, ev.point(alpha, res).params) == (a.madds, a.params)


def test_group_width_is_linear_in_alpha():
    # each output channel sees group_width = 8 inputs whatever the width: the grouped 3x3 of
    # block2.1 (104 channels, 28 x 28 out) costs 9 * 8 * 104 * 28^2 alpha rho^2 mult-adds and
    # 9 * 8 * 104 alpha weights, where fixed groups would grow with alpha^2
    from mbcost.symbols import alpha, rho

    layers = {n: (m, p) for n, _, m, p, _ in mbcost.closed_form("regnet_y_400mf").layers}
    assert layers["block2.1/add/b1/b"] == (9 * 8 * 104 * 28 * 28 * alpha * rho**2,
                                           9 * 8 * 104 * alpha)
