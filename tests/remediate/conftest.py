"""Fixtures for remediation tests (the moto server comes from tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture()
def journal_dir(tmp_path: Path) -> Path:
    """A fresh directory for journals."""
    d = tmp_path / "journals"
    d.mkdir()
    return d
