"""Activation memory, weight bytes, memory traffic and peak live activations: the model
(``mbcost.memory`` adds its closed forms and the comparison of two memory models).

Everything here is read from the built graph's plain data (node kinds, shapes, input
tensor ids) and the raw parameter counts of each layer; nothing changes a mult-add or
parameter count. The numbers are exact integers for their stated memory model.

Per layer (``LayerMemory``):
  * ``act_elems``: the elements of the layer's output tensor, as the counting convention
    counts activations (every output once; ``fvcore``: conv and FC outputs, as its
    ActivationCountAnalysis; ``torchinfo``: 2x the outputs of layers with parameters, its
    forward/backward pass size); ``act_bytes`` that times the activation type's size
    (``--dtype``). The same in every memory model.
  * ``weight_bytes``: the layer's stored parameters in the weight type, as the memory
    model stores them: conv/FC weights and biases, and BN's gamma, beta, running mean and
    variance (4 per channel) unless folded (then its conv stores C more, a bias, if it had
    none).
  * ``read_bytes``: every input tensor read once plus the weights; ``write_bytes``: the
    output written once. This is ShuffleNetV2's memory access cost (MAC, §2 G1: a 1x1
    conv reads hw*c1 + c1*c2 and writes hw*c2) and torchstat's MemRead / MemWrite
    (4 x (input elements + parameters) and 4 x output elements in fp32).

Memory models (``MEMORY_MODELS``) say which tensors are materialized:
  * ``eager``: every primitive layer writes its output to memory (PyTorch eager,
    no in-place ops).
  * ``fused``: as deployed inference runtimes run it. A BN whose input comes only to it
    from a conv or FC is folded into that layer (its 4 per-channel parameters become
    the layer's bias: + C weights read if it had none); an activation whose input goes
    only to it is applied in place in its producer's epilogue. Folded and in-place layers
    read and write nothing and allocate nothing: their output is their input's storage.
  * ``streamed``: fused, and (MobileNetV2 §5) the tensors inside a block of the spec
    (a ``blocks:`` instance, names ``block/...``) are never materialized: only block
    inputs and outputs are. Inside a block, a tensor that is produced and read only by
    the block's layers, and is not its output, costs nothing to write, read or keep;
    the block's inputs stay live until its last layer has run.

Peak live activations: a tensor (a storage, in fused and streamed) is live from the
layer that produces it until the last layer that reads it has run; during a layer both
its inputs and its output are live. The network input is live until its last reader; the
network's output until the end. ``peak_at`` names the first layer at which the peak is
reached.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .roofline import DTYPES  # bytes per element of each data type

DEFAULT_DTYPE = "fp32"
MEMORY_MODELS = {
    "eager": "every primitive layer materializes its output (PyTorch eager, no in-place ops)",
    "fused": "BN folded into its conv/FC, activations applied in place: conv+BN+act is one "
             "tensor (deployed inference runtimes)",
    "streamed": "fused, and a spec block's inner tensors are never materialized, only block "
                "inputs and outputs (MobileNetV2 section 5)",
}
DEFAULT_MEMORY_MODEL = "fused"
WEIGHT_TERMS = ("weight", "bias", "bn.affine", "bn.stats",  # raw parameter categories stored
                "ln.affine", "ln.affine.functional", "scale")
FOLD_INTO = ("conv", "dw", "pw", "fc")


@dataclass(frozen=True)
class LayerMemory:
    """One layer's activation size, weight bytes and traffic (exact ints) under a model.

    ``live_bytes``: activation bytes live while the layer runs (its inputs, its output and
    every tensor still to be read). ``materialized``: whether the layer writes a tensor of
    its own in this memory model. ``macs``: its raw multiply-accumulates (for rooflines)."""

    act_elems: int
    act_bytes: int
    weight_bytes: int
    read_bytes: int
    write_bytes: int
    live_bytes: int
    materialized: bool
    macs: int
    time_s: object = None  # a Fraction, with a device (mbcost.roofline)
    intensity: object = None
    bound: str | None = None

    @property
    def traffic_bytes(self):
        """Bytes read plus bytes written."""
        return self.read_bytes + self.write_bytes


@dataclass
class MemoryReport:
    """A network's memory under one model and data types: one ``LayerMemory`` per layer
    and the totals. ``peak_act_bytes`` and ``peak_at`` (a layer name) are the peak live
    activations; ``device`` is a ``roofline.Device`` or None."""

    dtype: str
    weight_dtype: str
    memory_model: str
    layers: list
    peak_act_bytes: int
    peak_at: str
    names: list = field(default_factory=list, repr=False)
    device: object = None

    @property
    def act_bytes(self):
        """Sum of every layer's output bytes."""
        return sum(m.act_bytes for m in self.layers)

    @property
    def weight_bytes(self):
        """Sum of every layer's weight bytes."""
        return sum(m.weight_bytes for m in self.layers)

    @property
    def traffic_bytes(self):
        """Sum of every layer's bytes read and written."""
        return sum(m.traffic_bytes for m in self.layers)

    @property
    def time_s(self):
        """The summed roofline bound in seconds (a Fraction), None without a device."""
        if self.device is None:
            return None
        return sum(m.time_s for m in self.layers)

    def totals(self):
        """The totals that are not a column's sum: peak, where, and the settings."""
        return {"peak_act_bytes": self.peak_act_bytes, "peak_at": self.peak_at,
                "dtype": self.dtype, "weight_dtype": self.weight_dtype,
                "memory_model": self.memory_model,
                "device": None if self.device is None else self.device.name}


