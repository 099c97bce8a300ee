"""Methodology versions: publish (compile → store files + content hash), materialize, compile.

Files of the whole ``extends`` chain are stored with paths relative to the chain's common
directory, so ``extends: ../../federal/2025`` keeps working when the version is written
back to disk (``materialize``) and recompiled; the recompiled hash must equal the stored one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import append_event
from api.db.models import MethodologyFile, MethodologyVersion
from engine.runtime.compiler import compile_package
from engine.runtime.hashing import normalized_bytes
from engine.runtime.model import Methodology
from engine.runtime.package import MANIFEST, package_files

CACHE_DIR = "cache/methodologies"


class PublishError(Exception):
    """A package that cannot be published (not a compile error): binary file, version conflict."""

    def __init__(self, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PackageFile:
    path: str      # relative to the common directory of the chain, posix
    text: str


def chain_files(m: Methodology) -> list[PackageFile]:
    """The normalized files of every package of ``m``'s chain."""
    roots = [p.path.resolve() for p in m.chain]
    common = Path(os.path.commonpath(roots)) if len(roots) > 1 else roots[0]
    out: dict[str, PackageFile] = {}
    for info in m.chain:
        for f in package_files(SimpleNamespace(info=info)):  # type: ignore[arg-type]
            rel = f.resolve().relative_to(common).as_posix()
            try:
                text = normalized_bytes(f).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise PublishError(f"файл {rel} не в кодировке UTF-8: в пакете допустимы только текстовые "
                                   "файлы (правила, YAML, CSV)") from exc
            out[rel] = PackageFile(rel, text)
    return [out[k] for k in sorted(out)]


def leaf_dir(files: list[tuple[str, str]], package_id: str, version: str) -> str:
    """Directory (relative) of the manifest of ``package_id@version`` among stored files."""
    for path, text in files:
        if Path(path).name != MANIFEST:
            continue
        try:
            doc = yaml.safe_load(text) or {}
        except yaml.YAMLError:
            continue
        if isinstance(doc, dict) and str(doc.get("id")) == package_id and str(doc.get("version")) == version:
            return Path(path).parent.as_posix()
    raise PublishError(f"среди файлов версии нет {MANIFEST} пакета {package_id}@{version}", status=500)


def find_by_hash(session: Session, sha256: str) -> MethodologyVersion | None:
    return session.scalar(select(MethodologyVersion).where(MethodologyVersion.content_sha256 == sha256))


def publish(
    session: Session, m: Methodology, *, actor: str, user_id: int | None
) -> tuple[MethodologyVersion, bool]:
    """Store ``m`` (already compiled without errors). Returns (version, created).

    The same content hash published again returns the existing version; the same
    ``id@version`` with different content is refused (published versions are immutable).
    """
    existing = find_by_hash(session, m.content_hash)
    if existing is not None:
        return existing, False
    clash = session.scalar(
        select(MethodologyVersion).where(
            MethodologyVersion.package_id == m.package.id, MethodologyVersion.version == m.package.version
        )
    )
    if clash is not None:
        raise PublishError(
            f"версия {m.ref} уже опубликована с другим содержимым (sha256 {clash.content_sha256[:12]}…); "
            "опубликованная версия неизменна — увеличьте номер версии в methodology.yaml",
            status=409,
        )
    files = chain_files(m)
    mv = MethodologyVersion(
        package_id=m.package.id,
        version=m.package.version,
        content_sha256=m.content_hash,
        title=m.package.title,
        published_by=user_id,
        immutable=True,
    )
    import hashlib

    mv.files = [
        MethodologyFile(path=f.path, sha256=hashlib.sha256(f.text.encode("utf-8")).hexdigest(), content=f.text)
        for f in files
    ]
    session.add(mv)
    session.flush()
    append_event(
        session,
        actor=actor,
        action="methodology.publish",
        object_type="methodology_version",
        object_id=str(mv.id),
        payload={"package": m.ref, "sha256": m.content_hash, "files": len(files),
                 "chain": [p.ref for p in m.chain]},
    )
    return mv, True


def publish_compiled(
    session: Session, m: Methodology, *, actor: str, user_id: int | None
) -> tuple[MethodologyVersion, bool]:
    """:func:`publish` and commit — the one publishing path of the API and the web workbench.

    Two requests publishing the same content at once: the loser's unique-hash violation is
    answered with the winner's version (created=False); any other clash is a 409 PublishError.
    """
    from sqlalchemy.exc import IntegrityError

    try:
        mv, created = publish(session, m, actor=actor, user_id=user_id)
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        existing = find_by_hash(session, m.content_hash)
        if existing is None:
            raise PublishError(f"версия {m.ref} уже опубликована", status=409) from exc
        return existing, False
    return mv, created


_lock = threading.Lock()
_shared: dict[tuple[str, str], Methodology] = {}


def materialize(home: Path, mv: MethodologyVersion) -> Path:
    """Write the files of ``mv`` under ``$METODIKA_HOME/cache/methodologies/<sha256>``; the leaf dir."""
    root = home / CACHE_DIR / mv.content_sha256
    files = [(f.path, f.content) for f in mv.files]
    leaf = root / leaf_dir(files, mv.package_id, mv.version)
    if root.is_dir():
        return leaf
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{mv.content_sha256[:12]}-", dir=root.parent))
    try:
        for path, text in files:
            target = tmp / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="")
        os.replace(tmp, root)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not root.is_dir():
            raise
    return leaf


def compile_version(home: Path, mv: MethodologyVersion, *, fresh: bool = False) -> Methodology:
    """The compiled methodology of a stored version.

    ``fresh=False`` returns a process-wide shared instance for read-only use (views, types,
    diff); evaluation (runs, explain, tests) asks for ``fresh=True``: the engine caches
    lookup indexes on table objects, so instances are not shared between threads.
    """
    if not fresh:
        with _lock:
            cached = _shared.get((str(home), mv.content_sha256))
        if cached is not None:
            return cached
    m = compile_package(materialize(home, mv))
    if m.content_hash != mv.content_sha256:
        raise PublishError(
            f"содержимое версии {mv.package_id}@{mv.version} не совпадает с её хешем: "
            f"{m.content_hash[:12]}… ≠ {mv.content_sha256[:12]}…", status=500)
    if not fresh:
        with _lock:
            _shared.setdefault((str(home), mv.content_sha256), m)
    return m


def display_root(m: Methodology) -> list[str]:
    """Prefixes to strip from file names the engine reports for a compiled (materialized) version."""
    roots = [p.path.resolve() for p in m.chain]
    return path_prefixes(Path(os.path.commonpath(roots)) if len(roots) > 1 else roots[0])


def path_prefixes(root: Path) -> list[str]:
    from engine.runtime.package import display_path

    out = {str(root.resolve()) + "/", display_path(root.resolve()) + "/", str(root) + "/"}
    return sorted(out, key=len, reverse=True)


def strip_paths(value: Any, prefixes: list[str]) -> Any:
    """``value`` (JSON-like) with materialization directories removed from every string."""
    if isinstance(value, str):
        for p in prefixes:
            value = value.replace(p, "")
        return value
    if isinstance(value, list):
        return [strip_paths(v, prefixes) for v in value]
    if isinstance(value, dict):
        return {k: strip_paths(v, prefixes) for k, v in value.items()}
    return value
