"""The data a report form is evaluated over: a run seen as one Dataset.

A form's cells are expressions of the rule language evaluated in the global context
(no current row). They read a *form world*: a methodology whose schema is the run's
methodology schema, widened with what the run produced, and a Dataset bound to it:

* every entity of the methodology with its input fields, **plus its computed outputs as
  ordinary fields** (``case.cost``, ``case.kz`` …; definitions are materialised, not
  re-evaluated — the form reads the run, it does not recompute it);
* on ``case`` the settlement: ``billed``, ``withheld``, ``accepted``, ``fine`` (money),
  ``defects`` (int, number of defects carried to the case) and ``reason`` (optional code:
  the defect code whose withholding was applied — one ground per position, 231н);
* an entity ``defect``: one row per defect of the defects table with ``code``, ``title``,
  ``check``, ``entity`` (where the check ran), ``row`` (that row's key), ``share``,
  ``withheld``, ``fine`` (money), ``applied`` (bool: this defect's withholding is the one
  applied to its case) and ``has_case``; relation ``case`` to the case the defect concerns
  (a defect on a service or SL points to its case; one on an account or a patient covers
  several cases and points to none — ``has_case`` is false);
* extra entities a form declares (``inputs:``), e.g. a plan CSV for plan-fact tables.

Parameters and tables of the methodology stay available, so a form may also be evaluated
over the methodology alone (the tariff appendix): :func:`methodology_world`.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from dsl.columns import Col, empty_dtype, encode_strings
from dsl.diagnostics import Span
from dsl.symbols import AttrInfo, EntityInfo, Symbols
from dsl.types import BOOL, CODE, INT, MONEY, NUMBER, TEXT, Type
from engine.runtime.dataset import Dataset, EntityData
from engine.runtime.model import Methodology
from engine.runtime.schema import EntityDef, FieldDef, RelationDef
from engine.runtime.values import convert

CASE = "case"
DEFECT = "defect"
SETTLEMENT_FIELDS: dict[str, tuple[Type, str]] = {
    "billed": (MONEY, "Выставлено к оплате"),
    "withheld": (MONEY, "Не принято к оплате (МЭК)"),
    "accepted": (MONEY, "Принято к оплате"),
    "fine": (MONEY, "Штраф"),
    "defects": (INT, "Число дефектов случая"),
    "reason": (CODE.as_optional(True), "Код дефекта, по которому применена неоплата"),
}
DEFECT_FIELDS: dict[str, tuple[Type, str]] = {
    "code": (CODE, "Код основания (F014)"),
    "title": (TEXT, "Наименование основания"),
    "check": (CODE, "Имя проверки"),
    "entity": (CODE, "Сущность, на которой сработала проверка"),
    "row": (CODE, "Ключ строки"),
    "share": (NUMBER, "Доля неоплаты"),
    "withheld": (MONEY, "Сумма неоплаты по дефекту"),
    "fine": (MONEY, "Штраф по дефекту"),
    "applied": (BOOL, "Неоплата по этому дефекту применена к случаю"),
    "has_case": (BOOL, "Дефект относится к одному случаю"),
}
_SPAN = Span.point("<форма>", 1, 1)


class WorldError(Exception):
    """The run cannot be read as a form world (message in Russian)."""


@dataclass
class RunData:
    """What a run produced, aligned to its bound Dataset."""

    methodology: Methodology
    data: Dataset
    values: dict[str, dict[str, Col]]                       # computed outputs per entity
    settlement: dict[str, np.ndarray] | None = None         # per case row: billed … fine (kopecks)
    defects: list[dict] = field(default_factory=list)       # rows: entity, row, check, code, title, share,
    info: dict = field(default_factory=dict)                # withheld, fine (kopecks)


@dataclass
class FormWorld:
    methodology: Methodology          # widened schema; no definitions (everything is data)
    data: Dataset
    base: Methodology
    info: dict = field(default_factory=dict)
    context_day: int | None = None


# ---- sources ----------------------------------------------------------------------------

def run_data_from_result(res) -> RunData:
    """From an in-memory ``engine.oms.pipeline.PipelineResult``."""
    if res.run is None:
        raise WorldError(f"расчёт не выполнен (статус {res.status}) — форму строить не из чего")
    s = res.settlement
    settlement = None
    if s is not None:
        settlement = {"billed": s.billed, "withheld": s.withheld, "accepted": s.accepted, "fine": s.fine,
                      "applied": list(s.applied)}
    defects = [{"entity": d.entity, "row": d.row_key, "check": d.check, "code": d.code, "title": d.title,
                "share": float(d.share), "withheld": int(d.withheld), "fine": int(d.fine)}
               for d in res.run.defects.defects]
    return RunData(res.run.methodology, res.run.data, res.run.values, settlement, defects,
                   {"inputs": res.input_hashes})


def run_data_from_dir(run_dir: Path, m: Methodology, data: Dataset) -> RunData:
    """From the output directory of ``metodika run`` plus the run's input data bound again.

    Computed values come from ``<entity>.csv``, settlement from ``case_settlement.csv``,
    defects from ``defects.json``; nothing is recomputed.
    """
    info_path = run_dir / "run.json"
    if not info_path.is_file():
        raise WorldError(f"{run_dir}: нет run.json — это не каталог результатов metodika run")
    info = json.loads(info_path.read_text(encoding="utf-8"))
    if info.get("status", "done") != "done":
        raise WorldError(f"{run_dir}: расчёт завершился со статусом {info.get('status')} — форм нет")
    if info.get("methodology_hash") and info["methodology_hash"] != m.content_hash:
        raise WorldError(f"{run_dir}: расчёт выполнен по методике {info.get('methodology')} "
                         f"(sha256 {info['methodology_hash'][:12]}…), а загружена {m.ref} "
                         f"(sha256 {m.content_hash[:12]}…)")
    values: dict[str, dict[str, Col]] = {}
    for ent, ed in data.entities.items():
        path = run_dir / f"{ent}.csv"
        if not path.is_file():
            continue
        header, rows = _read_csv(path)
        if not header or header[0] != "key":
            continue
        order = _align(ed.keys, [r[0] for r in rows], path)
        values[ent] = {}
        for j, name in enumerate(header[1:], start=1):
            d = m.defs.get((ent, name))
            typ = d.type if d is not None else (m.entities[ent].fields[name].type
                                                if name in m.entities[ent].fields else None)
            if typ is None:
                continue
            texts = [rows[i][j] for i in order]
            values[ent][name] = col_from_values([None if t == "—" else convert(t, typ) for t in texts], typ)
    settlement = None
    spath = run_dir / "case_settlement.csv"
    if spath.is_file() and CASE in data.entities:
        header, rows = _read_csv(spath)
        order = _align(data.entities[CASE].keys, [r[0] for r in rows], spath)
        settlement = {k: np.array([convert(rows[i][header.index(k)], MONEY) for i in order], dtype=np.int64)
                      for k in ("billed", "withheld", "accepted", "fine")}
        if "applied" not in header:
            raise WorldError(f"{spath}: нет столбца applied (основание, по которому применена неоплата)")
        col = header.index("applied")
        settlement["applied"] = [rows[i][col] or None for i in order]
    defects = []
    dpath = run_dir / "defects.json"
    if dpath.is_file():
        for r in json.loads(dpath.read_text(encoding="utf-8")):
            defects.append({**r, "withheld": convert(r["withheld"], MONEY), "fine": convert(r["fine"], MONEY),
                            "share": float(r["share"])})
    return RunData(m, data, values, settlement, defects, info)


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return (rows[0], rows[1:]) if rows else ([], [])


def _align(keys: np.ndarray, file_keys: list[str], path: Path) -> list[int]:
    pos = {k: i for i, k in enumerate(file_keys)}
    out = []
    for k in keys:
        i = pos.get(str(k))
        if i is None:
            raise WorldError(f"{path}: нет строки с ключом «{k}» — результаты расчёта не соответствуют реестру")
        out.append(i)
    return out


def col_from_values(values: list, typ: Type) -> Col:
    """A column from typed Python values (money in kopecks, dates in days, None = missing)."""
    n = len(values)
    missing = np.array([v is None for v in values], dtype=bool)
    if typ.kind in ("code", "text"):
        return encode_strings(np.array([None if v is None else str(v) for v in values], dtype=object),
                              typ.as_optional(typ.optional or bool(missing.any())))
    fill = {"bool": False, "number": 0.0}.get(typ.kind, 0)
    data = np.array([fill if v is None else v for v in values], dtype=empty_dtype(typ.kind)) if n else \
        np.zeros(0, dtype=empty_dtype(typ.kind))
    return Col(typ, data, missing if missing.any() else None)


# ---- worlds -----------------------------------------------------------------------------

def run_world(rd: RunData, inputs: dict[str, tuple[EntityDef, dict[str, np.ndarray]]] | None = None) -> FormWorld:
    """The form world of a run; ``inputs`` adds extra entities (definition, raw columns)."""
    base = rd.methodology
    entities = {name: replace(e, fields=dict(e.fields), relations=dict(e.relations))
                for name, e in base.entities.items()}
    ents: dict[str, EntityData] = {}
    for name, ed in rd.data.entities.items():
        cols = dict(ed.cols)
        for vname, col in rd.values.get(name, {}).items():
            if vname in entities[name].fields:
                continue
            d = base.defs.get((name, vname))
            entities[name].fields[vname] = FieldDef(vname, col.type, d.label if d else None, _SPAN)
            cols[vname] = col
        ents[name] = EntityData(name, ed.n, cols, ed.keys, ed.as_of, dict(ed.rel))
    if CASE in ents:
        _add_settlement(rd, entities, ents)
    for name, (edef, raw) in (inputs or {}).items():
        from engine.runtime.dataset import bind

        bound = bind({name: edef}, {name: raw}).entities[name]
        entities[name] = edef
        ents[name] = bound
    world_m = replace(base, entities=entities, defs={}, checks={}, disabled={}, deps={},
                      symbols=_symbols(entities, base))
    return FormWorld(world_m, Dataset(ents), base, rd.info)


def methodology_world(m: Methodology, context_day: int | None) -> FormWorld:
    """A world without rows: cells read the methodology's parameters and tables only."""
    entities = {name: replace(e, fields=dict(e.fields)) for name, e in m.entities.items()}
    ents = {}
    for name, e in entities.items():
        cols = {f: Col(fd.type, np.zeros(0, dtype=empty_dtype(fd.type.kind)), None,
                       np.array([], dtype=object) if fd.type.kind in ("code", "text") else None)
                for f, fd in e.fields.items()}
        ents[name] = EntityData(name, 0, cols, np.array([], dtype=object), None,
                                {r: np.zeros(0, dtype=np.int64) for r in e.relations})
    world_m = replace(m, entities=entities, defs={}, checks={}, disabled={}, deps={}, symbols=_symbols(entities, m))
    return FormWorld(world_m, Dataset(ents), m, {}, context_day)


