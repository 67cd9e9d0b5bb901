"""The error family of mbcost.

Every error the library raises on bad input is an ``MbcostError``; the CLI
catches exactly these, prints ``str(err)`` on one line and exits 2. Each member
also subclasses the matching built-in so library callers can catch either.
"""

from __future__ import annotations


MAX_MESSAGE = 1000  # characters of one error line; a spec may hold megabyte-long names


def one_line(text):
    """text with every line break and control character escaped (\\n, \\x1e, \\u2028...),
    so a message stays one line whatever bytes a spec held; cut at MAX_MESSAGE."""
    text = str(text)
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE - 3] + "..."
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in text)


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
            got = repr(self.got) if isinstance(self.got, str) else str(self.got)
            if len(got) > 60:
                got = got[:57] + "..."
            msg += f" (got {got})"
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
