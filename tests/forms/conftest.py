"""Shared fixtures of the form-renderer tests."""

from __future__ import annotations

import pytest
from form_samples import SAMPLES

from forms.model import RenderedForm


@pytest.fixture(params=sorted(SAMPLES))
def sample(request: pytest.FixtureRequest) -> tuple[str, RenderedForm]:
    return request.param, SAMPLES[request.param]()
