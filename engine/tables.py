"""Keyed reference tables from CSV, optionally dated (DATEBEG/DATEEND), with vectorized lookup."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dsl.columns import Col, empty_dtype
from dsl.diagnostics import Diagnostics, Related, Span
from dsl.types import Type, parse_type_name
from engine.params import FAR_FUTURE
from engine.values import ValueError_, convert
from engine.yamlpos import Located


@dataclass
class TableDef:
    name: str
    file: str
    keys: list[str]
    columns: dict[str, Type]
    label: str | None
    reference: str | None
    dated: bool
    span: Span
    package: str = ""
    override: bool = False
    rows: list[dict] = field(default_factory=list)        # typed python values per row
    row_lines: list[int] = field(default_factory=list)
    starts: np.ndarray | None = None
    ends: np.ndarray | None = None
    cols: dict[str, Col] = field(default_factory=dict)
    _index: dict | None = None
    _t_ids: np.ndarray | None = None

    @property
    def key_types(self) -> list[tuple[str, Type]]:
        return [(k, self.columns[k]) for k in self.keys]

    def finalize(self) -> None:
        n = len(self.rows)
        for cname, typ in self.columns.items():
            vals = [r.get(cname) for r in self.rows]
            missing = np.array([v is None for v in vals], dtype=bool)
            if typ.kind in ("code", "text"):
                strs = np.array(["" if v is None else str(v) for v in vals], dtype=object)
                cats, inv = np.unique(strs.astype(str), return_inverse=True) if n else (np.array([], str), np.array([], np.int64))
                data = inv.astype(np.int32)
                data[missing] = -1
                self.cols[cname] = Col(typ.as_optional(bool(missing.any())), data,
                                       missing if missing.any() else None, cats.astype(object))
            else:
                data = np.array([0 if v is None else v for v in vals], dtype=empty_dtype(typ.kind))
                self.cols[cname] = Col(typ.as_optional(bool(missing.any())), data,
                                       missing if missing.any() else None)
        if self.starts is None:
            self.starts = np.full(n, -(2**30), dtype=np.int64)
            self.ends = np.full(n, FAR_FUTURE, dtype=np.int64)
        self._build_index()

    def _build_index(self) -> None:
        """Key ids of the rows (in the table's own dictionaries) and the version index per key.
        Built once at load, so a compiled methodology is read-only during evaluation."""
        t_ids = np.zeros(len(self.rows), dtype=np.int64)
        for kname in self.keys:
            t = self.cols[kname]
            if t.type.kind in ("code", "text"):
                card = len(t.cats) + 1
                td = np.asarray(t.data, dtype=np.int64) + 1
            else:
                uniq = np.unique(np.asarray(t.data))
                card = len(uniq) + 1
                td = np.searchsorted(uniq, np.asarray(t.data)) + 1
            t_ids = t_ids * card + td
        order = np.lexsort((self.starts, t_ids))
        uniq, first, counts = np.unique(t_ids[order], return_index=True, return_counts=True)
        self._t_ids = t_ids
        self._index = {"order": order, "uniq": uniq, "first": first, "counts": counts}

    # -- lookup --------------------------------------------------------------
    def _key_ids(self, key_cols: list[Col]) -> np.ndarray:
        """Ids of the queried key tuples in the table's key space (-1 where a part is absent)."""
        q_ids = np.zeros(len(key_cols[0]) if key_cols else 0, dtype=np.int64)
        q_bad = np.zeros(q_ids.shape[0], dtype=bool)
        for kname, q in zip(self.keys, key_cols, strict=True):
            t = self.cols[kname]
            if t.type.kind in ("code", "text"):
                tcats = t.cats.astype(str)
                qcats = q.cats.astype(str) if q.cats is not None else np.array([], dtype=str)
                where = np.searchsorted(tcats, qcats)
                where_c = np.clip(where, 0, max(len(tcats) - 1, 0))
                hit = (where < len(tcats)) & (tcats[where_c] == qcats) if len(tcats) else np.zeros(len(qcats), bool)
                per_cat = np.where(hit, where_c + 1, 0)
                qv = np.asarray(q.data)
                qd = np.where(qv >= 0, per_cat[np.clip(qv, 0, None)] if len(per_cat) else 0, 0)
                card = len(tcats) + 1
            else:
                tv = np.asarray(t.data)
                qv = np.asarray(q.data)
                if t.type.kind == "money" and q.type.kind == "int":
                    qv = qv * 100
                uniq = np.unique(tv)
                card = len(uniq) + 1
                pos = np.searchsorted(uniq, qv)
                pos_c = np.clip(pos, 0, max(len(uniq) - 1, 0))
                found = (pos < len(uniq)) & (uniq[pos_c] == qv) if len(uniq) else np.zeros(len(qv), bool)
                qd = np.where(found, pos_c + 1, 0)
            q_bad |= qd == 0
            q_ids = q_ids * card + qd
        q_ids[q_bad] = -1
        return q_ids

    def find(self, key_cols: list[Col], days: np.ndarray | None) -> np.ndarray:
        """Row index per query (-1 when no row is in force for that key at that date)."""
        nq = len(key_cols[0]) if key_cols else 0
        if len(self.rows) == 0 or nq == 0:
            return np.full(nq, -1, dtype=np.int64)
        q_ids = self._key_ids(key_cols)
        ix = self._index
        pos = np.searchsorted(ix["uniq"], q_ids) if len(ix["uniq"]) > 64 else _small_search(ix["uniq"], q_ids)
        pos_c = np.clip(pos, 0, len(ix["uniq"]) - 1)
        known = (q_ids >= 0) & (ix["uniq"][pos_c] == q_ids)
        first = ix["first"][pos_c]
        count = ix["counts"][pos_c]
        order = ix["order"]
        if days is None:
            days = np.zeros(nq, dtype=np.int64)
        slot = first.copy()
        for j in range(1, int(count.max())):
            nxt = np.minimum(first + j, len(order) - 1)
            slot = np.where((j < count) & (days >= self.starts[order[nxt]]), first + j, slot)
        row = order[slot]
        ok = known & (days >= self.starts[row]) & (days < self.ends[row])
        return np.where(ok, row, -1)

    def column_at(self, column: str, rows: np.ndarray) -> Col:
        c = self.cols[column]
        safe = np.clip(rows, 0, None)
        missing = rows < 0
        if c.missing is not None:
            missing = missing | c.missing[safe]
        data = np.asarray(c.data)[safe] if len(c.data) else np.zeros(len(rows), dtype=np.asarray(c.data).dtype)
        return Col(c.type.as_optional(True), data, missing, c.cats)


def _small_search(uniq: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Position of each query among few sorted ids by comparisons (faster than a binary search)."""
    pos = np.zeros(q.shape, dtype=np.int64)
    for u in uniq[:-1]:
        pos += q > u
    return pos


def declare_table(name: str, node: Located, pkg_dir: Path, display_dir: str, package: str,
                  diags: Diagnostics) -> TableDef | None:
    f = node.value if isinstance(node.value, dict) else None
    if f is None:
        diags.error("E0601", f"таблица «{name}»: ожидалось описание с полями file, key, columns", node.span)
        return None
    for req in ("file", "key", "columns"):
        if req not in f:
            diags.error("E0601", f"таблица «{name}»: не указано поле «{req}»", node.span)
            return None
    cols: dict[str, Type] = {}
    cnode = f["columns"]
    if not isinstance(cnode.value, dict):
        diags.error("E0601", f"таблица «{name}»: columns — словарь «столбец: тип»", cnode.span)
        return None
    for cname, tnode in cnode.value.items():
        t = parse_type_name(str(tnode.value))
        if t is None:
            diags.error("E0207", f"таблица «{name}», столбец «{cname}»: неизвестный тип «{tnode.value}»", tnode.span)
            continue
        cols[cname] = t
    keys_v = f["key"].value
    keys = [str(k.value) for k in keys_v] if isinstance(keys_v, list) else [str(keys_v)]
    for k in keys:
        if k not in cols:
            diags.error("E0601", f"таблица «{name}»: ключевой столбец «{k}» не объявлен в columns", f["key"].span)
            return None
    dated = bool(f["dated"].value) if "dated" in f else False
    file = str(f["file"].value)
    t = TableDef(name, f"{display_dir}/{file}", keys, cols,
                 str(f["label"].value) if "label" in f else None,
                 str(f["reference"].value) if "reference" in f else None, dated, node.span, package,
                 bool(f["override"].value) if "override" in f else False)
    _load_csv(t, pkg_dir / file, diags)
    return t


def _field_columns(raw_line: str) -> list[int]:
    """1-based column where each CSV field starts in a raw line (quotes respected)."""
    cols, in_q = [1], False
    for i, ch in enumerate(raw_line):
        if ch == '"':
            in_q = not in_q
        elif ch == "," and not in_q:
            cols.append(i + 2)
    return cols


def _load_csv(t: TableDef, path: Path, diags: Diagnostics) -> None:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        diags.error("E0602", f"таблица «{t.name}»: файл не найден: {t.file}", t.span)
        return
    except UnicodeDecodeError as e:
        diags.error("E0601", f"таблица «{t.name}»: файл не в UTF-8 (байт {e.start})", Span.point(t.file, 1, 1))
        return
    raw_lines = text.splitlines()
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        diags.error("E0605", f"таблица «{t.name}»: пустой файл", Span.point(t.file, 1, 1))
        return
    header = [h.strip() for h in header]
    need = list(t.columns) + (["DATEBEG", "DATEEND"] if t.dated else [])
    for c in need:
        if c not in header:
            diags.error("E0605", f"таблица «{t.name}»: в заголовке нет столбца «{c}»",
                        Span(t.file, 1, 1, 1, len(raw_lines[0]) + 1 if raw_lines else 2))
            return
    pos = {c: header.index(c) for c in need}
    starts, ends = [], []
    from dsl.columns import EPOCH
    from engine.values import parse_date

    for record in reader:
        line = reader.line_num
        if not any(x.strip() for x in record):
            continue
        fcols = _field_columns(raw_lines[line - 1]) if line - 1 < len(raw_lines) else [1]
        if len(record) != len(header):
            diags.error("E0605", f"таблица «{t.name}»: в строке {len(record)} полей, в заголовке {len(header)}",
                        Span.point(t.file, line, 1, len(raw_lines[line - 1]) if line - 1 < len(raw_lines) else 1))
            continue
        row, ok = {}, True
        for c, typ in t.columns.items():
            i = pos[c]
            try:
                row[c] = convert(record[i], typ)
            except ValueError_ as e:
                col = fcols[i] if i < len(fcols) else 1
                diags.error("E0605", f"таблица «{t.name}», столбец «{c}»: {e}",
                            Span.point(t.file, line, col, max(len(record[i]), 1)))
                ok = False
            if row.get(c) is None and c in t.keys and ok:
                col = fcols[i] if i < len(fcols) else 1
                diags.error("E0605", f"таблица «{t.name}»: пустой ключ «{c}»", Span.point(t.file, line, col))
                ok = False
        if t.dated:
            try:
                b = record[pos["DATEBEG"]].strip()
                e = record[pos["DATEEND"]].strip()
                s_day = (parse_date(b) - EPOCH).days if b else -(2**30)
                e_day = (parse_date(e) - EPOCH).days + 1 if e else FAR_FUTURE
            except ValueError_ as err:
                diags.error("E0605", f"таблица «{t.name}»: {err}", Span.point(t.file, line, 1))
                continue
            if e_day <= s_day:
                diags.error("E0606", f"таблица «{t.name}»: DATEEND раньше DATEBEG", Span.point(t.file, line, 1))
                continue
        else:
            s_day, e_day = -(2**30), FAR_FUTURE
        if ok:
            t.rows.append(row)
            t.row_lines.append(line)
            starts.append(s_day)
            ends.append(e_day)
    t.starts = np.array(starts, dtype=np.int64)
    t.ends = np.array(ends, dtype=np.int64)
    _check_overlaps(t, diags)
    t.finalize()


def _check_overlaps(t: TableDef, diags: Diagnostics) -> None:
    seen: dict[tuple, list[int]] = {}
    for i, r in enumerate(t.rows):
        seen.setdefault(tuple(r[k] for k in t.keys), []).append(i)
    for key, idxs in seen.items():
        if len(idxs) < 2:
            continue
        idxs.sort(key=lambda i: t.starts[i])
        for a, b in zip(idxs, idxs[1:], strict=False):
            if t.starts[b] < t.ends[a]:
                shown = ", ".join(str(k) for k in key)
                what = "периоды действия пересекаются" if t.dated else "ключ повторяется"
                diags.error("E0606", f"таблица «{t.name}»: для ключа ({shown}) {what}",
                            Span.point(t.file, t.row_lines[b], 1),
                            related=[Related(Span.point(t.file, t.row_lines[a], 1), "пересекается со строкой")])
                return
