"""`metodika` imports only the module of the command it runs: the static command table in
api/cli/main.py must say exactly what the command modules register."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from types import SimpleNamespace

from api.cli import main as cli_main


def registered() -> dict[str, tuple[str, str]]:
    out = {}
    for name in cli_main.COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(name).register(sub)
        for action in sub._choices_actions:
            out[action.dest] = (name, action.help)
    return out


def test_command_table_matches_the_modules():
    assert cli_main.COMMANDS == registered()


def test_every_command_parses_with_its_own_module():
    for cmd, (module, _) in cli_main.COMMANDS.items():
        parser = cli_main.build_parser([cmd])
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        own = action.choices[cmd]
        assert own.get_default("handler") is not None or len(own._actions) > 1, (cmd, module)   # not a stub


def test_help_imports_no_command_module_and_no_heavy_library():
    code = ("import sys\nfrom api.cli.main import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = ('api.cli.cmd_', 'sqlalchemy', 'numpy', 'lark', 'engine', 'forms')\n"
            "print('LOADED:' + ','.join(sorted(m for m in sys.modules if m.startswith(heavy))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "КОМАНДА" in out and "check" in out and "проверить пакет методологии" in out
    assert out.strip().splitlines()[-1] == "LOADED:"



def test_internal_error_is_one_line_and_exit_2(monkeypatch, capsys):
    """An unexpected exception in a command: exit 2 and one line naming the place, no traceback,
    and not the exception's text (it may hold data values)."""
    from api.cli import main as cli_main

    class Parser:
        def parse_args(self, argv):
            return SimpleNamespace(handler=_raise)

    monkeypatch.delenv("METODIKA_DEBUG", raising=False)
    monkeypatch.setattr(cli_main, "build_parser", lambda argv, eager=False: Parser())
    assert cli_main.main(["hash", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "TypeError" in err and "test_cli_start.py" in err
    assert "1234567890" not in err and "Traceback" not in err


def _raise(args):
    raise TypeError("значение 1234567890")
