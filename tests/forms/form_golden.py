"""Golden files of the form-renderer tests and the image comparison used for PDF pages."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("METODIKA_UPDATE_GOLDEN") == "1"
PNG_DPI = 50
MEAN_TOLERANCE = 1.0  # mean absolute grey-level difference, 0..255
STRONG_DIFF = 96  # a pixel this much darker or lighter counts as "changed"
STRONG_TOLERANCE = 0.002  # share of changed pixels allowed (anti-aliasing across poppler versions)


def require_pdftoppm() -> str:
    """pdftoppm (poppler-utils) or skip; on CI (``CI`` set) a missing tool is a failure."""
    tool = shutil.which("pdftoppm")
    if tool:
        return tool
    message = "pdftoppm not found: install poppler-utils (apt-get install -y poppler-utils)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def pdf_page_png(pdf: Path, page: int, out_prefix: Path) -> Path:
    tool = require_pdftoppm()
    subprocess.run([tool, "-r", str(PNG_DPI), "-png", "-f", str(page), "-l", str(page), "-singlefile",
                    str(pdf), str(out_prefix)], check=True)
    return out_prefix.with_suffix(".png")


def image_difference(a: Path, b: Path) -> tuple[float, float]:
    """(mean absolute difference, share of strongly changed pixels) of two greyscale images."""
    first, second = Image.open(a).convert("L"), Image.open(b).convert("L")
    if first.size != second.size:
        return 255.0, 1.0
    diff = ImageChops.difference(first, second)
    mean = ImageStat.Stat(diff).mean[0]
    histogram = diff.histogram()
    strong = sum(histogram[STRONG_DIFF:]) / (first.size[0] * first.size[1])
    return mean, strong


def images_match(a: Path, b: Path) -> bool:
    mean, strong = image_difference(a, b)
    return mean <= MEAN_TOLERANCE and strong <= STRONG_TOLERANCE
