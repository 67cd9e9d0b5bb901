"""YAML spec files -> validated, frozen ``Spec`` objects with a line for every node.

The loader composes YAML with PyYAML's *safe* composer and builds Python values
itself, so every mapping and list remembers the line it came from; errors can
then say ``FILE:LINE: layer 'NAME': field 'F': ...``. Aliases are expanded with
a node budget, so an alias bomb ends with an error instead of exhausting memory.
"""

from __future__ import annotations

import contextlib
import contextvars
import difflib
import os
import re
import stat
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from pathlib import Path

import yaml

from . import expr
from .errors import LimitError, SpecError, UsageError, show
from .layers import LAYER_KINDS
from .numbers import MAX_CHARS

SPEC_VERSION = 1
MAX_FILE_BYTES = 5 * 1024 * 1024  # a spec file larger than this is refused
MAX_YAML_NODES = 200_000  # scalars + mappings + lists after alias expansion
MAX_YAML_DEPTH = 64  # nesting of YAML mappings and lists
MAX_EXTENDS = 8  # length of an `extends:` chain
MAX_NAME = 200  # characters of a name (spec, title, layer)
MAX_SUGGEST_NAME = 64  # names longer than this are neither suggested nor compared
MAX_SUGGEST_WORK = 1_000_000  # character pairs one 'did you mean' may compare, at the most

TOP_KEYS = (
    "mbcost", "name", "title", "description", "source", "extends", "input", "classes",
    "width", "depth", "defaults", "vars", "blocks", "layers",
)
WIDTH_RULES = ("truncate", "make_divisible", "fixed")


class LDict(dict):
    """A mapping from YAML that remembers its own line and each key's line."""

    line: int | None = None
    key_lines: dict
    name_lines: dict

    def line_of(self, key):
        """The line of key's value, or of the mapping itself."""
        return self.key_lines.get(key, self.line) if hasattr(self, "key_lines") else self.line


class LList(list):
    """A list from YAML that remembers its own line and each item's line."""

    line: int | None = None
    item_lines: list


def line_of(obj, key=None):
    """Best line number for obj (or obj[key]) if it came from YAML."""
    if key is not None and isinstance(obj, LDict):
        return obj.line_of(key)
    if isinstance(obj, LList) and isinstance(key, int) and key < len(obj.item_lines):
        return obj.item_lines[key]
    return getattr(obj, "line", None)


def key_line(obj, key):
    """The line of key itself (not its value), e.g. for an unknown-key error."""
    names = getattr(obj, "name_lines", None)
    return names[key] if names and key in names else line_of(obj, key)


def type_name(obj):
    """A YAML-minded name for obj's type in error messages (mapping, list, text...)."""
    if isinstance(obj, dict):
        return "mapping"
    if isinstance(obj, list):
        return "list"
    return {str: "text", bool: "boolean", type(None): "null"}.get(type(obj), type(obj).__name__)


def suggest(name, known, cutoff=0.6):
    """' (did you mean X?)' for the closest known name, or '' (case first: ReLU -> relu).

    difflib.get_close_matches(name, known, n=1) on a budget: only text names of at most
    MAX_SUGGEST_NAME characters take part, and the comparison stops once it has compared
    MAX_SUGGEST_WORK character pairs (a spec may hold tens of thousands of long names;
    comparing them all would take minutes for the sake of a hint)."""
    if not isinstance(name, str) or not name or len(name) > MAX_SUGGEST_NAME:
        return ""
    matcher, best, work = difflib.SequenceMatcher(), None, 0
    matcher.set_seq2(name)
    for k in known:
        if not isinstance(k, str) or not k or len(k) > MAX_SUGGEST_NAME:
            continue
        if k.lower() == name.lower():
            return f" (did you mean '{k}'?)"  # case first: ReLU -> relu
        work += len(k) * len(name)
        if work > MAX_SUGGEST_WORK:
            break
        matcher.set_seq1(k)
        if (matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff
                and matcher.ratio() >= cutoff):
            best = max(best, (matcher.ratio(), k)) if best else (matcher.ratio(), k)
    return f" (did you mean '{best[1]}'?)" if best else ""


FORMULA_START = "=+-@"  # what spreadsheets read as a formula at a cell's start


