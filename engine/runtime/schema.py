"""Entity schema declared in a package (schema.yaml): entities, fields, relations, as-of dates."""

from __future__ import annotations

from dataclasses import dataclass, field

from dsl.diagnostics import Diagnostics, Related, Span
from dsl.types import Type, parse_type_name
from engine.runtime.yamlpos import Located


@dataclass
class FieldDef:
    name: str
    type: Type
    label: str | None
    span: Span
    personal: bool = False   # personal data: never logged, masked in traces


@dataclass
class RelationDef:
    name: str
    entity: str
    via: str
    span: Span
    optional: bool = False    # the referenced row may be absent (navigation gives optional values)


@dataclass
class EntityDef:
    name: str
    label: str | None
    key: str
    as_of: str | None
    fields: dict[str, FieldDef] = field(default_factory=dict)
    relations: dict[str, RelationDef] = field(default_factory=dict)
    span: Span | None = None


def _parse_type(text: str) -> Type | None:
    parts = str(text).split()
    if len(parts) == 2 and parts[0] == "optional":
        return parse_type_name(parts[1], True)
    if len(parts) == 1:
        return parse_type_name(parts[0])
    return None


def load_schema(root: Located, diags: Diagnostics, into: dict[str, EntityDef] | None = None) -> dict[str, EntityDef]:
    """Parse a schema document; entities already in `into` may gain fields (a child package extends)."""
    out = into if into is not None else {}
    ents = root.value.get("entities") if isinstance(root.value, dict) else None
    if ents is None or not isinstance(ents.value, dict):
        diags.error("E0601", "schema.yaml: нет раздела entities", root.span)
        return out
    for ename, enode in ents.value.items():
        espan = ents.key_spans[ename]
        if not isinstance(enode.value, dict):
            diags.error("E0601", f"сущность «{ename}»: ожидалось описание", enode.span)
            continue
        e = enode.value
        ent = out.get(ename)
        if ent is None:
            ent = EntityDef(ename, _str(e, "label"), _str(e, "key") or "key", _str(e, "as_of"), span=espan)
            out[ename] = ent
        fnode = e.get("fields")
        for fname, tnode in (fnode.value.items() if fnode is not None and isinstance(fnode.value, dict) else []):
            fspan = fnode.key_spans[fname]
            label, personal = None, False
            if isinstance(tnode.value, dict):
                for extra in set(tnode.value) - {"type", "label", "personal"}:
                    diags.error("E0601", f"поле «{ename}.{fname}»: неизвестный ключ «{extra}» в описании; "
                                "если в подписи есть запятая, заключите подпись в кавычки",
                                tnode.key_spans.get(extra, tnode.span))
                label = _str(tnode.value, "label")
                personal = bool(tnode.value["personal"].value) if "personal" in tnode.value else False
                ttext = tnode.value.get("type").value if "type" in tnode.value else None
            else:
                ttext = tnode.value
            typ = _parse_type(ttext) if ttext is not None else None
            if typ is None:
                diags.error("E0207", f"сущность «{ename}», поле «{fname}»: неизвестный тип «{ttext}»", tnode.span)
                continue
            if fname in ent.fields:
                diags.error("E0301", f"поле «{ename}.{fname}» объявлено повторно", fspan,
                            related=[Related(ent.fields[fname].span, "первое объявление")])
                continue
            ent.fields[fname] = FieldDef(fname, typ, label, fspan, personal)
        rnode = e.get("relations")
        for rname, rdef in (rnode.value.items() if rnode is not None and isinstance(rnode.value, dict) else []):
            rspan = rnode.key_spans[rname]
            if not isinstance(rdef.value, dict) or "entity" not in rdef.value or "via" not in rdef.value:
                diags.error("E0601", f"связь «{ename}.{rname}»: укажите entity и via", rdef.span)
                continue
            opt = rdef.value.get("optional")
            ent.relations[rname] = RelationDef(rname, str(rdef.value["entity"].value),
                                               str(rdef.value["via"].value), rspan,
                                               bool(opt.value) if opt is not None else False)
    for ent in out.values():
        if ent.key not in ent.fields:
            ent.fields[ent.key] = FieldDef(ent.key, Type("code"), "Ключ строки", ent.span or Span.point("", 1, 1))
        if ent.as_of is not None and (ent.as_of not in ent.fields or ent.fields[ent.as_of].type.kind != "date"):
            diags.error("E0601", f"сущность «{ent.name}»: дата актуальности as_of «{ent.as_of}» должна быть полем "
                        "типа date", ent.span)
        for r in ent.relations.values():
            if r.entity not in out:
                diags.error("E0103", f"связь «{ent.name}.{r.name}» ведёт к неизвестной сущности «{r.entity}»", r.span)
            if r.via not in ent.fields:
                ent.fields[r.via] = FieldDef(r.via, Type("code"), f"Ссылка на {r.entity}", r.span)
    return out


def _str(d: dict, key: str) -> str | None:
    v = d.get(key)
    return None if v is None or v.value is None else str(v.value)
