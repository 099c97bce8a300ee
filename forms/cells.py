"""Cell expressions → typed IR with the rule language's own parser and type checker.

Three things are added on top of the language, all at the AST level so that every
position stays the one in the YAML file:

* **placeholders** ``$name`` (form parameters, ``$key`` of a repeated row) become string
  literals of the same width, so spans do not move; their IR constants are set per row;
* **filters**: a row's ``where`` and a column's ``where`` are and-ed into the ``where`` of
  every aggregate of a template cell (``sum(case.billed)`` in the row «КС» becomes
  ``sum(case.billed where case.usl_ok == 1)``);
* **cell references** ``r01.billed`` (row code 01, column billed; «02.1» is written
  ``r02_1``; ``r.billed`` is the same row) become parameters of the type of that cell.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

from dsl import astnodes as ast
from dsl import ir
from dsl.diagnostics import DiagnosticError, Diagnostics, Span, did_you_mean
from dsl.parser import parse_expression
from dsl.symbols import ParamInfo, Symbols
from dsl.typecheck import check_expression
from forms.definition_model import Expr

PLACEHOLDER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]+)")
MARK = "¤"
AGGREGATES = {"sum", "count", "min", "max", "avg", "any", "all", "first", "last"}
CELL_REF = re.compile(r"^r([0-9_]*)$")


@dataclass
class Compiled:
    ir: ir.IR
    consts: dict[str, list[ir.Const]]      # placeholder name → IR constants to set
    refs: list[tuple[str, Span]]           # cell names "01.billed" read by the expression


def cell_name(row_code: str, column: str) -> str:
    return f"{row_code}.{column}"


def _mask(text: str) -> tuple[str, dict[str, str]]:
    names: dict[str, str] = {}

    def sub(m: re.Match) -> str:
        name = m.group(1)
        width = len(m.group(0)) - 2
        marker = names.get(name)
        if marker is None:
            marker = (MARK + str(len(names))).ljust(width, MARK)[:width]
            names[name] = marker
        return '"' + marker + '"'

    return PLACEHOLDER.sub(sub, text), names


def parse(expr: Expr) -> tuple[ast.Node, dict[str, str]]:
    masked, names = _mask(expr.text)
    return parse_expression(masked, expr.span), names


class CellCompiler:
    """Compiles cell and control expressions of one form against a world's symbols."""

    def __init__(self, symbols: Symbols, diags: Diagnostics, row_codes: set[str], columns: set[str],
                 params: set[str]) -> None:
        self.symbols = symbols
        self.diags = diags
        self.row_codes = row_codes
        self.columns = columns
        self.params = params
        self.failed: set[str] = set()   # cells whose own errors are already reported

    def references(self, node: ast.Node, this_row: str | None) -> list[tuple[str, Span]]:
        out = []
        for n in _walk(node):
            if isinstance(n, ast.Attr) and isinstance(n.base, ast.Name):
                m = CELL_REF.match(n.base.name)
                if m and n.base.name not in self.symbols.entities:
                    code = m.group(1).replace("_", ".") if m.group(1) else this_row
                    out.append((f"{code}.{n.name}", n.span))
        return out

    def compile(self, expr: Expr, entity: str | None = None, filters: list[Expr] = (),
                this_row: str | None = None, cell_types: dict | None = None) -> Compiled | None:
        try:
            node, names = parse(expr)
            filter_nodes = []
            for f in filters:
                fnode, fnames = parse(f)
                filter_nodes.append(fnode)
                for k, v in fnames.items():
                    names.setdefault(k, v)
                _rename_marks(fnode, fnames, names)
        except DiagnosticError as e:
            self.diags.items.extend(e.diagnostics)
            return None
        for name in names:
            if name not in self.params:
                self.diags.error("E0101", f"неизвестный параметр формы «${name}»", expr.span,
                                 hints=did_you_mean(name, self.params))
                return None
        if filter_nodes:
            node = _apply_filters(node, filter_nodes)
        refs = []
        node, refs = self._cell_refs(node, this_row, cell_types or {})
        if node is None:
            return None
        sym = self.symbols
        if refs:
            sym = Symbols(sym.entities, dict(sym.params), sym.tables, sym.functions)
            for name, _span in refs:
                sym.params[name] = ParamInfo(name, (cell_types or {})[name], name)
        x = check_expression(sym, self.diags, node, entity)
        if x is None:
            return None
        consts: dict[str, list[ir.Const]] = {}
        marks = {v: k for k, v in names.items()}
        for n in ir_walk(x):
            if isinstance(n, ir.Const) and isinstance(n.value, str) and n.value in marks:
                consts.setdefault(marks[n.value], []).append(n)
        return Compiled(x, consts, refs)

    def _cell_refs(self, node: ast.Node, this_row: str | None, types: dict) -> tuple[ast.Node | None, list]:
        refs: list[tuple[str, Span]] = []
        failed = False

        def visit(n):
            nonlocal failed
            if isinstance(n, ast.Attr) and isinstance(n.base, ast.Name):
                m = CELL_REF.match(n.base.name)
                if m and n.base.name not in self.symbols.entities:
                    code = m.group(1).replace("_", ".") if m.group(1) else this_row
                    if code is None or code not in self.row_codes:
                        self.diags.error("E0102", f"ссылка на ячейку «{n.base.name}.{n.name}»: в форме нет строки "
                                         f"с кодом «{code}»", n.span,
                                         hints=did_you_mean(code or "", sorted(self.row_codes)))
                        failed = True
                        return n
                    if n.name not in self.columns:
                        self.diags.error("E0102", f"ссылка на ячейку «{n.base.name}.{n.name}»: в форме нет "
                                         f"столбца «{n.name}»", n.name_span, hints=did_you_mean(n.name, self.columns))
                        failed = True
                        return n
                    name = cell_name(code, n.name)
                    if name not in types:
                        failed = True
                        if name in self.failed:
                            return n
                        self.diags.error("E0102", f"ячейка «{n.base.name}.{n.name}» не вычисляется (пустая, «–» "
                                         "или строка-раздел)", n.span)
                        return n
                    refs.append((name, n.span))
                    return ast.Name(n.span, name)
            return _map_children(n, visit)

        out = visit(node)
        return (None, refs) if failed else (out, refs)


