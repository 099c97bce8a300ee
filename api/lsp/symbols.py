"""What a name at a position means in a compiled methodology: hover text, definition location,
completion items. Works on the text around the cursor (the last compiled methodology may be older
than the text being typed)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dsl.diagnostics import Span

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
BLOCK = re.compile(r"^for\s+([A-Za-z_][A-Za-z0-9_]*)\s*:")


@dataclass
class Found:
    kind: str          # parameter | table | function | primitive | definition | field | entity
    name: str
    markdown: str
    span: Span | None  # where it is declared


def word_at(line: str, col: int) -> tuple[str | None, str | None]:
    """(qualifier, word) at a 0-based column: «sl.kz» → ("sl", "kz"); «kz» → (None, "kz")."""
    for m in WORD.finditer(line):
        if m.start() <= col <= m.end():
            q = None
            if m.start() > 0 and line[m.start() - 1] == ".":
                prev = list(WORD.finditer(line[: m.start() - 1]))
                if prev and prev[-1].end() == m.start() - 1:
                    q = prev[-1].group(0)
            return q, m.group(0)
    return None, None


def entity_at(lines: list[str], line: int) -> str | None:
    """The entity of the `for X:` block the line belongs to."""
    for i in range(min(line, len(lines) - 1), -1, -1):
        m = BLOCK.match(lines[i])
        if m:
            return m.group(1)
        if i < line and lines[i] and not lines[i][0].isspace() and not lines[i].startswith(("#", "@")):
            return None
    return None


def _pkg(p) -> str:
    return f"\n\nопределено в пакете `{p}`"


def lookup(m, qualifier: str | None, word: str, entity: str | None) -> Found | None:
    from dsl.primitives import REGISTRY

    if qualifier is not None:
        ent = _entity_of(m, qualifier, entity)
        if ent is not None:
            return _member(m, ent, word)
        return None
    if entity is not None:
        hit = _member(m, entity, word)
        if hit is not None:
            return hit
    if word in m.params:
        p = m.params[word]
        periods = "; ".join(f"с {_day(per.start)}: {per.text or 'не действует'}" for per in p.periods[-4:])
        md = (f"**{p.label or word}** — параметр `{word}: {p.type}`" + (f", {p.unit}" if p.unit else "")
              + (f"\n\nоснование: {p.reference}" if p.reference else "") + f"\n\nзначения: {periods}" + _pkg(p.package))
        return Found("parameter", word, md, p.span)
    if word in m.tables:
        t = m.tables[word]
        cols = ", ".join(f"{c}: {ty}" for c, ty in t.columns.items())
        md = (f"**{t.label or word}** — таблица `{word}[{', '.join(t.keys)}]` ({len(t.rows)} строк"
              + (", с датами" if t.dated else "") + f")\n\nстолбцы: {cols}"
              + (f"\n\nоснование: {t.reference}" if t.reference else "") + _pkg(t.package))
        return Found("table", word, md, t.span)
    if word in m.functions:
        f = m.functions[word]
        fn = m.symbols.functions.get(word)
        sig = _signature(fn) if fn else word
        md = (f"**{f.label or word}** — функция `{sig}`" + (f"\n\nоснование: {f.ref}" if f.ref else "")
              + _pkg(f.provenance.package)
              + (f" (заменяет определение пакета `{f.overrides.provenance.package}`)" if f.overrides else ""))
        return Found("function", word, md, f.provenance.span)
    if word in REGISTRY:
        p = REGISTRY[word]
        ex = "".join(f"\n\nпример: `{e} = {w}`" for e, w in p.examples[:2])
        return Found("primitive", word, f"`{p.signature}` — встроенная функция\n\n{p.doc}{ex}", None)
    if word in m.entities:
        e = m.entities[word]
        return Found("entity", word, f"**{e.label or word}** — сущность `{word}` (ключ {e.key})", e.span)
    return None


def _entity_of(m, qualifier: str, current: str | None) -> str | None:
    if qualifier in m.entities:
        return qualifier
    if current is not None and current in m.entities:
        rel = m.entities[current].relations.get(qualifier)
        if rel is not None:
            return rel.entity
    return None


def _member(m, ent: str, word: str) -> Found | None:
    d = m.defs.get((ent, word))
    if d is not None:
        md = (f"**{d.label or word}** — `{ent}.{word}: {d.type}`" + (f", {d.unit}" if d.unit else "")
              + (f"\n\nоснование: {d.ref}" if d.ref else "") + f"\n\n`{' '.join(d.text.split())[:300]}`"
              + _pkg(d.provenance.package)
              + (f" (заменяет определение пакета `{d.overrides.provenance.package}`)" if d.overrides else ""))
        return Found("definition", word, md, d.provenance.span)
    e = m.entities.get(ent)
    if e is None:
        return None
    f = e.fields.get(word)
    if f is not None:
        return Found("field", word, f"**{f.label or word}** — поле данных `{ent}.{word}: {f.type}`", f.span)
    r = e.relations.get(word)
    if r is not None:
        return Found("entity", word, f"связь `{ent}.{word}` → сущность `{r.entity}` (по полю {r.via})", r.span)
    return None


def _signature(fn) -> str:
    args = ", ".join(f"{n}: {t}" + (" = …" if fn.defaults and fn.defaults[i] is not None else "")
                     for i, (n, t) in enumerate(fn.params))
    return f"{fn.name}({args}) -> {fn.returns}"


def _day(day: int) -> str:
    from engine.runtime.params import key_text

    return "всегда" if day <= -(2**30) else key_text(day)


@dataclass
class Item:
    label: str
    kind: str          # variable | field | function | module | class | constant
    detail: str
    doc: str


def completions(m, qualifier: str | None, entity: str | None) -> list[Item]:
    from dsl.primitives import REGISTRY

    if qualifier is not None:
        ent = _entity_of(m, qualifier, entity)
        return _members(m, ent) if ent else []
    out = _members(m, entity) if entity else []
    out += [Item(n, "constant", f"параметр: {p.type}", p.label or "") for n, p in m.params.items()]
    out += [Item(n, "module", f"таблица [{', '.join(t.keys)}]", t.label or "") for n, t in m.tables.items()]
    for n, f in m.functions.items():
        fn = m.symbols.functions.get(n)
        out.append(Item(n, "function", _signature(fn) if fn else n, f.label or ""))
    out += [Item(n, "function", p.signature, p.doc) for n, p in REGISTRY.items()]
    out += [Item(n, "class", "сущность", e.label or "") for n, e in m.entities.items()]
    return out


def _members(m, ent: str) -> list[Item]:
    e = m.entities.get(ent)
    if e is None:
        return []
    out = [Item(n, "field", f"поле: {f.type}", f.label or "") for n, f in e.fields.items()]
    out += [Item(n, "class", f"связь → {r.entity}", "") for n, r in e.relations.items()]
    out += [Item(d.name, "variable", f"{d.type}", d.label or "") for (en, _), d in m.defs.items() if en == ent]
    return out


def span_path(span: Span) -> Path:
    return Path(span.file).resolve()
