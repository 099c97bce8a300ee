"""Decision tables: typing of rows and static overlap analysis for hit policies."""

from __future__ import annotations

from dsl import astnodes as ast
from dsl import ir
from dsl.diagnostics import Related
from dsl.types import BOOL, INT

POLICIES = ("unique", "first", "any", "collect")
COLLECTORS = ("sum", "min", "max", "count")
_INF = float("inf")


def _true(span) -> ir.IR:
    return ir.Const(BOOL, span, True)


def _cell_condition(ck, cell: ast.Cell, inp_node: ast.Node) -> ir.IR:
    if cell.kind == "any":
        return _true(cell.span)
    if cell.kind == "cmp":
        return ck.check(ast.Binary(cell.span, cell.op, inp_node, cell.value))
    if cell.kind in ("in", "not_in"):
        return ck.check(ast.InSet(cell.span, inp_node, cell.items, cell.kind == "not_in"))
    if cell.kind == "range":
        return ck.check(ast.Between(cell.span, inp_node, cell.value, cell.high))
    return ck.check(ast.Binary(cell.span, "==", inp_node, cell.value))


def _literal(node: ast.Node | None):
    if isinstance(node, ast.Number):
        return float(node.text)
    if isinstance(node, ast.Unary) and node.op == "-" and isinstance(node.operand, ast.Number):
        return -float(node.operand.text)
    if isinstance(node, (ast.String, ast.Bool)):
        return node.value
    if isinstance(node, ast.DateLit):
        import datetime as dt

        try:
            return float(dt.date.fromisoformat(node.text).toordinal())
        except ValueError:
            return None
    return None


def _abstract(cell: ast.Cell):
    """A cell as a set over its column: ("all",) | ("vals", set) | ("notin", set) | ("iv", lo, li, hi, hi_i)."""
    if cell.kind == "any":
        return ("all",)
    if cell.kind == "expr":
        v = _literal(cell.value)
        return ("vals", {v}) if v is not None else None
    if cell.kind in ("in", "not_in"):
        vals = set()
        for it in cell.items or []:
            if it.high is not None:
                return None
            v = _literal(it.low)
            if v is None:
                return None
            vals.add(v)
        return ("vals", vals) if cell.kind == "in" else ("notin", vals)
    if cell.kind == "range":
        lo, hi = _literal(cell.value), _literal(cell.high)
        if lo is None or hi is None:
            return None
        return ("iv", lo, True, hi, True)
    if cell.kind == "cmp":
        v = _literal(cell.value)
        if v is None or isinstance(v, bool):
            return None
        return {"<": ("iv", -_INF, False, v, False), "<=": ("iv", -_INF, False, v, True),
                ">": ("iv", v, False, _INF, False), ">=": ("iv", v, True, _INF, False),
                "==": ("vals", {v}), "!=": ("notin", {v})}[cell.op]
    return None


def _in_iv(v, iv) -> bool:
    _, lo, li, hi, hi_i = iv
    try:
        return (lo < v or (li and lo == v)) and (v < hi or (hi_i and v == hi))
    except TypeError:
        return False


def _intersects(a, b) -> bool:
    if a[0] == "all" or b[0] == "all":
        return True
    if a[0] == "vals" and b[0] == "vals":
        return bool(a[1] & b[1])
    if a[0] == "notin" and b[0] == "vals":
        return bool(b[1] - a[1])
    if a[0] == "vals" and b[0] == "notin":
        return bool(a[1] - b[1])
    if a[0] == "notin" and b[0] == "notin":
        return True
    if a[0] == "iv" and b[0] == "iv":
        _, alo, ali, ahi, ahi_i = a
        _, blo, bli, bhi, bhi_i = b
        lo, lo_incl = (alo, ali) if alo > blo else (blo, bli) if blo > alo else (alo, ali and bli)
        hi, hi_incl = (ahi, ahi_i) if ahi < bhi else (bhi, bhi_i) if bhi < ahi else (ahi, ahi_i and bhi_i)
        return lo < hi or (lo == hi and lo_incl and hi_incl)
    if a[0] == "iv":
        a, b = b, a
    if a[0] == "vals":
        return any(_in_iv(v, b) for v in a[1])
    return True  # notin vs interval: intervals are infinite sets


def _rows_overlap(r1: ast.DecideRow, r2: ast.DecideRow) -> bool | None:
    for c1, c2 in zip(r1.cells, r2.cells, strict=True):
        s1, s2 = _abstract(c1), _abstract(c2)
        if s1 is None or s2 is None:
            return None
        if not _intersects(s1, s2):
            return False
    return True


