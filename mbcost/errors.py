"""The error family of mbcost.

Every error the library raises on bad input is an ``MbcostError``; the CLI
catches exactly these, prints ``str(err)`` on one line and exits 2. Each member
also subclasses the matching built-in so library callers can catch either.
"""

from __future__ import annotations


MAX_MESSAGE = 1000  # characters of one error line; a spec may hold megabyte-long names
MAX_GOT = 60  # characters of the offending value shown in a message
_HUGE_BITS = 200  # an integer above 2**200 (61 digits) is described, never converted to text


def one_line(text):
    """text with every line break and control character escaped (\\n, \\x1e, \\u2028...),
    so a message stays one line whatever bytes a spec held; cut at MAX_MESSAGE."""
    text = text if isinstance(text, str) else show(text, MAX_MESSAGE, quote=False)
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE - 3] + "..."
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in text)


def show(value, limit=MAX_GOT, quote=True):
    """value as error text, at most limit characters: text quoted (its repr), anything else
    as str() would show it, but built piece by piece and stopped at the limit, so that a
    megabyte list costs no more than a short one, and an integer is never converted to
    text past _HUGE_BITS bits (Python refuses str() beyond 4,300 digits; an error path
    must not fail). quote=False shows text as it is."""
    out = []
    _show(value, out, [limit + 3], 0, quote)
    text = "".join(out)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _show(v, out, room, depth, top_quote=True):
    """Append pieces of v's text to out while room[0] (characters left) lasts."""
    if room[0] <= 0:
        return
    if isinstance(v, str):
        piece = repr(v[:room[0]]) if top_quote else v[:room[0]]
    elif isinstance(v, bool) or v is None:
        piece = str(v)
    elif isinstance(v, int):
        piece = _int_text(v)
    elif isinstance(v, (bytes, bytearray)):
        piece = repr(bytes(v[:room[0]]))
    elif isinstance(v, (list, tuple, dict, set, frozenset)):
        if depth >= 8:
            piece = "..."
        else:
            _show_items(v, out, room, depth)
            return
    else:
        piece = _other_text(v, depth)
    out.append(piece)
    room[0] -= len(piece)


def _show_items(v, out, room, depth):
    opener, closer = {list: "[]", tuple: "()", dict: "{}"}.get(
        next((t for t in (dict, list, tuple) if isinstance(v, t)), None), "{}")
    out.append(opener)
    room[0] -= 1
    for i, item in enumerate(v.items() if isinstance(v, dict) else v):
        if room[0] <= 0:
            return
        if i:
            out.append(", ")
            room[0] -= 2
        if isinstance(v, dict):
            _show(item[0], out, room, depth + 1)
            out.append(": ")
            room[0] -= 2
            item = item[1]
        _show(item, out, room, depth + 1)
    if isinstance(v, tuple) and len(v) == 1:
        out.append(",")
    out.append(closer)
    room[0] -= 1


def _int_text(v):
    if abs(v).bit_length() <= _HUGE_BITS:
        return str(v)
    return f"<{'a negative' if v < 0 else 'an'} integer of about {_digits(v)} digits>"


def _digits(v):
    """Decimal digits of a (huge) integer, from its bit length: no conversion to text."""
    return int(abs(v).bit_length() * 0.30103) + 1


def _other_text(v, depth):
    """A value that is not text, a number or a container: str() for the top level, repr()
    inside containers (as str(list) does); Fractions with huge terms described."""
    from fractions import Fraction

    if isinstance(v, Fraction):
        big = max(abs(v.numerator), v.denominator)
        if big.bit_length() > _HUGE_BITS:
            return f"<a fraction of about {_digits(big)} digits>"
        return str(v) if depth == 0 else repr(v)
    try:
        return str(v) if depth == 0 else repr(v)
    except Exception:  # an object whose own text fails: name its type instead
        return f"<{type(v).__name__}>"


class MbcostError(Exception):
    """Base of every error mbcost raises on bad input."""

    exit_code = 2


class SpecError(ValueError, MbcostError):
    """A spec file (or spec dict) is malformed; carries file, line, layer and field."""

    def __init__(self, message, *, path=None, line=None, layer=None, field=None, got=None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.layer = layer
        self.field = field
        self.got = got

    def located(self, *, path=None, line=None, layer=None, field=None):
        """Fill in location parts that are still unknown; return self."""
        if self.path is None:
            self.path = path
        if self.line is None:
            self.line = line
        if self.layer is None:
            self.layer = layer
        if self.field is None:
            self.field = field
        return self

    def __str__(self):
        where = str(self.path) if self.path is not None else "<spec>"
        if self.line is not None:
            where += f":{self.line}"
        parts = [where]
        if self.layer is not None:
            parts.append(f"layer '{self.layer}'")
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        msg = self.message
        if self.got is not None:
            msg += f" (got {show(self.got)})"
        parts.append(msg)
        return one_line(": ".join(parts))


class ExprError(SpecError):
    """An expression in a spec field could not be parsed or evaluated."""


class LimitError(SpecError):
    """A spec exceeds a documented resource limit (size, layers, nesting)."""


class UsageError(ValueError, MbcostError):
    """A command-line or API argument is invalid (e.g. alpha <= 0)."""


class BudgetFileError(SpecError):
    """A budget file is malformed."""


class OutputError(MbcostError, OSError):
    """An output path (``-o``, ``--plot``) cannot be written: a directory, no such folder,
    no permission, a full disk. Nothing was replaced."""

    def __str__(self):
        return one_line(self.args[0] if self.args else "cannot write")
