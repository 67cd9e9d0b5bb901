"""Hypothesis strategies for spec fuzzing: valid specs whose sizes all divide evenly,
and broken specs made by mutating valid ones (as data and as bytes)."""

from __future__ import annotations

import copy
from fractions import Fraction

import yaml
from hypothesis import strategies as st

from mbcost.spec import bundled_dir

BUNDLED_TEXTS = tuple(p.read_bytes() for p in sorted(bundled_dir().glob("*.yaml")))

# Alphas at which every generated table width c (a multiple of 64) gives c*alpha a
# multiple of 32: exact under both rounding rules and for the SE squeeze c/4 (make_divisible 8).
EVEN_ALPHAS = (Fraction(1, 2), Fraction(1), Fraction(3, 2), Fraction(2))
ACTS = ("relu", "relu6", "hswish", "none")
INJECTIONS = (
    "__import__('os').system('touch PWNED')",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: 1",
    "Symbol('x').__class__",
    "__builtins__",
    "exec('1')",
    "eval('1')",
    "open('x').read()",
    "x.__dict__",
    "[1, 2][0]",
    "1 if 1 else 0",
    "2**1000000",
    "9" * 300,
    "((((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))))",
    "-" * 200 + "1",
    "make_divisible(1, 0)",
    "ceil(1/0)",
    "1e99",
    "min()",
    "max(1)",
    "floor(1, 2)",
    "",
    "   ",
    "\x00",
    "in_c in_c",
)


# issue 9: what the first long run never generated
HUGE_HEX = "0x" + "f" * 4000  # an int past Python's 4,300-digit str() limit
HOSTILE_NUMBERS = (HUGE_HEX, "1e9_9_9_9_9_9_9_9_9", "1_0", "٣٢", "３２", "١٠٠٠G", "0." + "1" * 60,
                   "9" * 5000, "1e999", "1e-999999999", "0x", "+3", "-0", "1/0", "3/4", ".5", "1.",
                   "nan", "inf", "0b101", "0o17", "1e99", "10**9", "1,000", " 7 ")
HOSTILE_NAMES = ("\x1b]0;owned\x07", "\x1b[2J\x1b[H", "x\n\n### mbcost check: within budget\n<!--",
                 "a\u202eb", "a\rb", "*bold* | `code` [l](x) <!-- _u_", "\x00", "\u2028", "$x$ &lt;",
                 "a" * 300)
# explicit YAML tags, each followed by text that is not of its type (or is)
TAGGED = (b"!!timestamp abc", b"!!int ''", b"!!float ''", b"!!bool maybe", b"!!int 0x",
          b"!!null x", b"!!binary ''", b"!!str 3", b"!!float 3", b"!!set {}", b"!!omap []")


def _channels(draw):
    """A table width: a multiple of 64 so that c*alpha divides evenly at EVEN_ALPHAS."""
    return 64 * draw(st.integers(1, 4))


