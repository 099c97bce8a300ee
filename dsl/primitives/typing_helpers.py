"""Small helpers shared by primitive typers."""

from __future__ import annotations

from dsl.primitives.registry import PrimitiveTypeError
from dsl.types import INT, MONEY, NUMBER, Type


def require_kind(t: Type, kinds: tuple[str, ...], arg: int, what: str) -> None:
    if t.optional:
        raise PrimitiveTypeError(
            f"аргумент {arg + 1} может отсутствовать (тип {t}); задайте значение по умолчанию через default(…)",
            arg, code="E0205")
    if t.kind not in kinds:
        raise PrimitiveTypeError(f"аргумент {arg + 1} ({what}) должен иметь тип {' или '.join(kinds)}, "
                                 f"а имеет тип {t}", arg)


def numeric_join(types: list[Type]) -> Type:
    """Common kind of several numeric arguments (int < number; money only with money/int)."""
    kinds = {t.kind for t in types}
    if kinds <= {"int"}:
        return INT
    if "money" in kinds:
        if kinds <= {"money", "int"}:
            return MONEY
        raise PrimitiveTypeError("нельзя смешивать money и number без явного округления round_money(…)")
    return NUMBER


def literal_int(consts: list[object], i: int, name: str) -> int:
    v = consts[i] if i < len(consts) else None
    if not isinstance(v, int) or isinstance(v, bool):
        raise PrimitiveTypeError(f"{name} должно быть целым числом, записанным прямо в правиле", i)
    return v
