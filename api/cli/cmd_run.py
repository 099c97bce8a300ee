"""`metodika run`: process registries with a methodology (ФЛК, pricing, МЭК) and write the results."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from api.cli.common import compile_or_report


def register(sub) -> None:
    p = sub.add_parser("run", help="обработать реестры: ФЛК, расчёт по методологии, МЭК, итоги по МО и СМО")
    p.add_argument("package", help="каталог пакета методологии")
    p.add_argument("--registry", nargs="+", required=True, help="файлы H/L, ZIP или каталог с ними")
    p.add_argument("--insured", help="регистр застрахованных (ЕРЗ), CSV")
    p.add_argument("--table", action="append", default=[], metavar="СУЩНОСТЬ=CSV",
                   help="дополнительные справочные данные: лицензии, лимиты объёмов …")
    p.add_argument("--out", required=True, help="каталог результатов")
    p.add_argument("--flk-p-prefix", default="V", metavar="ПРЕФИКС",
                   help="префикс имени файла протокола ФЛК FLK_P перед именем файла реестра (по умолчанию V)")
    p.add_argument("--backend", choices=["numpy", "postgres", "spark"], default="numpy",
                   help="вычислитель: numpy (в процессе, по умолчанию), postgres — расчёт SQL-запросами "
                        "внутри PostgreSQL (METODIKA_SQL_URL, по умолчанию локальный сервер) или spark — "
                        "Spark SQL в локальном pyspark (METODIKA_SPARK_MASTER); docs/sql-backend.md")
    p.add_argument("--no-store", action="store_true",
                   help="не сохранять расчёт в базе (по умолчанию сохраняется: версия методологии, реестр, "
                        "результаты и дефекты, с записью в журнал аудита)")
    p.set_defaults(handler=cmd_run)


class ProgressBar:
    def __init__(self, stream=None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.t0 = time.perf_counter()

    def __call__(self, stage: str, share: float) -> None:
        width = 30
        done = int(share * width)
        bar = "█" * done + "·" * (width - done)
        end = "\n" if share >= 1.0 else ""
        self.stream.write(f"\r[{bar}] {share * 100:5.1f}%  {stage:<22} {time.perf_counter() - self.t0:6.1f} с{end}")
        self.stream.flush()


def write_flk_p(out: Path, registry: list[Path], protocol: list, prefix: str) -> list[Path]:
    """FLK_P protocol files in ``out/flk_p``: one per received registry XML (engine/oms/io/flk_p.py), with the
    ФЛК errors of reading and the defects of the FFOMS catalogue checks (Q015 IDs)."""
    from engine.oms.io.flk_p import write_protocols

    received = []
    for p in registry:
        received.extend(sorted(x.name for x in p.iterdir() if x.suffix.lower() == ".xml") if p.is_dir()
                        else [p.name] if p.suffix.lower() == ".xml" else [])
    return write_protocols(out / "flk_p", received, protocol, prefix)


def cmd_run(args) -> int:
    from dsl.diagnostics import DiagnosticError
    from engine.backends import use_backend

    with use_backend(getattr(args, "backend", "numpy")):
        try:
            return _cmd_run(args)
        except DiagnosticError as e:       # a construct the SQL backend cannot express (E0901)
            print("\n" + "\n".join(d.render() for d in e.diagnostics), file=sys.stderr)
            return 1
        except Exception as e:
            from engine.backends.sql.spark_session import SparkUnavailable

            if isinstance(e, SparkUnavailable):
                print(f"\n{e}", file=sys.stderr)
                return 1
            if type(e).__module__.startswith("psycopg"):
                print(f"\nPostgreSQL: {str(e).splitlines()[0] if str(e) else type(e).__name__} "
                      "(METODIKA_SQL_URL; расчёт не выполнен, ничего не записано)", file=sys.stderr)
                return 1
            raise


def _cmd_run(args) -> int:
    """The run; ``--out`` ends up holding exactly this run's results or its failure (engine/oms/outdir.py)."""
    from engine.oms.outdir import OutDirError, check_out_dir, write_failure

    out = Path(args.out)
    try:
        check_out_dir(out)
    except OutDirError as e:
        print(str(e), file=sys.stderr)
        return 1
    m = compile_or_report(args.package)
    if m is None:
        return 1
    extra = {}
    if args.insured:
        extra["insured"] = Path(args.insured)
    for spec in args.table:
        entity, _, path = spec.partition("=")
        if not path:
            print(f"--table: ожидалось СУЩНОСТЬ=ФАЙЛ.csv, получено «{spec}»", file=sys.stderr)
            return 1
        extra[entity] = Path(path)
    try:
        return _run(args, m, extra, out)
    except Exception:
        # an internal error: --out must not go on showing an earlier run as if it were this one
        try:
            write_failure(out, "internal_error", "внутренняя ошибка программы (подробности — в журнале, "
                          "путь к нему выведен в терминал)")
        except (OSError, OutDirError):
            pass
        raise


