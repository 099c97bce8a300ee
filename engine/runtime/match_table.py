"""Rule tables (`kind: match` in a tables file): every CSV row is a rule whose non-empty cells
are conditions, matched against the rows of a parent entity (see engine/runtime/match.py).

A match column is one of
- `icd`: an ICD-10 code (exact: `Z34`, `Z34.0`, `S36.10`), a letter class (`C.`) or a range of
  three-character rubrics (`C00-C80`, inclusive at both ends), compared with any of the bound
  diagnoses;
- `code`: exact equality with any of the bound codes (services, criteria).
An empty cell is no condition. Columns that are not match columns are plain table columns; the
package filters on them in the rule language (age, sex, duration). The CSV is read into numpy
columns (no per-row objects), so tens of thousands of rules compile in a fraction of a second.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dsl.columns import Col, empty_dtype
from dsl.diagnostics import Diagnostics, Span
from dsl.types import Type, parse_type_name
from engine.runtime.params import FAR_FUTURE
from engine.runtime.tables import TableDef, _field_columns
from engine.runtime.yamlpos import Located

MATCH_KINDS = ("icd", "code")
MAX_REPORTED = 20
_EXACT = re.compile(r"^[A-Z][0-9]{2}(\.[0-9]{1,2})?$")
_CLASS = re.compile(r"^[A-Z]\.$")
_RANGE = re.compile(r"^([A-Z][0-9]{2})-([A-Z][0-9]{2})$")
EMPTY, EXACT, CLASS, RANGE = 0, 1, 2, 3


def rubric_number(code: str) -> int:
    """A three-character rubric as an ordered integer: C80 → ord('C') * 100 + 80."""
    digits = code[1:3]        # ASCII digits only: int() refuses some characters isdigit() accepts (²)
    return ord(code[0]) * 100 + int(digits) if len(code) >= 3 and digits.isascii() and digits.isdigit() else -1


@dataclass
class Binding:
    column: str
    kind: str                    # icd | code
    sources: list[tuple[str, Span]]   # parent field/definition, or child.field
    span: Span


@dataclass
class MatchSpec:
    entity: str
    parent: str
    when: tuple[str, Span] | None
    bindings: list[Binding]
    span: Span
    label: str | None = None


@dataclass
class IcdFeatures:
    kind: np.ndarray          # int8 EMPTY/EXACT/CLASS/RANGE per row
    exact: np.ndarray         # int32 id into cats (EXACT rows), -1 otherwise
    cats: np.ndarray          # sorted exact codes (str)
    letter: np.ndarray        # int32 ord of the class letter (CLASS rows)
    lo: np.ndarray            # int32 rubric numbers (RANGE rows)
    hi: np.ndarray


@dataclass
class CodeFeatures:
    ids: np.ndarray           # int32 id into cats, -1 = empty
    cats: np.ndarray


@dataclass
class MatchTable(TableDef):
    spec: MatchSpec | None = None
    features: dict[str, IcdFeatures | CodeFeatures] = field(default_factory=dict)
    allowed: dict[str, tuple[list[str], Span]] = field(default_factory=dict)
    references: dict[str, tuple[str, Span]] = field(default_factory=dict)
    raw: dict[str, np.ndarray] = field(default_factory=dict)     # column → cell strings
    cell_cols: list[list[int]] = field(default_factory=list)     # lazily: 1-based column per field
    header: list[str] = field(default_factory=list)
    raw_lines: list[str] = field(default_factory=list)
    anchor_col: np.ndarray | None = None    # index into combos, -1 = group/all
    combos: list = field(default_factory=list)   # (binding, None) or (binding, binding)
    anchor_val: np.ndarray | None = None

    def cell(self, row: int, column: str) -> Span:
        """Position of one cell: file, line, column."""
        line = self.row_lines[row]
        i = self.header.index(column)
        cols = _field_columns(self.raw_lines[line - 1])
        return Span.point(self.file, line, cols[i] if i < len(cols) else 1, max(len(str(self.raw[column][row])), 1))


class _LazyRows:
    """Rows as dicts on demand (diff and generic tools iterate rows; the engine never does)."""

    def __init__(self, t: MatchTable) -> None:
        self.t = t

    def __len__(self) -> int:
        return len(self.t.row_lines)

    def __getitem__(self, i: int) -> dict:
        return {c: self.t.cols[c].value_at(i) for c in self.t.columns}

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def _opt(f: dict, key: str) -> str | None:
    v = f.get(key)
    return None if v is None or v.value is None else str(v.value)


def declare_match_table(name: str, node: Located, pkg_dir: Path, display_dir: str, package: str,
                        diags: Diagnostics, roots: list[Path] | None = None) -> MatchTable | None:
    f = node.value
    for req in ("file", "key", "columns", "match"):
        if req not in f:
            diags.error("E0601", f"таблица правил «{name}»: не указано поле «{req}»", node.span)
            return None
    cols: dict[str, Type] = {}
    for cname, tnode in (f["columns"].value or {}).items():
        t = parse_type_name(str(tnode.value))
        if t is None:
            diags.error("E0207", f"таблица «{name}», столбец «{cname}»: неизвестный тип «{tnode.value}»", tnode.span)
            continue
        cols[cname] = t
    raw_key = f["key"].value
    if isinstance(raw_key, list) and len(raw_key) != 1:
        diags.error("E0601", f"таблица правил «{name}»: ключ — один столбец (номер строки), указано "
                    f"{len(raw_key)}", f["key"].span)
        return None
    key = str(raw_key[0].value if isinstance(raw_key, list) else raw_key)
    if key not in cols or cols[key].kind != "int":
        diags.error("E0601", f"таблица правил «{name}»: ключ — номер строки, столбец типа int из columns",
                    f["key"].span)
        return None
    spec = _spec(name, f["match"], cols, diags)
    if spec is None:
        return None
    t = MatchTable(name, f"{display_dir}/{f['file'].value}", [key], cols, _opt(f, "label"), _opt(f, "reference"),
                   "valid" in f, node.span, package, bool(f["override"].value) if "override" in f else False,
                   spec=spec)
    for cname, vnode in (f["values"].value.items() if "values" in f and isinstance(f["values"].value, dict) else []):
        if cname not in cols:
            diags.error("E0601", f"таблица правил «{name}»: values — нет столбца «{cname}»", vnode.span)
            continue
        t.allowed[cname] = ([str(x.value) for x in vnode.value] if isinstance(vnode.value, list) else [], vnode.span)
    for cname, rnode in (f["references"].value.items()
                         if "references" in f and isinstance(f["references"].value, dict) else []):
        t.references[cname] = (str(rnode.value), rnode.span)
    starts, ends = -(2**30), FAR_FUTURE
    if "valid" in f:
        from dsl.columns import EPOCH
        from engine.runtime.values import ValueError_, parse_date

        v = f["valid"].value if isinstance(f["valid"].value, dict) else {}
        try:
            if v.get("from") is not None:
                starts = (parse_date(str(v["from"].value)) - EPOCH).days
            if v.get("to") is not None and v["to"].value is not None:
                ends = (parse_date(str(v["to"].value)) - EPOCH).days + 1
        except ValueError_ as e:
            diags.error("E0603", f"таблица правил «{name}», valid: {e}", f["valid"].span)
    from engine.runtime.tables import read_table_text

    text = read_table_text(t, pkg_dir, str(f["file"].value), node.key_spans.get("file", node.span), diags, roots)
    if text is None or not _load(t, text, diags):
        return None
    n = len(t.row_lines)
    t.starts = np.full(n, starts, dtype=np.int64)
    t.ends = np.full(n, ends, dtype=np.int64)
    t.rows = _LazyRows(t)   # type: ignore[assignment]
    t._build_index()
    _check_unique_numbers(t, key, diags)
    _features(t, diags)
    _check_allowed(t, diags)
    _anchors(t)
    return t


def _spec(name: str, node: Located, cols: dict[str, Type], diags: Diagnostics) -> MatchSpec | None:
    m = node.value if isinstance(node.value, dict) else None
    if m is None or "entity" not in m or "parent" not in m or "bind" not in m:
        diags.error("E0601", f"таблица правил «{name}»: match — укажите entity, parent и bind", node.span)
        return None
    bindings = []
    for cname, bnode in (m["bind"].value.items() if isinstance(m["bind"].value, dict) else []):
        if cname not in cols:
            diags.error("E0601", f"таблица правил «{name}»: в match.bind столбец «{cname}», которого нет в columns",
                        m["bind"].key_spans[cname])
            continue
        b = bnode.value if isinstance(bnode.value, dict) and len(bnode.value) == 1 else None
        kind = next(iter(b)) if b else None
        if kind not in MATCH_KINDS:
            diags.error("E0601", f"таблица правил «{name}», столбец «{cname}»: ожидалось {{icd: [...]}} или "
                        "{code: [...]}", bnode.span)
            continue
        srcs = b[kind].value if isinstance(b[kind].value, list) else [b[kind]]
        bindings.append(Binding(cname, kind, [(str(s.value), s.span) for s in srcs], bnode.span))
    when = (str(m["when"].value), m["when"].span) if m.get("when") is not None else None
    return MatchSpec(str(m["entity"].value), str(m["parent"].value), when, bindings, node.span,
                     _opt(m, "label"))


def _load(t: MatchTable, text: str, diags: Diagnostics) -> bool:
    t.raw_lines = text.splitlines()
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    t.header = header
    for c in t.columns:
        if c not in header:
            diags.error("E0605", f"таблица «{t.name}»: в заголовке нет столбца «{c}»", Span.point(t.file, 1, 1))
            return False
    records, lines = [], []
    for rec in reader:
        if not any(rec) or (not rec[0].strip() and not any(x.strip() for x in rec)):
            continue
        if len(rec) != len(header):
            diags.error("E0605", f"таблица «{t.name}»: в строке {len(rec)} полей, в заголовке {len(header)}",
                        Span.point(t.file, reader.line_num, 1))
            continue
        records.append(rec)
        lines.append(reader.line_num)
    t.row_lines = lines
    n = len(records)
    by_col = list(zip(*records, strict=True)) if records else [() for _ in header]
    ok = True
    for c, typ in t.columns.items():
        strs = np.array(by_col[header.index(c)], dtype=object).astype(str) if n else np.array([], dtype=str)
        strs = np.char.strip(strs) if n else strs
        t.raw[c] = strs
        missing = strs == ""
        if typ.kind in ("code", "text"):
            cats, inv = np.unique(strs, return_inverse=True)
            data = inv.astype(np.int32)
            data[missing] = -1
            t.cols[c] = Col(typ.as_optional(bool(missing.any())), data, missing if missing.any() else None,
                            cats.astype(object))
            continue
        data = np.zeros(n, dtype=empty_dtype(typ.kind))
        try:
            data[~missing] = strs[~missing].astype(np.int64 if typ.kind == "int" else np.float64)
        except ValueError:
            for r in np.nonzero(~missing)[0]:
                try:
                    data[r] = int(strs[r]) if typ.kind == "int" else float(strs[r])
                except ValueError:
                    diags.error("E0605", f"таблица «{t.name}», столбец «{c}»: «{strs[r]}» — не число", t.cell(int(r), c))
                    ok = False
        t.cols[c] = Col(typ.as_optional(bool(missing.any())), data, missing if missing.any() else None)
    return ok


def _check_unique_numbers(t: MatchTable, key: str, diags: Diagnostics) -> None:
    nums = np.sort(np.asarray(t.cols[key].data))
    for u in np.unique(nums[1:][nums[1:] == nums[:-1]])[:MAX_REPORTED]:
        rows = np.nonzero(nums == u)[0]
        diags.error("E0606", f"таблица правил «{t.name}»: номер строки {u} повторяется", t.cell(int(rows[1]), key))


def _features(t: MatchTable, diags: Diagnostics) -> None:
    for b in t.spec.bindings:
        strs = t.raw[b.column]
        n = len(strs)
        if b.kind == "code":
            cats, inv = np.unique(strs, return_inverse=True)
            ids = inv.astype(np.int32)
            ids[strs == ""] = -1
            t.features[b.column] = CodeFeatures(ids, cats.astype(str))
            continue
        kind = np.zeros(n, dtype=np.int8)
        letter = np.zeros(n, dtype=np.int32)
        lo = np.zeros(n, dtype=np.int32)
        hi = np.zeros(n, dtype=np.int32)
        uniq, inv = np.unique(strs, return_inverse=True)
        u_kind = np.zeros(len(uniq), dtype=np.int8)
        u_let, u_lo, u_hi = (np.zeros(len(uniq), dtype=np.int32) for _ in range(3))
        for i, u in enumerate(uniq):
            if u == "":
                continue
            if _EXACT.match(u):
                u_kind[i] = EXACT
            elif _CLASS.match(u):
                u_kind[i], u_let[i] = CLASS, ord(u[0])
            elif (mr := _RANGE.match(u)) and rubric_number(mr.group(1)) <= rubric_number(mr.group(2)):
                u_kind[i], u_lo[i], u_hi[i] = RANGE, rubric_number(mr.group(1)), rubric_number(mr.group(2))
            else:
                for r in np.nonzero(inv == i)[0][:MAX_REPORTED]:
                    diags.error("E0605", f"таблица правил «{t.name}», столбец «{b.column}»: «{u}» — не код МКБ-10, "
                                "не класс «X.» и не диапазон рубрик «A00-B99» (начало не больше конца)",
                                t.cell(int(r), b.column))
        kind, letter, lo, hi = u_kind[inv], u_let[inv], u_lo[inv], u_hi[inv]
        exact_cats = np.unique(strs[kind == EXACT])
        exact = np.where(kind == EXACT, np.searchsorted(exact_cats, strs), -1).astype(np.int32)
        t.features[b.column] = IcdFeatures(kind, exact, exact_cats.astype(str), letter, lo, hi)


def _check_allowed(t: MatchTable, diags: Diagnostics) -> None:
    for c, (allowed, _span) in t.allowed.items():
        strs = t.raw[c]
        bad = (strs != "") & ~np.isin(strs, np.array(allowed, dtype=str))
        for r in np.nonzero(bad)[0][:MAX_REPORTED]:
            diags.error("E0605", f"таблица правил «{t.name}», столбец «{c}»: неизвестный код «{strs[r]}»; допустимы: "
                        + ", ".join(allowed), t.cell(int(r), c))


def check_references(tables: dict[str, TableDef], diags: Diagnostics) -> None:
    """Every value of a `references` column is a key of the named table (e.g. a КСГ of the list)."""
    for t in tables.values():
        if not isinstance(t, MatchTable):
            continue
        for c, (target, span) in t.references.items():
            ref = tables.get(target)
            if ref is None or len(ref.keys) != 1:
                diags.error("E0104", f"таблица правил «{t.name}»: references — нет таблицы «{target}» с одним ключом",
                            span)
                continue
            keys = ref.cols.get(ref.keys[0])
            if keys is None or c not in t.raw:      # a table that did not load: already reported
                continue
            known = np.asarray(keys.cats, dtype=str) if keys.cats is not None else np.asarray(keys.data).astype(str)
            strs = t.raw[c]
            bad = (strs != "") & ~np.isin(strs, known)
            for r in np.nonzero(bad)[0][:MAX_REPORTED]:
                diags.error("E0605", f"таблица правил «{t.name}», столбец «{c}»: «{strs[r]}» нет в таблице «{target}»",
                            t.cell(int(r), c))


def _exact_ids(t: MatchTable, j: int) -> np.ndarray:
    f = t.features[t.spec.bindings[j].column]
    return (f.ids if isinstance(f, CodeFeatures) else f.exact).astype(np.int64)


def combo_key(a: np.ndarray, b: np.ndarray | None, width_b: int) -> np.ndarray:
    """The join key of one cell (b is None) or of a pair of cells."""
    return a if b is None else (a + 1) * width_b + b


def _anchors(t: MatchTable) -> None:
    """Per rule, the exact-valued match cell — or pair of cells — with the fewest rules sharing
    its value: the join starts from it by a sorted search, the other cells are verified on the
    pairs found. A pair (main diagnosis, service) or (service, criterion) keeps a common service
    from pairing a case with every rule that names it."""
    n = len(t.row_lines)
    big = np.iinfo(np.int64).max
    best = np.full(n, big, dtype=np.int64)
    combo = np.full(n, -1, dtype=np.int32)
    key = np.full(n, -1, dtype=np.int64)
    m = len(t.spec.bindings)
    ids = [_exact_ids(t, j) for j in range(m)]
    widths = [len(t.features[b.column].cats) + 1 for b in t.spec.bindings]
    t.combos = [(j, None) for j in range(m)] + [(j, k) for j in range(m) for k in range(j + 1, m)]
    for ci, (j, k) in enumerate(t.combos):
        has = ids[j] >= 0 if k is None else (ids[j] >= 0) & (ids[k] >= 0)
        if not has.any():
            continue
        kv = combo_key(ids[j], None if k is None else ids[k], 0 if k is None else widths[k])
        _, inv, counts = np.unique(np.where(has, kv, -1), return_inverse=True, return_counts=True)
        freq = np.where(has, counts[inv.reshape(-1)], big)
        better = freq < best
        best = np.where(better, freq, best)
        combo = np.where(better, ci, combo)
        key = np.where(better, kv, key)
    t.anchor_col, t.anchor_val = combo, key
