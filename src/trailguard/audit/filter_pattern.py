"""CloudWatch Logs filter patterns, parsed and evaluated on a CloudTrail record.

JSON patterns (``{ ($.eventName = DeleteTrail) || ($.userIdentity.type = "Root") }``): ``&&``,
``||``, parentheses, ``=``/``!=`` with ``*`` wildcards, ``<``/``>``/``<=``/``>=`` on numbers,
``IS NULL``, ``IS TRUE``/``IS FALSE``, ``NOT EXISTS``, array indexes (``$.a[0].b``).
Term patterns (``ERROR "access denied" ?Root -Test``) match on the record's JSON text.
An empty pattern matches every record. Unparseable patterns raise FilterPatternError.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_MISSING = object()


class FilterPatternError(ValueError):
    """The filter pattern is not valid CloudWatch Logs syntax (as far as this parser knows)."""


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\)|\{|\})
    | "(?P<str>(?:[^"\\]|\\.)*)"
    | (?P<sel>\$(?:\.[A-Za-z0-9_\-@:]+|\[\d+\])+)
    | (?P<word>[^\s()&|=!<>{}"]+)
    )""",
    re.VERBOSE,
)


@dataclass
class _Tok:
    kind: str
    text: str


def _tokens(text: str) -> list[_Tok]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FilterPatternError(f"unexpected text at {pos}: {text[pos:pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup or ""
        val = m.group(kind)
        if kind == "str":
            val = re.sub(r"\\(.)", r"\1", val)
        out.append(_Tok(kind, val))
    return out


def _select(record: Any, selector: str) -> Any:
    cur = record
    for part in re.findall(r"\.([^.\[]+)|\[(\d+)\]", selector):
        name, index = part
        if name:
            if not isinstance(cur, dict) or name not in cur:
                return _MISSING
            cur = cur[name]
        else:
            i = int(index)
            if not isinstance(cur, list) or i >= len(cur):
                return _MISSING
            cur = cur[i]
    return cur


def _num(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _equals(value: Any, expected: str, quoted: bool) -> bool:
    if value is _MISSING or isinstance(value, dict | list):
        return False
    if value is None:
        return False
    if isinstance(value, bool):
        return not quoted and expected.lower() == str(value).lower()
    if not quoted and _num(expected) is not None and _num(value) is not None:
        return _num(expected) == _num(value)
    text = str(value)
    if "*" in expected:
        rx = ".*".join(re.escape(p) for p in expected.split("*"))
        return re.fullmatch(rx, text) is not None
    return text == expected


class _Parser:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks, self.i = toks, 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, kind: str | None = None, text: str | None = None) -> _Tok:
        t = self.peek()
        if t is None or (kind and t.kind != kind) or (text and t.text.upper() != text):
            raise FilterPatternError(f"expected {text or kind}, found {t.text if t else 'end'}")
        self.i += 1
        return t

    def parse_or(self) -> Any:
        left = self.parse_and()
        while (t := self.peek()) and t.text == "||":
            self.i += 1
            right = self.parse_and()
            left = ("or", left, right)
        return left

    def parse_and(self) -> Any:
        left = self.parse_atom()
        while (t := self.peek()) and t.text == "&&":
            self.i += 1
            right = self.parse_atom()
            left = ("and", left, right)
        return left

    def parse_atom(self) -> Any:
        t = self.peek()
        if t and t.text == "(":
            self.i += 1
            node = self.parse_or()
            self.take("op", ")")
            return node
        sel = self.take("sel").text
        t = self.peek()
        if t and t.kind == "word" and t.text.upper() == "IS":
            self.i += 1
            what = self.take("word").text.upper()
            if what not in ("NULL", "TRUE", "FALSE"):
                raise FilterPatternError(f"IS {what} is not supported")
            return ("is", sel, what)
        if t and t.kind == "word" and t.text.upper() == "NOT":
            self.i += 1
            self.take("word", "EXISTS")
            return ("not_exists", sel)
        op = self.take("op").text
        if op not in ("=", "!=", "<", ">", "<=", ">="):
            raise FilterPatternError(f"unexpected operator {op}")
        val = self.peek()
        if val is None or val.kind not in ("str", "word"):
            raise FilterPatternError(f"missing value after {sel} {op}")
        self.i += 1
        return ("cmp", sel, op, val.text, val.kind == "str")


def _eval(node: Any, record: Any) -> bool:
    kind = node[0]
    if kind == "or":
        return _eval(node[1], record) or _eval(node[2], record)
    if kind == "and":
        return _eval(node[1], record) and _eval(node[2], record)
    if kind == "not_exists":
        return _select(record, node[1]) is _MISSING
    if kind == "is":
        v = _select(record, node[1])
        return {"NULL": v is None, "TRUE": v is True, "FALSE": v is False}[node[2]]
    _, sel, op, expected, quoted = node
    value = _select(record, sel)
    if op == "=":
        return _equals(value, expected, quoted)
    if op == "!=":
        return value is not _MISSING and not _equals(value, expected, quoted)
    a, b = _num(value) if value is not _MISSING else None, _num(expected)
    if a is None or b is None:
        return False
    return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]


@dataclass
class FilterPattern:
    """A parsed filter pattern; ``matches(record)`` evaluates it."""

    source: str
    tree: Any
    terms: tuple[list[str], list[str], list[str]] | None = None  # all, any(?), none(-)

    def matches(self, record: dict[str, Any]) -> bool:
        """True when a log event holding ``record`` (as JSON) would match this pattern."""
        if self.tree is not None:
            return _eval(self.tree, record)
        assert self.terms is not None
        text = json.dumps(record)
        must, any_of, none_of = self.terms
        if any(t in text for t in none_of):
            return False
        if any_of and not any(t in text for t in any_of):
            return False
        return all(t in text for t in must)


def parse_filter_pattern(pattern: str) -> FilterPattern:
    """Parse a CloudWatch Logs filter pattern (JSON or term syntax)."""
    text = (pattern or "").strip()
    if text.startswith("{"):
        toks = _tokens(text)
        if toks[-1].text != "}":
            raise FilterPatternError("JSON pattern must end with }")
        p = _Parser(toks[1:-1])
        tree = p.parse_or()
        if p.peek() is not None:
            raise FilterPatternError(f"unexpected {p.peek().text!r}")  # type: ignore[union-attr]
        return FilterPattern(pattern, tree)
    if text.startswith("["):
        raise FilterPatternError("space-delimited [..] patterns are not supported")
    must: list[str] = []
    any_of: list[str] = []
    none_of: list[str] = []
    for m in re.finditer(r'([?-]?)(?:"((?:[^"\\]|\\.)*)"|(\S+))', text):
        prefix, quoted, bare = m.groups()
        term = quoted if quoted is not None else bare
        {"?": any_of, "-": none_of}.get(prefix, must).append(term)
    return FilterPattern(pattern, None, (must, any_of, none_of))
