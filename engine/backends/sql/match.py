"""Rule tables (`kind: match`) in SQL: the derived entity as a join of the items with the rule rows.

The semantics are those of engine/runtime/match.py, restated as sets: a derived row is a pair
(parent row p, rule r) of one table such that
- p is selected (the table's `when` is true on p; no `when`: every row),
- the table is in force at p's as-of date (``_s <= as_of < _e``; 0 when the parent has no date),
- every non-empty match cell of r holds for p: some item of p bound to the column (a parent
  field/definition, or child.field of a related entity; missing values are no items) equals a
  `code` cell or an exact `icd` cell; has the letter of a class cell (`C.`); or has a rubric
  (letter + two digits) within a range cell (`C00-C80`, inclusive).

Rows are ordered by parent row, then table (declaration order), then rule (CSV order) — the numpy
order — so ``_rid``, `first … order by`, ties and row keys are the same on both backends.

The join is indexed as in numpy: every rule is reached from the items through its anchor (the
exact cell, or pair of cells, chosen by match_table._anchors), rules with only a class or a range
through the first such cell, rules without any match cell from every selected row; the candidates
are then verified cell by cell (EXISTS over the items, an index lookup by parent row).

The rule rows are loaded once per connection (``session.load_reference``), with the cells split
into what the join compares: the exact text, the class letter, the rubric bounds.
"""

from __future__ import annotations

import numpy as np
from sqlglot import exp

from dsl.columns import Col
from engine.backends.sql.dialect import and_all, case, col, ident, or_all, table
from engine.runtime.match import child_relation, match_tables
from engine.runtime.match_table import CLASS, EMPTY, EXACT, RANGE, CodeFeatures, MatchTable

MATCH = "@match"      # plan key (MATCH, entity): the derived entity's table is built at that level
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
ITEMS = "@@ITEMS@@"   # the run's items table in the cached text of the join


def derived_entities(m) -> dict[str, list[MatchTable]]:
    """Derived entity → the match tables feeding it, in declaration order (numpy's table order)."""
    out: dict[str, list[MatchTable]] = {}
    for t in match_tables(m.tables):
        out.setdefault(t.spec.entity, []).append(t)
    return out


def source_defs(m, entity: str) -> set[tuple[str, str]]:
    """Definitions the derived entity reads: the tables' `when` and bound definitions."""
    out: set[tuple[str, str]] = set()
    for t in derived_entities(m).get(entity, []):
        parent = t.spec.parent
        names = [t.spec.when[0]] if t.spec.when is not None else []
        names += [src for b in t.spec.bindings for src, _ in b.sources]
        for src in names:
            key = tuple(src.split(".", 1)) if "." in src else (parent, src)
            if key in m.defs:
                out.add(key)
    return out


# ---- the rule rows in the database -----------------------------------------------------------

def _rule_columns(t: MatchTable) -> list[tuple[str, str]]:
    cols = [("_r", "int"), ("_line", "int"), ("_a", "int"), ("_g", "int"), ("_s", "int"), ("_e", "int")]
    cols += [("c_" + c, typ.kind) for c, typ in t.columns.items()]
    for j, b in enumerate(t.spec.bindings):
        cols.append((f"m{j}", "code"))
        if b.kind == "icd":
            cols += [(f"k{j}", "int"), (f"l{j}", "code"), (f"lo{j}", "int"), (f"hi{j}", "int")]
    return cols


def _first_class_or_range(t: MatchTable) -> np.ndarray:
    """Per rule: the first icd binding with a non-empty cell (-1: none) — the entry of rules
    without an exact cell."""
    n = len(t.row_lines)
    out = np.full(n, -1, dtype=np.int64)
    for j in reversed(range(len(t.spec.bindings))):
        f = t.features[t.spec.bindings[j].column]
        if not isinstance(f, CodeFeatures):
            out = np.where(f.kind != EMPTY, j, out)
    return out


