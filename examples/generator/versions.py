"""ZGLV/VERSION in force for a file kind and reporting period.

Read from the package's dated ``format_version`` table when it has one (formats/format_version.csv:
``kind``, ``version``, ``accept`` with DATEBEG/DATEEND, the reporting period's first day inside
them; where it accepts two versions, the one below is written); otherwise the
table of registry_format_versions.md §2: H/C/T/D 3.1 in 2019–2021, H 3.2 from 2022-01,
H/C 4.0 from 2024-03, H/C/T/D 5.0 from 2025-01, H/C/T 5.1 from 2025-07 (D stays 5.0: the
sources disagree, chipcom keeps D at 5.0), L 3.2 from 2019-11.
"""

from __future__ import annotations

from datetime import date

#: (kind, first reporting period, version) — later rows win
FALLBACK: tuple[tuple[str, date, str], ...] = (
    ("H", date(2019, 1, 1), "3.1"), ("C", date(2019, 1, 1), "3.1"), ("T", date(2019, 1, 1), "3.1"),
    ("D", date(2019, 1, 1), "3.1"), ("H", date(2022, 1, 1), "3.2"), ("H", date(2024, 3, 1), "4.0"),
    ("C", date(2024, 3, 1), "4.0"), ("H", date(2025, 1, 1), "5.0"), ("C", date(2025, 1, 1), "5.0"),
    ("T", date(2025, 1, 1), "5.0"), ("D", date(2025, 1, 1), "5.0"), ("H", date(2025, 7, 1), "5.1"),
    ("C", date(2025, 7, 1), "5.1"), ("T", date(2025, 7, 1), "5.1"), ("L", date(2019, 11, 1), "3.2"),
)  # fmt: skip


def version_for(kind: str, year: int, month: int, table_rows: list[dict] | None = None) -> str:
    """VERSION of a file of ``kind`` (H, C, T, D, L) for the period ``year``-``month``."""
    period = date(year, month, 1)
    found = [v for k, start, v in FALLBACK if k == kind and start <= period]
    default = found[-1] if found else None
    if table_rows:
        accepted = [
            str(r["version"]) for r in table_rows if str(r["kind"]) == kind and str(r.get("accept", 1)) == "1"
        ]
        if accepted:  # several accepted (disputed periods): the reference's reading above, if among them
            return default if default in accepted else accepted[-1]
    if default is None:
        raise ValueError(f"нет версии формата для файла {kind} за {year}-{month:02d}")
    return default
