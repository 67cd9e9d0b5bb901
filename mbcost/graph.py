"""Spec -> layer graph: expand blocks, repeats and composite layers into primitive
nodes, and propagate shapes through them.

The builder reads each layer kind's entry in the registry (layers.LAYER_KINDS) and
runs its expander; shapes are computed in a *domain* (domains.py: exact integers at
one alpha and resolution, or closed forms in alpha and rho), so structure never
differs between the evaluators.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections import ChainMap
from dataclasses import dataclass, field
from fractions import Fraction

from . import expr, onnx_reader
from .domains import ChannelTape, ExactDomain, _Traced, symbolic_sizes
from .errors import LimitError, SpecError, UsageError
from .layers import (ACTIVATIONS, COMMON, CONV_KINDS, LAYER_KINDS, PRIMITIVES, REQUIRED,  # noqa: F401
                     Fits, effective_kernel)
from .limits import (MAX_CHANNELS, MAX_KERNEL, MAX_LAYERS, MAX_NESTING,  # noqa: F401
                     MAX_RESOLUTION, MAX_WORK, RESERVED_NAME)
from .spec import (MAX_YAML_DEPTH, LList, key_line, line_of, load_spec, name_problem, suggest,
                   type_name)
from .units import parse_alpha, resolve_resolution


class Work:
    """One budget of expansion work, charged before each step is done: a layer item
    visited (kept, skipped by `when:` or empty), a layer made, a node of an expression
    evaluated, a repeat of a block body (even an empty one), a parallel branch, an input
    of a merge, a value copied (a block argument, a variable carried into a block, a node
    of a block body copied to put in a word argument). Every step costs at most a few
    microseconds, so MAX_WORK bounds the time of any expansion, whatever the spec nests
    or repeats (bench/LIMITS.md: about a second at the limit)."""

    __slots__ = ("limit", "used", "what")

    def __init__(self, limit=MAX_WORK, what=None):
        self.limit, self.used = limit, 0
        self.what = what or (f"spec needs more than {limit} steps to expand (layers, expression "
                             "terms, repeats, branches, merge inputs, copied values)")

    def charge(self, n=1):
        """Count n steps; False once the budget is spent (the caller raises, located)."""
        self.used += n
        return self.used <= self.limit


_SHARED_WORK = contextvars.ContextVar("mbcost_work", default=None)


@contextlib.contextmanager
def sharing_work(work):
    """Within the block, every graph built draws from the one Work budget work (the
    checks of a budget file share one budget)."""
    token = _SHARED_WORK.set(work)
    try:
        yield work
    finally:
        _SHARED_WORK.reset(token)


_TRAINING = contextvars.ContextVar("mbcost_training", default=False)


@contextlib.contextmanager
def training(on=True):
    """Within the block, graphs are built for training unless told otherwise: the
    mult-adds of train-only heads (the `head` kind, `train: true`) count. The CLI's
    --train wraps a command in it; ``analyze(train=...)`` and the other entry points
    take it as an argument. None: leave the current mode."""
    if on is None:
        yield _TRAINING.get()
        return
    if not isinstance(on, bool):
        raise UsageError("train must be true or false")
    token = _TRAINING.set(on)
    try:
        yield on
    finally:
        _TRAINING.reset(token)


def in_training():
    """Whether graphs built now are for training (see ``training``)."""
    return _TRAINING.get()


# ---------------------------------------------------------------- nodes

@dataclass
class Node:
    """One primitive layer after expansion, with its input and output shapes."""

    name: str
    kind: str
    attrs: dict
    inputs: list  # tensor ids
    in_shapes: list
    out_shape: tuple
    path: str
    line: int | None
    source_kind: str  # the spec kind it came from (dwsep, se, a block name...)
    checks: tuple = ()  # the validity rules (layers.Divides, Equal) its expander checked


@dataclass
class Graph:
    """The expanded network: primitive nodes in topological order."""

    spec: object
    nodes: list = field(default_factory=list)
    input_shape: tuple = ()
    domain: object = None
    train: bool = False  # built for training: train-only heads run (see training)
    # the validity rules the builder checked on sizes where it made no node (a kernel that
    # fits its input, a residual left out where shapes differ: layers.Fits, Differ)
    checks: list = field(default_factory=list)

    def __repr__(self):
        return (f"Graph(spec={getattr(self.spec, 'name', None)!r}, input_shape={self.input_shape}, "
                f"nodes=<{len(self.nodes)} nodes>)")


# ---------------------------------------------------------------- fields of each kind

# the fields (and defaults) and shorthands of every layer kind, from the registry
KIND_FIELDS = {name: kind.fields for name, kind in LAYER_KINDS.items()}
SHORTHAND = {name: kind.shorthand for name, kind in LAYER_KINDS.items() if kind.shorthand}
PADDINGS = ("same", "valid")


def _compact(pair):
    """(n, n) -> n; (h, w) stays a pair: square kernels keep the one-integer attributes."""
    return pair[0] if pair[0] == pair[1] else pair


class _Ctx:
    """Where we are while expanding: variables, name prefix, block input."""

    def __init__(self, env, prefix, block_in, path, depth, stack):
        self.env, self.prefix, self.block_in = env, prefix, block_in
        self.path, self.depth, self.stack = path, depth, stack
        self.counters = {}

    def child(self, env, prefix, block_in, path):
        return _Ctx(env, prefix, block_in, path, self.depth + 1, self.stack)

    def auto_name(self, kind):
        n = self.counters.get(kind, 0) + 1
        self.counters[kind] = n
        return f"{self.prefix}{kind}{n}"


class Builder:
    """Expands a Spec into a Graph in one domain."""

    def __init__(self, spec, dom, max_layers=MAX_LAYERS):
        self.spec, self.dom, self.max_layers = spec, dom, max_layers
        self.nodes = []
        self.work = _SHARED_WORK.get() or Work()
        self.tensors = []  # tensor id -> (shape, table channels)
        self.names = {}  # layer name -> tensor id
        self.train = _TRAINING.get()  # built for training: train-only heads run
        self.head_of = {}  # tensor id -> the head whose layer made it
        # > 0 while building an idle head (train-only, in eval): it never runs, so sizes it
        # could not run at (torchvision's Inception-v3 aux head below ~ 220 px) are not
        # errors; they are shown clamped to 1 and only its parameters count
        self.notional = 0
        self.checks = []  # rules checked on sizes outside a node (Graph.checks)

    # ---- public

    def build(self, input_shape):
        h, w, c = input_shape
        d = self.dom
        shape = (d.input_dim(h), d.input_dim(w), d.fixed(c)) if d.symbolic else (h, w, c)
        t0 = self._tensor(shape, c)
        layers, path = self.spec.layers
        env = {"classes": self.spec.classes, **self.spec.vars}
        ctx = _Ctx(env, "", t0, path, 0, ())
        self.names["input"] = t0
        self._seq(layers, ctx, t0)
        return Graph(self.spec, self.nodes, shape, d, self.train, self.checks)

    # ---- helpers

    def _tensor(self, shape, table_c):
        self.tensors.append((shape, table_c))
        return len(self.tensors) - 1

    def _error(self, msg, ctx, line, layer=None, field=None, got=None, cls=SpecError):
        return cls(msg, path=ctx.path, line=line, layer=layer, field=field, got=got)

    def _charge(self, n, ctx, line, layer=None):
        """Count n expansion steps before doing them (see Work)."""
        if not self.work.charge(n):
            raise self._error(self.work.what, ctx, line, layer=layer, cls=LimitError)

    def _emit(self, kind, name, attrs, ins, ctx, line, source_kind, table_c=None, checks=()):
        if len(self.nodes) >= self.max_layers:
            raise self._error(f"spec expands to more than {self.max_layers} layers", ctx, line,
                              layer=name, cls=LimitError)
        self._charge(1, ctx, line, name)
        if name in self.names:
            raise self._error("duplicate layer name", ctx, line, layer=name)
        if name == RESERVED_NAME:
            raise self._error(f"the name '{RESERVED_NAME}' is reserved for the total row of CSV "
                              "output; choose another", ctx, line, layer=name, field="name")
        in_shapes = [self.tensors[t][0] for t in ins]
        try:
            out = PRIMITIVES[kind].shape(self.dom, in_shapes, attrs)
        except ZeroDivisionError:
            raise self._error("invalid sizes", ctx, line, layer=name) from None
        hb, wb, cb = (self.dom.base(x) for x in out)
        if (hb < 1 or wb < 1) and self.notional:
            out = (out[0] if hb >= 1 else self.dom.fixed(1), out[1] if wb >= 1 else self.dom.fixed(1),
                   out[2])
            hb, wb = max(hb, 1), max(wb, 1)
        if hb < 1 or wb < 1:
            inb = [self.dom.base(x) for x in in_shapes[0]]
            raise self._error(f"spatial size reaches zero ({inb[0]}x{inb[1]} in, {hb}x{wb} out)",
                              ctx, line, layer=name)
        if hb > MAX_RESOLUTION or wb > MAX_RESOLUTION:
            raise self._error(f"spatial size {hb}x{wb} exceeds {MAX_RESOLUTION} px", ctx, line,
                              layer=name, cls=LimitError)
        if cb > MAX_CHANNELS:
            raise self._error(f"more than {MAX_CHANNELS} channels", ctx, line, layer=name, got=cb,
                              cls=LimitError)
        tc = self.tensors[ins[0]][1] if table_c is None else table_c
        node = Node(name, kind, attrs, list(ins), in_shapes, out, ctx.path, line, source_kind, checks)
        self.nodes.append(node)
        t = self._tensor(out, tc)
        self.names[name] = t
        return t

    def _seq(self, items, ctx, cur):
        if not isinstance(items, list):
            raise self._error("layers must be a list", ctx, line_of(items), got=type_name(items))
        for i, item in enumerate(items):
            cur = self._item(item, line_of(items, i), ctx, cur)
        return cur

    def _parse_item(self, item, line, ctx):
        if isinstance(item, str):
            return item, {}, line
        if isinstance(item, dict) and len(item) == 1:
            (kind, fields), = item.items()
            fline = line_of(item, kind) or line
            if fields is None:
                fields = {}
            if not isinstance(fields, dict):
                kind_s = str(kind)
                if kind_s in SHORTHAND and isinstance(fields, (str, int, float, list)):
                    fields = {SHORTHAND[kind_s]: fields}
                else:
                    raise self._error("fields must be a mapping like {k: 3, out: 64}", ctx, fline,
                                      layer=str(kind), got=fields)
            return str(kind), fields, fline
        if isinstance(item, dict):
            raise self._error("a layer is a one-key mapping {kind: {fields}}; this one has "
                              f"{len(item)} keys", ctx, line_of(item), got=", ".join(map(str, item)))
        raise self._error("a layer must be a kind name or a {kind: {fields}} mapping", ctx, line,
                          got=item)

    def _item(self, item, line, ctx, cur):
        self._charge(1, ctx, line)
        kind, fields, line = self._parse_item(item, line, ctx)
        blocks = self.spec.blocks
        if kind in blocks:
            return self._block(kind, fields, line, ctx, cur)
        if kind not in LAYER_KINDS:
            known = list(LAYER_KINDS) + list(blocks)
            raise self._error(f"unknown layer kind '{kind}'{suggest(kind, known)}", ctx, line,
                              layer=fields.get("name") if isinstance(fields.get("name"), str) else None)
        entry = LAYER_KINDS[kind]
        f = self._fields(kind, fields, entry.fields, ctx, line)
        if f["when"] is not None and not self._when(f, ctx, line, cur):
            return cur
        name = f["name"] or ctx.auto_name(kind)
        return entry.expand(self, kind, f, name, ctx, line, cur)

    def _fields(self, kind, fields, schema, ctx, line):
        layer = fields.get("name") if isinstance(fields.get("name"), str) else None
        out = {}
        full = {**COMMON, **schema}
        for k in fields:
            if k == "n" and k not in full:  # repeats are a block's, not a layer's
                raise self._error(f"n (repeats) works on blocks, not on a '{kind}' layer: put the "
                                  "layer in a block and repeat the block", ctx,
                                  key_line(fields, k) or line, layer=layer or kind, field="n")
            if k not in full:
                raise self._error(f"unknown field for '{kind}'{suggest(k, full)}", ctx,
                                  key_line(fields, k) or line, layer=layer or kind, field=str(k))
        for k, default in full.items():
            if k in fields:
                out[k] = fields[k]
            elif default is REQUIRED:
                raise self._error(f"'{kind}' needs field '{k}'", ctx, line, layer=layer or kind, field=k)
            else:
                out[k] = default
        if out["name"] is not None:
            problem = name_problem(out["name"])
            if problem:
                raise self._error(f"name {problem}", ctx, line_of(fields, "name") or line,
                                  field="name", got=out["name"])
            out["name"] = ctx.prefix + out["name"]
        if LAYER_KINDS[kind].conv_like:
            for k in ("bn", "act"):
                if out[k] is None:
                    out[k] = self.spec.defaults.get(k)
        out["_fields"] = fields
        out["_layer"] = layer or kind
        return out

    # ---- typed field access (errors name the field and its line)

    def _loc(self, f, key, line):
        return line_of(f["_fields"], key) or line

    def _num(self, f, key, ctx, line, kind, env=None):
        try:
            self._charge(expr.weight(f[key]), ctx, self._loc(f, key, line), f.get("name") or f["_layer"])
            return expr.value(f[key], ctx.env if env is None else env)
        except LimitError:
            raise
        except SpecError as e:
            raise e.located(path=ctx.path, line=self._loc(f, key, line),
                            layer=f.get("name") or f["_layer"], field=key) from None

    def _when(self, f, ctx, line, cur):
        """A layer's `when:` condition: true/false or an expression (nonzero = keep);
        it may use in_c and block_in_c like `out` and `expand` do."""
        if isinstance(f["when"], bool):
            return f["when"]
        return self._num(f, "when", ctx, line, f["_layer"], self._in_env(ctx, cur)) != 0

    def _int(self, f, key, ctx, line, kind, minimum=1, maximum=None):
        v = self._num(f, key, ctx, line, kind)
        if not isinstance(v, int) or v < minimum or (maximum is not None and v > maximum):
            what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
            if maximum is not None:
                what += f" up to {maximum}"
            raise self._error(f"must be {what}", ctx, self._loc(f, key, line),
                              layer=f.get("name") or f["_layer"], field=key, got=f[key])
        return v

    def _pos(self, f, key, ctx, line, kind):
        v = self._num(f, key, ctx, line, kind)
        if v <= 0:
            raise self._error("must be positive", ctx, self._loc(f, key, line),
                              layer=f.get("name") or f["_layer"], field=key, got=f[key])
        return Fraction(v)

    def _bool(self, f, key, ctx, line):
        v = f[key]
        if not isinstance(v, bool):
            raise self._error("must be true or false", ctx, self._loc(f, key, line),
                              layer=f.get("name") or f["_layer"], field=key, got=v)
        return v

    def _choice(self, f, key, choices, ctx, line):
        v = f[key]
        if v not in choices:
            raise self._error(f"must be one of {', '.join(map(str, choices))}{suggest(v, map(str, choices))}",
                              ctx, self._loc(f, key, line), layer=f.get("name") or f["_layer"],
                              field=key, got=v)
        return v

    def _padding(self, f, ctx, line, kind):
        p = f["padding"]
        if isinstance(p, list):  # per axis: [top and bottom, left and right]
            if len(p) != 2 or any(v in PADDINGS or isinstance(v, bool) for v in p):
                raise self._error("must be same, valid, a non-negative integer or a list "
                                  "[height, width] of two integers", ctx,
                                  self._loc(f, "padding", line),
                                  layer=f.get("name") or f["_layer"], field="padding", got=p)
            return _compact(tuple(self._padding({**f, "padding": v}, ctx, line, kind) for v in p))
        if p in PADDINGS:
            return p
        if isinstance(p, str) and p.strip() and not p.strip()[0].isalpha():
            return self._int(f, "padding", ctx, line, kind, minimum=0, maximum=MAX_KERNEL)
        if isinstance(p, int) and not isinstance(p, bool):
            return self._int(f, "padding", ctx, line, kind, minimum=0, maximum=MAX_KERNEL)
        raise self._error("must be same, valid or a non-negative integer", ctx,
                          self._loc(f, "padding", line), layer=f.get("name") or f["_layer"],
                          field="padding", got=p)

    def _scale(self, f, ctx, line):
        v = f["scale"]
        if v is True or v is False or v == "up":
            return v
        raise self._error("must be true, false or up", ctx, self._loc(f, "scale", line),
                          layer=f.get("name") or f["_layer"], field="scale", got=v)

    def _act_name(self, v, f, key, ctx, line):
        if v in (None, False, "none", "linear"):
            return None
        if v in ACTIVATIONS:
            return v
        raise self._error(f"unknown activation{suggest(v, ACTIVATIONS + ('none',))}; one of "
                          f"{', '.join(ACTIVATIONS)}, none", ctx, self._loc(f, key, line),
                          layer=f.get("name") or f["_layer"], field=key, got=v)

    def _in_env(self, ctx, cur):
        # a view, not a copy: a spec may hold thousands of variables and layers
        return ChainMap({"in_c": self.tensors[cur][1], "block_in_c": self.tensors[ctx.block_in][1]},
                        ctx.env)

    def _channels(self, f, ctx, line, kind, cur):
        """Output channels from `out` (table value, scaled) or `expand` (ratio of actual input)."""
        has_out, has_exp = f.get("out") is not None, f.get("expand") is not None
        layer = f.get("name") or f["_layer"]
        if has_out == has_exp:
            raise self._error(f"'{kind}' needs exactly one of 'out' and 'expand'", ctx, line,
                              layer=layer, field="out")
        env = self._in_env(ctx, cur)
        if has_out:
            c = self._num(f, "out", ctx, line, kind, env)
            if not isinstance(c, int) or c < 1:
                raise self._error("channels must be a positive integer", ctx, self._loc(f, "out", line),
                                  layer=layer, field="out", got=f["out"])
            if c > MAX_CHANNELS:
                raise self._error(f"more than {MAX_CHANNELS} channels", ctx, self._loc(f, "out", line),
                                  layer=layer, field="out", got=c, cls=LimitError)
            mode = self._scale(f, ctx, line)
            if self.spec.rounding.rule == "fixed":
                mode = False  # channels as written, whatever alpha
            return self.dom.scaled(c, mode), c
        r = self._num(f, "expand", ctx, line, kind, env)
        if r <= 0 or r > MAX_CHANNELS:
            raise self._error("expansion ratio must be positive", ctx, self._loc(f, "expand", line),
                              layer=layer, field="expand", got=f["expand"])
        c_in = self.tensors[cur][0][2]
        return self.dom.rel(c_in, Fraction(r), self.spec.rounding), self.tensors[cur][1] * r

    def _tail(self, f, name, ctx, line, cur, source):
        """BN and activation after a conv-like layer, as their own zero-or-more-cost nodes."""
        if f.get("bn") is not None and self._bool(f, "bn", ctx, line):
            cur = self._emit("bn", f"{name}.bn", {}, [cur], ctx, line, source)
        act = self._act_name(f.get("act"), f, "act", ctx, line)
        if act:
            cur = self._emit("act", f"{name}.{act}", {"fn": act}, [cur], ctx, line, source)
        return cur

    def _kernel(self, f, key, ctx, line, kind):
        """A kernel size, stride or dilation: one integer, or (h, w) when the two differ."""
        return _compact(self._int_pair(f, key, ctx, line, kind))

    def _int_pair(self, f, key, ctx, line, kind, minimum=1, maximum=MAX_KERNEL):
        """A field that is one integer (both axes) or a list [height, width] of two:
        (h, w). Each value may be an expression."""
        v = f[key]
        if isinstance(v, list):
            if len(v) != 2:
                raise self._error("must be one integer or a list [height, width] of two", ctx,
                                  self._loc(f, key, line), layer=f.get("name") or f["_layer"],
                                  field=key, got=v)
            return tuple(self._int({**f, key: x}, key, ctx, line, kind, minimum, maximum)
                         for x in v)
        n = self._int(f, key, ctx, line, kind, minimum, maximum)
        return (n, n)

    def _size_pair(self, f, key, ctx, line, kind):
        """An output size [H, W] (or one number for both): each from 1 to MAX_RESOLUTION."""
        return self._int_pair(f, key, ctx, line, kind, maximum=MAX_RESOLUTION)

    def _conv_attrs(self, f, ctx, line, kind, k=None, stride=None):
        k = self._kernel(f, "k", ctx, line, kind) if k is None else k
        s = self._kernel(f, "stride", ctx, line, kind) if stride is None else stride
        pad = self._padding(f, ctx, line, kind) if "padding" in f else "same"
        if f.get("bias") is not None and "bias" in f:
            self._bool(f, "bias", ctx, line)
        a = {"k": k, "stride": s, "padding": pad, "bias": bool(f.get("bias"))}
        d = self._kernel(f, "dilation", ctx, line, kind) if f.get("dilation") is not None else 1
        if d != 1:  # recorded only when it matters, so undilated layers keep their attributes
            a["dilation"] = d
        return a

    def _check_valid(self, a, cur, ctx, line, name):
        if self.notional:
            return  # an idle head's layer never runs (see notional)
        if a["padding"] != "valid":
            return
        kh, kw = (effective_kernel(a, axis) for axis in (0, 1))
        fits = Fits((kh, kw), tuple(self.tensors[cur][0][:2]))
        self.checks.append(fits)  # every evaluator checks the same record (grid.py)
        if not fits.holds(self.dom.base):
            h, w = (self.dom.base(x) for x in fits.sizes)
            k = a["k"] if not isinstance(a["k"], tuple) else "x".join(map(str, a["k"]))
            if "dilation" in a:
                k = f"{k} (dilation {a['dilation']}: {kh}x{kw})"
            raise self._error(f"kernel {k} is larger than the {h}x{w} input with valid padding",
                              ctx, line, layer=name, field="k")

    # ---- structure shared by kinds (layers.py's expanders call these)

    def _refs(self, f, ctx, line, name):
        refs = f["from"]
        refs = [refs] if isinstance(refs, str) else refs
        if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
            raise self._error("must be a layer name or a list of layer names", ctx,
                              self._loc(f, "from", line), layer=name, field="from", got=f["from"])
        self._charge(len(refs), ctx, line, name)  # every input of the merge is work
        out = []
        for r in refs:
            if r == "block_input":
                out.append(ctx.block_in)
                continue
            full = ctx.prefix + r if ctx.prefix + r in self.names else r
            if full not in self.names:
                raise self._error(f"no earlier layer named '{r}'{suggest(r, self.names)}", ctx,
                                  self._loc(f, "from", line), layer=name, field="from")
            head = self.head_of.get(self.names[full])
            if head is not None and not ctx.prefix.startswith(head + "/"):
                raise self._error(f"'{r}' is a layer of head '{head}', whose output the rest "
                                  "of the network does not use", ctx,
                                  self._loc(f, "from", line), layer=name, field="from")
            out.append(self.names[full])
        return out

    def _branches(self, f, name, ctx, line, cur):
        """The output tensors of parallel's branches, each run on cur."""
        branches = f["branches"]
        if not isinstance(branches, list) or len(branches) < 1:
            raise self._error("must be a list of layer lists", ctx, self._loc(f, "branches", line),
                              layer=name, field="branches", got=branches)
        if ctx.depth + 1 > MAX_NESTING:
            raise self._error(f"blocks and parallel branches nested deeper than {MAX_NESTING}", ctx,
                              line, layer=name, cls=LimitError)
        outs = []
        for i, br in enumerate(branches):
            self._charge(1, ctx, line, name)
            sub = ctx.child(ctx.env, f"{name}/b{i + 1}/", ctx.block_in, ctx.path)
            if not isinstance(br, list):
                br = LList([br])
                br.line, br.item_lines = line, [self._loc(f, "branches", line)]
            outs.append(self._seq(br, sub, cur) if br else cur)
        return outs

    # ---- blocks

    def _block(self, bname, fields, line, ctx, cur):
        definition, bpath = self.spec.blocks[bname]
        if bname in ctx.stack:
            raise self._error(f"block '{bname}' uses itself (recursive definition)", ctx, line,
                              layer=bname)
        if ctx.depth + 1 > MAX_NESTING:
            raise self._error(f"blocks nested deeper than {MAX_NESTING}", ctx, line, layer=bname,
                              cls=LimitError)
        if not isinstance(definition, dict) or "layers" not in definition:
            raise SpecError("a block needs 'layers' (and optional 'args')", path=bpath,
                            line=line_of(definition), layer=bname)
        for k in definition:
            if k not in ("args", "layers", "stride_arg", "description"):
                raise SpecError(f"unknown block field{suggest(k, ('args', 'layers', 'stride_arg'))}",
                                path=bpath, line=key_line(definition, k), layer=bname, field=str(k))
        params = definition.get("args") or {}
        if not isinstance(params, dict):
            raise SpecError("block 'args' must be a mapping of names to defaults (null = required)",
                            path=bpath, line=line_of(definition, "args"), layer=bname, field="args")
        stride_arg = definition.get("stride_arg", "s" if "s" in params else "stride")
        if not isinstance(stride_arg, str) or not stride_arg.isidentifier():
            raise SpecError("block 'stride_arg' must be the name of an argument", path=bpath,
                            line=line_of(definition, "stride_arg"), layer=bname, field="stride_arg",
                            got=stride_arg)
        # the arguments and the variables a block instance carries are copied: that is work
        self._charge(1 + len(params) + len(ctx.env), ctx, line, bname)
        reserved = {"n", "name", "when"}
        for k in fields:
            if k not in params and k not in reserved:
                raise self._error(f"block '{bname}' has no argument '{k}'{suggest(k, params)}; "
                                  f"{_arguments(bname, params, reserved)}", ctx,
                                  key_line(fields, k) or line, layer=bname, field=str(k))
        f = {"_fields": fields, "_layer": bname, "name": fields.get("name")}
        if "when" in fields:
            f["when"] = fields["when"]
            if not self._when(f, ctx, line, cur):
                return cur
        env = dict(ctx.env)
        for k, default in params.items():
            if not isinstance(k, str) or not k.isidentifier() or k.startswith("_"):
                raise SpecError("block argument names must be identifiers", path=bpath,
                                line=line_of(params, k), layer=bname, field=str(k))
            raw = fields.get(k, default)
            if raw is None:
                raise self._error(f"block '{bname}' needs argument '{k}'", ctx, line, layer=bname, field=k)
            if isinstance(raw, str) and k in fields:
                f[k] = raw
                if raw.isidentifier() and raw not in ctx.env:
                    env[k] = raw  # a plain word such as an activation name
                    continue
                try:
                    self._charge(expr.weight(raw), ctx, line, bname)
                    env[k] = expr.value(raw, ctx.env)
                except LimitError:
                    raise
                except SpecError:
                    env[k] = raw  # a word after all (an expression would have parsed)
            elif isinstance(raw, str):
                env[k] = raw
            elif isinstance(raw, (bool,)) or isinstance(raw, (int, float)):
                f[k] = raw
                env[k] = raw if isinstance(raw, bool) else self._num(f, k, ctx, line, bname)
            else:
                raise self._error("block arguments must be numbers, expressions or words", ctx,
                                  line_of(fields, k) or line, layer=bname, field=k, got=raw)
        n = 1
        if "n" in fields:
            f["n"] = fields["n"]
            n = self._int(f, "n", ctx, line, bname, minimum=0, maximum=MAX_LAYERS)
        if self.spec.depth_multiplier != 1:
            n = math.ceil(self.spec.depth_multiplier * n)  # EfficientNet round_repeats
        if f["name"] is not None and name_problem(f["name"]):
            raise self._error(f"name {name_problem(f['name'])}", ctx,
                              line_of(fields, "name") or line, field="name", got=f["name"])
        inst = ctx.prefix + f["name"] if f["name"] is not None else ctx.auto_name(bname)
        bodies = {}  # the body with word arguments put in: once for the first repetition, once for the rest
        for r in range(n):
            self._charge(1, ctx, line, bname)  # a repetition is work even when its body is empty
            if min(r, 1) not in bodies:
                benv = dict(env)
                if r > 0 and stride_arg in benv:
                    benv[stride_arg] = 1  # only the first repetition strides (MobileNetV2 Table 2)
                self._charge(len(benv), ctx, line, bname)
                bodies[min(r, 1)] = self._block_body(definition["layers"], benv, ctx, line, bname)
            layers, numbers = bodies[min(r, 1)]
            prefix = f"{inst}.{r + 1}/" if n > 1 else f"{inst}/"
            sub = ctx.child(numbers, prefix, cur, bpath)
            sub.stack = ctx.stack + (bname,)
            cur = self._seq(layers, sub, cur)
        return cur

    def _block_body(self, layers, benv, ctx, line, bname):
        """(layers, numeric variables) of one block instance: block args that are words
        (e.g. act: hswish) may be used as field values, so they are put into a copy of
        the body, every node of which is a charged step."""
        words = {k: v for k, v in benv.items() if isinstance(v, (str, bool))}
        numbers = {k: v for k, v in benv.items() if not isinstance(v, (str, bool))}
        if words:
            layers = _substitute(layers, words, lambda n: self._charge(n, ctx, line, bname))
        return layers, numbers