def _rule_values(t: MatchTable) -> list[list]:
    from engine.backends.sql.postgres import col_values

    n = len(t.row_lines)
    cols: list[list] = [list(range(n)), [int(x) for x in t.row_lines], [int(x) for x in t.anchor_col],
                        [int(x) for x in _first_class_or_range(t)], [int(x) for x in t.starts],
                        [int(x) for x in t.ends]]
    cols += [[_py(v) for v in col_values(t.cols[c], n)] for c in t.columns]
    for b in t.spec.bindings:
        f = t.features[b.column]
        raw = t.raw[b.column]
        if isinstance(f, CodeFeatures):
            cols.append([str(raw[i]) if f.ids[i] >= 0 else None for i in range(n)])
            continue
        kind = f.kind
        cols.append([str(raw[i]) if kind[i] == EXACT else None for i in range(n)])
        cols.append([int(k) for k in kind])
        cols.append([chr(int(f.letter[i])) if kind[i] == CLASS else None for i in range(n)])
        cols.append([int(f.lo[i]) if kind[i] == RANGE else None for i in range(n)])
        cols.append([int(f.hi[i]) if kind[i] == RANGE else None for i in range(n)])
    return [list(r) for r in zip(*cols, strict=True)] if n else []


def _py(v):
    return v.item() if isinstance(v, np.generic) else v


def ensure_rule_tables(session, m) -> dict[str, str]:
    """The methodology's rule tables in the database (once per connection): table name → temp table."""
    cache = session.__dict__.setdefault("rule_tables", {})
    hit = cache.get(m.content_hash)
    if hit is not None:
        return hit
    out: dict[str, str] = {}
    for i, t in enumerate(match_tables(m.tables)):
        name = f"mt{len(cache)}_{m.content_hash[:8]}_{i}"
        session.load_reference(name, _rule_columns(t), _rule_values(t), ["_r"])
        out[t.name] = name
    cache[m.content_hash] = out
    return out


# ---- the join --------------------------------------------------------------------------------

def _num(v: int) -> exp.Expression:
    lit = exp.Literal.number(abs(int(v)))
    return exp.Neg(this=lit) if v < 0 else lit


