"""SL/KSG_KPG/SL_KOEF elements become rows of their own (kslp_item), dated by the SL's DATE_2."""

from __future__ import annotations

from lxml import etree

from engine.oms.io.formats import load_formats
from engine.oms.io.mapping import add_row, plans

SL = b"""<SL><SL_ID>1</SL_ID><PROFIL>97</PROFIL><DET>0</DET><NHISTORY>1</NHISTORY>
<DATE_1>2025-03-01</DATE_1><DATE_2>2025-03-10</DATE_2><DS1>I10</DS1>
<KSG_KPG><N_KSG>st21.001</N_KSG><VER_KSG>2025</VER_KSG><KSG_PG>0</KSG_PG><KOEF_Z>0.49</KOEF_Z>
<KOEF_UP>1</KOEF_UP><BZTSZ>28147.26</BZTSZ><KOEF_D>1</KOEF_D><KOEF_U>1</KOEF_U><SL_K>1</SL_K><IT_SL>0.8</IT_SL>
<SL_KOEF><IDSL>1</IDSL><Z_SL>0.2</Z_SL></SL_KOEF><SL_KOEF><IDSL>5</IDSL><Z_SL>0.6</Z_SL></SL_KOEF></KSG_KPG>
<PRVS>76</PRVS><VERS_SPEC>V021</VERS_SPEC><IDDOKT>1</IDDOKT><SUM_M>1</SUM_M></SL>"""


def test_sl_koef_items_are_rows_with_the_sl_date():
    lay, by_desc = plans(load_formats())
    sl_plan = by_desc[("H", "3.2")].record.handler.complex["Z_SL"].handler.complex["SL"]
    out = {e: [] for e in lay.columns}
    add_row(etree.fromstring(SL), sl_plan, {"case": ["HM1/7"]}, out, 1)
    k = lay.index("kslp_item")
    assert [(r[0], r[k["sl_ref"]], r[k["idsl"]], r[k["z_sl"]], r[k["date_2"]]) for r in out["kslp_item"]] == [
        ("HM1/7/1/1", "HM1/7/1", "1", "0.2", "2025-03-10"),
        ("HM1/7/1/2", "HM1/7/1", "5", "0.6", "2025-03-10"),
    ]
    assert out["sl"][0][lay.index("sl")["sl_koef"]] == "1;5"
