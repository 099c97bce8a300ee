"""Write the registry format descriptions (engine/oms/io/formats/*.yaml) from the reference.

A one-off developer tool, kept so the descriptions can be rebuilt and audited:
- 3.x trees come from the XSDs in ../shared/reference/ffoms-xsd (order, lengths, digits,
  occurrences, enumerations, uniqueness), exactly;
- 5.x trees come from the element trees of registry_format_versions.md §5, with the exact
  facets of the 3.x base XSD for every element the base has, and `assumption:` on every
  element the reference leaves unsure (new in 5.x: occurrence, length, order).
The mapping to entities (which element makes a row of which entity) is added from ENTITY below.

Usage: python3 scripts/formats_from_reference.py /work/shared/reference engine/oms/io/formats
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

from lxml import etree

XS = "{http://www.w3.org/2001/XMLSchema}"
DATE_PATTERN = ("((000[1-9])|(00[1-9][0-9])|(0[1-9][0-9]{2})|([1-9][0-9]{3}))-((0[1-9])|(1[012]))-"
                "((0[1-9])|([12][0-9])|(3[01]))")

#: complex element name (by parent/name or name) -> entity whose rows it makes
ENTITY = {
    "ZL_LIST": "account", "ZAP": "patient", "PERS": "pers", "Z_SL": "case", "SL": "sl", "USL": "service", "SL_KOEF": "kslp_item",
    "ONK_SL": "onk_sl", "B_DIAG": "b_diag", "B_PROT": "b_prot", "ONK_USL": "onk_usl", "LEK_PR": "lek_pr",
    "LEK_DOSE": "lek_dose", "INJ": "inj", "CONS": "cons", "NAPR": "napr", "MED_DEV": "med_dev",
    "MR_USL_N": "mr_usl_n", "DS2_N": "ds2_n", "NAZ": "naz", "SANK": "sank",
}
#: extra properties of complex elements (columns the parent entity takes from the first/all children)
EXTRA = {
    "MR_USL_N": {"up": ["prvs", "code_md"]},
    "DS2_N": {"up": ["ds2"]},
    "SL_KOEF": {"collect": {"idsl": "sl_koef"}},
}
#: repeated simple elements that also make one row each of an entity
ROWS = {"CRIT": "ksg_crit"}


def occurs(mn: str, mx: str) -> str:
    return f"{mn}..{'n' if mx == 'unbounded' else mx}"


def simple_type(restr: etree._Element, names: dict[str, etree._Element]) -> str:
    base = restr.get("base")
    f: dict[str, list[str]] = {}
    for x in restr:
        if isinstance(x.tag, str):
            f.setdefault(etree.QName(x).localname, []).append(x.get("value"))
    enum = f" enum[{'|'.join(f['enumeration'])}]" if "enumeration" in f else ""
    if base == "xs:string":
        mn, mx = (f.get("minLength") or ["0"])[0], (f.get("maxLength") or ["?"])[0]
        size = mx if mn == "1" else f"{mn}..{mx}"
        if "pattern" in f:
            raise ValueError("string pattern")
        return f"T({size}){enum}"
    if base == "xs:decimal":
        t, fr = int(f["totalDigits"][0]), int((f.get("fractionDigits") or ["0"])[0])
        assert f.get("minInclusive") == ["0"] and f.get("maxExclusive") == [str(10 ** (t - fr))], f
        return (f"N({t})" if fr == 0 else f"N({t}.{fr})") + enum
    if base == "xs:date":
        assert f.get("pattern") == [DATE_PATTERN], f
        lo, hi = f["minExclusive"][0], f["maxExclusive"][0]
        return "D" if (lo, hi) == ("1899-12-31", "2030-12-31") else f"D({lo}..{hi})"
    raise ValueError(base)


def xsd_tree(path: Path) -> tuple[str, dict]:
    doc = etree.parse(str(path)).getroot()
    named = {t.get("name"): t for t in doc.findall(f"{XS}simpleType")}

    def element(decl: etree._Element) -> dict | str:
        occ = occurs(decl.get("minOccurs", "1"), decl.get("maxOccurs", "1"))
        ct = decl.find(f"{XS}complexType")
        st = decl.find(f"{XS}simpleType")
        if st is not None:
            return f"{simple_type(st.find(f'{XS}restriction'), named)} {occ}"
        ext = ct.find(f"{XS}simpleContent/{XS}extension") if ct is not None else None
        if ext is not None:
            return f"{simple_type(named[ext.get('base')].find(f'{XS}restriction'), named)} {occ}"
        node: dict = {"occurs": occ}
        uniq = [u.find(f"{XS}selector").get("xpath") + "/" + u.find(f"{XS}field").get("xpath")
                for u in decl.findall(f"{XS}unique")]
        for ch in ct.find(f"{XS}sequence").findall(f"{XS}element"):
            node[ch.get("name")] = element(ch)
        if uniq:
            node["unique"] = uniq
        return node

    root = doc.find(f"{XS}element")
    return root.get("name"), element(root)


_LINE = re.compile(r"^( *)(\S+)\s+(.+?)\s+([01]\.\.[1n]|new|n/a)(?:\s+(.*))?$")


def md_tree(text: str, title: str) -> dict:
    """Parse one ``ELEMENT TYPE OCCURS FLAGS`` block of §5 into a nested dict of (type, occurs, flags)."""
    start = text.index(title)
    block = text[text.index("```", start) + 3: text.index("```", text.index("```", start) + 3)]
    stack: list[tuple[int, dict]] = []
    root: dict = {}
    for line in block.splitlines():
        m = _LINE.match(line)
        if not m or m.group(2) == "ELEMENT":
            continue
        ind, name, typ, occ, flags = len(m.group(1)), m.group(2), m.group(3).strip(), m.group(4), m.group(5) or ""
        node = {"_type": typ, "_occurs": occ, "_flags": flags, "_children": {}}
        while stack and stack[-1][0] >= ind:
            stack.pop()
        (stack[-1][1]["_children"] if stack else root)[name] = node
        stack.append((ind, node))
    return root


def merge_5x(md: dict, base: dict | str | None, path: str, notes: list[str]) -> dict | str:
    """A 5.x node: md order and occurrence, base facets where the base has the element."""
    typ, occ, flags, kids = md["_type"], md["_occurs"], md["_flags"], md["_children"]
    new = not re.fullmatch(r"[01]\.\.[1n]", occ)
    if typ.startswith("S"):
        node: dict = {}
        base_d = base if isinstance(base, dict) else {}
        node["occurs"] = base_d.get("occurs", "0..n" if new else occ) if not new else "0..n"
        for name, child in kids.items():
            node[name] = merge_5x(child, base_d.get(name), f"{path}/{name}", notes)
        if "unique" in base_d:
            node["unique"] = base_d["unique"]
        if new:
            node["assumption"] = ("новый в 5.x элемент: кратность и место в последовательности в справочных "
                                  "материалах не установлены; принято 0..n")
        return node
    if isinstance(base, str) and not new:
        if path.endswith("ONK_USL/LEK_PR/DATE_INJ"):
            return {"type": base.rsplit(" ", 1)[0], "occurs": "0..n",
                    "assumption": "в 3.x 1..n; в 5.x даты введения передаются и блоками INJ (chipcom с 2025-01), "
                                  "а medflk сохраняет оба элемента, поэтому принято 0..n"}
        return base
    if new:
        t = typ.strip()
        if occ.startswith("n/a"):
            return {"type": t, "occurs": "0..1",
                    "assumption": "элемента нет в XSD 3.1 этого вида файла; принято 0..1, размер — как в H 3.2"}
        return {"type": t, "occurs": "0..1",
                "assumption": "новый в 5.x элемент: " + ("длина не установлена, " if "?" in t else "")
                              + "кратность и место в последовательности не установлены; принято 0..1"
                              + ("; вид файла, в котором он есть, не установлен" if "uncertain" in flags else "")}
    # in the 5.x tree but not in the base XSD at this path (should not happen)
    notes.append(path)
    return f"{typ} {occ}"


def annotate(node: dict, name: str) -> dict:
    if name in ENTITY:
        node = {"occurs": node["occurs"], "entity": ENTITY[name], **EXTRA.get(name, {}),
                **{k: v for k, v in node.items() if k != "occurs"}}
    for k, v in list(node.items()):
        if k.isupper():
            if isinstance(v, dict) and "type" not in v:
                node[k] = annotate(v, k)
            elif k in ROWS:
                node[k] = ({"type": v.rsplit(" ", 1)[0], "occurs": v.rsplit(" ", 1)[1], "rows": ROWS[k]}
                           if isinstance(v, str) else {**v, "rows": ROWS[k]})
    return node


def dump(node, indent: int, out: list[str]) -> None:
    pad = "  " * indent
    for k, v in node.items():
        if isinstance(v, dict) and "type" in v:
            items = ", ".join(f"{kk}: {quote(vv)}" for kk, vv in v.items())
            out.append(f"{pad}{k}: {{{items}}}")
        elif isinstance(v, dict):
            out.append(f"{pad}{k}:")
            dump(v, indent + 1, out)
        elif isinstance(v, list):
            out.append(f"{pad}{k}: [{', '.join(v)}]")
        else:
            out.append(f"{pad}{k}: {quote(v)}")


def quote(v) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {quote(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(v) + "]"
    s = str(v)
    return '"' + s.replace('"', '\\"') + '"' if any(c in s for c in ":#{}[],&*?|>'\"%@`") or s[:1] in "-!" else s


def write(out_dir: Path, kind: str, version: str, header: dict, root: str, tree: dict) -> None:
    lines = [f"# Формат файла {kind}, версия {version}: дерево элементов, типы, размеры, кратность, сущности.",
             "# Сгенерировано scripts/formats_from_reference.py из справочных материалов; правится как данные."]
    body = {**header, "root": root}
    for k, v in body.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            lines.append(f"{k}:")
            lines += [f"  - {quote(x)}" for x in v]
        elif isinstance(v, list):
            lines.append(f"{k}:")
            lines += [f"  - {quote(x)}" for x in v]
        else:
            lines.append(f"{k}: {quote(v)}")
    lines.append("tree:")
    dump({root: annotate(copy.deepcopy(tree), root)}, 1, lines)
    (out_dir / f"{kind}_{version}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(ref: Path, out_dir: Path) -> None:
    xsd = ref / "ffoms-xsd"
    md = (ref / "registry-formats" / "registry_format_versions.md").read_text(encoding="utf-8")
    out_dir.mkdir(parents=True, exist_ok=True)
    bases = {k: xsd_tree(xsd / f) for k, f in {"H3.1": "MP_3.1.xsd", "H3.2": "MP_3.2.xsd", "C3.1": "ZNO_3.1.xsd",
             "T3.1": "VMP_3.1.xsd", "D3.1": "DISP_3.1_2021-08.xsd", "L3.2": "PERS_3.2.xsd"}.items()}
    src3 = "../shared/reference/ffoms-xsd/{} (ServiceVersion, региональная редакция XSD ФФОМС)"
    xsd_names = {"H3.1": "MP_3.1.xsd", "H3.2": "MP_3.2.xsd", "C3.1": "ZNO_3.1.xsd", "T3.1": "VMP_3.1.xsd",
                 "D3.1": "DISP_3.1_2021-08.xsd", "L3.2": "PERS_3.2.xsd"}
    periods3 = {"H3.1": [{"from": "2019-01", "to": "2021-12"}], "H3.2": [{"from": "2022-01", "to": "2024-02"}],
                "C3.1": [{"from": "2019-01", "to": "2024-02"}], "T3.1": [{"from": "2019-01", "to": "2024-12"}],
                "D3.1": [{"from": "2019-01", "to": "2024-12"}]}
    assume3 = {
        "C3.1": ["В 2022-01…2024-02 версия C-файла не установлена (нет XSD «ЗНО 3.2»); в этот период C-файлы "
                 "читаются по 3.1"],
        "D3.1": ["Редакция XSD с 2021-08-01; редакция 2020-04 в справочных материалах отсутствует, "
                 "файлы 2019–2021 читаются по ней же"],
    }
    for key, (root, tree) in bases.items():
        kind, ver = key[0], key[1:]
        if key == "L3.2":
            for lv, per in (("3.1", [{"from": "2019-01", "to": "2019-10"}]), ("3.2", [{"from": "2019-11"}])):
                hdr = {"kind": "L", "version": lv, "source": src3.format(xsd_names[key]), "periods": per}
                if lv == "3.1":
                    hdr["assumptions"] = ["XSD «ПЕРС 3.1» в справочных материалах нет; L 3.1 читается по дереву 3.2"]
                write(out_dir, "L", lv, hdr, root, tree)
            continue
        hdr = {"kind": kind, "version": ver, "source": src3.format(xsd_names[key]), "periods": periods3[key]}
        if key in assume3:
            hdr["assumptions"] = assume3[key]
        write(out_dir, kind, ver, hdr, root, tree)
    titles = {"H": "### 5.1 H", "C": "### 5.2 C", "T": "### 5.3 T", "D": "### 5.4 D"}
    base_of = {"H": "H3.2", "C": "C3.1", "T": "T3.1", "D": "D3.1"}
    periods5 = {("H", "5.0"): [{"from": "2025-01", "to": "2025-06"}], ("H", "5.1"): [{"from": "2025-07"}],
                ("C", "5.0"): [{"from": "2025-01", "to": "2025-06"}], ("C", "5.1"): [{"from": "2025-07"}],
                ("T", "5.0"): [{"from": "2025-01"}], ("T", "5.1"): [{"from": "2025-07"}],
                ("D", "5.0"): [{"from": "2025-01"}], ("D", "5.1"): [{"from": "2025-07"}],
                ("H", "4.0"): [{"from": "2024-03", "to": "2024-12"}], ("C", "4.0"): [{"from": "2024-03", "to": "2024-12"}]}
    src5 = ("../shared/reference/registry-formats/registry_format_versions.md §5 (дерево 5.x) и "
            "registry_elements_5x.csv; типы и размеры элементов базовой версии — из {}")
    common5 = ["Порядок и размеры новых в 5.x элементов справочными материалами не установлены: "
               "у каждого такого элемента — своя пометка assumption",
               "Различия 5.0 и 5.1 в справочных материалах не описаны: деревья 5.0 и 5.1 совпадают"]
    for kind, title in titles.items():
        root_md = md_tree(md, title)
        broot, btree = bases[base_of[kind]]
        notes: list[str] = []
        tree = merge_5x(root_md["ZL_LIST"], btree, "ZL_LIST", notes)
        if "unique" in btree:
            tree["unique"] = btree["unique"]
        if notes:
            print(kind, "not in base:", notes, file=sys.stderr)
        vers = ["5.0", "5.1"] + (["4.0"] if kind in "HC" else [])
        for ver in vers:
            hdr = {"kind": kind, "version": ver, "source": src5.format(xsd_names[base_of[kind]]),
                   "periods": periods5[(kind, ver)], "assumptions": list(common5)}
            if ver == "4.0":
                hdr["assumptions"] = ["Дерево 4.0 в справочных материалах отсутствует: 4.0 читается по дереву 5.x "
                                      "(новые элементы 5.x необязательны)"] + common5[:1]
            if kind == "D" and ver == "5.1":
                hdr["assumptions"].append("Версия D-файлов с 2025-07 спорна (5.0 у писателя chipcom, 5.1 по "
                                          "проверке 002F.00.0016): принимаются обе, см. таблицу версий")
            if kind == "T" and ver == "5.1":
                hdr["assumptions"].append("5.1 для T-файлов выведена из отсутствия фильтра по виду файла "
                                          "в проверке 002F.00.0016")
            if kind == "C":
                hdr["assumptions"].append("Получили ли C-файлы 5.x MR_USL_N/MED_DEV, как H-файлы, не установлено: "
                                          "в дереве их нет (USL/PRVS, USL/CODE_MD, как в 3.1)")
            write(out_dir, kind, ver, hdr, "ZL_LIST", tree)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
