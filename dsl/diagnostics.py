"""Positioned diagnostics: stable code, Russian message, every span involved, hints.

A diagnostic renders like::

    ошибка[E0101]: неизвестное имя «kz_ksg»
      --> tariff.rules:12:19
       |
    12 |     cost: money = kz_ksg * base
       |                   ^^^^^^
       = подсказка: возможно, имелось в виду «kz»
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Span:
    """A region of a source file; lines and columns are 1-based, end is exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    @staticmethod
    def point(file: str, line: int, column: int, width: int = 1) -> Span:
        return Span(file, line, column, line, column + max(width, 1))


@dataclass(frozen=True)
class Related:
    span: Span
    note: str


@dataclass
class Diagnostic:
    code: str
    message: str
    span: Span | None
    related: list[Related] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    severity: str = "error"

    def render(self, sources: SourceCache | None = None) -> str:
        sources = sources or SourceCache()
        word = "ошибка" if self.severity == "error" else "предупреждение"
        out = [f"{word}[{self.code}]: {self.message}"]
        if self.span is not None:
            out.extend(_excerpt(self.span, sources, ""))
        for rel in self.related:
            out.append(f"  = {rel.note}")
            out.extend(_excerpt(rel.span, sources, ""))
        for hint in self.hints:
            out.append(f"  = подсказка: {hint}")
        return "\n".join(out)

    def to_json(self) -> dict:
        def sp(s: Span | None) -> dict | None:
            if s is None:
                return None
            return {"file": s.file, "line": s.line, "column": s.column,
                    "end_line": s.end_line, "end_column": s.end_column}

        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "span": sp(self.span),
            "related": [{"note": r.note, "span": sp(r.span)} for r in self.related],
            "hints": list(self.hints),
        }


class SourceCache:
    """Reads source lines for excerpts; text registered in memory wins over disk."""

    def __init__(self) -> None:
        self._texts: dict[str, list[str]] = {}

    def add(self, file: str, text: str) -> None:
        self._texts[file] = text.splitlines()

    def line(self, file: str, number: int) -> str | None:
        lines = self._texts.get(file)
        if lines is None:
            try:
                lines = Path(file).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                lines = []
            self._texts[file] = lines
        if 1 <= number <= len(lines):
            return lines[number - 1]
        return None


def _excerpt(span: Span, sources: SourceCache, _indent: str) -> list[str]:
    text = sources.line(span.file, span.line)
    gutter = " " * len(str(span.line))
    out = [f"{gutter}--> {span}"]
    if text is None:
        return out
    if span.end_line == span.line:
        width = max(span.end_column - span.column, 1)
    else:
        width = max(len(text) - span.column + 1, 1)
    out.append(f"{gutter} |")
    out.append(f"{span.line} | {text}")
    out.append(f"{gutter} | {' ' * (span.column - 1)}{'^' * width}")
    return out


class DiagnosticError(Exception):
    """Raised when a stage produced errors; carries all of them."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("\n\n".join(d.render() for d in diagnostics))

    def render(self, sources: SourceCache | None = None) -> str:
        return "\n\n".join(d.render(sources) for d in self.diagnostics)


class Diagnostics:
    """Collector used by every stage."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def error(self, code: str, message: str, span: Span | None, *,
              related: Iterable[Related] = (), hints: Iterable[str] = ()) -> Diagnostic:
        d = Diagnostic(code, message, span, list(related), list(hints))
        self.items.append(d)
        return d

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise DiagnosticError(self.errors)


def plural(n: int, one: str, few: str, many: str) -> str:
    """Russian plural form for n: 1 поле, 2 поля, 5 полей."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def did_you_mean(name: str, candidates: Iterable[str]) -> list[str]:
    """Hints for a misspelt name: «возможно, имелось в виду «x»»."""
    cutoff = 0.5 if len(name) <= 3 else 0.6   # two-letter names (kz, kd, ks) are common in methodologies
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=cutoff)
    return [f"возможно, имелось в виду «{close[0]}»"] if close else []
