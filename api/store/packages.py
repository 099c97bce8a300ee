"""Methodology packages sent to the API as ZIP archives: safe extraction, compile, diagnostics."""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from api.store.methodologies import path_prefixes, strip_paths
from dsl.diagnostics import DiagnosticError
from engine.runtime.compiler import compile_package
from engine.runtime.model import Methodology
from engine.runtime.package import MANIFEST

MAX_FILES = 2000
MAX_TOTAL = 200 * 1024 * 1024


class PackageError(Exception):
    def __init__(self, message: str, field: str = "archive") -> None:
        super().__init__(message)
        self.field = field


def extract(stream: BinaryIO, target: Path) -> None:
    """Unpack a ZIP into ``target`` refusing absolute paths, ``..``, links and oversized content."""
    try:
        zf = zipfile.ZipFile(stream)
    except zipfile.BadZipFile as exc:
        raise PackageError("архив пакета повреждён или не является ZIP") from exc
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_FILES:
            raise PackageError(f"в архиве больше {MAX_FILES} файлов")
        if sum(i.file_size for i in infos) > MAX_TOTAL:
            raise PackageError("распакованный пакет больше 200 МБ")
        for info in infos:
            name = PurePosixPath(info.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts or (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise PackageError(f"недопустимый путь в архиве: {info.filename}")
            dest = target.joinpath(*name.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, dest.open("wb") as out:
                out.write(src.read())


def package_root(target: Path, root: str | None) -> Path:
    """The package directory inside an extracted archive: ``root`` or the only manifest's directory."""
    if root:
        rel = PurePosixPath(root)
        if rel.is_absolute() or ".." in rel.parts:
            raise PackageError("недопустимый путь к пакету", field="root")
        found = target.joinpath(*rel.parts)
        if not (found / MANIFEST).is_file():
            raise PackageError(f"в архиве нет {root}/{MANIFEST}", field="root")
        return found
    manifests = sorted(target.rglob(MANIFEST))
    if len(manifests) == 1:
        return manifests[0].parent
    if not manifests:
        raise PackageError(f"в архиве нет файла {MANIFEST}")
    shown = ", ".join(str(m.parent.relative_to(target)) for m in manifests)
    raise PackageError(f"в архиве несколько пакетов ({shown}); укажите поле root", field="root")


def compile_extracted(target: Path, root: str | None) -> tuple[Methodology | None, list[dict[str, Any]]]:
    """Compile; (methodology, []) or (None, diagnostics as JSON with archive-relative file names)."""
    pkg = package_root(target, root)
    try:
        return compile_package(pkg), []
    except DiagnosticError as e:
        return None, strip_paths([d.to_json() for d in e.diagnostics], path_prefixes(target))


def diagnostics_as_errors(diags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Diagnostics as problem+json field errors: ``loc`` = [file, line, column], msg with the code."""
    out = []
    for d in diags:
        span = d.get("span") or {}
        loc: list[str | int] = [span.get("file") or "methodology.yaml"]
        if span.get("line"):
            loc += [span["line"], span.get("column") or 1]
        hints = "; ".join(d.get("hints") or [])
        out.append({"loc": loc, "msg": f"{d['code']}: {d['message']}" + (f" (подсказка: {hints})" if hints else ""),
                    "code": d["code"], "related": d.get("related") or []})
    return out
