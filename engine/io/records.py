"""Turn one parsed ZAP (or PERS) element into raw table rows.

Rows are dicts pre-filled from the entity's column tuple (``dict.fromkeys``), so a
tag that is not a column is ignored (``key in row``) and ``tuple(row.values())`` is
already in column order. Values stay the raw element text; typing is the engine's job.
"""

from __future__ import annotations

from lxml import etree

from .columns import CASE, MULTI, PATIENT, PERS, SERVICE, SL

_LOWER: dict[str, str] = {}
#: one object per distinct value: codes, dates and tariffs repeat across millions of rows
_STRINGS: dict[str, str] = {}
_STRINGS_CAP = 1 << 20


def _shared(text: str | None) -> str | None:
    if text is None:
        return None
    v = _STRINGS.get(text)
    if v is None:
        if len(_STRINGS) >= _STRINGS_CAP:
            _STRINGS.clear()
        v = _STRINGS[text] = text
    return v


def _key(tag: str) -> str:
    k = _LOWER.get(tag)
    if k is None:
        k = _LOWER[tag] = tag.lower()
    return k


def fill(el: etree._Element, row: dict, multi: dict[str, list]) -> list[etree._Element]:
    """Copy the simple children of ``el`` into ``row``; return the complex children."""
    nested = []
    for ch in el:
        tag = ch.tag
        if type(tag) is not str:  # comments, processing instructions
            continue
        if len(ch):
            nested.append(ch)
            continue
        key = _key(tag)
        if key in MULTI:
            multi.setdefault(key, []).append(ch.text)
        elif key in row:
            row[key] = _shared(ch.text)
    return nested


def _close_multi(row: dict, multi: dict[str, list]) -> None:
    for key, values in multi.items():
        if key in row:
            row[key] = values[0]
            row[key + "_all"] = ";".join(v for v in values if v is not None) or None


class RecordRows:
    """Accumulates rows of the H/D entities of one file as tuples (columnised later)."""

    def __init__(self, account_key: str) -> None:
        self.account_key = account_key
        self.patient: list[tuple] = []
        self.case: list[tuple] = []
        self.sl: list[tuple] = []
        self.service: list[tuple] = []
        self.kslp_item: list[tuple] = []

    def add_zap(self, zap: etree._Element) -> None:
        prow = dict.fromkeys(PATIENT)
        nested = fill(zap, prow, {})
        pac = next((e for e in nested if e.tag == "PACIENT"), None)
        zsl = next((e for e in nested if e.tag == "Z_SL"), None)
        n_zap = prow["n_zap"]
        pkey = f"{self.account_key}/{n_zap}"
        prow["key"] = pkey
        prow["account_ref"] = self.account_key
        if pac is not None:
            fill(pac, prow, {})
            prow["src_line"] = pac.sourceline
        else:
            prow["src_line"] = zap.sourceline
        self.patient.append(tuple(prow.values()))
        if zsl is not None:
            self._add_case(zsl, pkey, n_zap)

    def _add_case(self, zsl: etree._Element, pkey: str, n_zap: str | None) -> None:
        row = dict.fromkeys(CASE)
        multi: dict[str, list] = {}
        nested = fill(zsl, row, multi)
        _close_multi(row, multi)
        ckey = f"{self.account_key}/{row['idcase']}"
        row.update(
            key=ckey, account_ref=self.account_key, patient_ref=pkey, n_zap=n_zap, src_line=zsl.sourceline
        )
        self.case.append(tuple(row.values()))
        for sl in nested:
            if sl.tag == "SL":
                self._add_sl(sl, ckey)

    def _add_sl(self, sl: etree._Element, ckey: str) -> None:
        row = dict.fromkeys(SL)
        multi: dict[str, list] = {}
        services = []
        kslp: list[tuple] = []
        for child in fill(sl, row, multi):
            tag = child.tag
            if tag == "USL":
                services.append(child)
            elif tag == "KSG_KPG":
                for sub in fill(child, row, multi):
                    if sub.tag == "SL_KOEF":
                        kslp.append((sub.findtext("IDSL"), sub.findtext("Z_SL"), sub.sourceline))
                row["sl_koef"] = ";".join(v for v, _, _ in kslp if v) or None
            elif tag == "DS2_N":  # D-files wrap DS2 with its attributes
                fill(child, {}, multi)
        _close_multi(row, multi)
        skey = f"{ckey}/{row['sl_id']}"
        row.update(key=skey, case_ref=ckey, src_line=sl.sourceline)
        self.sl.append(tuple(row.values()))
        for i, (code, value, line) in enumerate(kslp, start=1):
            self.kslp_item.append((f"{skey}/{i}", skey, code, value, row["date_2"], line))
        for usl in services:
            self._add_service(usl, skey, ckey)

    def _add_service(self, usl: etree._Element, skey: str, ckey: str) -> None:
        row = dict.fromkeys(SERVICE)
        for child in fill(usl, row, {}):
            if child.tag == "MR_USL_N":  # 3.2: the first performer gives PRVS / CODE_MD
                if row["prvs"] is None and row["code_md"] is None:
                    row["prvs"] = child.findtext("PRVS")
                    row["code_md"] = child.findtext("CODE_MD")
        row.update(key=f"{skey}/{row['idserv']}", sl_ref=skey, case_ref=ckey, src_line=usl.sourceline)
        self.service.append(tuple(row.values()))


PERS_ROW: tuple[str, ...] = ("id_pac",) + PERS


def pers_values(pers: etree._Element) -> tuple:
    """PERS values in PERS column order (id_pac first); repeated DOST joined by ';'."""
    row = dict.fromkeys(PERS_ROW)
    dost = []
    for ch in pers:
        tag = ch.tag
        if type(tag) is not str:
            continue
        key = _key(tag)
        if key == "dost":
            dost.append(ch.text or "")
        elif key in row:
            row[key] = ch.text
    if dost:
        row["dost"] = ";".join(dost)
    return tuple(row.values())
