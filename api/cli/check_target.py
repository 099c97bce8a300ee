"""`metodika check` on a package directory or on one file of a package, once or `--watch`.

A file is compiled within the package it belongs to (the nearest methodology.yaml up the tree):
its own diagnostics are printed first, the other files' after a heading, so the methodologist sees
what the file they edit breaks and what was already broken elsewhere.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from dsl.diagnostics import Diagnostic, DiagnosticError, SourceCache

MANIFEST = "methodology.yaml"


@dataclass(frozen=True)
class Target:
    package: Path          # the package directory that is compiled
    file: Path | None      # the file asked about (None: the whole package)


class TargetError(Exception):
    """The argument names neither a package nor a file inside one (Russian message)."""


def locate(arg: str) -> Target:
    """The package to compile for `arg`: a package directory, or the package a file belongs to."""
    path = Path(arg)
    if path.is_dir():
        if (path / MANIFEST).is_file():
            return Target(path, None)
        raise TargetError(f"в каталоге {arg} нет файла {MANIFEST}")
    if not path.exists():
        raise TargetError(f"нет такого файла или каталога: {arg}")
    if path.name == MANIFEST:
        return Target(path.parent, None)
    for parent in path.resolve().parents:
        if (parent / MANIFEST).is_file():
            return Target(_shown(parent), path)
    raise TargetError(f"файл {arg} не входит ни в один пакет: выше по дереву каталогов нет {MANIFEST}")


def _shown(p: Path) -> Path:
    rel = os.path.relpath(p, Path.cwd())
    return Path(rel) if not rel.startswith("..") else p


def _same_file(span_file: str, file: Path) -> bool:
    try:
        return Path(span_file).resolve() == file.resolve()
    except OSError:
        return False


def split(diags: list[Diagnostic], file: Path | None) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """(the file's diagnostics, the others); without a file every diagnostic is the package's."""
    if file is None:
        return list(diags), []
    own = [d for d in diags if d.span is not None and _same_file(d.span.file, file)]
    mine = {id(d) for d in own}
    return own, [d for d in diags if id(d) not in mine]


def _belongs(m, file: Path) -> bool:
    """Whether the compiled package reads the file: a rule file must be one of its modules; any
    other file under the package directory is part of its content (and of its hash)."""
    want = file.resolve()
    if want.suffix != ".rules":
        return True
    return any(Path(f).resolve() == want for f in m.sources)


def check_once(target: Target, as_json: bool) -> int:
    """Compile and print; 0 without errors, 1 with errors (or a file the package does not read)."""
    from engine.runtime.compile_cache import compile_cached

    out, err = sys.stdout, sys.stderr

    try:
        m = compile_cached(target.package)
    except DiagnosticError as e:
        own, others = split(e.diagnostics, target.file)
        mine = {id(d) for d in own}
        if as_json:
            rows = [dict(d.to_json(), in_file=id(d) in mine) for d in own + others]
            print(json.dumps(rows, ensure_ascii=False, indent=1), file=out)
            return 1
        sources = SourceCache()
        if target.file is not None:
            print(f"{target.file}: ошибок в файле {len(own)} (пакет {target.package})", file=err)
        if own:
            print("\n" + "\n\n".join(d.render(sources) for d in own), file=err)
        if others:
            head = "в других файлах пакета" if target.file is not None else ""
            if head:
                print(f"\n— {head}: {len(others)} —", file=err)
            print("\n" + "\n\n".join(d.render(sources) for d in others), file=err)
        print(f"\nошибок: {len(e.diagnostics)}", file=err)
        return 1
    if target.file is not None and not _belongs(m, target.file):
        msg = (f"файл {target.file} не читается пакетом {m.ref} ({target.package}): "
               f"его нет в modules, parameters или tables файла {MANIFEST}")
        print(json.dumps({"ok": False, "error": msg}, ensure_ascii=False) if as_json else msg,
              file=out if as_json else err)
        return 1
    if as_json:
        print(json.dumps({"ok": True, "methodology": m.ref, "hash": m.content_hash}, ensure_ascii=False), file=out)
    else:
        where = f"{target.file} (пакет {m.ref})" if target.file is not None else m.ref
        print(f"{where}: ошибок нет — определений {len(m.defs)}, проверок {len(m.checks)}, "
              f"параметров {len(m.params)}, таблиц {len(m.tables)}; sha256 {m.content_hash[:16]}…", file=out)
    return 0


def _snapshot(target: Target) -> dict[str, float]:
    """mtime of every file of the package and the packages it extends (found by walking the tree)."""
    roots = [target.package.resolve()]
    seen = set()
    out: dict[str, float] = {}
    while roots:
        root = roots.pop()
        if root in seen:
            continue
        seen.add(root)
        for p in root.rglob("*"):
            if p.is_file() and not p.name.startswith(".") and "__pycache__" not in p.parts:
                try:
                    out[str(p)] = p.stat().st_mtime_ns
                except OSError:
                    continue
        ext = _extends(root)
        if ext is not None:
            roots.append(ext)
    return out


def _extends(root: Path) -> Path | None:
    import yaml

    try:
        data = yaml.safe_load((root / MANIFEST).read_text(encoding="utf-8-sig"))
    except (OSError, yaml.YAMLError):
        return None
    ext = data.get("extends") if isinstance(data, dict) else None
    return (root / str(ext)).resolve() if ext else None


def watch(target: Target, as_json: bool, interval: float) -> int:
    """Re-check whenever a file of the chain changes; Ctrl-C ends with 0."""
    try:
        last = _snapshot(target)
        check_once(target, as_json)
        print(f"— слежу за изменениями в {target.package} (Ctrl-C — выход) —", file=sys.stderr, flush=True)
        while True:
            time.sleep(interval)
            now = _snapshot(target)
            if now != last:
                last = now
                print(f"\n— {time.strftime('%H:%M:%S')}: файлы изменились, проверяю —", file=sys.stderr)
                check_once(target, as_json)
                sys.stdout.flush()
                sys.stderr.flush()
    except KeyboardInterrupt:
        return 0