def name_problem(value, multiline=False):
    """Why value cannot be a name (spec name, title, layer name), or None.

    Names reach terminals, Markdown and CSV: they are printable text of at most MAX_NAME
    characters, so no escape sequence (ESC), line break or bidi control gets through; a
    one-line name does not start with =, +, - or @, which a spreadsheet opening the CSV
    would run as a formula (CSV injection)."""
    if not isinstance(value, str) or not value.strip():
        return "must be non-empty text"
    if len(value) > MAX_NAME and not multiline:
        return f"must be at most {MAX_NAME} characters"
    if not multiline and value.lstrip()[0] in FORMULA_START:
        return ("must not start with =, +, - or @ (a spreadsheet would run the CSV cell as a "
                "formula)")
    bad = next((c for c in value if not c.isprintable() and not (multiline and c in "\n\t")), None)
    if bad is not None:
        return f"must be printable text: no control characters (found {bad!r})"
    return None


# ---------------------------------------------------------------- YAML

# libyaml's event parser when installed (about 10x faster), else PyYAML's own; both
# are the *safe* loaders and only their event streams are used (never yaml.load).
_LOADER = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader
_RESOLVER = yaml.resolver.Resolver()
_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


class _Frame:
    """One open mapping or list while composing: its value, budget and height so far."""

    __slots__ = ("value", "anchor", "start", "height", "key", "key_line")

    def __init__(self, value, anchor, start):
        self.value, self.anchor, self.start = value, anchor, start
        self.height, self.key, self.key_line = 1, _NO_KEY, None


_NO_KEY = object()


class NodeBudget:
    """YAML nodes composed so far, against MAX_YAML_NODES: one budget for a spec and every
    file it extends (and, in `mbcost check --budget`, for the budget file and its specs)."""

    __slots__ = ("used",)

    def __init__(self):
        self.used = 0


class _Progress:
    """How far composing got: the end of the last event and the open depth there."""

    __slots__ = ("index", "depth")

    def __init__(self):
        self.index, self.depth = 0, 0


def _compose(text, path, progress=None, loader=None, nodes=None):
    """Build LDict/LList/scalars from the YAML event stream, iteratively.

    No recursion, so nesting cannot overflow the stack; the node budget counts
    every alias at its expanded size and the depth check runs as events arrive,
    so alias bombs and deep nesting stop after a bounded amount of parsing.
    """
    constructor = yaml.constructor.SafeConstructor()  # fresh: it caches every node it builds
    anchors = {}  # anchor -> (value, node count, height), or None while still open
    nodes = nodes if nodes is not None else NodeBudget()
    stack, budget, root, docs = [], nodes.used, _NO_KEY, 0
    over = (f"YAML expands to more than {MAX_YAML_NODES} nodes " +
            ("(counting the files read before it)" if nodes.used else "(alias bomb?)"))
    progress = progress if progress is not None else _Progress()
    for ev in yaml.parse(text, Loader=loader or _LOADER):
        if ev.end_mark is not None:
            progress.index, progress.depth = ev.end_mark.index, len(stack)
        line = ev.start_mark.line + 1 if ev.start_mark is not None else None
        if isinstance(ev, yaml.DocumentStartEvent):
            docs += 1
            if docs > 1:
                raise SpecError("a spec file holds one YAML document; found a second '---'",
                                path=path, line=line)
            continue
        if isinstance(ev, (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)):
            continue
        if isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            frame = stack.pop()
            value, count, height = frame.value, budget - frame.start, frame.height
            if frame.anchor is not None:
                anchors[frame.anchor] = (value, count, height)
        else:
            if isinstance(ev, yaml.AliasEvent):
                if ev.anchor not in anchors:
                    raise SpecError(f"unknown YAML alias '*{ev.anchor}'", path=path, line=line)
                if anchors[ev.anchor] is None:
                    raise SpecError(f"YAML alias '*{ev.anchor}' refers to itself", path=path, line=line)
                value, count, height = anchors[ev.anchor]
            elif isinstance(ev, yaml.ScalarEvent):
                value, count, height = _scalar(ev, constructor, path, line), 1, 0
                if ev.anchor is not None:
                    anchors[ev.anchor] = (value, 1, 0)
            else:  # a mapping or a list starts
                tag = ev.tag
                if tag not in (None, "!") and tag not in _COLLECTION_TAGS:
                    raise SpecError(f"unsupported YAML tag {tag}", path=path, line=line)
                value = LDict() if isinstance(ev, yaml.MappingStartEvent) else LList()
                value.line = line
                if isinstance(value, LDict):
                    value.key_lines, value.name_lines = {}, {}
                else:
                    value.item_lines = []
                count, height = 1, 1
            budget += count
            nodes.used = budget
            if budget > MAX_YAML_NODES:
                raise LimitError(over, path=path, line=line)
            if len(stack) + height > MAX_YAML_DEPTH:
                raise LimitError(f"YAML nested deeper than {MAX_YAML_DEPTH} levels", path=path, line=line)
            if isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                _attach_key_check(stack, path, line)
                stack.append(_Frame(value, ev.anchor, budget - 1))
                if ev.anchor is not None:
                    anchors[ev.anchor] = None
                continue
        _attach(stack, value, height, line, path)
        if not stack:
            root = value
    if root is _NO_KEY:
        raise SpecError("the file is empty", path=path, line=1)
    return root


