"""An output directory that holds exactly one run: written aside, swapped in whole.

A run writes into a fresh sibling directory (``.<name>.tmp-…`` next to ``--out``, so on the same
file system); when the writers are done the old directory is renamed aside, the new one renamed
to ``--out`` and the old one deleted. A run that fails while writing leaves ``--out`` as it was
and no staging directory; `write_failure` replaces ``--out`` with a directory holding only
``run.json`` (``status`` and the reason) — so ``--out`` never mixes files of two runs, and never
shows an earlier run's ``run.json`` with ``"status": "done"`` after a failed one.

Between the two renames ``--out`` briefly does not exist (POSIX has no portable directory
exchange); a reader sees either the old run, nothing, or the new run — never a mix.

An existing ``--out`` is replaced only if it is empty or holds a previous run (``run.json`` or a
ФЛК protocol at its top): a mistyped ``--out ~`` must not delete a home directory.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MARKERS = ("run.json", "flk_protocol.json", "data_errors.txt")


class OutDirError(Exception):
    """The output directory cannot be used (a user error: exit 1)."""


def check_out_dir(path: Path) -> None:
    """Raise OutDirError if `path` exists and is not a run's directory that may be replaced."""
    if not path.exists():
        if not path.parent.exists():
            raise OutDirError(f"каталог результатов: нет родительского каталога {path.parent}")
        return
    if not path.is_dir() or path.is_symlink():
        raise OutDirError(f"каталог результатов {path} — не каталог")
    if any(path.iterdir()) and not any((path / m).is_file() for m in MARKERS):
        raise OutDirError(f"каталог результатов {path} не пуст и не содержит результатов прошлого расчёта "
                          f"({', '.join(MARKERS)}); укажите пустой или новый каталог")


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask


@contextmanager
def atomic_out_dir(path: Path) -> Iterator[Path]:
    """Yield a staging directory; on normal exit it becomes `path` (the old one is removed),
    on an exception it is deleted and `path` is left untouched."""
    path = Path(path)
    check_out_dir(path)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    os.chmod(staging, _umask_mode())
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _commit(staging, path)


def _commit(staging: Path, path: Path) -> None:
    old = None
    if path.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
        os.rename(path, old / "run")
    try:
        os.rename(staging, path)
    except BaseException:
        if old is not None:
            os.rename(old / "run", path)
            shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_failure(path: Path, status: str, reason: str, extra: dict | None = None) -> None:
    """Replace `path` with a directory holding only run.json of a failed run."""
    info = {"status": status, "reason": reason, **(extra or {})}
    with atomic_out_dir(path) as staging:
        (staging / "run.json").write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
