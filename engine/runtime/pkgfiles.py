"""Files named inside a package stay inside the package.

A package may be published through the API, so the paths it names (a table's ``file:``, the
schema, parameter, table, module and test files of methodology.yaml) are untrusted: each must be
relative and resolve — symlinks followed — inside the package's own directory or the directory of
a package it extends, name a regular file (not a directory, a FIFO or /dev/zero), and be no larger
than a limit. Every violation is a positioned diagnostic at the YAML node that named the path:

  E0607  the path is absolute or leads outside the package (``..``, a symlink pointing out)
  E0608  not a regular file (a directory, a device, a FIFO)
  E0609  larger than the limit (METODIKA_PACKAGE_FILE_LIMIT bytes, default 64 MiB)
"""

from __future__ import annotations

import glob
import os
import stat
from pathlib import Path

from dsl.diagnostics import Diagnostics, Span

DEFAULT_LIMIT = 64 << 20


def file_limit() -> int:
    """The size limit of one package file, in bytes (METODIKA_PACKAGE_FILE_LIMIT overrides)."""
    raw = os.environ.get("METODIKA_PACKAGE_FILE_LIMIT", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_LIMIT


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def contained(path: Path, roots: list[Path]) -> bool:
    """A regular file that, with symlinks followed, lies inside one of ``roots`` (package directories)."""
    real = path.resolve()
    return real.is_file() and _inside(real, [r.resolve() for r in roots])


def _roots(pkg_dir: Path, roots: list[Path] | None) -> list[Path]:
    return [r.resolve() for r in (roots or [pkg_dir])]


def resolve(pkg_dir: Path, rel: str, span: Span | None, diags: Diagnostics, what: str,
            roots: list[Path] | None = None) -> Path | None:
    """The file `rel` names (relative to `pkg_dir`), or None after reporting why it is refused.
    A file that does not exist is returned as is: the caller reports «не найден» its own way."""
    if not rel or Path(rel).is_absolute() or rel.startswith("~"):
        diags.error("E0607", f"{what}: путь «{rel}» должен быть относительным, внутри каталога пакета", span)
        return None
    allowed = _roots(pkg_dir, roots)
    target = (pkg_dir / rel).resolve()
    if not _inside(target, allowed):
        diags.error("E0607", f"{what}: путь «{rel}» ведёт за пределы каталога пакета", span,
                    hints=["файлы пакета должны лежать в его каталоге или в каталоге пакета из extends"])
        return None
    if not target.exists():
        return pkg_dir / rel
    st = target.stat()
    if not stat.S_ISREG(st.st_mode):
        kind = "каталог" if stat.S_ISDIR(st.st_mode) else "не обычный файл"
        diags.error("E0608", f"{what}: «{rel}» — {kind}, а нужен файл", span)
        return None
    limit = file_limit()
    if st.st_size > limit:
        diags.error("E0609", f"{what}: файл «{rel}» больше допустимого размера "
                    f"({st.st_size} байт при пределе {limit})", span,
                    hints=["предел задаёт переменная окружения METODIKA_PACKAGE_FILE_LIMIT (байты)"])
        return None
    return target


def read_bytes(path: Path, span: Span | None, diags: Diagnostics, what: str) -> bytes | None:
    """Read a file `resolve` accepted, re-checking on the open descriptor (the file may have been
    swapped for a symlink, a FIFO or a bigger file since). None if refused (reported)."""
    limit = file_limit()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise
    except OSError as e:
        diags.error("E0608", f"{what}: не удалось открыть файл ({e.strerror})", span)
        return None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            diags.error("E0608", f"{what}: не обычный файл, а нужен файл", span)
            return None
        data = fh.read(limit + 1)
    if len(data) > limit:
        diags.error("E0609", f"{what}: файл больше допустимого размера ({limit} байт)", span)
        return None
    return data


def glob_files(pkg_dir: Path, pattern: str, span: Span | None, diags: Diagnostics, what: str,
               roots: list[Path] | None = None) -> list[Path] | None:
    """Files matching a manifest pattern (relative to the package), each checked like `resolve`.
    None after a reported refusal; [] when nothing matched (the caller reports that)."""
    if not pattern or Path(pattern).is_absolute() or pattern.startswith("~"):
        diags.error("E0607", f"{what}: путь «{pattern}» должен быть относительным, внутри каталога пакета", span)
        return None
    out: list[Path] = []
    for found in sorted(glob.glob(str(pkg_dir / pattern))):
        rel = os.path.relpath(found, pkg_dir)
        checked = resolve(pkg_dir, rel, span, diags, what, roots)
        if checked is None:
            return None
        out.append(Path(found))
    return out


def read_text(pkg_dir: Path, rel: str, span: Span | None, diags: Diagnostics, what: str,
              roots: list[Path] | None = None) -> str | None:
    """`resolve` + `read_bytes` + UTF-8 (a BOM is dropped). None after a reported refusal;
    FileNotFoundError and UnicodeDecodeError are left to the caller's own messages."""
    path = resolve(pkg_dir, rel, span, diags, what, roots)
    if path is None:
        return None
    data = read_bytes(path, span, diags, what)
    return None if data is None else data.decode("utf-8-sig")
