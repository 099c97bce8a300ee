"""Parse rule files into the surface AST, keeping positions; syntax errors become diagnostics."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import (
    UnexpectedInput,
)
from lark.indenter import DedentError, Indenter

from dsl import astnodes as ast
from dsl.diagnostics import Diagnostic, DiagnosticError, Span
from dsl.syntax_errors import dedent_diagnostic, syntax_diagnostic

GRAMMAR_PATH = Path(__file__).with_name("grammar.lark")

#: Deepest syntax tree accepted (parse-tree levels: one per operator of a chain like a + b + …,
#: one per `if`, two per nested call). Every later stage (AST building, type checking, evaluation,
#: explanations, the compile cache's pickling) recurses over the tree; this bound keeps all of
#: them well inside Python's default recursion limit, also on a worker thread.
MAX_DEPTH = 200
INT64_MAX = 2**63 - 1


class RuleIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR", "LSQB", "LBRACE"]
    CLOSE_PAREN_types = ["RPAR", "RSQB", "RBRACE"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 4

    def process(self, stream):
        # Lark's Indenter keeps the indent stack and paren level on the instance, and the one
        # parser is shared by every thread: each parse gets its own indenter state instead.
        return _FreshIndenter()._process(stream)


class _FreshIndenter(RuleIndenter):
    """The per-parse state holder (RuleIndenter itself, as installed in Lark, stays untouched)."""


@lru_cache(maxsize=1)
def _parser() -> Lark:
    # The parser object is shared across threads: LALR parsing allocates its state per call, and
    # the postlexer above is stateless; lru_cache itself is thread-safe (a race builds it twice).
    return Lark(GRAMMAR_PATH.read_text(encoding="utf-8"), parser="lalr", postlex=RuleIndenter(),
                propagate_positions=True, maybe_placeholders=True, start=["start", "expr"])


def _tok_span(file: str, tok: Token) -> Span:
    return Span(file, tok.line, tok.column, tok.end_line or tok.line,
                tok.end_column or tok.column + len(tok))


def parse_module(text: str, file: str) -> ast.Module:
    """Parse one rule file. Raises DiagnosticError with positioned diagnostics."""
    try:
        tree = _parser().parse(text if text.endswith("\n") else text + "\n", start="start")
    except (UnexpectedInput, DedentError) as exc:
        if isinstance(exc, DedentError):
            diag = dedent_diagnostic(file, text)
        else:
            diag = syntax_diagnostic(file, text, exc)
        raise DiagnosticError([diag]) from None
    _check_depth(tree, file, 0, 0)
    builder = _Builder(file)
    module = builder.transform(tree)
    module.text = text
    if builder.errors:
        raise DiagnosticError(builder.errors)
    return module


def parse_expression(text: str, at: Span) -> ast.Node:
    """Parse a standalone expression (message placeholders, doc examples); spans are moved to `at`."""
    try:
        tree = _parser().parse(text, start="expr")
    except (UnexpectedInput, DedentError) as exc:
        raise DiagnosticError([Diagnostic("E0212", f"не удалось разобрать выражение «{text}»", at)]) from exc
    _check_depth(tree, at.file, at.line - 1, at.column - 1)
    builder = _Builder(at.file, at.line - 1, at.column - 1)
    node = builder.transform(tree)
    if builder.errors:
        raise DiagnosticError(builder.errors)
    return node


def _check_depth(tree: Tree, file: str, dl: int, dc: int) -> None:
    """E0007 at the first node nested deeper than MAX_DEPTH (walked without recursion)."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            meta = node.meta
            line = getattr(meta, "line", 1)
            column = getattr(meta, "column", 1)
            span = Span.point(file, line + dl, column + (dc if line == 1 else 0))
            raise DiagnosticError([Diagnostic(
                "E0007", f"выражение слишком глубокое: вложенность больше {MAX_DEPTH} уровней", span,
                hints=["разбейте выражение на несколько определений или функций"])])
        stack.extend((c, depth + 1) for c in reversed(node.children) if isinstance(c, Tree))


def _unescape(tok: Token) -> str:
    body = str(tok)[1:-1]
    return body.replace('\\"', '"').replace("\\\\", "\\").replace("\\n", "\n")


