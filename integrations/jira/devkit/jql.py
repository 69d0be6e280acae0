"""The part of JQL a support desk asks of Jira, parsed into a query the Jira stand-in can run."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

# Fields compared by value, and the name the stand-in's issue facts carry them under.
_VALUE_FIELDS = {
    "labels": "labels",
    "key": "key",
    "issuekey": "key",
    "project": "project",
    "status": "status",
}
_DATE_FIELDS = frozenset({"updated", "created"})
_ORDER_FIELDS = frozenset({"updated", "created", "key", "issuekey"})
_RELATIVE = re.compile(r"([+-]?)(\d+)([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_ABSOLUTE = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
_TOKEN = re.compile(
    r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>>=|<=|!=|=|>|<)"""
    r"""|(?P<punct>[(),])|(?P<word>[^\s"'(),=!<>]+))"""
)


class JqlError(ValueError):
    """A query Jira would refuse; the message is the one to answer with."""


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    at: int


@dataclass(frozen=True)
class Clause:
    """One condition: a field, an operator and its values (dates already resolved to instants)."""

    field: str
    operator: str
    values: tuple[Any, ...]

    def holds(self, facts: Mapping[str, Any]) -> bool:
        """Whether an issue's facts (key, project, labels, status, created, updated) meet the condition."""
        if self.field in _DATE_FIELDS:
            at, bound = facts[self.field], self.values[0]
            return {">=": at >= bound, ">": at > bound, "<=": at <= bound, "<": at < bound}[self.operator]
        have = facts[_VALUE_FIELDS[self.field]]
        # Labels hold several values and match if any does; JQL compares values without regard to case.
        held = {v.casefold() for v in (have if isinstance(have, list | tuple) else [have])}
        hit = bool(held & {str(v).casefold() for v in self.values})
        return hit if self.operator in ("=", "in") else not hit


