"""A YAML test file of the wrong shape is a failed result naming file:line:col, never a traceback."""

from __future__ import annotations

import re

import pytest

from engine.testing import run_tests
from tests.dsl.harness import compile_entry

HEAD = """defaults:
  case: {usl_ok: 1, profil: 97, lpu: "760002", ds1: H25.1, rslt: 101, kd: 5, sumv: 100.00,
         date_z_1: 2025-03-01, date_z_2: 2025-03-10}
cases:
  - name: t
    input:
      account: [{key: a1, dschet: 2025-03-31, code_mo: "760002", summav: 0, file_type: H, year: 2025, month: 3}]
"""
BIG = "123456789012345678901234567890"

CASES = {   # name: (tail of the file, expected line:col, expected message part)
    "defects is a number": ("      case: [{key: c1}]\n    defects: 5\n", "9:14", "defects: ожидался список"),
    "a row that is a string": ("      case: [c1]\n", "8:14", "строка 1: ожидался словарь"),
    "an expected value that is a list": ("      case: [{key: c1}]\n    output:\n      case:\n        c1: {x: [1, 2]}\n",
                                         "11:17", "ожидалось одно значение, а не список"),
    ".inf in a field": ("      case: [{key: c1, kd: .inf}]\n", "8:28", "число inf недопустимо"),
    "a 30-digit integer in a field": (f"      case: [{{key: c1, kd: {BIG}}}]\n", "8:28", "вне допустимого диапазона"),
    "a 30-digit integer expected": (f"      case: [{{key: c1}}]\n    output:\n      case:\n        c1: {{x: {BIG}}}\n",
                                    "11:17", "вне допустимого диапазона"),
    "an unknown case key": ("      case: [{key: c1}]\n    expect: {}\n", "9:5", "неизвестный ключ «expect»"),
    "a date that is no date": ("      case: [{key: c1}]\n    date: 5\n", "9:11", "не дата"),
    "a tolerance that is text": ("      case: [{key: c1}]\n    tolerance: abc\n", "9:16", "tolerance"),
}


@pytest.mark.parametrize("name", CASES)
def test_wrong_shape_is_a_positioned_failure(name, tmp_path):
    tail, where, message = CASES[name]
    rules, tests = tmp_path / "x.rules", tmp_path / "x.yaml"
    rules.write_text("for case:\n    x: int = kd\n", encoding="utf-8")
    tests.write_text(HEAD + tail, encoding="utf-8")
    report = run_tests(compile_entry(rules, tests))
    [result] = report.results
    assert not result.ok
    [failure] = result.failures
    assert failure.startswith("ошибка[E0610]: файл тестов:") and message in failure, failure
    assert re.search(rf"x\.yaml:{where}(\n|$)", failure), failure


def test_a_digit_string_beyond_int64_is_a_data_error(tmp_path):
    rules, tests = tmp_path / "x.rules", tmp_path / "x.yaml"
    rules.write_text("for case:\n    x: int = kd\n", encoding="utf-8")
    tests.write_text(HEAD + f"      case: [{{key: c1, kd: '{BIG}'}}]\n", encoding="utf-8")
    [result] = run_tests(compile_entry(rules, tests)).results
    assert result.failures == [f"ошибка выполнения: ошибки во входных данных:\n  case [c1].kd: значение «{BIG}» "
                               "— не целое число"]


def test_an_expected_value_of_the_wrong_type_is_a_failure(tmp_path):
    """Found by tests/fuzz: «(1.05» expected of an int definition raised ValueError."""
    rules, tests = tmp_path / "x.rules", tmp_path / "x.yaml"
    rules.write_text("for case:\n    x: int = kd\n", encoding="utf-8")
    tests.write_text(HEAD + "      case: [{key: c1}]\n    output:\n      case:\n        c1: {x: '(1.05'}\n",
                     encoding="utf-8")
    [result] = run_tests(compile_entry(rules, tests)).results
    assert result.failures == ["case [c1].x: ожидаемое значение «(1.05» не подходит к типу int"]
