"""Fixtures for the findings tests (builders live in findings_builders.py)."""

from __future__ import annotations

import pytest
from findings_builders import audit_report, detection_set, posture_set, scan_report

from trailguard.findings.model import Report


@pytest.fixture()
def scan_full() -> Report:
    """A scan report with three detections."""
    return scan_report(detection_set())


@pytest.fixture()
def audit_full() -> Report:
    """An audit report with PASS, FAIL and ERROR results."""
    return audit_report(posture_set())