def _arguments(bname, params, reserved, most=12):
    """'its arguments: c, s (and n, name, when)', at most `most` names listed."""
    names = [str(p) for p in params]
    shown = ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")
    return (f"its arguments: {shown} (and {', '.join(sorted(reserved))})" if names
            else f"'{bname}' takes no arguments (only {', '.join(sorted(reserved))})")


def _substitute(obj, words, charge, depth=0):
    """Replace field values that are exactly a word-valued block argument's name, in a copy;
    charge(1) for every value copied (a body may be large and copied many times)."""
    charge(1)
    if isinstance(obj, (dict, list)) and depth > MAX_YAML_DEPTH:
        raise LimitError(f"block body nested deeper than {MAX_YAML_DEPTH} levels", line=line_of(obj))
    if isinstance(obj, dict):
        out = type(obj)()
        if hasattr(out, "__dict__"):  # LDict/LList keep their lines; plain dicts from Python have none
            out.__dict__.update(getattr(obj, "__dict__", {}))
        for k, v in obj.items():
            out[k] = _substitute(v, words, charge, depth + 1)
        return out
    if isinstance(obj, list):
        out = type(obj)()
        if hasattr(out, "__dict__"):  # LDict/LList keep their lines; plain dicts from Python have none
            out.__dict__.update(getattr(obj, "__dict__", {}))
        out.extend(_substitute(v, words, charge, depth + 1) for v in obj)
        return out
    if isinstance(obj, str) and obj in words:
        return words[obj]
    return obj


