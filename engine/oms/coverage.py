"""Coverage of the FFOMS format-logical control catalogue (НСИ Q015) by a methodology package.

The package ships the catalogue's ID list (``catalogue/q015_ids.csv``: id, level, books) and,
for the IDs it does not implement, the reason (``catalogue/missing.yaml`` and
``catalogue/missing_<theme>.yaml``: ID → reason). Both are looked up along the package's
extends chain, the package itself first. Tests count for an
ID when they passed: a *firing* test expects a defect of the ID's check; a *non-firing* test
names the check in its ``checks:`` (of the case or of the file) and expects no defect of it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from dsl.checker import CATALOGUE_ID
from dsl.diagnostics import Diagnostic, DiagnosticError, Span
from engine.runtime.model import Methodology
from engine.runtime.pkgfiles import contained
from engine.runtime.yamlpos import load_located, plain

ID_LIST = Path("catalogue") / "q015_ids.csv"
MISSING = ("missing.yaml", "missing_*.yaml")   # in catalogue/: one file, or one per theme


@dataclass
class IdCoverage:
    id: str
    level: str = ""
    books: str = ""
    checks: list[str] = field(default_factory=list)
    disabled: str | None = None       # reason, when the check is disabled by this package
    reason: str | None = None         # why it is missing (missing.yaml)
    firing: list[str] = field(default_factory=list)      # "file:line name" of passing tests
    not_firing: list[str] = field(default_factory=list)

    @property
    def implemented(self) -> bool:
        return bool(self.checks) and self.disabled is None

    @property
    def tested(self) -> bool:
        return bool(self.firing) and bool(self.not_firing)


@dataclass
class Coverage:
    package: str
    catalogue_file: str
    ids: list[IdCoverage]
    unknown: dict[str, list[str]]     # IDs the package's checks carry that are not in the list
    warnings: list[str] = field(default_factory=list)
    tests_run: bool = True

    @property
    def implemented(self) -> list[IdCoverage]:
        return [c for c in self.ids if c.implemented]

    @property
    def missing(self) -> list[IdCoverage]:
        return [c for c in self.ids if not c.implemented]

    def to_json(self) -> dict:
        return {
            "package": self.package, "catalogue": self.catalogue_file, "total": len(self.ids),
            "implemented": len(self.implemented), "tested": sum(c.tested for c in self.implemented),
            "missing": len(self.missing), "tests_run": self.tests_run,
            "ids": [{"id": c.id, "level": c.level, "books": c.books, "checks": c.checks,
                     "implemented": c.implemented, "disabled": c.disabled, "reason": c.reason,
                     "firing_tests": c.firing, "non_firing_tests": c.not_firing} for c in self.ids],
            "unknown_ids": self.unknown, "warnings": self.warnings,
        }


def _in_chain(m: Methodology, rel: Path) -> list[Path]:
    """Existing files at `rel` in the package and its bases, the package itself first."""
    roots = [p.path for p in m.chain]
    return [p.path / rel for p in reversed(m.chain) if contained(p.path / rel, roots)]


def _missing_files(m: Methodology) -> list[Path]:
    out = []
    roots = [p.path for p in m.chain]
    for p in reversed(m.chain):
        for pattern in MISSING:
            out.extend(f for f in sorted((p.path / "catalogue").glob(pattern)) if contained(f, roots))
    return out


def read_id_list(path: Path) -> list[IdCoverage]:
    out: list[IdCoverage] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or "id" not in reader.fieldnames:
            raise DiagnosticError([Diagnostic("E0605", "в списке каталога нет столбца id", Span(str(path), 1, 1, 1, 2))])
        for line, row in enumerate(reader, start=2):
            ident = (row.get("id") or "").strip()
            if not CATALOGUE_ID.fullmatch(ident) or ident in seen:
                what = "повторяется" if ident in seen else "не похож на идентификатор Q015 (NNNF.NN.NNNN)"
                raise DiagnosticError([Diagnostic("E0605", f"строка {line}: «{ident}» {what}",
                                                  Span(str(path), line, 1, line, 2))])
            seen.add(ident)
            out.append(IdCoverage(ident, (row.get("level") or "").strip(), (row.get("books") or "").strip()))
    return out


def read_missing(paths: list[Path]) -> dict[str, str]:
    """ID → reason, the package's own file winning over its bases'."""
    out: dict[str, str] = {}
    errors: list[Diagnostic] = []
    for path in reversed(paths):   # bases first, so the package itself overrides
        root = load_located(path, str(path))
        if root.value is None:
            continue
        if not isinstance(root.value, dict):
            errors.append(Diagnostic("E0601", "ожидался словарь «ID: причина»", root.span))
            continue
        for ident, node in root.value.items():
            span = root.key_spans[ident]
            reason = node.value
            if not CATALOGUE_ID.fullmatch(str(ident)):
                errors.append(Diagnostic("E0704", f"«{ident}» не похож на идентификатор Q015 (NNNF.NN.NNNN)", span))
            elif not isinstance(reason, str) or not reason.strip():
                errors.append(Diagnostic("E0601", f"{ident}: причина должна быть непустой строкой", node.span))
            else:
                out[str(ident)] = reason.strip()
    if errors:
        raise DiagnosticError(errors)
    return out


def _test_expectations(m: Methodology) -> dict[tuple[str, int], tuple[set[str], set[str] | None]]:
    """(file, line) of each test case → (checks it expects to fire, checks it limits itself to)."""
    from engine.runtime.package import display_path

    out: dict[tuple[str, int], tuple[set[str], set[str] | None]] = {}
    for path in m.tests:
        try:
            root = load_located(path, display_path(path))
        except DiagnosticError:
            continue
        cases, file_checks = root.value, None
        if isinstance(cases, dict):
            file_checks = set(map(str, plain(cases["checks"]))) if "checks" in cases else None
            cases = cases["cases"].value if "cases" in cases else []
        for case in cases if isinstance(cases, list) else []:
            spec = plain(case)
            if not isinstance(spec, dict) or "defects" not in spec:
                continue
            fired = {str(d["check"]) for d in spec.get("defects") or [] if isinstance(d, dict) and "check" in d}
            only = set(map(str, spec["checks"])) if spec.get("checks") else file_checks
            out[(display_path(path), case.span.line)] = (fired, only)
    return out


def coverage(m: Methodology, id_list: Path | None = None, run: bool = True) -> Coverage:
    lists = [id_list] if id_list is not None else _in_chain(m, ID_LIST)
    if not lists:
        raise FileNotFoundError(f"в пакете {m.ref} и его базовых пакетах нет списка каталога {ID_LIST}")
    ids = read_id_list(lists[0])
    by_id = {c.id: c for c in ids}
    missing = read_missing(_missing_files(m))
    unknown: dict[str, list[str]] = {}
    check_ids: dict[str, str] = {}
    for name, info in m.checks.items():
        ident = info.ir.catalogue if info.ir is not None else None
        if ident is None:
            continue
        check_ids[name] = ident
        (by_id[ident].checks if ident in by_id else unknown.setdefault(ident, [])).append(name)
    for name, dis in m.disabled.items():
        clause = dis.original.ast.clause("catalogue")   # a disabled check is not type-checked
        ident = clause.text if clause is not None else None
        if ident in by_id and not by_id[ident].checks:
            by_id[ident].checks.append(name)
            by_id[ident].disabled = dis.reason
    warnings = []
    for ident, reason in missing.items():
        if ident not in by_id:
            warnings.append(f"missing.yaml: {ident} нет в списке каталога")
        elif by_id[ident].implemented:
            warnings.append(f"missing.yaml: {ident} объявлен отсутствующим, но реализован ({', '.join(by_id[ident].checks)})")
        else:
            by_id[ident].reason = reason
    if run:
        _attach_tests(m, by_id, check_ids)
    from engine.runtime.package import display_path

    return Coverage(m.ref, display_path(lists[0]), ids, unknown, warnings, run)


def _attach_tests(m: Methodology, by_id: dict[str, IdCoverage], check_ids: dict[str, str]) -> None:
    from engine.testing import run_tests

    expectations = _test_expectations(m)
    for r in run_tests(m).results:
        if not r.ok or (r.file, r.line) not in expectations:
            continue
        fired, only = expectations[(r.file, r.line)]
        label = f"{r.file}:{r.line} {r.name}"
        for name, ident in check_ids.items():
            if ident not in by_id:
                continue
            if name in fired:
                by_id[ident].firing.append(label)
            elif only is not None and name in only:
                by_id[ident].not_firing.append(label)
