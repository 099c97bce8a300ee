"""Drafts of methodology versions: an editable copy of a published version under METODIKA_HOME.

A draft is a directory ``$METODIKA_HOME/drafts/<id>/`` holding ``draft.json`` (the version it
came from, who created it, its state) and ``files/`` — the stored files of the base version's
whole ``extends`` chain, written exactly as :func:`api.store.methodologies.materialize` does.
Only the files of the leaf package are editable; the packages it extends stay as published.
Published versions are never touched: a draft is a copy, and publishing stores a new version
through :func:`api.store.methodologies.publish_compiled` (the API's path).

Concurrency: the directory is created under a temporary name and renamed into place (ids are
random), every write goes to a temporary file replaced atomically, and every change (save,
import, publish) holds an exclusive ``flock`` on the draft's lock file, so two requests (or two
server processes) never interleave their edits or publish one draft twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from api.db.models import MethodologyVersion
from api.store.methodologies import leaf_dir, path_prefixes, strip_paths
from dsl.diagnostics import DiagnosticError
from engine.runtime.compiler import compile_package
from engine.runtime.model import Methodology
from engine.runtime.package import MANIFEST

DRAFTS_DIR = "drafts"
_ID = re.compile(r"[0-9a-f]{16}")
_VERSION_LINE = re.compile(r"^(version:\s*)(['\"]?)([^'\"#\s]+)(['\"]?)", re.M)
TEXT_SUFFIXES = {".rules", ".yaml", ".yml", ".csv", ".md", ".txt"}


class DraftError(Exception):
    """A draft that cannot be found or changed; ``status`` is the HTTP status, message in Russian."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class DraftMeta:
    id: str
    base_version_id: int
    package_id: str
    base_version: str
    leaf: str                   # directory of the leaf package inside files/, posix
    created_by: str
    created_at: str
    state: str = "draft"        # draft | published
    published_version_id: int | None = None


@dataclass
class Draft:
    root: Path
    meta: DraftMeta

    @property
    def files_root(self) -> Path:
        return self.root / "files"

    @property
    def leaf(self) -> Path:
        return self.files_root / self.meta.leaf

    @property
    def published(self) -> bool:
        return self.meta.state == "published"


def drafts_root(home: Path) -> Path:
    return home / DRAFTS_DIR


def next_version(version: str) -> str:
    """The suggested version of a draft: the last number of ``version`` plus one («1.0.0» → «1.0.1»)."""
    m = re.search(r"(\d+)(\D*)$", version)
    if m is None:
        return version + ".1"
    return version[: m.start(1)] + str(int(m.group(1)) + 1) + m.group(2)


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _save_meta(draft: Draft) -> None:
    _write_atomic(draft.root / "draft.json", json.dumps(asdict(draft.meta), ensure_ascii=False, indent=1))


def create_draft(home: Path, mv: MethodologyVersion, actor: str) -> Draft:
    """Copy the files of ``mv`` into a new draft; the leaf manifest's version is bumped."""
    files = [(f.path, f.content) for f in mv.files]
    leaf = leaf_dir(files, mv.package_id, mv.version)
    base = drafts_root(home)
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".new-", dir=base))
    try:
        for path, text in files:
            target = tmp / "files" / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="")
        manifest = tmp / "files" / leaf / MANIFEST
        text = manifest.read_text(encoding="utf-8")
        manifest.write_text(_VERSION_LINE.sub(lambda m: m.group(1) + m.group(2) + next_version(mv.version)
                                              + m.group(4), text, count=1), encoding="utf-8", newline="")
        meta = DraftMeta(id="", base_version_id=mv.id, package_id=mv.package_id, base_version=mv.version,
                         leaf=leaf, created_by=actor, created_at=datetime.now(UTC).isoformat(timespec="seconds"))
        while True:
            meta.id = secrets.token_hex(8)
            draft = Draft(tmp, meta)
            _save_meta(draft)
            try:
                os.rename(tmp, base / meta.id)  # fails if the (random) id exists: never overwrite a draft
            except OSError:
                continue
            return Draft(base / meta.id, meta)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def load_draft(home: Path, draft_id: str) -> Draft:
    root = drafts_root(home) / draft_id
    if not _ID.fullmatch(draft_id) or not (root / "draft.json").is_file():
        raise DraftError(f"Черновик {draft_id} не найден", status=404)
    meta = DraftMeta(**json.loads((root / "draft.json").read_text(encoding="utf-8")))
    return Draft(root, meta)


def list_drafts(home: Path) -> list[Draft]:
    base = drafts_root(home)
    if not base.is_dir():
        return []
    out = [load_draft(home, p.name) for p in base.iterdir() if _ID.fullmatch(p.name)]
    return sorted(out, key=lambda d: d.meta.created_at, reverse=True)


@contextlib.contextmanager
def locked(draft: Draft) -> Iterator[Draft]:
    """Exclusive lock on the draft (threads and processes); re-reads its state inside the lock."""
    with open(draft.root / ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            meta = DraftMeta(**json.loads((draft.root / "draft.json").read_text(encoding="utf-8")))
            yield Draft(draft.root, meta)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def leaf_files(draft: Draft) -> list[str]:
    """Editable files of the draft: every text file of the leaf package, leaf-relative, sorted."""
    out = []
    for p in sorted(draft.leaf.rglob("*")):
        rel = p.relative_to(draft.leaf)
        if p.is_file() and not any(part.startswith(".") for part in rel.parts) and p.suffix in TEXT_SUFFIXES:
            out.append(rel.as_posix())
    return out


def file_path(draft: Draft, rel: str) -> Path:
    """The path of an existing editable file of the draft (no traversal, no new files)."""
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or rel not in leaf_files(draft):
        raise DraftError(f"В черновике нет файла {rel}", status=404)
    return draft.leaf.joinpath(*pure.parts)


def read_file(draft: Draft, rel: str) -> str:
    return file_path(draft, rel).read_text(encoding="utf-8")


def write_file(draft: Draft, rel: str, text: str) -> None:
    """Replace a file's text (call inside :func:`locked`); a published draft is read-only."""
    if draft.published:
        raise DraftError("Черновик уже опубликован и не изменяется; создайте новый черновик", status=409)
    _write_atomic(file_path(draft, rel), text.replace("\r\n", "\n"))


def compile_draft(draft: Draft) -> tuple[Methodology | None, list[dict[str, Any]]]:
    """(methodology, []) or (None, diagnostics with file names relative to the leaf package)."""
    try:
        return compile_package(draft.leaf), []
    except DiagnosticError as e:
        return None, strip_paths([d.to_json() for d in e.diagnostics], path_prefixes(draft.leaf))


def mark_published(draft: Draft, version_id: int) -> None:
    draft.meta.state, draft.meta.published_version_id = "published", version_id
    _save_meta(draft)


def chain_outside_leaf(draft: Draft) -> dict[Path, str]:
    """Texts of the draft's files outside the leaf package (the extended packages, read-only)."""
    out = {}
    for p in draft.files_root.rglob("*"):
        if p.is_file() and draft.leaf not in p.parents:
            out[p] = p.read_text(encoding="utf-8")
    return out


def restore(snapshot: dict[Path, str]) -> list[str]:
    """Undo changes to files outside the leaf; the names of those that had changed."""
    changed = []
    for p, text in snapshot.items():
        if p.read_text(encoding="utf-8") != text:
            _write_atomic(p, text)
            changed.append(p.name)
    return changed