class ClosedFormView:
    """The domain of a graph whose sizes are Sym closed forms (build_graph(symbolic=True)):
    cost rules multiply the sympy expressions; approx lists the approximations made."""

    symbolic = True

    def __init__(self, approx):
        self.approx = approx

    def v(self, x):
        return x.expr

    def base(self, x):
        return x.base

    def div(self, x, n):
        return x / n


def _closed_form_sizes(g, tape, exact=False):
    """g, built through tape, with every size (shapes, attributes, checks) as a Sym
    (exact: each Sym's expr the exact form, exact_form.py)."""
    exact_of = None
    if exact:
        from .exact_form import exact_sizes

        exact_of = exact_sizes(tape)
    size = symbolic_sizes(tape, exact_of)

    def conv(v):
        if isinstance(v, _Traced):
            return size(v)
        if isinstance(v, tuple):
            return tuple(conv(x) for x in v)
        return v

    for n in g.nodes:
        n.in_shapes = [conv(s) for s in n.in_shapes]
        n.out_shape = conv(n.out_shape)
        n.attrs = {k: conv(v) for k, v in n.attrs.items()}
        n.checks = tuple(type(c)(**{f: conv(getattr(c, f)) for f in c.__dataclass_fields__})
                         for c in n.checks)
    g.checks = [type(c)(**{f: conv(getattr(c, f)) for f in c.__dataclass_fields__})
                for c in g.checks]
    g.input_shape = conv(g.input_shape)
    g.domain = ClosedFormView(tape.approx)
    return g


