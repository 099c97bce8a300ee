"""Where stored data lives under ``METODIKA_HOME``."""

from __future__ import annotations

from pathlib import Path

REGISTRIES_DIR = "registries"
UPLOADS_DIR = "uploads"
RUN_INPUTS_DIR = "run_inputs"


def registry_npz(home: Path, registry_id: int) -> Path:
    """The columnar data of an imported registry: ``registries/<id>.npz``."""
    return home / REGISTRIES_DIR / f"{registry_id}.npz"


def upload_dir(home: Path, registry_id: int) -> Path:
    """Files of a registry waiting for import (removed once imported or rejected)."""
    return home / UPLOADS_DIR / str(registry_id)


def run_inputs_dir(home: Path, run_id: int) -> Path:
    """Reference tables (CSV) uploaded for one run; kept, their hashes are inputs of the run."""
    return home / RUN_INPUTS_DIR / str(run_id)
