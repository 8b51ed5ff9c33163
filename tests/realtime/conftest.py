"""Real-time tests keep the compiled-rule cache in a temporary folder, never in the home."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _rule_cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TRAILGUARD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "tg-cache"))
