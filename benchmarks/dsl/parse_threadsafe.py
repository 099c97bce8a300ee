"""Parse time of every shipped rule file: the thread-safe parser (a fresh indenter state per parse,
the depth check of dsl/parser.py) against the previous shared-indenter parser, in one run.

    python3 -m benchmarks.dsl.parse_threadsafe
"""

from __future__ import annotations

import time
from pathlib import Path

from lark.indenter import Indenter

import dsl.parser as parser

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    files = [(str(p), p.read_text(encoding="utf-8")) for p in sorted((ROOT / "methodologies").rglob("*.rules"))]
    current = (parser.RuleIndenter.process, parser._check_depth)

    def run() -> float:
        t = time.perf_counter()
        for name, text in files:
            parser.parse_module(text, name)
        return time.perf_counter() - t

    run()                                             # builds the parser
    times: dict[str, list[float]] = {"previous": [], "thread-safe": []}
    for _ in range(5):
        parser.RuleIndenter.process, parser._check_depth = Indenter.process, lambda *a: None
        times["previous"].append(run())
        parser.RuleIndenter.process, parser._check_depth = current
        times["thread-safe"].append(run())
    best = {k: min(v) for k, v in times.items()}
    print(f"{len(files)} files; best of 5: previous {best['previous']:.3f} s, thread-safe "
          f"{best['thread-safe']:.3f} s, ratio {best['thread-safe'] / best['previous']:.2f}")


if __name__ == "__main__":
    main()
