"""The compile pipeline: load chain → parse → resolve overlays → type check → dependency graph."""

from __future__ import annotations

from pathlib import Path

from dsl import ir
from dsl.astnodes import source_text
from dsl.checker import check_check, check_definition, declared_type
from dsl.diagnostics import DiagnosticError, Diagnostics, Related, did_you_mean
from dsl.parser import parse_module
from dsl.symbols import AttrInfo, EntityInfo, ParamInfo, Symbols, TableInfo
from engine.runtime.hashing import content_hash
from engine.runtime.match import check_bindings as check_match_bindings
from engine.runtime.match import register_entities as register_match_entities
from engine.runtime.match_table import check_references as check_match_references
from engine.runtime.match_table import declare_match_table
from engine.runtime.model import CheckInfo, DefInfo, Disabled, FunctionDefInfo, Methodology, Provenance
from engine.runtime.package import RawPackage, display_path, load_chain, package_files
from engine.runtime.params import ParamDef, load_parameters
from engine.runtime.schema import EntityDef, load_schema
from engine.runtime.tables import TableDef, declare_table
from engine.runtime.yamlpos import load_located


def compile_package(pkg_dir: Path | str) -> Methodology:
    """Compile a methodology package; raises DiagnosticError listing every problem found."""
    diags = Diagnostics()
    chain = load_chain(Path(pkg_dir), diags)
    entities: dict[str, EntityDef] = {}
    params: dict[str, ParamDef] = {}
    tables: dict[str, TableDef] = {}
    defs: dict[tuple[str, str], DefInfo] = {}
    checks: dict[str, CheckInfo] = {}
    disabled: dict[str, Disabled] = {}
    outputs: dict[str, list[str]] = {}
    sources: dict[str, str] = {}
    functions: dict[str, FunctionDefInfo] = {}
    for raw in chain:
        _load_data_parts(raw, diags, entities, params, tables)
        out_node = raw.manifest.value.get("outputs")
        if out_node is not None and isinstance(out_node.value, dict):
            for ent, names in out_node.value.items():
                outputs[ent] = [str(x.value) for x in names.value] if isinstance(names.value, list) else []
    register_match_entities(tables, entities, diags)
    check_match_references(tables, diags)
    diags.raise_if_errors()
    for raw in chain:
        _load_rules(raw, diags, entities, defs, checks, disabled, sources, functions)
    diags.raise_if_errors()
    symbols = build_symbols(entities, params, tables, defs, diags)
    diags.raise_if_errors()
    check_functions(symbols, functions, diags)
    for info in defs.values():
        info.ir = check_definition(symbols, diags, info.ast)
    for info in checks.values():
        info.ir = check_check(symbols, diags, info.ast)
    check_match_bindings(tables, entities, defs, diags)
    diags.raise_if_errors()
    deps = dependency_graph(defs, checks, diags)
    diags.raise_if_errors()
    for ent, names in outputs.items():
        for n in names:
            if (ent, n) not in defs and not (ent in entities and n in entities[ent].fields):
                diags.error("E0101", f"outputs: у сущности «{ent}» нет определения «{n}»",
                            chain[-1].manifest.span)
    diags.raise_if_errors()
    leaf = chain[-1]
    chash = content_hash([(r.info.ref, r.info.path, package_files(r)) for r in chain])
    return Methodology(leaf.info, [r.info for r in chain], chash, entities, params, tables, defs, checks,
                       disabled, symbols, deps, outputs, leaf.tests, sources, functions)


def _load_data_parts(raw: RawPackage, diags: Diagnostics, entities, params, tables) -> None:
    m = raw.manifest.value
    root = raw.info.path
    ref = raw.info.ref
    schema = m.get("schema")
    if schema is not None:
        for path in _files(raw, schema, diags, "файл схемы"):
            load_schema(load_located(path, display_path(path)), diags, entities)
    pnode = m.get("parameters")
    if pnode is None:
        pfiles = [root / "parameters.yaml"] if (root / "parameters.yaml").is_file() else []
    else:
        pfiles = _files(raw, pnode, diags, "файл параметров")
    for ppath in pfiles:
        for name, p in load_parameters(ppath, display_path(ppath), ref, diags).items():
            _merge(name, p, params, diags, "параметр")
    tnode = m.get("tables")
    decls = []
    if tnode is not None and isinstance(tnode.value, dict):
        decls.append(tnode)
    elif tnode is not None:
        for tpath in _files(raw, tnode, diags, "файл таблиц"):
            decls.append(load_located(tpath, display_path(tpath)))
    for decl in decls:
        if not isinstance(decl.value, dict):
            diags.error("E0601", "описание таблиц: ожидался словарь «имя: описание»", decl.span)
            continue
        for name, node in decl.value.items():
            t = _declare_any_table(name, node, raw, diags)
            if t is not None:
                t.span = decl.key_spans[name]
                _merge(name, t, tables, diags, "таблица")