def _rename_marks(node: ast.Node, local: dict[str, str], merged: dict[str, str]) -> None:
    back = {v: merged[k] for k, v in local.items()}
    for n in _walk(node):
        if isinstance(n, ast.String) and n.value in back:
            n.value = back[n.value]


def _apply_filters(node: ast.Node, filters: list[ast.Node]) -> ast.Node:
    def visit(n):
        if isinstance(n, ast.Call) and n.func in AGGREGATES and n.args and n.by is None:
            cond = None
            for f in filters:
                f = copy.deepcopy(f)
                cond = f if cond is None else ast.Binary(f.span, "and", cond, f)
            n = copy.copy(n)
            n.where = cond if n.where is None else ast.Binary(n.where.span, "and", n.where, cond)
            return n
        return _map_children(n, visit)

    return visit(node)


def _map_children(n, fn):
    if not isinstance(n, ast.Node):
        return n
    changed = {}
    for name in n.__dataclass_fields__:
        v = getattr(n, name)
        if isinstance(v, ast.Node):
            changed[name] = fn(v)
        elif isinstance(v, list):
            changed[name] = [fn(x) if isinstance(x, ast.Node) else
                             tuple(fn(y) if isinstance(y, ast.Node) else y for y in x) if isinstance(x, tuple) else x
                             for x in v]
    if not changed:
        return n
    n = copy.copy(n)
    for k, v in changed.items():
        setattr(n, k, v)
    return n


def _walk(n):
    if isinstance(n, tuple):
        for y in n:
            yield from _walk(y)
        return
    if not isinstance(n, ast.Node):
        return
    yield n
    for name in n.__dataclass_fields__:
        v = getattr(n, name)
        if isinstance(v, ast.Node):
            yield from _walk(v)
        elif isinstance(v, list):
            for x in v:
                yield from _walk(x)


def ir_walk(x):
    if isinstance(x, ir.IR):
        yield x
        for name in x.__dataclass_fields__:
            v = getattr(x, name)
            if isinstance(v, ir.IR):
                yield from ir_walk(v)
            elif isinstance(v, (list, tuple)):
                for y in v:
                    yield from ir_walk(y)