def _eq(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.EQ(this=a, expression=b)


def _substr(e: exp.Expression, pos: int) -> exp.Expression:
    return exp.Substring(this=e, start=exp.Literal.number(pos), length=exp.Literal.number(1))


def _pos(alphabet: str, ch: exp.Expression) -> exp.Expression:
    return exp.StrPosition(this=exp.Literal.string(alphabet), substr=ch)


def rubric_sql(v: exp.Expression) -> exp.Expression:
    """match_table.rubric_number in SQL: letter * 100 + two digits, NULL when the code has no
    rubric. Only A–Z letters are kept: a rubric of another first character lies outside every
    range cell (their bounds are A00…Z99), so matching is unchanged; positions in fixed
    alphabets keep it independent of the collation and of the dialect."""
    chars = [_substr(v.copy(), i) for i in (1, 2, 3)]
    ok = and_all([exp.GTE(this=exp.Length(this=v.copy()), expression=exp.Literal.number(3)),
                  exp.GT(this=_pos(LETTERS, chars[0]), expression=exp.Literal.number(0)),
                  exp.GT(this=_pos(DIGITS, chars[1]), expression=exp.Literal.number(0)),
                  exp.GT(this=_pos(DIGITS, chars[2]), expression=exp.Literal.number(0))])
    value = exp.Add(this=exp.Add(
        this=exp.Mul(this=exp.Paren(this=exp.Add(this=_pos(LETTERS, chars[0].copy()), expression=exp.Literal.number(64))),
                     expression=exp.Literal.number(100)),
        expression=exp.Mul(this=exp.Paren(this=exp.Sub(this=_pos(DIGITS, chars[1].copy()), expression=exp.Literal.number(1))),
                           expression=exp.Literal.number(10))),
        expression=exp.Sub(this=_pos(DIGITS, chars[2].copy()), expression=exp.Literal.number(1)))
    return case((ok, value), default=exp.Null())


class _Builder:
    """The SQL of one derived entity over the run's current tables (names from ``ev.current``)."""

    def __init__(self, ev, entity: str, rule_tables: dict[str, str]) -> None:
        self.ev, self.m, self.entity = ev, ev.m, entity
        self.tables = derived_entities(ev.m)[entity]
        self.parent = self.tables[0].spec.parent
        self.rule_tables = rule_tables
        self.groups: dict[tuple[str, ...], int] = {}      # distinct source lists → item group

    def group(self, b) -> int:
        return self.groups.setdefault(tuple(src for src, _ in b.sources), len(self.groups))

    def cur(self, ent: str) -> str:
        return self.ev.names.entity_table[ent]      # @@E.entity@@, the run's current table

    # -- items: (g, _r_p, v, lt, rb) — every bound value of every row of the parent ------------
    def items_sql(self) -> str:
        for t in self.tables:
            for b in t.spec.bindings:
                self.group(b)
        parts = []
        for sources, g in self.groups.items():
            for src in sources:
                if "." in src:
                    child, name = src.split(".", 1)
                    rel = child_relation(child, self.parent, self.m.entities)
                    fk, v = col("c", "_r_" + rel), col("c", self.ev.names.column(self.m, child, name))
                    ent = child
                else:
                    fk, v = col("c", "_rid"), col("c", self.ev.names.column(self.m, self.parent, src))
                    ent = self.parent
                q = exp.select(exp.alias_(_num(g), "g"), exp.alias_(fk, "p"), exp.alias_(v, "v")).from_(
                    table(self.cur(ent), "c"), copy=False).where(
                    and_all([exp.Not(this=exp.Is(this=fk.copy(), expression=exp.Null())),
                             exp.Not(this=exp.Is(this=v.copy(), expression=exp.Null()))]), copy=False)
                parts.append(q)
        union = parts[0]
        for q in parts[1:]:
            union = exp.union(union, q, distinct=False)
        v = col("u", "v")
        sel = exp.select(col("u", "g"), exp.alias_(col("u", "p"), ident("_r_p")), v,
                         exp.alias_(_substr(v.copy(), 1), "lt"), exp.alias_(rubric_sql(v.copy()), "rb")).from_(
            exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier("u"))), copy=False)
        return self.ev.q.render(sel)

    # -- candidates of one table: (p, r) pairs reached from the items ------------------------
    def candidates(self, t: MatchTable, rules: str, items: str) -> exp.Expression:
        branches: list[exp.Select] = []
        used = sorted({int(a) for a in t.anchor_col if a >= 0})
        bindings = t.spec.bindings
        for ci in used:
            j, k = t.combos[ci]
            on = [_eq(col("r", "_a"), _num(ci)), _eq(col("r", f"m{j}"), col("i", "v"))]
            q = exp.select(exp.alias_(col("i", "_r_p"), "p"), exp.alias_(col("r", "_r"), "r")).from_(
                table(items, "i"), copy=False)
            where = [_eq(col("i", "g"), _num(self.group(bindings[j])))]
            if k is not None:
                q = q.join(table(items, "i2"), on=and_all([_eq(col("i2", "_r_p"), col("i", "_r_p")),
                                                           _eq(col("i2", "g"), _num(self.group(bindings[k])))]),
                           copy=False)
                on.append(_eq(col("r", f"m{k}"), col("i2", "v")))
            branches.append(q.join(table(rules, "r"), on=and_all(on), copy=False).where(and_all(where), copy=False))
        entry = _first_class_or_range(t)[t.anchor_col < 0]
        for j in sorted({int(x) for x in entry if x >= 0}):
            on = [_eq(col("r", "_a"), _num(-1)), _eq(col("r", "_g"), _num(j)),
                  or_all([and_all([_eq(col("r", f"k{j}"), _num(CLASS)), _eq(col("i", "lt"), col("r", f"l{j}"))]),
                          and_all([_eq(col("r", f"k{j}"), _num(RANGE)),
                                   exp.Between(this=col("i", "rb"), low=col("r", f"lo{j}"), high=col("r", f"hi{j}"))])])]
            branches.append(exp.select(exp.alias_(col("i", "_r_p"), "p"), exp.alias_(col("r", "_r"), "r")).from_(
                table(items, "i"), copy=False).join(table(rules, "r"), on=and_all(on), copy=False).where(
                _eq(col("i", "g"), _num(self.group(bindings[j]))), copy=False))
        if (entry < 0).any():       # rules without any match cell: every row of the parent
            branches.append(exp.select(exp.alias_(col("c", "_rid"), "p"), exp.alias_(col("r", "_r"), "r")).from_(
                table(self.cur(self.parent), "c"), copy=False).join(
                table(rules, "r"), on=and_all([_eq(col("r", "_a"), _num(-1)), _eq(col("r", "_g"), _num(-1))]),
                copy=False))
        if not branches:
            return exp.select(exp.alias_(exp.Null(), "p"), exp.alias_(exp.Null(), "r")).where(exp.false())
        union = branches[0]
        for q in branches[1:]:
            union = exp.union(union, q, distinct=True)
        return union if len(branches) > 1 else union.distinct()

    # -- verification: every non-empty cell holds -------------------------------------------
    def verify(self, t: MatchTable, items: str) -> list[exp.Expression]:
        out = []
        for j, b in enumerate(t.spec.bindings):
            g = self.group(b)

            def exists(cond: exp.Expression, g=g) -> exp.Expression:
                return exp.Exists(this=exp.select(exp.Literal.number(1)).from_(table(items, "x"), copy=False).where(
                    and_all([_eq(col("x", "_r_p"), col("c", "p")), _eq(col("x", "g"), _num(g)), cond]), copy=False))

            if isinstance(t.features[b.column], CodeFeatures):
                out.append(or_all([exp.Is(this=col("r", f"m{j}"), expression=exp.Null()),
                                   exists(_eq(col("x", "v"), col("r", f"m{j}")))]))
                continue
            kj = col("r", f"k{j}")
            cell = or_all([and_all([_eq(kj.copy(), _num(EXACT)), _eq(col("x", "v"), col("r", f"m{j}"))]),
                           and_all([_eq(kj.copy(), _num(CLASS)), _eq(col("x", "lt"), col("r", f"l{j}"))]),
                           and_all([_eq(kj.copy(), _num(RANGE)),
                                    exp.Between(this=col("x", "rb"), low=col("r", f"lo{j}"), high=col("r", f"hi{j}"))])])
            out.append(or_all([_eq(kj.copy(), _num(EMPTY)), exists(cell)]))
        return out

    # -- the derived rows --------------------------------------------------------------------
    def entity_sql(self, items: str) -> str:
        names = self.ev.names
        asof = col("pr", "_asof") if self.parent in names.has_asof else _num(0)     # numpy: zeros
        parts = []
        for tix, t in enumerate(self.tables):
            rules = self.rule_tables[t.name]
            cand = self.candidates(t, rules, items)
            conds = [exp.LTE(this=col("r", "_s"), expression=asof.copy()), exp.LT(this=asof.copy(), expression=col("r", "_e"))]
            if t.spec.when is not None:
                w = col("pr", names.column(self.m, self.parent, t.spec.when[0]))
                conds.append(exp.Is(this=w, expression=exp.true()))
            conds += self.verify(t, items)
            fields = [exp.alias_(col("c", "p"), "p"), exp.alias_(_num(tix), "tix"), exp.alias_(col("r", "_r"), "r"),
                      exp.alias_(asof.copy(), "asof"), exp.alias_(col("r", "_line"), "line")]
            fields += [exp.alias_(col("r", "c_" + c), ident("c_" + c)) for c in t.columns]
            q = exp.select(*fields).from_(exp.Subquery(this=cand, alias=exp.TableAlias(this=exp.to_identifier("c"))),
                                          copy=False)
            q = q.join(table(rules, "r"), on=_eq(col("r", "_r"), col("c", "r")), copy=False)
            q = q.join(table(self.cur(self.parent), "pr"), on=_eq(col("pr", "_rid"), col("c", "p")), copy=False)
            parts.append(q.where(and_all(conds), copy=False))
        union = parts[0]
        for q in parts[1:]:
            union = exp.union(union, q, distinct=False)
        rid = exp.Sub(this=exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[
            exp.Ordered(this=col("d", x)) for x in ("p", "tix", "r")])), expression=exp.Literal.number(1))
        tname = case(*[(_eq(col("d", "tix"), _num(i)), exp.Literal.string(t.name)) for i, t in enumerate(self.tables)])
        first = self.tables[0]
        out = [exp.alias_(self.ev.q.bigint(rid), ident("_rid")), exp.alias_(col("d", "asof"), ident("_asof")),
               exp.alias_(col("d", "p"), ident("_r_" + self.parent))]
        out += [exp.alias_(col("d", "c_" + c), ident("f_" + c)) for c in first.columns]
        out += [exp.alias_(tname, ident("f_table")), exp.alias_(col("d", "line"), ident("f_line")),
                exp.alias_(col("d", "asof"), ident("f_as_of"))]
        sel = exp.select(*out).from_(exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier("d"))),
                                     copy=False)
        return self.ev.q.render(sel)


