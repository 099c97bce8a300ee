"""Compile a rule file (or a package directory) against the fixture package, from tests/dsl."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from dsl.diagnostics import DiagnosticError, SourceCache
from engine.compiler import compile_package

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


def compile_entry(entry: Path, tests: Path | None = None):
    """A `.rules` file is compiled as the only module of a package extending the fixture."""
    with in_dir(HERE):
        if entry.is_dir():
            return compile_package(entry)
        with tempfile.TemporaryDirectory() as tmp:
            manifest = [f"id: {entry.stem}", "version: 0.0.1", f"title: {entry.stem}",
                        f"extends: {FIXTURE}", f"modules: ['{entry.resolve()}']"]
            if tests is not None:
                manifest.append(f"tests: ['{tests.resolve()}']")
            Path(tmp, "methodology.yaml").write_text("\n".join(manifest) + "\n", encoding="utf-8")
            return compile_package(Path(tmp))


def diagnostics_text(entry: Path) -> str:
    try:
        compile_entry(entry)
    except DiagnosticError as e:
        with in_dir(HERE):
            return e.render(SourceCache()) + "\n"
    return "(ошибок нет)\n"
