"""The engine version reported in ``X-Metodika-Version`` and stored with every run."""

from __future__ import annotations

import importlib
import tomllib
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

VERSION_HEADER = "X-Metodika-Version"


@cache
def engine_version() -> str:
    """``engine.ENGINE_VERSION``/``engine.__version__`` if defined, else the distribution version."""
    try:
        engine = importlib.import_module("engine")
        declared = getattr(engine, "ENGINE_VERSION", None) or getattr(engine, "__version__", None)
        if declared:
            return str(declared)
    except ImportError:
        pass
    try:
        return version("metodika")
    except PackageNotFoundError:
        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        if pyproject.exists():
            return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
        return "0+unknown"
