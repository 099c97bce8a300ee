"""Dated parameters (parameters.yaml): label, unit, legal reference, values by date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dsl.columns import EPOCH, Col
from dsl.diagnostics import Diagnostics, Span
from dsl.types import Type, parse_type_name
from engine.runtime.values import ValueError_, convert, parse_date
from engine.runtime.yamlpos import Located, load_located

FAR_FUTURE = 2**40


@dataclass
class Period:
    start: int            # days since epoch, inclusive
    end: int              # exclusive
    value: object         # typed python value (kopecks for money); None = not in force
    text: str             # value as written
    reference: str | None
    span: Span


@dataclass
class ParamDef:
    name: str
    type: Type
    label: str | None
    unit: str | None
    reference: str | None
    assumption: str | None
    periods: list[Period]
    span: Span
    package: str = ""
    override: bool = False
    extra: dict = field(default_factory=dict)

    def period_at(self, day: int) -> Period | None:
        for p in self.periods:
            if p.start <= day < p.end:
                return p if p.value is not None else None
        return None

    def at(self, days: np.ndarray | None, n: int) -> Col:
        """Values at each row's date; rows where the parameter is not in force are missing."""
        from dsl.columns import const

        live = [p for p in self.periods if p.value is not None]
        if days is not None and len(days) and live:
            lo, hi = int(days.min()), int(days.max())
            for p in live:
                if p.start <= lo and hi < p.end:
                    return const(p.value, self.type, n)
            two = self._two_periods(days, lo, hi)
            if two is not None:
                return two
        if days is None or (len(live) == 1 and live[0].start <= -(2**30) and live[0].end >= FAR_FUTURE):
            p = live[0] if len(live) == 1 else None
            if days is None:
                raise ValueError("dated parameter needs dates")
            if p is not None:
                return const(p.value, self.type, n)
        starts = np.array([p.start for p in self.periods], dtype=np.int64)
        ends = np.array([p.end for p in self.periods], dtype=np.int64)
        idx = period_index(starts, days)
        ok = idx >= 0
        safe = np.clip(idx, 0, None)
        ok &= days < ends[safe]
        has_value = np.array([p.value is not None for p in self.periods])
        ok &= has_value[safe]
        if self.type.kind in ("code", "text"):
            cats_list = sorted({str(p.value) for p in live})
            cats = np.array(cats_list, dtype=object)
            per = np.array([cats_list.index(str(p.value)) if p.value is not None else -1 for p in self.periods],
                           dtype=np.int32)
            data = np.where(ok, per[safe], -1).astype(np.int32)
            return Col(self.type, data, ~ok if not ok.all() else None, cats)
        from dsl.columns import empty_dtype

        vals = np.array([p.value if p.value is not None else 0 for p in self.periods],
                        dtype=empty_dtype(self.type.kind))
        data = np.where(ok, vals[safe], vals.dtype.type(0))    # no stray rate where not in force
        return Col(self.type, data, ~ok if not ok.all() else None)


    def _two_periods(self, days: np.ndarray, lo: int, hi: int) -> Col | None:
        """The usual case of a rate changing once inside the rows' dates: one comparison."""
        if self.type.kind not in ("int", "number", "money"):
            return None
        for a, b in zip(self.periods, self.periods[1:], strict=False):
            if a.value is not None and b.value is not None and a.end == b.start and \
                    a.start <= lo and hi < b.end:
                from dsl.columns import empty_dtype

                dtype = empty_dtype(self.type.kind)
                return Col(self.type, np.where(days >= b.start, dtype(b.value), dtype(a.value)))
        return None


