"""The shape of a YAML test file (engine/testing.py), checked before anything runs.

Every problem is an E0610 diagnostic at the YAML node: an unknown key, a mapping where a list is
due (`defects: 5`), a row that is not a mapping, a field value that is a list or a mapping, a
number that is not finite (`.inf`, `.nan`) or an integer beyond int64.
"""

from __future__ import annotations

import datetime as dt
import math

from dsl.diagnostics import Diagnostic
from engine.runtime.yamlpos import Located

CASE_KEYS = ("name", "date", "parameters", "input", "output", "defects", "checks", "catalogue", "tolerance")
FILE_KEYS = ("defaults", "checks", "catalogue", "cases")
INT64 = 2**63


class _Shape:
    def __init__(self) -> None:
        self.errors: list[Diagnostic] = []

    def err(self, node: Located, message: str) -> None:
        self.errors.append(Diagnostic("E0610", f"файл тестов: {message}", node.span))

    def mapping(self, node: Located, what: str, keys: tuple[str, ...] | None = None) -> dict | None:
        if not isinstance(node.value, dict):
            self.err(node, f"{what}: ожидался словарь, а не {_kind(node.value)}")
            return None
        for k in node.value:
            if keys is not None and k not in keys:
                self.errors.append(Diagnostic("E0610", f"файл тестов: {what}: неизвестный ключ «{k}»",
                                              node.key_spans.get(k, node.span),
                                              hints=[f"допустимые ключи: {', '.join(keys)}"]))
        return node.value

    def seq(self, node: Located, what: str) -> list | None:
        if not isinstance(node.value, list):
            self.err(node, f"{what}: ожидался список, а не {_kind(node.value)}")
            return None
        return node.value

    def scalar(self, node: Located, what: str) -> None:
        v = node.value
        if isinstance(v, (dict, list)):
            self.err(node, f"{what}: ожидалось одно значение, а не {_kind(v)}")
        elif isinstance(v, float) and not math.isfinite(v):
            self.err(node, f"{what}: число {v} недопустимо (нужно конечное число)")
        elif isinstance(v, int) and not isinstance(v, bool) and not -INT64 <= v < INT64:
            self.err(node, f"{what}: целое число {str(v)[:24]}… вне допустимого диапазона (int64)")
        elif not (v is None or isinstance(v, (str, int, float, bool, dt.date))):
            self.err(node, f"{what}: неподдерживаемое значение")

    def rows(self, node: Located, what: str) -> None:
        """{field: value} mappings."""
        fields = self.mapping(node, what)
        for name, v in (fields or {}).items():
            self.scalar(v, f"{what}, поле «{name}»")

    def entities(self, node: Located, what: str, *, listed: bool) -> None:
        """{entity: [rows]} (input) or {entity: {row: fields}} (output, defaults: {entity: fields})."""
        for ent, rows in (self.mapping(node, what) or {}).items():
            where = f"{what}.{ent}"
            if rows.value is None:
                continue
            if listed:
                for i, row in enumerate(self.seq(rows, where) or []):
                    self.rows(row, f"{where}, строка {i + 1}")
            elif what == "defaults":
                self.rows(rows, where)
            else:
                for key, fields in (self.mapping(rows, where) or {}).items():
                    self.rows(fields, f"{where} [{key}]")

    def names(self, node: Located, what: str) -> None:
        for item in self.seq(node, what) or []:
            self.scalar(item, what)

    def tolerance(self, node: Located) -> None:
        if isinstance(node.value, dict):
            for k, v in (self.mapping(node, "tolerance", ("absolute", "relative")) or {}).items():
                self.number(v, f"tolerance.{k}")
        else:
            self.number(node, "tolerance")

    def number(self, node: Located, what: str) -> None:
        v = node.value
        if v is None:
            return
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            self.err(node, f"{what}: ожидалось неотрицательное конечное число")

    def case(self, node: Located) -> None:
        c = self.mapping(node, "случай", CASE_KEYS)
        if c is None:
            return
        for key in ("name", "date", "catalogue"):
            if key in c:
                self.scalar(c[key], key)
        if "date" in c and c["date"].value is not None and not isinstance(c["date"].value, dt.date):
            try:
                dt.date.fromisoformat(str(c["date"].value))
            except ValueError:
                self.err(c["date"], f"date: «{c['date'].value}» — не дата ГГГГ-ММ-ДД")
        if "parameters" in c and c["parameters"].value is not None:
            for name, v in (self.mapping(c["parameters"], "parameters") or {}).items():
                self.scalar(v, f"parameters.{name}")
        if "input" in c and c["input"].value is not None:
            self.entities(c["input"], "input", listed=True)
        if "output" in c and c["output"].value is not None:
            self.entities(c["output"], "output", listed=False)
        if "defects" in c and c["defects"].value is not None:
            for i, d in enumerate(self.seq(c["defects"], "defects") or []):
                fields = self.mapping(d, f"defects, элемент {i + 1}", ("check", "row", "code"))
                for need in ("check", "row"):
                    if fields is not None and need not in fields:
                        self.err(d, f"defects, элемент {i + 1}: не указано «{need}»")
                for k, v in (fields or {}).items():
                    self.scalar(v, f"defects.{k}")
        if "checks" in c and c["checks"].value is not None:
            self.names(c["checks"], "checks")
        if "tolerance" in c:
            self.tolerance(c["tolerance"])


def check_shape(root: Located) -> list[Diagnostic]:
    """Problems of a test file's shape (empty when it can be run)."""
    s = _Shape()
    cases = root
    if isinstance(root.value, dict):
        top = s.mapping(root, "файл", FILE_KEYS) or {}
        if "defaults" in top and top["defaults"].value is not None:
            s.entities(top["defaults"], "defaults", listed=False)
        if "checks" in top and top["checks"].value is not None:
            s.names(top["checks"], "checks")
        if "catalogue" in top:
            s.scalar(top["catalogue"], "catalogue")
        if "cases" not in top:
            return s.errors
        cases = top["cases"]
    for case in s.seq(cases, "cases") or []:
        s.case(case)
    return s.errors


def _kind(v) -> str:
    if isinstance(v, dict):
        return "словарь"
    if isinstance(v, list):
        return "список"
    return f"значение «{v}»" if v is not None else "пустое значение"
