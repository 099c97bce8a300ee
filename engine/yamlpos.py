"""YAML loading that keeps line/column of every node, for positioned package errors."""

from __future__ import annotations

from pathlib import Path

import yaml

from dsl.diagnostics import Diagnostic, DiagnosticError, Span


class Located:
    """A YAML scalar/mapping/sequence with its position."""

    __slots__ = ("value", "span", "key_spans")

    def __init__(self, value, span: Span, key_spans: dict[str, Span] | None = None) -> None:
        self.value = value
        self.span = span
        self.key_spans = key_spans or {}

    def __repr__(self) -> str:
        return f"Located({self.value!r})"


def _span(file: str, node: yaml.Node) -> Span:
    s, e = node.start_mark, node.end_mark
    return Span(file, s.line + 1, s.column + 1, e.line + 1, e.column + 1)


def _convert(file: str, node: yaml.Node) -> Located:
    if isinstance(node, yaml.MappingNode):
        loader = yaml.SafeLoader("")
        try:
            loader.flatten_mapping(node)   # YAML merge keys (<<: *anchor)
        finally:
            loader.dispose()
        out: dict[str, Located] = {}
        keys: dict[str, Span] = {}
        for k, v in node.value:
            key = _convert(file, k)
            name = str(key.value)
            if name in keys:
                raise DiagnosticError([Diagnostic("E0601", f"ключ «{name}» повторяется", key.span)])
            keys[name] = key.span
            out[name] = _convert(file, v)
        return Located(out, _span(file, node), keys)
    if isinstance(node, yaml.SequenceNode):
        return Located([_convert(file, v) for v in node.value], _span(file, node))
    return Located(_resolve_scalar(node), _span(file, node))


def _resolve_scalar(node: yaml.ScalarNode):
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError):
        # e.g. 2025-13-01 looks like a timestamp but is no date: keep the text, let the
        # consumer report it with its position
        return node.value
    finally:
        loader.dispose()


def load_located(path: Path, display: str | None = None) -> Located:
    file = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DiagnosticError([Diagnostic("E0602", f"файл не найден: {file}", None)]) from None
    except UnicodeDecodeError as e:
        raise DiagnosticError([Diagnostic("E0601", f"файл не в кодировке UTF-8 (байт {e.start})",
                                          Span.point(file, 1, 1))]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise DiagnosticError([Diagnostic("E0601", f"ошибка YAML: {e.problem or e.context}",
                                          Span.point(file, line, col))]) from None
    if node is None:
        return Located({}, Span.point(file, 1, 1))
    return _convert(file, node)


def plain(loc: Located):
    """Strip positions."""
    v = loc.value
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v
