"""ONNX ops -> spec layers: the second half of reading an ONNX model (``onnx_reader``
reads the file into ops with shapes; this module writes them as a spec).

- ``Fuser``: ops -> items, one per spec layer: conv + BatchNorm + activation, FC + bias +
  activation, squeeze-and-excite, swish, channel shuffle, pads folded into the next window.
- ``Writer``: items -> a tree of sequences and ``parallel`` regions where the graph is
  series-parallel (found with dominators), else a sequence with named references.
- ``Assembler``: the tree -> layer dicts with unique names and resolved references.
- ``to_yaml``: a spec dict as readable YAML, one flow mapping per layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

MAX_BRANCH_NESTING = 16  # parallel regions inside parallel regions; deeper: references
DOMINATOR_BUDGET = 5_000_000  # steps spent finding fork points before writing refs instead
MAX_NAME = 100  # characters of a layer name taken from the graph


class _Fail(Exception):
    """Structured writing gave up; fall back to named references."""


# ---------------------------------------------------------------- fusion into spec items

@dataclass
class Item:
    """One spec layer: kind, its fields, data inputs, output tensor, the ONNX nodes it covers."""

    kind: str
    fields: dict
    inputs: list
    output: str
    nodes: list
    spec: tuple  # output (H, W, C)
    name: str = ""
    tail: str = ""  # the builder's last node name suffix after the layer's name (".bn", ".relu6")
    index: int = 0
    principal: str = ""
    principal_op: str = ""


ACT_OK = ("relu", "relu6", "hswish", "hsigmoid", "swish", "sigmoid", "tanh", "softmax", "gelu")
SQRT2 = 2 ** 0.5


class Fuser:
    """Ops -> Items: conv + BN + activation, FC + bias + activation, squeeze-and-excite,
    swish (x * sigmoid(x)), channel shuffle, pads folded into the next window."""

    def __init__(self, reader):
        self.r = reader
        self.ops = [op for op in reader.ops]
        self.by_out = {op.output: op for op in self.ops}
        self.users = {}
        for op in self.ops:
            for x in op.inputs:
                self.users.setdefault(x, []).append(op)
        for o in reader.outputs:
            self.users.setdefault(o, []).append(None)  # a graph output is used
        self.items = []
        self.alias = {}

    def real(self, name):
        while name in self.alias:
            name = self.alias[name]
        return name

    def sole(self, op):
        """The one op using op's output, or None."""
        u = self.users.get(op.output, [])
        return u[0] if len(u) == 1 else None

    def spec_of(self, name):
        return self.r.data[name].spec

    def run(self):
        self._aliases()
        self._gelu()
        self._layernorm()
        self._swish()
        self._pads()
        self._se()
        for op in self.ops:
            if op.dead:
                continue
            self._item(op)
        return self.items

    def _kill(self, *ops):
        for op in ops:
            op.dead = True

    def _aliases(self):
        for op in self.ops:
            if op.kind == "alias":
                self.alias[op.output] = op.inputs[0]
                op.dead = True
        if self.alias:
            for op in self.ops:
                op.inputs = [self.real(x) for x in op.inputs]
            self.r.outputs = [self.real(o) for o in self.r.outputs]
            self.users = {}
            for op in self.ops:
                if not op.dead:
                    for x in op.inputs:
                        self.users.setdefault(x, []).append(op)
            for o in self.r.outputs:
                self.users.setdefault(o, []).append(None)

    def _replace_users(self, old, new):
        for op in self.users.get(old, []):
            if op is not None:
                op.inputs = [new if x == old else x for x in op.inputs]
        moved = self.users.pop(old, [])
        self.users.setdefault(new, []).extend(moved)
        self.r.outputs = [new if o == old else o for o in self.r.outputs]

    def _const_op(self, t, kind, value):
        """The op making t when it is kind (mulconst, addconst) by about value and only
        its one user takes t, else None."""
        op = self.by_out.get(t)
        if op is None or op.dead or op.kind != kind or op.a.get("value") is None:
            return None
        return op if abs(op.a["value"] - value) <= 1e-3 * abs(value) else None

    def _erf_chain(self, t, x, user):
        """[d, e, a] when t = 1 + erf(x / sqrt 2) (x * (1 / sqrt 2) too), each step used
        only by the next and t only by user, else None."""
        a = self._const_op(t, "addconst", 1.0)
        if a is None or self.sole(a) is not user:
            return None
        e = self.by_out.get(a.inputs[0]) if a is not None else None
        if e is None or e.dead or e.kind != "erf" or self.sole(e) is not a:
            return None
        d = self._const_op(e.inputs[0], "mulconst", 1 / SQRT2)
        if d is None or self.sole(d) is not e or d.inputs[0] != x:
            return None
        return [d, e, a]

    def _gelu(self):
        """x * 0.5 * (1 + erf(x / sqrt 2)), as exporters write nn.GELU before opset 20
        (in any of its three groupings), -> gelu(x)."""
        for op in self.ops:
            if op.dead or op.kind not in ("mul", "mulconst"):
                continue
            found = None
            if op.kind == "mulconst" and abs(op.a["value"] - 0.5) <= 5e-4:
                m = self.by_out.get(op.inputs[0])  # (x * (1 + erf)) * 0.5: torch's
                if m is not None and not m.dead and m.kind == "mul" and self.sole(m) is op:
                    for u, x in (m.inputs, m.inputs[::-1]):
                        chain = self._erf_chain(u, x, m)
                        if chain:
                            found = (x, chain + [m])
                            break
            elif op.kind == "mul" and len(op.inputs) == 2:
                for u, v in (op.inputs, op.inputs[::-1]):
                    h = self._const_op(v, "mulconst", 0.5)  # (x * 0.5) * (1 + erf)
                    if h is not None and self.sole(h) is op:
                        chain = self._erf_chain(u, h.inputs[0], op)
                        if chain:
                            found = (h.inputs[0], [h] + chain)
                            break
                    h = self._const_op(u, "mulconst", 0.5)  # x * ((1 + erf) * 0.5)
                    if h is not None and self.sole(h) is op:
                        chain = self._erf_chain(h.inputs[0], v, h)
                        if chain:
                            found = (v, chain + [h])
                            break
            if found is None:
                continue
            x, parts = found
            nodes = [n for o in parts for n in o.nodes] + op.nodes
            self._kill(*parts)
            op.kind, op.inputs, op.a, op.nodes = "act", [x], {"fn": "gelu"}, nodes
            gone = {id(o) for o in parts} | {id(op)}
            self.users[x] = [u for u in self.users.get(x, []) if id(u) not in gone] + [op]

    def _layernorm(self):
        """(x - mean(x)) / sqrt(var(x) + eps) * gamma + beta over the channels, as exporters
        wrote nn.LayerNorm before opset 17 -> one layernorm: ReduceMean, Sub, Pow,
        ReduceMean, Add, Sqrt, Div, Mul, Add."""
        def one(t, label, user):
            o = self.by_out.get(t)
            ok = o is not None and not o.dead and (o.kind == label or o.node[1] == label)
            return o if ok and (user is None or self.sole(o) is user) else None

        for op in self.ops:  # op: + beta
            if op.dead or op.kind != "addconst":
                continue
            c = self.spec_of(op.output)[2]
            mul = self.by_out.get(op.inputs[0])
            if mul is None or mul.dead or mul.kind != "lscale" or self.sole(mul) is not op:
                continue
            div = one(mul.inputs[0], "Div", mul)
            if div is None or len(div.inputs) != 2 or op.a.get("size") != c:
                continue
            sub, sq = one(div.inputs[0], "Sub", None), one(div.inputs[1], "Sqrt", div)
            eps = one(sq.inputs[0], "addconst", sq) if sq else None
            var = one(eps.inputs[0], "ReduceMean", eps) if eps else None
            pw = one(var.inputs[0], "Pow", var) if var else None
            if sub is None or pw is None or len(sub.inputs) != 2 or pw.inputs[0] != sub.output \
                    or pw.a.get("exponent") != 2:
                continue
            mean = one(sub.inputs[1], "ReduceMean", sub)
            x = sub.inputs[0]
            if mean is None or mean.inputs[0] != x or not (mean.a.get("over_channels")
                                                         and var.a.get("over_channels")):
                continue
            if sorted(id(u) for u in self.users.get(sub.output, [])) != sorted((id(div), id(pw))):
                continue
            parts = [mean, sub, pw, var, eps, sq, div, mul]
            nodes = [n for o in parts for n in o.nodes] + op.nodes
            self._kill(*parts)
            op.kind, op.inputs, op.a, op.nodes = "ln", [x], {}, nodes
            gone = {id(o) for o in parts}
            self.users[x] = [u for u in self.users.get(x, []) if id(u) not in gone] + [op]

    def _swish(self):
        """x * sigmoid(x) -> swish(x); x * hardsigmoid(x) -> hswish(x)."""
        for op in self.ops:
            if op.dead or op.kind != "mul" or len(set(op.inputs)) != 2:
                continue
            for gate_t, x in (op.inputs, op.inputs[::-1]):
                g = self.by_out.get(gate_t)
                if g is None or g.dead or g.kind != "act" or g.a["fn"] not in ("sigmoid", "hsigmoid"):
                    continue
                if g.inputs[0] != x or self.sole(g) is not op:
                    continue
                fn = "swish" if g.a["fn"] == "sigmoid" else "hswish"
                op.kind, op.inputs, op.a = "act", [x], {"fn": fn}
                op.nodes = g.nodes + op.nodes
                g.dead = True
                self.users[x] = [u for u in self.users.get(x, []) if u is not g]
                break

    def _pads(self):
        for op in self.ops:
            if op.dead or op.kind != "pad":
                continue
            users = self.users.get(op.output, [])
            if not users or any(u is None or u.kind not in ("conv", "pool") or u.inputs[0] != op.output
                                or u.a.get("auto") not in ("NOTSET", "VALID") for u in users):
                op.kind, op.a = "unknown", {"label": "Pad"}
                continue
            pb_h, pb_w, pe_h, pe_w = op.a["pads"]
            for u in users:
                if u.a["auto"] == "VALID":
                    u.a["auto"] = "NOTSET"
                    u.a["pads"] = (0, 0, 0, 0)
                p = u.a["pads"]
                u.a["pads"] = (p[0] + pb_h, p[1] + pb_w, p[2] + pe_h, p[3] + pe_w)
                u.nodes = op.nodes + u.nodes
            op.dead = True
            self._replace_users(op.output, op.inputs[0])

    def _se(self):
        """x * gate(expand(act(reduce(pool(x))))) -> one se item on x."""
        for op in self.ops:
            if op.dead or op.kind != "mul" or len(op.inputs) != 2:
                continue
            for gate_t, x in (op.inputs, op.inputs[::-1]):
                chain = self._se_chain(gate_t, x)
                if chain is not None:
                    self._make_se(op, x, chain)
                    break

    def _se_chain(self, t, x):
        seq = []
        want = ["gate", "expand", "act?", "reduce", "pool"]
        cur = t
        for step in want:
            op = self.by_out.get(cur)
            while op is not None and not op.dead and op.kind == "flatten":  # before an FC
                if self.sole(op) is None:
                    return None
                seq.append(("skip", op))
                cur = op.inputs[0]
                op = self.by_out.get(cur)
            if op is None or op.dead:
                return None
            if step == "gate":
                if op.kind != "act" or op.a["fn"] not in ("sigmoid", "hsigmoid"):
                    return None
            elif step in ("expand", "reduce"):
                if not (op.kind == "conv" and op.a["k"] == (1, 1) and op.a["groups"] == 1
                        and op.a["bias"] and op.a["stride"] == (1, 1) and op.a["pads"] == (0, 0, 0, 0)
                        or op.kind == "fc" and op.a["bias"]):
                    return None
            elif step == "act?":
                if op.kind != "act":
                    seq.append(("act", None))
                    continue
            elif step == "pool":
                if op.kind != "gap" or op.inputs[0] != x:
                    return None
            if self.sole(op) is None:  # each step's output feeds only the next one
                return None
            seq.append((step.rstrip("?"), op))
            cur = op.inputs[0]
        ops = {k: o for k, o in seq if k not in ("skip",)}
        c = self.spec_of(x)[2]
        if ops["expand"].a.get("c_out", ops["expand"].a.get("out")) != c:
            return None
        return seq

    def _make_se(self, mul, x, seq):
        ops = {k: o for k, o in seq if k != "skip"}
        c = self.spec_of(x)[2]
        red = ops["reduce"]
        s = red.a.get("c_out", red.a.get("out"))
        act = ops["act"].a["fn"] if ops.get("act") is not None else None
        gate = ops["gate"].a["fn"]
        nodes = []
        for _, o in reversed(seq):
            if o is not None:
                nodes += o.nodes
                o.dead = True
        mul.kind = "se"
        mul.principal, mul.principal_op = mul.nodes[-1]
        mul.inputs = [x]
        mul.nodes = nodes + mul.nodes
        mul.a = {"c": c, "squeeze": s, "act": act, "gate": gate}
        pool = ops["pool"]
        self.users[x] = [u for u in self.users.get(x, []) if u is not pool and u is not mul] + [mul]

    # -- items

    def _emit(self, kind, fields, op, inputs=None, output=None, nodes=None, tail=""):
        it = Item(kind, fields, list(inputs if inputs is not None else op.inputs),
                  output or op.output, nodes or op.nodes,
                  self.spec_of(output or op.output), tail=tail, principal=op.principal,
                  principal_op=op.principal_op)
        it.index = len(self.items)
        self.items.append(it)
        return it

    def _tail(self, op):
        """BN then activation after op when each is the only user of what precedes it."""
        bn = act = None
        nxt = self.sole(op)
        if nxt is not None and not nxt.dead and nxt.kind == "bn":
            bn = nxt
            nxt = self.sole(bn)
        if nxt is not None and not nxt.dead and nxt.kind == "act" and nxt.a["fn"] in ACT_OK:
            act = nxt
        return bn, act

    def _item(self, op):
        k = op.kind
        if k == "conv":
            return self._conv(op)
        if k == "fc":
            return self._fc(op)
        if k in ("bn",):
            return self._emit("bn", {}, op)
        if k == "act":
            return self._emit(op.a["fn"], {}, op)
        if k == "gap":
            return self._emit("pool", {"type": "global"}, op)
        if k == "gmp":  # torch's nn.AdaptiveMaxPool2d(1)
            return self._emit("pool", {"type": "max", "out_size": 1}, op)
        if k == "ln":
            return self._emit("layernorm", {}, op)
        if k == "lscale":
            return self._emit("layer_scale", {}, op)
        if k == "erf":
            return self._unknown(op, "Erf")
        if k == "mulconst":
            return self._unknown(op, op.a["label"])
        if k == "pool":
            return self._pool(op)
        if k == "dropout":
            f = {"p": _short(op.a["p"])} if op.a.get("p") is not None else {}
            return self._emit("dropout", f, op)
        if k == "flatten":
            users = self.users.get(op.output, [])
            if users and all(u is not None and u.kind == "fc" for u in users):
                op.dead = True
                self._replace_users(op.output, op.inputs[0])
                for u in users:
                    u.nodes = op.nodes + u.nodes
                return None
            return self._emit("flatten", {}, op)
        if k == "add":
            return self._emit("add", {}, op)
        if k == "concat":
            return self._emit("concat", {}, op)
        if k == "se":
            ratio = Fraction(op.a["squeeze"], op.a["c"])
            f = {"ratio": _short(ratio), "round": "truncate", "act": op.a["act"] or "none",
                 "gate": op.a["gate"]}
            return self._emit("se", f, op, tail=".scale")
        if k == "shuffle1":
            return self._shuffle(op)
        if k == "split":
            parts = op.a["parts"]
            equal = len(set(parts)) == 1
            f = {} if equal and len(parts) == 2 else {"parts": len(parts) if equal else parts}
            return self._emit("split", {**f, "take": op.a["take"]}, op)
        if k == "mul":
            return self._unknown(op, "Mul")
        if k == "addconst":
            return self._unknown(op, op.a.get("label", "Add"))
        if k in ("shuffle2", "shuffle3"):
            return self._unknown(op, "Transpose" if k == "shuffle2" else "Reshape")
        if k == "pad":
            return self._unknown(op, "Pad")
        if k == "unknown":
            return self._unknown(op, op.a.get("label", op.node[1]))
        raise AssertionError(f"unhandled op kind {k}")

    def _unknown(self, op, label):
        f = {"op": label}
        t_out = self.spec_of(op.output)
        # the input of the output's size first (a broadcast multiply's big side): the layer
        # then follows the resolution instead of fixing a size
        op.inputs.sort(key=lambda x: self.spec_of(x)[:2] != t_out[:2])
        xs = op.inputs
        t_in = self.spec_of(xs[0])
        t_out = self.spec_of(op.output)
        if t_out[2] != t_in[2]:
            f["out"] = t_out[2]
        if t_out[:2] != t_in[:2]:
            f["size"] = list(t_out[:2])
        return self._emit("unknown", f, op)

    def _shuffle(self, op):
        t = self.sole(op)
        r = self.sole(t) if t is not None and t.kind == "shuffle2" else None
        if t is None or t.kind != "shuffle2" or r is None or r.kind != "shuffle3":
            return self._unknown(op, "Reshape")
        t.dead = r.dead = True
        # Reshape to (N, g, C/g, H, W), swap g and C/g, Reshape back: ShuffleNet's channel
        # shuffle in g groups (torchvision's channel_shuffle(x, groups))
        it = self._emit("channel_shuffle", {"groups": op.a["groups"]}, op,
                        output=r.output, nodes=op.nodes + t.nodes + r.nodes)
        it.principal_op = "channel_shuffle"
        return it

    def _axis_pads(self, op, ks, pool=False):
        """The spec padding per axis for a window with spans ks (dilation included):
        one value when both axes agree, else [p_h, p_w] of integers; None when no spec
        padding gives the graph's output size at every input size."""
        a, r = op.a, self.r
        x = r.data[op.inputs[0]]
        p = a["pads"]
        got = [r._padding(ks[i], a["stride"][i], 1, p[i], p[i + 2], a["auto"], x.dims[2 + i],
                          pool=pool) for i in (0, 1)]
        if None in got:
            return None
        if got[0] == got[1]:
            return got[0]
        # two axes, two forms: integers stating each ('same' is the integer (k - 1) / 2
        # for an odd span: floor((H - 1) / s) + 1 = ceil(H / s))
        out = []
        for v, k in zip(got, ks):
            if v == "same":
                if k % 2 == 0:
                    return None
                v = (k - 1) // 2
            out.append(0 if v == "valid" else v)
        return out

    def _conv(self, op):
        a = op.a
        (kh, kw), (sh, sw), (dh, dw_) = a["k"], a["stride"], a["dil"]
        p = a["pads"]
        spans = (dh * (kh - 1) + 1, dw_ * (kw - 1) + 1)
        pad = self._axis_pads(op, spans)
        if pad is None:
            why = "asymmetric padding" if p[0] != p[2] or p[1] != p[3] else "padding"
            return self._unknown(op, f"Conv ({why}: pads {list(p)})")
        k = _pair(kh, kw)
        g = a["groups"]
        c_in, c_out = a["c_in"], a["c_out"]
        if g == c_in and g > 1:
            kind = "dw"
            f = {"k": k} if k != 3 else {}
            if c_out != c_in:
                f["multiplier"] = c_out // c_in
        elif (kh, kw) == (1, 1) and sh == sw and pad in ("same", 0):
            kind = "pw"
            f = {"out": c_out}
            if g != 1:
                f["groups"] = g
        else:
            kind = "conv"
            f = {"k": k, "out": c_out}
            if g != 1:
                f["groups"] = g
        if (sh, sw) != (1, 1):
            f["stride"] = _pair(sh, sw)
        if kind != "pw" and pad != "same":
            f["padding"] = pad if pad != 0 else "valid"
        if kind != "pw" and (dh, dw_) != (1, 1):
            f["dilation"] = _pair(dh, dw_)
        last = op
        nxt = self.sole(op)
        if a.get("matmul") and nxt is not None and not nxt.dead and nxt.kind == "addconst" \
                and nxt.a.get("size") == c_out:
            last = nxt  # nn.Linear's bias, added after the MatMul
            nxt.dead = True
        if a["bias"] or last is not op:
            f["bias"] = True
        return self._with_tail(kind, f, op, last)

    def _with_tail(self, kind, f, op, last=None):
        """The layer with the BatchNorm and activation after it (after last: op's bias)."""
        last = last or op
        bn, act = self._tail(last)
        nodes, out, tail = list(op.nodes) + (last.nodes if last is not op else []), last.output, ""
        f["bn"] = bn is not None
        if bn is not None:
            bn.dead = True
            nodes += bn.nodes
            out, tail = bn.output, ".bn"
        f["act"] = None
        if act is not None:
            act.dead = True
            nodes += act.nodes
            out, tail = act.output, "." + act.a["fn"]
            f["act"] = act.a["fn"]
        return self._emit(kind, f, op, output=out, nodes=nodes, tail=tail)

    def _fc(self, op):
        f = {"out": op.a["out"]}
        bias = op.a["bias"]
        nodes, out = list(op.nodes), op.output
        nxt = self.sole(op)
        if not bias and nxt is not None and nxt.kind == "addconst" and nxt.a.get("size") == op.a["out"]:
            bias = True
            nxt.dead = True
            nodes += nxt.nodes
            out = nxt.output
            op2 = nxt
        else:
            op2 = op
        if not bias:
            f["bias"] = False
        act = self.sole(op2)
        tail = ""
        if act is not None and act.kind == "act" and act.a["fn"] in ACT_OK and not act.dead:
            act.dead = True
            nodes += act.nodes
            out, tail = act.output, "." + act.a["fn"]
            f["act"] = act.a["fn"]
        return self._emit("fc", f, op, output=out, nodes=nodes, tail=tail)

    def _pool(self, op):
        a = op.a
        (kh, kw), (sh, sw), (dh, dw_) = a["k"], a["stride"], a["dil"]
        p = a["pads"]
        if (dh, dw_) != (1, 1):
            return self._unknown(op, f"{op.node[1]} (dilation)")
        f = {"type": a["type"], "k": _pair(kh, kw)}
        if (sh, sw) != (kh, kw):
            f["stride"] = _pair(sh, sw)
        if a.get("ceil_differs"):
            # torch's ceil_mode (the graph's too): ceil((H + 2p - k) / s) + 1, less the
            # window that would start in the right padding; p must be the same on both sides
            if p[0] != p[2] or p[1] != p[3]:
                return self._unknown(op, f"{op.node[1]} (ceil_mode, asymmetric padding: pads {list(p)})")
            if 2 * p[0] > kh or 2 * p[1] > kw:  # torch's bound, which the spec's pools keep
                return self._unknown(op, f"{op.node[1]} (ceil_mode, padding over half the "
                                         f"kernel: pads {list(p)})")
            if (p[0], p[1]) != (0, 0):
                f["padding"] = _pair(p[0], p[1])
            f["ceil_mode"] = True
            return self._emit("pool", f, op)
        pad = self._axis_pads(op, (kh, kw), pool=True)
        if pad is None:
            return self._unknown(op, f"{op.node[1]} (asymmetric padding: pads {list(p)})")
        if pad not in ("valid", 0):
            f["padding"] = pad
        return self._emit("pool", f, op)