def check_dtype(name, what="dtype"):
    """name if it is a known data type, else a UsageError."""
    from .errors import UsageError, show

    if not isinstance(name, str) or name not in DTYPES:
        raise UsageError(f"unknown {what} {show(name)}; one of {', '.join(DTYPES)}")
    return name


def check_memory_model(name):
    """name if it is a known memory model, else a UsageError."""
    from .errors import UsageError, show

    if not isinstance(name, str) or name not in MEMORY_MODELS:
        raise UsageError(f"unknown memory model {show(name)}; one of {', '.join(MEMORY_MODELS)}")
    return name


def _elems(shape, v=int):
    h, w, c = shape
    return v(h) * v(w) * v(c)


def _expr(x):
    """A symbolic graph's size as its closed form (graph.Sym.expr), or the value itself."""
    return getattr(x, "expr", x)


def _block(name):
    """The spec block instance a layer belongs to ('bottleneck2.1/dw' -> 'bottleneck2.1'),
    or None for a layer outside any block."""
    i = name.find("/")
    return name[:i] if i > 0 else None


def _idle(node):
    """Whether node does not run: a train-only head's layer in a graph built for eval
    (layers.py's `head` kind). It holds its weights but reads, writes and keeps nothing."""
    return bool(node.attrs.get("idle"))


def tensor_plan(nodes, model):
    """(storage, materialized, readers) of the graph's tensors under a memory model.

    Tensor 0 is the network input, tensor i + 1 node i's output (the builder's numbering).
    storage[t]: the tensor whose memory t occupies (itself unless folded or in place);
    materialized[i]: node i writes a tensor of its own; readers[t]: the nodes reading t."""
    n = len(nodes)
    readers = [[] for _ in range(n + 1)]
    for i, node in enumerate(nodes):
        if _idle(node):
            continue  # a train-only head in eval does not run: it reads nothing
        for t in node.inputs:
            readers[t].append(i)
    storage = list(range(n + 1))
    materialized = [True] * n
    folded = [False] * n  # a BN folded into its producer
    if model in ("fused", "streamed"):
        for i, node in enumerate(nodes):
            if len(node.inputs) != 1 or _idle(node):
                continue
            t = node.inputs[0]
            if t == 0 or len(set(readers[t])) != 1:
                continue
            producer = nodes[t - 1]
            if node.kind == "bn" and producer.kind in FOLD_INTO and materialized[t - 1]:
                folded[i] = True
            elif node.kind != "act":
                continue
            storage[i + 1] = storage[t]
            materialized[i] = False
    internal = [False] * (n + 1)  # tensors a streamed block never materializes
    if model == "streamed":
        last = {}
        for i, node in enumerate(nodes):
            b = _block(node.name)
            if b is not None and not _idle(node):
                last[b] = i
        for t in range(1, n + 1):
            b = _block(nodes[t - 1].name)
            if b is None or b not in last or t - 1 == last[b]:
                continue
            if storage[t] == storage[last[b] + 1]:
                continue  # the block's output (or what it is applied in place to)
            if readers[t] and all(_block(nodes[r].name) == b for r in readers[t]):
                internal[t] = True
    return storage, materialized, readers, folded, internal