def build_graph(spec, alpha=1, resolution=None, symbolic=False, max_layers=MAX_LAYERS,
                exact=False, train=None):
    """Expand and shape-check spec at (alpha, resolution), or symbolically in alpha and rho.

    ``spec`` is a ``Spec`` or anything ``load_spec`` takes (a bundled name, path or dict);
    ``alpha`` a number in (0, 64] (exact: int, Fraction or text such as '0.75'),
    ``resolution`` the input height (default: the spec's); ``symbolic=True`` builds sizes
    as expressions in alpha and rho instead (the continuous closed forms; with
    ``exact=True`` the exact ones, rounding kept: exact_form.py); ``max_layers`` at most
    MAX_LAYERS; ``train`` True builds the training graph (train-only heads' mult-adds
    count; None: the mode of ``training``, eval by default). A bad argument raises
    ``mbcost.UsageError``.

    Returns a ``Graph``: ``nodes`` (one ``Node`` per primitive layer, in order, with
    ``in_shapes`` and ``out_shape``) and ``input_shape``. Raises ``mbcost.SpecError`` with
    file, line, layer and field for anything malformed (unknown kind or field, bad
    expression: ``ExprError``, shapes that do not fit, a limit exceeded: ``LimitError``).

        >>> from mbcost import load_spec
        >>> g = build_graph(load_spec("mobilenet_v1"), resolution=160)
        >>> g.nodes[0].name, g.nodes[0].out_shape
        ('conv1', (80, 80, 32))
    """
    with training(train):
        return _build_graph(spec, alpha, resolution, symbolic, max_layers, exact)


