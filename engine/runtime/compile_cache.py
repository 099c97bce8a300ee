"""A cache of compiled methodologies, keyed by the content of everything that shapes the result.

The key is a sha256 over: the bytes of every file of the package and of every package it extends
(the same files as the methodology's content hash), where those packages lie, the working
directory (diagnostics and explain show paths relative to it), the Python version and the
engine's own code (size and modification time of every module of dsl/ and engine/). A changed
file therefore means a new key; nothing is ever validated by time alone.

Entries are pickles written atomically (a temporary file in the same directory, then rename), so
concurrent processes never see half an entry; the last writer wins with an identical value. An
entry that cannot be read (truncated, corrupt, from another engine) is ignored and rebuilt. The
directory is METODIKA_CACHE_DIR, else METODIKA_HOME/cache/compiled, else
$XDG_CACHE_HOME/metodika/compiled (~/.cache/…); METODIKA_CACHE=off disables the cache. The
directory is created private (0700): a pickle is code, so only its owner may write there.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
import tempfile
from pathlib import Path

FORMAT = "metodika-compiled-1"
KEEP_ENTRIES = 64
_CODE_DIRS = ("dsl", "engine")


def cache_dir() -> Path | None:
    if os.environ.get("METODIKA_CACHE", "").lower() in ("off", "0", "no", "false"):
        return None
    explicit = os.environ.get("METODIKA_CACHE_DIR")
    if explicit:
        return Path(explicit)
    home = os.environ.get("METODIKA_HOME")
    if home:
        return Path(home) / "cache" / "compiled"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "metodika" / "compiled"


def compile_cached(pkg_dir: Path | str):
    """compile_package with the cache; the result is the same Methodology either way."""
    directory = cache_dir()
    key = cache_key(Path(pkg_dir)) if directory is not None else None
    if key is not None:
        m = _read(directory / f"{key}.pickle")
        if m is not None:
            return m
    from engine.runtime.compiler import compile_package  # only on a miss: the parser is not needed

    m = compile_package(pkg_dir)
    if key is None:
        return m
    path = directory / f"{key}.pickle"
    _write(directory, path, m)
    return m


def cache_key(pkg_dir: Path) -> str | None:
    """The key of a package, or None when its chain cannot be read cheaply (then compile
    reports whatever is wrong)."""
    chain = _chain(pkg_dir.resolve())
    if chain is None:
        return None
    h = hashlib.sha256()
    h.update(f"{FORMAT}\n{sys.version}\n{os.getcwd()}\n".encode())
    h.update(_code_fingerprint().encode())
    for root in chain:
        h.update(f"package {root}\n".encode())
        for f in sorted(_package_files(root)):
            data = f.read_bytes()
            h.update(f"file {f.relative_to(root).as_posix()} {len(data)}\n".encode())
            h.update(data)
    return h.hexdigest()


def _chain(root: Path) -> list[Path] | None:
    import yaml

    seen: list[Path] = []
    while True:
        if root in seen:
            return None
        seen.append(root)
        try:
            text = (root / "methodology.yaml").read_text(encoding="utf-8-sig")
            manifest = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return None
        if not isinstance(manifest, dict):
            return None
        ext = manifest.get("extends")
        if not ext:
            return seen
        root = (root / str(ext)).resolve()


def _package_files(root: Path) -> list[Path]:
    # the same selection as engine.runtime.package.package_files (the methodology's content hash)
    return [p for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")]


_fingerprint: str | None = None


def _code_fingerprint() -> str:
    global _fingerprint
    if _fingerprint is None:
        base = Path(__file__).resolve().parents[2]
        parts = []
        for d in _CODE_DIRS:
            for f in sorted((base / d).rglob("*")):
                if f.suffix in (".py", ".lark") and "__pycache__" not in f.parts:
                    st = f.stat()
                    parts.append(f"{f.relative_to(base).as_posix()} {st.st_size} {st.st_mtime_ns}")
        _fingerprint = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return _fingerprint


class _Pickler(pickle.Pickler):
    """Primitives carry their typing functions (closures, lambdas): stored by name, looked up
    in the registry on load."""

    def persistent_id(self, obj):
        from dsl.primitives.registry import Primitive

        if isinstance(obj, Primitive):
            return ("primitive", obj.name, obj.kind)
        return None


class _Unpickler(pickle.Unpickler):
    def persistent_load(self, pid):
        from dsl.primitives.registry import lookup

        prim = lookup(pid[1], pid[2]) if isinstance(pid, tuple) and len(pid) == 3 else None
        if prim is None:
            raise pickle.UnpicklingError(f"unknown primitive {pid!r}")
        return prim


def _read(path: Path):
    from engine.runtime.model import Methodology

    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        import dsl.primitives  # noqa: F401  (fills the registry the entry refers to)

        m = _Unpickler(io.BytesIO(data)).load()
    except Exception:            # a corrupt or foreign entry: ignore it, it is rebuilt
        return None
    return m if isinstance(m, Methodology) else None


def _write(directory: Path, path: Path, m) -> None:
    buf = io.BytesIO()
    try:
        _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(m)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
        return                   # something in this methodology does not pickle: no cache entry
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".pickle")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(buf.getvalue())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _prune(directory)
    except OSError:
        return                   # a read-only or full disk: work without the cache


def _prune(directory: Path) -> None:
    entries = sorted(directory.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP_ENTRIES:]:
        old.unlink(missing_ok=True)
