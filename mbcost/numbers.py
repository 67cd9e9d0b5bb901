"""One grammar for every number mbcost reads: spec fields, budget files, command-line options.

A number written as text is ASCII only (``'٣٢'`` and ``'３２'`` are not numbers), at
most ``MAX_CHARS`` characters with no spaces or underscores inside, in one of these forms:

==========  ==========================================  ==================================
form        text                                        used for
==========  ==========================================  ==================================
integer     ``[+]DIGITS``                               resolutions, steps, counts, kernels
decimal     ``[+-]DIGITS[.DIGITS][e[+-]D[D]]``, ``.5``  alpha, rho (exact: 0.1 is 1/10)
fraction    ``[+-]DIGITS/DIGITS``                       alpha, rho (``3/4``)
quantity    a decimal without exponent and a unit       limits: ``150M``, ``2.5M``, ``1G``,
            K, M or G; digits may be grouped with       ``4,200,000``
            ``,`` or ``_``
==========  ==========================================  ==================================

Spec expressions (``expr.py``) write numbers as decimals without a sign (the sign is
an operator there). A number that arrives already parsed (YAML's ``k: 3``, a Python
argument) is checked by size (``check_int``) before it is ever turned into text, so no
path calls ``str()`` on an integer past Python's 4,300-digit limit. Nothing here hands
user text to ``int()``, ``float()`` or ``Fraction()`` before it matched the grammar.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from .errors import UsageError, show

MAX_CHARS = 40  # characters of one number written as text
MAX_DIGITS = 19  # digits of an integer given as a value: above 10**18 nothing is meaningful
MAX_INT = 10**18

DECIMAL = r"[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]{1,2})?|\.[0-9]+(?:[eE][+-]?[0-9]{1,2})?"
_DECIMAL = re.compile(rf"[+-]?(?:{DECIMAL})", re.ASCII)
_FRACTION = re.compile(r"[+-]?[0-9]+/[0-9]+", re.ASCII)
_NUMBERISH = re.compile(r"[0-9.eE+\-/_]+", re.ASCII)  # what a too long number looks like
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]+)?|\.[0-9]+)([kKMG]?)", re.ASCII)
UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9}


def _text(value, what, example):
    """value as stripped text within MAX_CHARS, or a UsageError naming what."""
    if not isinstance(value, str):
        raise UsageError(f"{what} must be {example}, got {show(value)}")
    text = value.strip()
    if len(text) > MAX_CHARS:
        raise UsageError(f"{what} must be {example} of at most {MAX_CHARS} characters, "
                         f"got {show(value)}")
    return text


def check_int(value, what, lo=None, hi=MAX_INT):
    """An int (not a bool) within [lo, hi], checked by size before any conversion to text."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{what} must be an integer, got {show(value)}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        where = f"from {lo} to {hi}" if lo is not None and hi is not None else (
            f">= {lo}" if lo is not None else f"<= {hi}")
        raise UsageError(f"{what} must be an integer {where}, got {show(value)}")
    return value


def parse_int(value, what, lo=None, hi=MAX_INT):
    """An integer from text ('224', '+3', '-1') or an int, within [lo, hi]."""
    if isinstance(value, int) and not isinstance(value, bool):
        return check_int(value, what, lo, hi)
    text = _text(value, what, "a whole number such as 224")
    if not _INTEGER.fullmatch(text):
        raise UsageError(f"{what} must be a whole number such as 224, got {show(value)}")
    return check_int(int(text), what, lo, hi)


def parse_number(value, what, fraction=True, example="a number"):
    """An exact number (a Fraction) from a decimal ('0.75', '.5', '1e-3'), a fraction
    ('3/4', where fraction is true) or a Python number; nan, inf and huge values refused.
    Errors say '{what} must be {example}, got ...'."""
    if isinstance(value, bool):
        raise UsageError(f"{what} must be {example}, got {show(value)}")
    if isinstance(value, int):
        return Fraction(value)  # any size: the caller's range check shows it safely
    if isinstance(value, Fraction):
        if max(abs(value.numerator), value.denominator) > MAX_INT:
            raise UsageError(f"{what} must be {example}, got {show(value)}")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UsageError(f"{what} must be {example}, got {show(value)}")
        value = repr(value)  # the shortest text that reads back as the same float
    if not isinstance(value, str):
        raise UsageError(f"{what} must be {example}, got {show(value)}")
    text = value.strip()
    if len(text) <= MAX_CHARS and (_DECIMAL.fullmatch(text) or (fraction and _FRACTION.fullmatch(text))):
        try:
            return Fraction(text)  # matched the grammar: bounded digits, a 2-digit exponent
        except ZeroDivisionError:
            raise UsageError(f"{what} must be {example}, got {show(value)}") from None
    if len(text) > MAX_CHARS or _NUMBERISH.fullmatch(text):  # a number, but not a short one
        raise UsageError(f"{what} must be a short decimal number, got {show(value)}")
    raise UsageError(f"{what} must be {example}, got {show(value)}")


def parse_quantity(value, what="limit", hi=MAX_INT):
    """A positive count from '150M', '2.5M', '1G', '64K', '4,200,000' or an int (exact)."""
    example = "a count like 150M, 2.5M, 1G or 4200000"
    if isinstance(value, int) and not isinstance(value, bool):
        amount = Fraction(value)
    elif isinstance(value, str) and len(value.strip()) <= MAX_CHARS:
        m = _QUANTITY.fullmatch(value.strip().replace("_", "").replace(",", ""))
        if not m:
            raise UsageError(f"{what}: must be {example} (got {show(value)})")
        amount = Fraction(m.group(1)) * UNITS[m.group(2).upper()]
    else:
        raise UsageError(f"{what}: must be {example} of at most {MAX_CHARS} characters "
                         f"(got {show(value)})")
    if amount.denominator != 1:
        raise UsageError(f"{what}: must be a whole number of units (got {show(value)})")
    if not 0 < amount <= hi:
        raise UsageError(f"{what}: must be between 1 and {hi} (got {show(value)})")
    return int(amount)
