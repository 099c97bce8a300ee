"""Input files of a submission: plain XML files, directories and zip archives as МО send them.

A zip member is never extracted to disk; it is streamed from the archive. Members are
checked by declared size and compression ratio here, and by actual size while read
(see guard.GuardedStream).
"""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .guard import Limits
from .protocol import FlkError

_BOMB_MIN_BYTES = 1 << 20  # ratios of small members are not meaningful


@dataclass(frozen=True)
class Source:
    path: Path
    member: str | None = None

    @property
    def name(self) -> str:
        return f"{self.path.name}:{self.member}" if self.member else self.path.name

    @property
    def base_name(self) -> str:
        """The XML file's own name without extension (member name for zip members)."""
        return Path(self.member or self.path.name).stem

    @contextlib.contextmanager
    def open(self) -> Iterator[BinaryIO]:
        if self.member is None:
            with open(self.path, "rb") as fh:
                yield fh
            return
        with zipfile.ZipFile(self.path) as zf, zf.open(self.member) as fh:
            yield fh  # type: ignore[misc]

    def size_hint(self) -> int:
        try:
            if self.member is None:
                return self.path.stat().st_size
            with zipfile.ZipFile(self.path) as zf:
                return zf.getinfo(self.member).file_size
        except (OSError, zipfile.BadZipFile, KeyError):
            return 0


@dataclass
class Expanded:
    sources: list[Source] = field(default_factory=list)
    errors: list[FlkError] = field(default_factory=list)
    archives: dict[str, list[Source]] = field(default_factory=dict)  # archive name -> its members


def _is_registry_file(p: Path) -> bool:
    return p.suffix.lower() in (".xml", ".zip")


def expand(paths: list[Path], limits: Limits) -> Expanded:
    out = Expanded()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for child in sorted(c for c in p.iterdir() if c.is_file() and _is_registry_file(c)):
                _add_file(child, limits, out)
        elif not p.exists():
            out.errors.append(FlkError("FLK-FILE-READ", "Файл не найден", p.name))
        else:
            _add_file(p, limits, out)
    if not out.sources and not out.errors and not out.archives:
        out.errors.append(
            FlkError("FLK-FILE-NONE", "Не передано ни одного файла реестра (.xml или .zip)", "")
        )
    return out


def _add_file(p: Path, limits: Limits, out: Expanded) -> None:
    if p.suffix.lower() != ".zip":
        out.sources.append(Source(p))
        return
    members: list[Source] = []
    out.archives[p.name] = members
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        msg = (
            "Архив повреждён или не является ZIP"
            if isinstance(exc, zipfile.BadZipFile)
            else "Архив не удалось прочитать"
        )
        out.errors.append(FlkError("FLK-ZIP-BAD", msg, p.name))
        return
    for info in infos:
        if info.is_dir():
            continue
        name = f"{p.name}:{info.filename}"
        suffix = Path(info.filename).suffix.lower()
        if suffix == ".zip":
            out.errors.append(FlkError("FLK-FILE-TYPE", "Вложенные архивы не поддерживаются", name))
            continue
        if suffix != ".xml":
            continue  # readme, signatures etc. are not part of the registry
        if info.flag_bits & 0x1:
            out.errors.append(FlkError("FLK-ZIP-BAD", "Файл в архиве зашифрован", name))
            continue
        if info.file_size > limits.max_bytes:
            out.errors.append(
                FlkError(
                    "FLK-FILE-SIZE", f"Размер файла превышает допустимый ({limits.max_bytes} байт)", name
                )
            )
            continue
        if info.file_size > _BOMB_MIN_BYTES and info.file_size > limits.max_zip_ratio * max(
            info.compress_size, 1
        ):
            out.errors.append(
                FlkError("FLK-ZIP-BOMB", f"Степень сжатия выше допустимой ({limits.max_zip_ratio:g}:1)", name)
            )
            continue
        src = Source(p, info.filename)
        members.append(src)
        out.sources.append(src)
