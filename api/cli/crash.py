"""An internal error of the CLI: one Russian line on stderr, the traceback in a log file.

The log names where the defect happened (frames: file, line, function, source line) and the
exception types of the chain, but never the exception messages or any local values: those may
carry data values, and data may be personal (ФИО, СНИЛС, полис). Logs go to
``$METODIKA_HOME/logs`` when METODIKA_HOME is set, else ``$XDG_STATE_HOME/metodika/logs``
(``~/.local/state/metodika/logs``), else the system temporary directory.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
import tempfile
import traceback
from pathlib import Path


def log_dirs() -> list[Path]:
    out = []
    if os.environ.get("METODIKA_HOME"):
        out.append(Path(os.environ["METODIKA_HOME"]).expanduser() / "logs")
    state = os.environ.get("XDG_STATE_HOME")
    out.append((Path(state) if state else Path.home() / ".local" / "state") / "metodika" / "logs")
    out.append(Path(tempfile.gettempdir()) / "metodika-logs")
    return out


def describe(exc: BaseException) -> list[str]:
    """The traceback without messages: the chain of exception types with their frames."""
    lines: list[str] = []
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        lines.append(f"{type(cur).__module__}.{type(cur).__qualname__} (текст исключения не записан: "
                     "он может содержать значения данных)")
        for fr in traceback.extract_tb(cur.__traceback__):
            lines.append(f'  File "{fr.filename}", line {fr.lineno}, in {fr.name}')
            if fr.line:
                lines.append(f"    {fr.line.strip()}")
        nxt = cur.__cause__ or (None if cur.__suppress_context__ else cur.__context__)
        if nxt is not None:
            lines.append("вызвано исключением:" if cur.__cause__ is not None else "во время обработки исключения:")
        cur = nxt
    return lines


def write_log(exc: BaseException, command: str | None) -> Path | None:
    now = dt.datetime.now(dt.UTC)
    body = "\n".join([f"metodika {command or ''}: внутренняя ошибка {now.isoformat(timespec='seconds')}",
                      f"python {platform.python_version()} на {platform.system()}", "", *describe(exc), ""])
    name = f"internal-{now.strftime('%Y%m%dT%H%M%SZ')}-{os.getpid()}.log"
    for d in log_dirs():
        try:
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = d / name
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(body)
            return path
        except OSError:
            continue
    return None


def report(exc: BaseException, command: str | None) -> int:
    """Print the one line, write the log; the exit code of an internal error (2)."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" в {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
    path = write_log(exc, command)
    details = f"подробности записаны в {path}" if path is not None else "записать подробности не удалось"
    print(f"внутренняя ошибка программы — это дефект Metodika, а не ошибка во входных данных "
          f"({type(exc).__name__}{where}); {details}", file=sys.stderr)
    return 2
