"""`metodika form`: evaluate a report form over a run (or a methodology) and render it."""

from __future__ import annotations

import sys
from pathlib import Path

from api.cli.common import compile_or_report


def register(sub) -> None:
    p = sub.add_parser("form", help="отчётная форма по результатам расчёта: HTML, XLSX, PDF, XML")
    p.add_argument("form", nargs="?", help="id формы (mek_act, invoice, smo_register, med14, ksg_report, "
                   "ksg_tariff, plan_fact) или путь к YAML-определению")
    p.add_argument("--list", action="store_true", help="перечислить поставляемые формы")
    p.add_argument("--run", help="каталог результатов metodika run")
    p.add_argument("--package", help="каталог пакета методики (если run.json его не называет)")
    p.add_argument("--registry", nargs="+", help="реестры, по которым выполнен расчёт (если run.json их не называет)")
    p.add_argument("--insured", help="ЕРЗ, CSV (как в metodika run)")
    p.add_argument("--table", action="append", default=[], metavar="СУЩНОСТЬ=CSV",
                   help="дополнительные данные расчёта (как в metodika run)")
    p.add_argument("--input", action="append", default=[], metavar="ИМЯ=CSV",
                   help="входная таблица формы (inputs), например plan=plan.csv")
    p.add_argument("--param", action="append", default=[], metavar="ИМЯ=ЗНАЧЕНИЕ", help="параметр формы")
    p.add_argument("--format", choices=["html", "xlsx", "pdf", "xml", "csv"], default="html",
                   help="формат результата (по умолчанию html)")
    p.add_argument("--out", help="файл результата")
    p.add_argument("--strict", action="store_true", help="код возврата 3, если нарушено контрольное соотношение")
    p.set_defaults(handler=cmd_form)


def _pairs(items: list[str], what: str) -> dict[str, str] | None:
    out = {}
    for spec in items:
        k, _, v = spec.partition("=")
        if not _:
            print(f"{what}: ожидалось ИМЯ=ЗНАЧЕНИЕ, получено «{spec}»", file=sys.stderr)
            return None
        out[k] = v
    return out


def cmd_form(args) -> int:
    import json

    from dsl.diagnostics import DiagnosticError, SourceCache
    from forms.build import build_form
    from forms.dataset import WorldError
    from forms.definition import list_definitions, load_form, resolve_form_path
    from forms.evaluate import FormError

    if args.list or not args.form:
        for name in list_definitions():
            f = load_form(resolve_form_path(name))
            print(f"{name:14} {f.title}" + (f" ({f.code})" if f.code else ""))
        return 0
    try:
        form = load_form(resolve_form_path(args.form))
    except DiagnosticError as e:
        print(e.render(SourceCache()), file=sys.stderr)
        return 1
    params, inputs, tables = _pairs(args.param, "--param"), _pairs(args.input, "--input"), _pairs(args.table, "--table")
    if params is None or inputs is None or tables is None:
        return 2
    info = {}
    if args.run:
        run_json = Path(args.run) / "run.json"
        if run_json.is_file():
            info = json.loads(run_json.read_text(encoding="utf-8"))
    package = args.package or info.get("package")
    if not package:
        print("укажите --package: run.json не называет каталог пакета методики", file=sys.stderr)
        return 2
    m = compile_or_report(package)
    if m is None:
        return 1
    try:
        run = None
        if form.source == "run":
            if not args.run:
                print(f"форма {form.id} строится по результатам расчёта: укажите --run КАТАЛОГ", file=sys.stderr)
                return 2
            registry = args.registry or info.get("registry")
            if not registry:
                print("укажите --registry: run.json не называет файлы реестров", file=sys.stderr)
                return 2
            extra = {k: Path(v) for k, v in tables.items()}
            if args.insured or info.get("insured"):
                extra["insured"] = Path(args.insured or info["insured"])
            run = load_run(Path(args.run), m, [Path(p) for p in registry], extra)
            if run is None:
                return 1
        result = build_form(form, run=run, methodology=m, params=params,
                            inputs={k: Path(v) for k, v in inputs.items()})
    except (FormError, WorldError) as e:
        print(f"ошибка формы {form.id}: {e}", file=sys.stderr)
        return 1
    except DiagnosticError as e:
        print(e.render(SourceCache()), file=sys.stderr)
        return 1
    for c in result.controls:
        print("  " + c.message, file=sys.stderr if not c.ok else sys.stdout)   # the message says выполнено/НАРУШЕНО
    out = Path(args.out or f"{form.id}.{args.format}")
    from forms.render import render

    options = {}
    if args.format == "xml":
        if form.xml is None:
            print(f"у формы {form.id} нет XML-отображения (раздел xml:)", file=sys.stderr)
            return 2
        from forms.xml_mapping import xml_mapping

        options["mapping"] = xml_mapping(form.xml, params)
    render(result.form, args.format, out, **options)
    print(f"Форма {form.id}: {out}")
    return 3 if args.strict and result.failed else 0


def load_run(run_dir: Path, m, registry: list[Path], extra: dict[str, Path]):
    """The run's data bound again from its registries, with results read from the run directory."""
    from engine.oms.io import read_registry
    from engine.oms.pipeline import read_extra
    from engine.runtime.dataset import DataError, bind
    from forms.dataset import run_data_from_dir

    reg = read_registry(registry)
    if not reg.ok:
        print("реестры не проходят ФЛК — это не те реестры, по которым выполнен расчёт", file=sys.stderr)
        return None
    raw = dict(reg.data.tables)
    raw.update(read_extra(extra))
    try:
        data = bind(m.entities, raw)
    except DataError as e:
        print(str(e), file=sys.stderr)
        return None
    return run_data_from_dir(run_dir, m, data)
