"""Sample rendered forms used by the renderer tests (built here, not by the engine)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from forms.model import (
    Cell,
    Column,
    Footer,
    FormMeta,
    HeaderCell,
    RenderedForm,
    Row,
    Signature,
    Stub,
    TitleBlock,
    ValueKind,
)

GENERATED_AT = datetime(2025, 7, 15, 10, 30)
SIGNATURES = (
    Signature("Руководитель", "И. И. Иванов"),
    Signature("Главный бухгалтер", "А. П. Петрова"),
    Signature("Исполнитель", "С. В. Сидоров"),
)


def _meta(form_id: str) -> FormMeta:
    return FormMeta(form_id, "1", "federal/2025@1.0.0", GENERATED_AT)


def _money_row(code: str, label: str, values: list[int], **kw: object) -> Row:
    return Row(label, [Cell(v) for v in values], code=code, **kw)  # type: ignore[arg-type]


def mek_act() -> RenderedForm:
    """МЭК act: two header levels, row groups, a section, a total row; portrait."""
    columns = []
    for group in ("presented", "accepted", "rejected"):
        columns.append(Column(f"{group}_cases", "случаев", ValueKind.INT, width_mm=18))
        columns.append(Column(f"{group}_sum", "сумма, руб.", ValueKind.MONEY, width_mm=28))
    header = [
        [HeaderCell("Представлено к оплате", 2), HeaderCell("Принято к оплате", 2),
         HeaderCell("Не принято к оплате", 2)],
        [HeaderCell("случаев"), HeaderCell("сумма, руб."), HeaderCell("случаев"),
         HeaderCell("сумма, руб."), HeaderCell("случаев"), HeaderCell("сумма, руб.")],
    ]
    rows = [
        _money_row("01", "Медицинская помощь в стационарных условиях (КС)",
                   [1250, 4_567_890_123, 1201, 4_401_234_567, 49, 166_655_556]),
        _money_row("02", "Медицинская помощь в условиях дневного стационара (ДС)",
                   [830, 1_234_567_89, 815, 1_204_000_00, 15, 30_567_89]),
        _money_row("03", "Медицинская помощь в амбулаторных условиях",
                   [15400, 2_310_000_050, 15112, 2_266_800_050, 288, 43_200_000]),
        _money_row("03.1", "в том числе посещения с профилактической целью",
                   [9100, 910_000_000, 9000, 900_000_000, 100, 10_000_000], level=1),
        _money_row("04", "Скорая медицинская помощь вне медицинской организации (СМП)",
                   [2100, 945_000_000, 2100, 945_000_000, 0, 0]),
        Row("Не принято к оплате по кодам дефектов (F014)", is_section=True),
        Row("1.10.2 Дублирование случаев оказания медицинской помощи в одном реестре",
            [Cell.dash(), Cell.dash(), Cell.dash(), Cell.dash(), Cell(212), Cell(150_123_456)],
            code="05", level=1),
        Row("5.1.4 Некорректное заполнение полей реестра счетов",
            [Cell.dash(), Cell.dash(), Cell.dash(), Cell.dash(), Cell(140), Cell(62_788_889)],
            code="06", level=1),
        Row("Не принято к оплате в связи с превышением установленных комиссией объемов",
            [Cell.dash(), Cell.dash(), Cell.dash(), Cell.dash(), Cell(0), Cell(0)], code="07"),
    ]
    top = [r for r in rows if r.code in ("01", "02", "03", "04")]
    totals = [sum(r.cells[i].value for r in top) for i in range(6)]  # type: ignore[misc]
    rows.append(_money_row("99", "Итого", totals, is_total=True))
    return RenderedForm(
        title=TitleBlock(
            name="Акт медико-экономического контроля",
            code="Форма МЭК-1",
            period="за июнь 2025 г.",
            organisation="ГБУЗ «Областная клиническая больница № 1» (код МО 750001); "
                         "СМО: АО «Страховая компания «Надёжность»",
            approval=("Приложение № 3", "к приказу ТФОМС от 10.01.2025 № 12"),
            lines=("по счёту № 125 от 05.07.2025",),
        ),
        columns=columns, rows=rows, header=header, meta=_meta("mek_act"),
        stub=Stub(label_width_mm=62, code_width_mm=13),
        footer=Footer(notes=("Суммы указаны в рублях с копейками.",), signatures=SIGNATURES, stamp=True),
        column_numbering="rosstat",
    )


def long_register(n: int = 300) -> RenderedForm:
    """Register of accounts per СМО: one header level, ``n`` rows, a total."""
    columns = [
        Column("account", "Номер счёта", ValueKind.TEXT, width_mm=22),
        Column("cases", "Количество случаев", ValueKind.INT, width_mm=20),
        Column("presented", "Предъявлено, руб.", ValueKind.MONEY, width_mm=28),
        Column("accepted", "Принято к оплате, руб.", ValueKind.MONEY, width_mm=28),
        Column("share", "Доля принятого, %", ValueKind.NUMBER, decimals=2, width_mm=20),
    ]
    rows: list[Row] = []
    tot_cases = tot_presented = tot_accepted = 0
    for i in range(1, n + 1):
        cases = 40 + (i * 37) % 900
        presented = cases * (1_523_417 + (i * 7919) % 250_000)
        accepted = presented - (presented * ((i * 13) % 7)) // 100
        tot_cases, tot_presented, tot_accepted = (
            tot_cases + cases, tot_presented + presented, tot_accepted + accepted)
        share = (Decimal(accepted) * 100 / Decimal(presented))
        rows.append(Row(f"Медицинская организация № {i} (код МО {750000 + i})",
                        [Cell(f"{i:04d}/06"), Cell(cases), Cell(presented), Cell(accepted), Cell(share)],
                        code=f"{i:03d}"))
    rows.append(Row("Итого по СМО", [Cell(None, ValueKind.EMPTY), Cell(tot_cases), Cell(tot_presented),
                                     Cell(tot_accepted),
                                     Cell(Decimal(tot_accepted) * 100 / Decimal(tot_presented))],
                    code="999", is_total=True))
    return RenderedForm(
        title=TitleBlock(name="Реестр счетов на оплату медицинской помощи",
                         period="за июнь 2025 г.",
                         organisation="СМО: АО «Страховая компания «Надёжность» (код 75001)"),
        columns=columns, rows=rows, meta=_meta("accounts_register"),
        stub=Stub(label_title="Медицинская организация", code_title="№ п/п",
                  label_width_mm=60, code_width_mm=12),
        footer=Footer(signatures=SIGNATURES[:2]),
        column_numbering="sequential",
    )


KSG = [
    ("st02.001", "Осложнения, связанные с беременностью", "0.93", "1.00", False),
    ("st02.003", "Родоразрешение", "0.98", "1.00", False),
    ("st04.002", "Воспалительные заболевания кишечника", "2.01", "1.10", False),
    ("st12.008", "Грипп и пневмония с синдромом органной дисфункции", "4.40", "1.00", True),
    ("st19.038", "Лекарственная терапия при злокачественных новообразованиях (кроме "
                 "лимфоидной и кроветворной тканей), взрослые (уровень 1)", "1.86", "1.00", True),
    ("st36.009", "Реинфузия аутокрови", "2.05", "1.20", False),
]
BASE_KOP = 2_814_726  # 28 147,26 руб.
LEVELS = [(1, Decimal("0.95")), (1, Decimal("1.00")), (2, Decimal("1.10")), (2, Decimal("1.15")),
          (3, Decimal("1.30")), (3, Decimal("1.40"))]


def ksg_tariffs() -> RenderedForm:
    """Tariff appendix «стоимость КСГ»: three header levels with row spans; landscape."""
    columns = [Column("kz", "КЗ", ValueKind.NUMBER, decimals=2, width_mm=20),
               Column("ks", "КС", ValueKind.NUMBER, decimals=2, width_mm=20)]
    columns += [Column(f"tariff_{i}", f"{lvl}.{i % 2 + 1}", ValueKind.MONEY, width_mm=24)
                for i, (lvl, _) in enumerate(LEVELS)]
    columns.append(Column("no_kslp", "КСЛП не применяется", ValueKind.TEXT, width_mm=22))
    header = [
        [HeaderCell("Коэффициент затратоёмкости (КЗ)", rowspan=3),
         HeaderCell("Коэффициент специфики (КС)", rowspan=3),
         HeaderCell("Стоимость законченного случая по уровням оказания помощи, руб.", colspan=6),
         HeaderCell("КСЛП не применяется", rowspan=3)],
        [HeaderCell("1 уровень", 2), HeaderCell("2 уровень", 2), HeaderCell("3 уровень", 2)],
        [HeaderCell("1.1"), HeaderCell("1.2"), HeaderCell("2.1"), HeaderCell("2.2"),
         HeaderCell("3.1"), HeaderCell("3.2")],
    ]
    rows: list[Row] = [Row("Круглосуточный стационар", is_section=True)]
    for code, name, kz, ks, no_kslp in KSG:
        tariffs = [int((BASE_KOP * Decimal(kz) * Decimal(ks) * k).quantize(Decimal(1), "ROUND_HALF_UP"))
                   for _, k in LEVELS]
        cells = [Cell(Decimal(kz)), Cell(Decimal(ks))] + [Cell(t) for t in tariffs]
        cells.append(Cell("да") if no_kslp else Cell.dash())
        rows.append(Row(name, cells, code=code))
    return RenderedForm(
        title=TitleBlock(
            name="Стоимость законченного случая лечения по КСГ в стационарных условиях",
            period="на 2025 год",
            approval=("Приложение № 5.1", "к Тарифному соглашению в сфере ОМС",
                      "Забайкальского края на 2025 год"),
            lines=("Базовая ставка: 28 147,26 руб.",),
        ),
        columns=columns, rows=rows, header=header, meta=_meta("ksg_tariffs"),
        stub=Stub(label_title="Наименование КСГ", code_title="Код КСГ", label_width_mm=80,
                  code_width_mm=20),
        orientation="landscape",
    )


SAMPLES = {"mek_act": mek_act, "long_register": long_register, "ksg_tariffs": ksg_tariffs}
