"""The safe expression language of spec fields.

Spec fields that take a number may instead hold a small arithmetic expression
over declared variables, e.g. ``out: "2*c"`` or ``when: "t != 1"``. This module
tokenizes and parses such text itself; nothing from a spec ever reaches
``eval``, ``exec``, ``sympify`` or ``parse_expr``.

Grammar (whitelist; anything else is an error)::

    expr  := sum [("=="|"!="|"<"|"<="|">"|">=") sum]
    sum   := term (("+"|"-") term)*
    term  := unary (("*"|"/"|"//"|"%") unary)*
    unary := ("-"|"+") unary | atom
    atom  := NUMBER | NAME | FUNC "(" expr ("," expr)* ")" | "(" expr ")"
    FUNC  := min | max | ceil | floor | make_divisible

Numbers are exact: ``0.75`` is the fraction 3/4, ``/`` is exact division.
"""

from __future__ import annotations

import heapq
import math
import re
from fractions import Fraction

from .errors import ExprError
from .numbers import DECIMAL, MAX_CHARS

MAX_SOURCE = 256  # characters in one expression
MAX_DEPTH = 32  # nesting of parentheses / unary operators
MAX_MAGNITUDE = 10**18  # any intermediate value beyond this is refused

# ASCII only (re.ASCII): '٣' is no digit here; numbers are numbers.DECIMAL, the one grammar
_TOKEN = re.compile(
    rf"\s*(?:(?P<num>{DECIMAL})|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>//|==|!=|<=|>=|[-+*/%()<>,]))", re.ASCII
)
MAX_KNOWN = 12  # variable names listed in an 'unknown variable' message
_CMP = {"==", "!=", "<", "<=", ">", ">="}