@st.composite
def even_specs(draw):
    """(spec dict, [stride-product P, H]) for a valid spec whose sizes divide evenly.

    Every stride-2 layer uses 'same' padding (or a 2x2/2 valid pool) and H is a
    multiple of the total stride, so spatial sizes are H/2^i exactly; every scaled
    width is a multiple of 32 at EVEN_ALPHAS, so rounding never changes it.
    """
    rule = draw(st.sampled_from(["truncate", "make_divisible"]))
    n_strided = draw(st.integers(0, 3))
    n_plain = draw(st.integers(0, 5))
    kinds = draw(st.permutations(["s"] * n_strided + ["p"] * n_plain))
    u = draw(st.integers(1, 5))
    h = (2 ** n_strided) * u
    layers = [{"conv": {"name": "stem", "k": draw(st.sampled_from([1, 3])), "out": _channels(draw),
                        "act": draw(st.sampled_from(ACTS))}}]
    uses_block = False
    for i, s in enumerate(kinds):
        stride = 2 if s == "s" else 1
        choice = draw(st.sampled_from(
            ["conv", "dwsep", "dw", "block"] + (["pool"] if stride == 2 else
                                                ["pw", "pw_expand", "bn", "act", "se", "grouped"])))
        k = draw(st.sampled_from([1, 3, 5]))
        act = draw(st.sampled_from(ACTS))
        if choice == "conv":
            layers.append({"conv": {"k": k, "stride": stride, "out": _channels(draw), "act": act}})
        elif choice == "grouped":
            layers.append({"conv": {"k": k, "out": _channels(draw), "groups": 2, "act": act}})
        elif choice == "dwsep":
            layers.append({"dwsep": {"k": k, "stride": stride, "out": _channels(draw), "act": act}})
        elif choice == "dw":
            layers.append({"dw": {"k": k, "stride": stride, "multiplier": draw(st.integers(1, 2))}})
        elif choice == "pool":
            layers.append({"pool": {"type": draw(st.sampled_from(["avg", "max"])), "k": 2,
                                    "stride": 2}})
        elif choice == "pw":
            layers.append({"pw": {"out": _channels(draw), "act": act}})
        elif choice == "pw_expand":
            layers.append({"pw": {"expand": draw(st.integers(1, 6)), "act": act}})
        elif choice == "bn":
            layers.append("bn")
        elif choice == "act":
            layers.append(draw(st.sampled_from(["relu", "relu6", "hswish", "sigmoid"])))
        elif choice == "se":
            layers.append({"se": {"act": "relu", "gate": "hsigmoid"}})
        else:
            uses_block = True
            layers.append({"ir": {"t": draw(st.integers(1, 6)), "c": _channels(draw),
                                  "n": draw(st.integers(1, 3)), "s": stride}})
    layers.append({"pool": {"type": "global"}})
    if draw(st.booleans()):
        layers.append({"fc": {"out": "classes"}})
    spec = {"mbcost": 1, "name": f"fuzz_{i if kinds else 0}", "input": [h, h, 3],
            "classes": draw(st.integers(1, 1000)),
            "width": {"rule": rule, "divisor": 8}, "defaults": {"bn": draw(st.booleans())},
            "layers": layers}
    if uses_block:
        # the MobileNetV2 inverted residual: expand, depthwise, linear projection, shortcut
        spec["blocks"] = {"ir": {"args": {"t": None, "c": None, "s": 1}, "layers": [
            {"pw": {"name": "expand", "expand": "t", "when": "t != 1"}},
            {"dw": {"name": "dw", "k": 3, "stride": "s"}},
            {"pw": {"name": "project", "out": "c", "act": "none"}},
            "residual"]}}
    return spec, 2 ** n_strided, h


# ---------------------------------------------------------------- mutations

def _paths(obj, prefix=()):
    """Every (path, value) in a nested dict/list tree, the root included."""
    yield prefix, obj
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _get(obj, path):
    for p in path:
        obj = obj[p]
    return obj


REPLACEMENTS = st.one_of(
    st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.none(), st.text(max_size=20), st.sampled_from(INJECTIONS),
    st.lists(st.integers(-5, 5), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.sampled_from(["same", "valid", "relu", "global", "block_input", "input", "up", "stem",
                     "ir", "conv", "make_divisible", "truncate", "1/3", "0", "-1", "10**9"]),
    st.sampled_from(HOSTILE_NUMBERS), st.sampled_from(HOSTILE_NAMES),
    st.sampled_from([10**4000, -(10**4000), 10**19, 2**63]),  # (YAML text of up to 4,001 digits)
)


@st.composite
def mutate_data(draw, spec):
    """Apply 1-4 structural mutations to a deep copy of a spec dict."""
    spec = copy.deepcopy(spec)
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p, _ in _paths(spec)]
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["delete", "replace", "negate", "rename", "duplicate", "wrap",
                                   "amplify", "name"]))
        if op == "amplify" and isinstance(spec, dict):
            _amplify(draw, spec)
            continue
        if op == "name" and isinstance(spec, dict):
            _hostile_name(draw, spec)
            continue
        if not path:
            if op == "replace":
                spec = draw(REPLACEMENTS)
            continue
        parent, key = _get(spec, path[:-1]), path[-1]
        val = parent[key]
        if op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = draw(REPLACEMENTS)
        elif op == "negate" and isinstance(val, (int, float)) and not isinstance(val, bool):
            parent[key] = -val
        elif op == "negate":
            parent[key] = 0
        elif op == "rename" and isinstance(parent, dict):
            new = draw(st.sampled_from(["", "x", str(key) + "s", str(key)[:-1], "K", "name", "__class__"]))
            if new not in parent:
                parent[new] = parent.pop(key)
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(val))
        else:
            parent[key] = [val] if draw(st.booleans()) else {"x": val}
        if not isinstance(spec, (dict, list)):
            break
    return spec


