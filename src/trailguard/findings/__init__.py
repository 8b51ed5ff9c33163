"""The one findings model shared by `scan` (detections) and `audit` (posture checks)."""

from trailguard.findings.model import Actor, Finding, Resource, Severity, Status

__all__ = ["Actor", "Finding", "Resource", "Severity", "Status"]