def _attach_key_check(stack, path, line):
    """A mapping or list may not be a mapping key."""
    if stack and isinstance(stack[-1].value, LDict) and stack[-1].key is _NO_KEY:
        raise SpecError("mapping keys must be plain names", path=path, line=line)


def _attach(stack, value, height, line, path):
    """Put a finished value into the open container on top of the stack."""
    if not stack:
        return
    top = stack[-1]
    top.height = max(top.height, height + 1)
    out = top.value
    if isinstance(out, LList):
        out.append(value)
        out.item_lines.append(line)
        return
    if top.key is _NO_KEY:
        key = value
        if isinstance(key, (dict, list)):
            raise SpecError("mapping keys must be plain names", path=path, line=line)
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            key = str(key)
        if key in out:
            raise SpecError(f"duplicate key '{key}'", path=path, line=line)
        top.key, top.key_line = key, line
        return
    out[top.key] = value
    out.key_lines[top.key] = line
    out.name_lines[top.key] = top.key_line
    top.key = _NO_KEY


_Y = "tag:yaml.org,2002:"
# explicit scalar tags a spec may use, each with the implicit types its text may have
# (`!!float 3` is 3.0; `!!int ""` or `!!bool maybe` is no value of that type)
_EXPLICIT = {_Y + "str": None, _Y + "int": (_Y + "int",), _Y + "float": (_Y + "int", _Y + "float"),
             _Y + "bool": (_Y + "bool",), _Y + "null": (_Y + "null",),
             _Y + "timestamp": (_Y + "timestamp",)}


def _scalar(ev, constructor, path, line):
    tag = ev.tag
    if tag in (None, "!"):
        tag = _RESOLVER.resolve(yaml.ScalarNode, ev.value, ev.implicit)
    elif tag not in _EXPLICIT:
        raise SpecError(f"unsupported YAML tag {tag}", path=path, line=line)
    elif _EXPLICIT[tag] and _RESOLVER.resolve(yaml.ScalarNode, ev.value, (True, False)) not in _EXPLICIT[tag]:
        raise SpecError(f"not a value of type !!{tag[len(_Y):]}", path=path, line=line, got=ev.value)
    if tag in (_Y + "int", _Y + "float") and len(ev.value) > MAX_CHARS:
        raise SpecError(f"number longer than {MAX_CHARS} characters", path=path, line=line,
                        got=ev.value)
    if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float") and ":" in ev.value:
        # YAML 1.1 reads 1:30 as the base-60 number 90: never what a spec means
        raise SpecError(f"'{ev.value}' is a YAML base-60 number; quote it or write a plain number",
                        path=path, line=line)
    if tag == "tag:yaml.org,2002:merge":
        raise SpecError("YAML merge keys (<<) are not supported; write the fields out",
                        path=path, line=line)
    node = yaml.ScalarNode(tag, ev.value, ev.start_mark, ev.end_mark, ev.style)
    try:
        return constructor.construct_object(node, deep=True)
    except Exception as e:  # PyYAML's constructors fail in many ways on odd scalars
        why = str(e).splitlines()[0] if str(e).strip() else type(e).__name__
        if "digits" in why:
            why = "number has too many digits"
        raise SpecError(f"bad value: {why}", path=path, line=line, got=ev.value) from None


