"""One shape rule and one cost rule per primitive layer kind, in a registry.

Each cost rule returns *raw counts by category* (multiply-accumulates, bias
adds, BN elements, activation elements, pooled elements, ...); a counting
convention (``conventions.py``) then weighs the categories. The rules use only
``+``, ``*`` and ``/`` on the values the domain hands them, so the same code
gives exact Python integers at a concrete width and resolution and sympy
expressions in alpha and rho for the closed forms.

Notation (MobileNets §3): D_K kernel size, M input channels, N output channels,
D_F output feature-map size. Standard conv: D_K·D_K·M·N·D_F·D_F mult-adds;
depthwise: D_K·D_K·M·D_F·D_F; pointwise: M·N·D_F·D_F.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

ACTIVATIONS = ("relu", "relu6", "hswish", "hsigmoid", "swish", "silu", "sigmoid", "tanh", "softmax")
ACT_LABELS = {
    "relu": "ReLU", "relu6": "ReLU6", "hswish": "h-swish", "hsigmoid": "h-sigmoid",
    "swish": "swish", "silu": "swish", "sigmoid": "sigmoid", "tanh": "tanh", "softmax": "softmax",
}

# Every category a cost rule may emit, with what one unit is. Conventions weigh these.
MADD_CATEGORIES = {
    "mac": "one multiply-accumulate of a conv or FC weight",
    "bias": "one bias add (one per output element of a layer with bias)",
    "bn": "one BatchNorm output element",
    "bn.params": "one BatchNorm gamma or beta (2 per channel), once per layer: torchinfo counts "
                 "a parameterized module's parameters as its mult-adds",
    **{f"act.{a}": f"one {a} output element" for a in ACTIVATIONS if a != "silu"},
    "pool.global.in": "one input element of a global average pool",
    "pool.global.out": "one output element of a global average pool",
    "pool.avg.in": "one input element of a windowed average pool",
    "pool.avg.out": "one output element of a windowed average pool",
    "pool.max.in": "one input element of a max pool",
    "pool.max.out": "one output element of a max pool",
    # the same elements again, but only for pools run as modules (nn.AdaptiveAvgPool2d...), which
    # module-hook counters (thop, ptflops) see; a functional call (F.adaptive_avg_pool2d) is not
    **{f"pool.{k}.module.{e}": f"one {e}put element of a {k} pool run as a module"
       for k in ("global", "avg", "max") for e in ("in", "out")},
    "add": "one element-wise addition of a residual or merge",
    "mul": "one element-wise multiply (squeeze-and-excite gate)",
}
PARAM_CATEGORIES = {
    "weight": "conv and FC weights",
    "bias": "conv and FC biases",
    "bn.affine": "BatchNorm scale and shift (gamma, beta): 2 per channel",
    "bn.stats": "BatchNorm running mean and variance: 2 per channel",
}


@dataclass(frozen=True)
class Kind:
    """A primitive layer kind: its shape rule, cost rule and table label."""

    name: str
    shape: Callable  # (dom, in_shapes, attrs) -> (H, W, C)
    cost: Callable  # (dom, in_shapes, out_shape, attrs) -> (madd_terms, param_terms)
    label: Callable  # (attrs, in_shapes) -> str, the --by kind group


def _elems(dom, s):
    return dom.v(s[0]) * dom.v(s[1]) * dom.v(s[2])


# ---- shape rules

def _conv_shape(dom, ins, a):
    h, w, _ = ins[0]
    return (dom.spatial(h, a["k"], a["stride"], a["padding"]),
            dom.spatial(w, a["k"], a["stride"], a["padding"]), a["c_out"])


def _same_shape(dom, ins, a):
    return ins[0]


def _pool_shape(dom, ins, a):
    h, w, c = ins[0]
    if a["global"]:
        return (dom.fixed(1), dom.fixed(1), c)
    return (dom.spatial(h, a["k"], a["stride"], a["padding"]),
            dom.spatial(w, a["k"], a["stride"], a["padding"]), c)


def _fc_shape(dom, ins, a):
    return (dom.fixed(1), dom.fixed(1), a["c_out"])


def _concat_shape(dom, ins, a):
    return (ins[0][0], ins[0][1], dom.sum([s[2] for s in ins]))


# ---- cost rules

def _conv_cost(dom, ins, out, a):
    # standard: D_K²·(M/g)·N·D_F²; depthwise (g = M): D_K²·N·D_F² with N = M·multiplier
    k = a["k"]
    m = 1 if a["depthwise"] else dom.div(dom.v(ins[0][2]), a["groups"])
    n = dom.v(out[2])
    hw = dom.v(out[0]) * dom.v(out[1])
    madds = {"mac": k * k * m * n * hw}
    params = {"weight": k * k * m * n}
    if a["bias"]:
        madds["bias"] = n * hw
        params["bias"] = n
    return madds, params


def _fc_cost(dom, ins, out, a):
    m = _elems(dom, ins[0])  # an FC flattens its input
    n = dom.v(out[2])
    madds = {"mac": m * n}
    params = {"weight": m * n}
    if a["bias"]:
        madds["bias"] = n
        params["bias"] = n
    return madds, params


def _bn_cost(dom, ins, out, a):
    c = dom.v(out[2])
    return {"bn": _elems(dom, out), "bn.params": 2 * c}, {"bn.affine": 2 * c, "bn.stats": 2 * c}


def _act_cost(dom, ins, out, a):
    fn = "swish" if a["fn"] == "silu" else a["fn"]
    return {f"act.{fn}": _elems(dom, out)}, {}


def _pool_cost(dom, ins, out, a):
    kind = "global" if a["global"] else a["type"]
    n_in, n_out = _elems(dom, ins[0]), _elems(dom, out)
    terms = {f"pool.{kind}.in": n_in, f"pool.{kind}.out": n_out}
    if a.get("call", "module") == "module":
        terms[f"pool.{kind}.module.in"] = n_in
        terms[f"pool.{kind}.module.out"] = n_out
    return terms, {}


def _add_cost(dom, ins, out, a):
    return {"add": (len(ins) - 1) * _elems(dom, out)}, {}


def _mul_cost(dom, ins, out, a):
    return {"mul": _elems(dom, out)}, {}


def _free_cost(dom, ins, out, a):
    return {}, {}


# ---- labels for --by kind (the MobileNet paper's Table 2 names)

def _conv_label(a, ins):
    k = a["k"]
    if a["depthwise"]:
        return f"Conv DW {k}x{k}"
    if a["groups"] != 1:
        return f"Conv {k}x{k} grouped"
    return f"Conv {k}x{k}"


def _const(text):
    return lambda a, ins: text


KINDS = {
    "conv": Kind("conv", _conv_shape, _conv_cost, _conv_label),
    "dw": Kind("dw", _conv_shape, _conv_cost, _conv_label),
    "pw": Kind("pw", _conv_shape, _conv_cost, _conv_label),
    "fc": Kind("fc", _fc_shape, _fc_cost, _const("FC")),
    "bn": Kind("bn", _same_shape, _bn_cost, _const("BN")),
    "act": Kind("act", _same_shape, _act_cost, lambda a, ins: ACT_LABELS[a["fn"]]),
    "pool": Kind("pool", _pool_shape, _pool_cost,
                 lambda a, ins: "Global pool" if a["global"] else f"{a['type'].capitalize()} pool"),
    "add": Kind("add", _same_shape, _add_cost, _const("Add")),
    "mul": Kind("mul", _same_shape, _mul_cost, _const("SE gate")),
    "concat": Kind("concat", _concat_shape, _free_cost, _const("Concat")),
    "dropout": Kind("dropout", _same_shape, _free_cost, _const("Dropout")),
    "flatten": Kind("flatten", _same_shape, _free_cost, _const("Flatten")),
    # an operator without a cost rule (ONNX import, --allow-unknown): zero, and marked
    "unknown": Kind("unknown", lambda dom, ins, a: a["shape"], _free_cost,
                    lambda a, ins: f"unknown: {a['op']}"),
}