def analyze_memory(nodes, param_terms, macs, dtype=DEFAULT_DTYPE, model=DEFAULT_MEMORY_MODEL,
                   weight_dtype=None, acts=None, symbolic=False):
    """A ``MemoryReport`` of a built graph's nodes (with each node's raw parameter terms
    and multiply-accumulates) under a memory model and data types. acts: the counting
    convention's activation weights ({kind: weight}; None: every output once), which
    ``act_elems`` and ``act_bytes`` follow (the peak and the traffic do not). symbolic: the
    nodes come from a symbolic graph; every size is then a sympy expression in alpha and
    rho, the peak a ``Max`` of the layers' live bytes and ``peak_at`` empty ("exact": the
    graph's sizes are the exact form's, and the ``Max`` is left unsimplified)."""
    dtype = check_dtype(dtype)
    weight_dtype = check_dtype(weight_dtype or dtype, "weight dtype")
    model = check_memory_model(model)
    ab, wb = DTYPES[dtype], DTYPES[weight_dtype]
    n = len(nodes)
    storage, materialized, readers, folded, internal = tensor_plan(nodes, model)
    # internal: a storage root is internal only if every tensor sharing it is
    root_internal = {}
    for t in range(n + 1):
        r = storage[t]
        root_internal[r] = root_internal.get(r, True) and internal[t]
    root_internal[0] = False

    def stored(t):
        return not root_internal[storage[t]]

    v = _expr if symbolic else int
    size = [0] * (n + 1)
    size[0] = _elems(nodes[0].in_shapes[0], v) if n else 0
    for i, node in enumerate(nodes):
        size[i + 1] = 0 if _idle(node) else _elems(node.out_shape, v)
    weights = []
    for i, node in enumerate(nodes):
        pt = param_terms[i]
        # an idle head's layer holds its weights (as 'idle.*' terms) though it does not run
        w = sum(pt.get(k, 0) + pt.get(f"idle.{k}", 0) for k in WEIGHT_TERMS)
        weights.append(w)
    # a folded BN's parameters become its producer's bias (C more if it had none)
    read_w = list(weights)
    for i, node in enumerate(nodes):
        if folded[i]:
            read_w[i] = 0
            p = node.inputs[0] - 1
            if param_terms[p].get("bias", 0) == 0:
                read_w[p] += v(node.out_shape[2])
    # liveness over storages: [first step, last step]
    first, lastuse = {}, {}
    for t in range(n + 1):
        r = storage[t]
        if not stored(t):
            continue
        start = t - 1 if t else 0
        end = max(readers[t], default=start)
        if t == n:
            end = n - 1  # the network's output lives until the end
        first[r] = min(first.get(r, start), start)
        lastuse[r] = max(lastuse.get(r, end), end)
    if model == "streamed":  # a block's inputs stay live until its last layer
        lastb = {}
        for i, node in enumerate(nodes):
            b = _block(node.name)
            if b is not None and not _idle(node):
                lastb[b] = i
        for i, node in enumerate(nodes):
            b = _block(node.name)
            if b is None or _idle(node):
                continue
            for t in node.inputs:
                r = storage[t]
                if r in lastuse:
                    lastuse[r] = max(lastuse[r], lastb[b])
    delta = [0] * (n + 1)
    for r, s in first.items():
        delta[s] += size[r] * ab
        delta[lastuse[r] + 1] -= size[r] * ab
    live, cur = [], 0
    for i in range(n):
        cur += delta[i]
        live.append(cur)
    if symbolic:
        import sympy

        # the exact form's floors make sympy's pruning of dominated terms slow: kept whole
        peak, peak_i = (sympy.Max(*set(live), evaluate=symbolic != "exact") if live
                        else sympy.Integer(0)), None
    else:
        peak = max(live, default=0)
        peak_i = live.index(peak) if live else 0
    layers = []
    for i, node in enumerate(nodes):
        counted = size[i + 1] if acts is None else size[i + 1] * acts.get(node.kind, 0)
        writes = materialized[i] and stored(i + 1)
        reads = sum(size[t] for t in node.inputs if stored(t)) if materialized[i] else 0
        wread = read_w[i] * wb
        if _idle(node):
            reads, wread = 0, 0  # stored weights, but the layer does not run
        layers.append(LayerMemory(
            act_elems=counted, act_bytes=counted * ab, weight_bytes=read_w[i] * wb,
            read_bytes=reads * ab + wread, write_bytes=size[i + 1] * ab if writes else 0,
            live_bytes=live[i], materialized=bool(writes), macs=v(macs[i])))
    return MemoryReport(dtype, weight_dtype, model, layers, peak,
                        nodes[peak_i].name if nodes and peak_i is not None else "",
                        [nd.name for nd in nodes])


