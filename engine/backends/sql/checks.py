"""Checks → defects rows in SQL: one query per check over the entity's table, the fired rows with
their code, share, base, fine, withheld (half-up, as engine/backends/numpy/checks.py) and the values the condition
read; the rows are turned into engine.backends.numpy.checks.Defect exactly as the numpy backend does."""

from __future__ import annotations

import numpy as np
from sqlglot import exp

from dsl.primitives.rounding import half_up_scaled_sql
from dsl.types import BOOL, INT, MONEY, NUMBER, TEXT
from engine.backends.numpy.checks import Defect, DefectTable, _text, involved_refs
from engine.backends.sql.base import SqlUnsupported
from engine.backends.sql.dialect import col, ident, table
from engine.runtime.personal import MASK, masked_value
from engine.runtime.scope import row_scope
from engine.runtime.values import display


def run_checks_sql(ev, names: list[str] | None = None) -> DefectTable:
    chosen = [n for n in ev.m.checks if names is None or n in names]
    ev.ensure([], chosen)
    out = DefectTable()
    scopes: dict = {}
    fired = _fired(ev, chosen)
    for name in chosen:
        if name in fired:
            out.defects.extend(_run_check(ev, ev.m.checks[name], scopes))
    return out


def _fetch(ev, text: str, infos: list) -> list[tuple]:
    """Rows of a check query; a query the database refuses to plan is E0901 at the check (the
    first of ``infos`` when several are asked at once)."""
    from engine.backends.sql.dialect import BackendUnsupported, unsupported_diagnostic

    try:
        return ev.s.fetch(ev.sql(text))
    except BackendUnsupported as e:
        what = "проверка " + ", ".join(i.name for i in infos[:3]) + (" …" if len(infos) > 3 else "")
        raise unsupported_diagnostic(e, what, infos[0].provenance.span) from None


def _fired(ev, chosen: list[str]) -> set[str]:
    """Which checks fire on some row: one query per entity (most checks fire nowhere)."""
    by_ent: dict[str, list[str]] = {}
    for name in chosen:
        info = ev.m.checks[name]
        c = info.ir
        if c is None or c.when is None or info.entity not in ev.data.entities or ev.data.entities[info.entity].n == 0:
            continue
        by_ent.setdefault(info.entity, []).append(name)
    out: set[str] = set()
    for ent, names in by_ent.items():
        for lo in range(0, len(names), 200):
            part = names[lo:lo + 200]
            inner = ", ".join(f'{_check_sql(ev, ev.m.checks[n])[5]} AS "w{i}"' for i, n in enumerate(part))
            joins = "".join({a: j for n in part for a, j in _check_sql(ev, ev.m.checks[n])[6].items()}.values())
            flags = ", ".join(f'BOOL_OR(s."w{i}")' for i in range(len(part)))
            row = _fetch(ev, f'SELECT {flags} FROM (SELECT {inner} FROM "@@E.{ent}@@" AS t0{joins}) AS s',
                         [ev.m.checks[n] for n in part])[0]
            out.update(n for n, f in zip(part, row, strict=True) if f)
    return out


def _check_sql(ev, info) -> tuple[str, list[tuple[str, object]], dict, dict, dict]:
    """The check's query (cached per methodology): fired rows with the defect's fields."""
    key = (ev.sig, "check", info.name)
    hit = ev.sql_cache.get(key)
    if isinstance(hit, SqlUnsupported):
        raise hit
    if hit is not None:
        return hit
    try:
        hit = _build_check_sql(ev, info)
    except SqlUnsupported as e:
        ev.sql_cache[key] = e
        raise
    ev.sql_cache[key] = hit
    return hit


