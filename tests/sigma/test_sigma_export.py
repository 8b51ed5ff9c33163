"""export_rules: our own SQL target, discovered pySigma backends, clear errors."""

from __future__ import annotations

import pytest
from sigma.backends.test import TextQueryTestBackend
from sigma.collection import SigmaCollection

from trailguard.sigma import ExportError, export_rules
from trailguard.sigma import export as export_mod

RULES = """
title: Access key deleted
id: 6e3c9a4b-1d1a-4c1e-9a3e-0000000000e1
logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    eventName: DeleteAccessKey
    requestParameters.userName|exists: true
  condition: sel
---
title: Keyword rule
id: 6e3c9a4b-1d1a-4c1e-9a3e-0000000000e2
logsource: {product: aws, service: cloudtrail}
detection:
  kw:
    - mimikatz
  condition: kw
"""


def test_duckdb_target_is_always_available_and_reports_unsupported_rules():
    skipped: list[str] = []
    out = export_rules(SigmaCollection.from_yaml(RULES), "duckdb", skipped=skipped)
    assert "-- 'Access key deleted' (6e3c9a4b-1d1a-4c1e-9a3e-0000000000e1)" in out
    assert (
        "SELECT * FROM events WHERE lower(\"eventName\") = 'deleteaccesskey' AND "
        "(requestParameters->>'$.userName') IS NOT NULL;" in out
    )
    assert len(skipped) == 1 and "Keyword rule" in skipped[0]
    with pytest.raises(ExportError, match="Keyword rule"):
        export_rules(SigmaCollection.from_yaml(RULES), "duckdb")


def test_unknown_target_lists_installed_and_package(monkeypatch):
    monkeypatch.setattr(export_mod, "installed_targets", lambda: {"test": TextQueryTestBackend})
    with pytest.raises(ExportError) as err:
        export_rules(SigmaCollection.from_yaml(RULES), "splunk")
    msg = str(err.value)
    assert "unknown export target 'splunk'" in msg
    assert "Installed targets: duckdb, test" in msg
    assert "pip install pysigma-backend-splunk" in msg


def test_discovered_backend_converts_with_original_field_names(monkeypatch):
    monkeypatch.setattr(export_mod, "installed_targets", lambda: {"test": TextQueryTestBackend})
    collection = SigmaCollection.from_yaml(RULES.split("---")[0])
    out = export_rules(collection, "test")
    # the SIEM sees Sigma field names, not our DuckDB SQL
    assert 'eventName="DeleteAccessKey"' in out
    assert "requestParameters.userName" in out and "->>" not in out
    # and the collection itself is untouched for later use
    det = collection.rules[0].detection.detections["sel"].detection_items[0]
    assert det.field == "eventName"


def test_real_plugin_discovery_returns_backend_classes():
    targets = export_mod.installed_targets()
    assert all(isinstance(name, str) for name in targets)
    assert all(hasattr(cls, "convert") for cls in targets.values())
