"""Spec text (names, titles) made literal for the output formats that have structure.

A spec's names are printable text (spec.name_problem refuses control characters), so
terminals and plain text see them as they are; CSV and JSON quote them by their own
rules. Markdown is the format that reads structure from ordinary characters: a name
such as ``*x*``, ``a|b`` or ``<!--`` would become emphasis, a table cell or a comment
that hides the rest of a pull-request comment. ``markdown()`` escapes exactly those;
``matplotlib()`` escapes the ``$`` that starts mathtext in plot labels and titles.
"""

from __future__ import annotations

from .errors import one_line

# ASCII punctuation that can start or end inline structure in CommonMark or GitHub's
# Markdown (emphasis, code, links, HTML, entities, table cells, strikethrough, math);
# a backslash makes any ASCII punctuation literal (CommonMark 6.1)
_INLINE = set("\\`*[]<>|~&$")


def markdown(text):
    """text as literal Markdown inline content, on one line: structural characters are
    backslash-escaped; '_' only where it could open or close emphasis (not inside a word,
    as in mobilenet_v1); line breaks and control characters are shown escaped."""
    text = one_line(text)
    out = []
    for i, ch in enumerate(text):
        if ch in _INLINE:
            out.append("\\" + ch)
        elif ch == "_" and not (0 < i < len(text) - 1 and text[i - 1].isalnum()
                                and text[i + 1].isalnum()):
            out.append("\\_")
        else:
            out.append(ch)
    return "".join(out)


def matplotlib(text):
    """text shown literally by matplotlib: a '$' would start mathtext (a name such as
    '$\\bad{$' fails to render, others render as formulas), so each is escaped."""
    return one_line(text).replace("$", r"\$")
