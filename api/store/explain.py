"""Explain a value of a stored run: rebuild the run's dataset once, keep it for further requests.

The engine's explainer needs an evaluator over the bound data; building it costs a bind of
the whole registry, so the last few runs asked about are cached per process (LRU), each with
its own freshly compiled methodology and a lock (evaluators are not shared between threads).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.db.models import MethodologyVersion, Run
from api.store.columnar import load_tables
from api.store.methodologies import compile_version, display_root, strip_paths
from api.store.paths import run_inputs_dir
from engine.backends.numpy.evaluator import Evaluator
from engine.backends.numpy.explain import Explainer, render_text
from engine.oms.pipeline import read_extra
from engine.runtime.dataset import bind
from engine.runtime.model import Methodology

CACHE_SIZE = 4


@dataclass
class _Entry:
    m: Methodology
    ev: Evaluator
    prefixes: list[str]
    lock: threading.Lock = field(default_factory=threading.Lock)


_cache: OrderedDict[tuple[str, int, str], _Entry] = OrderedDict()
_cache_lock = threading.Lock()
_build_locks: dict[tuple[str, int, str], threading.Lock] = {}


def _entry(home: Path, run: Run, mv: MethodologyVersion, storage_path: str) -> _Entry:
    key = (str(home), run.id, mv.content_sha256)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
        build = _build_locks.setdefault(key, threading.Lock())
    with build:
        with _cache_lock:
            hit = _cache.get(key)
        if hit is not None:
            return hit
        m = compile_version(home, mv, fresh=True)
        raw = load_tables(home / storage_path)
        folder = run_inputs_dir(home, run.id)
        if folder.is_dir():
            raw.update(read_extra({p.stem: p for p in sorted(folder.glob("*.csv"))}))
        entry = _Entry(m, Evaluator(m, bind(m.entities, raw)), display_root(m))
        with _cache_lock:
            _cache[key] = entry
            _build_locks.pop(key, None)
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
        return entry


def explain(home: Path, run: Run, mv: MethodologyVersion, storage_path: str, entity: str, row_key: str,
            name: str, *, personal_data: bool, check: str | None = None) -> tuple[dict[str, Any], str]:
    """(TraceNode JSON, text) of ``entity[row_key].name`` — or, with ``check``, why that check fires
    on the row; KeyError with a Russian message if absent."""
    entry = _entry(home, run, mv, storage_path)
    with entry.lock:
        explainer = Explainer(entry.ev, personal_data=personal_data)
        node = explainer.explain_check(entity, row_key, check) if check else explainer.explain(entity, row_key, name)
    return strip_paths(node.to_json(), entry.prefixes), strip_paths(render_text(node), entry.prefixes)
