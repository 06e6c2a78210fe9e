"""The condition language: grammar, precedence, null handling, errors with columns, never crashing."""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.conditions import MAX_DEPTH, MAX_LENGTH, ConditionError, compile_condition
from dialogs.model import Condition


def holds(source: str, **answers: Any) -> bool:
    return compile_condition(source)(answers)


@pytest.mark.parametrize(
    ("source", "answers", "expected"),
    [
        ("anonymous", {"anonymous": True}, True),
        ("anonymous", {}, False),
        ("not anonymous", {}, True),
        ("not anonymous", {"anonymous": False}, True),
        ("not anonymous", {"anonymous": True}, False),
        ('report_type == "complaint"', {"report_type": "complaint"}, True),
        ("report_type == 'complaint'", {"report_type": "aspiration"}, False),
        ('report_type != "complaint"', {"report_type": "aspiration"}, True),
        ("age >= 17", {"age": 17}, True),
        ("age > 17", {"age": 17}, False),
        ("age < 17.5", {"age": 17}, True),
        ("age <= -1", {"age": -2}, True),
        ("score == 2.5", {"score": 2.5}, True),
        ("count == 1", {"count": 1.0}, True),
        ("name > 'a'", {"name": "b"}, True),
        ("a == b", {"a": "x", "b": "x"}, True),
        ("a == b", {}, True),  # both missing: null == null
        ("x == null", {}, True),
        ("x == null", {"x": 0}, False),
        ("x != null", {"x": ""}, True),
        ("x == true", {"x": True}, True),
        ("x == false", {"x": 0}, False),  # a boolean never equals a number
        ("x == 1", {"x": True}, False),
        ("attachment", {"attachment": []}, False),
        ("attachment == []", {"attachment": []}, True),
        ("attachment != []", {"attachment": [{"url": "u"}]}, True),
        ("title", {"title": ""}, False),
        ("count", {"count": 0}, False),
        ("true", {}, True),
        ("false", {}, False),
        ("null", {}, False),
        ("(a)", {"a": 1}, True),
        ("((a))", {"a": 0}, False),
        ("'it\\'s' == x", {"x": "it's"}, True),
        ('"say \\"hi\\"" == x', {"x": 'say "hi"'}, True),
        ("x == 'a\\\\b'", {"x": "a\\b"}, True),
        ("x == \"\"", {"x": ""}, True),
    ],
)
def test_evaluation(source: str, answers: dict[str, Any], expected: bool) -> None:
    assert compile_condition(source)(answers) is expected


@pytest.mark.parametrize(
    ("source", "answers", "expected"),
    [
        ("category in ['health', \"education\"]", {"category": "health"}, True),
        ("category in ['health', 'education']", {"category": "other"}, False),
        ("category not in ['health', 'education']", {"category": "other"}, True),
        ("category not in ['health', 'education']", {}, True),
        ("category in []", {"category": "x"}, False),
        ("x in [1, 2.5, 'a', true, null]", {"x": 2.5}, True),
        ("x in [1, 2]", {"x": True}, False),  # true is not 1
        ("x in [null]", {}, True),
        ("x in [a, b]", {"x": 3, "b": 3}, True),
        ("x in [[1], [2]]", {"x": [2]}, True),
        ("'jpg' in kinds", {"kinds": ["jpg", "png"]}, True),
        ("x in y", {"x": "a", "y": "abc"}, False),  # not a list: false, never substring
        ("x not in y", {"x": "a", "y": "abc"}, False),
        ("x in y", {"x": 1}, False),
        ("x not in y", {"x": 1}, False),
    ],
)
def test_lists_and_membership(source: str, answers: dict[str, Any], expected: bool) -> None:
    assert compile_condition(source)(answers) is expected


@pytest.mark.parametrize(
    ("source", "answers"),
    [
        ("x < 3", {}),
        ("x > 3", {}),
        ("x >= 3", {"x": None}),
        ("x <= 'a'", {"x": 1}),
        ("x < 1", {"x": "a"}),
        ("x > 0", {"x": True}),
        ("x < [1]", {"x": [0]}),
        ("x > y", {"x": {"a": 1}, "y": {"a": 0}}),
    ],
)
def test_incompatible_orderings_are_false(source: str, answers: dict[str, Any]) -> None:
    assert compile_condition(source)(answers) is False


@pytest.mark.parametrize(
    ("source", "answers", "expected"),
    [
        # not binds tighter than and, and tighter than or
        ("not a and b", {"a": False, "b": True}, True),
        ("not a and b", {"a": True, "b": True}, False),
        ("not (a and b)", {"a": True, "b": False}, True),
        ("a or b and c", {"a": True, "b": False, "c": False}, True),
        ("(a or b) and c", {"a": True, "b": False, "c": False}, False),
        ("a and b or c", {"a": False, "b": False, "c": True}, True),
        ("a and (b or c)", {"a": False, "b": False, "c": True}, False),
        ("not a or b", {"a": True, "b": False}, False),
        ("not not a", {"a": 1}, True),
        ("not a == b", {"a": 1, "b": 1}, False),  # not (a == b)
        ("not x in [1]", {"x": 2}, True),
        ("a or b or c", {"c": "yes"}, True),
        ("a and b and c", {"a": 1, "b": 1, "c": 0}, False),
        ("a or b", {}, False),
    ],
)
def test_precedence(source: str, answers: dict[str, Any], expected: bool) -> None:
    assert compile_condition(source)(answers) is expected


