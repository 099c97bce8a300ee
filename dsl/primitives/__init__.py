"""Primitive registry: importing this package registers every primitive."""

from dsl.primitives import aggregates, codes, dates, elementwise  # noqa: F401
from dsl.primitives.registry import REGISTRY, Primitive, PrimitiveTypeError, check_arity, lookup, names

__all__ = ["REGISTRY", "Primitive", "PrimitiveTypeError", "check_arity", "lookup", "names"]
