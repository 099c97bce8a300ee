"""Typed, bound input data: one table per entity, relations resolved to row indices.

Raw inputs are columns of strings (as read from XML/CSV) or already-typed numpy arrays;
the package's schema decides the types. Conversion problems are reported by entity,
row key and field — never with the value of a personal-data field.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dsl.columns import Col, empty_dtype, encode_strings
from dsl.types import Type
from engine.runtime.schema import EntityDef

MAX_REPORTED = 50


@dataclass
class DataProblem:
    entity: str
    row_key: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.entity
        if self.row_key is not None:
            where += f" [{self.row_key}]"
        if self.field:
            where += f".{self.field}"
        return f"{where}: {self.message}"


class DataError(Exception):
    def __init__(self, problems: list[DataProblem]) -> None:
        self.problems = problems
        more = "" if len(problems) < MAX_REPORTED else f"\n… (показаны первые {MAX_REPORTED})"
        super().__init__("ошибки во входных данных:\n" + "\n".join(f"  {p}" for p in problems) + more)


@dataclass
class EntityData:
    name: str
    n: int
    cols: dict[str, Col]
    keys: np.ndarray                     # object array of row keys
    as_of: np.ndarray | None = None      # days since epoch per row
    rel: dict[str, np.ndarray] = field(default_factory=dict)

    def row_index(self, key: str) -> int | None:
        hits = np.nonzero(self.keys == key)[0]
        return int(hits[0]) if len(hits) else None


@dataclass
class Dataset:
    entities: dict[str, EntityData]

    def n(self, entity: str) -> int:
        return self.entities[entity].n if entity in self.entities else 0


def _convert_column(raw, typ: Type, ent: str, fname: str, keys: np.ndarray, personal: bool,
                    problems: list[DataProblem]) -> Col:
    if isinstance(raw, Col):
        return raw
    arr = np.asarray(raw)
    n = arr.shape[0]
    if arr.dtype != object and arr.dtype.kind != "U":
        if typ.kind == "date" and arr.dtype.kind == "M":
            return Col(typ, arr.astype("datetime64[D]").astype(np.int64))
        return Col(typ, arr.astype(empty_dtype(typ.kind)))
    if arr.dtype.kind == "U":
        arr = arr.astype(object)
    missing = np.equal(arr, None) | np.equal(arr, "")
    if missing.any() and not typ.optional:
        i = int(np.nonzero(missing)[0][0])
        problems.append(DataProblem(ent, str(keys[i]), fname, "обязательное поле не заполнено"))
    k = typ.kind
    if k in ("code", "text"):
        col = encode_strings(np.where(missing, None, arr), typ)
        return Col(typ, col.data, col.missing, col.cats)
    filled = np.where(missing, _FILL[k], arr)
    try:
        if k == "date":
            data = np.array(filled, dtype="datetime64[D]").astype(np.int64)
        elif k == "bool":
            low = np.char.lower(filled.astype(str))
            ok = np.isin(low, ["0", "1", "true", "false"])
            if not ok.all():
                raise ValueError
            data = np.isin(low, ["1", "true"])
        elif k == "int":
            data = filled.astype(str).astype(np.int64)
        elif k == "number":
            data = filled.astype(str).astype(np.float64)
        else:  # money
            data = _kopecks(filled.astype(str).astype(np.float64), lambda i: arr[i], ent, fname, keys, personal,
                            problems)
    except (ValueError, OverflowError):          # OverflowError: an integer beyond int64
        _find_bad(filled, missing, k, ent, fname, keys, personal, problems)
        data = np.zeros(n, dtype=empty_dtype(k))
    return Col(typ, data, missing if missing.any() else None)


def _convert_arrow(col, table, typ: Type, ent: str, fname: str, keys: np.ndarray, personal: bool,
                   problems: list[DataProblem]) -> Col:
    """``_convert_column`` of an Arrow string column, same result; the numpy path when not sure."""
    from engine.runtime import dataset_arrow as da

    k = typ.kind
    missing = da.missing_mask(col)
    got = None if k in ("code", "text", "bool") else da.typed(col, typ, missing)
    if k not in ("code", "text") and got is None:
        return _convert_column(table[fname], typ, ent, fname, keys, personal, problems)
    if missing.any() and not typ.optional:
        i = int(np.nonzero(missing)[0][0])
        problems.append(DataProblem(ent, str(keys[i]), fname, "обязательное поле не заполнено"))
    if k in ("code", "text"):
        return da.codes(col, typ, missing)
    assert got is not None
    data = got[0]
    if k == "money":
        data = _kopecks(data, lambda i: col[i].as_py(), ent, fname, keys, personal, problems)
    return Col(typ, data, missing if missing.any() else None)


def _kopecks(rubles: np.ndarray, shown_at, ent: str, fname: str, keys: np.ndarray, personal: bool,
             problems: list[DataProblem]) -> np.ndarray:
    """Rubles (float64) → int kopecks; a sum with more than two decimals is reported.

    The parsed double of a two-decimal sum, times 100, lies within a few units in the last place
    of an integer, so the tolerance scales with the magnitude (a fixed 1e-6 rejected sums above
    ≈ 10^8 ₽, e.g. an account total of 137 212 288,11); a third decimal digit is ≥ 0.1 kopeck off.
    Beyond 2^53 kopecks a double no longer holds every kopeck: such a sum is refused, never rounded."""
    f = rubles * 100.0
    too_big = np.abs(f) >= _EXACT_KOPECKS
    data = np.round(np.where(too_big, 0.0, f)).astype(np.int64)
    bad = ~too_big & (np.abs(f - data) > np.maximum(1e-6, 8 * np.spacing(np.abs(f))))
    for mask, text in ((too_big, "слишком велика для точного учёта в копейках"),
                       (bad, "имеет больше двух знаков после запятой")):
        if mask.any():
            i = int(np.nonzero(mask)[0][0])
            shown = "" if personal else f" «{shown_at(i)}»"
            problems.append(DataProblem(ent, str(keys[i]), fname, f"сумма{shown} {text}"))
    return data


_EXACT_KOPECKS = float(2 ** 53)


_FILL = {"date": "1970-01-01", "bool": "0", "int": "0", "number": "0", "money": "0"}


def _find_bad(filled, missing, kind, ent, fname, keys, personal, problems) -> None:
    from engine.runtime.values import ValueError_, convert

    for i, v in enumerate(filled):
        if missing[i]:
            continue
        try:
            if kind == "date":
                np.datetime64(str(v), "D")
                if len(str(v)) != 10:
                    raise ValueError
            else:
                x = convert(v, Type(kind))
                if kind in ("int", "money") and x is not None and not -2**63 <= x < 2**63:
                    raise ValueError
        except (ValueError, ValueError_):
            shown = "" if personal else f" «{v}»"
            what = {"date": "дата (ГГГГ-ММ-ДД)", "int": "целое число", "number": "число",
                    "money": "денежная сумма", "bool": "логическое значение"}[kind]
            problems.append(DataProblem(ent, str(keys[i]), fname, f"значение{shown} — не {what}"))
            if len(problems) >= MAX_REPORTED:
                return


def bind(entities: dict[str, EntityDef], raw: dict[str, dict[str, object]]) -> Dataset:
    """Type the raw tables by the schema and resolve relations; raises DataError."""
    problems: list[DataProblem] = []
    out: dict[str, EntityData] = {}
    for name, ent in entities.items():
        table = raw.get(name)
        if table is None:
            table = {f: np.array([], dtype=object) for f in ent.fields}
        key_raw = table.get(ent.key)
        n = len(next(iter(table.values()))) if table else 0
        if key_raw is None:
            keys = np.array([str(i + 1) for i in range(n)], dtype=object)
        elif isinstance(key_raw, Col):
            from dsl.columns import code_strings

            keys = code_strings(key_raw)
        else:
            keys = np.asarray(key_raw).astype(object)
        cols: dict[str, Col] = {}
        for fname, fdef in ent.fields.items():
            if fname == ent.key and key_raw is None:
                cols[fname] = encode_strings(keys, fdef.type)
                continue
            arrow = getattr(table, "arrow", None)  # engine.oms.io.arrowdata.ArrowColumns: typed without Python per value
            column = table.get(fname) if arrow is None or fname not in table else arrow(fname)
            if column is None:
                if fdef.type.optional:
                    cols[fname] = Col(fdef.type, np.zeros(n, dtype=empty_dtype(fdef.type.kind)),
                                      np.ones(n, dtype=bool),
                                      np.array([], dtype=object) if fdef.type.kind in ("code", "text") else None)
                    continue
                if n:
                    problems.append(DataProblem(name, None, fname, "в данных нет обязательного поля"))
                cols[fname] = Col(fdef.type, np.zeros(n, dtype=empty_dtype(fdef.type.kind)), None,
                                  np.array([], dtype=object) if fdef.type.kind in ("code", "text") else None)
                continue
            if len(column) != n:
                problems.append(DataProblem(name, None, fname, f"длина столбца {len(column)} ≠ {n}"))
                continue
            if arrow is not None:
                cols[fname] = _convert_arrow(column, table, fdef.type, name, fname, keys, fdef.personal, problems)
                continue
            cols[fname] = _convert_column(column, fdef.type, name, fname, keys, fdef.personal, problems)
        if len(set(keys.tolist())) != n:
            uniq, counts = np.unique(keys.astype(str), return_counts=True)
            problems.append(DataProblem(name, str(uniq[counts > 1][0]), ent.key, "ключ строки повторяется"))
        as_of = None
        if ent.as_of is not None and ent.as_of in cols:
            as_of = np.asarray(cols[ent.as_of].data, dtype=np.int64)
        out[name] = EntityData(name, n, cols, keys, as_of)
    for name, ent in entities.items():
        for rel in ent.relations.values():
            target = out[rel.entity]
            via = out[name].cols.get(rel.via)
            out[name].rel[rel.name] = _resolve(out[name], via, target, rel.name, problems, rel.optional)
    if problems:
        raise DataError(problems[:MAX_REPORTED])
    return Dataset(out)


def _resolve(src: EntityData, via: Col | None, target: EntityData, rel: str,
             problems: list[DataProblem], optional: bool = False) -> np.ndarray:
    if via is None or src.n == 0:
        return np.full(src.n, -1, dtype=np.int64)
    from dsl.columns import code_strings

    refs = code_strings(via) if via.type.kind in ("code", "text") else np.asarray(via.data).astype(str)
    tkeys = target.keys.astype(str)
    order = np.argsort(tkeys, kind="stable")
    sorted_keys = tkeys[order]
    refs_s = np.where(refs == None, "", refs).astype(str)  # noqa: E711
    pos = np.searchsorted(sorted_keys, refs_s)
    pos_c = np.clip(pos, 0, max(len(sorted_keys) - 1, 0))
    found = (pos < len(sorted_keys)) & (sorted_keys[pos_c] == refs_s) if len(sorted_keys) else \
        np.zeros(src.n, dtype=bool)
    idx = np.where(found, order[pos_c] if len(order) else 0, -1).astype(np.int64)
    empty = refs_s == ""
    if empty.any() and not optional:
        i = int(np.nonzero(empty)[0][0])
        problems.append(DataProblem(src.name, str(src.keys[i]), rel, f"нет ссылки на строку «{target.name}»"))
    absent = (~found) & ~empty
    if absent.any() and not optional:
        i = int(np.nonzero(absent)[0][0])
        problems.append(DataProblem(src.name, str(src.keys[i]), rel,
                                    f"ссылка на «{refs_s[i]}», которой нет среди строк «{target.name}»"))
    return idx


def read_csv_dir(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """Raw tables from a directory of <entity>.csv files (UTF-8, header row)."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for f in sorted(Path(path).glob("*.csv")):
        with f.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        if not rows:
            continue
        header = [h.strip() for h in rows[0]]
        body = rows[1:]
        out[f.stem] = {h: np.array([(r[i] if i < len(r) and r[i] != "" else None) for r in body], dtype=object)
                       for i, h in enumerate(header)}
    return out
