"""ФЛК stage 1: structural validation of registry files, record by record.

The schemas are compiled from the format descriptions (xsdgen.py). lxml cannot report more
than one schema error while streaming (``iterparse(schema=…)`` stops at the first one and
loses the line), so each schema is split in two:
a *record* schema whose global element is ZAP (or PERS for L-files) and a *head*
schema in which the record element is a stub of any content. Every record is
validated as it is parsed (the lines stay those of the original file); the head
(ZGLV, SCHET and whatever else sits at top level) is validated at the end against a
root that keeps one emptied record as the stub.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lxml import etree

if TYPE_CHECKING:
    from .xsdgen import SchemaSet

RECORD_TAGS = {"ZL_LIST": "ZAP", "PERS_LIST": "PERS"}
KIND_NAMES = {"H": "H (медицинская помощь)", "C": "C (онкология)", "T": "T (высокотехнологичная помощь)",
              "D": "D (диспансеризация, профилактические осмотры)", "L": "L (персональные данные)"}

#: fields whose values never appear in protocol or log messages
PERSONAL: frozenset[str] = frozenset(
    {
        "FAM", "IM", "OT", "FAM_P", "IM_P", "OT_P", "W", "W_P", "DR", "DR_P", "MR", "TEL",
        "DOST", "DOST_P", "DOCTYPE", "DOCSER", "DOCNUM", "DOCDATE", "DOCORG", "SNILS",
        "OKATOG", "OKATOP", "COMENTP", "ID_PAC", "SPOLIS", "NPOLIS", "ENP", "IDDOKT", "CODE_MD",
        "NHISTORY", "NAZ_IDDOKT",
    }
)  # fmt: skip


# --- translating libxml2 schema errors into Russian protocol entries -------------------

_INDEX = re.compile(r"\[\d+\]")
_EXPECTED = re.compile(r"Expected is (?:one of )?\( ([^)]*) \)")
_VALUE = re.compile(r"'([^']*)' is not a valid value|The value '([^']*)'")
_FACET_NUM = re.compile(r"\('?(\d+)'?\)|'(\d+)'")
_ENUM_SET = re.compile(r"set \{([^}]*)\}")


def clean_path(lxml_path: str | None, root_tag: str) -> tuple[str, ...]:
    parts = tuple(p for p in _INDEX.sub("", lxml_path or "").split("/") if p)
    if parts and parts[0] != root_tag:
        parts = (root_tag,) + parts
    return parts


def _value_note(element: str, message: str) -> str:
    if element in PERSONAL:
        return ""
    m = _VALUE.search(message)
    if not m:
        return ""
    value = m.group(1) if m.group(1) is not None else m.group(2)
    if len(value) > 40:
        value = value[:40] + "…"
    return f" (значение «{value}»)"


def _expected(message: str) -> list[str]:
    m = _EXPECTED.search(message)
    return [x.strip() for x in m.group(1).split(",")] if m else []


def _content_error(
    schema: SchemaSet, parts: tuple[str, ...], message: str
) -> tuple[str, str, tuple[str, ...]]:
    expected = _expected(message)
    shown = ", ".join(expected)
    if "Missing child element" in message:
        missing = expected[0] if len(expected) == 1 else shown
        return (
            "FLK-XSD-MISSING",
            f"Отсутствует обязательный элемент {missing} в {parts[-1]}",
            parts + (missing,),
        )
    tag, parent = parts[-1], parts[:-1]
    siblings = [name for name, _ in schema.children.get(parent, ())]
    if tag not in schema.names or tag not in siblings:
        where = parent[-1] if parent else ""
        return "FLK-XSD-UNKNOWN", f"Неизвестный элемент {tag} в {where}; ожидается: {shown}", parts
    mins = dict(schema.children.get(parent, ()))
    required = [e for e in expected if mins.get(e, 0) >= 1 and e in siblings]
    if required and siblings.index(tag) > siblings.index(required[0]):
        name = required[0]
        return "FLK-XSD-MISSING", f"Отсутствует обязательный элемент {name} (перед {tag})", parent + (name,)
    return (
        "FLK-XSD-UNEXPECTED",
        f"Элемент {tag} повторяется или стоит не на своём месте; ожидается: {shown}",
        parts,
    )


def translate(entry: etree._LogEntry, schema: SchemaSet) -> tuple[str, str, str]:
    """Return (code, Russian message, element path) for one libxml2 schema error."""
    parts = clean_path(entry.path, schema.root_tag)
    tag = parts[-1] if parts else ""
    msg = entry.message or ""
    kind = entry.type_name
    note = _value_note(tag, msg)
    if kind == "SCHEMAV_ELEMENT_CONTENT" and parts:
        code, text, parts = _content_error(schema, parts, msg)
    elif kind == "SCHEMAV_CVC_DATATYPE_VALID_1_2_1":
        code, text = (
            "FLK-XSD-FORMAT",
            f"Неверный формат значения элемента {tag}{note}: {_type_hint(schema, parts)}",
        )
    elif kind == "SCHEMAV_CVC_PATTERN_VALID":
        code, text = "FLK-XSD-PATTERN", f"Значение элемента {tag} не соответствует шаблону{note}"
    elif kind == "SCHEMAV_CVC_ENUMERATION_VALID":
        m = _ENUM_SET.search(msg)
        allowed = ", ".join(v.strip(" '").removesuffix(".0") for v in m.group(1).split(",")) if m else ""
        code, text = "FLK-XSD-ENUM", f"Недопустимое значение элемента {tag}{note}; допустимо: {allowed}"
    elif kind in ("SCHEMAV_CVC_MAXLENGTH_VALID", "SCHEMAV_CVC_MINLENGTH_VALID", "SCHEMAV_CVC_LENGTH_VALID"):
        nums = [a or b for a, b in _FACET_NUM.findall(msg)]
        limit = nums[-1] if nums else "?"
        bound = {"SCHEMAV_CVC_MAXLENGTH_VALID": "не более", "SCHEMAV_CVC_MINLENGTH_VALID": "не менее"}.get(
            kind, "ровно"
        )
        code, text = (
            "FLK-XSD-LENGTH",
            f"Недопустимая длина значения элемента {tag}: должно быть {bound} {limit} символов",
        )
    elif kind in ("SCHEMAV_CVC_TOTALDIGITS_VALID", "SCHEMAV_CVC_FRACTIONDIGITS_VALID"):
        what = "знаков после запятой" if "FRACTION" in kind else "цифр"
        code, text = "FLK-XSD-DIGITS", f"В значении элемента {tag} больше {what}, чем допускает формат{note}"
    elif kind.startswith("SCHEMAV_CVC_M") and ("INCLUSIVE" in kind or "EXCLUSIVE" in kind):
        code, text = "FLK-XSD-RANGE", f"Значение элемента {tag} вне допустимого диапазона{note}"
    elif kind.startswith("SCHEMAV_CVC_TYPE") or kind.startswith("SCHEMAV_CVC_COMPLEX_TYPE"):
        code, text = "FLK-XSD-STRUCT", f"Недопустимое содержимое или атрибут у элемента {tag}"
    elif "IDC" in kind:
        code, text = "FLK-XSD-UNIQUE", f"Значение элемента {tag} повторяется{note}"
    elif kind == "SCHEMAV_CVC_ELT_1":
        code, text = "FLK-FILE-TYPE", f"Корневой элемент не соответствует схеме {schema.file}"
    else:
        code, text = "FLK-XSD-OTHER", f"Нарушение схемы {schema.file} в элементе {tag or '?'}"
    return code, text, "/".join(parts)


def _type_hint(schema: SchemaSet, parts: tuple[str, ...]) -> str:
    base = schema.types.get(parts[-1] if parts else "", "")
    return {"xs:date": "ожидается дата ГГГГ-ММ-ДД", "xs:decimal": "ожидается число"}.get(
        base, "недопустимое значение"
    )
