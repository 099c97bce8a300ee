"""`metodika check FILE` compiles the file within its package and prints the file's diagnostics
first; every CLI argument has a Russian help line; `check --watch` re-checks on change
(issue 16, papercut 1)."""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from api.cli import main as cli_main

GOLDEN = Path(__file__).parent / "cli_golden"
ROOT = Path(__file__).parents[2]
MANIFEST = "id: w\nversion: 1.0.0\ntitle: тест\nextends: {base}\nmodules: [a.rules, sub/b.rules]\n"


def make(tmp: Path, a: str, b: str) -> Path:
    pkg = tmp / "pkg"
    (pkg / "sub").mkdir(parents=True, exist_ok=True)
    base = os.path.relpath(Path(__file__).parent / "fixture", pkg)
    (pkg / "methodology.yaml").write_text(MANIFEST.format(base=base), encoding="utf-8")
    (pkg / "a.rules").write_text(a, encoding="utf-8")
    (pkg / "sub" / "b.rules").write_text(b, encoding="utf-8")
    return pkg


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_file_is_checked_within_its_package_own_errors_first(tmp_path, monkeypatch, capsys):
    make(tmp_path, "for case:\n    x: int = nope + 1\n", "for case:\n    y: int = 1\n    z: int = y + missing\n")
    monkeypatch.chdir(tmp_path)
    assert cli_main.main(["check", "pkg/sub/b.rules"]) == 1
    err = capsys.readouterr().err
    golden("check_file_errors.txt", err)
    assert err.index("missing") < err.index("в других файлах пакета: 1") < err.index("nope")


def test_file_without_errors_names_its_package(tmp_path, monkeypatch, capsys):
    make(tmp_path, "for case:\n    x: int = 1\n", "for case:\n    y: int = x + 1\n")
    monkeypatch.chdir(tmp_path)
    assert cli_main.main(["check", "pkg/sub/b.rules"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pkg/sub/b.rules (пакет w@1.0.0): ошибок нет")


def test_json_marks_which_diagnostics_are_the_files(tmp_path, monkeypatch, capsys):
    import json

    make(tmp_path, "for case:\n    x: int = nope + 1\n", "for case:\n    z: int = missing\n")
    monkeypatch.chdir(tmp_path)
    assert cli_main.main(["check", "--json", "pkg/a.rules"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert [(r["in_file"], r["span"]["file"]) for r in rows] == [(True, "pkg/a.rules"), (False, "pkg/sub/b.rules")]


def test_file_outside_a_package_and_a_file_not_in_modules(tmp_path, monkeypatch, capsys):
    make(tmp_path, "for case:\n    x: int = 1\n", "for case:\n    y: int = 1\n")
    (tmp_path / "loose.rules").write_text("for case:\n    q: int = 1\n", encoding="utf-8")
    (tmp_path / "pkg" / "stray.rules").write_text("for case:\n    q: int = 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert cli_main.main(["check", "loose.rules"]) == 1
    assert "не входит ни в один пакет: выше по дереву каталогов нет methodology.yaml" in capsys.readouterr().err
    assert cli_main.main(["check", "pkg/stray.rules"]) == 1
    assert "файл pkg/stray.rules не читается пакетом w@1.0.0" in capsys.readouterr().err
    assert cli_main.main(["check", "pkg/methodology.yaml"]) == 0


def _all_arguments():
    for name in cli_main.COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(name).register(sub)
        stack = [([k], c) for k, c in sub.choices.items()]
        while stack:
            path, parser = stack.pop()
            for a in parser._actions:
                if isinstance(a, argparse._SubParsersAction):
                    stack.extend((path + [k], c) for k, c in a.choices.items())
                elif not isinstance(a, argparse._HelpAction):
                    yield " ".join(path), "/".join(a.option_strings) or a.dest, a.help


def test_every_cli_argument_has_a_russian_help_line():
    missing = [(cmd, arg) for cmd, arg, text in _all_arguments()
               if not text or not any("а" <= ch <= "я" for ch in text.lower())]
    assert missing == []


def test_check_help_is_russian_throughout(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit):
        cli_main.main(["check", "--help"])
    out = capsys.readouterr().out
    golden("check_help.txt", out)
    for english in ("usage:", "positional arguments", "options:", "show this help"):
        assert english not in out


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_watch_sees_a_change_and_ctrl_c_exits_0(tmp_path):
    pkg = make(tmp_path, "for case:\n    x: int = 1\n", "for case:\n    y: int = 1\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT), METODIKA_CACHE="off")
    proc = subprocess.Popen([sys.executable, "-m", "api.cli.main", "check", "--watch", "--interval", "0.1", "pkg"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        seen = _read_until(proc, "слежу за изменениями")
        assert "ошибок нет" in seen
        time.sleep(0.3)   # a new mtime even on a coarse clock
        (pkg / "sub" / "b.rules").write_text("for case:\n    y: int = absent_name\n", encoding="utf-8")
        seen = _read_until(proc, "ошибок: 1")
        assert "файлы изменились" in seen and "absent_name" in seen and "pkg/sub/b.rules:2:" in seen
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=90) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def _read_until(proc, marker: str, timeout: float = 60) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        assert time.monotonic() < deadline, seen
        line = proc.stdout.readline()
        assert line, seen
        seen += line
    return seen
