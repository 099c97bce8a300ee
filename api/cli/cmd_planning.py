"""Volume planning commands: allocate (распределение объёмов), planfact (исполнение), plandiff (версии)."""

from __future__ import annotations

import sys
from pathlib import Path

from api.cli.common import compile_or_report


def register(sub) -> None:
    p = sub.add_parser("allocate", help="распределить объёмы ТП ОМС между МО: год, кварталы, месяцы, лимиты для МЭК")
    p.add_argument("package", help="пакет методики планирования (methodologies/planning/…)")
    p.add_argument("--data", required=True, help="каталог входных CSV: mo, insured, programme, notifications, …")
    p.add_argument("--out", required=True, help="каталог результатов")
    p.add_argument("--year", type=int, help="плановый год (по умолчанию — из valid_from пакета)")
    p.add_argument("--region", default="00", help="код субъекта (для записей численности)")
    p.add_argument("--corrections", help="CSV корректировок Комиссии: применить и сохранить новую версию плана")
    p.add_argument("--versions", help="каталог версий плана (по умолчанию OUT/versions)")
    p.set_defaults(handler=cmd_allocate)

    p = sub.add_parser("planfact", help="план-факт: исполнение объёмов по МО × вид помощи × профиль × КСГ × квартал")
    p.add_argument("package", help="пакет методики планирования (methodologies/planning/…)")
    p.add_argument("--plan", required=True, help="plan_month.csv или каталог версии плана")
    p.add_argument("--fact", nargs="+", required=True,
                   help="каталоги результатов metodika run (с case_settlement.csv) или fact.csv")
    p.add_argument("--registry", nargs="*", default=[], help="файлы/каталоги реестров этих запусков (атрибуты случаев)")
    p.add_argument("--out", required=True, help="каталог результатов план-факта")
    p.set_defaults(handler=cmd_planfact)

    p = sub.add_parser("plandiff", help="сравнить две версии плана (МО × вид помощи × профиль × квартал)")
    p.add_argument("old", help="plan_month.csv или каталог версии")
    p.add_argument("new", help="plan_month.csv или каталог новой версии")
    p.add_argument("--out", help="CSV с различиями (по умолчанию — на экран)")
    p.set_defaults(handler=cmd_plandiff)


def _plan_path(p: str) -> Path:
    path = Path(p)
    return path / "plan.csv" if path.is_dir() and (path / "plan.csv").is_file() else (
        path / "plan_month.csv" if path.is_dir() else path)


def _labels(m) -> dict[str, str]:
    t = m.tables.get("care_kind")
    return {str(r["care_kind"]): str(r["name"]) for r in (t.rows if t else [])}


def cmd_allocate(args) -> int:
    from engine.backends.numpy.evaluator import EvalError
    from engine.oms.planning.allocate import allocate
    from engine.oms.planning.corrections import apply_corrections, load_corrections
    from engine.oms.planning.csvio import PlanningInputError, write_rows
    from engine.oms.planning.inputs import read_planning_dir
    from engine.oms.planning.plan import check_limits, diff_plans, save_version
    from engine.runtime.dataset import DataError
    from forms.planning_report import write_allocation

    m = compile_or_report(args.package)
    if m is None:
        return 1
    year = args.year or int((m.package.valid_from or "2025")[:4])
    out = Path(args.out)
    try:
        inp = read_planning_dir(Path(args.data), year, args.region)
        res = allocate(m, inp)
        versions = Path(args.versions) if args.versions else out / "versions"
        base = save_version(res.plan, versions, {"methodology": m.ref, "methodology_hash": m.content_hash,
                                                 "data": str(Path(args.data)), "kind": "распределение"})
        plan = res.plan
        if args.corrections:
            corr = load_corrections(Path(args.corrections))
            plan = apply_corrections(res.plan, corr)
            name = save_version(plan, versions, {"methodology": m.ref, "parent": base, "kind": "корректировка",
                                                 "corrections": plan.meta.get("corrections", [])})
            diff = diff_plans(res.plan, plan)
            write_rows(out / "diff.csv", list(diff[0]) if diff else ["mo"], ([v for v in r.values()] for r in diff))
            print(f"корректировок {len(corr)}: версия {name} (к {base}), изменённых строк {len(diff)} → {out / 'diff.csv'}")
    except (PlanningInputError, DataError, EvalError) as e:
        print(f"ошибка: {e}", file=sys.stderr)
        return 1
    names = {r["mo"]: r.get("name", "") for r in inp.mo}
    write_allocation(out, plan, res.cells, names, _labels(m))
    for d in res.defects.defects:
        print(f"  [{d.code}] {d.title}: {d.message}")
    problems = check_limits(plan.limits_rows())
    for p in problems:
        print(f"  [лимиты] {p}")
    print(f"{m.ref}: МО {len(inp.mo)}, ячеек {len(res.cells)}, строк плана {len(plan)}; "
          f"объём {int(plan.volume.sum())} ед., {int(plan.amount.sum()) / 100:,.2f} руб.".replace(",", " "))
    print(f"результаты: {out}/ (plan_month.csv, plan_quarter.csv, plan_year.csv, limits.csv, cells.csv, "
          f"allocation.xlsx, allocation.html); версии: {versions}")
    return 0 if not problems else 1


def cmd_planfact(args) -> int:
    from engine.oms.planning.csvio import PlanningInputError
    from engine.oms.planning.plan import Plan
    from engine.oms.planning.planfact import fact_from_run_dir, merge_facts, plan_fact, read_fact_csv
    from forms.planning_report import write_planfact

    m = compile_or_report(args.package)
    if m is None:
        return 1
    try:
        plan = Plan.read(_plan_path(args.plan), int((m.package.valid_from or "2025")[:4]))
        parts = []
        for f in args.fact:
            p = Path(f)
            if p.is_dir() and (p / "case_settlement.csv").is_file():
                if not args.registry:
                    print("для каталога результатов metodika run укажите --registry (реестры этого запуска)",
                          file=sys.stderr)
                    return 2
                parts.append(fact_from_run_dir(p, [Path(x) for x in args.registry]))
            else:
                parts.append(read_fact_csv(p))
        rows = plan_fact(m, plan, merge_facts(parts))
    except PlanningInputError as e:
        print(f"ошибка: {e}", file=sys.stderr)
        return 1
    files = write_planfact(Path(args.out), rows, plan.year, {}, _labels(m), m.ref)
    main = [r for r in rows if not r["ksg"]]
    pv = sum(r["plan_volume"] for r in main)
    fv = sum(r["fact_volume"] for r in main)
    print(f"план {pv} ед., факт {fv} ед. ({fv * 100 / pv if pv else 0:.1f} %); строк {len(rows)}")
    print("результаты: " + ", ".join(str(f) for f in files))
    return 0


def cmd_plandiff(args) -> int:
    from engine.oms.planning.csvio import write_rows
    from engine.oms.planning.plan import Plan, diff_plans

    a = Plan.read(_plan_path(args.old))
    b = Plan.read(_plan_path(args.new), a.year)
    diff = diff_plans(a, b)
    if args.out:
        write_rows(Path(args.out), list(diff[0]) if diff else ["mo"], ([v for v in r.values()] for r in diff))
        print(f"различий: {len(diff)} → {args.out}")
    else:
        for r in diff:
            print(" ".join(f"{k}={v}" for k, v in r.items()))
        print(f"различий: {len(diff)}")
    return 0
