"""Every primitive documents at least one example, and every example is true."""

from __future__ import annotations

import pytest

from dsl.primitives import REGISTRY
from engine.backends.numpy.adhoc import evaluate_example

EXAMPLES = [(p.name, p.kind, expr, want) for p in REGISTRY.values() for expr, want in p.examples]


def test_every_primitive_has_an_example():
    missing = [f"{p.kind}:{p.name}" for p in REGISTRY.values() if not p.examples]
    assert not missing, f"нет примеров: {missing}"


@pytest.mark.parametrize("name,kind,expr,want", EXAMPLES, ids=[f"{e[0]}:{e[2]}" for e in EXAMPLES])
def test_example(name, kind, expr, want):
    assert evaluate_example(expr, per_row=kind != "elementwise") == want
