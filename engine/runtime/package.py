"""Methodology package manifests (methodology.yaml) and the `extends` chain."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dsl.diagnostics import Diagnostic, DiagnosticError, Diagnostics
from engine.runtime.model import PackageInfo
from engine.runtime.pkgfiles import glob_files
from engine.runtime.yamlpos import Located, load_located

MANIFEST = "methodology.yaml"
_ALLOWED = {"id", "title", "version", "valid_from", "valid_to", "extends", "sources", "schema", "parameters",
            "modules", "tables", "tests", "outputs", "description", "assumptions", "region", "year"}


@dataclass
class RawPackage:
    info: PackageInfo
    manifest: Located
    display: str                  # path shown in diagnostics (relative to the working dir when possible)
    modules: list[tuple[Path, str]] = field(default_factory=list)   # (path, display path)
    tests: list[Path] = field(default_factory=list)
    roots: list[Path] = field(default_factory=list)   # where its files may lie: itself and what it extends


def display_path(p: Path) -> str:
    try:
        rel = os.path.relpath(p.resolve(), Path.cwd())
    except ValueError:
        return str(p)
    return rel if not rel.startswith("..") else str(p)


def _s(m: dict, key: str) -> str | None:
    v = m.get(key)
    return None if v is None or v.value is None else str(v.value)


def load_manifest(pkg_dir: Path, diags: Diagnostics) -> RawPackage:
    pkg_dir = pkg_dir.resolve()
    man_path = pkg_dir / MANIFEST
    shown = display_path(pkg_dir)
    if not man_path.is_file():
        raise DiagnosticError([Diagnostic("E0602", f"в каталоге {shown} нет файла {MANIFEST}", None)])
    root = load_located(man_path, display_path(man_path))
    if not isinstance(root.value, dict):
        raise DiagnosticError([Diagnostic("E0601", f"{MANIFEST}: ожидался словарь полей", root.span)])
    m = root.value
    for k in m:
        if k not in _ALLOWED:
            from dsl.diagnostics import did_you_mean

            diags.error("E0601", f"{MANIFEST}: неизвестное поле «{k}»", root.key_spans[k],
                        hints=did_you_mean(k, _ALLOWED))
    for req in ("id", "version", "title"):
        if req not in m:
            diags.error("E0601", f"{MANIFEST}: не указано обязательное поле «{req}»", root.span)
    sources = [str(x.value) for x in m["sources"].value] if "sources" in m and isinstance(m["sources"].value, list) else []
    info = PackageInfo(_s(m, "id") or pkg_dir.name, _s(m, "version") or "0", _s(m, "title") or "",
                       pkg_dir, _s(m, "valid_from"), _s(m, "valid_to"), sources, [])
    return RawPackage(info, root, shown)


def _collect_files(raw: RawPackage, diags: Diagnostics) -> None:
    """Module and test files the manifest names; each must stay inside raw.roots (engine/runtime/pkgfiles)."""
    m = raw.manifest.value
    pkg_dir = raw.info.path
    mods = m.get("modules")
    for item in (mods.value if mods is not None and isinstance(mods.value, list) else []):
        matched = glob_files(pkg_dir, str(item.value), item.span, diags, "модуль правил", raw.roots)
        if matched == []:
            diags.error("E0602", f"модуль правил не найден: {item.value}", item.span)
        for f in matched or []:
            raw.modules.append((f, display_path(f)))
    tests = m.get("tests")
    for item in (tests.value if tests is not None and isinstance(tests.value, list) else []):
        raw.tests.extend(glob_files(pkg_dir, str(item.value), item.span, diags, "файл тестов", raw.roots) or [])


def load_chain(pkg_dir: Path, diags: Diagnostics) -> list[RawPackage]:
    """The package and everything it extends, base first."""
    chain: list[RawPackage] = []
    seen: list[Path] = []
    current = pkg_dir.resolve()
    while True:
        if current in seen:
            raise DiagnosticError([Diagnostic("E0401", "цикл наследования пакетов: "
                                              + " → ".join(display_path(p) for p in seen + [current]), None)])
        seen.append(current)
        raw = load_manifest(current, diags)
        chain.append(raw)
        ext = raw.manifest.value.get("extends")
        if ext is None or ext.value is None:
            break
        nxt = (current / str(ext.value)).resolve()
        if not (nxt / MANIFEST).is_file():
            raise DiagnosticError([Diagnostic("E0602", f"extends: пакет не найден: {ext.value}", ext.span)])
        current = nxt
    chain.reverse()
    for i, raw in enumerate(chain):
        raw.roots = [r.info.path for r in chain[:i + 1]]
        _collect_files(raw, diags)
    return chain


def package_files(raw: RawPackage) -> list[Path]:
    """Every file that makes up the package's content (for the content hash)."""
    root = raw.info.path
    out = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith("."):
            out.append(p)
    return out
