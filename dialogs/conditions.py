"""Conditions of dialog scripts: a small, safe expression language compiled to closures.

Admins write conditions such as ``not anonymous``, ``category in ["health", "education"]`` or
``age >= 17 and report_type != "aspiration"``. The text is tokenised and parsed here; it is
never passed to eval, exec or ast. Grammar (keywords are case-insensitive)::

    expr   := and ('or' and)*
    and    := not ('and' not)*
    not    := 'not' not | cmp
    cmp    := atom (('=='|'!='|'<'|'<='|'>'|'>='|'in'|'not' 'in') atom)?
    atom   := NAME | STRING | NUMBER | 'true' | 'false' | 'null'
            | '[' (atom (',' atom)*)? ']' | '(' expr ')'

A NAME reads that answer (missing: null). Evaluation never raises: an ordering between
values that cannot be ordered (null < 3, "a" < 1, true > 0) is false, ``in`` needs a list on
its right (otherwise both ``in`` and ``not in`` are false), and a boolean never equals a
number. Truthiness is Python's (empty text, 0, null and [] are false).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from dialogs.model import Condition

MAX_LENGTH = 500
MAX_DEPTH = 20

Value = Callable[[Mapping[str, Any]], Any]


class ConditionError(ValueError):
    """A condition that does not parse; ``column`` (1-based) points at the problem."""

    def __init__(self, message: str, column: int):
        self.message = message
        self.column = column
        super().__init__(f"column {column}: {message}")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "name", "keyword", "string", "number", "op", "end"
    text: str  # the source text (a keyword in lower case)
    value: Any  # the literal's value, for strings and numbers
    column: int


_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
_SCANNER = re.compile(
    r"""(?P<space>\s+)
      | (?P<number>-?[0-9]+(?:\.[0-9]+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)""",
    re.VERBOSE | re.DOTALL,
)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def compile_condition(source: str) -> Condition:
    """Parse ``source`` into a Condition whose ``test`` never raises; ConditionError if invalid."""
    if len(source) > MAX_LENGTH:
        raise ConditionError(f"too long: at most {MAX_LENGTH} characters", MAX_LENGTH + 1)
    parser = _Parser(_tokens(source))
    if parser.peek.kind == "end":
        raise ConditionError("empty condition", 1)
    value = parser.expr(0)
    if parser.peek.kind != "end":
        parser.fail_unexpected()
    return Condition(source=source, test=lambda answers: bool(value(answers)), names=frozenset(parser.names))


def _tokens(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(source):
        match = _SCANNER.match(source, position)
        if match is None:
            raise ConditionError(_bad_character(source[position]), position + 1)
        kind, text = match.lastgroup or "", match.group()
        if kind == "name" and text.lower() in _KEYWORDS:
            tokens.append(_Token("keyword", text.lower(), None, position + 1))
        elif kind == "number":
            tokens.append(_Token(kind, text, float(text) if "." in text else int(text), position + 1))
        elif kind == "string":
            tokens.append(_Token(kind, text, _ESCAPE.sub(r"\1", text[1:-1]), position + 1))
        elif kind != "space":
            tokens.append(_Token(kind, text, None, position + 1))
        position = match.end()
    tokens.append(_Token("end", "", None, len(source) + 1))
    return tokens


def _bad_character(char: str) -> str:
    if char in "\"'":
        return "unterminated string (a quote is missing)"
    if char == "=":
        return "unexpected '='; compare with =="
    if char == "!":
        return "unexpected '!'; write not, or != to compare"
    return f"unexpected character {char!r}"


class _Parser:
    """Recursive descent over the tokens, building closures. ``depth`` counts nesting."""

    def __init__(self, tokens: list[_Token]):
        self.tokens = tokens
        self.index = 0
        self.names: set[str] = set()

    @property
    def peek(self) -> _Token:
        return self.tokens[self.index]

    def accept(self, text: str) -> bool:
        token = self.peek
        if token.kind in ("keyword", "op") and token.text == text:
            self.index += 1
            return True
        return False

    def fail_unexpected(self) -> NoReturn:
        raise ConditionError(f"unexpected {self._shown()}", self.peek.column)

    def _shown(self) -> str:
        token = self.peek
        if token.kind == "end":
            return "end of condition"
        return repr(token.text if len(token.text) <= 20 else token.text[:17] + "...")

    def nest(self, depth: int) -> int:
        if depth >= MAX_DEPTH:
            raise ConditionError(f"nested too deeply (more than {MAX_DEPTH} levels)", self.peek.column)
        return depth + 1

    def expr(self, depth: int) -> Value:
        parts = [self.conjunction(depth)]
        while self.accept("or"):
            parts.append(self.conjunction(depth))
        return parts[0] if len(parts) == 1 else _first_true(parts)

    def conjunction(self, depth: int) -> Value:
        parts = [self.negation(depth)]
        while self.accept("and"):
            parts.append(self.negation(depth))
        return parts[0] if len(parts) == 1 else _first_false(parts)

    def negation(self, depth: int) -> Value:
        token = self.peek
        if token.kind == "keyword" and token.text == "not" and not self._next_is("in"):
            inner_depth = self.nest(depth)
            self.index += 1
            operand = self.negation(inner_depth)
            return lambda answers: not operand(answers)
        return self.comparison(depth)

    def _next_is(self, text: str) -> bool:
        following = self.tokens[self.index + 1] if self.index + 1 < len(self.tokens) else None
        return following is not None and following.kind == "keyword" and following.text == text

    def comparison(self, depth: int) -> Value:
        left = self.atom(depth)
        token = self.peek
        if token.kind == "op" and token.text in _COMPARE:
            self.index += 1
            return _COMPARE[token.text](left, self.atom(depth))
        if self.accept("in"):
            return _membership(left, self.atom(depth), negated=False)
        if token.kind == "keyword" and token.text == "not" and self._next_is("in"):
            self.index += 2
            return _membership(left, self.atom(depth), negated=True)
        return left

    def atom(self, depth: int) -> Value:
        token = self.peek
        if token.kind == "name":
            self.index += 1
            self.names.add(token.text)
            name = token.text
            return lambda answers: answers.get(name)
        if token.kind in ("string", "number"):
            self.index += 1
            return _constant(token.value)
        if token.kind == "keyword" and token.text in _LITERALS:
            self.index += 1
            return _constant(_LITERALS[token.text])
        if token.kind == "op" and token.text == "(":
            inner_depth = self.nest(depth)
            self.index += 1
            inner = self.expr(inner_depth)
            self.expect(")")
            return inner
        if token.kind == "op" and token.text == "[":
            return self.list_literal(self.nest(depth))
        self.fail_unexpected()

    def list_literal(self, depth: int) -> Value:
        self.index += 1  # "["
        items: list[Value] = []
        if not self.accept("]"):
            items.append(self.atom(depth))
            while self.accept(","):
                items.append(self.atom(depth))
            self.expect("]")
        return lambda answers: [item(answers) for item in items]

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise ConditionError(f"expected '{text}', found {self._shown()}", self.peek.column)


_LITERALS = {"true": True, "false": False, "null": None}


def _constant(value: Any) -> Value:
    return lambda answers: value


def _first_true(parts: list[Value]) -> Value:
    """``a or b or c``: the first true value, else the last one (as in Python)."""

    def test(answers: Mapping[str, Any]) -> Any:
        for part in parts:
            value = part(answers)
            if value:
                break
        return value

    return test


def _first_false(parts: list[Value]) -> Value:
    """``a and b and c``: the first false value, else the last one (as in Python)."""

    def test(answers: Mapping[str, Any]) -> Any:
        for part in parts:
            value = part(answers)
            if not value:
                break
        return value

    return test


def _equal(a: Any, b: Any) -> bool:
    """Python equality, except that a boolean never equals a number (true != 1)."""
    return (type(a) is bool) == (type(b) is bool) and a == b


def _orderable(a: Any, b: Any) -> bool:
    """Both numbers (booleans excluded) or both texts."""
    if isinstance(a, str) and isinstance(b, str):
        return True
    return type(a) in (int, float) and type(b) in (int, float)


def _ordering(check: Callable[[Any, Any], bool]) -> Callable[[Value, Value], Value]:
    def build(left: Value, right: Value) -> Value:
        def test(answers: Mapping[str, Any]) -> bool:
            a, b = left(answers), right(answers)
            return _orderable(a, b) and check(a, b)

        return test

    return build


def _equality(negated: bool) -> Callable[[Value, Value], Value]:
    def build(left: Value, right: Value) -> Value:
        return lambda answers: _equal(left(answers), right(answers)) is not negated

    return build


_COMPARE: dict[str, Callable[[Value, Value], Value]] = {
    "==": _equality(negated=False),
    "!=": _equality(negated=True),
    "<": _ordering(lambda a, b: a < b),
    "<=": _ordering(lambda a, b: a <= b),
    ">": _ordering(lambda a, b: a > b),
    ">=": _ordering(lambda a, b: a >= b),
}


def _membership(left: Value, right: Value, negated: bool) -> Value:
    def test(answers: Mapping[str, Any]) -> bool:
        container = right(answers)
        if not isinstance(container, (list, tuple)):
            return False
        item = left(answers)
        return any(_equal(item, element) for element in container) is not negated

    return test
