"""Type checker: surface AST → typed IR, with positioned diagnostics.

Definitions refer to each other through their *declared* types, so every definition
is checked on its own; order and cycles are the dependency graph's business.
"""

from __future__ import annotations

import datetime as dt

from dsl import astnodes as ast
from dsl import ir
from dsl.diagnostics import Diagnostics, Related, did_you_mean
from dsl.primitives import check_arity, lookup
from dsl.primitives.registry import PrimitiveTypeError
from dsl.scope import Scope
from dsl.symbols import Symbols
from dsl.types import BOOL, CODE, DATE, INT, MONEY, NUMBER, TEXT, Type, arithmetic_result, comparable

AGGREGATES = ("sum", "count", "min", "max", "any", "all", "avg", "first", "last")
WINDOWS = ("rank", "distribute", "running_sum")


def money_literal(x: ir.IR) -> int | None:
    """Kopecks of a number literal written with at most two decimals, else None."""
    if not isinstance(x, ir.Const) or x.type.kind != "number":
        return None
    from decimal import Decimal

    d = Decimal(repr(x.value))
    k = d * 100
    return int(k) if k == k.to_integral_value() else None


class CheckFailed(Exception):
    """Internal: abandon the current expression after a diagnostic was recorded."""


class ExprChecker:
    def __init__(self, symbols: Symbols, diags: Diagnostics, entity: str | None,
                 fn_args: dict[str, tuple[int, Type]] | None = None, ensure_function=None) -> None:
        self.symbols = symbols
        self.diags = diags
        self.scope = Scope(entity)
        self.fn_args = fn_args                 # inside a function body: its arguments
        self.ensure_function = ensure_function  # checks a called function's body first (compiler)

    @property
    def in_function(self) -> bool:
        return self.fn_args is not None

    def date_frame(self) -> int:
        """Whose as-of date selects dated parameters and table rows here."""
        if self.in_function:
            return ir.CALLER_FRAME
        frame = self.scope.bare_frame()
        return frame if self.scope.frames[frame].entity is not None else -1

    # ---- helpers ----------------------------------------------------------
    def fail(self, code: str, message: str, node: ast.Node, *, hints=(), related=()) -> CheckFailed:
        self.diags.error(code, message, node.span, hints=hints, related=related)
        return CheckFailed()

    def check(self, node: ast.Node) -> ir.IR:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise self.fail("E0002", "конструкция здесь недопустима", node)
        return method(node)

    def require_present(self, x: ir.IR, node: ast.Node) -> ir.IR:
        if x.type.optional:
            raise self.fail("E0205", f"значение может отсутствовать (тип {x.type}); "
                            "используйте default(…, значение) или present(…)", node)
        return x

    def require(self, x: ir.IR, kinds: tuple[str, ...], node: ast.Node, what: str) -> ir.IR:
        self.require_present(x, node)
        if x.type.kind not in kinds:
            raise self.fail("E0202", f"{what}: ожидался тип {' или '.join(kinds)}, а получен {x.type}", node)
        return x

    @staticmethod
    def to_float(x: ir.IR) -> ir.IR:
        if x.type.kind == "number":
            return x
        if isinstance(x, ir.Const) and x.type.kind == "int":
            return ir.Const(NUMBER, x.span, float(x.value))
        return ir.Convert(NUMBER.as_optional(x.type.optional), x.span, "float", x)

    @staticmethod
    def to_kopecks(x: ir.IR) -> ir.IR:
        if isinstance(x, ir.Const) and x.type.kind == "int":
            return ir.Const(MONEY, x.span, int(x.value) * 100)
        return ir.Convert(MONEY.as_optional(x.type.optional), x.span, "kopecks", x)

    def coerce(self, x: ir.IR, target: Type) -> ir.IR:
        """Widen int → number/money where the target asks for it; a written amount with at most
        two decimals (1500.00) is money exactly."""
        if x.type.kind == "int" and target.kind == "number":
            return self.to_float(x)
        if x.type.kind == "int" and target.kind == "money":
            return self.to_kopecks(x)
        if target.kind == "money" and money_literal(x) is not None:
            return ir.Const(MONEY, x.span, money_literal(x))
        return x

    # ---- literals ---------------------------------------------------------
    def _Number(self, n: ast.Number) -> ir.IR:
        if "." in n.text:
            return ir.Const(NUMBER, n.span, float(n.text))
        return ir.Const(INT, n.span, int(n.text))

    def _String(self, n: ast.String) -> ir.IR:
        return ir.Const(CODE, n.span, n.value)

    def _DateLit(self, n: ast.DateLit) -> ir.IR:
        d = dt.date.fromisoformat(n.text)
        return ir.Const(DATE, n.span, (d - dt.date(1970, 1, 1)).days)

    def _Bool(self, n: ast.Bool) -> ir.IR:
        return ir.Const(BOOL, n.span, n.value)

    # ---- names ------------------------------------------------------------
    def _candidates(self, entity: str | None) -> list[str]:
        out = list(self.symbols.params)
        if entity and entity in self.symbols.entities:
            e = self.symbols.entities[entity]
            out += list(e.attrs) + list(e.relations)
        out += [f.alias for f in self.scope.frames if f.alias]
        out += list(self.fn_args or {})
        out += list(self.symbols.entities)
        return out

    def _attr_ref(self, frame: int, path: tuple[str, ...], entity: str, name: str, node: ast.Node,
                  name_node_span=None) -> ir.IR:
        info = self.symbols.entities[entity]
        attr = info.attrs.get(name)
        if attr is None:
            if name in info.relations:
                raise self.fail("E0102", f"«{name}» — связь сущности «{entity}», а не значение; "
                                f"укажите поле: {name}.<поле>", node)
            label = f" ({info.label})" if info.label else ""
            cands = list(info.attrs) + list(info.relations)
            raise self.fail("E0102", f"у сущности «{entity}»{label} нет поля или определения «{name}»",
                            node, hints=did_you_mean(name, cands))
        typ = attr.type
        if path:
            # navigation through a many-to-one relation may find no row
            typ = typ.as_optional(typ.optional or self._path_optional(frame, path))
        return ir.FieldRef(typ, node.span, frame, path, entity, name, attr.is_definition)

    def _path_optional(self, frame: int, path: tuple[str, ...]) -> bool:
        """Navigation is optional when a relation on the path may find no row (`optional: true`);
        required relations are checked at binding, so they always resolve."""
        entity = self.scope.frames[frame].entity
        for rel in path:
            info = self.symbols.entities[entity]
            if rel in info.optional_relations:
                return True
            entity = info.relations[rel]
        return False

    def _Name(self, n: ast.Name) -> ir.IR:
        if self.fn_args is not None and n.name in self.fn_args:
            index, typ = self.fn_args[n.name]
            return ir.ArgRef(typ, n.span, index, n.name)
        frame = self.scope.bare_frame()
        entity = self.scope.frames[frame].entity
        if entity is not None:
            info = self.symbols.entities[entity]
            if n.name in info.attrs:
                if n.name in self.symbols.params:
                    p = self.symbols.params[n.name]
                    raise self.fail("E0108", f"имя «{n.name}» неоднозначно: это и поле сущности «{entity}», "
                                    "и параметр методологии", n,
                                    related=[Related(p.span, "параметр объявлен здесь")] if p.span else [])
                return self._attr_ref(frame, (), entity, n.name, n)
            if n.name in info.relations:
                raise self.fail("E0102", f"«{n.name}» — связь, а не значение; укажите поле: {n.name}.<поле>", n)
        if n.name in self.symbols.params:
            p = self.symbols.params[n.name]
            return ir.ParamRef(p.type, n.span, n.name, self.date_frame())
        if n.name in self.symbols.tables:
            raise self.fail("E0104", f"«{n.name}» — таблица; обращение к строке: {n.name}[ключ].<столбец>", n)
        if n.name in self.symbols.entities or self.scope.frame_for_prefix(n.name) is not None:
            raise self.fail("E0103", f"«{n.name}» — сущность; укажите поле: {n.name}.<поле>", n)
        raise self.fail("E0101", f"неизвестное имя «{n.name}»", n,
                        hints=did_you_mean(n.name, self._candidates(entity)))

    def _Attr(self, n: ast.Attr) -> ir.IR:
        if isinstance(n.base, ast.Index):
            return self._lookup(n.base, n.name, n)
        chain: list[ast.Attr] = []
        base: ast.Node = n
        while isinstance(base, ast.Attr):
            chain.append(base)
            base = base.base
        chain.reverse()
        if not isinstance(base, ast.Name):
            raise self.fail("E0102", "обращение к полю возможно только у сущности, связи или строки таблицы", n)
        head = base.name
        frame = self.scope.frame_for_prefix(head)
        path: tuple[str, ...] = ()
        if frame is not None:
            entity = self.scope.frames[frame].entity
            steps = chain
        else:
            frame = self.scope.bare_frame()
            entity = self.scope.frames[frame].entity
            info = self.symbols.entities.get(entity) if entity else None
            if info is not None and head in info.relations:
                path = (head,)
                entity = info.relations[head]
                steps = chain
            elif head in self.symbols.entities and self.in_function:
                raise self.fail("E0213", f"в функции нет строк сущностей: передайте значение «{head}.…» аргументом",
                                base)
            elif head in self.symbols.entities:
                raise self.fail("E0103", f"сущность «{head}» здесь недоступна: к её строкам можно обратиться "
                                f"только внутри агрегата, например count({head} …)", base)
            else:
                cands = self._candidates(self.scope.frames[self.scope.bare_frame()].entity)
                raise self.fail("E0101", f"неизвестное имя «{head}»", base, hints=did_you_mean(head, cands))
        for i, step in enumerate(steps):
            info = self.symbols.entities[entity]
            last = i == len(steps) - 1
            if not last and step.name in info.relations:
                path = path + (step.name,)
                entity = info.relations[step.name]
                continue
            if not last:
                raise self.fail("E0102", f"у сущности «{entity}» нет связи «{step.name}»", step,
                                hints=did_you_mean(step.name, list(info.relations)))
            return self._attr_ref(frame, path, entity, step.name, step)
        raise self.fail("E0102", "ожидалось поле после имени сущности", n)

    # ---- tables -----------------------------------------------------------
    def _table_keys(self, idx: ast.Index) -> tuple[str, list[ir.IR]]:
        if not isinstance(idx.base, ast.Name):
            raise self.fail("E0104", "квадратные скобки применяются только к таблице: таблица[ключ]", idx)
        name = idx.base.name
        table = self.symbols.tables.get(name)
        if table is None:
            raise self.fail("E0104", f"неизвестная таблица «{name}»", idx.base,
                            hints=did_you_mean(name, list(self.symbols.tables)))
        if len(idx.args) != len(table.keys):
            keys = ", ".join(k for k, _ in table.keys)
            from dsl.diagnostics import plural

            k = len(table.keys)
            raise self.fail("E0211", f"у таблицы «{name}» ключ из {k} {plural(k, 'поля', 'полей', 'полей')} ({keys}), "
                            f"передано {len(idx.args)}", idx)
        keys = []
        for arg, (kname, ktype) in zip(idx.args, table.keys, strict=True):
            k = self.require_present(self.check(arg), arg)
            if not comparable(k.type, ktype):
                raise self.fail("E0211", f"ключ «{kname}» таблицы «{name}» имеет тип {ktype}, "
                                f"а передано значение типа {k.type}", arg)
            keys.append(self.coerce(k, ktype))
        return name, keys

    def _lookup(self, idx: ast.Index, column: str, node: ast.Node) -> ir.IR:
        name, keys = self._table_keys(idx)
        table = self.symbols.tables[name]
        if column not in table.columns:
            raise self.fail("E0105", f"в таблице «{name}» нет столбца «{column}»", node,
                            hints=did_you_mean(column, list(table.columns)))
        typ = table.columns[column].as_optional(True)
        return ir.Lookup(typ, node.span, name, keys, column, self.date_frame())

    def _Index(self, n: ast.Index) -> ir.IR:
        raise self.fail("E0105", "укажите столбец таблицы: таблица[ключ].<столбец> или exists(таблица[ключ])", n)

    # ---- operators --------------------------------------------------------
    def _Unary(self, n: ast.Unary) -> ir.IR:
        x = self.check(n.operand)
        if n.op == "not":
            self.require(x, ("bool",), n.operand, "операнд «not»")
            return ir.Unary(BOOL, n.span, "not", x)
        self.require(x, ("int", "number", "money"), n.operand, "операнд унарного минуса")
        if isinstance(x, ir.Const):
            return ir.Const(x.type, n.span, -x.value)
        return ir.Unary(x.type, n.span, "-", x)

    def _Binary(self, n: ast.Binary) -> ir.IR:
        a = self.check(n.left)
        b = self.check(n.right)
        if n.op in ("and", "or"):
            self.require(a, ("bool",), n.left, f"левый операнд «{n.op}»")
            self.require(b, ("bool",), n.right, f"правый операнд «{n.op}»")
            return ir.Binary(BOOL, n.span, n.op, a, b)
        self.require_present(a, n.left)
        self.require_present(b, n.right)
        if n.op in ("==", "!=", "<", "<=", ">", ">="):
            return self._compare(n, a, b)
        res = arithmetic_result(n.op, a.type, b.type)
        if res is None:
            hint = []
            if "money" in (a.type.kind, b.type.kind):
                hint = ["деньги складываются только с деньгами; умножение денег на дробное число даёт number — "
                        "округлите явно: round_money(…)"]
            raise self.fail("E0202", f"операция «{n.op}» не определена для типов {a.type} и {b.type}", n,
                            hints=hint)
        if res.kind == "number":
            a, b = self.to_float(a), self.to_float(b)
        return ir.Binary(res, n.span, n.op, a, b)

    def _compare(self, n: ast.Binary, a: ir.IR, b: ir.IR) -> ir.IR:
        if not comparable(a.type, b.type):
            raise self.fail("E0202", f"нельзя сравнить значение типа {a.type} со значением типа {b.type}", n)
        if a.type.kind in ("code", "text", "bool") and n.op not in ("==", "!="):
            raise self.fail("E0202", f"значения типа {a.type.kind} сравниваются только на равенство "
                            "(для диапазонов МКБ-10 — icd_in)", n)
        ka, kb = a.type.kind, b.type.kind
        if ka != kb:
            if "money" in (ka, kb) and "number" not in (ka, kb):
                a = self.to_kopecks(a) if ka == "int" else a
                b = self.to_kopecks(b) if kb == "int" else b
            else:
                a, b = self.to_float(a), self.to_float(b)
        return ir.Binary(BOOL, n.span, n.op, a, b)

    def _const_value(self, node: ast.Node, kind: str):
        x = self.check(node)
        if not isinstance(x, ir.Const):
            raise self.fail("E0209", "элементы множества должны быть константами", node)
        if x.type.kind != kind and not (kind in ("number", "money") and x.type.kind in ("int", "number")) \
                and not (kind in ("code", "text") and x.type.kind in ("code", "text")):
            raise self.fail("E0209", f"элемент множества имеет тип {x.type}, а проверяемое значение — {kind}", node)
        v = x.value
        if kind == "money":
            v = round(float(v) * 100)
        elif kind == "number":
            v = float(v)
        return v

    def _InSet(self, n: ast.InSet) -> ir.IR:
        x = self.check(n.operand)
        self.require_present(x, n.operand)
        kind = x.type.kind
        values, ranges = [], []
        for item in n.items:
            lo = self._const_value(item.low, kind)
            if item.high is None:
                values.append(lo)
            else:
                if kind in ("code", "text", "bool"):
                    raise self.fail("E0209", "диапазон во множестве допустим только для чисел и дат", item)
                ranges.append((lo, self._const_value(item.high, kind)))
        return ir.InSetNode(BOOL, n.span, x, values, ranges, n.negated)

    def _Between(self, n: ast.Between) -> ir.IR:
        x, lo, hi = self.check(n.operand), self.check(n.low), self.check(n.high)
        ge = self._compare(ast.Binary(n.span, ">=", n.operand, n.low), self.require_present(x, n.operand),
                           self.require_present(lo, n.low))
        le = self._compare(ast.Binary(n.span, "<=", n.operand, n.high), x, self.require_present(hi, n.high))
        return ir.Binary(BOOL, n.span, "and", ge, le)

    def _If(self, n: ast.If) -> ir.IR:
        branches = []
        for cond, val in n.branches:
            c = self.require(self.check(cond), ("bool",), cond, "условие «if»")
            branches.append((c, cond, self.check(val), val))
        other = self.check(n.otherwise)
        result_type = self.join_types([b[2] for b in branches] + [other], [b[3] for b in branches] + [n.otherwise])
        out = self.coerce(other, result_type)
        for c, _cn, v, _vn in reversed(branches):
            out = ir.IfNode(result_type, n.span, c, self.coerce(v, result_type), out)
        return out

    def join_types(self, values: list[ir.IR], nodes: list[ast.Node]) -> Type:
        kinds = {v.type.kind for v in values}
        optional = any(v.type.optional for v in values)
        if len(kinds) == 1:
            return Type(kinds.pop(), optional)
        if kinds <= {"int", "number"}:
            return NUMBER.as_optional(optional)
        if kinds <= {"int", "money"}:
            return MONEY.as_optional(optional)
        if kinds <= {"code", "text"}:
            return TEXT.as_optional(optional)
        first = values[0]
        for v, node in zip(values[1:], nodes[1:], strict=True):
            if v.type.kind != first.type.kind:
                raise self.fail("E0208", f"ветви дают значения разных типов: {first.type} и {v.type}", node,
                                related=[Related(nodes[0].span, f"здесь значение типа {first.type}")])
        raise AssertionError("unreachable")

    # ---- calls ------------------------------------------------------------
    def _Call(self, n: ast.Call) -> ir.IR:
        from dsl.typecheck_agg import check_aggregate

        if n.func == "exists":
            if len(n.args) != 1 or not isinstance(n.args[0], ast.Index) or n.has_clauses:
                raise self.fail("E0203", "exists принимает одну строку таблицы: exists(таблица[ключ])", n)
            name, keys = self._table_keys(n.args[0])
            return ir.Lookup(BOOL, n.span, name, keys, None, self.date_frame())
        fn = self.symbols.functions.get(n.func)
        if fn is not None:
            return self._user_call(fn, n)
        is_agg = n.func in AGGREGATES and (n.has_clauses or len(n.args) == 1)
        if (n.func in WINDOWS or is_agg) and self.in_function:
            raise self.fail("E0213", f"агрегат {n.func}(…) внутри функции недопустим: функция считает по своим "
                            "аргументам; передайте агрегат аргументом", n)
        if n.func in WINDOWS or is_agg:
            return check_aggregate(self, n)
        if n.has_clauses:
            raise self.fail("E0203", f"функция «{n.func}» не агрегирует: by/where/as/order здесь недопустимы", n)
        prim = lookup(n.func)
        if prim is None:
            from dsl.primitives import names

            raise self.fail("E0106", f"неизвестная функция «{n.func}»", ast.Name(n.func_span, n.func),
                            hints=did_you_mean(n.func, names() + ["exists"]))
        err = check_arity(prim, len(n.args))
        if err:
            raise self.fail("E0203", err, n)
        args = [self.check(a) for a in n.args]
        return self.apply_primitive(prim, args, n.args, n)

    def _user_call(self, fn, n: ast.Call) -> ir.IR:
        from dsl.diagnostics import plural
        from dsl.types import assignable

        if n.has_clauses:
            raise self.fail("E0203", f"функция «{fn.name}» не агрегирует: by/where/as/order здесь недопустимы", n)
        k, need = len(fn.params), fn.required
        if not need <= len(n.args) <= k:
            sig = ", ".join(f"{p}: {t}" + (" = …" if fn.defaults and fn.defaults[i] is not None else "")
                            for i, (p, t) in enumerate(fn.params))
            count = f"{k} {plural(k, 'аргумент', 'аргумента', 'аргументов')}" if need == k else f"от {need} до {k} аргументов"
            raise self.fail("E0203", f"функция «{fn.name}» принимает {count}, "
                            f"передано {len(n.args)}; сигнатура: {fn.name}({sig}) -> {fn.returns}", n)
        nodes = list(n.args) + [fn.defaults[i] for i in range(len(n.args), k)]
        args = []
        for (pname, ptype), node in zip(fn.params, nodes, strict=True):
            a = self.coerce(self.check(node), ptype)
            if not assignable(a.type, ptype):
                raise self.fail("E0204", f"{fn.name}: аргумент «{pname}» имеет тип {ptype}, а передано значение типа "
                                f"{a.type}", node)
            args.append(a)
        if fn.body is None and self.ensure_function is not None:
            self.ensure_function(fn.name, n)
        if fn.body is None:
            raise CheckFailed()   # the function itself has errors, already reported
        frame = ir.CALLER_FRAME if self.in_function else self.date_frame()
        return ir.FuncCall(fn.returns, n.span, fn.name, args, fn.body, frame)

    def apply_primitive(self, prim, args: list[ir.IR], nodes: list[ast.Node], n: ast.Node,
                        consts: list[object] | None = None) -> ir.IR:
        if consts is None:
            consts = [a.value if isinstance(a, ir.Const) else None for a in args]
        if not prim.handles_missing:
            for a, node in zip(args, nodes, strict=False):
                self.require_present(a, node)
        try:
            result = prim.typer([a.type for a in args], consts)
        except PrimitiveTypeError as e:
            where = nodes[e.arg] if e.arg is not None and e.arg < len(nodes) else n
            raise self.fail(e.code, f"{prim.name}: {e.message}", where, hints=[f"сигнатура: {prim.signature}"]) \
                from None
        return ir.CallNode(result, n.span, prim, args)


def check_expression(symbols: Symbols, diags: Diagnostics, node: ast.Node, entity: str | None) -> ir.IR | None:
    """Check one expression in the scope of `entity` (None = global); None when it had errors."""
    checker = ExprChecker(symbols, diags, entity)
    try:
        return checker.check(node)
    except CheckFailed:
        return None
