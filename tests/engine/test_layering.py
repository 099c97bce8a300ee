"""Dependencies point one way: api → forms → engine → dsl.

Reads every module of engine/ and dsl/ (the import statements anywhere in the file, also those
inside functions) and fails on any import of forms or api — the engine returns results, the
layers above render and serve them. Inside engine/ the same holds one level down: the language
runtime (engine/runtime) knows no backend and no ОМС pipeline, and the backends
(engine/backends) know nothing of the ОМС pipeline (engine/oms) — docs/architecture.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"engine": ("forms", "api"), "dsl": ("engine", "forms", "api"),
             "engine/runtime": ("forms", "api", "engine.backends", "engine.oms", "engine.testing"),
             "engine/backends": ("forms", "api", "engine.oms")}


def imported_modules(source: str, filename: str = "<src>") -> list[tuple[int, str]]:
    """(line, module) of every import in a module's source, relative imports resolved to None."""
    out = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == \
                "import_module" and node.args and isinstance(node.args[0], ast.Constant):
            out.append((node.lineno, str(node.args[0].value)))
    return out


def violations(layer: str) -> list[str]:
    bad = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        for line, mod in imported_modules(path.read_text(encoding="utf-8"), str(path)):
            if any(mod == f or mod.startswith(f + ".") for f in FORBIDDEN[layer]):
                bad.append(f"{path.relative_to(ROOT)}:{line}: imports {mod}")
    return bad


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_lower_layers_import_nothing_from_above(layer):
    assert violations(layer) == []


def test_the_scan_sees_imports_inside_functions():
    src = "import numpy\n\ndef f():\n    from forms.render import render\n    import api.cli.main\n" \
          "    importlib.import_module('forms.model')\n"
    assert [m for _, m in imported_modules(src)] == ["numpy", "forms.render", "api.cli.main", "forms.model"]
