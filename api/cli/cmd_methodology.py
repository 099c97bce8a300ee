"""Methodology commands: check, test, run, explain, diff, show, hash, primitives."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from api.cli.common import compile_or_report, load_data, load_inputs, parse_day

PKG_HELP = "каталог пакета методологии (в нём methodology.yaml)"


def register(sub) -> None:
    p = sub.add_parser("check", help="проверить пакет методологии (синтаксис, типы, наследование, циклы)")
    p.add_argument("package", metavar="ПАКЕТ|ФАЙЛ",
                   help="каталог пакета или один его файл (.rules, .yaml): файл проверяется в составе "
                        "пакета, к которому относится (ближайший methodology.yaml выше по дереву), "
                        "его ошибки выводятся первыми")
    p.add_argument("--json", action="store_true", help="диагностика в JSON")
    p.add_argument("--watch", action="store_true",
                   help="следить за файлами пакета и цепочки наследования и проверять заново при "
                        "каждом изменении (Ctrl-C — выход)")
    p.add_argument("--interval", type=float, default=0.5, metavar="СЕК",
                   help="период опроса файлов при --watch, секунд (по умолчанию 0,5)")
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("test", help="выполнить YAML-тесты пакета")
    p.add_argument("package", help=PKG_HELP)
    p.add_argument("-k", dest="name", help="только тесты, в имени которых есть эта строка")
    p.set_defaults(handler=cmd_test)

    p = sub.add_parser("calc", help="рассчитать методологию на данных (каталог CSV по сущностям)")
    p.add_argument("package", help=PKG_HELP)
    p.add_argument("--data", required=True, help="каталог с <сущность>.csv")
    p.add_argument("--out", required=True, help="каталог результатов")
    p.add_argument("--date", help="дата расчёта для значений без своей даты (ГГГГ-ММ-ДД)")
    p.add_argument("--no-checks", action="store_true", help="не выполнять проверки (только расчёт)")
    p.set_defaults(handler=cmd_calc)

    p = sub.add_parser("explain", help="объяснить значение: дерево расчёта со ссылками на нормы")
    p.add_argument("package", help=PKG_HELP)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="каталог CSV по сущностям или сохранённый набор .npz")
    src.add_argument("--registry", nargs="+", help="файлы реестров H/L (XML, ZIP) или каталог")
    p.add_argument("--insured", help="регистр застрахованных (CSV)")
    p.add_argument("--entity", required=True, help="сущность строки (case, sl, service …)")
    p.add_argument("--row", required=True, help="ключ строки")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--value", help="имя определения")
    what.add_argument("--check", help="имя проверки: почему она срабатывает (или нет) на этой строке")
    p.add_argument("--date", help="дата расчёта для значений без своей даты (ГГГГ-ММ-ДД)")
    p.add_argument("--json", action="store_true", help="дерево в JSON")
    p.set_defaults(handler=cmd_explain)

    p = sub.add_parser("diff", help="различия двух методологий: параметры, таблицы, правила, проверки")
    p.add_argument("old", help="каталог прежней версии пакета")
    p.add_argument("new", help="каталог новой версии пакета")
    p.add_argument("--json", action="store_true", help="список изменений в JSON")
    p.set_defaults(handler=cmd_diff)

    p = sub.add_parser("show", help="итоговый вид методологии с происхождением каждого определения")
    p.add_argument("package", help=PKG_HELP)
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("hash", help="хэш содержимого пакета (sha256 по всей цепочке наследования)")
    p.add_argument("package", help=PKG_HELP)
    p.set_defaults(handler=cmd_hash)

    p = sub.add_parser("primitives", help="справочник встроенных функций языка")
    p.set_defaults(handler=cmd_primitives)


def cmd_check(args) -> int:
    from api.cli.check_target import TargetError, check_once, locate, watch

    try:
        target = locate(args.package)
    except TargetError as e:
        print(f"ошибка[E0602]: {e}", file=sys.stderr)
        return 1
    if args.watch:
        return watch(target, args.json, args.interval)
    return check_once(target, args.json)


def cmd_test(args) -> int:
    from engine.testing import run_tests

    m = compile_or_report(args.package)
    if m is None:
        return 1
    report = run_tests(m, name_filter=args.name)
    for r in report.results:
        mark = "✓" if r.ok else "✗"
        print(f"{mark} {r.name}  ({r.where})")
        for f in r.failures:
            print("    " + f.replace("\n", "\n    "))
    print(f"{report.passed} passed, {report.failed} failed")
    return 0 if report.failed == 0 else 1


def cmd_calc(args) -> int:
    from engine.backends.numpy.evaluator import EvalError
    from engine.backends.numpy.runner import run, write_run

    m = compile_or_report(args.package)
    if m is None:
        return 1
    data = load_data(m, args.data)
    if data is None:
        return 1
    try:
        result = run(m, data, checks=not args.no_checks, context_day=parse_day(args.date))
    except EvalError as e:
        print(f"ошибка расчёта: {e}", file=sys.stderr)
        return 1
    info = write_run(result, Path(args.out))
    print(f"{m.ref}: строк {info['rows']}, дефектов {info['defects']}; результаты в {args.out}")
    return 0


def cmd_explain(args) -> int:
    from engine.backends.numpy.evaluator import EvalError, Evaluator
    from engine.backends.numpy.explain import Explainer, render_text

    m = compile_or_report(args.package)
    if m is None:
        return 1
    data = load_inputs(m, args)
    try:
        explainer = Explainer(Evaluator(m, data, parse_day(args.date)))
        if args.check:
            tree = explainer.explain_check(args.entity, args.row, args.check)
        else:
            tree = explainer.explain(args.entity, args.row, args.value)
    except (KeyError, EvalError) as e:
        print(f"ошибка: {e}", file=sys.stderr)
        return 1
    print(json.dumps(tree.to_json(), ensure_ascii=False, indent=1) if args.json else render_text(tree))
    return 0


def cmd_diff(args) -> int:
    from engine.runtime.diff import diff, render

    a = compile_or_report(args.old)
    b = compile_or_report(args.new)
    if a is None or b is None:
        return 1
    changes = diff(a, b)
    if args.json:
        print(json.dumps([c.to_json() for c in changes], ensure_ascii=False, indent=1))
    else:
        print(render(a, b, changes))
    return 0


def cmd_show(args) -> int:
    m = compile_or_report(args.package)
    if m is None:
        return 1
    print(f"{m.package.title} — {m.ref}  (sha256 {m.content_hash})")
    print("цепочка: " + " ← ".join(p.ref for p in m.chain))
    print("\nПараметры:")
    for p in m.params.values():
        print(f"  {p.name}: {p.type}  «{p.label or ''}»  [{p.package}]")
    print("\nТаблицы:")
    for t in m.tables.values():
        print(f"  {t.name}: {len(t.rows)} строк, ключ ({', '.join(t.keys)})  [{t.package}]")
    print("\nОпределения:")
    for d in m.defs.values():
        over = f", заменяет {d.overrides.provenance.package}" if d.overrides else ""
        print(f"  {d.qualified}: {d.type} = {' '.join(d.text.split())}  [{d.provenance}{over}]")
    print("\nПроверки:")
    from engine.runtime.scope import describe

    for c in m.checks.values():
        binding = describe(c.ir) if c.ir is not None else None
        print(f"  {c.name} ({c.entity}{'; ' + binding if binding else ''})  [{c.provenance}]")
    for d in m.disabled.values():
        print(f"  ⊘ {d.name}: отключена — {d.reason}  [{d.provenance}]")
    return 0


def cmd_hash(args) -> int:
    m = compile_or_report(args.package)
    if m is None:
        return 1
    print(f"{m.content_hash}  {m.ref}")
    return 0


def cmd_primitives(args) -> int:
    from dsl.primitives import REGISTRY

    kinds = {"elementwise": "Построчные функции", "aggregate": "Агрегаты", "window": "Функции по группе строк"}
    for kind, title in kinds.items():
        print(f"{title}:")
        for p in sorted((p for p in REGISTRY.values() if p.kind == kind), key=lambda p: p.name):
            print(f"  {p.signature}\n      {p.doc}")
            for expr, want in p.examples:
                print(f"      пример: {expr} = {want}")
    return 0
