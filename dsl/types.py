"""Static types of the rule language."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("bool", "int", "number", "money", "date", "code", "text")
NUMERIC = ("int", "number", "money")


@dataclass(frozen=True)
class Type:
    kind: str
    optional: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown type kind {self.kind}")

    def __str__(self) -> str:
        return f"optional {self.kind}" if self.optional else self.kind

    @property
    def required(self) -> Type:
        return Type(self.kind, False)

    def as_optional(self, optional: bool = True) -> Type:
        return Type(self.kind, optional)

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC


BOOL = Type("bool")
INT = Type("int")
NUMBER = Type("number")
MONEY = Type("money")
DATE = Type("date")
CODE = Type("code")
TEXT = Type("text")


def parse_type_name(name: str, optional: bool = False) -> Type | None:
    if name not in KINDS:
        return None
    return Type(name, optional)


def assignable(source: Type, target: Type) -> bool:
    """Whether a value of `source` may be stored where `target` is declared."""
    if source.optional and not target.optional:
        return False
    s, t = source.kind, target.kind
    if s == t:
        return True
    if s == "int" and t in ("number", "money"):
        return True
    return s == "code" and t == "text" or s == "text" and t == "code"


def comparable(a: Type, b: Type) -> bool:
    if a.kind == b.kind:
        return True
    if a.is_numeric and b.is_numeric:
        return True
    return {a.kind, b.kind} == {"code", "text"}


def arithmetic_result(op: str, a: Type, b: Type) -> Type | None:
    """Result kind of a binary arithmetic operator, None when not allowed.

    Money stays exact only where the result is exact: money ± money, money × int.
    Anything else that involves money is a number of roubles until rounded explicitly.
    """
    x, y = a.kind, b.kind
    if op in ("+", "-"):
        if x == y and x in ("int", "number", "money"):
            return Type(x)
        if {x, y} == {"int", "number"}:
            return NUMBER
        if {x, y} == {"money", "int"} or {x, y} == {"money", "number"}:
            return None  # adding a plain number to money is ambiguous: say which is money
        if x == "date" and y == "int" and op in ("+", "-"):
            return DATE
        return None
    if op == "*":
        if x == y == "int":
            return INT
        if {x, y} == {"money", "int"}:
            return MONEY
        if x == "money" and y == "money":
            return None
        if x in NUMERIC and y in NUMERIC:
            return NUMBER
        return None
    if op == "/":
        if x in NUMERIC and y in NUMERIC:
            return NUMBER
        return None
    return None
