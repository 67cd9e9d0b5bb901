"""ONNX graph -> a plain mbcost spec dict (the same data a spec file holds).

``read_onnx(path)`` reads an ONNX model (the optional ``onnx`` package parses the
protobuf; nothing else of it is used, and no weights file is ever opened), folds the
constant shape computations exporters emit (Shape/Gather/Unsqueeze/Concat/... chains,
evaluated at the base resolution) and infers every tensor's shape (``Reader``: one op
per data node); ``onnx_spec`` then groups conv + BatchNorm + activation the way the
bundled specs write them, recognises squeeze-and-excite and swish patterns, and writes
the network as spec layers: sequences, ``parallel`` regions for fork/merge structure
(residual adds, projection shortcuts, concatenated branches), and named ``add``/``concat``
references where the structure is not series-parallel. The spec loader and graph
builder then count it like any spec, so tables, budgets, sweeps and closed forms in rho
all work.

- Channels come from the graph and do not follow alpha: the spec's width rule is
  ``fixed``, which refuses any alpha other than 1.
- Dynamic height and width of the input (``N x C x H x W`` with symbolic H, W)
  become the spec's resolution, 224 px unless given: ``--res`` and ``--rho`` scale it.
- Parameters come from the layer shapes (equal to the initializers' dimensions), one
  layer at a time: an initializer shared by several nodes (exporters share identical
  folded biases through Identity nodes) counts for each layer that uses it.
- An operator without an mbcost equivalent is refused, listed with its count; with
  ``allow_unknown`` it becomes a zero-cost ``unknown`` layer that tables mark as such.

Untrusted input: the file size, node count, constant sizes and branch nesting are
bounded; cycles, dangling inputs and malformed attributes are one-line errors.
"""

from __future__ import annotations

import math
import re
import stat
import struct
from dataclasses import dataclass, field
from pathlib import Path

from .errors import LimitError, SpecError, UsageError
from .onnx_spec import Assembler, Fuser, Writer, _walk_items, clean_name, to_yaml  # noqa: F401

MAX_ONNX_BYTES = 1 << 30  # an ONNX file larger than this (1 GiB) is refused
MAX_ONNX_NODES = 100_000  # nodes of the main graph
MAX_CONST_ELEMENTS = 4096  # a constant folded by value (shape vectors, pads, axes) is small
MAX_GRAPH_DEPTH = 16  # subgraphs (If, Loop, Scan bodies) inside subgraphs
MAX_DIM = 10_000_000  # any tensor dimension
DEFAULT_RESOLUTION = 224  # a dynamic height/width becomes this many pixels at rho = 1
ONNX_SUFFIXES = (".onnx",)
EXTRA_HINT = "pip install 'mbcost[onnx]'"

# element-wise activations without attributes: ONNX op -> mbcost activation (Clip, whose
# bounds decide between ReLU and ReLU6, has a handler of its own)
ACTIVATION_OPS = {"Relu": "relu", "Sigmoid": "sigmoid", "HardSigmoid": "hsigmoid",
                  "HardSwish": "hswish", "Tanh": "tanh", "Softmax": "softmax"}

# constant computations the reader folds (Reader._fold, Reader._eval) and ops it maps only
# inside a pattern the fuser folds into one layer (GELU's erf form, LayerNorm before opset
# 17); SUPPORTED_OPS (after Reader) adds the ops with a handler and the activations
FOLDED_OPS = ("Constant", "Identity", "Shape", "Size", "Gather", "Unsqueeze", "Squeeze",
              "Concat", "Reshape", "Slice", "Cast", "Add", "Sub", "Mul", "Div", "Min", "Max",
              "Floor", "Ceil", "Neg", "Abs", "ConstantOfShape", "Range")
PATTERN_OPS = ("Erf", "Sub", "Pow", "Sqrt")


def is_onnx(path):
    """Whether path names an ONNX file (by its suffix)."""
    return str(path).lower().endswith(ONNX_SUFFIXES)


# ---------------------------------------------------------------- small tensors

_STRUCT = {1: "f", 2: "B", 3: "b", 4: "H", 5: "h", 6: "i", 7: "q", 9: "?", 10: "e", 11: "d",
           12: "I", 13: "Q"}
_FLOAT_TYPES = (1, 10, 11, 16)
_EXTERNAL = 1


@dataclass
class Const:
    """A constant tensor: its dimensions and, when small and readable, its values (flat)."""

    dims: tuple
    values: list | None = None  # None: not known (large, external or not evaluated)
    is_float: bool = False

    @property
    def size(self):
        return math.prod(self.dims)


def _tensor_const(t, err):
    """A TensorProto as a Const (values read only if small and stored in the file)."""
    dims = tuple(int(d) for d in t.dims)
    if any(d < 0 for d in dims):
        raise err(f"tensor '{_str(t.name)}' has a negative dimension {list(dims)}")
    c = Const(dims, None, t.data_type in _FLOAT_TYPES)
    if c.size > MAX_CONST_ELEMENTS or t.data_location == _EXTERNAL:
        return c
    fmt = _STRUCT.get(t.data_type)
    if fmt is None:
        return c
    n = c.size
    try:
        if t.raw_data:
            raw = t.raw_data
            if len(raw) != n * struct.calcsize(fmt):
                raise err(f"tensor '{_str(t.name)}' holds {len(raw)} bytes for {n} values")
            vals = list(struct.unpack(f"<{n}{fmt}", raw))
        elif t.data_type in (1,):
            vals = list(t.float_data)
        elif t.data_type == 11:
            vals = list(t.double_data)
        elif t.data_type == 7:
            vals = list(t.int64_data)
        elif t.data_type in (12, 13):
            vals = list(t.uint64_data)
        elif t.data_type == 10:  # float16 bits stored in int32_data
            vals = [struct.unpack("<e", struct.pack("<H", v & 0xFFFF))[0] for v in t.int32_data]
        else:
            vals = list(t.int32_data)
    except struct.error:
        raise err(f"tensor '{_str(t.name)}' cannot be decoded") from None
    if len(vals) != n:
        return c
    if t.data_type == 9:
        vals = [int(bool(v)) for v in vals]
    if any(isinstance(v, float) and not math.isfinite(v) for v in vals) and not c.is_float:
        return c
    c.values = vals
    return c


def _attrs(node):
    return {_str(a.name): a for a in node.attribute}


def _str(x):
    """A protobuf string field as text (some protobuf builds hand over invalid UTF-8 as bytes)."""
    return x if isinstance(x, str) else bytes(x).decode("utf-8", "replace")


def _texts(field):
    """A repeated string field as a list of text (list() first: iterating it is slow)."""
    out = list(field)
    return out if all(type(x) is str for x in out) else [_str(x) for x in out]


_SCOPE_ITEM = re.compile(r"'([^'\\]*)'")


class _Node:
    """A NodeProto's fields as plain text and lists (what the reader uses of a node), and
    the module scope to name its layer after: torch's dynamo exporter names nodes
    'node_Conv_810' and keeps the module path in the metadata entry
    pkg.torch.onnx.name_scopes (a list literal, read here with a regex, never evaluated)."""

    __slots__ = ("name", "op_type", "domain", "input", "output", "attribute", "scope")

    def __init__(self, n):
        self.name, self.op_type, self.domain = _str(n.name), _str(n.op_type), _str(n.domain)
        self.input, self.output = _texts(n.input), _texts(n.output)
        self.attribute = n.attribute
        self.scope = ""
        if "/" not in self.name:
            for p in getattr(n, "metadata_props", ()):  # onnx >= 1.16
                if _str(p.key) == "pkg.torch.onnx.name_scopes":
                    parts = [x for x in _SCOPE_ITEM.findall(_str(p.value)[:2000]) if x]
                    self.scope = "/" + "/".join(parts) if parts else ""


# ---------------------------------------------------------------- data tensors and ops