def _declare_any_table(name, node, raw: RawPackage, diags):
    """A keyed table, or a rule table (`kind: match`, engine/runtime/match_table.py)."""
    root = raw.info.path
    if isinstance(node.value, dict) and "kind" in node.value and node.value["kind"].value == "match":
        return declare_match_table(name, node, root, display_path(root), raw.info.ref, diags, raw.roots)
    return declare_table(name, node, root, display_path(root), raw.info.ref, diags, raw.roots)


def _files(raw: RawPackage, node, diags: Diagnostics, what: str) -> list[Path]:
    """A manifest entry that names one file or a list of files/globs, relative to the package and
    staying inside it (engine/runtime/pkgfiles.py)."""
    from engine.runtime.pkgfiles import glob_files

    items = node.value if isinstance(node.value, list) else [node]
    out: list[Path] = []
    for item in items:
        matched = glob_files(raw.info.path, str(item.value), item.span, diags, what, raw.roots)
        if matched == []:
            diags.error("E0602", f"{what} не найден: {item.value}", item.span)
        out.extend(matched or [])
    return out


def _merge(name: str, item, into: dict, diags: Diagnostics, what: str) -> None:
    prev = into.get(name)
    done = "определена" if what == "таблица" else "определён"
    if prev is not None and not item.override:
        diags.error("E0305", f"{what} «{name}» уже {done} в пакете {prev.package}; "
                    "чтобы заменить, укажите override: true", item.span,
                    related=[Related(prev.span, "первое определение")])
        return
    if prev is None and item.override:
        diags.error("E0306", f"override: {what} «{name}» не {done} ни в одном базовом пакете", item.span,
                    hints=did_you_mean(name, list(into)))
        return
    into[name] = item


def _overlay_ok(what: str, name: str, span, override: bool, prev, own: set, known: dict, code_dup: str,
                keyword: str, diags: Diagnostics) -> bool:
    """The overlay rule for named declarations: a redefinition needs `override` (and is allowed once
    per package), `override` needs something to replace."""
    if prev is not None and (name in own or not override):
        extra = "" if name in own else f"; чтобы заменить, напишите {keyword}"
        diags.error(code_dup, f"{what} «{name}» уже определена в пакете {prev.provenance.package}{extra}",
                    span, related=[Related(prev.provenance.span, "первое определение")])
        return False
    if prev is None and override:
        diags.error("E0302", f"override: {what} «{name}» не определена ни в одном базовом пакете", span,
                    hints=did_you_mean(name, list(known)))
        return False
    return True


def _load_functions(module, ref: str, shown: str, functions: dict, own: set, diags: Diagnostics) -> None:
    from dsl.primitives import names as primitive_names

    builtin = set(primitive_names()) | {"exists"}
    for f in module.functions:
        prev = functions.get(f.name)
        if f.name in builtin:
            diags.error("E0110", f"функция «{f.name}» совпадает по имени со встроенной функцией", f.name_span)
            continue
        if not _overlay_ok("функция", f.name, f.name_span, f.override, prev, own, functions, "E0301",
                           "override def", diags):
            continue
        if prev is not None:
            problem = signature_change(f, prev.ast)
            if problem:
                diags.error("E0308", f"override def «{f.name}»: {problem}", f.name_span,
                            related=[Related(prev.provenance.span, "базовая функция")],
                            hints=["новый вход добавляется в конец списка аргументов со значением по умолчанию: "
                                   "«…, usl_ok: int = 0)»; вызовы базового пакета получат это значение"])
                continue
        functions[f.name] = FunctionDefInfo(f.name, f, Provenance(ref, shown, f.name_span), prev)
        own.add(f.name)