def check_tree(data, path="<spec>"):
    """A spec given as Python data meets the limits a YAML file has: at most MAX_YAML_NODES
    values (shared lists counted at every use, as aliases are), MAX_YAML_DEPTH levels and
    keys that are text or integers; so a list that contains itself ends in an error, not
    a RecursionError, and no message has to show a key it cannot."""
    count, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_YAML_NODES:
            raise LimitError(f"spec data holds more than {MAX_YAML_NODES} values", path=path)
        if isinstance(value, (dict, list, tuple)):
            if depth > MAX_YAML_DEPTH:
                raise LimitError(f"spec data nested deeper than {MAX_YAML_DEPTH} levels "
                                 "(or a list that contains itself)", path=path)
            if isinstance(value, dict):
                for k in value:
                    if isinstance(k, bool) or not isinstance(k, (str, int)) or (
                            isinstance(k, int) and abs(k) > 10**18):
                        raise SpecError("mapping keys must be text or integers up to 10^18",
                                        path=path, got=k)
            items = value.values() if isinstance(value, dict) else value
            stack.extend((v, depth + 1) for v in items)


def _flow_depth_past(text, start, end, depth):
    """The index where flow nesting first passes MAX_YAML_DEPTH in text[start:end], or None.

    A parser may read far ahead of the events it has handed over (libyaml does
    so over ``[[[[``, to see whether a simple key follows) and may stop on a
    limit of its own there, before mbcost's depth check saw the nesting. This
    counts the flow brackets the parser read ahead, skipping quoted scalars and
    comments, from the depth the events had reached; so mbcost's limit and
    message hold whatever the YAML backend, its version or its own limits.
    """
    i, n = start, min(end, len(text))
    while i < n:
        c = text[i]
        if c in "[{":
            depth += 1
            if depth > MAX_YAML_DEPTH:
                return i
        elif c in "]}":
            depth -= 1
        elif c in "'\"":
            close = text.find(c, i + 1)
            while close != -1 and c == '"' and _escaped(text, close):
                close = text.find(c, close + 1)
            while close != -1 and c == "'" and text.startswith("''", close):
                close = text.find(c, close + 2)
            if close == -1:
                return None
            i = close
        elif c == "#" and (i == 0 or text[i - 1] in " \t\r\n"):
            i = text.find("\n", i)
            if i == -1:
                return None
        i += 1
    return None


def _escaped(text, i):
    """Whether text[i] is escaped by an odd run of backslashes."""
    run = 0
    while i - run - 1 >= 0 and text[i - run - 1] == "\\":
        run += 1
    return run % 2 == 1


def parse_yaml(text, path="<spec>", nodes=None):
    """Parse YAML text safely into LDict/LList/scalars with line numbers; nodes, a
    NodeBudget, carries the node count over several files (an extends chain)."""
    progress = _Progress()
    try:
        return _compose(text, path, progress, nodes=nodes)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        if mark is not None and isinstance(mark.index, int):
            deep = _flow_depth_past(text, progress.index, mark.index + 1, progress.depth)
            if deep is not None:
                raise LimitError(f"YAML nested deeper than {MAX_YAML_DEPTH} levels", path=path,
                                 line=text.count("\n", 0, deep) + 1) from None
        line = mark.line + 1 if mark else None
        msg = (e.problem or e.context or "invalid YAML").strip()
        raise SpecError(f"YAML syntax error: {msg}", path=path, line=line) from None
    except yaml.reader.ReaderError as e:
        line = text.count("\n", 0, e.position) + 1 if isinstance(e.position, int) else None
        raise SpecError(f"YAML error: {e.reason} (character {e.character!r})", path=path,
                        line=line) from None
    except yaml.YAMLError as e:
        raise SpecError(f"YAML error: {str(e).splitlines()[0]}", path=path) from None


# ---------------------------------------------------------------- resolving names

def bundled_dir():
    """The folder of bundled specs installed with the package."""
    return Path(str(resources.files("mbcost") / "specs"))


def bundled_names():
    """Names of the bundled specs, sorted; each works as a spec argument anywhere.

    Returns a list of str; raises nothing.

        >>> "mobilenet_v1" in bundled_names()
        True
    """
    return sorted(p.stem for p in bundled_dir().glob("*.yaml"))


