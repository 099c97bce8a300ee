"""Which format version is in force for a file kind and a reporting period (SCHET/YEAR+MONTH).

Two sources, one interface:
- the methodology package's dated table ``format_version`` (kind, version, accept, DATEBEG,
  DATEEND; see methodologies/federal/2025/formats/tables.yaml): a file is accepted if its
  version is that of an accepted row whose period covers the reporting month;
- without a package, the periods each description declares (``periods:``).
Several rows of one kind covering one month are the reference's disputed cases: any of them
is accepted, and the protocol message names them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .formats import FormatSet


@dataclass(frozen=True)
class VersionRow:
    kinds: tuple[str, ...]
    start: int
    end: int | None
    versions: tuple[str, ...]
    enabled: bool = True
    assumption: str | None = None


@dataclass(frozen=True)
class VersionTable:
    rows: tuple[VersionRow, ...]
    source: str

    def in_force(self, kind: str, ym: int) -> tuple[str, ...]:
        out: list[str] = []
        for r in sorted(self.rows, key=lambda r: -r.start):
            if r.enabled and kind in r.kinds and r.start <= ym and (r.end is None or ym <= r.end):
                out.extend(v for v in r.versions if v not in out)
        return tuple(out)


def from_dated_rows(rows: list[tuple[str, str, bool, date, date | None]], source: str) -> VersionTable:
    """(kind, version, accepted, first day, last day or None) rows of a dated table."""
    return VersionTable(tuple(
        VersionRow((kind,), d0.year * 12 + d0.month - 1, None if d1 is None else d1.year * 12 + d1.month - 1,
                   (version,), accepted)
        for kind, version, accepted, d0, d1 in rows), source)


def from_descriptions(formats: FormatSet) -> VersionTable:
    rows = tuple(VersionRow((d.kind,), p.start, p.end, (d.version,))
                 for d in formats.by_key.values() for p in d.periods)
    return VersionTable(rows, str(formats.directory))


def period_text(ym: int) -> str:
    return f"{ym // 12:04d}-{ym % 12 + 1:02d}"