def _build_check_sql(ev, info):
    c = info.ir
    q = ev.q
    cp = ev.compiler()
    ent = [info.entity]
    seen: dict[str, object] = {}
    for r in involved_refs(c.when):
        seen.setdefault(_text(ev.m, r), r)
    fields: list[tuple[str, exp.Expression, object]] = [("_w", cp.compile(c.when, ent), BOOL)]
    share = cp.compile(c.share, ent) if c.share is not None else q.flt(0.0)
    base = cp.compile(c.base, ent) if c.base is not None else exp.Literal.number(0)
    y = exp.Mul(this=q.double(base), expression=exp.Paren(this=share))
    fields += [("_share", share.copy(), NUMBER), ("_base", base.copy(), MONEY),
               ("_fine", cp.compile(c.fine, ent) if c.fine is not None else exp.Literal.number(0), MONEY),
               ("_withheld", q.bigint(half_up_scaled_sql(q, y, 0)), MONEY)]
    if c.code is not None:
        fields.append(("_code", cp.compile(c.code, ent), TEXT if c.code.type.kind != "int" else INT))
    if c.title is not None:
        fields.append(("_title", cp.compile(c.title, ent), TEXT))
    ref_names = {t: f"_ref{i}" for i, t in enumerate(seen)}
    fields += [(ref_names[t], cp.compile(r, ent), r.type) for t, r in seen.items()]
    ph_names = {t: f"_ph{i}" for i, t in enumerate(c.placeholders)}
    fields += [(ph_names[t], cp.compile(x, ent), x.type) for t, x in c.placeholders.items()]
    hoisted = dict(cp.joins.get("t0", {}))
    joins = cp.join_texts("t0")      # for the "which fire" query, which writes its FROM as text
    inner = cp.attach_joins(exp.select(col("t0", "_rid"), *[exp.alias_(e, ident(n)) for n, e, _ in fields]).from_(
        table(ev.names.entity_table[info.entity], "t0"), copy=False), "t0", hoisted)
    outer = exp.select(exp.Star()).from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("s"))),
                                         copy=False) \
        .where(exp.Is(this=col("s", "_w"), expression=exp.true()), copy=False).order_by(col("s", "_rid"), copy=False)
    hidden = {t for t, r in seen.items() if masked_value(ev.m, r, r.type.kind)}
    when = q.render(exp.Is(this=exp.Paren(this=fields[0][1].copy()), expression=exp.true()))
    return q.render(outer), [(n, t) for n, _, t in fields], ref_names, ph_names, hidden, when, joins


def _run_check(ev, info, scopes) -> list[Defect]:
    from engine.backends.sql.run import to_col

    c = info.ir
    if c is None or c.when is None or info.entity not in ev.data.entities or ev.data.entities[info.entity].n == 0:
        return []
    text, fields, ref_names, ph_names, hidden = _check_sql(ev, info)[:5]
    rows = _fetch(ev, text, [info])
    if not rows:
        return []
    scope = row_scope(c, ev.data, info.entity, scopes)
    if scope is not None:
        rows = [r for r in rows if scope[int(r[0])]]
    if not rows:
        return []
    pos = {n: i + 1 for i, (n, _) in enumerate(fields)}
    column = {n: to_col([r[pos[n]] for r in rows], t) for n, t in fields}
    keys = ev.data.entities[info.entity].keys
    rule = str(info.provenance.span)
    out = []
    for i, r in enumerate(rows):
        values = {t: MASK if t in hidden else display(column[n].value_at(i), column[n].type)
                  for t, n in ref_names.items()}
        msg = c.message or ""
        for t, n in ph_names.items():
            v = column[n]
            msg = msg.replace("{" + t + "}", display(v.value_at(i), v.type))
        code = column["_code"].value_at(i) if "_code" in column else ""
        title = column["_title"].value_at(i) if "_title" in column else ""
        out.append(Defect(info.entity, str(keys[int(r[0])]), info.name, str(code), str(title),
                          float(np.float64(r[pos["_share"]] or 0.0)), int(r[pos["_withheld"]] or 0),
                          int(r[pos["_fine"]] or 0), int(r[pos["_base"]] or 0), msg, values,
                          info.provenance.package, info.ref, rule, c.catalogue))
    return out