def check_decide(ck, d: ast.Decide) -> ir.IR:
    from dsl.typecheck import CheckFailed

    if d.policy not in POLICIES:
        from dsl.diagnostics import did_you_mean

        raise ck.fail("E0503", f"неизвестная политика срабатывания «{d.policy}»; допустимы: "
                      f"{', '.join(POLICIES)}", d, hints=did_you_mean(d.policy, POLICIES))
    if d.policy == "collect" and d.aggregator not in COLLECTORS:
        raise ck.fail("E0503", f"для collect укажите, как собирать: {', '.join(COLLECTORS)}", d)
    if d.policy != "collect" and d.aggregator is not None:
        raise ck.fail("E0503", f"уточнение «{d.aggregator}» допустимо только для collect", d)
    inputs = d.inputs
    rows = [r for r in d.rows if r.cells is not None]
    else_rows = [r for r in d.rows if r.cells is None]
    if len(else_rows) > 1 or (else_rows and d.rows[-1] is not else_rows[0]):
        raise ck.fail("E0503", "строка else должна быть одна и последней", else_rows[-1])
    conds: list[ir.IR] = []
    failed = False
    for row in rows:
        try:
            if inputs is None:
                if len(row.cells) != 1 or row.cells[0].kind != "expr":
                    raise ck.fail("E0502", "без списка входов каждая строка — одно условие: условие -> значение", row)
                cond = ck.require(ck.check(row.cells[0].value), ("bool",), row.cells[0], "условие строки")
            else:
                if len(row.cells) != len(inputs):
                    raise ck.fail("E0502", f"число ячеек строки ({len(row.cells)}) не равно числу входов таблицы "
                                  f"({len(inputs)})", row)
                cond = None
                if len(inputs) == 1 and not hasattr(ck, "_decide_input_kind"):
                    ck._decide_input_kind = ck.check(inputs[0]).type.kind
                for cell, inp in zip(row.cells, inputs, strict=True):
                    c = _cell_condition(ck, cell, inp)
                    ck.require(c, ("bool",), cell, "ячейка")
                    if not (isinstance(c, ir.Const) and c.value is True):
                        cond = c if cond is None else ir.Binary(BOOL, row.span, "and", cond, c)
                cond = cond or _true(row.span)
            conds.append(cond)
        except CheckFailed:
            failed = True
    results = []
    for row in d.rows:
        try:
            results.append(ck.check(row.result))
        except CheckFailed:
            failed = True
    if failed:
        raise CheckFailed()
    if d.policy == "collect" and d.aggregator == "count":
        result_type = INT
    else:
        result_type = ck.join_types(results, [r.result for r in d.rows])
        for r, row in zip(results, d.rows, strict=True):
            ck.require_present(r, row.result)
        if d.policy == "collect" and d.aggregator == "sum":
            if result_type.kind not in ("int", "number", "money"):
                raise ck.fail("E0503", "collect sum складывает числа или деньги", d)
            result_type = result_type.required
        elif not else_rows:
            gap = _first_gap(rows, inputs, ck, d)
            if gap is not None:
                result_type = result_type.as_optional(True)
                ck.gap_hint = f"таблица не покрывает все значения входа, например {gap}; добавьте строку else"
    if inputs is not None and d.policy in ("unique", "any"):
        _static_overlaps(ck, d, rows)
    outs = [ck.coerce(r, result_type) for r in results]
    other = outs[-1] if else_rows else None
    pairs = list(zip(conds, outs[:len(rows)], strict=True))
    return ir.DecideNode(result_type, d.span, d.policy, d.aggregator, pairs, other, [r.span for r in rows])


def _first_gap(rows: list[ast.DecideRow], inputs, ck, d: ast.Decide) -> str | None:
    """None when the rows provably cover every value of a single input; else an example gap.

    Only one-input tables of numbers, dates or booleans are analysed; anything else counts
    as not covered (the result stays optional)."""
    if inputs is None or len(inputs) != 1:
        if inputs is not None and any(all(c.kind == "any" for c in r.cells) for r in rows):
            return None
        return "—"
    if getattr(ck, "_decide_input_kind", None) not in ("int", "number", "money", "date", "bool"):
        return "—"
    cells = [r.cells[0] for r in rows]
    sets = [_abstract(c) for c in cells]
    if any(x is None for x in sets):
        return "—"
    if any(x[0] == "all" for x in sets):
        return None
    vals = [v for x in sets if x[0] == "vals" for v in x[1]]
    if vals and all(isinstance(v, bool) for v in vals):
        return None if {True, False} <= set(vals) else ("false" if True in vals else "true")
    if any(x[0] == "notin" for x in sets) or any(isinstance(v, str) for v in vals):
        return "—"   # a code input has no known finite domain: only `else` covers it
    ivs = [(x[1], x[2], x[3], x[4]) for x in sets if x[0] == "iv"] + [(v, True, v, True) for v in vals]
    try:
        ivs.sort(key=lambda t: (t[0], not t[1]))
    except TypeError:
        return "—"
    discrete = getattr(ck, "_decide_input_kind", None) in ("int", "date")
    reach, incl = -_INF, False
    for lo, li, hi, hi_i in ivs:
        touches = lo < reach or (lo == reach and (li or incl)) or (discrete and lo - reach <= 1 and li and incl)
        if reach == -_INF and lo == -_INF:
            touches = True
        if not touches:
            return _show(reach, incl, discrete)
        if hi > reach or (hi == reach and hi_i):
            reach, incl = hi, hi_i
    if reach != _INF:
        return _show(reach, incl, discrete)
    return None


def _show(reach, incl, discrete) -> str:
    if reach == -_INF:
        return "очень малые значения"
    v = reach + 1 if discrete and incl else reach
    return str(int(v)) if discrete or float(v).is_integer() else str(v)


def _static_overlaps(ck, d: ast.Decide, rows: list[ast.DecideRow]) -> None:
    for i, r1 in enumerate(rows):
        for j in range(i + 1, len(rows)):
            r2 = rows[j]
            if _rows_overlap(r1, r2) is not True:
                continue
            if d.policy == "unique":
                ck.diags.error("E0501", f"строки {i + 1} и {j + 1} таблицы решений пересекаются, "
                               "а политика unique требует ровно одного совпадения", r2.span,
                               related=[Related(r1.span, f"строка {i + 1}, с которой есть пересечение")],
                               hints=["сузьте условия или используйте политику first (первое совпадение)"])
                return
            o1, o2 = _literal(r1.result), _literal(r2.result)
            if o1 is not None and o2 is not None and o1 != o2:
                ck.diags.error("E0504", f"строки {i + 1} и {j + 1} пересекаются и дают разные значения, "
                               "а политика any требует одинаковых", r2.span,
                               related=[Related(r1.span, f"строка {i + 1}")])
                return
