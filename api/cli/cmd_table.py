"""`metodika table export|import` and `metodika param export|import`: a methodology table, or the
parameters with their periods, as an XLSX sheet and back."""

from __future__ import annotations

import sys
from pathlib import Path

from api.cli.common import compile_or_report


def register(sub) -> None:
    p = sub.add_parser("table", help="таблица методологии в Excel (XLSX) и обратно: выгрузка и загрузка с проверкой")
    t_sub = p.add_subparsers(dest="table_command", metavar="ДЕЙСТВИЕ")
    t_sub.required = True
    e = t_sub.add_parser("export", help="выгрузить таблицу пакета в XLSX (лист с именем таблицы)")
    e.add_argument("package", help="каталог пакета методологии (в нём methodology.yaml)")
    e.add_argument("name", help="имя таблицы (как в tables.yaml), например level_coef")
    e.add_argument("--xlsx", required=True, metavar="ФАЙЛ", help="файл XLSX, который будет записан")
    e.set_defaults(handler=cmd_export)
    i = t_sub.add_parser("import", help="загрузить таблицу из XLSX: проверка каждой ячейки, при ошибке "
                                        "файлы пакета не меняются")
    i.add_argument("package", help="каталог пакета методологии; таблица должна быть объявлена в нём самом")
    i.add_argument("name", help="имя таблицы (как в tables.yaml)")
    i.add_argument("xlsx", metavar="ФАЙЛ.xlsx", help="файл XLSX с листом, названным как таблица")
    i.set_defaults(handler=cmd_import)

    p = sub.add_parser("param", help="параметры методологии с периодами действия в Excel (XLSX) и обратно")
    p_sub = p.add_subparsers(dest="param_command", metavar="ДЕЙСТВИЕ")
    p_sub.required = True
    e = p_sub.add_parser("export", help="выгрузить параметры пакета (со всей цепочкой наследования) в XLSX")
    e.add_argument("package", help="каталог пакета методологии (в нём methodology.yaml)")
    e.add_argument("--xlsx", required=True, metavar="ФАЙЛ", help="файл XLSX, который будет записан")
    e.set_defaults(handler=cmd_param_export)
    i = p_sub.add_parser("import", help="загрузить значения и периоды параметров из XLSX: проверка каждой ячейки, "
                                        "при ошибке файлы пакета не меняются")
    i.add_argument("package", help="каталог пакета; изменяемые параметры должны быть объявлены в нём самом")
    i.add_argument("xlsx", metavar="ФАЙЛ.xlsx", help="файл XLSX с листом «параметры»")
    i.set_defaults(handler=cmd_param_import)


def cmd_export(args) -> int:
    from api.workbench.xlsx_tables import XlsxError, export_table

    m = compile_or_report(args.package)
    if m is None:
        return 1
    try:
        out = export_table(m, args.name, Path(args.xlsx))
    except XlsxError as e:
        print(str(e), file=sys.stderr)
        return 1
    t = m.tables[args.name]
    print(f"таблица {args.name} ({len(t.rows)} строк, пакет {t.package}) выгружена в {out}")
    return 0


def _import(args, what: str, run, files) -> tuple[object, str] | None:
    """Compile, import (run(m) → (result, touched files)), re-compile; on a rejected sheet nothing
    was written, on a package that no longer compiles the touched files are put back. Returns
    (result, «sha256 old → new») or None after printing why the import did not happen."""
    from api.workbench.xlsx_tables import XlsxError
    from dsl.diagnostics import DiagnosticError, SourceCache
    from engine.runtime.compiler import compile_package

    m = compile_or_report(args.package)
    if m is None:
        return None
    snapshot = {p: p.read_bytes() for p in files(m)}
    try:
        result, touched = run(m)
    except XlsxError as e:
        print(f"{what} не загружены, файлы пакета не изменены:", file=sys.stderr)
        for p in e.problems:
            print("  " + p, file=sys.stderr)
        return None
    try:
        after = compile_package(Path(args.package))
    except DiagnosticError as e:
        for p in touched:
            if p in snapshot:
                p.write_bytes(snapshot[p])
        print(e.render(SourceCache()), file=sys.stderr)
        print(f"\n{what} не загружены: пакет с ними не компилируется; файлы восстановлены", file=sys.stderr)
        return None
    return result, f"sha256 {m.content_hash[:16]}… → {after.content_hash[:16]}…"


def cmd_import(args) -> int:
    from api.workbench.xlsx_tables import import_table, table_file

    def run(m):
        result = import_table(m, args.name, Path(args.xlsx))
        return result, [result.file]

    def files(m):
        try:
            return [table_file(m, args.name)[1]]
        except Exception:  # noqa: BLE001 - an unknown table is reported by import_table
            return []

    out = _import(args, f"данные таблицы {args.name}", run, files)
    if out is None:
        return 1
    result, hashes = out
    print(f"таблица {args.name}: {result.rows} строк, изменено ячеек {result.changed_cells}; {result.file}; {hashes}")
    return 0


def cmd_param_export(args) -> int:
    from api.workbench.xlsx_params import export_params

    m = compile_or_report(args.package)
    if m is None:
        return 1
    out = export_params(m, Path(args.xlsx))
    print(f"параметры {m.ref} ({len(m.params)}) выгружены в {out}")
    return 0


def cmd_param_import(args) -> int:
    from api.workbench.xlsx_params import import_params

    def run(m):
        result = import_params(m, Path(args.xlsx))
        return result, result.files

    out = _import(args, "параметры", run, lambda m: list(Path(args.package).rglob("*.yaml")))
    if out is None:
        return 1
    result, hashes = out
    for line in result.changed:
        print("  ~ " + line)
    print(f"параметры: изменений {len(result.changed)}; {hashes}")
    return 0