def exists(path):
    """Whether path exists; a name the OS cannot even look up (too long, NUL) does not."""
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return False


def resolve(name_or_path):
    """A path that exists is used first, then a bundled name, with or without .yaml."""
    p = Path(name_or_path)
    if exists(p):
        return p
    stem = p.name[:-5] if p.name.endswith(".yaml") else p.name
    if str(p.parent) in ("", ".") and stem:
        cand = bundled_dir() / f"{stem}.yaml"
        if exists(cand) and cand.is_file():
            return cand
    raise SpecError(
        f"no such spec file or bundled spec{suggest(stem, bundled_names())}; "
        "'mbcost list' shows the bundled ones",
        path=name_or_path,
    )


def read_text(path, regular_only=False):
    """Read a spec file as UTF-8 text, refusing directories, huge and non-UTF-8 files; with
    regular_only also devices and pipes (an `extends:` written by someone else must not make
    mbcost wait on /dev/stdin or a FIFO)."""
    p = Path(path)
    try:
        if p.is_dir():
            raise SpecError("is a directory, not a spec file", path=path)
        st = p.stat()
        if regular_only and not stat.S_ISREG(st.st_mode):
            raise SpecError("is not a regular file", path=path)
        size = st.st_size
        if size > MAX_FILE_BYTES:
            raise LimitError(f"file is {size} bytes; the limit is {MAX_FILE_BYTES}", path=path)
        with p.open("rb") as fh:  # bounded: /dev/zero or a growing file must not exhaust memory
            data = fh.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            # a device or a growing file (/dev/zero): its size is unknown, the wording the same
            raise LimitError(f"file is over {MAX_FILE_BYTES} bytes; the limit is {MAX_FILE_BYTES}",
                             path=path)
    except OSError as e:
        raise SpecError(f"cannot read file: {e.strerror or e}", path=path) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise SpecError(f"file is not UTF-8 text (byte {e.start})", path=path, line=line) from None


# ---------------------------------------------------------------- spec objects

@dataclass(frozen=True)
class Rounding:
    """A channel rounding rule: how a real channel count becomes an integer."""

    rule: str = "truncate"  # truncate: max(int(v), min); make_divisible: nearest multiple;
    # fixed: channels as written, alpha must be 1 (an imported ONNX graph's channels)
    divisor: int = 8
    min: int | None = None

    def apply(self, v):
        """Round a non-negative real channel count to an integer by this rule."""
        if self.rule == "make_divisible":
            return expr.make_divisible(v, self.divisor, self.min)
        return max(int(Fraction(v)), 1 if self.min is None else self.min)

    def describe(self):
        """Human words for the rule."""
        if self.rule == "fixed":
            return "fixed channels"
        if self.rule == "make_divisible":
            return f"make_divisible(c, {self.divisor})" + (f", min {self.min}" if self.min else "")
        return f"max(int(c), {1 if self.min is None else self.min})"


@dataclass(frozen=True)
class Spec:
    """A validated architecture spec; layers and blocks stay as located YAML data
    and are checked field by field when the graph is built."""

    path: str
    name: str
    title: str
    description: str
    input: tuple
    classes: int
    rounding: Rounding
    width_multiplier: Fraction
    depth_multiplier: Fraction
    defaults: dict
    vars: dict
    blocks: dict
    layers: list
    source: str = ""

    def __repr__(self):
        return f"Spec(name={self.name!r}, path={self.path!r}, input={self.input}, layers=<{len(self.layers)} items>)"


def _err(msg, data, key, path, got=None):
    return SpecError(msg, path=path, line=line_of(data, key), field=key, got=got)


def _positive_int(data, key, path, env=None, allow_zero=False):
    raw = data[key]
    try:
        v = expr.value(raw, env or {})
    except SpecError as e:
        raise e.located(path=path, line=line_of(data, key), field=key) from None
    if not isinstance(v, int) or v < (0 if allow_zero else 1):
        raise _err("must be a positive integer", data, key, path, got=raw)
    return v


def _number(data, key, path, env=None):
    raw = data[key]
    try:
        v = expr.value(raw, env or {})
    except SpecError as e:
        raise e.located(path=path, line=line_of(data, key), field=key) from None
    if v <= 0:
        raise _err("must be a positive number", data, key, path, got=raw)
    return Fraction(v)


