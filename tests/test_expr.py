"""The safe expression language: grammar, exact arithmetic, functions, rejections."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mbcost import expr
from mbcost.errors import ExprError


def ev(text, **env):
    """Parse and evaluate text with the given variables."""
    return expr.value(text, env)


@pytest.mark.parametrize("text, want", [
    ("1 + 2 * 3", 7),              # * binds tighter than +
    ("(1 + 2) * 3", 9),
    ("10 - 4 - 3", 3),             # left associative: (10 - 4) - 3
    ("2 * 3 + 4 * 5", 26),
    ("-2 * 3", -6),
    ("- -3", 3),
    ("+4", 4),
    ("24 / 8 / 3", 1),             # (24 / 8) / 3
    ("1 + 2 == 3", 1),             # comparison binds loosest
])
def test_precedence(text, want):
    assert ev(text) == want


def test_numbers_are_exact_fractions():
    assert ev("0.75") == Fraction(3, 4)
    assert ev("0.1 + 0.2") == Fraction(3, 10)  # no binary-float error
    assert ev("1 / 3") == Fraction(1, 3)
    assert ev("3 * (1 / 3)") == 1 and isinstance(ev("3 * (1 / 3)"), int)
    assert ev("1.5e1") == 15
    assert expr.value(0.75, {}) == Fraction(3, 4)  # a YAML float becomes its decimal fraction
    assert expr.value(Fraction(1, 4), {}) == Fraction(1, 4)  # Python callers and schema defaults
    assert expr.value(Fraction(8, 4), {}) == 2 and isinstance(expr.value(Fraction(8, 4), {}), int)


def test_floor_division_and_modulo():
    assert ev("7 // 2") == 3
    assert ev("-7 // 2") == -4  # floor, like Python
    assert ev("7 % 3") == 1
    assert ev("2.5 // 1") == 2


@pytest.mark.parametrize("text, want", [
    ("t != 1", 0), ("t == 1", 1), ("t < 2", 1), ("t <= 1", 1), ("t > 1", 0), ("t >= 2", 0),
])
def test_comparisons_give_one_or_zero(text, want):
    assert ev(text, t=1) == want


def test_variables():
    assert ev("2 * c + classes", c=16, classes=1000) == 1032
    assert ev("c * a", c=32, a=Fraction(3, 4)) == 24


@pytest.mark.parametrize("text, want", [
    ("min(3, 1, 2)", 1), ("max(3, 8)", 8), ("ceil(7 / 2)", 4), ("floor(7 / 2)", 3),
    ("ceil(1.1 * 3)", 4),  # 3.3 -> 4 exactly; 1.1 is 11/10
])
def test_functions(text, want):
    assert ev(text) == want


# paper_tables.md §6, worked examples of _make_divisible(v, 8)
@pytest.mark.parametrize("text, want", [
    ("32 * 0.35", 16),   # 11.2 -> 8 would be < 0.9 * 11.2, so one divisor more
    ("16 * 0.35", 8),    # 5.6 -> the minimum, 8
    ("16 * 0.75", 16),   # 12: halves round up
    ("24 * 0.75", 24),   # 18
    ("88 * 0.75", 64),   # 66
    ("184 * 0.75", 136), # 138
    ("200 * 0.75", 152), # 150
    ("40 * 1.1", 48),    # 44
    ("112 * 1.1", 120),  # 123.2
    ("192 * 1.1", 208),  # 211.2
    ("32 * 1.2", 40),    # 38.4
    ("112 * 1.2", 136),  # 134.4
    ("24 * 1.4", 32),    # 33.6
    ("112 * 1.4", 160),  # 156.8
    ("24 * 1.3", 32),    # 31.2
])
def test_make_divisible_worked_examples(text, want):
    assert ev(f"make_divisible({text})") == want
    assert ev(f"make_divisible({text}, 8)") == want


def test_make_divisible_divisor_and_minimum():
    assert ev("make_divisible(10, 4)") == 12      # 10 + 2 = 12 -> 12 // 4 * 4 = 12
    assert ev("make_divisible(3, 8, 16)") == 16   # below the explicit minimum


@pytest.mark.parametrize("text, fragment", [
    ("foo + 1", "unknown variable 'foo'"),
    ("open(1)", "unknown function 'open'"),
    ("__import__", "name '__import__' is not allowed"),
    ("_x", "name '_x' is not allowed"),
    ("a.b", "unexpected character '.'"),
    ("(1).real", "unexpected character '.'"),
    ("2 ** 3", "unexpected '*'"),
    ("1 +", "expression ended unexpectedly"),
    ("(1 + 2", "expected ')'"),
    ("min(1)", "min() takes 2 to 8 arguments"),
    ("'a'", "unexpected character"),
    ("[1]", "unexpected character '['"),
    ("1 / 0", "division by zero"),
    ("", "empty expression"),
])
def test_rejections(text, fragment):
    with pytest.raises(ExprError) as e:
        ev(text, a=1)
    assert fragment in str(e.value)


def test_too_long_is_rejected():
    text = "+".join(["1"] * 200)  # 399 characters
    assert len(text) > expr.MAX_SOURCE
    with pytest.raises(ExprError, match="longer than 256 characters"):
        ev(text)
    assert ev("+".join(["1"] * 100)) == 100  # 199 characters is fine


def test_too_deep_is_rejected():
    with pytest.raises(ExprError, match="nested deeper than 32"):
        ev("(" * 40 + "1" + ")" * 40)
    with pytest.raises(ExprError, match="nested deeper than 32"):
        ev("-" * 40 + "1")
    assert ev("(" * 10 + "1" + ")" * 10) == 1


def test_huge_values_are_refused():
    with pytest.raises(ExprError, match="exceeds"):
        ev("1000000000 * 1000000000 * 10")


def test_booleans_and_other_types_are_not_numbers():
    for raw in (True, None, [1], {"a": 1}, float("inf")):
        with pytest.raises(ExprError):
            expr.value(raw, {})


def test_word_variables_are_not_numbers():
    with pytest.raises(ExprError, match="is not a number"):
        ev("act + 1", act="relu")


def test_names_lists_referenced_variables():
    assert expr.names(expr.parse("max(a, b * 2) + ceil(c) - 1")) == {"a", "b", "c"}


TOKENS = st.sampled_from(list("0123456789.+-*/%()<>=!, eE_abc") +
                         ["min", "max", "ceil", "floor", "make_divisible", "//", "**", "1e99"])


@settings(max_examples=300, deadline=None)
@given(st.lists(TOKENS, max_size=30).map("".join))
def test_any_text_gives_a_number_or_an_expr_error(text):
    try:
        v = expr.value(text, {"a": 3, "b": 0, "c": 16})
    except ExprError:
        return
    assert isinstance(v, (int, Fraction)) and not isinstance(v, bool)


@settings(max_examples=300, deadline=None)
@given(st.fractions(min_value=Fraction(1, 10), max_value=4096), st.sampled_from([1, 4, 8, 16]))
def test_make_divisible_properties(v, divisor):
    r = expr.make_divisible(v, divisor)
    assert r % divisor == 0 and r >= divisor        # a multiple, at least the minimum
    assert r >= Fraction(9, 10) * v                  # never more than 10% below v
    assert abs(r - v) <= divisor or r == divisor     # the nearest multiple, or the one above
