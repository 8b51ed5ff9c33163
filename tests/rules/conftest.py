"""Fixtures for the rule catalog tests: the shipped catalog and a writer for ad-hoc rule files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from trailguard.detection.catalog import Catalog, load_rules


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The shipped rules, loaded and validated once per test session."""
    return load_rules()


@pytest.fixture
def rules_dir(tmp_path: Path) -> Callable[..., Path]:
    """Write rule dicts (one file each, or a list of documents per file) to a fresh directory."""

    def write(*files: dict | list[dict]) -> Path:
        d = tmp_path / "extra-rules"
        d.mkdir(exist_ok=True)
        for n, content in enumerate(files):
            docs = content if isinstance(content, list) else [content]
            (d / f"rule_{n}.yml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
        return d

    return write
