"""Mutated registry XML (the shipped 2025-09 month) through the registry reader and ФЛК: a
protocol, never an exception."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.oms.io import read_registry
from tests.fuzz.mutate import deadline, fuzz_settings, mutated
from tests.fuzz.scratch import ROOT

pytestmark = pytest.mark.fuzz

MONTH = ROOT / "examples" / "registries" / "2025-09"
#: small pairs (an account file and its L file): every kind of the month
PAIRS = [(a, a.replace(a.split("M")[0], "L", 1)) for a in
         ("TM000001T76_25093.XML", "CM000002T76_25092.XML", "DPM000003T76_25094.XML")]
PAIRS = [(a, b) for a, b in PAIRS if (MONTH / a).exists() and (MONTH / b).exists()]


def test_seeds_exist():
    assert len(PAIRS) >= 2


@fuzz_settings(400)
@given(data=st.data())
def test_mutated_registry(tmp_path_factory, data):
    account, people = data.draw(st.sampled_from(PAIRS))
    which = data.draw(st.sampled_from([account, people]))
    folder = tmp_path_factory.mktemp("reg")
    for name in (account, people):
        raw = (MONTH / name).read_bytes()
        (folder / name).write_bytes(data.draw(mutated([raw])) if name == which else raw)
    with deadline():
        result = read_registry([folder / account, folder / people])
    assert result.ok or result.protocol
