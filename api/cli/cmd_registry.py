"""Registry commands: ``registry validate`` (ФЛК stage 1) and ``registry import`` (raw tables to CSV)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

PROTOCOL_SUFFIXES = (".html", ".htm", ".csv", ".json")


def register(sub) -> None:
    reg = sub.add_parser("registry", help="реестры счетов ФФОМС (H, C, T, D + L; 3.1–5.1; ZIP): ФЛК и импорт")
    cmds = reg.add_subparsers(dest="registry_command", metavar="ДЕЙСТВИЕ")
    cmds.required = True

    p = cmds.add_parser("validate", help="форматно-логический контроль (схемы XSD); код выхода 1 при ошибках")
    _common(p)
    p.set_defaults(handler=cmd_validate)

    p = cmds.add_parser("import", help="прочитать реестры и записать сырые таблицы в CSV (UTF-8)")
    _common(p)
    p.add_argument("--out", required=True, type=Path, help="каталог для <сущность>.csv")
    p.set_defaults(handler=cmd_import)


def _common(p) -> None:
    p.add_argument("files", nargs="+", type=Path, metavar="ФАЙЛ", help="XML, ZIP или каталог")
    p.add_argument("--protocol", type=Path, help="записать протокол в файл .html, .csv или .json")
    p.add_argument("--require-pers", action="store_true", help="H/D-файл без L-файла считать ошибкой")
    p.add_argument("--max-errors", type=int, default=1000, help="не более стольких ошибок на файл")
    p.add_argument("--flk-p", type=Path, metavar="КАТАЛОГ",
                   help="записать протоколы ФЛК в формате ФФОМС FLK_P (windows-1251), по одному на файл реестра")
    p.add_argument("--flk-p-prefix", default="V", metavar="ПРЕФИКС", help="префикс имени файла FLK_P (по умолчанию V)")


def _read(args):
    from engine.oms.io import Limits, read_registry

    if args.protocol is not None and args.protocol.suffix.lower() not in PROTOCOL_SUFFIXES:
        print(
            f"ошибка: протокол может быть .html, .csv или .json, а не «{args.protocol.suffix}»",
            file=sys.stderr,
        )
        return None
    limits = Limits(max_errors_per_file=args.max_errors)
    return read_registry(args.files, require_pers=args.require_pers, limits=limits)


def _report(args, result) -> None:
    from engine.oms.io import write_protocol
    from engine.oms.io.protocol import format_table

    for f in result.files:
        kind = f.kind or "?"
        print(
            f"{f.name}: тип {kind}, версия {f.version or '?'}, записей {f.records}, sha256 {f.sha256 or '-'}"
        )
    if result.ok:
        print("Ошибок ФЛК не обнаружено.")
    else:
        print(f"\nОшибок ФЛК: {len(result.protocol)}. Пакет не принят.\n")
        print(format_table(result.protocol))
    if args.protocol is not None:
        write_protocol(args.protocol, result.protocol, result.files)
        print(f"\nПротокол записан: {args.protocol}")
    if args.flk_p is not None:
        from engine.oms.io.flk_p import write_protocols

        received = [f.name for f in result.files if f.name.lower().endswith(".xml")]
        paths = write_protocols(args.flk_p, received, result.protocol, args.flk_p_prefix)
        print(f"Протоколы FLK_P: {', '.join(str(p) for p in paths)}")


def cmd_validate(args) -> int:
    result = _read(args)
    if result is None:
        return 2
    _report(args, result)
    return 0 if result.ok else 1


def cmd_import(args) -> int:
    result = _read(args)
    if result is None:
        return 2
    _report(args, result)
    if not result.ok:
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for entity, columns in result.data.tables.items():
        path = args.out / f"{entity}.csv"
        names = list(columns)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(names)
            w.writerows(zip(*(["" if v is None else v for v in columns[n]] for n in names), strict=True))
        print(f"{path}: строк {result.data.count(entity)}")
    return 0