def _add_settlement(rd: RunData, entities: dict[str, EntityDef], ents: dict[str, EntityData]) -> None:
    case = ents[CASE]
    n = case.n
    s = rd.settlement or {}
    billed = s.get("billed")
    if billed is None:
        billed = np.zeros(n, dtype=np.int64)
    money = {k: np.asarray(s.get(k, np.zeros(n, dtype=np.int64)), dtype=np.int64) for k in
             ("withheld", "fine")}
    money["billed"] = np.asarray(billed, dtype=np.int64)
    money["accepted"] = np.asarray(s.get("accepted", money["billed"] - money["withheld"]), dtype=np.int64)
    to_case = _case_mapper(rd, ents)
    count = np.zeros(n, dtype=np.int64)
    # the ground the settlement applied to each case (engine.oms.settlement.settle) — not re-derived here
    reason: list[str | None] = list(s.get("applied") or [None] * n)
    flagged = np.zeros(n, dtype=bool)
    rows: dict[str, list] = {k: [] for k in DEFECT_FIELDS}
    rows["case"] = []
    keys = []
    for i, d in enumerate(rd.defects):
        cases = to_case(d["entity"], str(d["row"]))
        for c in cases:
            count[c] += 1
        one = cases[0] if len(cases) == 1 and d["entity"] != "account" else None
        applied = one is not None and not flagged[one] and reason[one] == d["code"]
        if applied:
            flagged[one] = True
        keys.append(f"d{i + 1}")
        for k in ("code", "title", "check", "entity", "row", "share", "withheld", "fine"):
            rows[k].append(d[k])
        rows["applied"].append(applied)
        rows["has_case"].append(one is not None)
        rows["case"].append(-1 if one is None else one)
    cdef = entities[CASE]
    for k, (typ, label) in SETTLEMENT_FIELDS.items():
        if k in cdef.fields:
            raise WorldError(f"у сущности case уже есть поле «{k}» — оно совпадает с полем итогов МЭК")
        cdef.fields[k] = FieldDef(k, typ, label, _SPAN)
    for k in ("billed", "withheld", "accepted", "fine"):
        case.cols[k] = Col(MONEY, money[k])
    case.cols["defects"] = Col(INT, count)
    case.cols["reason"] = col_from_values(reason, SETTLEMENT_FIELDS["reason"][0])
    ddef = EntityDef(DEFECT, "Дефект (МЭК, ФЛК)", "key", None,
                     {k: FieldDef(k, t, label, _SPAN) for k, (t, label) in DEFECT_FIELDS.items()},
                     {"case": RelationDef("case", CASE, "case_key", _SPAN, optional=True)}, _SPAN)
    entities[DEFECT] = ddef
    dcols = {k: col_from_values(rows[k], t) for k, (t, _) in DEFECT_FIELDS.items()}
    dcols["withheld"] = Col(MONEY, np.array(rows["withheld"], dtype=np.int64))
    dcols["fine"] = Col(MONEY, np.array(rows["fine"], dtype=np.int64))
    dkeys = np.array(keys, dtype=object)
    dcols["key"] = encode_strings(dkeys, CODE)
    ddef.fields["key"] = FieldDef("key", CODE, "Номер дефекта", _SPAN)
    ents[DEFECT] = EntityData(DEFECT, len(keys), dcols, dkeys, None,
                              {"case": np.array(rows["case"], dtype=np.int64)})