def _run(args, m, extra: dict, out: Path) -> int:
    import json

    from engine.backends.numpy.evaluator import EvalError
    from engine.oms.outdir import atomic_out_dir, write_failure
    from engine.oms.pipeline import process
    from forms.mek_outputs import write_outputs

    run_id = None
    try:
        if args.no_store:
            res = process(m, [Path(p) for p in args.registry], extra, progress=ProgressBar())
        else:
            from api.cli.cmd_db import DatabaseNotReady, open_database
            from api.db.config import metodika_home
            from api.store.local import process_and_store

            try:
                _, sessions = open_database()
            except DatabaseNotReady as exc:
                print(f"{exc} (или запустите с --no-store)", file=sys.stderr)
                return 1
            from api.store.methodologies import PublishError

            try:
                res, run_id = process_and_store(sessions, metodika_home(), m, [Path(p) for p in args.registry],
                                                extra, ProgressBar())
            except PublishError as exc:
                print(f"\n{exc} ({m.package.path / 'methodology.yaml'}); или запустите без сохранения "
                      "в базе: --no-store", file=sys.stderr)
                return 1
    except EvalError as e:
        write_failure(out, "calc_failed", f"ошибка расчёта: {e}")
        print(f"\nошибка расчёта: {e}", file=sys.stderr)
        return 1
    if res.status == "submission_refused":
        write_failure(out, res.status, "реестр не принят — повторная подача за отчётный период",
                      {"protocol": [{"code": p["code"], "message": p["message"]} for p in res.protocol]})
        print("\nРеестр не принят — повторная подача за отчётный период (правило — docs/mek-inputs.md):",
              file=sys.stderr)
        for p in res.protocol:
            print(f"  {p['code']}: {p['message']}", file=sys.stderr)
        return 1
    from engine.oms.catalogue_protocol import catalogue_entries

    with atomic_out_dir(out) as stage:
        info = write_outputs(res, stage, [Path(p) for p in args.registry])
        flk_p = write_flk_p(stage, [Path(p) for p in args.registry], [*res.protocol, *catalogue_entries(res)],
                            args.flk_p_prefix)
        if not (stage / "run.json").exists():          # a failed run says so (ФЛК, data errors)
            (stage / "run.json").write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    if res.status == "flk_failed":
        from engine.oms.io.protocol import format_table

        print("\nРеестр не прошёл ФЛК — данные не сохранены.", file=sys.stderr)
        print(format_table(res.protocol[:50]), file=sys.stderr)
        print(f"протокол: {out / 'flk_protocol.html'}; для МО (FLK_P): {', '.join(p.name for p in flk_p)}",
              file=sys.stderr)
        return 1
    if res.status == "data_failed":
        print("\nОшибки во входных данных — расчёт не выполнен:", file=sys.stderr)
        for p in res.data_problems[:30]:
            print(f"  {p}", file=sys.stderr)
        return 1
    t = info.get("totals", {})
    print(f"Методология {m.ref} (sha256 {m.content_hash[:12]}…)")
    print("Строк: " + ", ".join(f"{e} {n}" for e, n in res.counts.items() if n))
    print(f"Дефектов: {info['defects']}")
    for n in res.notices:
        print(f"  внимание: {n.message}")
    for what, u in list((info.get("undetermined") or {}).items())[:5]:
        print(f"Не определено: {what} — строк {u['rows']} (первая {u['first_row']}): {u['reason']}")
    if t:
        print(f"Выставлено {t['billed']} ₽, не принято {t['withheld']} ₽, принято {t['accepted']} ₽, "
              f"штрафы {t['fine']} ₽")
    if run_id is not None:
        print(f"Расчёт сохранён в базе: № {run_id}")
    print(f"Результаты: {out}/ (case_settlement.csv, summary_mo.csv, summary_smo.csv, defects.csv, run.json)")
    mek = info.get("mek") or {}
    if mek:
        print(f"МЭК: протокол {', '.join(mek.get('protocol', []))}; реестры с санкциями: "
              f"{', '.join(mek.get('sank', [])) or 'нет'}")
        for name, errors in (mek.get("sank_invalid") or {}).items():
            print(f"  {name}: не соответствует САНКЦИИ МП 3.2 — не записан: {errors[0]}", file=sys.stderr)
    return 0