def signature_change(new, old) -> str | None:
    """What an override changes in a function's signature beyond what is allowed (None: compatible).

    Allowed: the same leading parameters (names, types) and result type, plus trailing parameters
    with defaults, so every call written against the base signature still type-checks."""
    def sig(p) -> tuple:
        return p.name, p.type.name, p.type.optional

    if (new.returns.name, new.returns.optional) != (old.returns.name, old.returns.optional):
        return "тип результата должен совпадать с базовой функцией"
    if len(new.params) < len(old.params) or [sig(p) for p in new.params[: len(old.params)]] != \
            [sig(p) for p in old.params]:
        return ("аргументы базовой функции должны остаться теми же и в том же порядке: "
                + ", ".join(f"{p.name}: {p.type.name}{'?' if p.type.optional else ''}" for p in old.params))
    added = [p.name for p in new.params[len(old.params):] if p.default is None]
    if added:
        return f"добавленный аргумент «{added[0]}» должен иметь значение по умолчанию"
    return None


def check_functions(symbols, functions: dict, diags: Diagnostics) -> None:
    """Declare every function, then check bodies in call order; recursion is an error."""
    from dsl.checker import check_function, declared_type
    from dsl.symbols import FunctionInfo

    for name, info in functions.items():
        f = info.ast
        params = [(p.name, declared_type(p.type, diags)) for p in f.params]
        ret = declared_type(f.returns, diags)
        if ret is None or any(t is None for _, t in params):
            continue
        symbols.functions[name] = FunctionInfo(name, params, ret, f, None, f.annotation("label"), f.name_span,
                                               [p.default for p in f.params])
    state: dict[str, str] = {}

    def ensure(name: str, call_node=None) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "checking":
            diags.error("E0401", f"функция «{name}» вызывает сама себя (прямо или через другие функции)",
                        call_node.span if call_node is not None else functions[name].provenance.span,
                        related=[Related(functions[name].provenance.span, "функция объявлена здесь")])
            return
        state[name] = "checking"
        fn = symbols.functions[name]
        fn.body = check_function(symbols, diags, fn, ensure)
        state[name] = "done"

    for name in list(symbols.functions):
        ensure(name)


def _rule_text(path: Path, shown: str, diags: Diagnostics) -> str | None:
    """A rule file's text; a file that is not UTF-8 is an error at the first bad byte."""
    from dsl.diagnostics import Span
    from engine.runtime.pkgfiles import read_bytes

    data = read_bytes(path, Span.point(shown, 1, 1), diags, f"модуль правил {shown}")
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = len(data[data.rfind(b"\n", 0, e.start) + 1:e.start].decode("utf-8", "replace")) + 1
        diags.error("E0006", f"файл правил не в кодировке UTF-8: байт 0x{data[e.start]:02X} (смещение {e.start})",
                    Span.point(shown, line, column), hints=["сохраните файл в UTF-8"])
        return None


