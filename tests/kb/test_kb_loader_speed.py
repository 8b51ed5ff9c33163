"""The knowledge base is parsed with libyaml when PyYAML has it, with the same result."""

from __future__ import annotations

from pathlib import Path

import yaml

from trailguard.kb import loader

KNOWLEDGE = Path(loader.__file__).resolve().parent.parent / "knowledge"


def test_libyaml_and_pure_python_loaders_read_every_entry_alike() -> None:
    files = sorted(KNOWLEDGE.rglob("*.yaml"))
    assert len(files) >= 59
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert yaml.load(text, Loader=loader._SafeLoader) == yaml.safe_load(text), path
    assert loader._SafeLoader is getattr(yaml, "CSafeLoader", yaml.SafeLoader)
