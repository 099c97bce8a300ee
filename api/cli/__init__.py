"""The `metodika` command line. Importing the package gives argparse's own texts in Russian
(help headings, usage and errors), so every line of `metodika … --help` is in Russian."""

from __future__ import annotations

import argparse

_RU = {
    "usage: ": "использование: ",
    "positional arguments": "аргументы",
    "options": "параметры",
    "optional arguments": "параметры",
    "show this help message and exit": "показать эту справку и выйти",
    "%(prog)s: error: %(message)s\n": "%(prog)s: ошибка: %(message)s\n",
    "the following arguments are required: %s": "не указаны обязательные аргументы: %s",
    "unrecognized arguments: %s": "неизвестные аргументы: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "недопустимое значение: %(value)r (возможны: %(choices)s)",
    "invalid %(type)s value: %(value)r": "недопустимое значение (%(type)s): %(value)r",
    "expected one argument": "ожидается одно значение",
    "expected at least one argument": "ожидается хотя бы одно значение",
    "expected at most one argument": "ожидается не более одного значения",
    "argument %(argument_name)s: %(message)s": "аргумент %(argument_name)s: %(message)s",
    "not allowed with argument %s": "нельзя вместе с аргументом %s",
    "one of the arguments %s is required": "нужен один из аргументов %s",
    "ambiguous option: %(option)s could match %(matches)s": "неоднозначный параметр %(option)s: подходят %(matches)s",
}
_english = argparse._


def _ru(text: str) -> str:
    return _RU.get(text, _english(text))


argparse._ = _ru   # argparse looks its module-level `_` up at call time
