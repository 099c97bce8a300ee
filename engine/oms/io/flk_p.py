"""The FFOMS format-control protocol file (FLK_P): one windows-1251 XML per received registry file.

Layout (reference/registry-formats/flk_protocol.md): root ``FLK_P`` with ``FNAME`` (this
protocol's name), ``FNAME_I`` (the registry file checked) and one ``PR`` per error: ``OSHIB``
(the code of the control rule), ``IM_POL`` (the element in error), ``BAS_EL`` (the record it
belongs to: ZGLV, SCHET, ZAP, PACIENT, Z_SL, SL, USL, PERS), ``N_ZAP``, ``IDCASE``, ``SL_ID``,
``IDSERV``, ``COMMENT``. Identifiers that an error does not have are left out; ``ZN_POL`` (the value
found) and ``ID_PAC`` are never written — a value may be personal data. COMMENT is the entry's
message, which the ФЛК writes without values of personal-data fields.

Entries are read through their public attributes (``code``, ``message``, ``file``, ``n_zap``,
``idcase``, ``sl_id``, ``idserv``, ``element``/``path``), or from the same keys of a stored dict.
The protocol's name is ``prefix`` + the registry file's name (regions use ``V`` or ``F``; the
prefix is a parameter — an assumption, no source fixes it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePath

from lxml import etree

ENCODING = "windows-1251"
DEFAULT_PREFIX = "V"
RECORDS = ("USL", "SL", "Z_SL", "PACIENT", "ZAP", "SCHET", "ZGLV", "PERS")
PR_FIELDS = ("OSHIB", "IM_POL", "BAS_EL", "N_ZAP", "IDCASE", "SL_ID", "IDSERV", "COMMENT")
#: elements holding personal data (ПЕРС 3.2, PACIENT, SL/USL): a quoted value in a comment about them is cut
PERSONAL_ELEMENTS = frozenset({
    "FAM", "IM", "OT", "FAM_P", "IM_P", "OT_P", "W", "W_P", "DR", "DR_P", "MR", "TEL", "DOST", "DOST_P",
    "DOCTYPE", "DOCSER", "DOCNUM", "DOCDATE", "DOCORG", "SNILS", "OKATOG", "OKATOP", "COMENTP", "ID_PAC",
    "SPOLIS", "NPOLIS", "ENP", "IDDOKT", "CODE_MD", "NHISTORY"})
_QUOTED = re.compile(r"\s*\(?значение\s*«[^»]*»\)?|«[^»]*»")


def _get(entry: object, name: str) -> object | None:
    if isinstance(entry, dict):
        return entry.get(name)
    return getattr(entry, name, None)


def _text(value: object | None) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def element_and_base(entry: object) -> tuple[str | None, str | None]:
    """(IM_POL, BAS_EL) from the entry's element path, e.g. ZL_LIST/ZAP/Z_SL/SL/DS1 → (DS1, SL)."""
    path = _text(_get(entry, "element")) or _text(_get(entry, "path"))
    if path is None:
        return None, None
    parts = [p.split("[")[0] for p in path.replace("\\", "/").split("/") if p]
    if not parts:
        return None, None
    name = parts[-1]
    base = next((p for p in reversed(parts[:-1]) if p in RECORDS), None)
    if base is None:
        base = name if name in RECORDS else (parts[-2] if len(parts) > 1 else name)
    return name, base


def comment(entry: object, element: str | None) -> str | None:
    """The entry's message; a quoted value is cut when the element holds personal data."""
    text = _text(_get(entry, "message"))
    if text is not None and element in PERSONAL_ELEMENTS:
        text = _QUOTED.sub("", text).strip()
    return text


def file_stem(name: str) -> str:
    """The registry file's name without folder, archive member prefix or extension."""
    base = PurePath(name.replace("\\", "/").split(":")[-1]).name
    return base.rsplit(".", 1)[0] if "." in base else base


def protocol_name(received: str, prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}{file_stem(received)}"


def build(received: str, entries: Iterable[object], prefix: str = DEFAULT_PREFIX) -> bytes:
    """One FLK_P document (bytes, windows-1251) for the registry file ``received``."""
    root = etree.Element("FLK_P")
    etree.SubElement(root, "FNAME").text = protocol_name(received, prefix)
    etree.SubElement(root, "FNAME_I").text = file_stem(received)
    for e in entries:
        im_pol, bas_el = element_and_base(e)
        values = {"OSHIB": _text(_get(e, "code")), "IM_POL": im_pol, "BAS_EL": bas_el,
                  "N_ZAP": _text(_get(e, "n_zap")), "IDCASE": _text(_get(e, "idcase")),
                  "SL_ID": _text(_get(e, "sl_id")), "IDSERV": _text(_get(e, "idserv")),
                  "COMMENT": comment(e, im_pol)}
        pr = etree.SubElement(root, "PR")
        for name in PR_FIELDS:
            if values[name] is not None:
                etree.SubElement(pr, name).text = values[name]
    body = etree.tostring(root, xml_declaration=False, encoding=ENCODING, pretty_print=True)
    return f'<?xml version="1.0" encoding="{ENCODING}"?>\n'.encode("ascii") + body


def _belongs(entry: object, received: str) -> bool:
    f = _text(_get(entry, "file"))
    return f is not None and file_stem(f).upper() == file_stem(received).upper()


def protocols(received: Sequence[str], entries: Sequence[object], prefix: str = DEFAULT_PREFIX
              ) -> dict[str, bytes]:
    """{protocol file name: document} — one per received registry file, with its errors (maybe none).

    An entry whose file is none of the received ones (e.g. a member of a received ZIP) gets a
    protocol of its own file; entries with no file at all (an empty submission) have no protocol.
    """
    names = list(dict.fromkeys(file_stem(r) for r in received))
    for e in entries:
        f = _text(_get(e, "file"))
        if f is not None and file_stem(f) not in names and not any(_belongs(e, r) for r in names):
            names.append(file_stem(f))
    return {f"{protocol_name(n, prefix)}.XML": build(n, [e for e in entries if _belongs(e, n)], prefix)
            for n in names}


def write_protocols(folder: Path, received: Sequence[str], entries: Sequence[object],
                    prefix: str = DEFAULT_PREFIX) -> list[Path]:
    """Write the FLK_P files into ``folder``; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, doc in protocols(received, entries, prefix).items():
        path = folder / name
        path.write_bytes(doc)
        out.append(path)
    return out
