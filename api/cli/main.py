"""Entry point of the `metodika` command.

Each sub-command lives in its own module under ``api.cli`` and exposes
``register(subparsers)``; the module names are listed in ``COMMAND_MODULES``.
Adding a command = one module + one line here.
"""

from __future__ import annotations

import argparse
import importlib
import os
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
    "api.cli.cmd_table",
    "api.cli.cmd_lsp",
]


# Every command with its module and one-line help, so that `metodika --help` and a command's
# start import only what that command needs (tests/api/test_cli_start.py keeps this table equal
# to what the modules register). A module listed above but absent here is imported eagerly.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("api.cli.cmd_methodology", "проверить пакет методологии (синтаксис, типы, наследование, циклы)"),
    "test": ("api.cli.cmd_methodology", "выполнить YAML-тесты пакета"),
    "calc": ("api.cli.cmd_methodology", "рассчитать методологию на данных (каталог CSV по сущностям)"),
    "explain": ("api.cli.cmd_methodology", "объяснить значение: дерево расчёта со ссылками на нормы"),
    "diff": ("api.cli.cmd_methodology", "различия двух методологий: параметры, таблицы, правила, проверки"),
    "show": ("api.cli.cmd_methodology", "итоговый вид методологии с происхождением каждого определения"),
    "hash": ("api.cli.cmd_methodology", "хэш содержимого пакета (sha256 по всей цепочке наследования)"),
    "primitives": ("api.cli.cmd_methodology", "справочник встроенных функций языка"),
    "run": ("api.cli.cmd_run", "обработать реестры: ФЛК, расчёт по методологии, МЭК, итоги по МО и СМО"),
    "recalc": ("api.cli.cmd_recalc", "пересчёт данных по двум версиям методологии: разницы по случаям и МО и их причины"),
    "dataset": ("api.cli.cmd_recalc", "сохранить реестры как типизированный набор данных для быстрых пересчётов"),
    "db": ("api.cli.cmd_db", "база данных: миграции схемы"),
    "users": ("api.cli.cmd_users", "пользователи и роли"),
    "audit": ("api.cli.cmd_audit", "журнал аудита"),
    "serve": ("api.cli.cmd_serve", "запустить API-сервер"),
    "registry": ("api.cli.cmd_registry", "реестры счетов ФФОМС (H, C, T, D + L; 3.1–5.1; ZIP): ФЛК и импорт"),
    "allocate": ("api.cli.cmd_planning", "распределить объёмы ТП ОМС между МО: год, кварталы, месяцы, лимиты для МЭК"),
    "planfact": ("api.cli.cmd_planning", "план-факт: исполнение объёмов по МО × вид помощи × профиль × КСГ × квартал"),
    "plandiff": ("api.cli.cmd_planning", "сравнить две версии плана (МО × вид помощи × профиль × квартал)"),
    "form": ("api.cli.cmd_form", "отчётная форма по результатам расчёта: HTML, XLSX, PDF, XML"),
    "nsi": ("api.cli.cmd_nsi", "справочники НСИ ФФОМС (F014, V002, V009 …): импорт в таблицу методологии"),
    "catalogue": ("api.cli.cmd_catalogue", "каталог проверок ФЛК ФФОМС (НСИ Q015)"),
    "table": ("api.cli.cmd_table", "таблица методологии в Excel (XLSX) и обратно: выгрузка и загрузка с проверкой"),
    "param": ("api.cli.cmd_table", "параметры методологии с периодами действия в Excel (XLSX) и обратно"),
    "lsp": ("api.cli.cmd_lsp", "языковой сервер (LSP) для .rules и YAML пакетов: ошибки, подсказки, переход к "
                               "определению, дополнение; обмен через stdin/stdout"),
}


class _Parser(argparse.ArgumentParser):
    """A wrong command line is a user error: exit 1 (argparse's own 2 is kept for internal errors)."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: ошибка: {message}\n")


def build_parser(argv: list[str] | None = None, *, eager: bool = False) -> argparse.ArgumentParser:
    """The parser; only the module of the command named in `argv` is imported (all with eager)."""
    parser = _Parser(
        prog="metodika",
        description="Metodika — методологии ОМС как пакеты правил: проверка, расчёт, МЭК, формы.",
    )
    sub = parser.add_subparsers(dest="command", metavar="КОМАНДА")
    sub.required = True
    wanted = next((a for a in (argv or []) if not a.startswith("-")), None)
    static = {mod for mod, _ in COMMANDS.values()}
    for name in COMMAND_MODULES:
        if eager or name not in static or COMMANDS.get(wanted, ("",))[0] == name:
            importlib.import_module(name).register(sub)
    for cmd, (_, text) in COMMANDS.items():
        if cmd not in sub.choices:      # a stub for help; its module is imported when it is run
            sub.add_parser(cmd, help=text)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        code = args.handler(args)
    except KeyboardInterrupt:
        print("прервано", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head/less that closed early
        return 0
    except Exception as e:  # an internal error: one line, exit 2, the traceback in a log (api/cli/crash.py)
        if os.environ.get("METODIKA_DEBUG"):
            raise
        from api.cli.crash import report

        return report(e, getattr(args, "command", None))
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