def _build_graph(spec, alpha, resolution, symbolic, max_layers, exact):
    spec = load_spec(spec)
    if isinstance(max_layers, bool) or not isinstance(max_layers, int) or not 1 <= max_layers <= MAX_LAYERS:
        raise UsageError(f"max_layers must be an integer from 1 to {MAX_LAYERS}")
    if not isinstance(symbolic, bool):
        raise UsageError("symbolic must be true or false")
    if not isinstance(exact, bool) or (exact and not symbolic):
        raise UsageError("exact must be true or false, and goes with symbolic=True")
    if symbolic:
        tape = ChannelTape(spec)
        return _closed_form_sizes(Builder(spec, tape, max_layers).build(spec.input), tape, exact)
    alpha = parse_alpha(alpha)
    resolution = resolve_resolution(spec, resolution)
    h, w, c = spec.input
    if resolution is not None and resolution != h:
        w = (w * resolution + h // 2) // h
        h = resolution
    dom = ExactDomain(alpha, spec)
    return Builder(spec, dom, max_layers).build((h, w, c))


def _graph_of_data(data, path):
    """The graph of spec data read from path at its base resolution (the ONNX reader's
    check of every shape it wrote)."""
    from .spec import spec_from_data

    return build_graph(spec_from_data(data, path))


onnx_reader.GRAPH_OF = _graph_of_data
