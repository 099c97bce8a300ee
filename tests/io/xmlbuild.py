"""Registry XML built from a format description: every mandatory element, chosen optional ones.

A value comes from ``values`` (by element path suffix such as ``"SL/DS1"`` or by name), else
from the element's type (the shortest valid value). ``repeat`` gives how many times an element
occurs; ``optional`` names the optional elements to write. Used by the tests to make valid files
of every kind from the descriptions themselves, and broken ones by editing the result.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from engine.oms.io.formats import Description, Node, SimpleType


def default_value(t: SimpleType) -> str:
    if t.enum:
        return t.enum[0]
    if t.base == "date":
        return "2025-09-15"
    if t.base == "decimal":
        return "1" if not t.fraction else "1.00"
    return "1" if t.max_len is None else "1"[: t.max_len]


def _value(path: tuple[str, ...], node: Node, values: dict[str, object], index: int) -> str | None:
    for n in range(len(path), 0, -1):
        key = "/".join(path[-n:])
        if key in values:
            v = values[key]
            if isinstance(v, (list, tuple)):
                return None if index >= len(v) else str(v[index])
            return None if v is None else str(v)
    return default_value(node.type)  # type: ignore[arg-type]


def _wanted(path: tuple[str, ...], node: Node, values: dict, optional: set[str]) -> bool:
    if node.min > 0:
        return True
    return any("/".join(path[-n:]) in optional for n in range(len(path), 0, -1)) or any(
        "/".join(path[-n:]) in values for n in range(len(path), 0, -1)
    )


def _count(path: tuple[str, ...], node: Node, repeat: dict[str, int]) -> int:
    for n in range(len(path), 0, -1):
        key = "/".join(path[-n:])
        if key in repeat:
            return repeat[key]
    return 1


def _emit(node: Node, path: tuple[str, ...], values: dict, optional: set[str], repeat: dict[str, int],
          out: list[str], index: int = 0) -> None:
    for ch in node.children:
        cpath = path + (ch.name,)
        if not _wanted(cpath, ch, values, optional):
            continue
        for i in range(_count(cpath, ch, repeat)):
            if ch.simple:
                v = _value(cpath, ch, values, i if ch.max is None or ch.max > 1 else index)
                if v is not None:
                    out.append(f"<{ch.name}>{escape(v)}</{ch.name}>")
            else:
                out.append(f"<{ch.name}>")
                _emit(ch, cpath, values, optional, repeat, out, i)
                out.append(f"</{ch.name}>")


def build(desc: Description, values: dict[str, object] | None = None, optional: set[str] | None = None,
          repeat: dict[str, int] | None = None) -> bytes:
    """A windows-1251 registry file of ``desc``, one element per line (so lines are predictable)."""
    out: list[str] = [f"<{desc.root.name}>"]
    _emit(desc.root, (desc.root.name,), dict(values or {}), set(optional or ()), dict(repeat or {}), out)
    out.append(f"</{desc.root.name}>")
    text = '<?xml version="1.0" encoding="windows-1251"?>\n' + "\n".join(out) + "\n"
    return text.encode("cp1251")


def reference_sample_month(src, out):
    """A reference sample copied into ``out`` under its FILENAME, with an L file (L 3.2) carrying
    its first ID_PAC (the samples ship without one); returns the sample's parsed tree."""
    import shutil

    from lxml import etree

    from engine.oms.io.formats import load_formats

    doc = etree.parse(str(src))
    name, id_pac = doc.findtext("ZGLV/FILENAME"), doc.findtext("ZAP/PACIENT/ID_PAC")
    shutil.copy(src, out / f"{name}.XML")
    desc = load_formats().get("L", "3.2")
    assert desc is not None
    l_name = "L" + name[2:] if name.startswith("D") else "L" + name[1:]
    (out / f"{l_name}.XML").write_bytes(build(desc, {
        "VERSION": "3.2", "DATA": doc.findtext("ZGLV/DATA"), "FILENAME": l_name, "FILENAME1": name,
        "ID_PAC": id_pac, "W": 1, "DR": "1968-05-14"}))
    return doc
