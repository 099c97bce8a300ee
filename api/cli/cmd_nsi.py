"""`metodika nsi import`: an NSI book (CSV or FFOMS XML packet) → CSV table of a methodology package."""

from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    nsi = sub.add_parser("nsi", help="справочники НСИ ФФОМС (F014, V002, V009 …): импорт в таблицу методологии")
    cmds = nsi.add_subparsers(dest="nsi_command", metavar="ДЕЙСТВИЕ")
    cmds.required = True
    p = cmds.add_parser("import", help="прочитать справочник (CSV или XML-пакет <packet><zap>) и записать CSV "
                                       "с DATEBEG/DATEEND в формате ГГГГ-ММ-ДД")
    p.add_argument("file", type=Path, metavar="ФАЙЛ", help="справочник: CSV или XML (windows-1251 / UTF-8)")
    p.add_argument("--out", required=True, type=Path, help="CSV-файл таблицы, например tables/v009.csv")
    p.add_argument("--columns", help="оставить столбцы (через запятую), DATEBEG/DATEEND сохраняются всегда")
    p.add_argument("--rename", action="append", default=[], metavar="СТАРОЕ=новое", help="переименовать столбец")
    p.add_argument("--where", action="append", default=[], metavar="СТОЛБЕЦ=значение",
                   help="оставить строки с этим значением")
    p.add_argument("--encoding", help="кодировка файла, если не UTF-8/windows-1251 по умолчанию")
    p.add_argument("--name", help="имя таблицы для фрагмента tables.yaml (по умолчанию — имя выходного файла)")
    p.add_argument("--key", help="ключ таблицы для фрагмента tables.yaml (столбцы через запятую)")
    p.set_defaults(handler=cmd_import)


def _pairs(items: list[str], what: str) -> dict[str, str] | None:
    out = {}
    for s in items:
        k, sep, v = s.partition("=")
        if not sep or not k:
            print(f"{what}: ожидалось ИМЯ=значение, получено «{s}»", file=sys.stderr)
            return None
        out[k.strip()] = v.strip()
    return out


def cmd_import(args) -> int:
    from engine.oms.io.nsi import NsiError, read_nsi, select, table_yaml, write_table_csv

    rename, where = _pairs(args.rename, "--rename"), _pairs(args.where, "--where")
    if rename is None or where is None:
        return 2
    try:
        book = read_nsi(args.file, args.encoding)
        cols = [c.strip() for c in args.columns.split(",")] if args.columns else None
        book = select(book, cols, rename, where)
        write_table_csv(book, args.out)
    except (NsiError, UnicodeDecodeError, LookupError) as e:
        print(f"ошибка: {e}", file=sys.stderr)
        return 1
    dated = "DATEBEG" in book.columns
    print(f"{args.out}: строк {len(book)}, столбцы: {', '.join(book.columns)}"
          + ("" if dated else " (без DATEBEG — таблица без дат)"))
    key = [k.strip() for k in args.key.split(",")] if args.key else None
    print("\nфрагмент tables.yaml (типы угаданы по значениям — проверьте):")
    print(table_yaml(book, args.name or args.out.stem, str(args.out), key))
    return 0
