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


#: Deepest nesting of mappings/sequences accepted (package and test files need a handful).
MAX_DEPTH = 100
#: Nodes a file may expand to: aliases re-expand their anchor, so a few hundred bytes of nested
#: anchors could otherwise stand for billions of nodes («billion laughs»).
MAX_NODES = 200_000
_MERGE = "tag:yaml.org,2002:merge"


def _span(file: str, node: yaml.Node) -> Span:
    s, e = node.start_mark, node.end_mark
    return Span(file, s.line + 1, s.column + 1, e.line + 1, e.column + 1)


def _error(message: str, span: Span) -> DiagnosticError:
    return DiagnosticError([Diagnostic("E0601", message, span)])


class _Converter:
    """Node graph → Located tree, bounded: depth, total expanded size, no alias cycles."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.count = 0
        self.path: set[int] = set()          # ids of the nodes being converted (cycle check)
        self.loader = yaml.SafeLoader("")

    def convert(self, node: yaml.Node, depth: int = 1) -> Located:
        self.count += 1
        if self.count > MAX_NODES:
            raise _error(f"ошибка YAML: файл раскрывается больше чем в {MAX_NODES} узлов "
                         "(ссылки *якорь раскрываются многократно)", _span(self.file, node))
        if depth > MAX_DEPTH:
            raise _error(f"ошибка YAML: вложенность больше {MAX_DEPTH} уровней", _span(self.file, node))
        if isinstance(node, yaml.ScalarNode):
            return Located(self.scalar(node), _span(self.file, node))
        if id(node) in self.path:
            raise _error("ошибка YAML: ссылка *якорь указывает на узел, внутри которого стоит (рекурсия)",
                         _span(self.file, node))
        self.path.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return Located([self.convert(v, depth + 1) for v in node.value], _span(self.file, node))
            return self.mapping(node, depth)
        finally:
            self.path.discard(id(node))

    def mapping(self, node: yaml.MappingNode, depth: int) -> Located:
        out: dict[str, Located] = {}
        keys: dict[str, Span] = {}
        merged: list[tuple[str, Located, Span]] = []
        for k, v in node.value:
            if k.tag == _MERGE:
                merged.extend(self.merge_source(v, depth))
                continue
            if not isinstance(k, yaml.ScalarNode):
                raise _error("ошибка YAML: ключ словаря должен быть строкой или числом", _span(self.file, k))
            key = self.convert(k, depth + 1)
            name = str(key.value)
            if name in keys:
                raise _error(f"ключ «{name}» повторяется", key.span)
            keys[name] = key.span
            out[name] = self.convert(v, depth + 1)
        for name, value, span in merged:     # own keys win over merged ones (YAML merge keys)
            if name not in out:
                out[name], keys[name] = value, span
        return Located(out, _span(self.file, node), keys)

    def merge_source(self, v: yaml.Node, depth: int) -> list[tuple[str, Located, Span]]:
        """Entries of `<<: *anchor` or `<<: [*a, *b]` (the earlier mapping wins)."""
        sources = v.value if isinstance(v, yaml.SequenceNode) else [v]
        out: list[tuple[str, Located, Span]] = []
        for src in sources:
            if not isinstance(src, yaml.MappingNode):
                raise _error("ошибка YAML: после «<<:» нужен словарь (*якорь словаря) или их список",
                             _span(self.file, src))
            loc = self.convert(src, depth + 1)
            out.extend((n, x, loc.key_spans[n]) for n, x in loc.value.items())
        seen: set[str] = set()
        return [e for e in out if not (e[0] in seen or seen.add(e[0]))]

    def scalar(self, node: yaml.ScalarNode):
        try:
            return self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError):
            # e.g. 2025-13-01 looks like a timestamp but is no date: keep the text, let the
            # consumer report it with its position
            return node.value


def _expanded_size(file: str, root: yaml.Node) -> None:
    """Refuse a node graph that is too deep, cyclic or expands past MAX_NODES — computed over the
    distinct nodes (shared ones once, without recursion), before anything is expanded."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if isinstance(node, yaml.ScalarNode):
            size[key] = 1
            continue
        children = [x for pair in node.value for x in pair] if isinstance(node, yaml.MappingNode) else node.value
        if done:
            on_path.discard(key)
            size[key] = min(1 + sum(size[id(c)] for c in children), MAX_NODES + 1)
            continue
        if key in size:
            continue
        if key in on_path:
            raise _error("ошибка YAML: ссылка *якорь указывает на узел, внутри которого стоит (рекурсия)",
                         _span(file, node))
        if depth > MAX_DEPTH:
            raise _error(f"ошибка YAML: вложенность больше {MAX_DEPTH} уровней", _span(file, node))
        on_path.add(key)
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in children if id(c) not in size)
    if size[id(root)] > MAX_NODES:
        raise _error(f"ошибка YAML: файл раскрывается больше чем в {MAX_NODES} узлов "
                     "(ссылки *якорь раскрываются многократно)", _span(file, root))


def _convert(file: str, node: yaml.Node) -> Located:
    _expanded_size(file, node)
    conv = _Converter(file)
    try:
        return conv.convert(node)
    finally:
        conv.loader.dispose()


def _point(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _deepest(text: str, file: str) -> Span:
    """Where nesting first passes MAX_DEPTH, found from the event stream (which does not recurse)."""
    depth = 0
    try:
        for ev in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(ev, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return Span.point(file, ev.start_mark.line + 1, ev.start_mark.column + 1)
            elif isinstance(ev, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        pass
    return Span.point(file, 1, 1)


def parse_text(text: str, file: str) -> Located:
    """YAML text → Located; every problem is a positioned E0601 diagnostic."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise _error(f"ошибка YAML: {e.problem or e.context}", Span.point(file, line, col)) from None
    except yaml.reader.ReaderError as e:
        line, col = _point(text, e.position)
        ch = e.character if isinstance(e.character, int) else ord(str(e.character)[:1] or "?")
        raise _error(f"ошибка YAML: недопустимый символ U+{ch:04X} (управляющие символы в YAML запрещены)",
                     Span.point(file, line, col)) from None
    except RecursionError:
        raise _error(f"ошибка YAML: вложенность больше {MAX_DEPTH} уровней", _deepest(text, file)) from None
    except yaml.YAMLError as e:
        raise _error(f"ошибка YAML: {e}", Span.point(file, 1, 1)) from None
    if node is None:
        return Located({}, Span.point(file, 1, 1))
    return _convert(file, node)


def load_located(path: Path, display: str | None = None) -> Located:
    file = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DiagnosticError([Diagnostic("E0602", f"файл не найден: {file}", None)]) from None
    except UnicodeDecodeError as e:
        raise DiagnosticError([Diagnostic("E0601", f"файл не в кодировке UTF-8 (байт {e.start})",
                                          Span.point(file, 1, 1))]) from None
    except OSError as e:          # a directory, a file gone unreadable
        raise DiagnosticError([Diagnostic("E0602", f"не удалось прочитать файл {file}: {e.strerror}",
                                          Span.point(file, 1, 1))]) from None
    return parse_text(text, file)


def plain(loc: Located):
    """Strip positions."""
    v = loc.value
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v
