"""`metodika catalogue coverage PKG`: which FFOMS Q015 checks a package implements and tests."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from api.cli.common import compile_or_report


def register(sub) -> None:
    p = sub.add_parser("catalogue", help="каталог проверок ФЛК ФФОМС (НСИ Q015)")
    csub = p.add_subparsers(dest="catalogue_command", metavar="ДЕЙСТВИЕ")
    csub.required = True
    c = csub.add_parser("coverage", help="какие проверки каталога реализованы и протестированы, каких нет и почему")
    c.add_argument("package", help="каталог пакета методологии (в нём methodology.yaml)")
    c.add_argument("--list", dest="id_list", help="другой список каталога (CSV со столбцом id) вместо списка пакета")
    c.add_argument("--no-tests", action="store_true", help="не выполнять тесты (без сведений о тестах)")
    c.add_argument("--min", type=int, help="код выхода 1, если реализовано меньше стольких проверок с обоими тестами")
    c.add_argument("--json", action="store_true", help="покрытие в JSON")
    c.set_defaults(handler=cmd_coverage)


def cmd_coverage(args) -> int:
    from dsl.diagnostics import DiagnosticError, SourceCache
    from engine.oms.coverage import coverage

    m = compile_or_report(args.package)
    if m is None:
        return 1
    try:
        cov = coverage(m, Path(args.id_list) if args.id_list else None, run=not args.no_tests)
    except DiagnosticError as e:
        print(e.render(SourceCache()), file=sys.stderr)
        return 1
    except (FileNotFoundError, OSError) as e:
        print(f"ошибка: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(cov.to_json(), ensure_ascii=False, indent=1))
    else:
        _print(cov)
    tested = sum(c.tested for c in cov.implemented)
    if args.min is not None and tested < args.min:
        print(f"реализовано с тестами {tested} — меньше требуемых {args.min}", file=sys.stderr)
        return 1
    return 0


def _print(cov) -> None:
    impl, miss = cov.implemented, cov.missing
    tested = [c for c in impl if c.tested]
    print(f"{cov.package}: каталог Q015 ({cov.catalogue_file}), проверок в нём: {len(cov.ids)}")
    line = f"реализовано: {len(impl)}"
    if cov.tests_run:
        line += f", из них с тестом срабатывания и несрабатывания: {len(tested)}"
    print(line)
    print(f"не реализовано: {len(miss)}")
    for c in miss:
        why = (f"отключена: {c.disabled}" if c.disabled else c.reason) or "причина не указана"
        books = f" [{c.books}]" if c.books else ""
        print(f"  {c.id}{books}  {why}")
    if cov.tests_run:
        untested = [c for c in impl if not c.tested]
        if untested:
            print(f"реализовано без полного набора тестов: {len(untested)}")
            for c in untested:
                lack = [w for w, have in (("срабатывания", c.firing), ("несрабатывания", c.not_firing)) if not have]
                print(f"  {c.id}  {', '.join(c.checks)}: нет теста {' и '.join(lack)}")
    for ident, names in sorted(cov.unknown.items()):
        print(f"предупреждение: {ident} ({', '.join(names)}) нет в списке каталога")
    for w in cov.warnings:
        print(f"предупреждение: {w}")
