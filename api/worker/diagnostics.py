"""The traceback of an internal failure, for the administrator — without personal data.

A background job that fails unexpectedly keeps, besides the short message for the user, the
chain of exception TYPES with their stack frames (file, line, function, source line). Exception
MESSAGES and local variables are left out on purpose: they may carry values from the registry
(a policy number in a ``KeyError``, a name in a ``ValueError``). The source lines are the
program's own code, not data.
"""

from __future__ import annotations

import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_FRAMES = 60


def _where(filename: str) -> str:
    try:
        return Path(filename).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return Path(filename).name  # a library: its name, not the server's directory layout


def _one(exc: BaseException) -> list[str]:
    kind = type(exc)
    lines = [f"{kind.__module__}.{kind.__qualname__} (сообщение не сохраняется: может содержать данные)"]
    frames = traceback.extract_tb(exc.__traceback__)
    if len(frames) > MAX_FRAMES:
        lines.append(f"  … {len(frames) - MAX_FRAMES} кадров опущено")
        frames = frames[-MAX_FRAMES:]
    for f in frames:
        lines.append(f"  {_where(f.filename)}:{f.lineno} в {f.name}")
        if f.line:
            lines.append(f"    {f.line.strip()}")
    return lines


def failure_detail(exc: BaseException) -> str:
    """The exception, its causes and contexts (innermost last), as text for ``error_detail``."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        chain.append(cur)
        seen.add(id(cur))
        cur = cur.__cause__ or (None if cur.__suppress_context__ else cur.__context__)
    out: list[str] = []
    for i, e in enumerate(reversed(chain)):
        if i:
            out.append("Во время обработки этого исключения возникло следующее:")
        out.extend(_one(e))
    return "\n".join(out)