def make_divisible(v, divisor=8, min_value=None, round_limit=Fraction(9, 10)):
    """Round v to the nearest multiple of divisor, halves up, never below min_value,
    and add one divisor if that fell more than 10% below v (TF-slim / torchvision
    ``_make_divisible``; EfficientNet ``round_filters``)."""
    v = Fraction(v)
    if Fraction(divisor).denominator != 1 or divisor <= 0:
        raise ExprError("make_divisible: divisor must be a positive integer", got=divisor)
    if min_value is not None and (Fraction(min_value).denominator != 1 or min_value < 0):
        raise ExprError("make_divisible: minimum must be a non-negative integer", got=min_value)
    divisor = int(divisor)
    min_value = divisor if min_value is None else int(min_value)
    new_v = max(min_value, int(v + Fraction(divisor, 2)) // divisor * divisor)
    if new_v < round_limit * v:
        new_v += divisor
    return new_v


def _ceil(x):
    return math.ceil(Fraction(x))


def _floor(x):
    return math.floor(Fraction(x))


FUNCTIONS = {
    "min": (min, 2, 8),
    "max": (max, 2, 8),
    "ceil": (_ceil, 1, 1),
    "floor": (_floor, 1, 1),
    "make_divisible": (make_divisible, 1, 3),
}


def _tokenize(text):
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            bad = text[pos:].lstrip()[:1] or text[pos:pos + 1]
            raise ExprError(f"unexpected character {bad!r} in expression", got=text)
        pos = m.end()
        if m.group("num") is not None:
            if len(m.group("num")) > MAX_CHARS:
                raise ExprError(f"number longer than {MAX_CHARS} characters in expression", got=text)
            out.append(("num", m.group("num")))
        elif m.group("name") is not None:
            out.append(("name", m.group("name")))
        else:
            out.append(("op", m.group("op")))
    return out


class _Parser:
    def __init__(self, text):
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def expect(self, op):
        kind, val = self.take()
        if kind != "op" or val != op:
            raise ExprError(f"expected {op!r} in expression", got=self.text)

    def enter(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(f"expression nested deeper than {MAX_DEPTH}", got=self.text)

    def parse(self):
        node = self.expr()
        if self.i != len(self.toks):
            raise ExprError(f"unexpected {self.peek()[1]!r} in expression", got=self.text)
        return node

    def expr(self):
        left = self.sum()
        kind, val = self.peek()
        if kind == "op" and val in _CMP:
            self.take()
            left = ("cmp", val, left, self.sum())
        return left

    def sum(self):
        left = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            left = ("bin", op, left, self.term())
        return left

    def term(self):
        left = self.unary()
        while self.peek()[0] == "op" and self.peek()[1] in ("*", "/", "//", "%"):
            op = self.take()[1]
            left = ("bin", op, left, self.unary())
        return left

    def unary(self):
        if self.peek() in (("op", "-"), ("op", "+")):
            op = self.take()[1]
            self.enter()
            node = self.unary()
            self.depth -= 1
            return ("neg", node) if op == "-" else node
        return self.atom()

    def atom(self):
        kind, val = self.take()
        if kind == "num":
            return ("num", Fraction(val))
        if kind == "name":
            if val.startswith("_"):
                raise ExprError(f"name {val!r} is not allowed in an expression", got=self.text)
            if self.peek() == ("op", "("):
                if val not in FUNCTIONS:
                    raise ExprError(
                        f"unknown function {val!r}; allowed: {', '.join(sorted(FUNCTIONS))}",
                        got=self.text,
                    )
                self.take()
                self.enter()
                args = [self.expr()]
                while self.peek() == ("op", ","):
                    self.take()
                    args.append(self.expr())
                self.expect(")")
                self.depth -= 1
                lo, hi = FUNCTIONS[val][1:]
                if not lo <= len(args) <= hi:
                    raise ExprError(f"{val}() takes {lo} to {hi} arguments", got=self.text)
                return ("call", val, args)
            return ("var", val)
        if (kind, val) == ("op", "("):
            self.enter()
            node = self.expr()
            self.expect(")")
            self.depth -= 1
            return node
        if kind is None:
            raise ExprError("expression ended unexpectedly", got=self.text)
        raise ExprError(f"unexpected {val!r} in expression", got=self.text)


_PARSED = {}  # text -> AST: a spec repeats the same few expressions thousands of times
_SIZES = {}  # text -> number of AST nodes
MAX_PARSED = 4096


def parse(text):
    """Parse expression text into a small tuple AST; raise ExprError on anything else."""
    if not isinstance(text, str):
        raise ExprError("expression must be text", got=text)
    if text in _PARSED:
        return _PARSED[text]
    if len(text) > MAX_SOURCE:
        raise ExprError(f"expression longer than {MAX_SOURCE} characters", got=text)
    if not text.strip():
        raise ExprError("empty expression", got=text)
    node = _Parser(text).parse()
    if len(_PARSED) >= MAX_PARSED:
        _PARSED.clear()
        _SIZES.clear()
    _PARSED[text], _SIZES[text] = node, _size(node)
    return node


def _size(node):
    """Nodes of an AST (the work of evaluating it once)."""
    tag = node[0]
    if tag in ("num", "var"):
        return 1
    if tag == "neg":
        return 1 + _size(node[1])
    if tag == "call":
        return 1 + sum(_size(a) for a in node[2])
    return 1 + _size(node[2]) + _size(node[3])


def weight(raw):
    """The work of evaluating a field's value: its expression's AST nodes (1 for a number);
    the expansion budget (graph.Work) charges it, since a spec may evaluate the same
    256-character expression a quarter of a million times."""
    if not isinstance(raw, str):
        return 1
    parse(raw)
    return _SIZES.get(raw, 1)


def names(node):
    """The set of variable names an AST refers to."""
    tag = node[0]
    if tag == "var":
        return {node[1]}
    if tag == "num":
        return set()
    if tag == "neg":
        return names(node[1])
    if tag == "call":
        return set().union(*(names(a) for a in node[2]))
    return names(node[2]) | names(node[3])


def _check(v, got):
    """v within MAX_MAGNITUDE (got is what the message shows; never converted here)."""
    if abs(v) > MAX_MAGNITUDE:
        raise ExprError(f"expression value exceeds {MAX_MAGNITUDE:.0e}", got=got)
    if isinstance(v, Fraction) and v.denominator == 1:
        return int(v)
    return v


def evaluate(node, env, text=""):
    """Evaluate an AST exactly (ints and Fractions) with variables from env."""
    tag = node[0]
    if tag == "num":
        return _check(node[1], text)
    if tag == "var":
        if node[1] not in env:
            first = heapq.nsmallest(MAX_KNOWN + 1, (k for k in env if isinstance(k, str)))
            known = ", ".join(first[:MAX_KNOWN]) + (", ..." if len(first) > MAX_KNOWN else "") or "none"
            raise ExprError(f"unknown variable {node[1]!r} (known: {known})", got=text)
        v = env[node[1]]
        if isinstance(v, bool) or not isinstance(v, (int, Fraction)):
            raise ExprError(f"variable {node[1]!r} is not a number", got=text)
        return _check(v, text)
    if tag == "neg":
        return _check(-evaluate(node[1], env, text), text)
    if tag == "call":
        fn = FUNCTIONS[node[1]][0]
        args = [evaluate(a, env, text) for a in node[2]]
        return _check(fn(*args), text)
    a = evaluate(node[2], env, text)
    b = evaluate(node[3], env, text)
    op = node[1]
    if tag == "cmp":
        return int({"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])
    if op == "+":
        r = a + b
    elif op == "-":
        r = a - b
    elif op == "*":
        r = a * b
    else:
        if b == 0:
            raise ExprError("division by zero in expression", got=text)
        r = Fraction(a) / Fraction(b) if op == "/" else (a // b if op == "//" else a % b)
    return _check(r, text)


def value(raw, env):
    """A spec field's number: ints pass through, floats become exact fractions,
    strings are parsed and evaluated. Booleans and other types are errors."""
    if isinstance(raw, bool):
        raise ExprError("expected a number, not a boolean", got=raw)
    if isinstance(raw, (int, Fraction)):  # Fraction: schema defaults such as se ratio 1/4
        return _check(raw, raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise ExprError("expected a finite number", got=raw)
        return _check(Fraction(repr(raw)), repr(raw))
    if isinstance(raw, str):
        return evaluate(parse(raw), env, raw)
    raise ExprError(f"expected a number or expression, not a {type(raw).__name__}", got=raw)
