"""A package reads only its own files (engine/runtime/pkgfiles.py): cases that need the file system
(symlinks, FIFOs, devices, size limits); the plain path cases are golden tests in tests/dsl/bad."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from dsl.diagnostics import DiagnosticError
from engine.runtime.compiler import compile_package
from tests.dsl.harness import FIXTURE

TABLE = "tables:\n  kslp:\n    file: {file}\n    key: [code]\n    columns: {{code: code, koef: number}}\n"


def _package(tmp_path: Path, body: str) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "fixture")
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "methodology.yaml").write_text(f"id: p\nversion: 1.0.0\ntitle: p\nextends: ../fixture\n{body}",
                                          encoding="utf-8")
    return pkg


def _errors(pkg: Path) -> list[tuple[str, int, int, str]]:
    with pytest.raises(DiagnosticError) as err:
        compile_package(pkg)
    return [(d.code, d.span.line, d.span.column, d.message) for d in err.value.diagnostics]


def test_symlink_pointing_out_is_refused(tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("code,koef\nA,1\n", encoding="utf-8")
    pkg = _package(tmp_path, TABLE.format(file="t.csv"))
    (pkg / "t.csv").symlink_to(secret)
    [(code, line, col, msg)] = _errors(pkg)
    assert (code, line, col) == ("E0607", 7, 5) and "за пределы каталога пакета" in msg


def test_symlink_inside_the_package_is_allowed(tmp_path):
    pkg = _package(tmp_path, TABLE.format(file="t.csv"))
    (pkg / "data.csv").write_text("code,koef\nA,1\n", encoding="utf-8")
    (pkg / "t.csv").symlink_to(pkg / "data.csv")
    assert "kslp" in compile_package(pkg).tables


def test_a_file_of_an_extended_package_is_allowed(tmp_path):
    pkg = _package(tmp_path, TABLE.format(file="../fixture/tables/level.csv").replace(
        "{code: code, koef: number}", "{code: code, kus: number}").replace("[code]", "[lpu]")
        .replace("code: code", "lpu: code"))
    assert len(compile_package(pkg).tables["kslp"].keys) == 1


def test_device_through_a_symlink_is_refused(tmp_path):
    pkg = _package(tmp_path, TABLE.format(file="zero.csv"))
    (pkg / "zero.csv").symlink_to("/dev/zero")
    [(code, *_)] = _errors(pkg)
    assert code == "E0607"                       # /dev is outside; never read


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_is_refused_without_blocking(tmp_path):
    pkg = _package(tmp_path, TABLE.format(file="pipe.csv"))
    os.mkfifo(pkg / "pipe.csv")
    [(code, line, col, msg)] = _errors(pkg)
    assert (code, line, col) == ("E0608", 7, 5) and "не обычный файл" in msg


def test_file_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    pkg = _package(tmp_path, TABLE.format(file="big.csv"))
    (pkg / "big.csv").write_text("code,koef\n" + "".join(f"A{i},1\n" for i in range(30000)),
                                encoding="utf-8")
    monkeypatch.setenv("METODIKA_PACKAGE_FILE_LIMIT", "100000")     # the fixture's files are smaller
    [(code, line, col, msg)] = _errors(pkg)
    assert (code, line, col) == ("E0609", 7, 5) and "больше допустимого размера" in msg
    monkeypatch.setenv("METODIKA_PACKAGE_FILE_LIMIT", "10000000")
    assert "kslp" in compile_package(pkg).tables


def test_module_and_test_globs_stay_inside(tmp_path):
    outside = tmp_path / "outside.rules"
    outside.write_text("case:\n    x: int = 1\n", encoding="utf-8")
    pkg = _package(tmp_path, "modules: ['../*.rules']\ntests: ['../fixture/../../*.yaml']\n")
    codes = {c for c, *_ in _errors(pkg)}
    assert codes == {"E0607"}


def test_rule_file_that_is_not_utf8(tmp_path):
    pkg = _package(tmp_path, "modules: ['m.rules']\n")
    (pkg / "m.rules").write_bytes("case:\n    # комментарий\n    x: int = 1 \xff\n".encode().replace(
        b"\xc3\xbf", b"\xff"))
    [(code, line, col, msg)] = _errors(pkg)
    assert (code, line, col) == ("E0006", 3, 16) and "UTF-8" in msg
