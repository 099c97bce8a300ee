"""A scratch package extending a copy of the dsl fixture, for compiling mutated inputs."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.dsl.harness import FIXTURE

ROOT = Path(__file__).resolve().parents[2]


class Scratch:
    """`base/` is a copy of the fixture; `pkg/` extends it with one rule module `m.rules`."""

    def __init__(self, where: Path) -> None:
        self.base = where / "base"
        shutil.copytree(FIXTURE, self.base)
        self.pkg = where / "pkg"
        self.pkg.mkdir()
        (self.pkg / "methodology.yaml").write_text(
            "id: fuzz\nversion: 0.0.1\ntitle: fuzz\nextends: ../base\nmodules: [m.rules]\ntests: [t.yaml]\n",
            encoding="utf-8")
        (self.pkg / "m.rules").write_text("for case:\n    x: int = kd\n", encoding="utf-8")
        (self.pkg / "t.yaml").write_text("cases: []\n", encoding="utf-8")
        self.originals = {p.relative_to(where): p.read_bytes() for p in where.rglob("*") if p.is_file()}
        self.where = where

    def put(self, rel: str, data: bytes) -> Path:
        """Write one file (relative to the scratch root), the others restored to their originals."""
        for r, content in self.originals.items():
            (self.where / r).write_bytes(content)
        target = self.where / rel
        target.write_bytes(data)
        return target
