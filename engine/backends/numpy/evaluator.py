"""Vectorized evaluation of the typed IR over bound data (numpy; numexpr for fused arithmetic).

A frame is a set of rows of one entity (all of them, or a chosen subset for explain
and for checks). Definitions referenced at the full frame are computed once and cached;
at a subset frame they are computed for those rows only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsl import ir
from dsl.columns import Col, const, merge_missing, unify_codes
from dsl.diagnostics import Span
from dsl.types import BOOL
from engine.backends.numpy.colops import Unresolved, concat, kleene, materialize, poison, select  # noqa: F401 (re-exported)
from engine.runtime.dataset import Dataset
from engine.runtime.model import Methodology


class EvalError(Exception):
    """A runtime failure tied to a rule position and, where known, a data row."""

    def __init__(self, message: str, span: Span | None, entity: str | None = None,
                 row_key: str | None = None) -> None:
        self.message = message
        self.span = span
        self.entity = entity
        self.row_key = row_key
        where = f" (строка {entity} [{row_key}])" if row_key is not None else ""
        super().__init__(f"{span}: {message}{where}" if span else message + where)


DEFAULT_CHUNK_ROWS = 1 << 20
# numexpr fusion of elementwise chains: measured slower than plain numpy on the project's 2-core
# machine for the chains methodologies have (benchmarks/engine, 2026-12-02), so off by default;
# Evaluator(fuse=True) keeps it, and the tests prove both give identical results.
FUSE_BY_DEFAULT = False


@dataclass
class RFrame:
    entity: str | None
    rows: np.ndarray | None       # row indices into the entity; None = every row
    n: int
    parent: np.ndarray | None = None


class Evaluator:
    def __init__(self, methodology: Methodology, data: Dataset, context_day: int | None = None,
                 fuse: bool = FUSE_BY_DEFAULT, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> None:
        self.m = methodology
        self.data = data
        self.context_day = context_day
        self.fuse = fuse
        self.chunk_rows = chunk_rows
        self.cache: dict[tuple[str, str], Col] = {}
        self._row_local: dict[tuple[str, str], bool] = {}
        # rows of the current frame whose value is used (inside an if/decide branch): a division
        # by zero elsewhere is not an error, as the branch is not taken there
        self.selected: np.ndarray | None = None
        self.recompute_subsets = False   # explain: evaluate dependencies on the chosen rows only
        self.unresolved_params: list[tuple[str, Span | None]] = []
        self.unresolved_notes: dict[str, Unresolved] = {}
        self.arg_env: list[list[Col]] = []    # arguments of the user functions being evaluated
        self.call_frames: list[int] = []      # their callers' date frames
        self._paths: dict[tuple, tuple] = {}    # see _path
        self._chunk_rows: dict[str, list[np.ndarray]] = {}   # see _chunks
        self._frame_days: dict[tuple, tuple] = {}            # see frame_days
        from engine.runtime.match import attach

        attach(self)                           # rule-table entities (engine/runtime/match.py), built on demand

    # ---- frames ---------------------------------------------------------------
    def root_frame(self, entity: str | None, rows: np.ndarray | None = None) -> RFrame:
        if entity is None:
            return RFrame(None, None, 1)
        n = self.data.n(entity) if rows is None else len(rows)
        return RFrame(entity, rows, n)

    @staticmethod
    def lift(col: Col, k: int, frames: list[RFrame]) -> Col:
        d = len(frames) - 1
        if k >= d:
            return col
        m = frames[d].parent
        for j in range(d - 1, k, -1):
            m = frames[j].parent[m]
        return col.take(m)

    def frame_days(self, k: int, frames: list[RFrame]) -> np.ndarray | None:
        if k == ir.CALLER_FRAME:
            k = self.call_frames[-1] if self.call_frames else -1
        if k < 0 or frames[k].entity is None:
            return None
        f = frames[k]
        ent = self.data.entities[f.entity]
        if ent.as_of is None:
            return None
        if f.rows is None:
            days = ent.as_of
        else:
            hit = self._frame_days.get((f.entity, id(f.rows)))
            if hit is not None and hit[0] is f.rows:
                days = hit[1]
            else:
                days = ent.as_of[f.rows]
                if any(f.rows is c for c in self._chunk_rows.get(f.entity, ())):
                    self._frame_days[(f.entity, id(f.rows))] = (f.rows, days)
        return self.lift(Col(BOOL, days), k, frames).data

    def row_key(self, frames: list[RFrame], i: int) -> tuple[str | None, str | None]:
        f = frames[0]
        if f.entity is None:
            return None, None
        idx = i if f.rows is None else int(f.rows[i])
        return f.entity, str(self.data.entities[f.entity].keys[idx])

    # ---- definitions ----------------------------------------------------------
    def column(self, entity: str, name: str) -> Col:
        key = (entity, name)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        ent = self.data.entities[entity]
        if name in ent.cols and key not in self.m.defs:
            return ent.cols[name]
        if ent.n > self.chunk_rows and self.row_local(entity, name):
            parts = [self._evaluate_definition(entity, name, RFrame(entity, rows, len(rows)))
                     for rows in self._chunks(entity, ent.n)]
            col = concat(parts)
        else:
            col = self._evaluate_definition(entity, name, self.root_frame(entity))
        self.cache[key] = col
        return col

    def _chunks(self, entity: str, n: int) -> list[np.ndarray]:
        """Row ranges of a chunked entity, the same arrays for every definition (so per-frame
        caches — relation paths, dates, lookup grids — are shared between definitions)."""
        hit = self._chunk_rows.get(entity)
        if hit is None:
            hit = [np.arange(lo, min(lo + self.chunk_rows, n)) for lo in range(0, n, self.chunk_rows)]
            self._chunk_rows[entity] = hit
        return hit

    def row_local(self, entity: str, name: str) -> bool:
        """True when a definition reads only its own row (no cross-row aggregate), so it can run in chunks."""
        key = (entity, name)
        hit = self._row_local.get(key)
        if hit is None:
            info = self.m.defs[key]
            hit = info.ir is not None and not any(isinstance(x, ir.AggNode) for x in ir.walk(info.ir))
            self._row_local[key] = hit
        return hit

    def _evaluate_definition(self, entity: str, name: str, frame: RFrame) -> Col:
        info = self.m.defs[(entity, name)]
        if info.ir is None:
            raise EvalError(f"определение {entity}.{name} не прошло проверку типов", info.provenance.span)
        start = len(self.unresolved_params)
        outer, self.selected = self.selected, None      # a definition is computed for all its rows
        try:
            col = materialize(self.eval(info.ir, [frame]), frame.n)
        finally:
            self.selected = outer
        if not info.type.optional:
            self.unresolved(col, info.ir, [frame], f"{entity}.{name}", start)
        return col

    def definition_at(self, entity: str, name: str, rows: np.ndarray, recompute: bool = False) -> Col:
        """A definition at some rows: from the full column (computed once), or — for explain —
        recomputed on those rows only."""
        if not recompute or (entity, name) in self.cache or (entity, name) not in self.m.defs:
            return self.column(entity, name).take(rows)
        return self._evaluate_definition(entity, name, RFrame(entity, rows, len(rows)))

    # ---- dispatch -------------------------------------------------------------
    def eval(self, node: ir.IR, frames: list[RFrame]) -> Col:
        if self.fuse and type(node) in _FUSABLE_ROOTS:
            from engine.backends.numpy.fuse import try_fuse

            fused = try_fuse(self, node, frames)
            if fused is not None:
                return fused
        return self.eval_direct(node, frames)

    def eval_direct(self, node: ir.IR, frames: list[RFrame]) -> Col:
        """Evaluate one node without trying to fuse it (its operands may still fuse)."""
        return getattr(self, "_" + type(node).__name__)(node, frames)

    def _Const(self, node: ir.Const, frames: list[RFrame]) -> Col:
        return const(node.value, node.type, frames[-1].n)

    def _FieldRef(self, node: ir.FieldRef, frames: list[RFrame]) -> Col:
        f = frames[node.frame]
        if node.path:
            ent, safe, bad = self._path(f, node.path)
            full = self.column(ent, node.name)
            col = full.take(safe) if len(full) else Col(full.type, np.zeros(len(safe), dtype=full.data.dtype), None, full.cats)
            if bad is not None:
                col = Col(node.type, col.data, bad | (col.missing if col.missing is not None else False), col.cats)
        elif f.rows is None:
            col = self.column(f.entity, node.name)
        elif node.is_definition:
            col = self.definition_at(f.entity, node.name, f.rows, self.recompute_subsets)
        else:
            col = self.data.entities[f.entity].cols[node.name].take(f.rows)
        return self.lift(col, node.frame, frames)

    def _path(self, f: RFrame, path: tuple) -> tuple[str, np.ndarray, np.ndarray | None]:
        """Rows reached from a frame through relations: (entity, row index clipped to ≥ 0, mask of
        rows with no related row or None). Cached for whole-entity and chunk frames (read by many
        fields)."""
        chunk = f.rows is not None and any(f.rows is c for c in self._chunk_rows.get(f.entity, ()))
        key = (f.entity, tuple(path), id(f.rows)) if f.rows is None or chunk else None
        hit = self._paths.get(key) if key is not None else None
        if hit is not None and hit[0] is f.rows:
            return hit[1]
        ent = f.entity
        idx = f.rows if f.rows is not None else np.arange(f.n)
        for rel in path:
            r = self.data.entities[ent].rel[rel]
            idx = np.where(idx >= 0, r[np.clip(idx, 0, None)], -1)
            ent = self.m.entities[ent].relations[rel].entity
        bad = idx < 0
        out = (ent, np.clip(idx, 0, None), bad if bad.any() else None)
        if key is not None:
            self._paths[key] = (f.rows, out)
        return out

    def _ParamRef(self, node: ir.ParamRef, frames: list[RFrame]) -> Col:
        p = self.m.params[node.name]
        days = self.frame_days(node.frame, frames)
        n = frames[-1].n
        if days is None:
            if self.context_day is None:
                live = [x for x in p.periods if x.value is not None]
                if len(live) == 1:
                    return const(live[0].value, p.type, n)
                raise EvalError(f"параметр «{p.name}» зависит от даты, а дата расчёта не задана", node.span)
            days = np.full(n, self.context_day, dtype=np.int64)
        col = p.at(np.asarray(days, dtype=np.int64), n)
        if col.missing is not None and col.missing.any():
            # Not in force on some rows: those rows carry no value. That is fine where the
            # branch is not taken (if/decide choose per row); where the value is used, the
            # consumer reports it (see unresolved()).
            used = col.missing
            if self.selected is not None and self.selected.shape == used.shape:
                used = used & self.selected      # rows where this branch is taken
            if not used.any():
                return col
            i = int(np.argmax(used))
            from engine.runtime.params import key_text

            self.unresolved_params.append(
                (f"параметр «{p.name}» не действует на дату {key_text(int(days[i]))}", node.span))
        return col

    def unresolved(self, col: Col, node: ir.IR, frames: list[RFrame], what: str, since: int = 0) -> None:
        """Note rows where a required value is missing (a parameter not in force on the row's
        date). The rows keep no value and the run goes on; explain shows the cause."""
        if col.type.optional or col.missing is None or not col.missing.any():
            return
        missing = np.broadcast_to(col.missing, (len(col),))
        i = int(np.argmax(missing))
        ent, key = self.row_key(frames, i) if len(frames) == 1 else (None, None)
        # the causes: parameters found not in force while computing this value (explain tells
        # which of them the row's branch took)
        causes = self.unresolved_params[since:] or self._dependency_causes(what) or self.unresolved_params[:1]
        texts = list(dict.fromkeys(t for t, _ in causes))
        reason = "; ".join(texts[:3]) + ("; …" if len(texts) > 3 else "") if texts else "значение не определено"
        span = causes[0][1] if causes else None
        note = self.unresolved_notes.get(what)
        if note is None:
            self.unresolved_notes[what] = Unresolved(what, reason, span or node.span, int(missing.sum()), ent, key)
        else:
            note.rows += int(missing.sum())

    def _dependency_causes(self, what: str) -> list[tuple[str, Span | None]]:
        """The causes noted for the definitions a definition reads (when those were computed
        before it, their parameters are not seen again)."""
        ent, _, name = what.partition(".")
        for dep in sorted(self.m.deps.get((ent, name), ())):
            note = self.unresolved_notes.get(f"{dep[0]}.{dep[1]}")
            if note is not None:
                return [(note.reason, note.span)]
        return []

    def _Lookup(self, node: ir.Lookup, frames: list[RFrame]) -> Col:
        from engine.backends.numpy.eval_lookup import evaluate_lookup

        return evaluate_lookup(self, node, frames)

    def _Convert(self, node: ir.Convert, frames: list[RFrame]) -> Col:
        x = self.eval(node.operand, frames)
        data = np.asarray(x.data)
        if node.to == "float":
            out = data / 100.0 if x.type.kind == "money" else data.astype(np.float64)
        else:
            out = data.astype(np.int64) * 100
        return Col(node.type, out, x.missing)

    def _Unary(self, node: ir.Unary, frames: list[RFrame]) -> Col:
        x = self.eval(node.operand, frames)
        data = ~np.asarray(x.data) if node.op == "not" else -np.asarray(x.data)
        if node.op == "not" and x.missing is not None:
            data = data & ~x.missing
        return Col(node.type, data, x.missing)

    def _Binary(self, node: ir.Binary, frames: list[RFrame]) -> Col:
        a = self.eval(node.left, frames)
        b = self.eval(node.right, frames)
        op = node.op
        if a.type.kind in ("code", "text") or b.type.kind in ("code", "text"):
            fast = None if poison(a, b) is not None else \
                _code_vs_const(a, node.right, op) if isinstance(node.right, ir.Const) else \
                _code_vs_const(b, node.left, op) if isinstance(node.left, ir.Const) else None
            if fast is not None:
                return fast
            ad, bd, _ = unify_codes(a, b)
            data = (ad == bd) if op == "==" else (ad != bd)
            bad = poison(a, b)
            return Col(BOOL, data if bad is None else data & ~bad, bad)
        x, y = np.asarray(a.data), np.asarray(b.data)
        if op in ("and", "or"):
            bad = poison(a, b)
            if bad is None:
                return Col(BOOL, x & y if op == "and" else x | y)
            return kleene(op, x, y, a, b)
        with np.errstate(divide="ignore", invalid="ignore"):   # division by zero is reported below
            data = _BINOPS[op](x, y)
        missing = merge_missing(a, b)
        if op == "/":
            self._check_finite(data, missing, node, frames)
        if missing is not None and data.dtype == np.bool_:
            data = data & ~missing
        return Col(node.type, data, missing)

    def _check_finite(self, data, missing, node, frames) -> None:
        bad = ~np.isfinite(data)
        if missing is not None:
            bad &= ~missing
        if self.selected is not None and self.selected.shape == bad.shape:
            bad &= self.selected
        if bad.any():
            i = int(np.nonzero(bad)[0][0])
            ent, key = self.row_key(frames, i) if len(frames) == 1 else (None, None)
            raise EvalError("деление на ноль", node.span, ent, key)

    def _IfNode(self, node: ir.IfNode, frames: list[RFrame]) -> Col:
        cond = self.eval(node.cond, frames)
        c = np.asarray(np.broadcast_to(cond.data, (frames[-1].n,)), dtype=bool)
        outer = self.selected
        try:
            self.selected = c if outer is None else outer & c
            a = self.eval(node.then, frames)
            self.selected = ~c if outer is None else outer & ~c
            b = self.eval(node.otherwise, frames)
        finally:
            self.selected = outer
        out = select(c, a, b, node)
        bad = poison(cond)
        if bad is not None:    # an undetermined condition: the value is undetermined too
            out = Col(out.type, out.data, bad if out.missing is None else out.missing | bad, out.cats)
        return out

    def _InSetNode(self, node: ir.InSetNode, frames: list[RFrame]) -> Col:
        x = self.eval(node.operand, frames)
        if x.type.kind in ("code", "text"):
            wanted = {str(v) for v in node.values}
            per_cat = np.array([str(c) in wanted for c in x.cats], dtype=bool)
            d = np.asarray(x.data)
            hit = per_cat[np.clip(d, 0, None)] & (d >= 0) if len(per_cat) else np.zeros(len(d), bool)
        else:
            d = np.asarray(x.data)
            if len(node.values) <= 8:     # a few values: comparisons beat np.isin's sort
                hit = np.zeros(len(d), bool)
                for v in node.values:
                    hit |= d == v
            else:
                hit = np.isin(d, np.array(node.values, dtype=d.dtype))
            for lo, hi in node.ranges:
                hit |= (d >= lo) & (d <= hi)
        out = ~hit if node.negated else hit
        bad = poison(x)
        return Col(BOOL, out, None) if bad is None else Col(BOOL, out & ~bad, bad)

    def _CallNode(self, node: ir.CallNode, frames: list[RFrame]) -> Col:
        n = frames[-1].n
        if node.prim.name == "default" and isinstance(node.args[0], ir.Lookup) and isinstance(node.args[1], ir.Const) \
                and len(node.args[0].keys) == 1:
            # default(table[code].column, constant): resolved per distinct code, then one gather
            from engine.backends.numpy.eval_lookup import lookup_per_value

            keys = [self.eval(k, frames) for k in node.args[0].keys]
            per_value = lookup_per_value(self, node.args[0], keys, frames)
            if per_value is not None:
                values, spread = per_value
                fallback = const(node.args[1].value, node.args[1].type, len(values))
                out = node.prim.impl(values, fallback).take(spread)
                return Col(node.type, out.data, out.missing, out.cats)
        args = [self.eval(a, frames) for a in node.args]
        out = node.prim.impl(*args)
        if not node.prim.handles_missing:
            missing = merge_missing(*args)
            if missing is not None and missing.any():
                out = Col(out.type, out.data, missing if out.missing is None else (out.missing | missing), out.cats)
        out.type = node.type if not out.type.optional or node.type.optional else node.type
        return out if len(out.data.shape) and out.data.shape[0] == n else materialize(out, n)

    def _ArgRef(self, node: ir.ArgRef, frames: list[RFrame]) -> Col:
        return self.arg_env[-1][node.index]

    def _FuncCall(self, node: ir.FuncCall, frames: list[RFrame]) -> Col:
        n = frames[-1].n
        args = [materialize(self.eval(a, frames), n) for a in node.args]
        caller = self.call_frames[-1] if node.frame == ir.CALLER_FRAME and self.call_frames else node.frame
        self.arg_env.append(args)
        self.call_frames.append(caller)
        try:
            return self.eval(node.body, frames)
        finally:
            self.arg_env.pop()
            self.call_frames.pop()

    def _AggNode(self, node: ir.AggNode, frames: list[RFrame]) -> Col:
        from engine.backends.numpy.eval_agg import evaluate_aggregate

        base = frames[: node.frame + 1]
        outer, self.selected = self.selected, None      # other rows, other frames
        try:
            col = evaluate_aggregate(self, node, base)
        finally:
            self.selected = outer
        return self.lift(col, node.frame, frames)

    def _DecideNode(self, node: ir.DecideNode, frames: list[RFrame]) -> Col:
        from engine.backends.numpy.eval_agg import evaluate_decide

        return evaluate_decide(self, node, frames)


def _code_vs_const(x: Col, c: ir.Const, op: str) -> Col | None:
    """`code == "literal"`: compare the dictionary once instead of re-encoding both sides."""
    if x.cats is None or x.type.kind not in ("code", "text"):
        return None
    per_cat = np.array([str(v) == str(c.value) for v in x.cats], dtype=bool)
    d = np.asarray(x.data)
    hit = per_cat[np.clip(d, 0, None)] & (d >= 0) if len(per_cat) else np.zeros(len(d), dtype=bool)
    return Col(BOOL, hit if op == "==" else ~hit)


_BINOPS = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide,
    "==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater,
    ">=": np.greater_equal,
}
_FUSABLE_ROOTS = (ir.Binary, ir.Unary, ir.IfNode, ir.Convert)
