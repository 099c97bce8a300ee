"""Compiling the package a document belongs to, with the editor's unsaved texts.

The compiler reads files from disk, so unsaved documents are compiled in a shadow directory: every
file of the package is a symlink to the real one, except the open documents (written with their
editor text) and the manifest, whose relative `extends` is made absolute. Spans that point into the
shadow are mapped back to the real files."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from dsl.diagnostics import Diagnostic, DiagnosticError

MANIFEST = "methodology.yaml"


def package_root(path: Path) -> Path | None:
    """The nearest directory up the tree with a methodology.yaml (the document's package)."""
    start = path if path.is_dir() else path.parent
    for parent in [start, *start.parents]:
        if (parent / MANIFEST).is_file():
            return parent
    return None


@dataclass
class Compiled:
    root: Path
    methodology: object | None              # the last methodology that compiled (for hover etc.)
    diagnostics: dict[Path, list[Diagnostic]] = field(default_factory=dict)   # real file → its diagnostics
    general: list[Diagnostic] = field(default_factory=list)                  # without a position


class Workspace:
    """Open documents and the last compilation of each package; safe for the server's threads."""

    def __init__(self) -> None:
        self.texts: dict[Path, str] = {}
        self.last: dict[Path, Compiled] = {}
        self._lock = threading.Lock()

    def set_text(self, path: Path, text: str | None) -> None:
        with self._lock:
            if text is None:
                self.texts.pop(path.resolve(), None)
            else:
                self.texts[path.resolve()] = text

    def compile(self, path: Path) -> Compiled | None:
        root = package_root(path.resolve())
        if root is None:
            return None
        with self._lock:
            texts = {p: t for p, t in self.texts.items() if _inside(p, root)}
        result = _compile(root, texts)
        with self._lock:
            prev = self.last.get(root)
            if result.methodology is None and prev is not None:
                result.methodology = prev.methodology
            self.last[root] = result
        return result

    def methodology_for(self, path: Path):
        root = package_root(path.resolve())
        if root is None:
            return None
        c = self.last.get(root) or self.compile(path)
        return c.methodology if c else None


def _inside(p: Path, root: Path) -> bool:
    try:
        p.relative_to(root)
        return True
    except ValueError:
        return False


def _compile(root: Path, texts: dict[Path, str]) -> Compiled:
    from engine.runtime.compiler import compile_package

    changed = {p: t for p, t in texts.items() if not p.is_file() or p.read_text(encoding="utf-8") != t}
    if not changed:
        target, shadow = root, None
    else:
        shadow = Path(tempfile.mkdtemp(prefix="metodika-lsp-"))
        target = shadow / root.name
        _shadow(root, target, changed)
    out = Compiled(root, None)
    try:
        out.methodology = compile_package(target)
    except DiagnosticError as e:
        for d in e.diagnostics:
            if d.span is None:
                out.general.append(d)
                continue
            real = _real(Path(d.span.file), target, root)
            out.diagnostics.setdefault(real, []).append(d)
    finally:
        if shadow is not None:
            shutil.rmtree(shadow, ignore_errors=True)
    return out


def _shadow(root: Path, target: Path, changed: dict[Path, str]) -> None:
    import yaml

    for src in root.rglob("*"):
        rel = src.relative_to(root)
        dst = target / rel
        if src.is_dir():
            dst.mkdir(parents=True, exist_ok=True)
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.resolve() in changed:
            dst.write_text(changed[src.resolve()], encoding="utf-8")
        else:
            os.symlink(src.resolve(), dst)
    for p, text in changed.items():     # new, unsaved files of the package
        dst = target / p.relative_to(root)
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_text(text, encoding="utf-8")
    man = target / MANIFEST
    text = man.read_text(encoding="utf-8-sig")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return
    ext = data.get("extends") if isinstance(data, dict) else None
    if ext and not Path(str(ext)).is_absolute():
        absolute = (root / str(ext)).resolve()
        lines = [f"extends: {absolute}" if ln.startswith("extends:") else ln for ln in text.splitlines()]
        man.unlink()
        man.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _real(p: Path, target: Path, root: Path) -> Path:
    """The real file of a span's file (shadow paths mapped back; symlinks are not resolved first)."""
    absolute = Path(os.path.abspath(p))
    try:
        return root / absolute.relative_to(target)
    except ValueError:
        return absolute.resolve()