@dataclass
class Tensor:
    """A data tensor: its ONNX dims at the base resolution, layout, and shape in spec terms."""

    dims: tuple
    layout: str  # "NCHW", "NHWC", "NC" (flat features) or "other"
    spec: tuple  # (H, W, C) as the spec builder will see it
    producer: object = None  # the Op that makes it (None: the network input)


@dataclass
class Op:
    """One data operation after folding: what the spec will say about it."""

    kind: str  # conv, bn, act, fc, add, mul, concat, gap, pool, dropout, flatten, unknown, ...
    inputs: list  # data tensor names
    output: str
    nodes: list  # the ONNX nodes it stands for: [(name, op_type)]
    a: dict = field(default_factory=dict)
    name: str = ""
    dead: bool = False
    principal: str = ""  # the ONNX node name the layer is named after
    principal_op: str = ""  # and its op type

    def __post_init__(self):
        self.principal = self.principal or self.nodes[0][0]
        self.principal_op = self.principal_op or self.nodes[0][1]

    @property
    def node(self):
        return self.nodes[0]


class Reader:
    """Reads one ONNX ModelProto into Ops, then into a spec dict."""

    def __init__(self, model, path, allow_unknown=False, resolution=None):
        self.model, self.path, self.allow_unknown = model, str(path), allow_unknown
        self.resolution = resolution
        self.consts = {}  # name -> Const
        self.data = {}  # name -> Tensor
        self.alias = {}  # tensor name -> the name it is an alias of
        self.ops = []
        self.dynamic = False
        self.steps = 0

    # ---- errors

    def err(self, msg, cls=SpecError):
        return cls(msg, path=self.path)

    def node_err(self, node, msg):
        return self.err(f"node '{node.name or node.output[0] if node.output else node.name}' "
                        f"({node.op_type}): {msg}")

    # ---- names

    def real(self, name):
        while name in self.alias:
            name = self.alias[name]
        return name

    # ---- reading

    def read(self):
        g = self.model.graph
        if len(g.node) > MAX_ONNX_NODES:
            raise self.err(f"the graph has {len(g.node)} nodes; the limit is {MAX_ONNX_NODES}",
                           LimitError)
        self._opsets()
        self._subgraph_depth()
        for t in list(g.initializer):
            self.consts[_str(t.name)] = _tensor_const(t, self.err)
        for s in list(g.sparse_initializer):
            self.consts[_str(s.values.name or s.indices.name)] = Const(tuple(int(d) for d in s.dims))
        inputs = [i for i in g.input if _str(i.name) not in self.consts]
        if len(inputs) != 1:
            names = ", ".join(_str(i.name) for i in inputs[:4]) or "none"
            raise self.err(f"mbcost reads models with one image input (N x C x H x W); this one "
                           f"has {len(inputs)}: {names}")
        self.input_name = _str(inputs[0].name)
        self._input(inputs[0])
        nodes = self._toposort([_Node(n) for n in g.node])
        for node in nodes:
            self._node(node)
        outs = [self.real(_str(o.name)) for o in g.output]
        self.outputs = [o for o in outs if o in self.data]
        if not self.outputs:
            raise self.err("no graph output depends on the input")
        return self

    def _subgraph_depth(self):
        """Refuse subgraphs nested deeper than MAX_GRAPH_DEPTH (walked without recursion);
        count their nodes toward MAX_ONNX_NODES."""
        todo, total = [(self.model.graph, 0)], 0
        while todo:
            g, depth = todo.pop()
            if depth > MAX_GRAPH_DEPTH:
                raise self.err(f"subgraphs (If, Loop, Scan bodies) nested deeper than "
                               f"{MAX_GRAPH_DEPTH}", LimitError)
            total += len(g.node)
            if total > MAX_ONNX_NODES:
                raise self.err(f"the graph has more than {MAX_ONNX_NODES} nodes with its subgraphs",
                               LimitError)
            for n in g.node:
                for a in n.attribute:
                    if a.type == 5:  # GRAPH
                        todo.append((a.g, depth + 1))
                    elif a.type == 10:  # GRAPHS
                        todo.extend((sub, depth + 1) for sub in a.graphs)

    def _opsets(self):
        self.opset = 0
        for o in self.model.opset_import:
            if o.domain in ("", "ai.onnx"):
                self.opset = int(o.version)
        if self.opset == 0:
            self.opset = 13

    def _input(self, vi):
        name = _str(vi.name)
        t = vi.type.tensor_type
        dims = [d for d in t.shape.dim]
        if len(dims) != 4:
            raise self.err(f"input '{name}' has {len(dims)} dimensions; mbcost reads image "
                           "models with an N x C x H x W (or N x H x W x C) input")
        vals = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in dims]
        # NHWC when the input feeds a Transpose to NCHW (tf2onnx's Keras exports)
        self.input_layout = "NCHW"
        for node in self.model.graph.node:
            if _str(node.op_type) == "Transpose" and name in [_str(x) for x in node.input]:
                perm = list(_attrs(node).get("perm").ints) if "perm" in _attrs(node) else []
                if perm == [0, 3, 1, 2]:
                    self.input_layout = "NHWC"
                break
        ci, hi, wi = (1, 2, 3) if self.input_layout == "NCHW" else (3, 1, 2)
        c = vals[ci]
        if c is None:
            raise self.err(f"input '{name}': the channel axis must be fixed (got a dynamic size)")
        base = self.resolution
        h, w = vals[hi], vals[wi]
        self.dynamic = h is None or w is None
        if h is None and w is None:
            h = w = base or DEFAULT_RESOLUTION
        elif h is None:
            h = base or w
        elif w is None:
            w = base or h
        for v in (c, h, w):
            if v > MAX_DIM:
                raise self.err(f"input '{name}' is too large ({v})", LimitError)
        n = vals[0] or 1
        d = (n, c, h, w) if self.input_layout == "NCHW" else (n, h, w, c)
        self.data[name] = Tensor(d, self.input_layout, (h, w, c))
        self.input_dims = (h, w, c)

    def _toposort(self, nodes):
        """Nodes in an order where every input is made before it is used; cycles and
        inputs that nothing makes are errors."""
        made = set(self.consts) | {self.input_name} | {""}
        producer = {}
        for i, n in enumerate(nodes):
            for o in n.output:
                if not o:
                    continue
                if o in producer or o in made:
                    raise self.node_err(n, f"output '{o}' is also made elsewhere")
                producer[o] = i
        waiting = [0] * len(nodes)
        users = {}
        for i, n in enumerate(nodes):
            for x in set(n.input):
                if x in made:
                    continue
                if x not in producer:
                    raise self.node_err(n, f"input '{x}' is not made by any node, initializer "
                                           "or graph input (dangling)")
                waiting[i] += 1
                users.setdefault(x, []).append(i)
        ready = [i for i in range(len(nodes)) if waiting[i] == 0]
        order = []
        while ready:
            i = ready.pop()
            order.append(i)
            for o in nodes[i].output:
                for j in users.get(o, ()):
                    waiting[j] -= 1
                    if waiting[j] == 0:
                        ready.append(j)
        if len(order) != len(nodes):
            stuck = next(n for i, n in enumerate(nodes) if waiting[i] > 0)
            raise self.node_err(stuck, "the graph has a cycle through this node")
        # the file's order when it is already topological (exporters write it so), else Kahn's
        if all(producer[x] < i for i, n in enumerate(nodes) for x in n.input if x in producer):
            return nodes
        return [nodes[i] for i in order]

    # ---- constants

    def const(self, name):
        name = self.real(name)
        return self.consts.get(name)

    def values(self, node, name, what):
        c = self.const(name)
        if c is None or c.values is None:
            return None
        return c.values

    def _fold(self, node):
        """Evaluate a node whose inputs are all constants; False if it is not foldable."""
        op, A = node.op_type, _attrs(node)
        ins = [self.const(x) if x else None for x in node.input]
        out = node.output[0] if node.output else None
        if out is None:
            return True
        if op == "Identity":
            self.alias[out] = self.real(node.input[0])
            return True
        if op == "Constant":
            if "value" in A:
                self.consts[out] = _tensor_const(A["value"].t, self.err)
            elif "value_int" in A:
                self.consts[out] = Const((), [int(A["value_int"].i)])
            elif "value_ints" in A:
                v = list(A["value_ints"].ints)
                self.consts[out] = Const((len(v),), v if len(v) <= MAX_CONST_ELEMENTS else None)
            elif "value_float" in A:
                self.consts[out] = Const((), [float(A["value_float"].f)], True)
            elif "value_floats" in A:
                v = list(A["value_floats"].floats)
                self.consts[out] = Const((len(v),), v if len(v) <= MAX_CONST_ELEMENTS else None, True)
            else:
                self.consts[out] = Const(())
            return True
        vals = [c.values if c is not None else None for c in ins]
        try:
            res = self._eval(op, A, ins, vals, node)
        except (ZeroDivisionError, OverflowError, ValueError, IndexError, TypeError):
            res = None
        if res is None:  # constant but not evaluated: dims unknown
            for o in node.output:
                if o:
                    self.consts[o] = Const((), None)
            return True
        if res.values is not None and len(res.values) > MAX_CONST_ELEMENTS:
            raise self.node_err(node, f"a constant of more than {MAX_CONST_ELEMENTS} values",)
        self.consts[out] = res
        return True

    def _eval(self, op, A, ins, vals, node):
        if any(c is None for c in ins[:1]) and op not in ("Range",):
            return None
        if op == "Cast":
            to = A["to"].i if "to" in A else 1
            if vals[0] is None:
                return Const(ins[0].dims, None, to in _FLOAT_TYPES)
            if to in _FLOAT_TYPES:
                return Const(ins[0].dims, [float(v) for v in vals[0]], True)
            return Const(ins[0].dims, [int(v) for v in vals[0]])
        if op in ("Unsqueeze", "Squeeze"):
            axes = list(A["axes"].ints) if "axes" in A else (vals[1] if len(vals) > 1 and vals[1] else [])
            dims = list(ins[0].dims)
            if op == "Unsqueeze":
                r = len(dims) + len(axes)
                for ax in sorted(a % r for a in axes):
                    dims.insert(ax, 1)
            else:
                drop = {a % len(dims) for a in axes} if axes else {i for i, d in enumerate(dims) if d == 1}
                dims = [d for i, d in enumerate(dims) if i not in drop]
            return Const(tuple(dims), vals[0], ins[0].is_float)
        if op == "Reshape":
            if vals[1] is None:
                return None
            dims = _reshape(ins[0].dims, vals[1], "allowzero" in A and A["allowzero"].i)
            return Const(dims, vals[0], ins[0].is_float) if dims is not None else None
        if op == "Concat":
            if any(c is None or c.values is None for c in ins):
                return None
            if any(len(c.dims) > 1 for c in ins):
                return None
            v = [x for c in ins for x in c.values]
            return Const((len(v),), v, any(c.is_float for c in ins))
        if op == "Gather":
            if vals[0] is None or vals[1] is None or len(ins[0].dims) > 1:
                return None
            axis = A["axis"].i if "axis" in A else 0
            if axis != 0:
                return None
            n = len(vals[0])
            picked = [vals[0][i % n] for i in vals[1]]
            return Const(ins[1].dims, picked, ins[0].is_float)
        if op == "Slice":
            if vals[0] is None or len(ins[0].dims) != 1:
                return None
            starts = vals[1] if len(vals) > 1 else list(A["starts"].ints)
            ends = vals[2] if len(vals) > 2 else list(A["ends"].ints)
            steps = vals[4] if len(vals) > 4 and vals[4] is not None else [1]
            if starts is None or ends is None or not steps or steps[0] == 0:
                return None
            n = len(vals[0])
            s, e = _clamp(starts[0], n), _clamp(ends[0], n)
            v = vals[0][s:e:steps[0]]
            return Const((len(v),), v, ins[0].is_float)
        if op in ("Add", "Sub", "Mul", "Div", "Min", "Max"):
            if len(vals) < 2 or vals[0] is None or vals[1] is None:
                return None
            a, b = vals[0], vals[1]
            if len(a) != len(b) and min(len(a), len(b)) != 1:
                return None
            n = max(len(a), len(b))
            a = a * n if len(a) == 1 else a
            b = b * n if len(b) == 1 else b
            fl = ins[0].is_float or ins[1].is_float
            f = {"Add": lambda x, y: x + y, "Sub": lambda x, y: x - y, "Mul": lambda x, y: x * y,
                 "Div": (lambda x, y: x / y) if fl else _int_div, "Min": min, "Max": max}[op]
            v = [f(x, y) for x, y in zip(a, b)]
            dims = ins[0].dims if len(ins[0].dims) >= len(ins[1].dims) else ins[1].dims
            if math.prod(dims) != n:
                dims = (n,)
            return Const(tuple(dims), v, fl)
        if op in ("Floor", "Ceil", "Neg", "Abs"):
            if vals[0] is None:
                return None
            f = {"Floor": math.floor, "Ceil": math.ceil, "Neg": lambda x: -x, "Abs": abs}[op]
            return Const(ins[0].dims, [f(x) for x in vals[0]], ins[0].is_float and op in ("Neg", "Abs"))
        if op == "ConstantOfShape":
            if vals[0] is None:
                return None
            dims = tuple(int(d) for d in vals[0])
            if any(d < 0 for d in dims) or math.prod(dims) > MAX_CONST_ELEMENTS:
                return Const(dims if all(d >= 0 for d in dims) else (), None)
            v = [0]
            if "value" in A:
                c = _tensor_const(A["value"].t, self.err)
                v = c.values or [0]
            return Const(dims, [v[0]] * math.prod(dims), isinstance(v[0], float))
        if op == "Range":
            if any(x is None for x in vals[:3]) or len(vals) < 3:
                return None
            start, limit, delta = vals[0][0], vals[1][0], vals[2][0]
            if delta == 0:
                return None
            n = max(math.ceil((limit - start) / delta), 0)
            if n > MAX_CONST_ELEMENTS:
                return None
            return Const((n,), [start + i * delta for i in range(n)], isinstance(start, float))
        if op == "Shape":
            return None
        return None

    # ---- data nodes

    def _node(self, node):
        if not node.output or not node.output[0]:
            return  # makes nothing anyone can use
        ins = [self.real(x) if x else "" for x in node.input]
        data_ins = [x for x in ins if x in self.data]
        if not data_ins:
            self._fold(node)
            return
        if node.domain not in ("", "ai.onnx"):
            return self._unknown(node, f"{node.domain}.{node.op_type}", data_ins)
        if node.op_type in ACTIVATION_OPS:
            return self._act(node, ins, ACTIVATION_OPS[node.op_type])
        handler = getattr(self, f"_op_{node.op_type}", None)
        if handler is None:
            return self._unknown(node, node.op_type, data_ins)
        handler(node, ins, _attrs(node))

    def t(self, name):
        return self.data[self.real(name)]

    def _add(self, kind, node, inputs, out_dims, layout, spec, nodes=None, **a):
        out = node.output[0]
        for d in out_dims:
            if d > MAX_DIM:
                raise self.node_err(node, f"a dimension of {d} is over the limit", )
            if d < 1:
                raise self.node_err(node, f"the output size reaches {d} at the base resolution "
                                          f"{self.input_dims[0]}x{self.input_dims[1]}")
        op = Op(kind, [self.real(x) for x in inputs], out,
                nodes or [(node.name or out, node.op_type)], a, principal=node.scope)
        self.ops.append(op)
        self.data[out] = Tensor(tuple(out_dims), layout, tuple(spec), op)
        return op

    def _same(self, kind, node, x, **a):
        t = self.t(x)
        return self._add(kind, node, [x], t.dims, t.layout, t.spec, **a)

    def _unknown(self, node, label, data_ins):
        """An op mbcost has no kind for: zero cost, output shape from the file's value_info
        when declared, else the first data input's (most such ops are element-wise)."""
        t = self.t(data_ins[0])
        dims = self._declared(node.output[0]) if node.output else None
        if dims is None or len(dims) != len(t.dims):
            dims, spec, layout = t.dims, t.spec, t.layout
        else:
            spec, layout = _spec_of(dims, t.layout, t.spec), t.layout
        op = self._add("unknown", node, data_ins, dims, layout, spec, label=label)
        for o in node.output[1:]:  # each further output: its own zero-cost row
            if o:
                extra = Op("unknown", list(op.inputs), o, list(op.nodes), {"label": label})
                self.ops.append(extra)
                self.data[o] = Tensor(tuple(dims), layout, tuple(spec), extra)
        return op

    def _declared(self, name):
        if not hasattr(self, "_vi"):
            g = self.model.graph
            self._vi = {_str(v.name): v for v in list(g.value_info) + list(g.output)}
        v = self._vi.get(name)
        if v is None:
            return None
        dims = []
        for d in v.type.tensor_type.shape.dim:
            if not d.HasField("dim_value") or d.dim_value < 1 or self.dynamic:
                return None
            dims.append(int(d.dim_value))
        return tuple(dims) or None

    # -- convolution and pooling

    def _window(self, node, A, x, k, what):
        """Strides, dilations and (begin, end) pads per spatial axis, or auto_pad."""
        nd = len(k)
        strides = list(A["strides"].ints) if "strides" in A else [1] * nd
        dil = list(A["dilations"].ints) if "dilations" in A else [1] * nd
        pads = list(A["pads"].ints) if "pads" in A else [0] * (2 * nd)
        auto = A["auto_pad"].s.decode("utf-8", "replace") if "auto_pad" in A else "NOTSET"
        if len(strides) != nd or len(dil) != nd or len(pads) != 2 * nd:
            raise self.node_err(node, "strides, dilations and pads must match the kernel's rank")
        if min(strides) < 1 or min(dil) < 1 or min(k) < 1:
            raise self.node_err(node, f"{what}: kernel, strides and dilations must be positive")
        if min(pads) < 0:
            return None, "negative pads"
        if auto not in ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"):
            raise self.node_err(node, f"unknown auto_pad '{auto[:20]}'")
        return (strides, dil, pads, auto), None

    @staticmethod
    def _out_size(h, k, s, d, pb, pe, auto, ceil=False):
        ke = d * (k - 1) + 1
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            return -(-h // s)
        if auto == "VALID":
            return (h - ke) // s + 1
        if ceil:  # a last window that would start in the right padding is dropped (torch's
            out = -(-(h + pb + pe - ke) // s) + 1  # rule, and ONNX's since onnx 1.16)
            return out - 1 if (out - 1) * s >= h + pb else out
        return (h + pb + pe - ke) // s + 1

    def _padding(self, k, s, d, pb, pe, auto, h, pool=False):
        """The spec padding giving the ONNX output size at every input size, or None:
        'same' (ceil(H/s)) when the total padding is k_eff - 1, an integer p when
        2p + k = total + k_eff, 'valid' for none at all."""
        ke = d * (k - 1) + 1
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            return "same"
        t = 0 if auto == "VALID" else pb + pe
        if t == ke - 1 and not (pool and pb == pe):
            return "same"  # torch's (k - 1) / 2 for odd k, TF's SAME: ceil(H / s) at any H
        if pb == pe and t == 0 and d == 1:
            return "valid" if pool else 0
        if pb == pe and d == 1:
            return pb
        twice = t - ke + k
        if twice >= 0 and twice % 2 == 0:
            return twice // 2
        if not self.dynamic:  # a fixed input size: any padding with the same output size
            want = self._out_size(h, k, s, d, pb, pe, auto)
            for p in range(0, k + 1):
                if (h + 2 * p - k) // s + 1 == want:
                    return p
        return None

    def _op_Conv(self, node, ins, A):
        x = ins[0]
        t = self.t(x)
        if t.layout != "NCHW" or len(t.dims) != 4:
            return self._unknown(node, "Conv (not 2-D NCHW)", [x])
        w = self.const(ins[1]) if len(ins) > 1 and ins[1] else None
        if w is None or len(w.dims) != 4:
            return self._unknown(node, "Conv (weight shape unknown)", [x])
        n_out, c_per_g, kh, kw = w.dims
        k = list(A["kernel_shape"].ints) if "kernel_shape" in A else [kh, kw]
        if k != [kh, kw]:
            raise self.node_err(node, f"kernel_shape {k} disagrees with the weight {list(w.dims)}")
        g = A["group"].i if "group" in A else 1
        c_in = t.dims[1]
        if g < 1 or c_in % g or c_per_g * g != c_in or n_out % g or n_out < 1:
            raise self.node_err(node, f"weight {list(w.dims)} with {g} groups does not fit "
                                      f"{c_in} input channels")
        win, why = self._window(node, A, x, [kh, kw], "Conv")
        if win is None:
            return self._unknown(node, f"Conv ({why})", [x])
        strides, dil, pads, auto = win
        h, wd = t.dims[2], t.dims[3]
        oh = self._out_size(h, kh, strides[0], dil[0], pads[0], pads[2], auto)
        ow = self._out_size(wd, kw, strides[1], dil[1], pads[1], pads[3], auto)
        bias = len(ins) > 2 and bool(ins[2])
        if bias:
            b = self.const(ins[2])
            if b is not None and b.values is not None and b.size not in (n_out,):
                raise self.node_err(node, f"bias of {b.size} values for {n_out} channels")
        a = dict(k=(kh, kw), stride=tuple(strides), dil=tuple(dil), pads=tuple(pads), auto=auto,
                 groups=g, c_in=c_in, c_out=n_out, bias=bias)
        return self._add("conv", node, [x], (t.dims[0], n_out, oh, ow), "NCHW", (oh, ow, n_out), **a)

    def _pool(self, node, ins, A, typ):
        x = ins[0]
        t = self.t(x)
        if t.layout != "NCHW" or len(t.dims) != 4:
            return self._unknown(node, f"{node.op_type} (not 2-D NCHW)", [x])
        k = list(A["kernel_shape"].ints) if "kernel_shape" in A else []
        if len(k) != 2:
            raise self.node_err(node, "kernel_shape must give 2 sizes")
        win, why = self._window(node, A, x, k, node.op_type)
        if win is None:
            return self._unknown(node, f"{node.op_type} ({why})", [x])
        strides, dil, pads, auto = win
        ceil = bool(A["ceil_mode"].i) if "ceil_mode" in A else False
        h, wd = t.dims[2], t.dims[3]
        oh = self._out_size(h, k[0], strides[0], dil[0], pads[0], pads[2], auto, ceil)
        ow = self._out_size(wd, k[1], strides[1], dil[1], pads[1], pads[3], auto, ceil)
        a = dict(type=typ, k=tuple(k), stride=tuple(strides), dil=tuple(dil), pads=tuple(pads),
                 auto=auto, ceil=ceil)
        if ceil:
            fh = self._out_size(h, k[0], strides[0], dil[0], pads[0], pads[2], auto)
            fw = self._out_size(wd, k[1], strides[1], dil[1], pads[1], pads[3], auto)
            same_always = strides == [1, 1] or auto != "NOTSET"  # auto_pad ignores ceil_mode
            if (fh, fw) != (oh, ow) or not (same_always or not self.dynamic):
                a["ceil_differs"] = True
        return self._add("pool", node, [x], (t.dims[0], t.dims[1], oh, ow), "NCHW",
                         (oh, ow, t.dims[1]), **a)

    def _op_MaxPool(self, node, ins, A):
        if len(node.output) > 1 and node.output[1]:
            return self._unknown(node, "MaxPool (with indices)", [ins[0]])
        return self._pool(node, ins, A, "max")

    def _op_AveragePool(self, node, ins, A):
        return self._pool(node, ins, A, "avg")

    def _op_GlobalAveragePool(self, node, ins, A):
        return self._global(node, ins, "gap")

    def _op_GlobalMaxPool(self, node, ins, A):
        return self._global(node, ins, "gmp")

    def _global(self, node, ins, kind):
        t = self.t(ins[0])
        if t.layout != "NCHW" or len(t.dims) != 4:
            return self._unknown(node, f"{node.op_type} (not 2-D NCHW)", [ins[0]])
        return self._add(kind, node, [ins[0]], (t.dims[0], t.dims[1], 1, 1), "NCHW",
                         (1, 1, t.dims[1]))

    def _op_ReduceMean(self, node, ins, A):
        return self._reduce(node, ins, A, "gap")

    def _op_ReduceMax(self, node, ins, A):
        return self._reduce(node, ins, A, "gmp")

    def _reduce(self, node, ins, A, kind):
        """A mean (gap) or max (gmp) over height and width; a mean over the channels
        alone is kept (as unknown) for the LayerNorm pattern to claim."""
        t = self.t(ins[0])
        what = node.op_type
        axes = list(A["axes"].ints) if "axes" in A else None
        if axes is None and len(ins) > 1 and ins[1]:
            axes = self.values(node, ins[1], "axes")
            if axes is None:
                return self._unknown(node, f"{what} (axes unknown)", [ins[0]])
        keep = A["keepdims"].i if "keepdims" in A else 1
        r = len(t.dims)
        spatial = {"NCHW": {2, 3}, "NHWC": {1, 2}}.get(t.layout)
        if axes is not None and keep and {a % r for a in axes} == {_CHANNEL.get(t.layout)}:
            op = self._unknown(node, f"{what} (not over height and width)", [ins[0]])
            op.a["over_channels"] = True
            return op
        if axes is None or spatial is None or {a % r for a in axes} != spatial:
            return self._unknown(node, f"{what} (not over height and width)", [ins[0]])
        c = t.spec[2]
        if keep:
            dims = (t.dims[0], c, 1, 1) if t.layout == "NCHW" else (t.dims[0], 1, 1, c)
            layout = t.layout
        else:
            dims, layout = (t.dims[0], c), "NC"
        return self._add(kind, node, [ins[0]], dims, layout, (1, 1, c), reduce=True)

    # -- normalization, activations

    def _op_BatchNormalization(self, node, ins, A):
        t = self.t(ins[0])
        c = t.spec[2]
        for p in ins[1:5]:
            pc = self.const(p) if p else None
            if pc is not None and pc.dims and pc.size != c:
                raise self.node_err(node, f"parameters of {pc.size} values for {c} channels")
        if len(node.output) > 1 and any(node.output[1:]):
            return self._unknown(node, "BatchNormalization (training outputs)", [ins[0]])
        return self._same("bn", node, ins[0])

    def _act(self, node, ins, fn):
        return self._same("act", node, ins[0], fn=fn)

    def _op_Clip(self, node, ins, A):
        if self.opset < 11 or len(ins) == 1:
            lo = A["min"].f if "min" in A else None
            hi = A["max"].f if "max" in A else None
        else:
            lo = hi = None
            for i, which in ((1, "min"), (2, "max")):
                if len(ins) > i and ins[i]:
                    v = self.values(node, ins[i], which)
                    if v is None or len(v) != 1:
                        return self._unknown(node, "Clip (bounds unknown)", [ins[0]])
                    lo, hi = (v[0], hi) if which == "min" else (lo, v[0])
        if lo == 0 and hi == 6:
            return self._act(node, ins, "relu6")
        if lo == 0 and hi is None:
            return self._act(node, ins, "relu")
        return self._unknown(node, f"Clip ({_num(lo)}, {_num(hi)})", [ins[0]])

    def _op_Gelu(self, node, ins, A):
        # opset 20; approximate "none" (erf, nn.GELU()) or "tanh" (nn.GELU("tanh")): both
        # are the spec's gelu, which no convention gives mult-adds beyond the peers' element
        # counts (the same for either form)
        return self._act(node, ins, "gelu")

    def _op_Erf(self, node, ins, A):
        # alone it is unknown; x * 0.5 * (1 + erf(x / sqrt 2)) is folded into one gelu
        return self._same("erf", node, ins[0])

    def _op_LayerNormalization(self, node, ins, A):
        """LayerNorm over the channels alone (a channels-last tensor normalized on its last
        axis, or a 1x1 map on its channels): the spec's layernorm (2C parameters)."""
        t = self.t(ins[0])
        r = len(t.dims)
        axis = (A["axis"].i if "axis" in A else -1) % max(r, 1)
        c = t.spec[2]
        chan = _CHANNEL.get(t.layout)
        over = set(range(axis, r))
        ok = over == {chan} or (over == {1, 2, 3} and t.layout == "NCHW" and t.spec[:2] == (1, 1))
        consts = [self.const(x) if x else None for x in ins[1:3]]
        if not ok:
            return self._unknown(node, "LayerNormalization (not over the channels alone)", [ins[0]])
        if len(ins) < 3 or any(x is None or x.size != c for x in consts) \
                or any(x in self.data for x in ins[1:3]):
            return self._unknown(node, "LayerNormalization (without a scale and bias of C values)",
                                 [ins[0]])
        if any(node.output[1:]):
            return self._unknown(node, "LayerNormalization (mean and deviation outputs)", [ins[0]])
        return self._same("ln", node, ins[0])

    def _op_Dropout(self, node, ins, A):
        p = None
        if "ratio" in A:
            p = A["ratio"].f
        elif len(ins) > 1 and ins[1]:
            v = self.values(node, ins[1], "ratio")
            p = v[0] if v and len(v) == 1 else None
        op = self._same("dropout", node, ins[0], p=p)
        for o in node.output[1:]:  # the mask (training only): the same tensor, at no cost
            if o:
                self.alias[o] = node.output[0]
        return op

    def _op_Shape(self, node, ins, A):
        # the sizes at the base resolution: reshapes computed from them are read as flatten,
        # channel shuffle... which the spec then states independently of the resolution
        dims = list(self.t(ins[0]).dims)
        r = len(dims)
        lo = _clamp(A["start"].i, r) if "start" in A else 0
        hi = _clamp(A["end"].i, r) if "end" in A else r
        v = dims[lo:hi]
        self.consts[node.output[0]] = Const((len(v),), v)

    def _op_Size(self, node, ins, A):
        self.consts[node.output[0]] = Const((), [math.prod(self.t(ins[0]).dims)])

    def _op_Identity(self, node, ins, A):
        self.alias[node.output[0]] = ins[0]

    # -- element-wise merges

    def _binary_const(self, node, ins):
        """(data input, constant input) of a binary op with one constant side, else None."""
        a, b = ins[0], ins[1] if len(ins) > 1 else ""
        if a in self.data and b and b not in self.data:
            return a, b
        if b in self.data and a and a not in self.data:
            return b, a
        return None

    def _op_Add(self, node, ins, A):
        bc = self._binary_const(node, ins)
        if bc is not None:
            x, c = bc
            cc = self.const(c)
            return self._same("addconst", node, x, size=cc.size if cc is not None and cc.dims else None,
                              label="Add (a constant)", value=_scalar(cc))
        ta, tb = self.t(ins[0]), self.t(ins[1])
        if ta.spec != tb.spec:
            return self._unknown(node, "Add (broadcast)", [ins[0], ins[1]])
        return self._add("add", node, [ins[0], ins[1]], ta.dims, ta.layout, ta.spec)

    def _op_Mul(self, node, ins, A):
        bc = self._binary_const(node, ins)
        if bc is not None:
            cc = self.const(bc[1])
            v = _scalar(cc)
            if v is None:
                if self._per_channel(self.t(bc[0]), cc):
                    # by C values along the channels: ConvNeXt's layer scale (C parameters),
                    # or a LayerNorm pattern's gamma
                    return self._same("lscale", node, bc[0])
                return self._unknown(node, "Mul (by a constant)", [bc[0]])
            # by one number: part of a pattern (GELU's 0.5), else unknown
            return self._same("mulconst", node, bc[0], value=v, label="Mul (by a constant)")
        ta, tb = self.t(ins[0]), self.t(ins[1])
        big = ta if math.prod(ta.dims) >= math.prod(tb.dims) else tb
        return self._add("mul", node, [ins[0], ins[1]], big.dims, big.layout, big.spec)

    @staticmethod
    def _per_channel(t, c):
        """Whether constant c holds one value per channel of t, broadcast along the rest."""
        chan = _CHANNEL.get(t.layout)
        if c is None or chan is None or c.size != t.spec[2] or t.spec[2] < 2:
            return False
        dims = (1,) * (len(t.dims) - len(c.dims)) + tuple(c.dims)
        return len(dims) == len(t.dims) and all(d == (t.dims[i] if i == chan else 1)
                                                for i, d in enumerate(dims))

    def _op_Pow(self, node, ins, A):
        # unknown; x ** 2 is part of the LayerNorm pattern (its variance)
        e = _scalar(self.const(ins[1])) if len(ins) > 1 and ins[1] and ins[1] not in self.data else None
        op = self._unknown(node, "Pow", [x for x in ins if x in self.data])
        op.a["exponent"] = e
        return op

    def _op_Div(self, node, ins, A):
        if ins[0] in self.data and len(ins) > 1 and ins[1] and ins[1] not in self.data:
            v = _scalar(self.const(ins[1]))
            if v is not None and v != 0:  # x / c is x * (1 / c): GELU's x / sqrt(2)
                return self._same("mulconst", node, ins[0], value=1 / v, label="Div")
        return self._unknown(node, "Div", [x for x in ins if x in self.data])

    def _op_Concat(self, node, ins, A):
        xs = [x for x in ins if x]
        if any(x not in self.data for x in xs):
            return self._unknown(node, "Concat (with a constant)", [x for x in xs if x in self.data])
        ts = [self.t(x) for x in xs]
        axis = A["axis"].i if "axis" in A else 1
        r = len(ts[0].dims)
        chan = {"NCHW": 1, "NHWC": 3, "NC": 1}.get(ts[0].layout)
        if chan is None or axis % r != chan or any(t.layout != ts[0].layout for t in ts):
            return self._unknown(node, "Concat (not over channels)", xs)
        if any(t.spec[:2] != ts[0].spec[:2] for t in ts):
            raise self.node_err(node, "inputs of different heights or widths")
        c = sum(t.spec[2] for t in ts)
        dims = list(ts[0].dims)
        dims[chan] = c
        return self._add("concat", node, xs, dims, ts[0].layout, (*ts[0].spec[:2], c))

    # -- fully connected

    def _op_Gemm(self, node, ins, A):
        x = ins[0]
        t = self.t(x)
        if A.get("transA") is not None and A["transA"].i:
            return self._unknown(node, "Gemm (transA)", [x])
        w = self.const(ins[1]) if len(ins) > 1 and ins[1] else None
        if w is None or len(w.dims) != 2 or ins[1] in self.data:
            return self._unknown(node, "Gemm (weight shape unknown)", [x])
        tb = A["transB"].i if "transB" in A else 0
        k, n = (w.dims[1], w.dims[0]) if tb else w.dims
        feats = math.prod(t.spec)
        if k != feats:
            raise self.node_err(node, f"weight {list(w.dims)} takes {k} features, the input has "
                                      f"{feats} at the base resolution")
        bias = len(ins) > 2 and bool(ins[2])
        if bias:
            b = self.const(ins[2])
            if b is not None and b.dims and b.size != n:
                return self._unknown(node, "Gemm (broadcast bias)", [x])
        return self._add("fc", node, [x], (t.dims[0], n), "NC", (1, 1, n), out=n, bias=bias)

    def _op_MatMul(self, node, ins, A):
        x = ins[0]
        t = self.t(x)
        w = self.const(ins[1]) if len(ins) > 1 and ins[1] and ins[1] not in self.data else None
        if w is not None and len(w.dims) == 2 and t.layout == "NHWC" and len(t.dims) == 4 \
                and w.dims[0] == t.dims[3]:
            # nn.Linear on a channels-last map (ConvNeXt's block): a 1x1 conv at every position
            n = w.dims[1]
            a = dict(k=(1, 1), stride=(1, 1), dil=(1, 1), pads=(0, 0, 0, 0), auto="NOTSET",
                     groups=1, c_in=t.dims[3], c_out=n, bias=False, matmul=True)
            return self._add("conv", node, [x], (*t.dims[:3], n), "NHWC", (*t.spec[:2], n), **a)
        if w is None or len(w.dims) != 2 or len(t.dims) != 2:
            return self._unknown(node, "MatMul (not input x weight matrix)",
                                 [v for v in ins if v in self.data])
        k, n = w.dims
        if k != math.prod(t.spec):
            raise self.node_err(node, f"weight {list(w.dims)} takes {k} features, the input has "
                                      f"{math.prod(t.spec)}")
        return self._add("fc", node, [x], (t.dims[0], n), "NC", (1, 1, n), out=n, bias=False)

    # -- shapes

    def _op_Flatten(self, node, ins, A):
        t = self.t(ins[0])
        axis = A["axis"].i if "axis" in A else 1
        if axis % max(len(t.dims), 1) != 1:
            return self._unknown(node, "Flatten (not from axis 1)", [ins[0]])
        return self._add("flatten", node, [ins[0]], (t.dims[0], math.prod(t.dims[1:])), "NC", t.spec)

    def _op_Reshape(self, node, ins, A):
        t = self.t(ins[0])
        target = self.values(node, ins[1], "shape") if len(ins) > 1 and ins[1] else None
        if target is None:
            return self._unknown(node, "Reshape (shape unknown)", [ins[0]])
        dims = _reshape(t.dims, target, "allowzero" in A and A["allowzero"].i)
        if dims is None:
            raise self.node_err(node, f"cannot reshape {list(t.dims)} to {list(target)}")
        return self._reshaped(node, ins[0], t, dims, "Reshape")

    def _reshaped(self, node, x, t, dims, what):
        dims = tuple(dims)
        if dims == t.dims:
            self.alias[node.output[0]] = x
            return None
        h, w, c = t.spec
        if len(dims) == 2 and dims[0] == t.dims[0]:
            if (h, w) == (1, 1) and t.layout in ("NC", "NCHW", "NHWC"):
                return self._add("alias", node, [x], dims, "NC", t.spec)
            return self._add("flatten", node, [x], dims, "NC", t.spec)
        if len(dims) == 4 and (h, w) == (1, 1) and dims[0] == t.dims[0] and dims[1] == c \
                and dims[2:] == (1, 1) and t.layout in ("NC", "NCHW"):
            return self._add("alias", node, [x], dims, "NCHW", t.spec)
        if len(dims) == 4 and (h, w) == (1, 1) and dims[:3] == (t.dims[0], 1, 1) and dims[3] == c \
                and t.layout in ("NC", "NHWC"):
            return self._add("alias", node, [x], dims, "NHWC", t.spec)
        if t.layout == "NCHW" and len(dims) == 5 and dims[0] == t.dims[0] and dims[3:] == t.dims[2:] \
                and dims[1] * dims[2] == c:
            return self._add("shuffle1", node, [x], dims, "G5", t.spec, groups=dims[1])
        if t.layout == "G5T" and len(dims) == 4 and dims[0] == t.dims[0] and dims[2:] == t.dims[3:] \
                and dims[1] == c:
            return self._add("shuffle3", node, [x], dims, "NCHW", t.spec)
        return self._unknown(node, f"{what} ({'x'.join(map(str, t.dims))} to "
                                   f"{'x'.join(map(str, dims))})", [x])

    def _op_Squeeze(self, node, ins, A):
        return self._squeeze(node, ins, A, False)

    def _op_Unsqueeze(self, node, ins, A):
        return self._squeeze(node, ins, A, True)

    def _squeeze(self, node, ins, A, un):
        t = self.t(ins[0])
        axes = list(A["axes"].ints) if "axes" in A else None
        if axes is None and len(ins) > 1 and ins[1]:
            axes = self.values(node, ins[1], "axes")
        dims = list(t.dims)
        if un:
            if not axes:
                return self._unknown(node, "Unsqueeze (axes unknown)", [ins[0]])
            r = len(dims) + len(axes)
            for ax in sorted(a % r for a in axes):
                dims.insert(ax, 1)
        else:
            drop = {a % len(dims) for a in axes} if axes else {i for i, d in enumerate(dims) if d == 1}
            if any(dims[i] != 1 for i in drop):
                raise self.node_err(node, "squeezes an axis that is not 1")
            dims = [d for i, d in enumerate(dims) if i not in drop]
        return self._reshaped(node, ins[0], t, dims, node.op_type)

    def _op_Transpose(self, node, ins, A):
        t = self.t(ins[0])
        perm = list(A["perm"].ints) if "perm" in A else list(range(len(t.dims)))[::-1]
        if sorted(perm) != list(range(len(t.dims))):
            raise self.node_err(node, f"perm {perm} does not fit {len(t.dims)} dimensions")
        dims = tuple(t.dims[p] for p in perm)
        if perm == list(range(len(perm))):
            self.alias[node.output[0]] = ins[0]
            return None
        if t.layout == "G5" and perm == [0, 2, 1, 3, 4]:
            return self._add("shuffle2", node, [ins[0]], dims, "G5T", t.spec)
        if len(dims) == 4 and t.layout == "NHWC" and perm == [0, 3, 1, 2]:
            return self._add("alias", node, [ins[0]], dims, "NCHW", t.spec)
        if len(dims) == 4 and t.layout == "NCHW" and perm == [0, 2, 3, 1]:
            return self._add("alias", node, [ins[0]], dims, "NHWC", t.spec)
        if len(dims) == 2 and t.spec[:2] == (1, 1):
            return self._unknown(node, "Transpose (of features)", [ins[0]])
        return self._unknown(node, f"Transpose (perm {','.join(map(str, perm))})", [ins[0]])

    def _op_Pad(self, node, ins, A):
        t = self.t(ins[0])
        if self.opset < 11:
            pads = list(A["pads"].ints) if "pads" in A else None
        else:
            pads = self.values(node, ins[1], "pads") if len(ins) > 1 and ins[1] else None
            if len(ins) > 3 and ins[3]:
                pads = None  # axes given: rare, not mapped
        r = len(t.dims)
        if pads is None or len(pads) != 2 * r or t.layout != "NCHW" or r != 4:
            return self._unknown(node, "Pad", [ins[0]])
        if any(p < 0 for p in pads) or pads[0] or pads[1] or pads[r] or pads[r + 1]:
            return self._unknown(node, "Pad (not only height and width)", [ins[0]])
        sp = (pads[2], pads[3], pads[6], pads[7])  # h begin, w begin, h end, w end
        dims = (t.dims[0], t.dims[1], t.dims[2] + sp[0] + sp[2], t.dims[3] + sp[1] + sp[3])
        return self._add("pad", node, [ins[0]], dims, "NCHW", (dims[2], dims[3], t.dims[1]), pads=sp)

    def _op_Slice(self, node, ins, A):
        t = self.t(ins[0])
        if self.opset < 10:
            starts, ends = list(A["starts"].ints), list(A["ends"].ints)
            axes = list(A["axes"].ints) if "axes" in A else list(range(len(starts)))
            steps = [1] * len(starts)
        else:
            get = [self.values(node, ins[i], "slice") if len(ins) > i and ins[i] else None
                   for i in range(1, 5)]
            starts, ends, axes, steps = get
            if starts is None or ends is None:
                return self._unknown(node, "Slice (bounds unknown)", [ins[0]])
            axes = axes if axes is not None else list(range(len(starts)))
            steps = steps if steps is not None else [1] * len(starts)
        r = len(t.dims)
        dims = list(t.dims)
        bounds = {}
        for s, e, ax, st in zip(starts, ends, axes, steps):
            ax = ax % r
            if st != 1:
                return self._unknown(node, "Slice (with a step)", [ins[0]])
            n = dims[ax]
            lo, hi = _clamp(s, n), _clamp(e, n)
            dims[ax] = max(hi - lo, 0)
            bounds[ax] = (lo, hi)
        chan = {"NCHW": 1, "NHWC": 3, "NC": 1}.get(t.layout)
        changed = [i for i in range(r) if dims[i] != t.dims[i]]
        if not changed:
            self.alias[node.output[0]] = ins[0]
            return None
        if changed == [chan] and dims[chan] > 0:
            # channels [lo, hi) of C: one part of a split into [lo, hi - lo, C - hi] (torch's
            # x.chunk(2, dim=1) exports as two Slices: ShuffleNetV2's x1, x2)
            lo, hi = bounds[chan]
            parts = [p for p in (lo, hi - lo, t.dims[chan] - hi) if p]
            spec = (*t.spec[:2], dims[chan])
            return self._add("split", node, [ins[0]], dims, t.layout, spec, parts=parts,
                             take=2 if lo else 1)
        return self._unknown(node, "Slice", [ins[0]])

    def _op_Split(self, node, ins, A):
        t = self.t(ins[0])
        axis = (A["axis"].i if "axis" in A else 0) % len(t.dims)
        chan = {"NCHW": 1, "NHWC": 3, "NC": 1}.get(t.layout)
        if "split" in A:
            sizes = list(A["split"].ints)
        elif len(ins) > 1 and ins[1]:
            sizes = self.values(node, ins[1], "split")
        else:
            k = len(node.output)
            n = t.dims[axis]
            sizes = [n // k] * k if n % k == 0 else None
        if sizes is None or axis != chan or sum(sizes) != t.dims[axis] or len(sizes) != len(node.output) \
                or len(sizes) < 2 or min(sizes) < 1:
            return self._unknown(node, "Split", [ins[0]])
        for i, (o, c) in enumerate(zip(node.output, sizes)):
            if not o:
                continue
            dims = list(t.dims)
            dims[chan] = c
            # one split layer per output used: part i + 1 of the same parts
            op = Op("split", [ins[0]], o, [(node.name or node.output[0], node.op_type)],
                    {"parts": [int(x) for x in sizes], "take": i + 1}, principal=node.scope)
            self.ops.append(op)
            self.data[o] = Tensor(tuple(dims), t.layout, (*t.spec[:2], c), op)
        return None


_CHANNEL = {"NCHW": 1, "NHWC": 3, "NC": 1}  # the channel axis of each layout


def _scalar(c):
    """The one number a constant holds (any shape of one element), else None."""
    if c is None or c.values is None or len(c.values) != 1:
        return None
    v = c.values[0]
    return v if isinstance(v, (int, float)) and math.isfinite(v) else None


# what the reader maps, for the docs (README's operator table is checked against it):
# derived from the handlers, so a new handler is listed (and must be documented) at once
SUPPORTED_OPS = tuple(dict.fromkeys(
    [n[len("_op_"):] for n in vars(Reader) if n.startswith("_op_")] + list(ACTIVATION_OPS)
    + list(FOLDED_OPS) + list(PATTERN_OPS)))


def _clamp(i, n):
    i = int(i)
    if i < 0:
        i += n
    return min(max(i, 0), n)


def _int_div(a, b):
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _num(v):
    if v is None:
        return "none"
    return f"{v:g}" if isinstance(v, float) else str(v)


def _reshape(dims, target, allowzero=False):
    target = [int(v) for v in target]
    if len(target) > 8:
        return None
    out, minus = [], None
    for i, v in enumerate(target):
        if v == 0 and not allowzero:
            if i >= len(dims):
                return None
            out.append(dims[i])
        elif v == -1:
            if minus is not None:
                return None
            minus = i
            out.append(1)
        elif v < 0:
            return None
        else:
            out.append(v)
    total = math.prod(dims)
    if minus is not None:
        rest = math.prod(out)
        if rest == 0 or total % rest:
            return None
        out[minus] = total // rest
    if math.prod(out) != total:
        return None
    return tuple(out)


def _spec_of(dims, layout, fallback):
    if layout == "NCHW" and len(dims) == 4:
        return (dims[2], dims[3], dims[1])
    if layout == "NHWC" and len(dims) == 4:
        return (dims[1], dims[2], dims[3])
    return fallback


# ---------------------------------------------------------------- entry points

def _model_class(path):
    """onnx's ModelProto class. Only onnx's generated protobuf module is loaded, by its file
    (the package's own __init__ also imports numpy and its helpers: several times slower,
    and nothing of it is needed to read a graph); if onnx is already imported, or its files
    are laid out otherwise, ``from onnx import ModelProto``. Either way the module is the
    one ``import onnx`` uses later (it is registered under its own name)."""
    import importlib.util
    import sys

    hint = f"{path}: reading ONNX files needs the optional onnx package: {EXTRA_HINT}"
    try:
        spec = importlib.util.find_spec("onnx")
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        raise UsageError(hint)
    name = "onnx.onnx_ml_pb2"
    mod = sys.modules.get(name)
    if mod is None and "onnx" not in sys.modules and spec.submodule_search_locations:
        file = Path(list(spec.submodule_search_locations)[0]) / "onnx_ml_pb2.py"
        if file.is_file():
            try:
                s = importlib.util.spec_from_file_location(name, file)
                mod = importlib.util.module_from_spec(s)
                sys.modules[name] = mod
                s.loader.exec_module(mod)
            except Exception:  # a protobuf that does not fit: let onnx's own import say so
                sys.modules.pop(name, None)
                mod = None
    if mod is not None and hasattr(mod, "ModelProto"):
        return mod.ModelProto
    try:
        from onnx import ModelProto
    except ImportError:
        raise UsageError(hint) from None
    return ModelProto


def _load_model(path):
    ModelProto = _model_class(path)  # noqa: N806 - a class
    p = Path(path)
    if p.is_dir():
        raise SpecError("is a directory, not an ONNX file", path=str(path))
    if not p.exists():
        raise SpecError("no such file", path=str(path))
    try:
        st = p.stat()
        if not stat.S_ISREG(st.st_mode):  # a FIFO or a device would block or never end
            raise SpecError("is not a regular file", path=str(path))
        size = st.st_size
        if size > MAX_ONNX_BYTES:
            raise LimitError(f"file is {size} bytes; the limit for ONNX files is {MAX_ONNX_BYTES}",
                             path=str(path))
        with p.open("rb") as fh:
            data = fh.read(MAX_ONNX_BYTES + 1)
    except OSError as e:
        raise SpecError(f"cannot read file: {e.strerror or e}", path=str(path)) from None
    if len(data) > MAX_ONNX_BYTES:
        raise LimitError(f"file is over {MAX_ONNX_BYTES} bytes; the limit for ONNX files is "
                         f"{MAX_ONNX_BYTES}", path=str(path))
    if not data:
        raise SpecError("the file is empty", path=str(path))
    model = ModelProto()
    try:
        model.ParseFromString(data)
    except Exception as e:  # protobuf's DecodeError, or its nesting limit
        why = str(e).splitlines()[0][:80] if str(e).strip() else type(e).__name__
        raise SpecError(f"not a readable ONNX model ({why})", path=str(path)) from None
    if not model.HasField("graph") or not model.graph.node:
        raise SpecError("not an ONNX model: no graph nodes", path=str(path))
    return model


def _model_name(path):
    stem = Path(str(path)).name
    stem = stem[:-5] if stem.lower().endswith(".onnx") else stem
    return clean_name(stem, "model") or "model"


def read_onnx(path, allow_unknown=False, resolution=None, shown=None):
    """An ONNX model as a plain spec dict (what ``mbcost import`` writes as YAML).

    ``path`` is an ``.onnx`` file; its external weights file need not exist (layer sizes
    come from the initializers' dimensions). ``allow_unknown``: operators without an
    mbcost kind become zero-cost ``unknown`` layers instead of an error. ``resolution``:
    the pixels a dynamic height/width stands for at rho = 1 (default 224).

    Returns a dict for ``load_spec``/``analyze``. Raises ``mbcost.SpecError`` (exit 2 in
    the CLI) for a file that is not a readable model, an unsupported structure, unknown
    operators (listed with their counts) or a limit (``LimitError``), and
    ``mbcost.UsageError`` when the optional ``onnx`` package is missing.
    """
    shown = str(shown or path)
    if resolution is not None and (not isinstance(resolution, int) or not 1 <= resolution <= 16384):
        raise UsageError(f"resolution must be an integer in [1, 16384], got {resolution}")
    model = _load_model(path)
    r = Reader(model, shown, allow_unknown, resolution)
    try:
        r.read()
        items = Fuser(r).run()
    except RecursionError:
        raise SpecError("graph nested too deeply", path=shown) from None
    unknown = [it for it in items if it.kind == "unknown"]
    if unknown and not allow_unknown:
        nodes = {}  # label -> the ONNX nodes (a node with two outputs counts once)
        for it in unknown:
            nodes.setdefault(it.fields["op"], set()).add(it.nodes[0][0])
        counts = {k: len(v) for k, v in nodes.items()}
        listed = ", ".join(f"{k} x{v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        raise SpecError(f"{sum(counts.values())} operators mbcost cannot count: {listed}; "
                        "--allow-unknown counts them as zero, shown as rows marked unknown",
                        path=shown)
    tree = Writer(items, r).write()
    flat = [x for x in _walk_items(tree)]
    asm = Assembler(r, flat)
    layers = asm.assemble(tree)
    if not layers:
        raise SpecError("no layer between the input and the output (nothing to count)", path=shown)
    h, w, c = r.input_dims
    producer = _str(model.producer_name) or "unknown producer"
    if model.producer_version:
        producer += f" {_str(model.producer_version)}"
    dyn = (f"dynamic height and width, {h}x{w} at rho = 1" if r.dynamic else f"fixed {h}x{w} input")
    data = {
        "mbcost": 1,
        "name": _model_name(shown),
        "title": f"{_model_name(shown)} (ONNX)",
        "description": f"imported from {Path(shown).name}: {len(model.graph.node)} ONNX nodes, "
                       f"{dyn}, channels fixed",
        "source": f"{Path(shown).name} ({producer}, opset {r.opset})",
        "input": [h, w, c],
    }
    if asm.classes is not None:
        data["classes"] = asm.classes
    data["width"] = {"rule": "fixed"}
    if asm.bn_default or asm.act_default:
        data["defaults"] = {"bn": asm.bn_default, "act": asm.act_default or "none"}
    data["layers"] = layers
    _verify(data, shown, flat, asm.full)
    return data


# (spec data, path) -> its graph at the base resolution: graph.py sets it when it loads
# (this module is imported by spec.py, which graph.py imports, so it imports neither)
GRAPH_OF = None


def _verify(data, path, items, full):
    """Build the spec at the base resolution and check every layer's output shape against
    the graph's: a difference is a bug in this reader (exit 3), never a silent miscount."""
    if GRAPH_OF is None:
        raise RuntimeError("mbcost.graph is not loaded: cannot check the ONNX reader's spec")
    g = GRAPH_OF(data, path)
    shapes = {n.name: tuple(n.out_shape) for n in g.nodes}
    for it in items:
        got = shapes.get(full.get(it.output))
        if got != tuple(it.spec):
            raise RuntimeError(f"{path}: layer '{full.get(it.output)}' is {got} in the spec but "
                               f"{tuple(it.spec)} in the ONNX graph")


def import_yaml(path, allow_unknown=False, resolution=None):
    """The YAML spec ``mbcost import`` writes for an ONNX model (see ``read_onnx``)."""
    data = read_onnx(path, allow_unknown, resolution)
    header = [f"Imported by 'mbcost import' from {data['source']}.",
              "Channels are the graph's (width rule 'fixed': alpha stays 1); the input's "
              "height and width",
              "are the resolution (--res, --rho). Edit freely: it is a spec like any other."]
    return to_yaml(data, header)
