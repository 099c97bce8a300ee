"""CLI: ``python -m examples.generator --month 2025-03 --mo 5 --cases 2000 --seed 1 --out DIR``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .generate import Config, generate
from .package import DEFAULT_PACKAGE


def _month(text: str) -> tuple[int, int]:
    try:
        year, month = (int(x) for x in text.split("-"))
    except ValueError:
        raise argparse.ArgumentTypeError("ожидается ГГГГ-ММ, например 2025-03") from None
    if not (2000 <= year <= 2099 and 1 <= month <= 12):
        raise argparse.ArgumentTypeError("ожидается ГГГГ-ММ, например 2025-03")
    return year, month


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m examples.generator",
                                 description="Синтетические реестры счетов за месяц (H, C, T, D + L; версия формата по периоду)")  # fmt: skip
    ap.add_argument("--month", type=_month, required=True, help="отчётный месяц ГГГГ-ММ")
    ap.add_argument("--mo", type=int, default=3, help="число МО (по одному H+L на МО)")
    ap.add_argument("--cases", type=int, default=1000, help="число случаев (Z_SL) за месяц по всем МО")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True, help="каталог для файлов")
    ap.add_argument("--defects", type=float, default=0.0, help="доля случаев с внесёнными дефектами, 0..1")
    ap.add_argument("--package", type=Path, default=DEFAULT_PACKAGE,
                    help="пакет методологии: коды (КСГ, профили, услуги, МО) и тарифы случаев берутся из него "
                         "(по умолчанию methodologies/federal/2025)")  # fmt: skip
    ap.add_argument(
        "--zip", action="store_true", help="упаковать каждый файл с его L-файлом в ZIP, как их присылают МО"
    )
    ap.add_argument("--kinds", default="H", help="виды файлов: H (общий), C (онкология), T (ВМП), D (диспансеризация); "
                                                 "например HCTD; H обязателен (по умолчанию H)")  # fmt: skip
    ap.add_argument(
        "--version", default=None, help="ZGLV/VERSION реестров вместо действующей в периоде (например 3.2)"
    )
    ap.add_argument("--catalogue", type=float, default=0.0,
                    help="доля чистых случаев, в которые вносится дефект каталога ФЛК ФФОМС (Q015), 0..1; "
                         "в эталоне — столбец catalogue с идентификатором проверки (по умолчанию 0)")  # fmt: skip
    args = ap.parse_args(argv)
    if args.mo < 1 or args.mo > 9999 or args.cases < 1 or not 0 <= args.defects <= 1 or not 0 <= args.catalogue <= 1:
        ap.error("--mo 1..9999, --cases ≥ 1, --defects 0..1, --catalogue 0..1")
    if not args.kinds or set(args.kinds) - set("HCTD") or "H" not in args.kinds:
        ap.error("--kinds: буквы из H, C, T, D, среди них H (например HCTD)")
    year, month = args.month
    try:
        s = generate(
            Config(
                year,
                month,
                args.mo,
                args.cases,
                args.seed,
                args.out,
                args.defects,
                args.zip,
                args.package,
                args.kinds.upper(),
                args.version,
                args.catalogue,
            )
        )
    except ValueError as e:
        ap.error(str(e))
    rate = s.cases / s.seconds if s.seconds else 0
    print(
        f"случаев: {s.cases}, услуг: {s.services}, дефектов: {s.defects}, застрахованных в ЕРЗ: {s.persons}"
    )
    print(
        "по видам файлов (случаев/дефектов): " + ", ".join(f"{k} {c}/{d}" for k, (c, d) in s.by_kind.items())
    )
    print(f"время: {s.seconds:.1f} с ({rate:,.0f} случаев/с)".replace(",", " "))
    for f in s.files:
        print(f"  {f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
