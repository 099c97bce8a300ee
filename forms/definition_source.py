"""Reading scalar values of a form definition's YAML, with positions and Russian errors."""

from __future__ import annotations

from dsl.diagnostics import Diagnostics, Span, did_you_mean
from engine.runtime.yamlpos import Located
from forms.definition_model import Expr


class DefinitionSource:
    def __init__(self, file: str, lines: list[str], diags: Diagnostics) -> None:
        self.file = file
        self.lines = lines
        self.diags = diags

    def expr(self, node: Located | None, what: str) -> Expr | None:
        """The expression text of a scalar and the span of that text inside the YAML line."""
        if node is None or node.value is None:
            return None
        if isinstance(node.value, (dict, list)):
            self.diags.error("E0601", f"{what}: ожидалось выражение (строка)", node.span)
            return None
        text = str(node.value)
        s = node.span
        line = self.lines[s.line - 1] if 0 < s.line <= len(self.lines) else ""
        col = s.column
        if col - 1 < len(line) and line[col - 1] in "\"'":
            col += 1
        elif col - 1 < len(line) and line[col - 1] in "|>":  # block scalar: text starts on the next line
            nxt = self.lines[s.line] if s.line < len(self.lines) else ""
            return Expr(text.strip(), Span(self.file, s.line + 1, len(nxt) - len(nxt.lstrip()) + 1,
                                           s.line + 1, len(nxt) + 1))
        return Expr(text, Span(self.file, s.line, col, s.line, col + len(text)))

    def text(self, node: Located | None, what: str, default: str | None = None) -> str | None:
        if node is None or node.value is None:
            return default
        if isinstance(node.value, (dict, list)):
            self.diags.error("E0601", f"{what}: ожидалась строка", node.span)
            return default
        return str(node.value)

    def texts(self, node: Located | None, what: str) -> list[str]:
        if node is None:
            return []
        if not isinstance(node.value, list):
            return [self.text(node, what) or ""]
        return [self.text(x, what) or "" for x in node.value]

    def mapping(self, node: Located, what: str, allowed: set[str]) -> dict[str, Located]:
        if not isinstance(node.value, dict):
            self.diags.error("E0601", f"{what}: ожидался словарь", node.span)
            return {}
        for k in node.value:
            if k not in allowed:
                self.diags.error("E0601", f"{what}: неизвестное поле «{k}»", node.key_spans[k],
                                 hints=did_you_mean(k, allowed))
        return node.value

    def int_(self, node: Located | None, what: str, default: int) -> int:
        if node is None:
            return default
        if not isinstance(node.value, int) or isinstance(node.value, bool):
            self.diags.error("E0601", f"{what}: ожидалось целое число, записано «{node.value}»", node.span)
            return default
        return node.value