@pytest.mark.parametrize(
    "source",
    ["NOT anonymous", "Not Anonymous == True", "a AND not b", "a Or b", "x IN [1]", "x Not In [2]", "x == NULL", "x == False"],
)
def test_keywords_are_case_insensitive(source: str) -> None:
    compile_condition(source)


def test_case_insensitive_keywords_evaluate() -> None:
    assert holds("x == True", x=True) and holds("x == FALSE", x=False) and holds("x Not In [2]", x=1)
    assert holds("NOT a AND b", a=False, b=True)


def test_names_and_source() -> None:
    condition = compile_condition("age >= 17 and not anonymous or category in [fallback, 'x']")
    assert isinstance(condition, Condition)
    assert condition.names == frozenset({"age", "anonymous", "category", "fallback"})
    assert condition.source == "age >= 17 and not anonymous or category in [fallback, 'x']"
    assert compile_condition("true and 1 == 1").names == frozenset()
    assert compile_condition("And_more == x").names == frozenset({"And_more", "x"})


def test_limits_are_inclusive() -> None:
    assert holds("(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH, a=True)
    assert holds("not " * MAX_DEPTH + "a", a=True)  # an even number of nots
    source = "a == " + "'" + "x" * (MAX_LENGTH - 7) + "'"
    assert len(source) == MAX_LENGTH and compile_condition(source).names == frozenset({"a"})


@pytest.mark.parametrize(
    ("source", "column", "message"),
    [
        ("", 1, "empty condition"),
        ("   ", 1, "empty condition"),
        ("a ==", 5, "unexpected end of condition"),
        ("a == )", 6, "unexpected ')'"),
        ("not a )", 7, "unexpected ')'"),
        ("()", 2, "unexpected ')'"),
        ("(a", 3, "expected ')', found end of condition"),
        ("(a b)", 4, "expected ')', found 'b'"),
        ("[1, 2", 6, "expected ']', found end of condition"),
        ("x == [1,]", 9, "unexpected ']'"),
        ("'abc", 1, "unterminated string (a quote is missing)"),
        ('x == "abc', 6, "unterminated string (a quote is missing)"),
        ("x == 'it\\'", 6, "unterminated string (a quote is missing)"),
        ("a b", 3, "unexpected 'b'"),
        ("a == 1 2", 8, "unexpected '2'"),
        ("a < b < c", 7, "unexpected '<'"),
        ("a not b", 3, "unexpected 'not'"),
        ("not in a", 1, "unexpected 'not'"),
        ("and a", 1, "unexpected 'and'"),
        ("a or", 5, "unexpected end of condition"),
        ("a in", 5, "unexpected end of condition"),
        ("a = 1", 3, "unexpected '='; compare with =="),
        ("!a", 1, "unexpected '!'; write not, or != to compare"),
        ("a && b", 3, "unexpected character '&'"),
        ("\u00e9 == 1", 1, "unexpected character '\u00e9'"),
        ("__import__('os')", 11, "unexpected '('"),
        ("open('f').read()", 10, "unexpected character '.'"),
        ("x == 'a" + "b" * 30 + "' y", 40, "unexpected 'y'"),
        ("a == '" + "b" * 30 + "' y", 39, "unexpected 'y'"),
        ("x y" + "z" * 30, 3, "unexpected 'y" + "z" * 16 + "...'"),  # long tokens are cut
        ("x" * (MAX_LENGTH + 1), MAX_LENGTH + 1, f"too long: at most {MAX_LENGTH} characters"),
        ("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1), MAX_DEPTH + 1, f"nested too deeply (more than {MAX_DEPTH} levels)"),
        ("not " * (MAX_DEPTH + 1) + "a", 4 * MAX_DEPTH + 1, f"nested too deeply (more than {MAX_DEPTH} levels)"),
        ("x in " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), 6 + MAX_DEPTH, f"nested too deeply (more than {MAX_DEPTH} levels)"),
    ],
)
def test_errors_name_the_column(source: str, column: int, message: str) -> None:
    with pytest.raises(ConditionError) as caught:
        compile_condition(source)
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.column, error.message) == (column, message)
    assert str(error) == f"column {column}: {message}"


# ---------------------------------------------------------------------------- properties

TOKENS = st.sampled_from(
    ["a", "b", "c", "(", ")", "[", "]", ",", "and", "or", "not", "in", "not in", "==", "!=", "<", "<=", ">", ">=",
     "'x'", '"y"', "1", "2.5", "-3", "true", "false", "null", "True", "=", "!", "'", '"', "\\", "é", " "]
)  # fmt: skip
SOURCES = st.one_of(st.text(), st.text(max_size=600), st.lists(TOKENS, max_size=30).map(" ".join), st.lists(TOKENS, max_size=30).map("".join))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)
ANSWERS = st.dictionaries(st.sampled_from(["a", "b", "c", "x"]), JSON_VALUES)


@settings(max_examples=300, deadline=None)
@given(SOURCES, ANSWERS)
def test_compile_either_succeeds_or_raises_condition_error_and_evaluation_never_raises(source: str, answers: dict[str, Any]) -> None:
    try:
        condition = compile_condition(source)
    except ConditionError as error:
        assert 1 <= error.column <= max(len(source), MAX_LENGTH) + 1
        assert str(error).startswith(f"column {error.column}: ")
        return
    assert all(name.isidentifier() and name in source for name in condition.names)
    assert condition(answers) in (True, False)
    assert condition({}) in (True, False)
