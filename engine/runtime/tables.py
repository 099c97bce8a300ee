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
from engine.runtime.params import FAR_FUTURE
from engine.runtime.values import ValueError_, convert
from engine.runtime.yamlpos import Located


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
        """The key index, built once at load (a compiled methodology is read-only while evaluating).

        Each key column has its own key space — the table's dictionary for codes, its sorted
        distinct values otherwise — and a key tuple is a mixed-radix id over them (0 = a value the
        table does not have). Every id has its versions: `first` (position in `order`, the rows
        sorted by key and start) and `count`. When the id space is small (the rule: a few hundred
        codes) these are dense arrays indexed by id, so a lookup is a few gathers and never a
        search over the table's rows."""
        n = len(self.rows)
        spaces, t_ids = [], np.zeros(n, dtype=np.int64)
        for kname in self.keys:
            t = self.cols[kname]
            if t.type.kind in ("code", "text"):
                space = t.cats.astype(str)
                td = np.asarray(t.data, dtype=np.int64) + 1
            else:
                space = np.unique(np.asarray(t.data))
                td = np.searchsorted(space, np.asarray(t.data)) + 1
            spaces.append(space)
            t_ids = t_ids * (len(space) + 1) + td
        order = np.lexsort((self.starts, t_ids))
        uniq, first, counts = np.unique(t_ids[order], return_index=True, return_counts=True)
        size = 1
        for sp in spaces:
            size *= len(sp) + 1
        self._t_ids = t_ids
        self._index = {"order": order, "uniq": uniq, "first": first, "counts": counts, "spaces": spaces,
                       "starts": self.starts[order], "ends": self.ends[order],
                       "undated": bool((self.starts <= -(2**30)).all() and (self.ends >= FAR_FUTURE).all()),
                       "max_count": int(counts.max()) if len(counts) else 0}
        if size <= DENSE_IDS:
            d_first = np.zeros(size, dtype=np.int64)
            d_count = np.zeros(size, dtype=np.int64)
            d_first[uniq], d_count[uniq] = first, counts
            d_row = np.full(size, -1, dtype=np.int64)
            d_row[uniq] = order[first]       # the only (undated: first) version
            self._index.update(dense=True, d_first=d_first, d_count=d_count, d_row=d_row)
            if not self._index["undated"]:
                self._build_epochs(size, t_ids)
        else:
            self._index["dense"] = False

    def _build_epochs(self, size: int, t_ids: np.ndarray) -> None:
        """Per-key validity as a matrix key id × epoch → row in force (−1: none), where epochs
        are the spans between the table's distinct DATEBEG/DATEEND. A dated lookup is then the
        row date's epoch (a comparison per boundary) and one gather."""
        bounds = np.unique(np.concatenate([self.starts[self.starts > -(2**30)], self.ends[self.ends < FAR_FUTURE]]))
        n_epochs = len(bounds) + 1
        if size * n_epochs > DENSE_IDS or len(bounds) > MAX_EPOCH_BOUNDS:
            return
        first = np.searchsorted(bounds, self.starts, side="right")
        first[self.starts <= -(2**30)] = 0
        stop = np.searchsorted(bounds, self.ends, side="right")
        stop[self.ends >= FAR_FUTURE] = n_epochs
        by_epoch = np.full((size, n_epochs), -1, dtype=np.int64)
        for r in range(len(t_ids)):
            by_epoch[t_ids[r], first[r]:stop[r]] = r
        self._index.update(bounds=bounds, by_epoch=by_epoch)

    # -- lookup --------------------------------------------------------------
    def _key_ids(self, key_cols: list[Col]) -> np.ndarray:
        """Ids of the queried key tuples in the table's key space (0 in a part the table lacks).

        A single dictionary-coded key is mapped per distinct query value and then spread to the
        rows with one gather."""
        spaces = self._index["spaces"]
        q_ids = None
        for space, t, q in zip(spaces, (self.cols[k] for k in self.keys), key_cols, strict=True):
            qd = _space_positions(space, t, q)
            if q.missing is not None:
                qd = np.where(q.missing, 0, qd)      # an absent key part finds no row
            q_ids = qd if q_ids is None else q_ids * (len(space) + 1) + qd
        return q_ids if q_ids is not None else np.zeros(0, dtype=np.int64)

    def rows_by_value(self, key_cols: list[Col], days: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
        """The lookup as (rows, index) with row per query = rows[index]: `rows` is small — one
        entry per distinct code of a single code key (× epoch for a dated table) — so a caller
        can take a column of the table at those few rows and spread the values with one gather.
        None when the shape does not allow it (then use find)."""
        ix = self._index
        if len(key_cols) != 1 or len(self.rows) == 0 or not ix["dense"] or \
                not (ix["undated"] or "by_epoch" in ix):
            return None
        per_value = per_value_codes(key_cols)
        if per_value is None:
            return None
        qcodes, spread = per_value
        ids = self._key_ids([qcodes])
        if ix["undated"]:
            return ix["d_row"][ids], spread
        bounds = ix["bounds"]
        n_epochs = len(bounds) + 1
        day = np.zeros(len(spread), dtype=np.int64) if days is None else np.asarray(days)
        if len(bounds) <= 8:
            epoch = np.zeros(len(day), dtype=np.int64)
            for b in bounds:
                epoch += day >= b
        else:
            epoch = np.searchsorted(bounds, day, side="right")
        rows = ix["by_epoch"][ids].ravel()
        spread = np.where(spread < 0, len(ids) - 1, spread)      # «absent» is the last code
        return rows, spread * n_epochs + epoch

    def find(self, key_cols: list[Col], days: np.ndarray | None) -> np.ndarray:
        """Row index per query (-1 when no row is in force for that key at that date)."""
        nq = len(key_cols[0]) if key_cols else 0
        if len(self.rows) == 0 or nq == 0:
            return np.full(nq, -1, dtype=np.int64)
        by_value = self.rows_by_value(key_cols, days)
        if by_value is not None:
            rows, index = by_value
            return rows[index]
        ix = self._index
        ids = self._key_ids(key_cols)
        if ix["dense"]:
            if ix["undated"]:
                return ix["d_row"][ids]
            first, count = ix["d_first"][ids], ix["d_count"][ids]
        else:
            pos = np.searchsorted(ix["uniq"], ids)
            pos_c = np.clip(pos, 0, len(ix["uniq"]) - 1)
            known = ix["uniq"][pos_c] == ids
            first = ix["first"][pos_c]
            count = np.where(known, ix["counts"][pos_c], 0)
        if days is None:
            days = np.zeros(nq, dtype=np.int64)
        slot = first
        last = len(ix["order"]) - 1
        for j in range(1, ix["max_count"]):
            nxt = np.minimum(first + j, last)
            slot = np.where((j < count) & (days >= ix["starts"][nxt]), first + j, slot)
        ok = (count > 0) & (days >= ix["starts"][slot]) & (days < ix["ends"][slot])
        return np.where(ok, ix["order"][slot], -1)

    def column_at(self, column: str, rows: np.ndarray) -> Col:
        c = self.cols[column]
        safe = np.clip(rows, 0, None)
        missing = rows < 0
        if c.missing is not None:
            missing = missing | c.missing[safe]
        data = np.take(np.asarray(c.data), safe) if len(c.data) else np.zeros(len(rows), dtype=np.asarray(c.data).dtype)
        return Col(c.type.as_optional(True), data, missing, c.cats)


DENSE_IDS = 1 << 22     # key-id spaces up to this size get dense id → version arrays
MAX_EPOCH_BOUNDS = 256  # distinct validity dates up to which a dated table gets the epoch matrix


def per_value_codes(key_cols: list[Col]) -> tuple[Col, np.ndarray] | None:
    """A code key as its distinct values (the dictionary, plus «absent» last) and the position of
    each row among them — so the table is consulted once per distinct code, not once per row."""
    q = key_cols[0]
    if q.type.kind not in ("code", "text") or q.cats is None or len(q.cats) > len(q) // 4 + 16:
        return None
    data = np.asarray(q.data)
    spread = data if q.missing is None else np.where(q.missing, -1, data)    # -1 → the last entry
    codes = Col(q.type, np.append(np.arange(len(q.cats), dtype=np.int32), np.int32(-1)), None, q.cats)
    return codes, spread


def _space_positions(space: np.ndarray, t: Col, q: Col) -> np.ndarray:
    """1-based position of each queried value in a key column's space (0 = not in the table)."""
    if t.type.kind in ("code", "text"):
        qcats = q.cats.astype(str) if q.cats is not None else np.array([], dtype=str)
        where = np.searchsorted(space, qcats)
        where_c = np.clip(where, 0, max(len(space) - 1, 0))
        hit = (where < len(space)) & (space[where_c] == qcats) if len(space) else np.zeros(len(qcats), bool)
        per_cat = np.append(np.where(hit, where_c + 1, 0), 0)     # the last entry: an absent value (-1)
        qv = np.asarray(q.data)
        return per_cat[qv].astype(np.int64) if len(qv) else np.zeros(0, np.int64)
    qv = np.asarray(q.data)
    if t.type.kind == "money" and q.type.kind == "int":
        qv = qv * 100
    if len(space) == 0:
        return np.zeros(len(qv), dtype=np.int64)
    if len(space) <= 8:           # a few values (usl_ok, a level): comparisons beat a binary search
        pos = np.zeros(len(qv), dtype=np.int64)
        for i, v in enumerate(space):
            pos[qv == v] = i + 1
        return pos
    pos = np.searchsorted(space, qv)
    pos_c = np.clip(pos, 0, len(space) - 1)
    return np.where(space[pos_c] == qv, pos_c + 1, 0)


def declare_table(name: str, node: Located, pkg_dir: Path, display_dir: str, package: str,
                  diags: Diagnostics, roots: list[Path] | None = None) -> TableDef | None:
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
    text = read_table_text(t, pkg_dir, file, node.key_spans.get("file", node.span), diags, roots)
    if text is not None:
        _load_csv(t, text, diags)
    return t


def read_table_text(t, pkg_dir: Path, file: str, span: Span, diags: Diagnostics, roots: list[Path] | None) -> str | None:
    """The text of a table's file (engine/runtime/pkgfiles.py: it must stay inside the package)."""
    from engine.runtime.pkgfiles import read_text

    try:
        return read_text(pkg_dir, file, span, diags, f"таблица «{t.name}»", roots)
    except FileNotFoundError:
        diags.error("E0602", f"таблица «{t.name}»: файл не найден: {t.file}", t.span)
    except UnicodeDecodeError as e:
        diags.error("E0601", f"таблица «{t.name}»: файл не в UTF-8 (байт {e.start})", Span.point(t.file, 1, 1))
    return None


def _field_columns(raw_line: str) -> list[int]:
    """1-based column where each CSV field starts in a raw line (quotes respected)."""
    cols, in_q = [1], False
    for i, ch in enumerate(raw_line):
        if ch == '"':
            in_q = not in_q
        elif ch == "," and not in_q:
            cols.append(i + 2)
    return cols


def _load_csv(t: TableDef, text: str, diags: Diagnostics) -> None:
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
    from engine.runtime.values import parse_date

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