def _case_mapper(rd: RunData, ents: dict[str, EntityData]):
    """(entity, row key) → case rows the defect concerns, through the schema's relations."""
    m = rd.methodology
    index = {e: {str(k): i for i, k in enumerate(d.keys)} for e, d in ents.items()}
    cache: dict[tuple[str, str], list[int]] = {}

    def to_case(entity: str, key: str) -> list[int]:
        hit = cache.get((entity, key))
        if hit is not None:
            return hit
        row = index.get(entity, {}).get(key)
        out: list[int] = []
        if row is not None:
            if entity == CASE:
                out = [row]
            else:
                rel = next((r for r in m.entities[entity].relations.values() if r.entity == CASE), None)
                if rel is not None:
                    out = [int(ents[entity].rel[rel.name][row])]
                else:
                    back = next((r for r in m.entities[CASE].relations.values() if r.entity == entity), None)
                    if back is not None:
                        out = [int(x) for x in np.nonzero(ents[CASE].rel[back.name] == row)[0]]
        cache[(entity, key)] = out
        return out

    return to_case


def _symbols(entities: dict[str, EntityDef], base: Methodology) -> Symbols:
    sym = Symbols(params=dict(base.symbols.params), tables=dict(base.symbols.tables),
                  functions=base.symbols.functions)
    for e in entities.values():
        info = EntityInfo(e.name, e.label, {}, {r.name: r.entity for r in e.relations.values()}, e.as_of, e.key)
        for f in e.fields.values():
            info.attrs[f.name] = AttrInfo(f.name, f.type, f.label, f.span, False)
        sym.entities[e.name] = info
    return sym