def _parse_rounding(data, key, path, base=None):
    w = data.get(key)
    if w is None:
        return base or Rounding(), Fraction(1)
    if not isinstance(w, dict):
        raise _err("must be a mapping like {rule: make_divisible, divisor: 8}", data, key, path, got=w)
    for k in w:
        if k not in ("rule", "divisor", "min", "multiplier"):
            raise SpecError(f"unknown field{suggest(k, ('rule', 'divisor', 'min', 'multiplier'))}",
                            path=path, line=key_line(w, k), field=f"{key}.{k}")
    rule = w.get("rule", base.rule if base else "truncate")
    if rule not in WIDTH_RULES:
        raise SpecError(f"must be one of {', '.join(WIDTH_RULES)}", path=path, line=line_of(w, "rule"),
                        field=f"{key}.rule", got=rule)
    divisor = _positive_int(w, "divisor", path) if "divisor" in w else (base.divisor if base else 8)
    mn = _positive_int(w, "min", path) if "min" in w else (base.min if base else None)
    mult = _number(w, "multiplier", path) if "multiplier" in w else Fraction(1)
    return Rounding(rule, divisor, mn), mult


def spec_from_data(data, path="<spec>", _chain=(), _nodes=None):
    """Validate a parsed spec mapping (from YAML or a dict) into a Spec."""
    if isinstance(data, dict) and not isinstance(data, LDict):
        check_tree(data, path)  # a Python dict: the limits YAML has, and no cycles
    if not isinstance(data, dict):
        raise SpecError("a spec must be a YAML mapping with name, input and layers",
                        path=path, line=line_of(data), got=type_name(data))
    for k in data:
        if k not in TOP_KEYS:
            raise SpecError(f"unknown top-level field{suggest(k, TOP_KEYS)}", path=path,
                            line=key_line(data, k), field=k)
    version = data.get("mbcost", SPEC_VERSION)
    if version != SPEC_VERSION:
        raise _err(f"unsupported spec format version; this mbcost reads version {SPEC_VERSION}",
                   data, "mbcost", path, got=version)

    base = None
    if "extends" in data:
        parent = data["extends"]
        if not isinstance(parent, str):
            raise _err("must be a spec name or path", data, "extends", path, got=parent)
        if len(_chain) >= MAX_EXTENDS or parent in _chain:
            raise _err("extends chain is circular or too long", data, "extends", path, got=parent)
        ppath = parent
        if path not in ("<spec>", None) and not Path(parent).is_absolute():
            sibling = Path(path).parent / parent
            if exists(sibling):
                ppath = str(sibling)
        try:
            base = load_spec(ppath, _chain=_chain + (parent,), _nodes=_nodes)
        except SpecError as e:
            if str(e.path) in (parent, str(ppath)):  # the parent itself is missing or unreadable
                e.path, e.line, e.field = path, line_of(data, "extends"), "extends"
                e.got = e.got if e.got is not None else parent
            raise

    def pick(key, default):
        return data[key] if key in data else (getattr(base, key) if base else default)

    if base is not None and "name" not in data:
        # a child without a name is another network: its file's stem, and a title that says
        # what it extends (not the parent's name and title)
        name = Path(path).stem if path not in ("<spec>", None) else f"{base.name}_variant"
        default_title = f"{name} (extends {base.name})"
    else:
        name = data.get("name")
        default_title = name
    if not isinstance(name, str) or not name.strip():
        raise SpecError("is required and must be text", path=path, line=line_of(data, "name"),
                        field="name", got=name)
    for key in ("title", "description", "source"):
        if key in data and not isinstance(data[key], str):
            raise _err("must be text", data, key, path, got=data[key])
    for key, value in (("name", name), ("title", data.get("title")),
                       ("description", data.get("description")), ("source", data.get("source"))):
        problem = name_problem(value, key in ("description", "source")) if value is not None else None
        if problem:  # also a name taken from the file's stem
            raise SpecError(problem, path=path, line=line_of(data, key), field=key, got=value)
    title = data.get("title", default_title)
    description = data.get("description", base.description if base else "")
    source = data.get("source", base.source if base else "")

    if "input" in data:
        inp = data["input"]
        if not isinstance(inp, list) or len(inp) != 3:
            raise _err("must be a list [H, W, C]", data, "input", path, got=inp)
        dims = []
        for i, v in enumerate(inp):
            try:
                dv = expr.value(v, {})
            except SpecError as e:
                raise e.located(path=path, line=line_of(data, "input"), field="input") from None
            if not isinstance(dv, int) or dv < 1:
                raise _err("sizes must be positive integers [H, W, C]", data, "input", path, got=v)
            dims.append(dv)
        input_shape = tuple(dims)
    elif base:
        input_shape = base.input
    else:
        raise SpecError("is required: [H, W, C]", path=path, line=line_of(data), field="input")
    from .limits import MAX_CHANNELS, MAX_RESOLUTION  # shared limits

    if max(input_shape[:2]) > MAX_RESOLUTION or input_shape[2] > MAX_CHANNELS:
        raise _err(f"input exceeds the limits ({MAX_RESOLUTION} px, {MAX_CHANNELS} channels)",
                   data, "input", path, got=list(input_shape))

    classes = _positive_int(data, "classes", path) if "classes" in data else (base.classes if base else 1000)

    if "width" in data:
        rounding, wmult = _parse_rounding(data, "width", path, base.rounding if base else None)
    elif base:
        rounding, wmult = base.rounding, base.width_multiplier
    else:
        rounding, wmult = Rounding(), Fraction(1)

    dmult = base.depth_multiplier if base else Fraction(1)
    if "depth" in data:
        d = data["depth"]
        if not isinstance(d, dict) or set(d) - {"multiplier"}:
            raise _err("must be a mapping {multiplier: D}", data, "depth", path, got=d)
        dmult = _number(d, "multiplier", path) if "multiplier" in d else Fraction(1)

    defaults = dict(base.defaults) if base else {}
    if "defaults" in data:
        dd = data["defaults"]
        if not isinstance(dd, dict):
            raise _err("must be a mapping like {bn: true, act: relu}", data, "defaults", path, got=dd)
        for k in dd:
            if k not in ("bn", "act"):
                raise SpecError(f"unknown default{suggest(k, ('bn', 'act'))}; defaults may set "
                                "only bn and act (set other fields on each layer or in a block)",
                                path=path, line=key_line(dd, k), field=f"defaults.{k}")
            if k == "bn" and not isinstance(dd[k], bool):
                raise SpecError("must be true or false", path=path, line=line_of(dd, k),
                                field="defaults.bn", got=dd[k])
        defaults.update(dd)

    variables = dict(base.vars) if base else {}
    if "vars" in data:
        vv = data["vars"]
        if not isinstance(vv, dict):
            raise _err("must be a mapping of names to numbers", data, "vars", path, got=vv)
        env = {"classes": classes, **variables}
        for k in vv:
            if not isinstance(k, str) or not k.isidentifier() or k.startswith("_"):
                raise SpecError("variable names must be identifiers", path=path, line=line_of(vv, k),
                                field=f"vars.{k}", got=k)
            try:
                env[k] = variables[k] = expr.value(vv[k], env)
            except SpecError as e:
                raise e.located(path=path, line=line_of(vv, k), field=f"vars.{k}") from None

    blocks = dict(base.blocks) if base else {}
    if "blocks" in data:
        bb = data["blocks"]
        if not isinstance(bb, dict):
            raise _err("must be a mapping of block names to definitions", data, "blocks", path, got=bb)
        for k, b in bb.items():
            if not isinstance(k, str) or not k.isidentifier():
                raise SpecError("block names must be identifiers", path=path, line=line_of(bb, k),
                                field=f"blocks.{k}", got=k)
            if k in LAYER_KINDS:  # a block would silently replace the built-in kind
                raise SpecError(f"block name '{k}' is a built-in layer kind; choose another",
                                path=path, line=line_of(bb, k), field=f"blocks.{k}")
            blocks[k] = (b, path)

    if "layers" in data:
        layers = data["layers"]
        if not isinstance(layers, list) or not layers:
            raise _err("must be a non-empty list of layers", data, "layers", path, got=layers)
        layers = (layers, path)
    elif base:
        layers = base.layers
    else:
        raise SpecError("is required: a list of layers", path=path, line=line_of(data), field="layers")

    return Spec(path=str(path), name=name, title=title, description=description, input=input_shape,
                classes=classes, rounding=rounding, width_multiplier=wmult, depth_multiplier=dmult,
                defaults=defaults, vars=variables, blocks=blocks, layers=layers, source=source)


