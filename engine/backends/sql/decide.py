"""Decision tables (dsl.ir.DecideNode) as CASE, with the hit policies of engine/backends/numpy/eval_agg.py."""

from __future__ import annotations

from sqlglot import exp

from dsl import ir
from engine.backends.sql.dialect import and_all, case, is_null, or_all


def _flag(c: exp.Expression) -> exp.Expression:
    return case((c, exp.Literal.number(1)), default=exp.Literal.number(0))


def compile_decide(cp, node: ir.DecideNode, frames: list[str]) -> exp.Expression:
    from engine.backends.sql.base import SqlUnsupported, Validation

    conds = [cp.compile(cnd, frames) for cnd, _ in node.rows]
    values = [cp.compile(v, frames) for _, v in node.rows]
    kind = node.type.kind
    if node.policy == "collect":
        return _collect(cp, node, conds, values, kind)
    if node.policy in ("unique", "any") and len(conds) > 1:
        if len(frames) != 1:
            raise SqlUnsupported(f"таблица решений ({node.policy}) внутри агрегата: проверка совпадений в SQL "
                                 "пока не поддержана", node.span)
        if node.policy == "unique":
            hits = _flag(conds[0].copy())
            for cnd in conds[1:]:
                hits = exp.Add(this=hits, expression=_flag(cnd.copy()))
            conflict = exp.GT(this=exp.Paren(this=hits), expression=exp.Literal.number(1))
        else:
            pairs = [and_all([conds[i].copy(), conds[j].copy(),
                              exp.Not(this=exp.Paren(this=exp.NullSafeEQ(
                                  this=exp.Paren(this=values[i].copy()), expression=exp.Paren(this=values[j].copy()))))])
                     for i in range(len(conds)) for j in range(i + 1, len(conds))]
            conflict = or_all([exp.Paren(this=x) for x in pairs])
        cp.validations.append(Validation(f"_v{len(cp.validations)}", exp.Coalesce(
            this=conflict, expressions=[exp.false()]), node))
    otherwise = cp.compile(node.otherwise, frames) if node.otherwise is not None else exp.Null()
    whens: list[tuple[exp.Expression, exp.Expression]] = []
    if node.policy == "first":
        # an undetermined condition before the matching row leaves the value undetermined
        for cnd, v in zip(conds, values, strict=True):
            whens.append((is_null(cnd.copy()), exp.Null()))
            whens.append((cnd, v))
    else:
        if conds:
            whens.append((or_all([is_null(x.copy()) for x in conds]), exp.Null()))
        whens += list(zip(conds, values, strict=True))
    return case(*whens, default=otherwise) if whens else otherwise


def _collect(cp, node: ir.DecideNode, conds, values, kind: str) -> exp.Expression:
    if node.aggregator == "count":
        out = _flag(conds[0])
        for cnd in conds[1:]:
            out = exp.Add(this=out, expression=_flag(cnd))
        return exp.Paren(this=out)
    if node.aggregator == "sum":
        zero = cp.q.flt(0.0) if kind == "number" else exp.Literal.number(0)
        terms = [case((cnd, v), default=zero.copy()) for cnd, v in zip(conds, values, strict=True)]
        out = terms[0]
        for t in terms[1:]:
            out = exp.Add(this=out, expression=t)
        return exp.Paren(this=out)
    cls = exp.Least if node.aggregator == "min" else exp.Greatest
    terms = [case((cnd, v), default=exp.Null()) for cnd, v in zip(conds, values, strict=True)]
    return cls(this=terms[0], expressions=terms[1:])   # LEAST/GREATEST skip NULLs: no match → NULL
