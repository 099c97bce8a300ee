"""Content hash of a methodology: sha256 over the normalized files of the whole chain."""

from __future__ import annotations

import hashlib
from pathlib import Path


def normalized_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix in (".yaml", ".yml", ".rules", ".csv", ".md", ".txt"):
        data = data.replace(b"\r\n", b"\n")
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
    return data


def content_hash(packages: list[tuple[str, Path, list[Path]]]) -> str:
    """packages: (id@version, root, files) base first."""
    h = hashlib.sha256()
    for ref, root, files in packages:
        h.update(f"package {ref}\n".encode())
        for f in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
            rel = f.relative_to(root).as_posix()
            data = normalized_bytes(f)
            h.update(f"file {rel} {len(data)}\n".encode())
            h.update(data)
    return h.hexdigest()
