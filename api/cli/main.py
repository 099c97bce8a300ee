"""Entry point of the `metodika` command.

Each sub-command lives in its own module under ``api.cli`` and exposes
``register(subparsers)``; the module names are listed in ``COMMAND_MODULES``.
Adding a command = one module + one line here.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES: list[str] = [
    "api.cli.cmd_methodology",
    "api.cli.cmd_run",
    "api.cli.cmd_recalc",
    "api.cli.cmd_db",
    "api.cli.cmd_users",
    "api.cli.cmd_audit",
    "api.cli.cmd_serve",
    "api.cli.cmd_registry",
    "api.cli.cmd_planning",
    "api.cli.cmd_form",
    "api.cli.cmd_nsi",
    "api.cli.cmd_catalogue",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metodika",
        description="Metodika — методологии ОМС как пакеты правил: проверка, расчёт, МЭК, формы.",
    )
    sub = parser.add_subparsers(dest="command", metavar="КОМАНДА")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.handler(args)
    except KeyboardInterrupt:
        print("прервано", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head/less that closed early
        return 0
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
