"""The layer-kind registry: every kind a spec may name, in one entry each.

A *layer kind* is what a spec writes (``conv``, ``dwsep``, ``se``, ``relu``...). Its
``LayerKind`` entry holds its fields (with defaults; each field's JSON type and
meaning is in ``FIELDS``), its shorthand, its doc line and its expander (how the
builder turns one spec item into primitive nodes). A *primitive* kind is what a graph
node is (``conv``, ``dw``, ``pool``, ``mul``...): its ``Primitive`` holds one shape
rule, one cost rule and its label (the ``--by kind`` type, the MobileNet paper's
Table 2 names). Some kinds are both (``conv``), some only spec-facing (``dwsep``
expands into ``dw`` + ``pw``), one only primitive (``mul``, made by ``se``).

The JSON Schema of specs (schemas.py), the field tables checked against
docs/spec-format.md, the expression fields the injection tests try, the builder
(graph.py) and every evaluator (cost.py exact and symbolic, the sweep/fit grid) read
``LAYER_KINDS`` and ``PRIMITIVES``; tests refuse an entry that is not complete.
Validity rules (groups divide channels, shapes match at a merge) are recorded once,
by the expander, as ``Check`` objects on the node; every evaluator checks those.

Adding a kind: one ``LayerKind`` entry below (plus a ``Primitive`` if it makes a new
kind of node), a ``### `kind` `` section in docs/spec-format.md and a test.

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

import dataclasses
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

from .errors import LimitError
from .limits import MAX_NESTING

ACTIVATIONS = ("relu", "relu6", "hswish", "hsigmoid", "swish", "silu", "sigmoid", "tanh", "softmax",
               "gelu")
ACT_LABELS = {
    "relu": "ReLU", "relu6": "ReLU6", "hswish": "h-swish", "hsigmoid": "h-sigmoid",
    "swish": "swish", "silu": "swish", "sigmoid": "sigmoid", "tanh": "tanh", "softmax": "softmax",
    "gelu": "GELU",
}

# Every category a cost rule may emit, with what one unit is. Conventions weigh these.
MADD_CATEGORIES = {
    "mac": "one multiply-accumulate of a conv or FC weight",
    "bias": "one bias add (one per output element of a layer with bias)",
    "bn": "one BatchNorm output element",
    "bn.params": "one BatchNorm gamma or beta (2 per channel), once per layer: torchinfo counts "
                 "a parameterized module's parameters as its mult-adds",
    # an activation's elements, when it is called as a module or a function (nn.ReLU,
    # F.relu: call-patching counters see both), once more if it is a module (ptflops: its
    # hook and the F.relu it calls), or instead as a tensor method (x.relu()), which no
    # counter patches
    **{f"act.{a}": f"one {a} output element (not a tensor method)"
       for a in ACTIVATIONS if a != "silu"},
    **{f"act.{a}.module": f"one {a} output element of an activation module"
       for a in ACTIVATIONS if a != "silu"},
    **{f"act.{a}.method": f"one {a} output of a tensor method, x.{a}()"
       for a in ACTIVATIONS if a != "silu"},
    # a pool called as a module or a function (nn.AdaptiveAvgPool2d, F.adaptive_avg_pool2d);
    # a tensor method (x.mean([2, 3])) has categories of its own below
    "pool.global.in": "one input element of a global average pool, not x.mean",
    "pool.global.out": "one output element of a global average pool, not x.mean",
    "pool.avg.in": "one input element of a windowed average pool",
    "pool.avg.out": "one output element of a windowed average pool",
    "pool.max.in": "one input element of a max pool",
    "pool.max.out": "one output element of a max pool",
    # the same elements again, but only for pools run as modules (nn.AdaptiveAvgPool2d...), which
    # module-hook counters (thop, ptflops) see; a functional call (F.adaptive_avg_pool2d) is not
    **{f"pool.{k}.module.{e}": f"one {e}put element of a {k} pool run as a module"
       for k in ("global", "avg", "max") for e in ("in", "out")},
    # a global pool written as a tensor method, x.mean([2, 3]) (ShuffleNetV2, MnasNet): traced
    # as aten::mean, which fvcore leaves unsupported, ptflops and thop do not see, and
    # torchprofile counts like an average pool
    **{f"pool.global.method.{e}": f"one {e}put element of a global pool x.mean([2, 3])"
       for e in ("in", "out")},
    "add": "one element-wise addition of a residual or merge",
    "mul": "one element-wise multiply (squeeze-and-excite gate)",
    # LayerNorm over the channels at each position (ConvNeXt): elements, and again for an
    # nn.LayerNorm module, which module-hook counters see (torchvision's LayerNorm2d subclass,
    # `call: functional`, they do not: they dispatch on the exact type)
    "ln": "one LayerNorm output element",
    "ln.module": "one output element of a LayerNorm run as an nn.LayerNorm module",
    "ln.params": "one LayerNorm gamma or beta (2 per channel), once per layer (torchinfo)",
    "scale": "one element-wise multiply by a per-channel layer scale (ConvNeXt)",
}
PARAM_CATEGORIES = {
    "weight": "conv and FC weights",
    "bias": "conv and FC biases",
    "bn.affine": "BatchNorm scale and shift (gamma, beta): 2 per channel",
    "bn.stats": "BatchNorm running mean and variance: 2 per channel",
    "ln.affine": "LayerNorm scale and shift of an nn.LayerNorm module: 2 per channel",
    "ln.affine.functional": "LayerNorm scale and shift where module-hook counters see no "
                            "nn.LayerNorm (`call: functional`, torchvision's LayerNorm2d): 2 per "
                            "channel",
    "scale": "layer scale (ConvNeXt's per-channel gamma): 1 per channel",
}
# a train-only head's layers in eval (the `head` kind): the model holds these parameters
# but the layers do not run, so counters that see only what ran (thop) leave them out
PARAM_CATEGORIES.update({f"idle.{k}": f"{k} of a train-only head's layer in eval (held, not run)"
                         for k in list(PARAM_CATEGORIES)})


@dataclass(frozen=True)
class Primitive:
    """A primitive layer kind (a graph node's kind): its shape rule, cost rule and table
    label."""

    name: str
    shape: Callable  # (dom, in_shapes, attrs) -> (H, W, C)
    cost: Callable  # (dom, in_shapes, out_shape, attrs) -> (madd_terms, param_terms)
    label: Callable  # (attrs, in_shapes) -> str, the --by kind group


def _elems(dom, s):
    return dom.v(s[0]) * dom.v(s[1]) * dom.v(s[2])


def hw(v):
    """A kernel, stride, padding or dilation attribute as (height, width): one value is
    both (square kernels, the common case, keep one integer in a node's attributes)."""
    return v if isinstance(v, tuple) else (v, v)


def effective_kernel(a, axis):
    """The kernel's extent on axis 0 (height) or 1 (width): dilation d spreads k taps over
    d·(k-1)+1 pixels (torch.nn.Conv2d's output-size formula)."""
    k, d = hw(a["k"])[axis], hw(a.get("dilation", 1))[axis]
    return d * (k - 1) + 1


def _window(dom, size, a, axis, **kw):
    """The output side on axis of a windowed layer (conv or pool) with attributes a."""
    return dom.spatial(size, effective_kernel(a, axis), hw(a["stride"])[axis],
                       hw(a["padding"])[axis], **kw)


# ---- shape rules

def _conv_shape(dom, ins, a):
    h, w, _ = ins[0]
    if isinstance(a["k"], int) and isinstance(a["stride"], int) and "dilation" not in a \
            and not isinstance(a["padding"], tuple):
        return (dom.spatial(h, a["k"], a["stride"], a["padding"]),
                dom.spatial(w, a["k"], a["stride"], a["padding"]), a["c_out"])
    return (_window(dom, h, a, 0), _window(dom, w, a, 1), a["c_out"])


def _same_shape(dom, ins, a):
    return ins[0]


def _pool_shape(dom, ins, a):
    h, w, c = ins[0]
    if a["global"]:
        return (dom.fixed(1), dom.fixed(1), c)
    if "out_size" in a:  # adaptive: the output size is fixed, whatever the input's
        return (dom.fixed(a["out_size"][0]), dom.fixed(a["out_size"][1]), c)
    if a.get("ceil_mode"):
        return (_window(dom, h, a, 0, ceil=True), _window(dom, w, a, 1, ceil=True), c)
    return (_window(dom, h, a, 0), _window(dom, w, a, 1), c)


def _split_shape(dom, ins, a):
    return (ins[0][0], ins[0][1], a["c_out"])


def _fc_shape(dom, ins, a):
    return (dom.fixed(1), dom.fixed(1), a["c_out"])


def _concat_shape(dom, ins, a):
    return (ins[0][0], ins[0][1], dom.sum([s[2] for s in ins]))


# ---- cost rules

def _conv_cost(dom, ins, out, a):
    # standard: D_K²·(M/g)·N·D_F²; depthwise (g = M): D_K²·N·D_F² with N = M·multiplier;
    # a K_h x K_w kernel has K_h·K_w taps (dilation spreads them, it adds none)
    kh, kw = hw(a["k"])
    if a.get("group_width"):  # groups of group_width input channels each (RegNet)
        m = a["group_width"]
    else:
        m = 1 if a["depthwise"] else dom.div(dom.v(ins[0][2]), a["groups"])
    n = dom.v(out[2])
    pos = dom.v(out[0]) * dom.v(out[1])
    madds = {"mac": kh * kw * m * n * pos}
    params = {"weight": kh * kw * m * n}
    if a["bias"]:
        madds["bias"] = n * pos
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
    call = a.get("call", "module")
    if call == "method":
        return {f"act.{fn}.method": _elems(dom, out)}, {}
    n = _elems(dom, out)
    return ({f"act.{fn}": n, f"act.{fn}.module": n} if call == "module" else {f"act.{fn}": n}), {}


def _ln_cost(dom, ins, out, a):
    # LayerNorm over C at every position (ConvNeXt's micro design): gamma and beta, 2 per
    # channel
    c, n = dom.v(out[2]), _elems(dom, out)
    madds = {"ln": n, "ln.params": 2 * c}
    if a["call"] == "module":
        madds["ln.module"] = n
        return madds, {"ln.affine": 2 * c}
    return madds, {"ln.affine.functional": 2 * c}


def _layer_scale_cost(dom, ins, out, a):
    # ConvNeXt's layer scale: x * gamma, gamma one parameter per channel
    return {"scale": _elems(dom, out)}, {"scale": dom.v(out[2])}


def _pool_cost(dom, ins, out, a):
    # an adaptive average pool is counted as a global one (the same aten op and module:
    # fvcore 1/input, torchprofile 1/output, thop (k+1)/output = input + output elements);
    # an adaptive max pool as a max pool (ptflops 1/input; the others 0)
    kind = "global" if a["global"] or ("out_size" in a and a["type"] == "avg") else a["type"]
    n_in, n_out = _elems(dom, ins[0]), _elems(dom, out)
    if a.get("call") == "method":  # x.mean([2, 3]): global only (the expander checks)
        return {f"pool.{kind}.method.in": n_in, f"pool.{kind}.method.out": n_out}, {}
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


class _WholePart:
    """The rounding of an equal split part, c / n: whole, as n divides c (a Divides check
    recorded on the node, which every evaluator checks at its alpha)."""

    rule = "whole"

    @staticmethod
    def apply(v):
        return int(v)

    @staticmethod
    def describe():
        return "c / n, whole"


_EXACT = _WholePart()


# ---- labels for --by kind (the MobileNet paper's Table 2 names)

def _conv_label(a, ins):
    kh, kw = hw(a["k"])
    if a["depthwise"]:
        return f"Conv DW {kh}x{kw}"
    if a["groups"] != 1:
        return f"Conv {kh}x{kw} grouped"
    return f"Conv {kh}x{kw}"


def _const(text):
    return lambda a, ins: text



def _pool_label(a, ins):
    if "out_size" in a:
        return f"Adaptive {a['type']} pool"
    return "Global pool" if a["global"] else f"{a['type'].capitalize()} pool"


# ---- validity rules, recorded on the node by the expander that checks them


@dataclass(frozen=True)
class Divides:
    """n must divide every size in sizes (conv groups: input and output channels)."""

    n: int
    sizes: tuple  # domain values

    def holds(self, value):
        """Whether the rule holds when value(size) gives each size's number."""
        return all(value(s) % self.n == 0 for s in self.sizes)


@dataclass(frozen=True)
class Equal:
    """Every size in sizes must be equal (one dimension of the inputs of a merge)."""

    sizes: tuple

    def holds(self, value):
        """Whether the rule holds when value(size) gives each size's number."""
        return len({value(s) for s in self.sizes}) <= 1


@dataclass(frozen=True)
class Fits:
    """A kernel fits its input with valid padding: every size at least its kernel's extent
    (k: the extents, one per size). The builder refuses a layer where it does not hold."""

    k: tuple  # ints: effective kernel height and width
    sizes: tuple  # domain values: input height and width

    def holds(self, value):
        """Whether the rule holds when value(size) gives each size's number."""
        return all(value(s) >= k for s, k in zip(self.sizes, self.k))


@dataclass(frozen=True)
class Differ:
    """Two shapes differ in some dimension: a residual the builder left out because its
    input and output shapes differ (it adds one only where they match)."""

    sizes: tuple  # domain values: the output shape's, then the block input's

    def holds(self, value):
        """Whether the shapes (each half of sizes) differ somewhere."""
        n = len(self.sizes) // 2
        return any(value(a) != value(b) for a, b in zip(self.sizes[:n], self.sizes[n:]))


@dataclass(frozen=True)
class GroupWidth:
    """Groups of n channels each (RegNet's group width): n divides the input channels, and
    the groups (input channels / n) divide the output channels. sizes: (input, output)."""

    n: int
    sizes: tuple  # domain values: (input channels, output channels)

    def holds(self, value):
        """Whether the rule holds when value(size) gives each size's number."""
        c_in, c_out = (value(s) for s in self.sizes)
        return c_in % self.n == 0 and c_out % (c_in // self.n) == 0


# ---- field types: one per field name, shared by every kind that has the field

INT_EXPR = {"$ref": "#/$defs/int_expr"}
NUM_EXPR = {"$ref": "#/$defs/num_expr"}
BOOL = {"type": "boolean"}
ACT = {"$ref": "#/$defs/activation"}
TEXT = {"type": "string"}
INT_OR_PAIR = {"anyOf": [INT_EXPR, {"type": "array", "items": INT_EXPR, "minItems": 2,
                                    "maxItems": 2}]}


CALLS = ("module", "functional", "method")  # how a reference implementation calls a layer


def _enum(*values):
    return {"enum": list(values)}


@dataclass(frozen=True)
class Field:
    """A layer field: its JSON Schema type, its meaning, and, if the builder evaluates
    it as an expression, how a spec writes an expression there ('{v}' is the text)."""

    schema: dict
    doc: str
    expr: str | None = None


FIELDS = {
    "name": Field(TEXT, "layer name (prefixed inside blocks); default: kind + counter, e.g. dwsep3"),
    "when": Field({"type": ["boolean", "number", "string"]},
                  "keep the layer only if true or the expression is nonzero", "{v}"),
    "k": Field(INT_OR_PAIR, "kernel size D_K, or [height, width] (e.g. [1, 7])", "{v}"),
    "stride": Field(INT_OR_PAIR, "stride, or [height, width]", "{v}"),
    "dilation": Field(INT_OR_PAIR, "dilation (torch's): the kernel spans d·(k-1)+1 pixels; "
                      "or [height, width]", "{v}"),
    "out": Field(INT_EXPR, "output channels as in the paper's table; scaled by alpha unless "
                 "scale: false", "{v}"),
    "expand": Field(NUM_EXPR, "output channels as a ratio of the actual input channels", "{v}"),
    "groups": Field(INT_EXPR, "groups; must divide the channels (a conv's input and output)",
                    "{v}"),
    "group_width": Field(INT_EXPR, "channels per group (RegNet): groups = input channels / "
                         "group_width; instead of groups", "{v}"),
    "padding": Field({"anyOf": [_enum("same", "valid"), {"type": "integer", "minimum": 0}, TEXT,
                                {"type": "array", "minItems": 2, "maxItems": 2, "items": {
                                    "anyOf": [{"type": "integer", "minimum": 0}, TEXT]}}]},
                     "same (out = ceil(H/s)), valid, or explicit pixels p, or [p_h, p_w]",
                     "1+{v}"),
    "bias": Field(BOOL, "the layer has a bias vector"),
    "scale": Field({"enum": [True, False, "up"]},
                   "scale 'out' by alpha: true; never: false; only when alpha > 1: up"),
    "bn": Field(BOOL, "BatchNorm after the layer (default: defaults.bn)"),
    "act": Field(ACT, "activation after the layer (default: defaults.act for conv-like kinds)"),
    "multiplier": Field(INT_EXPR, "depthwise channel multiplier", "{v}"),
    "type": Field(_enum("avg", "max", "global"), "pooling type"),
    "global": Field(BOOL, "pool the whole feature map to 1x1"),
    "call": Field(_enum("module", "functional", "method"),
                  "how the reference implementation calls it: a module (nn.ReLU, nn.LayerNorm), a "
                  "function (F.relu, torchvision's LayerNorm2d) or a tensor method "
                  "(x.mean([2, 3])); hook counters see only some"),
    "out_size": Field(INT_OR_PAIR,
                      "adaptive pool: the fixed output size, or [H, W], whatever the input's "
                      "(torch's output_size)", "{v}"),
    "ceil_mode": Field(BOOL, "torch's ceil_mode: round the output size up, the last window "
                       "starting inside the input or its left padding"),
    "fn": Field(ACT, "the activation function"),
    "p": Field(NUM_EXPR, "dropout probability (costs nothing)"),
    "ratio": Field(NUM_EXPR, "squeeze channels = round(ratio x channels of 'of')", "{v}"),
    "of": Field(_enum("input", "block_input"), "channels the squeeze ratio applies to"),
    "round": Field(_enum("make_divisible", "truncate"), "rounding rule of the squeeze channels"),
    "divisor": Field(INT_EXPR, "divisor of make_divisible", "{v}"),
    "min": Field(INT_EXPR, "smallest channel count the rounding may give", "{v}"),
    "gate": Field(ACT, "gating activation of squeeze-and-excite"),
    "from": Field({"anyOf": [TEXT, {"type": "array", "items": TEXT, "minItems": 1}]},
                  "earlier layer name(s), or block_input"),
    "branches": Field({"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/branch"}},
                      "a list of branches, each a list of layers, run on the same input"),
    "merge": Field(_enum("concat", "add"), "how branch outputs are merged"),
    "op": Field(TEXT, "the operator that is not counted (e.g. an ONNX op type)"),
    "parts": Field({"anyOf": [INT_EXPR, {"type": "array", "items": INT_EXPR, "minItems": 2}]},
                   "a split's parts: how many equal ones, or their channels (scaled like out)",
                   "{v}"),
    "take": Field(INT_EXPR, "which part of the split the layer is, from 1", "{v}"),
    "size": Field({"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 2,
                   "maxItems": 2}, "output [H, W], fixed (default: the input's)"),
    "layers": Field({"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/layer"}},
                    "the head's layers, applied to the current tensor"),
    "train": Field(BOOL, "the head runs in training only (GoogLeNet's and Inception-v3's "
                   "auxiliary classifiers): its mult-adds count only with --train; its "
                   "parameters always count"),
}

REQUIRED = object()  # a field default: the spec must give the field
COMMON = {"name": None, "when": None}  # fields of every layer kind
CONV_TAIL = {"bn": None, "act": None}


# ---- expanders: (builder, kind, fields, name, ctx, line, tensor) -> output tensor
# b is the graph.Builder: b._int/_bool/_choice/... read a field (errors name it and its
# line), b._emit makes one primitive node, b.tensors[t] = (shape, table channels).

def _expand_conv(b, kind, f, name, ctx, line, cur, k=None, source=None):
    a = b._conv_attrs(f, ctx, line, kind, k=1 if kind == "pw" else k)
    g = b._int(f, "groups", ctx, line, kind)
    c_out, tc = b._channels(f, ctx, line, kind, cur)
    c_in = b.tensors[cur][0][2]
    checks = ()
    if f.get("group_width") is not None:
        g, checks = _group_width(b, f, name, ctx, line, c_in, c_out)
        a["group_width"] = checks[0].n
    elif g != 1:
        checks = (Divides(g, (c_in, c_out)),)
        if not checks[0].holds(b.dom.base):
            raise b._error(f"groups {g} must divide input channels {b.dom.base(c_in)} and output "
                           f"channels {b.dom.base(c_out)}", ctx, b._loc(f, "groups", line),
                           layer=name, field="groups")
    a.update(groups=g, depthwise=False, c_out=c_out)
    b._check_valid(a, cur, ctx, line, name)
    cur = b._emit(kind, name, a, [cur], ctx, line, source or kind, tc, checks)
    return b._tail(f, name, ctx, line, cur, source or kind)


def _group_width(b, f, name, ctx, line, c_in, c_out):
    """(groups, checks) of a conv given by its group width (RegNet: groups = input channels /
    group_width), refused where group_width does not divide the input channels or the
    groups do not divide the output channels."""
    if "groups" in f["_fields"]:
        raise b._error("give groups or group_width, not both", ctx, b._loc(f, "group_width", line),
                       layer=name, field="group_width")
    gw = b._int(f, "group_width", ctx, line, "conv")
    check = GroupWidth(gw, (c_in, c_out))
    if not check.holds(b.dom.base):
        ci, co = b.dom.base(c_in), b.dom.base(c_out)
        msg = (f"group_width {gw} must divide the input channels {ci}" if ci % gw else
               f"group_width {gw} gives {ci // gw} groups, which must divide the output "
               f"channels {co}")
        raise b._error(msg, ctx, b._loc(f, "group_width", line), layer=name, field="group_width")
    return b.dom.base(c_in) // gw, (check,)


def _expand_dw(b, kind, f, name, ctx, line, cur, source=None):
    a = b._conv_attrs(f, ctx, line, kind)
    mult = b._int(f, "multiplier", ctx, line, kind) if "multiplier" in f else 1
    c_in = b.tensors[cur][0][2]
    a.update(groups=c_in, depthwise=True, c_out=b.dom.mul_int(c_in, mult), multiplier=mult)
    b._check_valid(a, cur, ctx, line, name)
    cur = b._emit("dw", name, a, [cur], ctx, line, source or "dw", b.tensors[cur][1] * mult)
    return b._tail(f, name, ctx, line, cur, source or "dw")


def _expand_dwsep(b, kind, f, name, ctx, line, cur):
    # depthwise separable = depthwise D_K x D_K conv, then pointwise 1x1 (MobileNets §3.1)
    dwf = {**f, "multiplier": 1}
    cur = _expand_dw(b, "dw", dwf, f"{name}.dw", ctx, line, cur, source="dwsep")
    pwf = {**f, "groups": 1, "expand": None, "stride": 1, "padding": "same", "dilation": 1}
    return _expand_conv(b, "pw", pwf, f"{name}.pw", ctx, line, cur, k=1, source="dwsep")


def _expand_fc(b, kind, f, name, ctx, line, cur):
    if f["bias"] is not None:
        b._bool(f, "bias", ctx, line)
    f = {**f, "expand": None}
    c_out, tc = b._channels(f, ctx, line, kind, cur)
    a = {"bias": f["bias"], "c_out": c_out}
    cur = b._emit("fc", name, a, [cur], ctx, line, "fc", tc)
    act = b._act_name(f.get("act"), f, "act", ctx, line)
    if act:
        cur = b._emit("act", f"{name}.{act}", {"fn": act}, [cur], ctx, line, "fc")
    return cur


def _expand_pool(b, kind, f, name, ctx, line, cur):
    typ = b._choice(f, "type", ("avg", "max", "global"), ctx, line)
    glob = b._bool(f, "global", ctx, line) or typ == "global"
    a = {"type": "avg" if typ == "global" else typ, "global": glob,
         # module (nn.AdaptiveAvgPool2d), functional (F.adaptive_avg_pool2d) or a tensor
         # method (x.mean([2, 3])): module-hook counters see only the first, fvcore and
         # ptflops not the last
         "call": b._choice(f, "call", CALLS, ctx, line)}
    if a["call"] == "method" and not glob:
        raise b._error("'method' is a global pool written as a tensor method "
                       "(x.mean([2, 3])); a windowed pool is a module or functional call", ctx,
                       b._loc(f, "call", line), layer=name, field="call")
    ceil = b._bool(f, "ceil_mode", ctx, line)
    if f["out_size"] is not None:
        # adaptive pool (torch's nn.AdaptiveAvgPool2d(out_size)): no window fields
        clash = [k for k in ("k", "stride", "padding", "global", "ceil_mode")
                 if k in f["_fields"] and f[k] not in (None, False)]
        if glob or clash:
            bad = "global" if glob and not clash else clash[0]
            raise b._error(f"an adaptive pool (out_size) takes no '{bad}'", ctx,
                           b._loc(f, bad if bad in f["_fields"] else "out_size", line),
                           layer=name, field=bad)
        a["out_size"] = b._size_pair(f, "out_size", ctx, line, kind)
        return b._emit("pool", name, a, [cur], ctx, line, "pool")
    if ceil:
        if glob:
            raise b._error("a global pool takes no ceil_mode", ctx, b._loc(f, "ceil_mode", line),
                           layer=name, field="ceil_mode")
        a["ceil_mode"] = True
    if not glob:
        if f["k"] is None:
            raise b._error("a windowed pool needs field 'k' (or global: true, or out_size)", ctx, line,
                           layer=name, field="k")
        a["k"] = b._kernel(f, "k", ctx, line, kind)
        a["stride"] = b._kernel(f, "stride", ctx, line, kind) if f["stride"] is not None else a["k"]
        a["padding"] = b._padding(f, ctx, line, kind)
        if ceil and a["padding"] == "same":
            raise b._error("ceil_mode needs padding valid or an integer (torch's rule)", ctx,
                           b._loc(f, "ceil_mode", line), layer=name, field="ceil_mode")
        if ceil and a["padding"] != "valid" and any(
                2 * p > k for p, k in zip(hw(a["padding"]), hw(a["k"]))):
            # torch refuses it ("pad should be at most half of effective kernel size"), and
            # its ceil_mode rule (domains.spatial_size; exact_form.spatial) relies on it
            raise b._error(f"padding {a['padding']} is more than half the kernel {a['k']} "
                           f"(torch's rule for pools)", ctx, b._loc(f, "padding", line),
                           layer=name, field="padding")
        b._check_valid(a, cur, ctx, line, name)
    return b._emit("pool", name, a, [cur], ctx, line, "pool")


def _expand_plain(b, kind, f, name, ctx, line, cur):
    """A node of the same kind, no attributes (bn, dropout, flatten)."""
    return b._emit(kind, name, {}, [cur], ctx, line, kind)


def _expand_act(b, kind, f, name, ctx, line, cur):
    fn = b._act_name(f["fn"] if kind == "act" else kind, f, "fn", ctx, line)
    if fn is None:
        return cur  # linear: no layer at all
    # nn.ReLU (module), F.relu (functional) or x.relu() (method): counters that patch
    # functions or hook modules see some of these only (ptflops counts nn.ReLU twice)
    call = b._choice(f, "call", CALLS, ctx, line) if "call" in f else "module"
    return b._emit("act", name, {"fn": fn, "call": call}, [cur], ctx, line, kind)


def _expand_channel_shuffle(b, kind, f, name, ctx, line, cur):
    # ShuffleNet: reshape C channels to (g, C/g), transpose, flatten; g must divide C
    g = b._int(f, "groups", ctx, line, kind)
    c = b.tensors[cur][0][2]
    check = Divides(g, (c,))
    if not check.holds(b.dom.base):
        raise b._error(f"groups {g} must divide the {b.dom.base(c)} input channels", ctx,
                       b._loc(f, "groups", line), layer=name, field="groups")
    return b._emit(kind, name, {"groups": g}, [cur], ctx, line, kind, checks=(check,))


def _expand_layernorm(b, kind, f, name, ctx, line, cur):
    # module (nn.LayerNorm on a channels-last tensor) or functional (torchvision's
    # LayerNorm2d, a subclass module-hook counters do not recognize): what those counters see
    call = b._choice(f, "call", ("module", "functional"), ctx, line)
    return b._emit(kind, name, {"call": call}, [cur], ctx, line, kind)


def _expand_split(b, kind, f, name, ctx, line, cur):
    # a channel split (torch.chunk / torch.split along channels; ShuffleNetV2, Ma et al. 2018,
    # §3 and Figure 3(c)): the layer is one part, `take`; the other parts are other split
    # layers on the same input, in parallel branches. parts: n equal parts (n divides C), or
    # the parts' table channels, scaled like `out`, which must add up to C
    from .limits import MAX_CHANNELS

    c, tc_in = b.tensors[cur][0][2], b.tensors[cur][1]
    parts = f["parts"]
    if isinstance(parts, list):
        b._charge(len(parts), ctx, line, name)  # every part is work
        if len(parts) < 2:
            raise b._error("must be a number of equal parts or a list of at least 2 channel "
                           "counts", ctx, b._loc(f, "parts", line), layer=name, field="parts",
                           got=parts)
        table = [b._int({**f, "parts": p}, "parts", ctx, line, kind, maximum=MAX_CHANNELS)
                 for p in parts]
        fixed = b.spec.rounding.rule == "fixed"
        sizes = [b.dom.scaled(t, not fixed) for t in table]
        take = b._int(f, "take", ctx, line, kind, maximum=len(parts))
        check = Equal((b.dom.sum(sizes), c))
        if not check.holds(b.dom.base):
            raise b._error(f"the parts add up to {sum(b.dom.base(x) for x in sizes)} channels, "
                           f"the input has {b.dom.base(c)}", ctx, b._loc(f, "parts", line),
                           layer=name, field="parts")
        a = {"parts": len(parts), "take": take, "c_out": sizes[take - 1]}
        tc = table[take - 1]
    else:
        n = b._int(f, "parts", ctx, line, kind, maximum=MAX_CHANNELS)
        if n < 2:
            raise b._error("a split needs at least 2 parts", ctx, b._loc(f, "parts", line),
                           layer=name, field="parts", got=parts)
        take = b._int(f, "take", ctx, line, kind, maximum=n)
        check = Divides(n, (c,))
        if not check.holds(b.dom.base):
            raise b._error(f"{n} parts must divide the {b.dom.base(c)} input channels", ctx,
                           b._loc(f, "parts", line), layer=name, field="parts")
        # c / n, exact (n divides c: checked here and, at every alpha, by every evaluator)
        a = {"parts": n, "take": take, "c_out": b.dom.rel(c, Fraction(1, n), _EXACT)}
        tc = Fraction(tc_in) / n
        tc = tc.numerator if tc.denominator == 1 else tc
    return b._emit(kind, name, a, [cur], ctx, line, kind, tc, checks=(check,))


def _expand_unknown(b, kind, f, name, ctx, line, cur):
    # an operator without a cost rule (ONNX import, --allow-unknown): counted as zero, its
    # output shape given by `out` (channels, not scaled) and `size` ([H, W], fixed), else
    # the input's
    from .limits import MAX_CHANNELS, MAX_RESOLUTION

    op = f["op"]
    if not isinstance(op, str) or not op.strip() or len(op) > 200:
        raise b._error("must be text naming the operator", ctx, b._loc(f, "op", line),
                       layer=name, field="op", got=op)
    ins = [cur] + (b._refs(f, ctx, line, name) if f["from"] is not None else [])
    h, w, c = b.tensors[cur][0]
    tc = b.tensors[cur][1]
    if f["out"] is not None:
        tc = b._int(f, "out", ctx, line, kind, maximum=MAX_CHANNELS)
        c = b.dom.fixed(tc)
    if f["size"] is not None:
        size = f["size"]
        if not isinstance(size, list) or len(size) != 2:
            raise b._error("must be a list [H, W]", ctx, b._loc(f, "size", line),
                           layer=name, field="size", got=size)
        hw = []
        for v in size:
            if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= MAX_RESOLUTION:
                raise b._error(f"sizes must be integers in [1, {MAX_RESOLUTION}]", ctx,
                               b._loc(f, "size", line), layer=name, field="size", got=size)
            hw.append(b.dom.fixed(v))
        h, w = hw
    a = {"op": op.strip(), "shape": (h, w, c)}
    return b._emit("unknown", name, a, ins, ctx, line, "unknown", tc)


def _expand_se(b, kind, f, name, ctx, line, cur):
    # squeeze-and-excite: global pool -> 1x1 reduce (bias) -> act -> 1x1 expand (bias)
    # -> gate -> channel-wise multiply with the SE input (Hu et al.; MobileNetV3 §5.3)
    ratio = b._pos(f, "ratio", ctx, line, kind)
    of = b._choice(f, "of", ("input", "block_input"), ctx, line)
    rnd = b._choice(f, "round", ("make_divisible", "truncate"), ctx, line)
    div = b._int(f, "divisor", ctx, line, kind)
    mn = b._int(f, "min", ctx, line, kind) if f["min"] is not None else None
    base_t = ctx.block_in if of == "block_input" else cur
    rounding = dataclasses.replace(b.spec.rounding, rule=rnd, divisor=div, min=mn)
    squeeze = b.dom.rel(b.tensors[base_t][0][2], ratio, rounding)
    act = b._act_name(f["act"], f, "act", ctx, line)
    gate = b._act_name(f["gate"], f, "gate", ctx, line)
    x = cur
    c = b.tensors[cur][0][2]
    t = b._emit("pool", f"{name}.pool", {"type": "avg", "global": True}, [cur], ctx, line, "se")
    red = {"k": 1, "stride": 1, "padding": "same", "bias": True, "groups": 1, "depthwise": False,
           "c_out": squeeze}
    t = b._emit("conv", f"{name}.reduce", red, [t], ctx, line, "se")
    if act:
        t = b._emit("act", f"{name}.{act}", {"fn": act}, [t], ctx, line, "se")
    t = b._emit("conv", f"{name}.expand", {**red, "c_out": c}, [t], ctx, line, "se")
    if gate:
        t = b._emit("act", f"{name}.{gate}", {"fn": gate}, [t], ctx, line, "se")
    return b._emit("mul", f"{name}.scale", {}, [x, t], ctx, line, "se", b.tensors[x][1])


def _expand_residual(b, kind, f, name, ctx, line, cur):
    # identity shortcut when the block keeps its shape (MobileNetV2 §3.3); otherwise none
    if cur == ctx.block_in:
        return cur
    differ = Differ(tuple(b.tensors[cur][0]) + tuple(b.tensors[ctx.block_in][0]))
    if differ.holds(b.dom.base):
        b.checks.append(differ)  # a decision from sizes: recorded for the evaluators
        return cur
    return b._emit("add", name, {}, [cur, ctx.block_in], ctx, line, "residual",
                   checks=_merge_checks("add", [cur, ctx.block_in], b))


def _expand_add(b, kind, f, name, ctx, line, cur):
    ins = [cur] + [t for t in b._refs(f, ctx, line, name) if t != cur]
    return merge(b, "add", ins, name, ctx, line)


def _expand_concat(b, kind, f, name, ctx, line, cur):
    return merge(b, "concat", b._refs(f, ctx, line, name), name, ctx, line)


def _merge_checks(kind, ins, b):
    """add: inputs equal in every dimension; concat: in height and width."""
    dims = 3 if kind == "add" else 2
    return tuple(Equal(tuple(b.tensors[t][0][d] for t in ins)) for d in range(dims))


def merge(b, kind, ins, name, ctx, line):
    """An add or concat node of the tensors ins (also parallel's merge)."""
    checks = _merge_checks(kind, ins, b)
    if not all(c.holds(b.dom.base) for c in checks):
        shapes = [tuple(b.dom.base(x) for x in b.tensors[t][0]) for t in ins]
        shown = " vs ".join("x".join(map(str, s)) for s in shapes)
        raise b._error(f"cannot {kind} tensors of shapes {shown}", ctx, line, layer=name)
    tc = sum(b.tensors[t][1] for t in ins) if kind == "concat" else b.tensors[ins[0]][1]
    return b._emit(kind, name, {}, ins, ctx, line, kind, tc, checks)


def _expand_parallel(b, kind, f, name, ctx, line, cur):
    merge_kind = b._choice(f, "merge", ("concat", "add"), ctx, line)
    outs = b._branches(f, name, ctx, line, cur)
    return merge(b, merge_kind, outs, name, ctx, line)


def _expand_head(b, kind, f, name, ctx, line, cur):
    # a side output (GoogLeNet's aux1/aux2, Inception-v3's AuxLogits): its layers run on the
    # current tensor and the main path continues from that same tensor. A train-only head
    # does not run in eval (torchvision: `if self.aux_logits and self.training`): its nodes
    # are marked idle unless the graph is built for training (graph.training), so every
    # evaluator weighs their mult-adds as 0 (head_aware) while their parameters, which the
    # model holds either way, still count.
    train = b._bool(f, "train", ctx, line)
    layers = f["layers"]
    if not isinstance(layers, list) or not layers:
        raise b._error("must be a non-empty list of layers", ctx, b._loc(f, "layers", line),
                       layer=name, field="layers", got=layers)
    if ctx.depth + 1 > MAX_NESTING:
        raise b._error(f"blocks, parallel branches and heads nested deeper than {MAX_NESTING}",
                       ctx, line, layer=name, cls=LimitError)
    start = len(b.nodes)
    sub = ctx.child(ctx.env, f"{name}/", ctx.block_in, ctx.path)
    idle = train and not b.train
    b.notional += idle  # sizes it could not run at are no error: it does not run
    try:
        b._seq(layers, sub, cur)
    finally:
        b.notional -= idle
    for node in b.nodes[start:]:
        if "head" in node.attrs:
            continue  # a head inside a head: the inner one names it
        node.attrs = {**node.attrs, "head": name, "head_train": train, "idle": idle}
        b.head_of[b.names[node.name]] = name
    return cur


# ---- the registry


@dataclass(frozen=True)
class LayerKind:
    """One layer kind a spec may name: its fields (name -> default, REQUIRED or None),
    doc line, expander, shorthand field (`- pool: max` is `- pool: {type: max}`), the
    JSON Schema rule across its fields, and an example of its fields (the smallest
    valid item, used by tests), plus its Primitive when it makes nodes of its own name."""

    name: str
    doc: str
    fields: dict
    expand: Callable
    example: dict = field(default_factory=dict)
    shorthand: str | None = None
    conv_like: bool = False  # bn and act default to the spec's defaults
    primitive: Primitive | None = None
    schema_rule: dict | None = None  # a JSON Schema rule across fields (the builder checks it)

    def problems(self):
        """What this entry lacks to be fully described (empty when complete)."""
        out = []
        if not (isinstance(self.name, str) and self.name.isidentifier()):
            out.append("name is not an identifier")
        if not (isinstance(self.doc, str) and self.doc.strip()):
            out.append("no doc line")
        if not callable(self.expand):
            out.append("no expander")
        for f in list(self.fields) + list(self.example):
            if f not in FIELDS:
                out.append(f"field '{f}' has no type and meaning in layers.FIELDS")
        for f in self.example:
            if f not in self.fields and f not in COMMON:
                out.append(f"example field '{f}' is not a field of the kind")
        if self.shorthand is not None and self.shorthand not in self.fields:
            out.append(f"shorthand '{self.shorthand}' is not a field of the kind")
        if self.primitive is not None:
            p = self.primitive
            if p.name != self.name:
                out.append(f"primitive named '{p.name}'")
            if not (callable(p.shape) and callable(p.cost) and callable(p.label)):
                out.append("primitive without shape, cost or label rule")
        return out


_OUT_OR_EXPAND = {"oneOf": [{"required": ["out"]}, {"required": ["expand"]}]}
_WINDOW_OR_GLOBAL = {"anyOf": [
    {"required": ["k"]},
    {"required": ["global"], "properties": {"global": {"const": True}}},
    {"required": ["type"], "properties": {"type": {"const": "global"}}},
    {"required": ["out_size"]},
]}
_CONV = Primitive("conv", _conv_shape, _conv_cost, _conv_label)
_DW = Primitive("dw", _conv_shape, _conv_cost, _conv_label)
_PW = Primitive("pw", _conv_shape, _conv_cost, _conv_label)

_ENTRIES = [
    LayerKind("conv", "standard convolution (+ bn and act)",
              {"k": REQUIRED, "stride": 1, "out": None, "expand": None, "groups": 1,
               "padding": "same", "bias": False, "scale": True, "dilation": 1, **CONV_TAIL,
               "group_width": None},
              _expand_conv, {"k": 3, "out": 8}, conv_like=True, primitive=_CONV,
              schema_rule=_OUT_OR_EXPAND),
    LayerKind("dw", "depthwise convolution (+ bn and act)",
              {"k": 3, "stride": 1, "multiplier": 1, "padding": "same", "bias": False, "dilation": 1,
               **CONV_TAIL},
              _expand_dw, conv_like=True, primitive=_DW),
    LayerKind("pw", "pointwise 1x1 convolution (+ bn and act)",
              {"out": None, "expand": None, "stride": 1, "groups": 1, "bias": False, "scale": True,
               **CONV_TAIL},
              _expand_conv, {"out": 8}, conv_like=True, primitive=_PW, schema_rule=_OUT_OR_EXPAND),
    LayerKind("dwsep", "depthwise separable convolution: dw then pw, each with bn and act",
              {"k": 3, "stride": 1, "out": REQUIRED, "padding": "same", "scale": True, "dilation": 1,
               **CONV_TAIL},
              _expand_dwsep, {"out": 8}, conv_like=True),
    LayerKind("fc", "fully connected layer on the flattened input",
              {"out": REQUIRED, "bias": True, "scale": False, "act": None},
              _expand_fc, {"out": 8}, primitive=Primitive("fc", _fc_shape, _fc_cost, _const("FC"))),
    LayerKind("pool", "average, max, global or adaptive pooling",
              {"type": "avg", "k": None, "stride": None, "global": False, "padding": "valid",
               "call": "module", "ceil_mode": False, "out_size": None},
              _expand_pool, {"k": 2}, shorthand="type",
              primitive=Primitive("pool", _pool_shape, _pool_cost, _pool_label),
              schema_rule=_WINDOW_OR_GLOBAL),
    LayerKind("bn", "BatchNorm", {}, _expand_plain,
              primitive=Primitive("bn", _same_shape, _bn_cost, _const("BN"))),
    LayerKind("act", "an activation given by fn", {"fn": REQUIRED, "call": "module"}, _expand_act,
              {"fn": "relu"},
              primitive=Primitive("act", _same_shape, _act_cost, lambda a, ins: ACT_LABELS[a["fn"]])),
    LayerKind("dropout", "dropout (no cost)", {"p": None}, _expand_plain, shorthand="p",
              primitive=Primitive("dropout", _same_shape, _free_cost, _const("Dropout"))),
    LayerKind("flatten", "flatten (no cost)", {}, _expand_plain,
              primitive=Primitive("flatten", _same_shape, _free_cost, _const("Flatten"))),
    LayerKind("channel_shuffle", "channel shuffle in groups (ShuffleNet; no cost)",
              {"groups": REQUIRED}, _expand_channel_shuffle, {"groups": 2}, shorthand="groups",
              primitive=Primitive("channel_shuffle", _same_shape, _free_cost,
                                  _const("Channel shuffle"))),
    LayerKind("layernorm", "LayerNorm over the channels at each position (ConvNeXt)",
              {"call": "module"}, _expand_layernorm, shorthand="call",
              primitive=Primitive("layernorm", _same_shape, _ln_cost, _const("LayerNorm"))),
    LayerKind("layer_scale", "per-channel layer scale: multiply by gamma, C parameters (ConvNeXt)",
              {}, _expand_plain,
              primitive=Primitive("layer_scale", _same_shape, _layer_scale_cost,
                                  _const("Layer scale"))),
    LayerKind("split", "one part of a channel split (ShuffleNetV2; no cost)",
              {"parts": 2, "take": REQUIRED}, _expand_split, {"take": 1}, shorthand="take",
              primitive=Primitive("split", _split_shape, _free_cost, _const("Split"))),
    LayerKind("se", "squeeze-and-excite: pool, reduce, act, expand, gate, multiply",
              {"ratio": Fraction(1, 4), "of": "input", "round": "make_divisible", "divisor": 8,
               "min": None, "act": "relu", "gate": "sigmoid"},
              _expand_se),
    LayerKind("residual", "add the block input when the shapes match", {}, _expand_residual),
    LayerKind("add", "element-wise sum of the current tensor and earlier layers",
              {"from": REQUIRED}, _expand_add, {"from": "input"}, shorthand="from",
              primitive=Primitive("add", _same_shape, _add_cost, _const("Add"))),
    LayerKind("concat", "channel concatenation of earlier layers",
              {"from": REQUIRED}, _expand_concat, {"from": "input"}, shorthand="from",
              primitive=Primitive("concat", _concat_shape, _free_cost, _const("Concat"))),
    LayerKind("parallel", "branches on the same input, merged by concat or add",
              {"branches": REQUIRED, "merge": "concat"}, _expand_parallel,
              {"branches": [["relu"], ["relu"]]}),
    LayerKind("head", "a side output (auxiliary classifier): layers applied to the current "
              "tensor whose output the main path does not use; train: true counts its "
              "mult-adds only with --train",
              {"layers": REQUIRED, "train": True}, _expand_head,
              {"layers": ["relu"]}),
    LayerKind("unknown", "an operator mbcost cannot count: zero cost, marked unknown in tables",
              {"op": REQUIRED, "out": None, "size": None, "from": None}, _expand_unknown,
              {"op": "Foo"},
              primitive=Primitive("unknown", lambda dom, ins, a: a["shape"], _free_cost,
                                  lambda a, ins: f"unknown: {a['op']}")),
]
_ENTRIES += [LayerKind(a, f"the {a} activation", {"call": "module"}, _expand_act)
             for a in ACTIVATIONS]
_ENTRIES.append(LayerKind("linear", "no activation", {}, _expand_act))

LAYER_KINDS = {}
for _k in _ENTRIES:
    if _k.name in LAYER_KINDS:
        raise ValueError(f"layer kind '{_k.name}' is registered twice")
    if _k.problems():
        raise ValueError(f"layer kind '{_k.name}' is incomplete: {'; '.join(_k.problems())}")
    LAYER_KINDS[_k.name] = _k

# node kinds made by no spec kind of the same name
_NODE_ONLY = [Primitive("mul", _same_shape, _mul_cost, _const("SE gate"))]



def head_aware(p):
    """p with its cost and label rules aware of heads (the `head` kind): an idle node (a
    train-only head's, in a graph built for eval) costs no mult-adds but keeps its
    parameters; a head's node is labelled '<type> [train]' (or '[head]'), its own group
    in --by kind. An idle node's parameter categories are 'idle.*' (PARAM_CATEGORIES),
    which a convention weighs like the others unless it sees only layers that ran
    (cost.Convention.idle_params). Every evaluator reads PRIMITIVES, so all agree."""
    cost, label = p.cost, p.label

    def head_cost(dom, ins, out, a):
        mt, pt = cost(dom, ins, out, a)
        if a.get("idle"):
            return {}, {f"idle.{k}": v for k, v in pt.items()}
        return mt, pt

    def head_label(a, ins):
        text = label(a, ins)
        if "head" not in a:
            return text
        return f"{text} [train]" if a.get("head_train") else f"{text} [head]"

    return dataclasses.replace(p, cost=head_cost, label=head_label)


PRIMITIVES = {p.name: head_aware(p)
              for p in [k.primitive for k in _ENTRIES if k.primitive] + _NODE_ONLY}
CONV_KINDS = tuple(k.name for k in _ENTRIES if k.conv_like)
