"""The cache of compiled methodologies: same result as compiling, a changed file is a new entry,
corrupt entries are rebuilt, concurrent processes share the directory safely."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dsl.diagnostics import DiagnosticError
from engine.backends.numpy.evaluator import Evaluator
from engine.runtime.compile_cache import cache_key, compile_cached
from engine.runtime.compiler import compile_package
from engine.runtime.dataset import bind
from tests.engine.conftest import RULES, make_package, synthetic_raw

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("METODIKA_CACHE_DIR", str(d))
    monkeypatch.delenv("METODIKA_CACHE", raising=False)
    return d


def entries(d: Path) -> list[Path]:
    return sorted(d.glob("*.pickle")) if d.exists() else []


def values(m, raw) -> dict:
    ev = Evaluator(m, bind(m.entities, raw))
    return {name: ev.column(ent, name).to_python() for ent, name in m.defs}


def test_a_cached_methodology_computes_the_same(tmp_path, cache):
    pkg = make_package(tmp_path, RULES)
    first = compile_cached(pkg)                      # compiles and stores
    assert len(entries(cache)) == 1
    again = compile_cached(pkg)                      # loads
    assert again is not first and again.content_hash == compile_package(pkg).content_hash
    raw = synthetic_raw(40)
    assert values(again, raw) == values(compile_package(pkg), raw)
    from engine.backends.numpy.checks import run_checks

    rows = lambda m: [(d.row_key, d.check, d.withheld) for d in run_checks(Evaluator(m, bind(m.entities, raw))).defects]  # noqa: E731
    assert rows(again) == rows(first)


def test_the_federal_package_round_trips(cache):
    pkg = ROOT / "methodologies" / "federal" / "2025"
    m = compile_cached(pkg)
    hit = compile_cached(pkg)
    assert hit.content_hash == m.content_hash and set(hit.defs) == set(m.defs) and set(hit.checks) == set(m.checks)
    assert len(entries(cache)) == 1


def test_a_changed_file_is_a_new_entry(tmp_path, cache):
    pkg = make_package(tmp_path, "for case:\n    x: int = 1\n")
    k1 = cache_key(pkg)
    assert compile_cached(pkg).defs[("case", "x")].ir.value == 1
    (pkg / "rules.rules").write_text("for case:\n    x: int = 2\n", encoding="utf-8")
    assert cache_key(pkg) != k1
    assert compile_cached(pkg).defs[("case", "x")].ir.value == 2
    assert len(entries(cache)) == 2


def test_a_change_in_an_extended_package_is_a_new_key(tmp_path, cache):
    base = tmp_path / "base"
    (base / "tables").mkdir(parents=True)
    fixture = ROOT / "tests" / "dsl" / "fixture"
    for f in fixture.rglob("*"):
        if f.is_file():
            (base / f.relative_to(fixture)).parent.mkdir(parents=True, exist_ok=True)
            (base / f.relative_to(fixture)).write_bytes(f.read_bytes())
    leaf = tmp_path / "leaf"
    leaf.mkdir()
    (leaf / "methodology.yaml").write_text("id: l\nversion: 1.0.0\ntitle: л\nextends: ../base\n", encoding="utf-8")
    k1 = cache_key(leaf)
    p = base / "parameters.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("28147.26", "28147.27"), encoding="utf-8")
    assert cache_key(leaf) != k1


def test_a_corrupt_entry_is_ignored_and_rebuilt(tmp_path, cache):
    pkg = make_package(tmp_path, RULES)
    compile_cached(pkg)
    [entry] = entries(cache)
    entry.write_bytes(entry.read_bytes()[:1000])      # truncated, as after a crash or a full disk
    m = compile_cached(pkg)
    assert m.content_hash == compile_package(pkg).content_hash
    assert len(entry.read_bytes()) > 1000              # rewritten whole
    entry.write_bytes(b"not a pickle at all")
    assert compile_cached(pkg).content_hash == m.content_hash


def test_errors_are_reported_and_not_cached(tmp_path, cache):
    pkg = make_package(tmp_path, "for case:\n    x: int = nope\n")
    with pytest.raises(DiagnosticError):
        compile_cached(pkg)
    assert entries(cache) == []


def test_cache_off(tmp_path, cache, monkeypatch):
    monkeypatch.setenv("METODIKA_CACHE", "off")
    compile_cached(make_package(tmp_path, RULES))
    assert entries(cache) == []


def test_concurrent_processes_share_the_directory(tmp_path, cache):
    pkg = make_package(tmp_path, RULES)
    code = ("import sys\nfrom engine.runtime.compile_cache import compile_cached\n"
            "m = compile_cached(sys.argv[1])\nprint(m.content_hash)\n")
    env = {"METODIKA_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(pkg)], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT, env=env) for _ in range(4)]
    hashes = {p.communicate(timeout=120)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert hashes == {compile_package(pkg).content_hash}
    assert len(entries(cache)) == 1 and not list(cache.glob(".tmp-*"))
    assert compile_cached(pkg).content_hash in hashes