def _load_rules(raw: RawPackage, diags, entities, defs, checks, disabled, sources, functions) -> None:
    ref = raw.info.ref
    own_defs: set[tuple[str, str]] = set()
    own_functions: set[str] = set()
    own_checks: set[str] = set()
    bad_blocks: set = set()
    for path, shown in raw.modules:
        text = _rule_text(path, shown, diags)
        if text is None:
            continue
        sources[shown] = text
        try:
            module = parse_module(text, shown)
        except DiagnosticError as e:
            diags.items.extend(e.diagnostics)
            continue
        _load_functions(module, ref, shown, functions, own_functions, diags)
        for d in module.definitions:
            key = (d.entity, d.name)
            prov = Provenance(ref, shown, d.name_span)
            if d.entity not in entities:
                where = d.entity_span or d.span
                if where not in bad_blocks:
                    bad_blocks.add(where)
                    diags.error("E0103", f"неизвестная сущность «{d.entity}»", where,
                                hints=did_you_mean(d.entity, list(entities)))
                continue
            if d.name in entities[d.entity].fields:
                diags.error("E0307", f"«{d.name}» — поле входных данных сущности «{d.entity}»; "
                            "определение не может называться так же", d.name_span,
                            related=[Related(entities[d.entity].fields[d.name].span, "поле объявлено здесь")])
                continue
            prev = defs.get(key)
            info = DefInfo(d.entity, d.name, declared_type(d.type, diags) or _any(), d, None,
                           source_text(d.body, text), prov)
            if prev is not None and key in own_defs:
                diags.error("E0301", f"«{d.entity}.{d.name}» определено дважды в пакете {ref}", d.name_span,
                            related=[Related(prev.provenance.span, "первое определение")])
                continue
            if prev is not None and not d.override:
                diags.error("E0301", f"«{d.entity}.{d.name}» уже определено в пакете {prev.provenance.package}; "
                            "чтобы заменить определение, напишите override", d.name_span,
                            related=[Related(prev.provenance.span, "определение в базовом пакете")],
                            hints=[f"override {d.name}: …"])
                continue
            if prev is None and d.override:
                cands = [n for (e, n) in defs if e == d.entity]
                diags.error("E0302", f"override: «{d.entity}.{d.name}» не определено ни в одном базовом пакете",
                            d.name_span, hints=did_you_mean(d.name, cands))
                continue
            info.overrides = prev
            defs[key] = info
            own_defs.add(key)
        for c in module.checks:
            prov = Provenance(ref, shown, c.name_span)
            prev = checks.get(c.name)
            if not _overlay_ok("проверка", c.name, c.name_span, c.override, prev, own_checks, checks, "E0304",
                               "override check", diags):
                continue
            checks[c.name] = CheckInfo(c.name, c.entity, c, None, prov, prev)
            own_checks.add(c.name)
        for dis in module.disables:
            prev = checks.pop(dis.name, None)
            if prev is None:
                diags.error("E0303", f"disable: проверка «{dis.name}» не определена", dis.name_span,
                            hints=did_you_mean(dis.name, list(checks)))
                continue
            disabled[dis.name] = Disabled(dis.name, dis.reason, Provenance(ref, shown, dis.span), prev)


def _any():
    from dsl.types import NUMBER

    return NUMBER


def build_symbols(entities, params, tables, defs, diags) -> Symbols:
    sym = Symbols()
    for e in entities.values():
        info = EntityInfo(e.name, e.label, {}, {r.name: r.entity for r in e.relations.values()}, e.as_of, e.key,
                          {r.name for r in e.relations.values() if r.optional})
        for f in e.fields.values():
            info.attrs[f.name] = AttrInfo(f.name, f.type, f.label, f.span, False)
        sym.entities[e.name] = info
    for (ent, name), d in defs.items():
        sym.entities[ent].attrs[name] = AttrInfo(name, d.type, d.label, d.provenance.span, True)
    for p in params.values():
        sym.params[p.name] = ParamInfo(p.name, p.type, p.label, p.span)
    for t in tables.values():
        sym.tables[t.name] = TableInfo(t.name, t.key_types, dict(t.columns), t.label, t.dated, t.span)
    return sym


def dependency_graph(defs, checks, diags: Diagnostics) -> dict[tuple[str, str], set[tuple[str, str]]]:
    deps: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for key, info in defs.items():
        deps[key] = refs_of(info.ir) if info.ir is not None else set()
    state: dict[tuple[str, str], int] = {}
    stack: list[tuple[str, str]] = []
    reported: set[frozenset] = set()

    def visit(k: tuple[str, str]) -> None:
        state[k] = 1
        stack.append(k)
        for d in sorted(deps.get(k, ())):
            if state.get(d) == 1:
                cycle = stack[stack.index(d):] + [d]
                sig = frozenset(cycle)
                if sig not in reported:
                    reported.add(sig)
                    names = " → ".join(f"{e}.{n}" for e, n in cycle)
                    first = defs[cycle[0]]
                    related = [Related(defs[c].provenance.span, f"«{c[0]}.{c[1]}» зависит от «{nxt[0]}.{nxt[1]}»")
                               for c, nxt in zip(cycle[1:-1], cycle[2:], strict=False)]
                    diags.error("E0401", f"циклическая зависимость: {names}", first.provenance.span,
                                related=related)
            elif state.get(d) is None and d in deps:
                visit(d)
        stack.pop()
        state[k] = 2

    for k in sorted(deps):
        if state.get(k) is None:
            visit(k)
    return deps


def refs_of(node: ir.IR | None) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    if node is None:
        return out
    for x in ir.walk(node):
        if isinstance(x, ir.FieldRef) and x.is_definition:
            out.add((x.entity, x.name))
    return out