@dataclass(frozen=True)
class Query:
    """Clauses all of which must hold, and the order to list matches in (None: newest created first)."""

    clauses: tuple[Clause, ...]
    order: tuple[tuple[str, bool], ...] | None

    def keys(self) -> set[str]:
        """Issue keys the query names, which Jira insists exist."""
        return {str(v).upper() for c in self.clauses if c.field in ("key", "issuekey") for v in c.values}

    def run(self, issues: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The facts of the matching issues, in the query's order."""
        matched = [f for f in issues if all(c.holds(f) for c in self.clauses)]
        if self.order is None:
            # Issues come in creation order; reversed, those created in the same instant stay newest first.
            return sorted(reversed(matched), key=lambda f: f["created"], reverse=True)
        # Sort by the last key first; Python's sort is stable, so earlier keys win.
        for field, descending in reversed(self.order):
            matched.sort(key=lambda f, name=field: _sort_key(f, name), reverse=descending)
        return matched


def _sort_key(facts: Mapping[str, Any], field: str) -> Any:
    if field in ("key", "issuekey"):
        project, _, number = facts["key"].partition("-")
        return (project, int(number))
    return facts[field]


def _tokens(text: str) -> list[_Token]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip() == "":
                break
            raise JqlError(
                f"Error in the JQL Query: The character '{text[position]}' is a reserved JQL character. "
                f"(line 1, character {position + 1})"
            )
        kind = match.lastgroup
        if kind is not None:
            raw = match.group(kind)
            value = raw[1:-1].replace('\\"', '"').replace("\\'", "'") if kind == "string" else raw
            tokens.append(_Token(kind, value, match.start(kind) + 1))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, now: datetime) -> None:
        self.tokens = _tokens(text)
        self.position = 0
        self.now = now

    def peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expecting: str) -> _Token:
        token = self.peek()
        if token is None:
            raise JqlError(f"Error in the JQL Query: Expecting {expecting} but reached the end of the query.")
        self.position += 1
        return token

    def refuse(self, token: _Token, expecting: str) -> JqlError:
        where = f"(line 1, character {token.at})"
        return JqlError(f"Error in the JQL Query: Expecting {expecting} but got '{token.text}'. {where}")

    def word(self, token: _Token | None, *words: str) -> bool:
        return token is not None and token.kind == "word" and token.text.casefold() in words

    def query(self) -> Query:
        clauses: list[Clause] = []
        order = None
        if self.peek() is not None and not self.word(self.peek(), "order"):
            clauses.append(self.clause())
            while self.word(self.peek(), "and"):
                self.position += 1
                clauses.append(self.clause())
        token = self.peek()
        if self.word(token, "order"):
            self.position += 1
            if not self.word(self.take("'by'"), "by"):
                raise self.refuse(self.tokens[self.position - 1], "'by'")
            order = self.order()
        elif token is not None:
            raise self.refuse(token, "either 'AND' or 'ORDER BY'")
        return Query(tuple(clauses), order)

    def clause(self) -> Clause:
        token = self.take("a field name")
        field = token.text.casefold()
        if token.kind not in ("word", "string") or not (field in _VALUE_FIELDS or field in _DATE_FIELDS):
            raise JqlError(
                f"Error in the JQL Query: the field '{token.text}' is not one this Jira answers "
                f"(line 1, character {token.at})"
            )
        operator = self.take("an operator")
        if field in _DATE_FIELDS:
            if operator.text not in (">=", ">", "<=", "<"):
                raise self.refuse(operator, "one of the operators '>=', '>', '<=', '<'")
            return Clause(field, operator.text, (self.instant(self.take("a date")),))
        if operator.text in ("=", "!="):
            return Clause(field, operator.text, (self.value(),))
        negated = self.word(operator, "not")
        if negated:
            operator = self.take("'in'")
        if not self.word(operator, "in"):
            raise self.refuse(operator, "one of the operators '=', '!=', 'in', 'not in'")
        return Clause(field, "not in" if negated else "in", self.values())

    def value(self) -> str:
        token = self.take("a value")
        if token.kind not in ("word", "string"):
            raise self.refuse(token, "a value")
        return token.text

    def values(self) -> tuple[str, ...]:
        opening = self.take("'('")
        if opening.text != "(":
            raise self.refuse(opening, "'('")
        values = [self.value()]
        while (token := self.take("')'")).text == ",":
            values.append(self.value())
        if token.text != ")":
            raise self.refuse(token, "either ',' or ')'")
        return tuple(values)

    def instant(self, token: _Token) -> datetime:
        relative = _RELATIVE.fullmatch(token.text)
        if relative:
            sign, amount, unit = relative.groups()
            step = timedelta(**{_UNITS[unit]: int(amount)})
            return self.now - step if sign == "-" else self.now + step
        for pattern in _ABSOLUTE:
            try:
                # The stand-in's users all sit in UTC, so an absolute date is read as UTC.
                return datetime.strptime(token.text, pattern).replace(tzinfo=UTC)
            except ValueError:
                continue
        raise JqlError(
            f"Error in the JQL Query: Date value '{token.text}' for field is invalid. Valid formats include: "
            f"'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. "
            f"'-5d', '4w 2d'. (line 1, character {token.at})"
        )

    def order(self) -> tuple[tuple[str, bool], ...]:
        order = []
        while True:
            token = self.take("a field name")
            field = token.text.casefold()
            if field not in _ORDER_FIELDS:
                raise self.refuse(token, "one of the fields 'updated', 'created', 'key'")
            descending = False
            if self.word(self.peek(), "asc", "desc"):
                descending = self.take("a direction").text.casefold() == "desc"
            order.append((field, descending))
            following = self.peek()
            if following is None:
                return tuple(order)
            if following.text != ",":
                raise self.refuse(following, "either ',' or the end of the query")
            self.position += 1


def parse(text: str, *, now: datetime | None = None) -> Query:
    """Parse a JQL query; relative dates ("-15m") count back from `now` (the present by default)."""
    return _Parser(text, now or datetime.now(UTC)).query()