def _pair(h, w):
    """A kernel, stride or dilation as a spec writes it: one integer when both axes agree."""
    return h if h == w else [h, w]


def _short(v):
    """A number for a spec field: an int, a short decimal, or an exact fraction as text."""
    if isinstance(v, float):
        return float(f"{v:.6g}")
    v = Fraction(v)
    if v.denominator == 1:
        return int(v)
    d = v.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d == 1:
        return float(v)
    return f"{v.numerator}/{v.denominator}"


# ---------------------------------------------------------------- names

_ODD = re.compile(r"[^A-Za-z0-9_.\-]+")


def clean_name(raw, fallback):
    """A layer name from an ONNX node name: torch's scope path
    '/features/features.1/features.1.0/block/block.0/block.0.0/Conv' becomes
    'features.1.0.block.0.0' (the module's name in the model); other names keep their
    scopes joined by dots, without slashes and odd characters."""
    parts = [p for p in str(raw).split("/") if p]
    path = []
    for p in parts[:-1]:  # torch repeats the parent's path: 'features', 'features.1', ...
        if path and p.startswith(path[-1] + "."):
            path[-1] = p
        else:
            path.append(p)
    name = ".".join(path) if path else (parts[0] if parts else fallback)
    name = _ODD.sub("_", name).strip("_.").lstrip("-") or fallback  # no leading '-': a
    # name does not start like a spreadsheet formula (spec.name_problem)
    if len(name) > MAX_NAME:
        name = name[:MAX_NAME // 2 - 1] + ".." + name[-(MAX_NAME // 2 - 1):]
    return name


RESERVED = {"input", "total", "block_input"}


class Namer:
    """Unique full layer names, reserving the node names the builder derives from each."""

    def __init__(self):
        self.used = set(RESERVED)

    def free(self, full, suffixes):
        return full not in self.used and not any(full + s in self.used for s in suffixes)

    def take(self, prefix, candidates, suffixes):
        """The first candidate whose full name (prefix + candidate) is free, else the last
        with _2, _3, ...; returns the local name."""
        for c in candidates:
            if self.free(prefix + c, suffixes):
                break
        else:
            base, n = candidates[-1], 2
            while not self.free(f"{prefix}{base}_{n}", suffixes):
                n += 1
            c = f"{base}_{n}"
        self.used.add(prefix + c)
        self.used.update(prefix + c + s for s in suffixes)
        return c


def _suffixes(it):
    if it.kind in ("conv", "dw", "pw", "fc"):
        out = []
        if it.fields.get("bn"):
            out.append(".bn")
        if it.fields.get("act"):
            out.append("." + it.fields["act"])
        return out
    if it.kind == "se":
        return [".pool", ".reduce", ".expand", ".scale", "." + it.fields["gate"]] + \
            (["." + it.fields["act"]] if it.fields["act"] != "none" else [])
    return []


# ---------------------------------------------------------------- structure

@dataclass
class Par:
    """A parallel region: a merge item and its branches (lists of Items/Pars)."""

    merge: Item
    branches: list


class Writer:
    """Items -> spec layers: parallel regions where the graph is series-parallel, named
    references (add/concat from, and a one-name concat to continue elsewhere) otherwise."""

    def __init__(self, items, reader):
        self.items, self.r = items, reader
        self.prod = {it.output: it for it in items}
        self.users = {}
        for it in items:
            for x in it.inputs:
                self.users.setdefault(x, []).append(it)
        self.steps = 0

    def write(self):
        live = self._live()
        self.items = [it for it in self.items if id(it) in live]
        for k, it in enumerate(self.items):
            it.index = k
        self.prod = {it.output: it for it in self.items}
        self.users = {}
        for it in self.items:
            for x in it.inputs:
                self.users.setdefault(x, []).append(it)
        self.pos = {self.r.input_name: -1, **{it.output: it.index for it in self.items}}
        tree = None
        if len(set(self.r.outputs)) == 1:
            try:
                self._dominators()
                tree = self._seq(self.r.input_name, self.r.outputs[0], 0)
                if self._count(tree) != len(self.items):
                    tree = None
            except _Fail:
                tree = None
        return tree if tree is not None else self._flat()

    def _live(self):
        """Items some graph output depends on (others are dead code)."""
        keep, todo = set(), list(self.r.outputs)
        while todo:
            t = todo.pop()
            it = self.prod.get(t)
            if it is None or id(it) in keep:
                continue
            keep.add(id(it))
            todo.extend(it.inputs)
        return keep

    def _dominators(self):
        """Immediate dominator of every tensor (Cooper, Harvey, Kennedy) on the DAG."""
        self.idom = {self.r.input_name: self.r.input_name}
        for it in self.items:
            ins = [x for x in it.inputs if x in self.idom]
            if not ins:
                raise _Fail
            d = ins[0]
            for x in ins[1:]:
                d = self._nca(d, x)
            self.idom[it.output] = d if len(set(it.inputs)) > 1 else it.inputs[0]

    def _nca(self, a, b):
        while a != b:
            self.steps += 1
            if self.steps > DOMINATOR_BUDGET:
                raise _Fail
            if self.pos[a] > self.pos[b]:
                a = self.idom[a]
            else:
                b = self.idom[b]
        return a

    def _seq(self, s, e, depth):
        out = []
        t = e
        while t != s:
            it = self.prod.get(t)
            if it is None or self.pos[t] < self.pos[s]:
                raise _Fail
            if len(it.inputs) == 1:
                out.append(it)
                t = it.inputs[0]
                continue
            if it.kind not in ("add", "concat"):
                raise _Fail
            if depth >= MAX_BRANCH_NESTING:
                raise _Fail  # too deep for parallel blocks: named references instead
            f = self.idom[t]
            branches = [self._seq(f, u, depth + 1) for u in it.inputs]
            self._closed(it, branches)
            out.append(Par(it, branches))
            t = f
        out.reverse()
        return out

    def _closed(self, merge, branches):
        for br in branches:
            mine = set()
            for x in self._flatten(br):
                mine.add(id(x))
            for x in self._flatten(br):
                for u in self.users.get(x.output, []):
                    if id(u) not in mine and u is not merge:
                        raise _Fail
                if x.output in self.r.outputs:
                    raise _Fail

    def _flatten(self, seq):
        for x in seq:
            if isinstance(x, Par):
                yield x.merge
                for br in x.branches:
                    yield from self._flatten(br)
            else:
                yield x

    def _count(self, seq):
        return sum(1 for _ in self._flatten(seq))

    def _flat(self):
        """Every item in order; a one-name concat moves on to an input that is not the
        current tensor, merges name their inputs."""
        out = []
        cur = self.r.input_name
        for it in self.items:
            # a layer works on the current tensor (its first input); an add on any of its
            # inputs; a concat names them all
            if it.kind != "concat" and it.inputs[0] != cur and not (it.kind == "add" and cur in it.inputs):
                out.append(("jump", it))
            out.append(it)
            cur = it.output
        return out


# ---------------------------------------------------------------- the spec dict

def _defaults(items):
    """The most common (bn, act) of conv-like layers: written once under defaults."""
    counts = {}
    for it in items:
        if it.kind in ("conv", "dw", "pw"):
            key = (bool(it.fields.get("bn")), it.fields.get("act"))
            counts[key] = counts.get(key, 0) + 1
    if not counts:
        return False, None
    return max(counts, key=lambda k: (counts[k], k[0], str(k[1])))


class Assembler:
    """Tree of Items/Pars -> layer dicts with unique names and resolved references."""

    def __init__(self, reader, items):
        self.r = reader
        self.namer = Namer()
        self.full = {reader.input_name: "input"}  # tensor -> full name of its last node
        self.bn_default, self.act_default = _defaults(items)
        self.classes = None
        last_fc = [it for it in items if it.kind == "fc"]
        self.last_fc = last_fc[-1] if last_fc else None
        for it in items:
            it.name = clean_name(it.principal, it.kind)

    def local(self, it, prefix, strip):
        """The layer's name inside prefix: without the enclosing parallel's name where it
        starts with it (layer2.0/b1/conv1, not layer2.0/b1/layer2.0.conv1)."""
        op = _ODD.sub("_", it.principal_op.lower()) or it.kind
        cands = [it.name, f"{it.name}.{op}"]
        if strip and it.name.startswith(strip + ".") and len(it.name) > len(strip) + 1:
            cands.insert(0, it.name[len(strip) + 1:])
        elif strip and it.name == strip:
            cands.insert(0, op)
        return self.namer.take(prefix, cands, _suffixes(it))

    def ref(self, tensor):
        return self.full[tensor]

    def item(self, it, prefix, strip):
        name = self.local(it, prefix, strip)
        f = {"name": name}
        kind = it.kind
        fields = dict(it.fields)
        if kind in ("conv", "dw", "pw"):
            bn, act = fields.pop("bn"), fields.pop("act")
            f.update(fields)
            if bn != self.bn_default:
                f["bn"] = bn
            if act != self.act_default:
                f["act"] = act or "none"
        elif kind == "fc":
            f.update(fields)
            if it is self.last_fc and not prefix:
                self.classes = fields["out"]
                f["out"] = "classes"
        elif kind in ("add", "concat"):
            refs = [self.ref(x) for x in it.inputs]
            if kind == "add":
                cur = self.cur
                if cur in it.inputs:
                    others = [self.ref(x) for x in it.inputs if x != cur] or [self.ref(cur)]
                    f["from"] = others if len(others) > 1 else others[0]
                else:
                    f["from"] = refs
            else:
                f["from"] = refs
        elif kind == "unknown":
            f.update(fields)
            others = [self.ref(x) for x in it.inputs[1:]]
            if others:
                f["from"] = others
        else:
            f.update(fields)
        self.full[it.output] = prefix + name + it.tail
        return {kind: f}

    def assemble(self, tree):
        self.cur = None
        return self._walk(tree, "", "")

    def _walk(self, tree, prefix, strip):
        out = []
        for x in tree:
            if isinstance(x, tuple):
                it = x[1]
                name = self.namer.take(prefix, [f"{clean_name(it.principal, it.kind)}.from"], [])
                out.append({"concat": {"name": name, "from": [self.ref(it.inputs[0])]}})
                self.cur = it.inputs[0]
                continue
            if isinstance(x, Par):
                res = self._par(x, prefix, strip)
                out.extend(res if isinstance(res, list) else [res])
                self.cur = x.merge.output
                continue
            out.append(self.item(x, prefix, strip))
            self.cur = x.output
        return out

    def _par(self, p, prefix, strip):
        m = p.merge
        name = self.local(m, prefix, strip)
        empty = [i for i, br in enumerate(p.branches) if not br]
        if m.kind == "add" and len(p.branches) == 2 and len(empty) == 1:
            body = p.branches[1 - empty[0]]
            out = self._walk(body, prefix, strip)
            fork = m.inputs[empty[0]]
            out.append({"add": {"name": name, "from": self.ref(fork)}})
            self.full[m.output] = prefix + name
            return out
        branches = []
        for i, br in enumerate(p.branches):
            saved = self.cur
            branches.append(self._walk(br, f"{prefix}{name}/b{i + 1}/", m.name))
            self.cur = saved
        self.full[m.output] = prefix + name
        return {"parallel": {"name": name, "merge": m.kind, "branches": branches}}


def _walk_items(tree):
    for x in tree:
        if isinstance(x, tuple):
            continue
        if isinstance(x, Par):
            for br in x.branches:
                yield from _walk_items(br)
            yield x.merge
        else:
            yield x


# ---------------------------------------------------------------- YAML

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _scalar(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    s = str(v)
    if _PLAIN.fullmatch(s) and s.lower() not in _YAML_WORDS:
        return s
    import json

    return json.dumps(s)


def _flow(v):
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_scalar(k)}: {_flow(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_flow(x) for x in v) + "]"
    return _scalar(v)


def _layer_lines(layers, indent):
    pad = " " * indent
    out = []
    for layer in layers:
        (kind, f), = layer.items()
        if kind == "parallel":
            out.append(f"{pad}- parallel:")
            out.append(f"{pad}    name: {_scalar(f['name'])}")
            out.append(f"{pad}    merge: {f['merge']}")
            out.append(f"{pad}    branches:")
            for br in f["branches"]:
                if not br:
                    out.append(f"{pad}      - []  # the identity")
                    continue
                sub = _layer_lines(br, indent + 8)
                sub[0] = f"{pad}      - " + sub[0].lstrip()
                out.extend(sub)
        else:
            out.append(f"{pad}- {kind}: {_flow(f)}")
    return out


def to_yaml(data, header=()):
    """A spec dict as readable YAML: top-level fields, then one flow mapping per layer."""
    lines = [f"# {h}" for h in header]
    for k, v in data.items():
        if k == "layers":
            continue
        lines.append(f"{k}: {_flow(v)}")
    lines.append("layers:")
    lines.extend(_layer_lines(data["layers"], 2))
    return "\n".join(lines) + "\n"