def period_index(starts: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Index of the last start ≤ day (−1 before the first), for sorted starts.

    A few periods are the rule (a rate changes once or twice a year): comparisons per
    period are several times faster than a binary search over a million dates."""
    if len(starts) > 8:
        return np.searchsorted(starts, days, side="right") - 1
    idx = np.full(days.shape, -1, dtype=np.int64)
    for s in starts:
        idx += days >= s
    return idx


def _date_key(name: str, key: str, span: Span, diags: Diagnostics) -> int | None:
    try:
        return (parse_date(key) - EPOCH).days
    except ValueError_ as e:
        diags.error("E0603", f"параметр «{name}»: дата начала действия значения: {e}", span)
        return None


def load_parameters(path: Path, display_path: str, package: str, diags: Diagnostics) -> dict[str, ParamDef]:
    root = load_located(path, display_path)
    out: dict[str, ParamDef] = {}
    if not isinstance(root.value, dict):
        diags.error("E0601", "parameters.yaml должен быть словарём «имя параметра: описание»", root.span)
        return out
    for name, node in root.value.items():
        name_span = root.key_spans[name]
        if not isinstance(node.value, dict):
            diags.error("E0601", f"параметр «{name}»: ожидалось описание с полями type, label, values",
                        node.span)
            continue
        p = _load_one(name, name_span, node, package, diags)
        if p is not None:
            out[name] = p
    return out


_ALLOWED = {"type", "label", "unit", "reference", "values", "override", "assumption", "description"}


def _load_one(name: str, name_span: Span, node: Located, package: str, diags: Diagnostics) -> ParamDef | None:
    fields = node.value
    for k in fields:
        if k not in _ALLOWED:
            from dsl.diagnostics import did_you_mean

            diags.error("E0601", f"параметр «{name}»: неизвестное поле «{k}»", node.key_spans[k],
                        hints=did_you_mean(k, _ALLOWED))
    tnode = fields.get("type")
    if tnode is None:
        diags.error("E0601", f"параметр «{name}»: не указан тип (type: money | number | int | …)", name_span)
        return None
    typ = parse_type_name(str(tnode.value))
    if typ is None:
        from dsl.diagnostics import did_you_mean
        from dsl.types import KINDS

        diags.error("E0207", f"параметр «{name}»: неизвестный тип «{tnode.value}»", tnode.span,
                    hints=did_you_mean(str(tnode.value), KINDS))
        return None
    values = fields.get("values")
    if values is None or not isinstance(values.value, dict) or not values.value:
        diags.error("E0601", f"параметр «{name}»: нет значений (values: {{ГГГГ-ММ-ДД: значение}})",
                    values.span if values is not None else name_span)
        return None
    raw: list[tuple[int, Located, Span]] = []
    for key, vnode in values.value.items():
        day = _date_key(name, key, values.key_spans[key], diags)
        if day is not None:
            raw.append((day, vnode, values.key_spans[key]))
    raw.sort(key=lambda t: t[0])
    periods: list[Period] = []
    for i, (day, vnode, _kspan) in enumerate(raw):
        end = raw[i + 1][0] if i + 1 < len(raw) else FAR_FUTURE
        ref = None
        v = vnode.value
        if isinstance(v, dict):
            ref = v.get("reference").value if "reference" in v else None
            if "value" not in v:
                diags.error("E0601", f"параметр «{name}»: у значения на {key_text(day)} нет поля value", vnode.span)
                continue
            vspan = v["value"].span
            v = v["value"].value
        else:
            vspan = vnode.span
        text = "" if v is None else (str(v) if not isinstance(v, float) else repr(v))
        try:
            typed = convert(v, typ)
        except ValueError_ as e:
            diags.error("E0604", f"параметр «{name}»: {e}", vspan)
            continue
        periods.append(Period(day, end, typed, text, ref, vspan))
    ov = fields.get("override")
    return ParamDef(name, typ, _s(fields, "label"), _s(fields, "unit"), _s(fields, "reference"),
                    _s(fields, "assumption"), periods, name_span, package,
                    bool(ov.value) if ov is not None else False)


def _s(fields: dict, key: str) -> str | None:
    v = fields.get(key)
    return None if v is None or v.value is None else str(v.value)


def key_text(day: int) -> str:
    return (EPOCH + dt.timedelta(days=day)).isoformat()