def build(ev, entity: str) -> None:
    """Materialize the derived entity of the run (its parent's needed definitions are done)."""
    from engine.backends.numpy.evaluator import EvalError

    key = (ev.sig, "match", entity)
    hit = ev.sql_cache.get(key)
    if hit is None:        # the text names tables by placeholder: compiled once per methodology
        b = _Builder(ev, entity, ensure_rule_tables(ev.s, ev.m))
        hit = ev.sql_cache[key] = (b.items_sql(), b.entity_sql(ITEMS), b.parent, b.tables)
    items_sql, entity_sql, parent, tables = hit
    span = tables[0].spec.span
    parent_n = ev.data.entities[parent].n

    def on_error(message: str) -> EvalError:
        return EvalError(f"ошибка SQL при построении «{entity}» (таблица правил): {message}", span)

    items = f"{ev.prefix}_{entity}_items"
    ev.s.create_table_as(items, ev.sql(items_sql), on_error, parent_n)
    name = f"{ev.prefix}_{entity}_0"
    ev.s.create_table_as(name, ev.sql(entity_sql.replace(ITEMS, items)), on_error, parent_n)
    ev.current[entity] = name
    ev.data.entities[entity] = DerivedRows(ev, entity, parent, tables)


class DerivedRows:
    """What the run needs of a derived entity's rows in Python (row count, keys, relation, plain
    columns), fetched from its table on first use. Keys as numpy's PairKeys: "<parent key>:<n>",
    with the table name in the middle when several tables feed the entity."""

    def __init__(self, ev, entity: str, parent: str, tables: list[MatchTable]) -> None:
        self.ev, self.name, self.parent, self.tables = ev, entity, parent, tables
        self.n = int(ev.s.fetch(f'SELECT COUNT(*) FROM "{ev.current[entity]}"')[0][0])
        self._rows: list[tuple] | None = None
        self._cols: dict[str, Col] = {}
        self.as_of = np.zeros(0)       # present: the rows carry the parent's date (column _asof)

    def _fetch(self) -> list[tuple]:
        if self._rows is None:
            key = self.tables[0].keys[0]
            self._rows = self.ev.s.fetch(f'SELECT "_r_{self.parent}", "f_table", "f_{key}" FROM '
                                         f'"{self.ev.current[self.name]}" ORDER BY "_rid"')
        return self._rows

    @property
    def keys(self) -> np.ndarray:
        pkeys = self.ev.data.entities[self.parent].keys
        several = len(self.tables) > 1
        return np.array([f"{pkeys[int(p)]}:{f'{t}:' if several else ''}{num}" for p, t, num in self._fetch()],
                        dtype=object)

    @property
    def rel(self) -> dict[str, np.ndarray]:
        return {self.parent: np.array([int(p) for p, _, _ in self._fetch()], dtype=np.int64)}

    @property
    def cols(self) -> dict[str, Col]:
        return _LazyCols(self)


class _LazyCols(dict):
    def __init__(self, rows: DerivedRows) -> None:
        super().__init__()
        self.rows = rows

    def __missing__(self, name: str) -> Col:
        from engine.backends.sql.run import to_col

        r = self.rows
        hit = r._cols.get(name)
        if hit is None:
            typ = r.ev.m.entities[r.name].fields[name].type
            vals = r.ev.s.fetch(f'SELECT "f_{name}" FROM "{r.ev.current[r.name]}" ORDER BY "_rid"')
            hit = r._cols[name] = to_col([v[0] for v in vals], typ)
        return hit
