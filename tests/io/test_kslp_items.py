"""SL/KSG_KPG/SL_KOEF elements become rows of their own (kslp_item), dated by the SL's DATE_2."""

from __future__ import annotations

from lxml import etree

from engine.io.records import RecordRows

SL = b"""<SL><SL_ID>1</SL_ID><PROFIL>97</PROFIL><DET>0</DET><NHISTORY>1</NHISTORY>
<DATE_1>2025-03-01</DATE_1><DATE_2>2025-03-10</DATE_2><DS1>I10</DS1>
<KSG_KPG><N_KSG>st21.001</N_KSG><VER_KSG>2025</VER_KSG><KSG_PG>0</KSG_PG><KOEF_Z>0.49</KOEF_Z>
<KOEF_UP>1</KOEF_UP><BZTSZ>28147.26</BZTSZ><KOEF_D>1</KOEF_D><KOEF_U>1</KOEF_U><SL_K>1</SL_K><IT_SL>0.8</IT_SL>
<SL_KOEF><IDSL>1</IDSL><Z_SL>0.2</Z_SL></SL_KOEF><SL_KOEF><IDSL>5</IDSL><Z_SL>0.6</Z_SL></SL_KOEF></KSG_KPG>
<PRVS>76</PRVS><VERS_SPEC>V021</VERS_SPEC><IDDOKT>1</IDDOKT><SUM_M>1</SUM_M></SL>"""


def test_sl_koef_items_are_rows_with_the_sl_date():
    rows = RecordRows("HM1")
    rows._add_sl(etree.fromstring(SL), "HM1/7")
    assert [r[:5] for r in rows.kslp_item] == [
        ("HM1/7/1/1", "HM1/7/1", "1", "0.2", "2025-03-10"),
        ("HM1/7/1/2", "HM1/7/1", "5", "0.6", "2025-03-10"),
    ]
    from engine.io.columns import SL as SL_COLUMNS

    assert rows.sl[0][SL_COLUMNS.index("sl_koef")] == "1;5"