def memory_settings(dtype=DEFAULT_DTYPE, weight_dtype=None, memory_model=DEFAULT_MEMORY_MODEL,
                    device=None):
    """The memory options checked: {'dtype', 'weight_dtype', 'memory_model', 'device'}
    (device loaded: a ``roofline.Device`` or None)."""
    dtype = check_dtype(dtype if dtype is not None else DEFAULT_DTYPE)
    weight_dtype = check_dtype(weight_dtype or dtype, "weight dtype")
    model = check_memory_model(memory_model if memory_model is not None else DEFAULT_MEMORY_MODEL)
    if device is not None:
        from .roofline import load_device

        device = load_device(device)
        device.peak_for(dtype)
    return {"dtype": dtype, "weight_dtype": weight_dtype, "memory_model": model, "device": device}


def attach(analysis, nodes, settings, acts):
    """Put a ``MemoryReport`` on analysis (``Analysis.memory``) and each layer's
    ``LayerMemory`` on its row (``Row.mem``); the rows are the nodes', in order. acts:
    how the analysis' convention counts activations (``Convention.acts``)."""
    rows = analysis.rows
    rep = analyze_memory(nodes, [r.param_terms for r in rows],
                         [r.madd_terms.get("mac", 0) for r in rows], settings["dtype"],
                         settings["memory_model"], settings["weight_dtype"], acts)
    if settings.get("device") is not None:
        from .roofline import apply_device

        apply_device(rep, settings["device"])
    for r, m in zip(rows, rep.layers):
        r.mem = m
    analysis.memory = rep
    return analysis


def largest_by_resolution(analysis):
    """[(h, w, channels, bytes)] per spatial size, largest first: the widest tensor the
    memory model materializes at that size and its bytes in the activation type
    (MobileNetV2 Table 3's columns; needs an analysis made with memory)."""
    m = analysis.memory
    if m is None:
        raise ValueError("largest_by_resolution needs an analysis made with memory=...")
    ab = DTYPES[m.dtype]
    best = {}
    h, w, c = (int(v) for v in analysis.input)
    best[(h, w)] = c
    for r, lm in zip(analysis.rows, m.layers):
        if lm.materialized:
            key = (int(r.output[0]), int(r.output[1]))
            best[key] = max(best.get(key, 0), int(r.output[2]))
    return [(h, w, c, h * w * c * ab) for (h, w), c in
            sorted(best.items(), key=lambda kv: (-kv[0][0] * kv[0][1], kv[0]))]
