"""Mutations of real inputs for the fuzz tests, the example budget and the per-example deadline.

Bounded by default (a few thousand inputs over all targets, derandomized so CI is reproducible);
``METODIKA_FUZZ_EXAMPLES=N`` runs N examples per target with a random seed (docs/testing.md).
"""

from __future__ import annotations

import os
import re
import signal
from contextlib import contextmanager

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

LONG = int(os.environ.get("METODIKA_FUZZ_EXAMPLES", "0") or 0)
DEADLINE = float(os.environ.get("METODIKA_FUZZ_DEADLINE", "20"))

#: fragments that tend to reach error paths: brackets, indentation, encodings, YAML anchors and
#: merges, control characters, huge numbers, XML entities
INTERESTING = [b"(", b")", b"[", b"]", b"{", b"}", b"\n", b"\n    ", b"\t", b" ", b":", b",", b"\"", b"'",
               b"if ", b" then ", b" else ", b" + ", b"..", b"-", b"9" * 30, b"1e999", b".inf", b".nan",
               b"\x00", b"\x01", b"\xff", b"\xc3", "ё".encode(), b"&a ", b"*a", b"<<: ", b"? ", b"---\n",
               b"!!python/object ", b"<", b">", b"</", b"&amp;", b"&#0;", b"<!DOCTYPE x [<!ENTITY e 'x'>]>",
               b"~", b"null", b"/etc/passwd", b"../", b"2025-13-45", b"29.02.2025"]
_TOKEN = re.compile(rb"\w+|\s+|.", re.S)


def fuzz_settings(bounded: int):
    """Hypothesis settings for one target: `bounded` examples by default, LONG when asked for."""
    return settings(max_examples=LONG or bounded, deadline=None, derandomize=not LONG, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=True)


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            data.extend(draw(st.sampled_from(INTERESTING)))
            continue
        op = draw(st.sampled_from(["flip", "delete", "duplicate", "truncate", "insert", "token_delete",
                                   "token_duplicate", "repeat"]))
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "delete":
            del data[i:i + draw(st.integers(1, 64))]
        elif op == "duplicate":
            data[i:i] = data[i:i + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[i:]
        elif op == "insert":
            data[i:i] = draw(st.sampled_from(INTERESTING))
        elif op == "repeat":                       # deep nesting, long chains
            data[i:i] = draw(st.sampled_from(INTERESTING)) * draw(st.integers(2, 400))
        else:
            tokens = [m.span() for m in _TOKEN.finditer(bytes(data))]
            a, b = tokens[draw(st.integers(0, len(tokens) - 1))]
            if op == "token_delete":
                del data[a:b]
            else:
                data[a:a] = data[a:b]
    return bytes(data)


class Hang(BaseException):
    """An example ran past the deadline (BaseException: code under test must not swallow it)."""


@contextmanager
def deadline(seconds: float = DEADLINE):
    def alarm(signum, frame):
        raise Hang(f"пример выполнялся дольше {seconds} с")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
