"""Shared integer parameter types: every id, cursor and offset fits a signed 64-bit column.

Without the bound a huge number in a path or query (``/runs/99999999999999999999999``) reaches
the database driver and fails there (``OverflowError``: 500). With it, FastAPI answers 422 with
the parameter named in ``errors[].loc``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

INT64_MAX = 2**63 - 1

IdPath = Annotated[int, Path(ge=1, le=INT64_MAX, description="Идентификатор")]
OffsetQuery = Annotated[int, Query(ge=0, le=INT64_MAX, description="Пропустить строк")]
CursorQuery = Annotated[
    int | None, Query(ge=0, le=INT64_MAX, description="Курсор: next_after предыдущей страницы")
]


def in_int64(value: int) -> bool:
    return -INT64_MAX - 1 <= value <= INT64_MAX
