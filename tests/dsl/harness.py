"""Compile a rule file (or a package directory) against the fixture package, from tests/dsl."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from dsl.diagnostics import DiagnosticError, SourceCache
from engine.runtime.compiler import compile_package

HERE = Path(__file__).parent
FIXTURE = HERE / "fixture"


@contextmanager
def in_dir(path: Path):
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


_ROOT: Path | None = None


def _scratch(name: str) -> Path:
    global _ROOT
    if _ROOT is None:
        _ROOT = Path(tempfile.mkdtemp(prefix="metodika-dsl-"))
        atexit.register(shutil.rmtree, _ROOT, True)
    where = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=_ROOT))
    return where


def compile_entry(entry: Path, tests: Path | None = None):
    """A `.rules` file is compiled as the only module of a package extending the fixture.

    A package may only name files inside itself (engine/runtime/pkgfiles.py), so the entry, its tests and
    the fixture are copied into a scratch package laid out like tests/dsl (``bad/x.rules``,
    ``fixture/``) and compiled from there: diagnostics show the same paths as in tests/dsl."""
    if entry.is_dir():
        with in_dir(HERE):
            return compile_package(entry)
    pkg = _scratch(entry.stem)
    shutil.copytree(FIXTURE, pkg / "fixture")
    (pkg / entry.parent.name).mkdir()
    shutil.copy(entry, pkg / entry.parent.name / entry.name)
    manifest = [f"id: {entry.stem}", "version: 0.0.1", f"title: {entry.stem}",
                "extends: fixture", f"modules: ['{entry.parent.name}/{entry.name}']"]
    if tests is not None:
        shutil.copy(tests, pkg / entry.parent.name / tests.name)
        manifest.append(f"tests: ['{entry.parent.name}/{tests.name}']")
    (pkg / "methodology.yaml").write_text("\n".join(manifest) + "\n", encoding="utf-8")
    with in_dir(pkg):
        return compile_package(pkg)


def diagnostics_text(entry: Path) -> str:
    try:
        compile_entry(entry)
    except DiagnosticError as e:
        with in_dir(HERE):
            return e.render(SourceCache()) + "\n"
    return "(ошибок нет)\n"
