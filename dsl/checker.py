"""Checks whole declarations: definitions (with declared types) and control checks."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from dsl import astnodes as ast
from dsl import ir
from dsl.decision import check_decide
from dsl.diagnostics import Diagnostics, Span
from dsl.symbols import Symbols
from dsl.typecheck import CheckFailed, ExprChecker
from dsl.types import MONEY, NUMBER, Type, assignable, parse_type_name

ANNOTATIONS = ("label", "ref", "unit", "doc")
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def declared_type(t: ast.TypeRef, diags: Diagnostics) -> Type | None:
    typ = parse_type_name(t.name, t.optional)
    if typ is None:
        from dsl.diagnostics import did_you_mean
        from dsl.types import KINDS

        diags.error("E0207", f"неизвестный тип «{t.name}»", t.span, hints=did_you_mean(t.name, KINDS))
    return typ


def check_annotations(annotations: list[ast.Annotation], diags: Diagnostics) -> None:
    for a in annotations:
        if a.key not in ANNOTATIONS:
            from dsl.diagnostics import did_you_mean

            diags.error("E0109", f"неизвестная аннотация «@{a.key}»; допустимы: "
                        + ", ".join("@" + k for k in ANNOTATIONS), a.span, hints=did_you_mean(a.key, ANNOTATIONS))


def check_definition(symbols: Symbols, diags: Diagnostics, d: ast.Definition) -> ir.IR | None:
    check_annotations(d.annotations, diags)
    typ = declared_type(d.type, diags)
    if typ is None:
        return None
    ck = ExprChecker(symbols, diags, d.entity)
    try:
        if isinstance(d.body, ast.Decide):
            value = check_decide(ck, d.body)
        else:
            value = ck.check(d.body)
    except CheckFailed:
        return None
    from dsl.typecheck import money_literal

    if typ.kind == "money" and money_literal(value) is not None:
        return ck.coerce(value, typ)
    if not assignable(value.type, typ):
        hints = []
        code = "E0201"
        if value.type.optional and not typ.optional:
            code = "E0205"
            msg = (f"«{d.name}» объявлено как {typ}, а значение может отсутствовать ({value.type}); "
                   "задайте значение по умолчанию: default(…, значение)")
            if getattr(ck, "gap_hint", None):
                hints = [ck.gap_hint]
        elif typ.kind == "money" and value.type.kind == "number":
            code = "E0206"
            msg = f"«{d.name}» объявлено как money, а выражение даёт number: деньги округляются явно"
            hints = ["оберните выражение в round_money(…) — округление до копеек, половина от нуля"]
        else:
            msg = f"«{d.name}» объявлено как {typ}, а выражение имеет тип {value.type}"
        diags.error(code, msg, d.body.span, hints=hints)
        return None
    return ck.coerce(value, typ)


@dataclass
class CheckIR:
    name: str
    entity: str
    code: ir.IR | None
    title: ir.IR | None
    when: ir.IR | None
    share: ir.IR | None
    base: ir.IR | None
    fine: ir.IR | None
    message: str | None
    placeholders: dict[str, ir.IR] = field(default_factory=dict)
    catalogue: str | None = None              # Q015 ID, e.g. 003F.00.0010
    kinds: tuple[str, ...] | None = None      # registry file kinds the check applies to
    valid_from: dt.date | None = None         # validity of the check by the account's period
    valid_to: dt.date | None = None
    account_path: tuple[tuple[str, str], ...] = ()   # (relation, target entity) steps to the account


def check_check(symbols: Symbols, diags: Diagnostics, c: ast.Check) -> CheckIR | None:
    check_annotations(c.annotations, diags)
    if c.entity not in symbols.entities:
        from dsl.diagnostics import did_you_mean

        diags.error("E0103", f"неизвестная сущность «{c.entity}»", c.entity_span,
                    hints=did_you_mean(c.entity, list(symbols.entities)))
        return None
    seen: dict[str, ast.Clause] = {}
    for cl in c.clauses:
        if cl.kind in seen:
            from dsl.diagnostics import Related

            diags.error("E0702", f"предложение «{cl.kind}» повторяется в проверке «{c.name}»", cl.span,
                        related=[Related(seen[cl.kind].span, "первое вхождение")])
        seen[cl.kind] = cl
    for required in ("code", "title", "when"):
        if required not in seen:
            diags.error("E0701", f"в проверке «{c.name}» нет обязательного предложения «{required}»", c.name_span)
    ck = ExprChecker(symbols, diags, c.entity)
    out = CheckIR(c.name, c.entity, None, None, None, None, None, None, None)
    ok = check_catalogue_clauses(c, diags, out)
    if ok and (out.kinds is not None or out.valid_from is not None):
        ok = check_account_reach(symbols, diags, c, out)

    def typed(clause: ast.Clause | None, kinds: tuple[str, ...], what: str, node: ast.Node | None = None):
        nonlocal ok
        if clause is None:
            return None
        try:
            x = ck.check(node if node is not None else clause.expr)
            return ck.require(x, kinds, node if node is not None else clause.expr, what)
        except CheckFailed:
            ok = False
            return None

    out.code = typed(seen.get("code"), ("code", "text"), "код дефекта")
    out.title = typed(seen.get("title"), ("code", "text"), "наименование")
    out.when = typed(seen.get("when"), ("bool",), "условие «when»")
    wh = seen.get("withhold")
    if wh is not None:
        share = typed(wh, ("int", "number"), "доля неоплаты")
        base = typed(wh, ("money",), "сумма, от которой считается неоплата", wh.base)
        out.share = ck.to_float(share) if share is not None else None
        out.base = base
    fine_clause = seen.get("fine")
    fine = None
    if fine_clause is not None:
        try:
            raw = ck.check(fine_clause.expr)
            fine = ck.coerce(raw, MONEY)
            ck.require(fine, ("int", "money"), fine_clause.expr, "штраф")
        except CheckFailed:
            ok = False
            fine = None
    out.fine = ck.coerce(fine, MONEY) if fine is not None else None
    msg = seen.get("message")
    if msg is not None:
        from dsl.parser import parse_expression  # here, so loading a compiled methodology needs no lark

        out.message = msg.text
        for m in _PLACEHOLDER.finditer(msg.text):
            text = m.group(1).strip()
            line_off = msg.span.column + len("message \"") + m.start(1)
            span = Span(msg.span.file, msg.span.line, line_off, msg.span.line, line_off + len(m.group(1)))
            try:
                node = parse_expression(text, span)
                x = ck.check(node)
                out.placeholders[text] = x
            except CheckFailed:
                ok = False
            except Exception:  # a parse error inside a placeholder
                diags.error("E0212", f"подстановка «{{{text}}}» в сообщении не является выражением", span)
                ok = False
    return out if ok and not diags.errors else (out if ok else None)


FILE_KINDS = ("H", "C", "T", "D", "L")
CATALOGUE_ID = re.compile(r"\d{3}F\.\d{2}\.\d{4}")
_BINDING = ("catalogue", "kinds", "valid")


ACCOUNT = "account"


def account_path(symbols: Symbols, entity: str) -> tuple[tuple[str, str], ...] | None:
    """(relation, target) steps leading from `entity` to the account (shortest, required relations only)."""
    frontier: list[tuple[str, tuple[tuple[str, str], ...]]] = [(entity, ())]
    seen = {entity}
    while frontier:
        nxt = []
        for name, path in frontier:
            if name == ACCOUNT:
                return path
            info = symbols.entities.get(name)
            for rel, target in (info.relations.items() if info else ()):
                if rel in info.optional_relations or target in seen:
                    continue
                seen.add(target)
                nxt.append((target, path + ((rel, target),)))
        frontier = nxt
    return None


def check_account_reach(symbols: Symbols, diags: Diagnostics, c: ast.Check, out: CheckIR) -> bool:
    """A check limited by file kind or period must reach account fields that carry them."""
    path = account_path(symbols, c.entity)
    if path is None:
        diags.error("E0708", f"проверка «{c.name}» ограничена видом файла или периодом, но от сущности"
                    f" «{c.entity}» нет связи до счёта ({ACCOUNT})", c.entity_span)
        return False
    attrs = symbols.entities[ACCOUNT].attrs
    need = []
    if out.kinds is not None and "file_type" not in attrs and "filename" not in attrs:
        need.append("file_type")
    if out.valid_from is not None:
        need += [f for f in ("year", "month") if f not in attrs]
    if need:
        diags.error("E0708", f"проверка «{c.name}» ограничена видом файла или периодом, но у счёта нет"
                    " полей " + ", ".join(need), (c.clause("kinds") or c.clause("valid")).span)
        return False
    out.account_path = path
    return True


def catalogue_check_name(ident: str) -> str:
    """The name a check bound to a catalogue ID carries: q015_003f_00_0010."""
    return "q015_" + ident.lower().replace(".", "_")


def check_catalogue_clauses(c: ast.Check, diags: Diagnostics, out: CheckIR) -> bool:
    """`catalogue`, `kinds`, `valid from … [to …]`: shape of the ID, known kinds, a real period."""
    ok = True
    order = [cl.kind for cl in c.clauses]
    last = -1
    for i, cl in enumerate(c.clauses):
        if cl.kind not in _BINDING:
            continue
        pos = _BINDING.index(cl.kind)
        others = [k for k in order[:i] if k not in _BINDING]
        if others or pos < last:
            diags.error("E0703", f"предложение «{cl.kind}» должно стоять в начале проверки «{c.name}»"
                        " в порядке catalogue, kinds, valid", cl.span,
                        hints=["сначала catalogue \"NNNF.NN.NNNN\", затем kinds …, затем valid from …"])
            ok = False
        last = max(last, pos)
    cat = c.clause("catalogue")
    if cat is not None:
        ident, span = cat.items[0]
        if not CATALOGUE_ID.fullmatch(ident):
            diags.error("E0704", f"«{ident}» не похож на идентификатор проверки каталога Q015", span,
                        hints=["формат: три цифры, F, точка, две цифры, точка, четыре цифры — например 003F.00.0010"])
            ok = False
        else:
            out.catalogue = ident
            expected = catalogue_check_name(ident)
            if c.name != expected and not c.name.startswith(expected + "_"):
                diags.error("E0707", f"проверка каталога {ident} должна называться «{expected}»"
                            f" (или «{expected}_…»), а не «{c.name}»", c.name_span)
                ok = False
    kinds = c.clause("kinds")
    if kinds is not None:
        letters: list[str] = []
        for letter, span in kinds.items:
            if letter not in FILE_KINDS:
                from dsl.diagnostics import did_you_mean

                diags.error("E0705", f"неизвестный вид файла реестра «{letter}»; допустимы: "
                            + ", ".join(FILE_KINDS), span, hints=did_you_mean(letter, FILE_KINDS))
                ok = False
            elif letter in letters:
                diags.error("E0705", f"вид файла «{letter}» указан дважды", span)
                ok = False
            else:
                letters.append(letter)
        out.kinds = tuple(letters)
    valid = c.clause("valid")
    if valid is not None:
        dates: list[dt.date | None] = []
        for text, span in valid.items:
            try:
                dates.append(dt.date.fromisoformat(text))
            except ValueError:
                diags.error("E0005", f"неверная дата «{text}»: такого дня нет в календаре", span,
                            hints=["формат даты: ГГГГ-ММ-ДД, например 2025-01-31"])
                dates.append(None)
                ok = False
        out.valid_from = dates[0]
        out.valid_to = dates[1] if len(dates) > 1 else None
        if out.valid_from and out.valid_to and out.valid_to < out.valid_from:
            diags.error("E0706", f"срок действия проверки «{c.name}» кончается ({out.valid_to}) раньше,"
                        f" чем начинается ({out.valid_from})", valid.items[1][1],
                        hints=["valid from НАЧАЛО to КОНЕЦ, КОНЕЦ не раньше НАЧАЛА"])
            ok = False
    return ok


__all__ = ["check_definition", "check_check", "CheckIR", "declared_type", "NUMBER"]


def _check_defaults(symbols: Symbols, diags: Diagnostics, fn) -> None:
    """Defaults are trailing and context-free (constants, package parameters, tables): a call
    that omits the argument evaluates the default in its own context, which may be any entity."""
    from dsl.types import assignable

    seen_default = None
    for p, (_, typ) in zip(fn.node.params, fn.params, strict=True):
        if p.default is None:
            if seen_default is not None:
                diags.error("E0203", f"функция «{fn.name}»: аргумент «{p.name}» без значения по умолчанию стоит после "
                            f"аргумента со значением по умолчанию «{seen_default}»", p.span)
            continue
        seen_default = p.name
        ck = ExprChecker(symbols, diags, None)
        try:
            value = ck.coerce(ck.check(p.default), typ)
        except CheckFailed:
            continue
        if not assignable(value.type, typ):
            diags.error("E0204", f"функция «{fn.name}»: значение по умолчанию аргумента «{p.name}» имеет тип "
                        f"{value.type}, а аргумент объявлен как {typ}", p.default.span)


def check_function(symbols: Symbols, diags: Diagnostics, fn, ensure_function=None) -> ir.IR | None:
    """Type-check a function body once; arguments become ArgRef, dates come from the caller."""
    from dsl.typecheck import money_literal

    check_annotations(fn.node.annotations, diags)
    _check_defaults(symbols, diags, fn)
    args = {name: (i, typ) for i, (name, typ) in enumerate(fn.params)}
    ck = ExprChecker(symbols, diags, None, fn_args=args, ensure_function=ensure_function)
    try:
        value = ck.check(fn.node.body)
    except CheckFailed:
        return None
    if fn.returns.kind == "money" and money_literal(value) is not None:
        return ck.coerce(value, fn.returns)
    if not assignable(value.type, fn.returns):
        code, hints = "E0201", []
        msg = f"функция «{fn.name}» объявлена как возвращающая {fn.returns}, а тело имеет тип {value.type}"
        if fn.returns.kind == "money" and value.type.kind == "number":
            code, hints = "E0206", ["оберните выражение в round_money(…) — округление до копеек, половина от нуля"]
        elif value.type.optional and not fn.returns.optional:
            code, hints = "E0205", ["задайте значение по умолчанию: default(…, значение)"]
        diags.error(code, msg, fn.node.body.span, hints=hints)
        return None
    return ck.coerce(value, fn.returns)