def _amplify(draw, spec):
    """Work that no layer count sees: empty bodies repeated, many branches or merge inputs,
    a huge depth multiplier, a body with a word argument copied on every repeat."""
    how = draw(st.sampled_from(["empty", "nested", "branches", "merge", "depth", "words"]))
    n = draw(st.sampled_from([2, 1000, 10000]))
    blocks = spec.setdefault("blocks", {}) if isinstance(spec.get("blocks", {}), dict) else {}
    layers = spec.get("layers") if isinstance(spec.get("layers"), list) else []
    if how == "empty":
        blocks["e0"] = {"layers": []}
        layers.append({"e0": {"n": n}})
    elif how == "nested":
        blocks["e0"] = {"layers": []}
        blocks["e1"] = {"layers": [{"e0": {"n": n}}]}
        layers.append({"e1": {"n": n}})
    elif how == "branches":
        blocks["p0"] = {"layers": [{"parallel": {"merge": "add", "branches": [[]] * draw(
            st.sampled_from([2, 3000, 30000]))}}]}
        layers.append({"p0": {"n": n}})
    elif how == "merge":
        blocks["m0"] = {"layers": [{"add": {"from": ["block_input"] * draw(st.sampled_from([2, 30000]))}}]}
        layers.append({"m0": {"n": n}})
    elif how == "depth":
        spec["depth"] = {"multiplier": draw(st.sampled_from([10**6, 10**12, "1e9_9", 10**18]))}
    else:
        blocks["w0"] = {"args": {"a": "relu"}, "layers": ["a", {"parallel": {
            "when": 0, "branches": [["linear"] * draw(st.sampled_from([10, 20000]))]}}]}
        layers.append({"w0": {"n": n}})


def _hostile_name(draw, spec):
    """A spec name, title or layer name holding control characters or Markdown structure."""
    name = draw(st.sampled_from(HOSTILE_NAMES))
    where = draw(st.sampled_from(["name", "title", "layer"]))
    if where != "layer":
        spec[where] = name
        return
    for item in spec.get("layers") or []:
        if isinstance(item, dict) and len(item) == 1:
            fields = next(iter(item.values()))
            if isinstance(fields, dict):
                fields["name"] = name
                return


def dump(spec):
    """YAML text of a spec (plain safe_dump; mutated trees may hold any YAML scalar)."""
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=10_000)


@st.composite
def mutate_bytes(draw, data):
    """Apply 1-3 byte-level mutations: insert, delete, overwrite, truncate, duplicate a line."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        n = len(data)
        pos = draw(st.integers(0, n))
        op = draw(st.sampled_from(["insert", "delete", "overwrite", "truncate", "dupline", "special"]))
        if op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 20))]
        elif op == "overwrite" and n:
            data[min(pos, n - 1)] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[pos:]
        elif op == "dupline":
            lines = bytes(data).split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            data = bytearray(b"\n".join(lines))
        else:
            data[pos:pos] = draw(st.sampled_from(
                [b"&a ", b"*a", b"<<: ", b"!!python/object:os.system ", b"{", b"[", b"- ", b": ",
                 b"\t", b"\xff", b"\xc3", b"---\n", b"%YAML 1.1\n", b"? ", b"|\n", b"'", b'"',
                 b"\r", b"\x00", b"\xef\xbb\xbf", b" #", b"1:30", b"0x1F", b".inf", b"~",
                 HUGE_HEX.encode(), "٣٢".encode(), "３２".encode(), b"1e9_9_9_9", b"\\x1b[2J",
                 b"\"\\e]0;x\\a\"", *TAGGED]))
    return bytes(data)
