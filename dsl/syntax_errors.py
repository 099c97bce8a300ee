"""Syntax errors of rule files as Russian diagnostics: what was unexpected, what was expected,
unclosed brackets and indentation named with their positions."""

from __future__ import annotations

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.indenter import DedentError

from dsl.diagnostics import Diagnostic, Related, Span

_TERMINAL_NAMES = {
    "NAME": "имя", "NUMBER": "число", "STRING": "строка в кавычках", "DATE": "дата",
    "_NL": "конец строки", "_INDENT": "отступ", "_DEDENT": "конец блока",
    "CMP": "сравнение", "ADDOP": "«+» или «-»", "MULOP": "«*» или «/»",
    "LPAR": "«(»", "RPAR": "«)»", "LSQB": "«[»", "RSQB": "«]»", "LBRACE": "«{»", "RBRACE": "«}»",
    "COLON": "«:»", "COMMA": "«,»", "DOT": "«.»", "EQUAL": "«=»", "MINUS": "«-»", "AT": "«@»",
    "OVERRIDE": "override", "OPTIONAL": "optional", "DESC": "desc", "$END": "конец файла",
}

def _describe_expected(expected: set[str]) -> str:
    names = []
    for e in sorted(expected):
        if e in _TERMINAL_NAMES:
            names.append(_TERMINAL_NAMES[e])
        elif e.isupper() and not e.startswith("_") and e.isalpha():
            names.append(f"«{e.lower()}»")
        elif not e.startswith("_") and not e.startswith("__"):
            names.append(e)
    uniq = sorted(set(names))
    if len(uniq) > 8:
        uniq = uniq[:8] + ["…"]
    return ", ".join(uniq)

_CLOSING = {"(": ")", "[": "]", "{": "}"}

def _unclosed_bracket(text: str, tok: Token) -> tuple[int, int, str] | None:
    """The last bracket still open at the error token (strings and comments skipped)."""
    stop_line = tok.line if tok.line is not None else 10**9
    stack: list[tuple[int, int, str]] = []
    for no, raw in enumerate(text.splitlines(), start=1):
        if no > stop_line:
            break
        in_str = False
        for col, ch in enumerate(raw, start=1):
            if ch == '"':
                in_str = not in_str
            elif in_str:
                continue
            elif ch == "#":
                break
            elif ch in _CLOSING:
                stack.append((no, col, ch))
            elif ch in ")]}" and stack:
                stack.pop()
    return stack[-1] if stack else None

def _next_code_line(text: str, after: int) -> tuple[int, int] | None:
    lines = text.splitlines()
    for no in range(after + 1, len(lines) + 1):
        raw = lines[no - 1]
        if raw.strip() and not raw.strip().startswith("#"):
            return no, len(raw) - len(raw.lstrip(" \t")) + 1
    return None

def _token_text(tok: Token) -> str:
    if tok.type == "_NL":
        return "конец строки"
    if tok.type == "_INDENT":
        return "лишний отступ"
    if tok.type == "_DEDENT":
        return "конец блока"
    if tok.type == "$END":
        return "конец файла"
    return f"«{tok}»"

def syntax_diagnostic(file: str, text: str, exc: Exception) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        ch = text[exc.pos_in_stream] if 0 <= exc.pos_in_stream < len(text) else "?"
        return Diagnostic("E0001", f"недопустимый символ «{ch}»",
                          Span.point(file, exc.line, exc.column))
    if isinstance(exc, UnexpectedEOF):
        last = max(len(text.splitlines()), 1)
        return Diagnostic("E0003", "неожиданный конец файла: конструкция не завершена",
                          Span.point(file, last, 1))
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        unclosed = _unclosed_bracket(text, tok)
        if unclosed is not None and tok.type in ("$END", "_DEDENT", "_NL"):
            line, col, ch = unclosed
            return Diagnostic("E0003", f"не закрыта скобка «{ch}»: выражение не завершено",
                              Span.point(file, line, col),
                              hints=[f"добавьте «{_CLOSING[ch]}» в конце выражения"])
        if tok.type == "_INDENT":
            where = _next_code_line(text, tok.line or 1)
            if where is not None:
                line, col = where
                return Diagnostic("E0004", "лишний отступ: строка сдвинута правее, чем предыдущие строки блока",
                                  Span.point(file, line, col),
                                  hints=["выровняйте строку по предыдущим строкам того же блока"])
        if tok.type == "$END":
            last = max(len(text.splitlines()), 1)
            return Diagnostic("E0003", "неожиданный конец файла: конструкция не завершена",
                              Span.point(file, last, 1))
        line = tok.line if tok.line is not None else 1
        col = tok.column if tok.column is not None else 1
        if tok.type == "_NL" and tok.line is not None:
            # A newline token points at the end of the previous line; show that spot.
            prev = text.splitlines()[line - 1] if line - 1 < len(text.splitlines()) else ""
            col = len(prev.rstrip()) + 1
        span = Span.point(file, line, col, len(str(tok)) if tok.type not in ("_NL", "_INDENT", "_DEDENT") else 1)
        expected = _describe_expected(set(exc.expected))
        code = "E0004" if tok.type in ("_INDENT", "_DEDENT") else "E0002"
        msg = f"синтаксическая ошибка: неожиданно {_token_text(tok)}"
        if expected:
            msg += f"; ожидалось: {expected}"
        related = []
        if unclosed is not None and unclosed[0] < line:
            related.append(Related(Span.point(file, unclosed[0], unclosed[1]),
                                   f"скобка «{unclosed[2]}» открыта здесь и не закрыта"))
        return Diagnostic(code, msg, span, related)
    if isinstance(exc, DedentError):
        return Diagnostic("E0004", f"неверный отступ: {exc}", Span.point(file, 1, 1))
    if isinstance(exc, UnexpectedInput):
        return Diagnostic("E0002", "синтаксическая ошибка",
                          Span.point(file, getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1))
    raise exc

def dedent_diagnostic(file: str, text: str) -> Diagnostic:
    """Find the first line whose indentation matches no enclosing block."""
    stack = [0]
    depth = 0
    for no, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if depth > 0:
            depth += raw.count("(") + raw.count("[") + raw.count("{")
            depth -= raw.count(")") + raw.count("]") + raw.count("}")
            continue
        indent = len(raw) - len(raw.lstrip(" \t"))
        if indent > stack[-1]:
            stack.append(indent)
        else:
            while indent < stack[-1]:
                stack.pop()
            if indent != stack[-1]:
                return Diagnostic("E0004", "неверный отступ: строка не совпадает ни с одним уровнем блока",
                                  Span.point(file, no, indent + 1))
        depth += raw.count("(") + raw.count("[") + raw.count("{")
        depth -= raw.count(")") + raw.count("]") + raw.count("}")
    return Diagnostic("E0004", "неверный отступ", Span.point(file, 1, 1))