@v_args(meta=True)
class _Builder(Transformer):
    def __init__(self, file: str, line_offset: int = 0, column_offset: int = 0) -> None:
        super().__init__()
        self.file = file
        self.errors: list[Diagnostic] = []
        self.dl = line_offset
        self.dc = column_offset

    def _shift(self, line: int, column: int, end_line: int, end_column: int) -> Span:
        if self.dl == 0 and self.dc == 0:
            return Span(self.file, line, column, end_line, end_column)
        dc_start = self.dc if line == 1 else 0
        dc_end = self.dc if end_line == 1 else 0
        return Span(self.file, line + self.dl, column + dc_start, end_line + self.dl, end_column + dc_end)

    def _span(self, meta) -> Span:
        return self._shift(meta.line, meta.column, meta.end_line, meta.end_column)

    def _ts(self, tok: Token) -> Span:
        s = _tok_span(self.file, tok)
        return self._shift(s.line, s.column, s.end_line, s.end_column)

    # ---- module ----
    def start(self, meta, items):
        defs, checks, disables, functions = [], [], [], []
        for it in items:
            if isinstance(it, list):
                defs.extend(it)
            elif isinstance(it, ast.Check):
                checks.append(it)
            elif isinstance(it, ast.Disable):
                disables.append(it)
            elif isinstance(it, ast.FunctionDef):
                functions.append(it)
        return ast.Module(self.file, defs, checks, disables, functions=functions)

    def function(self, meta, children):
        idx = 0
        annotations = []
        while isinstance(children[idx], ast.Annotation):
            annotations.append(children[idx])
            idx += 1
        override, name, *rest = children[idx:]
        *params, returns, body = rest
        params = [p for p in params if p is not None]
        return ast.FunctionDef(self._span(meta), str(name), self._ts(name), params, returns, body,
                               override is not None, annotations)

    def fparam(self, meta, children):
        name, typ, *default = children
        return ast.Param(self._span(meta), str(name), typ, default[0] if default else None)

    def block(self, meta, children):
        entity_tok, *members = children
        for m in members:
            m.entity = str(entity_tok)
            m.entity_span = self._ts(entity_tok)
        return members

    def member(self, meta, children):
        *annotations, override, name, typ, body = children
        return ast.Definition(self._span(meta), "", str(name), self._ts(name), typ, body,
                              override is not None, list(annotations))

    def annotation(self, meta, children):
        key, value = children
        return ast.Annotation(self._span(meta), str(key), _unescape(value))

    def type(self, meta, children):
        optional, name = children
        return ast.TypeRef(self._span(meta), str(name), optional is not None)

    def expr_body(self, meta, children):
        return children[0]

    def decide_body(self, meta, children):
        head, *rows = children
        policy, aggregator, inputs = head
        return ast.Decide(self._span(meta), policy, aggregator, inputs, rows)

    def decide_head(self, meta, children):
        policy, aggregator, args = children
        return (str(policy), str(aggregator) if aggregator is not None else None, args)

    def decide_row(self, meta, children):
        cells, result = children
        return ast.DecideRow(self._span(meta), cells, result)

    def else_row(self, meta, children):
        return ast.DecideRow(self._span(meta), None, children[0])

    def cells(self, meta, children):
        return list(children)

    def any_cell(self, meta, children):
        return ast.Cell(self._span(meta), "any")

    def cmp_cell(self, meta, children):
        op, value = children
        return ast.Cell(self._span(meta), "cmp", op=str(op), value=value)

    def in_cell(self, meta, children):
        return ast.Cell(self._span(meta), "in", items=children[0])

    def not_in_cell(self, meta, children):
        return ast.Cell(self._span(meta), "not_in", items=children[0])

    def range_cell(self, meta, children):
        low, high = children
        return ast.Cell(self._span(meta), "range", value=low, high=high)

    def expr_cell(self, meta, children):
        return ast.Cell(self._span(meta), "expr", value=children[0])

    # ---- checks ----
    def check(self, meta, children):
        idx = 0
        annotations = []
        while isinstance(children[idx], ast.Annotation):
            annotations.append(children[idx])
            idx += 1
        override, name, entity, *clauses = children[idx:]
        return ast.Check(self._span(meta), str(name), self._ts(name), str(entity), self._ts(entity),
                         clauses, override is not None, annotations)

    def catalogue_clause(self, meta, c):
        return ast.Clause(self._span(meta), "catalogue", text=_unescape(c[0]),
                          items=[(_unescape(c[0]), self._ts(c[0]))])

    def kinds_clause(self, meta, c):
        return ast.Clause(self._span(meta), "kinds", items=[(str(t), self._ts(t)) for t in c])

    def valid_clause(self, meta, c):
        return ast.Clause(self._span(meta), "valid", items=[(str(t), self._ts(t)) for t in c if t is not None])

    def code_clause(self, meta, c):
        return ast.Clause(self._span(meta), "code", expr=c[0])

    def title_clause(self, meta, c):
        return ast.Clause(self._span(meta), "title", expr=c[0])

    def when_clause(self, meta, c):
        return ast.Clause(self._span(meta), "when", expr=c[0])

    def withhold_clause(self, meta, c):
        return ast.Clause(self._span(meta), "withhold", expr=c[0], base=c[1])

    def fine_clause(self, meta, c):
        return ast.Clause(self._span(meta), "fine", expr=c[0])

    def message_clause(self, meta, c):
        return ast.Clause(self._span(meta), "message", text=_unescape(c[0]))

    def disable(self, meta, children):
        name, reason = children
        return ast.Disable(self._span(meta), str(name), self._ts(name), _unescape(reason))

    # ---- expressions ----
    def if_expr(self, meta, c):
        cond, then, *rest = c
        branches = [(cond, then)]
        for part in rest[:-1]:
            branches.append(part)
        return ast.If(self._span(meta), branches, rest[-1])

    def elif_part(self, meta, c):
        return (c[0], c[1])

    def or_(self, meta, c):
        return ast.Binary(self._span(meta), "or", c[0], c[1])

    def and_(self, meta, c):
        return ast.Binary(self._span(meta), "and", c[0], c[1])

    def not_(self, meta, c):
        return ast.Unary(self._span(meta), "not", c[0])

    def compare(self, meta, c):
        return ast.Binary(self._span(meta), str(c[1]), c[0], c[2])

    def binop(self, meta, c):
        return ast.Binary(self._span(meta), str(c[1]), c[0], c[2])

    def in_set(self, meta, c):
        return ast.InSet(self._span(meta), c[0], c[1], False)

    def not_in_set(self, meta, c):
        return ast.InSet(self._span(meta), c[0], c[1], True)

    def between(self, meta, c):
        return ast.Between(self._span(meta), c[0], c[1], c[2])

    def neg(self, meta, c):
        return ast.Unary(self._span(meta), "-", c[0])

    def attr(self, meta, c):
        return ast.Attr(self._span(meta), c[0], str(c[1]), self._ts(c[1]))

    def index(self, meta, c):
        return ast.Index(self._span(meta), c[0], c[1])

    def number(self, meta, c):
        span, text = self._span(meta), str(c[0])
        whole = text.split(".")[0].lstrip("0")
        too_big = len(whole) > 19 or ("." not in text and bool(whole) and int(whole) > INT64_MAX)
        if too_big:
            shown = text if len(text) <= 24 else f"{text[:20]}… ({len(text)} знаков)"
            self.errors.append(Diagnostic("E0008", f"число «{shown}» слишком велико", span, hints=[
                f"целые числа — не больше {INT64_MAX}; дробные — до 19 цифр до точки"]))
        return ast.Number(span, text)

    def string(self, meta, c):
        return ast.String(self._span(meta), _unescape(c[0]))

    def date(self, meta, c):
        span = self._span(meta)
        text = str(c[0])
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            self.errors.append(Diagnostic("E0005", f"неверная дата «{text}»: такого дня нет в календаре",
                                          span, hints=["формат даты: ГГГГ-ММ-ДД, например 2025-01-31"]))
        return ast.DateLit(span, text)

    def true(self, meta, c):
        return ast.Bool(self._span(meta), True)

    def false(self, meta, c):
        return ast.Bool(self._span(meta), False)

    def name(self, meta, c):
        return ast.Name(self._span(meta), str(c[0]))

    def call(self, meta, c):
        func, args, alias, by, where, order = c
        order_expr, desc = (order if order is not None else (None, False))
        return ast.Call(self._span(meta), str(func), self._ts(func), args or [], alias, by, where,
                        order_expr, desc)

    def args(self, meta, c):
        return list(c)

    def agg_alias(self, meta, c):
        return str(c[0])

    def agg_by(self, meta, c):
        return list(c)

    def same_key(self, meta, c):
        return ast.Key(self._span(meta), c[0], None)

    def pair_key(self, meta, c):
        return ast.Key(self._span(meta), c[0], c[1])

    def agg_where(self, meta, c):
        return c[0]

    def agg_order(self, meta, c):
        return (c[0], c[1] is not None)

    def setlit(self, meta, c):
        items = []
        for it in c:
            if it is None:
                continue
            if isinstance(it, ast.SetItem):
                items.append(it)
            else:
                items.append(ast.SetItem(it.span, it, None))
        return items

    def set_range(self, meta, c):
        return ast.SetItem(self._span(meta), c[0], c[1])

    def __default__(self, data, children, meta):
        if len(children) == 1:
            return children[0]
        return Tree(data, children, meta)
