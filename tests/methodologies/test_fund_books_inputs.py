"""Q015 checks over fund-supplied books (F032, M002, O002, F042): each reads its book, and the book
is a reference input (no relation to account), so a run without it prints one notice per check."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.runtime.compiler import compile_package
from engine.runtime.required_inputs import inputs_read, reference_entities

PKG = Path(__file__).resolve().parents[2] / "methodologies" / "federal" / "2025"

BOOK_OF = {
    **{f"q015_001f_00_{n}": "f032" for n in ("0031", "0201", "0361", "0371", "0621")},
    "q015_001f_00_0691": "f042",
    "q015_001f_00_0730": "o002",
    "q015_001f_00_0740": "o002",
    **{f"q015_001f_00_{n}": "m002" for n in ("0420", "0430", "0440", "0450")},
    **{f"q015_003f_00_{n}": "m002" for n in ("0971", "0972", "0981", "0982", "0991", "0992",
                                              "1001", "1002", "1011", "1012")},
}


@pytest.fixture(scope="module")
def methodology():  # type: ignore[no-untyped-def]
    return compile_package(PKG)


def test_books_are_reference_inputs(methodology) -> None:  # type: ignore[no-untyped-def]
    assert {"f032", "m002", "o002", "f042"} <= reference_entities(methodology)


@pytest.mark.parametrize("check", sorted(BOOK_OF))
def test_check_reads_its_book_only(methodology, check: str) -> None:  # type: ignore[no-untyped-def]
    read = inputs_read(methodology, check) & reference_entities(methodology)
    assert read == {BOOK_OF[check]}