def load_spec(name_or_path, _chain=(), _nodes=None, _named_by_a_file=False):
    """Load a spec from a path or bundled name and validate its top level.

    ``name_or_path`` may be a bundled name (``"mobilenet_v1"``, with or without ``.yaml``;
    ``bundled_names()`` lists them), a path to a YAML file (a path that exists wins over a
    bundled name), a path to an ONNX model (``.onnx``, read by ``mbcost.read_onnx``), a dict
    with the same content as a spec file, or a ``Spec`` (returned as it is). ``extends:`` is
    resolved here.

    Returns a frozen ``Spec`` (name, title, input, classes, width and depth rules,
    defaults, vars, blocks, layers); the layers are checked field by field when the graph
    is built (``build_graph``, ``analyze``).

    Raises ``mbcost.SpecError`` (a ``ValueError``) with file, line and field for a missing
    file, bad YAML or a malformed top level, and its subclass ``mbcost.LimitError`` for a
    file over a documented limit (size, YAML nodes or nesting, extends chain).

        >>> s = load_spec("mobilenet_v1")
        >>> s.name, s.input
        ('mobilenet_v1', (224, 224, 3))
        >>> load_spec({"name": "t", "input": [8, 8, 3], "layers": ["bn"], "colour": 1})
        Traceback (most recent call last):
        mbcost.errors.SpecError: <spec>: field 'colour': ...

    Anything else raises ``mbcost.UsageError``. A spec file named by another file (an
    ``extends:``, a budget file's ``spec:``) must be a regular file, and an error about
    one that is not a spec at all never shows its content: someone else's file must not
    make mbcost print /etc/shadow.
    """
    if isinstance(name_or_path, Spec):
        return name_or_path
    if isinstance(name_or_path, dict):
        return spec_from_data(name_or_path)
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise UsageError("spec must be a path, a bundled name, a dict or a Spec "
                         f"(got {type(name_or_path).__name__} {show(name_or_path)})")
    name_or_path = os.fspath(name_or_path)
    if not isinstance(name_or_path, str):  # a PathLike of bytes
        raise UsageError(f"not a usable spec name or path: {show(name_or_path)}")
    guarded = _named_by_a_file or bool(_chain)
    path = resolve(name_or_path)
    shown = str(name_or_path) if exists(name_or_path) else str(path)
    nodes = _nodes if _nodes is not None else current_nodes()
    if str(path).lower().endswith(".onnx"):  # an ONNX model: read by the optional onnx extra
        from .onnx_reader import read_onnx

        return spec_from_data(read_onnx(path, shown=shown), shown, _chain, nodes)
    text = read_text(path, regular_only=guarded)
    try:
        data = parse_yaml(text, shown, nodes)
    except LimitError:
        raise
    except SpecError:
        if guarded and not _SPEC_LINE.search(text):
            raise _not_a_spec(shown) from None
        raise
    if guarded and not (isinstance(data, dict) and any(k in TOP_KEYS for k in data)):
        raise _not_a_spec(shown)
    return spec_from_data(data, shown, _chain, nodes)


# a top-level line that only a spec starts (a spec with a YAML mistake is still a spec)
_SPEC_LINE = re.compile(r"^(?:mbcost|name|extends|input|layers|blocks)[ \t]*:", re.MULTILINE)


def _not_a_spec(shown):
    return SpecError("is not an mbcost spec (a YAML mapping with name, input and layers); "
                     "its content is not shown", path=shown)


_SHARED_NODES = contextvars.ContextVar("mbcost_yaml_nodes", default=None)


def current_nodes():
    """The NodeBudget shared by the loads of the current `sharing_nodes()` block, or a new one."""
    return _SHARED_NODES.get() or NodeBudget()


@contextlib.contextmanager
def sharing_nodes(nodes):
    """Within the block, every spec loaded draws YAML nodes from the one NodeBudget nodes."""
    token = _SHARED_NODES.set(nodes)
    try:
        yield nodes
    finally:
        _SHARED_NODES.reset(token)
