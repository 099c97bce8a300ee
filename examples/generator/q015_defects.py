"""Defects of the FFOMS control catalogue (НСИ Q015) injected into otherwise clean cases.

Each defect is what an МО's system gets wrong in a real registry — a code that is not in the
book the element refers to, a conditional element left out, an element written where the
format forbids it, two dates in the wrong order — and names the one catalogue ID whose check
must report it. The ZAP is first written clean (xmlwrite.RegistryWriter) and then edited line
by line, so the rest of the case, its money included, stays exactly as priced.

A case with a catalogue defect gets no other defect and is never the source of a collision
defect (a duplicate, an overlap): the ground truth row names the ID, and the federal package
must report it on that case with the F014 code of the check (1.4.3 for the 003F presence
checks, 1.4.4 for the book, domain and date checks of 001F/002F/006F — the package's
convention, methodologies/federal/2025/catalogue/*.rules).

Codes written in place of the right ones are not in force in the books of the package on the
reporting date — absent, or (VID_HMP 09.00.001) a code closed years ago
(tests/generator/test_q015_defects.py checks this against its tables).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from .cases import Case
from .special import Disp, Onko, Vmp

Lines = list[str]


def _idx(out: Lines, tag: str, start: int = 0) -> int:
    """Index of the first line of element ``tag`` at or after ``start``."""
    head = f"<{tag}>"
    for i in range(start, len(out)):
        if out[i].startswith(head):
            return i
    raise LookupError(tag)


def _sl(out: Lines) -> int:
    return out.index("<SL>\n")


def _usl(out: Lines) -> int:
    return out.index("<USL>\n")


def _value(line: str) -> str:
    return line[line.index(">") + 1 : line.rindex("</")]


Where = Callable[[Lines], int]  # the line from which to look for the element (0: the whole ZAP)
Mutation = Callable[[Lines], None]


def _set(tag: str, value: str, where: Where = lambda out: 0) -> Mutation:
    def mutate(out: Lines) -> None:
        out[_idx(out, tag, where(out))] = f"<{tag}>{value}</{tag}>\n"

    return mutate


def _drop(tag: str, where: Where = lambda out: 0) -> Mutation:
    def mutate(out: Lines) -> None:
        del out[_idx(out, tag, where(out))]

    return mutate


def _drop_blocks(tag: str) -> Mutation:
    def mutate(out: Lines) -> None:
        while f"<{tag}>\n" in out:
            i = out.index(f"<{tag}>\n")
            del out[i : out.index(f"</{tag}>\n", i) + 1]

    return mutate


def _insert_after(tag: str, line: str, where: Where = lambda out: 0) -> Mutation:
    def mutate(out: Lines) -> None:
        out.insert(_idx(out, tag, where(out)) + 1, line)

    return mutate


def _npr_after_start(out: Lines) -> None:
    """NPR_DATE one day after DATE_Z_1: the referral dated after the treatment began (006F.00.0310)."""
    d1 = date.fromisoformat(_value(out[_idx(out, "DATE_Z_1")]))
    out[_idx(out, "NPR_DATE")] = f"<NPR_DATE>{(d1 + timedelta(days=1)).isoformat()}</NPR_DATE>\n"


def _naz_v_on_plain_naz(out: Lines) -> None:
    """NAZ_V (research method) written into a NAZ of kind 1 (a doctor's visit), 003F.00.1300."""
    i = out.index("<NAZ_R>1</NAZ_R>\n")
    out.insert(_idx(out, "NAZ_IDDOKT", i) + 1, "<NAZ_V>1</NAZ_V>\n")


# --- what a case must have for a defect to be made on it ------------------------------------


def _stay(c: Case) -> bool:
    return c.usl_ok in (1, 2)


def _visit(c: Case) -> bool:
    return c.usl_ok == 3 and c.p_cel is not None


def _onko(c: Case) -> Onko | None:
    b = c.block
    return b.onko if isinstance(b, Vmp) else b if isinstance(b, Onko) else None


def _treated(tip: int) -> Callable[[Case], bool]:
    def applies(c: Case) -> bool:
        o = _onko(c)
        return o is not None and any(u.usl_tip == tip for u in o.usl)

    return applies


def _cons_dated(c: Case) -> bool:
    o = _onko(c)
    return o is not None and any(pr in (1, 2, 3) and dt is not None for pr, dt in o.cons)


def _naz(pred: Callable[[tuple[int, int, int | None]], bool]) -> Callable[[Case], bool]:
    def applies(c: Case) -> bool:
        return isinstance(c.block, Disp) and any(pred(n) for n in c.block.naz)

    return applies


@dataclass(frozen=True, slots=True)
class Q015Defect:
    id: str  # the catalogue ID whose check must report it
    kinds: str  # file kinds (H, C, T, D) of the cases it is made on
    what: str
    applies: Callable[[Case], bool]
    mutate: Mutation
    #: other catalogue IDs the same edit breaks by the catalogue's own logic (reported too)
    also: tuple[str, ...] = ()

    @property
    def f014(self) -> str:
        return "1.4.3" if self.id.startswith("003F") else "1.4.4"


def _any(c: Case) -> bool:
    return True


DEFECTS: tuple[Q015Defect, ...] = (
    # codes not in the book of the element (001F)
    Q015Defect("001F.00.0170", "HCT", "VIDPOM = 5: вида помощи нет в V008", _any, _set("VIDPOM", "5")),
    Q015Defect("001F.00.0180", "HCT", "FOR_POM = 4: формы помощи нет в V014", _any, _set("FOR_POM", "4")),
    Q015Defect("001F.00.0270", "HC", "SL/PROFIL = 186: профиля нет в V002", _any, _set("PROFIL", "186", _sl)),
    Q015Defect("001F.00.0280", "HCT", "PROFIL_K = 86: профиля койки нет в V020", _stay, _set("PROFIL_K", "86")),
    Q015Defect("001F.00.0290", "H", "P_CEL = 2.4: цели посещения нет в V025", _visit, _set("P_CEL", "2.4")),
    Q015Defect("001F.00.0300", "CT", "C_ZAB = 4: характера заболевания нет в V027",
               lambda c: c.c_zab is not None, _set("C_ZAB", "4")),  # fmt: skip
    Q015Defect("001F.00.0310", "HCT", "SL/PRVS = 1134 (код старого справочника V015): нет в V021", _any,
               _set("PRVS", "1134", _sl)),  # fmt: skip
    Q015Defect("001F.00.0663", "HD", "MR_USL_N/PRVS = 1134: нет в V021", lambda c: bool(c.services),
               _set("PRVS", "1134", _usl)),  # fmt: skip
    Q015Defect("001F.00.0661", "C", "USL/PRVS = 1134: нет в V021", lambda c: bool(c.services),
               _set("PRVS", "1134", _usl)),  # fmt: skip
    Q015Defect("001F.00.0410", "C", "DS1_T = 7: повода обращения нет в N018",
               lambda c: (o := _onko(c)) is not None and o.ds1_t is not None, _set("DS1_T", "7")),  # fmt: skip
    Q015Defect("001F.00.0400", "C", "PR_CONS = 5: цели консилиума нет в N019",
               lambda c: _onko(c) is not None, _set("PR_CONS", "5"), also=("003F.00.1240",)),  # fmt: skip
    Q015Defect("001F.00.0520", "CT", "HIR_TIP = 7: типа хирургического лечения нет в N014", _treated(1),
               _set("HIR_TIP", "7")),  # fmt: skip
    Q015Defect("001F.00.0550", "C", "LUCH_TIP = 4: типа лучевой терапии нет в N017", _treated(3),
               _set("LUCH_TIP", "4")),  # fmt: skip
    Q015Defect("001F.00.0530", "C", "LEK_TIP_L = 5: линии лекарственной терапии нет в N015", _treated(2),
               _set("LEK_TIP_L", "5")),  # fmt: skip
    Q015Defect("001F.00.0250", "T", "VID_HMP = 09.00.001: вид ВМП V018, действовавший до 31.12.2014", _any, _set("VID_HMP", "09.00.001")),
    Q015Defect("001F.00.0240", "D", "RSLT_D = 8: результата диспансеризации нет в V017", _any, _set("RSLT_D", "8")),
    Q015Defect("001F.00.0350", "D", "NAZ_V = 5: метода исследования нет в V029",
               _naz(lambda n: n[2] is not None), _set("NAZ_V", "5")),  # fmt: skip
    # values outside the element's domain (002F)
    Q015Defect("002F.00.0320", "HCT", "VERS_SPEC = V015: не «V021»", _any, _set("VERS_SPEC", "V015")),
    Q015Defect("002F.00.0370", "C", "WEI = 720.0 (сдвиг запятой): масса тела 500 кг и более", _treated(2),
               _set("WEI", "720.0")),  # fmt: skip
    # a conditional element left out, or written where it is not allowed (003F)
    Q015Defect("003F.00.0640", "HC", "нет PROFIL_K в стационаре", _stay, _drop("PROFIL_K")),
    Q015Defect("003F.00.0650", "H", "PROFIL_K = 71 в амбулаторном случае", _visit,
               _insert_after("PROFIL", "<PROFIL_K>71</PROFIL_K>\n", _sl)),  # fmt: skip
    Q015Defect("003F.00.0660", "H", "нет P_CEL в амбулаторном случае", _visit, _drop("P_CEL")),
    Q015Defect("003F.00.0700", "HC", "нет P_PER в стационаре", _stay, _drop("P_PER")),
    Q015Defect("003F.00.0740", "HC", "нет KD в стационаре", _stay, _drop("KD", _sl)),
    Q015Defect("003F.00.0430", "HCT", "нет KD_Z в стационаре", _stay, _drop("KD_Z")),
    Q015Defect("003F.00.0772", "C", "нет C_ZAB при онкологическом диагнозе",
               lambda c: c.c_zab is not None and c.ds1[:1] == "C", _drop("C_ZAB"),
               also=("003F.00.0782",)),  # fmt: skip
    Q015Defect("003F.00.1230", "CT", "нет DT_CONS при проведённом консилиуме", _cons_dated, _drop("DT_CONS")),
    Q015Defect("003F.00.1410", "CT", "нет HIR_TIP при хирургическом лечении", _treated(1), _drop("HIR_TIP")),
    Q015Defect("003F.00.1030", "C", "нет SOD при лучевой терапии", _treated(3), _drop("SOD")),
    Q015Defect("003F.00.0872", "T", "нет ONK_SL в случае ВМП с онкологическим диагнозом",
               lambda c: _onko(c) is not None, _drop_blocks("ONK_SL")),  # fmt: skip
    Q015Defect("003F.00.3052", "D", "нет NAZ при группе здоровья, требующей назначений",
               lambda c: isinstance(c.block, Disp) and bool(c.block.naz), _drop_blocks("NAZ")),  # fmt: skip
    Q015Defect("003F.00.1290", "D", "нет NAZ_V в назначении на обследование (NAZ_R 3)",
               _naz(lambda n: n[1] == 3 and n[2] is not None), _drop("NAZ_V")),  # fmt: skip
    Q015Defect("003F.00.1300", "D", "NAZ_V в назначении не на обследование (NAZ_R 1)",
               _naz(lambda n: n[1] == 1), _naz_v_on_plain_naz),  # fmt: skip
    Q015Defect("003F.00.2571", "D", "нет PR_D_N", _any, _drop("PR_D_N")),
    # dates in the wrong order (006F)
    Q015Defect("006F.00.0310", "HCT", "NPR_DATE позже DATE_Z_1",
               lambda c: c.npr_date is not None and c.npr_mo is not None, _npr_after_start),  # fmt: skip
)
BY_ID = {d.id: d for d in DEFECTS}
KIND = "q015"  # the ground truth's defect column for these rows; the ID is in its catalogue column


class Picker:
    """Marks clean cases for catalogue defects (``case.extra["q015"]``) from its own random stream.

    Among the defects that fit a case it takes one of those made least often so far and, of
    those, one that fitted the fewest cases yet, so the rare situations (a radiotherapy case, an
    oncological ВМП case) get their own defects rather than the ones any case can carry."""

    def __init__(self, rate: float, seed: int) -> None:
        self.rate, self.rng = rate, random.Random(seed)
        self.made: dict[str, int] = dict.fromkeys(BY_ID, 0)
        self.fitted: dict[str, int] = dict.fromkeys(BY_ID, 0)

    def pick(self, case: Case) -> Q015Defect | None:
        """With probability ``rate`` a defect for this clean case (None: it stays clean)."""
        if not self.rate or self.rng.random() >= self.rate:
            return None
        fits = [d for d in DEFECTS if case.kind in d.kinds and d.applies(case)]
        if not fits:
            return None
        for d in fits:
            self.fitted[d.id] += 1
        least = min((self.made[d.id], self.fitted[d.id]) for d in fits)
        defect = self.rng.choice([d for d in fits if (self.made[d.id], self.fitted[d.id]) == least])
        self.made[defect.id] += 1
        case.extra["q015"] = defect
        return defect


def apply(defect: Q015Defect, out: Lines) -> None:
    """Edit the written ZAP lines; a defect that finds nothing to edit is a generator bug."""
    before = list(out)
    try:
        defect.mutate(out)
    except (LookupError, ValueError) as e:
        raise AssertionError(f"{defect.id}: нет элемента для дефекта ({e})") from None
    assert out != before, defect.id
