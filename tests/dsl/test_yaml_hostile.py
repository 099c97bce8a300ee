"""Hostile YAML in package and test files is a positioned E0601, never a traceback or a hang."""

from __future__ import annotations

import pytest

from dsl.diagnostics import DiagnosticError
from engine.runtime.yamlpos import MAX_DEPTH, MAX_NODES, parse_text

BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))

CASES = {
    "control character": ("id: a\x01b\n", 1, 6, "недопустимый символ U+0001"),
    "NUL": ("a: 1\nb: \x00\n", 2, 4, "недопустимый символ U+0000"),
    "deep flow nesting": ("a: " + "[" * 5000 + "]" * 5000 + "\n", 1, MAX_DEPTH + 3, "вложенность больше"),
    "deep block nesting": ("".join("  " * i + "a:\n" for i in range(150)) + "  " * 150 + "b\n",
                           MAX_DEPTH + 1, 2 * MAX_DEPTH + 1, "вложенность больше"),
    "recursive alias in a sequence": ("a: &x [1, *x]\n", 1, 4, "рекурсия"),
    "recursive alias in a mapping": ("a: &x {b: *x}\n", 1, 4, "рекурсия"),
    "scalar merge key": ("a: 1\n<<: 5\n", 2, 5, "после «<<:» нужен словарь"),
    "merge of a list of scalars": ("<<: [1, 2]\n", 1, 6, "после «<<:» нужен словарь"),
    "alias expansion bomb": (BOMB, 1, 1, f"больше чем в {MAX_NODES} узлов"),
    "mapping as a key": ("? [a, b]\n: 1\n", 1, 3, "ключ словаря должен быть строкой"),
    "duplicate key": ("a: 1\na: 2\n", 2, 1, "ключ «a» повторяется"),
}


@pytest.mark.parametrize("name", CASES)
def test_hostile_yaml_is_a_positioned_diagnostic(name):
    text, line, column, message = CASES[name]
    assert len(BOMB) < 400
    with pytest.raises(DiagnosticError) as err:
        parse_text(text, "x.yaml")
    [d] = err.value.diagnostics
    assert (d.code, d.span.file, d.span.line, d.span.column) == ("E0601", "x.yaml", line, column), d.message
    assert message in d.message


def test_merge_keys_still_work_and_own_keys_win():
    loc = parse_text("base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  b: 3\n", "x.yaml")
    x = loc.value["x"]
    assert {k: v.value for k, v in x.value.items()} == {"b": 3, "a": 1}
    assert x.key_spans["b"].line == 4


def test_shared_anchors_below_the_bound_expand():
    text = "a: &a [" + ",".join(["x"] * 100) + "]\n" + "".join(f"k{i}: *a\n" for i in range(100))
    assert len(parse_text(text, "x.yaml").value) == 101
