"""Exit codes of the CLI: 0 ok, 1 a user error (positioned diagnostic), 2 an internal error — one
Russian line naming the log with the traceback; the log holds no exception message (data values)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "dsl" / "fixture"
SECRET = "Иванов Иван Иванович 123-456-789 01"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("METODIKA_HOME", str(tmp_path))
    monkeypatch.setenv("METODIKA_CACHE", "off")
    monkeypatch.delenv("METODIKA_DEBUG", raising=False)
    return tmp_path


def test_ok_is_0_and_user_error_is_1(home, capsys):
    assert main(["check", str(FIXTURE)]) == 0
    bad = ROOT / "tests" / "dsl" / "bad" / "table_file_absolute"
    assert main(["check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "ошибка[E0607]" in err and "methodology.yaml:7:5" in err and "Traceback" not in err


def test_forced_internal_error_is_2_with_one_line_and_a_log(home, capsys, monkeypatch):
    import engine.runtime.compile_cache

    def broken(_pkg):
        raise RuntimeError(SECRET)

    monkeypatch.setattr(engine.runtime.compile_cache, "compile_cached", broken)
    assert main(["check", str(FIXTURE)]) == 2
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.err and SECRET not in out.err
    assert lines[0].startswith("внутренняя ошибка программы — это дефект Metodika")
    m = re.search(r"подробности записаны в (\S+\.log)$", lines[0])
    assert m, lines[0]
    log = Path(m.group(1))
    assert log.parent == home / "logs"
    text = log.read_text(encoding="utf-8")
    assert "builtins.RuntimeError" in text and "in broken" in text and 'raise RuntimeError(SECRET)' in text
    assert SECRET not in text and "Иванов" not in text


def test_a_wrong_command_line_is_1(home, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["check", "--no-such-option"])
    assert exc.value.code == 1
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 1 and "ошибка" in capsys.readouterr().err
