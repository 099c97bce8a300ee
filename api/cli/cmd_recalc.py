"""`metodika recalc`: the same data under two methodology versions — deltas and their reasons."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from api.cli.common import compile_or_report, load_inputs


def register(sub) -> None:
    p = sub.add_parser("recalc", help="пересчёт данных по двум версиям методологии: разницы по случаям и МО и их причины")
    p.add_argument("--from", dest="old", required=True, help="пакет A (прежняя версия)")
    p.add_argument("--to", dest="new", required=True, help="пакет B (новая версия)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="сохранённый набор данных .npz (metodika dataset save) или каталог CSV")
    src.add_argument("--registry", nargs="+", help="файлы реестров H/L (XML, ZIP) или каталог")
    p.add_argument("--insured", help="регистр застрахованных (CSV), если его требует схема")
    p.add_argument("--value", default="case.tariff_cost", help="сравниваемое значение, СУЩНОСТЬ.ИМЯ")
    p.add_argument("--group", default="lpu", help="поле группировки итогов (по умолчанию МО: lpu)")
    p.add_argument("--explain", type=int, default=10, help="сколько случаев с наибольшей разницей объяснить")
    p.add_argument("--out", required=True, help="каталог результатов: разницы по случаям и МО и их причины")
    p.set_defaults(handler=cmd_recalc)

    p = sub.add_parser("dataset", help="сохранить реестры как типизированный набор данных для быстрых пересчётов")
    p.add_argument("action", choices=["save"], help="действие: save — сохранить набор данных")
    p.add_argument("package", help="пакет, по схеме которого типизируются данные")
    p.add_argument("--registry", nargs="+", required=True, help="файлы реестров H/L (XML, ZIP) или каталог")
    p.add_argument("--insured", help="регистр застрахованных (CSV), если его требует схема")
    p.add_argument("--out", required=True, help="файл .npz")
    p.set_defaults(handler=cmd_dataset)


def cmd_dataset(args) -> int:
    from engine.oms.storage import save_dataset

    m = compile_or_report(args.package)
    if m is None:
        return 1
    t = time.perf_counter()
    data = load_inputs(m, args)
    save_dataset(Path(args.out), data)
    print(f"сохранено: {args.out} — " + ", ".join(f"{e} {d.n}" for e, d in data.entities.items() if d.n)
          + f" ({time.perf_counter() - t:.1f} с)")
    return 0


def cmd_recalc(args) -> int:
    from engine.backends.numpy.evaluator import EvalError
    from engine.oms.recalc import recalc, write_recalc

    ma, mb = compile_or_report(args.old), compile_or_report(args.new)
    if ma is None or mb is None:
        return 1
    entity, _, name = args.value.partition(".")
    for m in (ma, mb):
        if (entity, name) not in m.defs:
            print(f"в методологии {m.ref} нет определения {args.value}", file=sys.stderr)
            return 1
    t = time.perf_counter()
    data = load_inputs(mb, args)
    t_load = time.perf_counter() - t
    try:
        res = recalc(ma, mb, data, entity, name, args.group, args.explain)
    except EvalError as e:
        print(f"ошибка расчёта: {e}", file=sys.stderr)
        return 1
    res.timings["load_s"] = t_load
    s = write_recalc(res, Path(args.out), ma, mb)
    print(f"{ma.ref} → {mb.ref}: {s['rows']} строк, изменилось {s['changed']}; итог {s['total_from']} → "
          f"{s['total_to']} (разница {s['total_delta']})")
    for lines in list(res.reasons.values())[:3]:
        print("\n".join(lines))
    print(f"результаты: {args.out}/ (deltas.csv, by_group.csv, reasons.txt, summary.json)")
    return 0
