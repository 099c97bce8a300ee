"""Synthetic FFOMS registry generator: H+L files (format 3.2), ЕРЗ CSV, defect ground truth.

Run ``python -m examples.generator --help``.
"""

from .generate import Config, Summary, generate

__all__ = ["Config", "Summary", "generate"]
