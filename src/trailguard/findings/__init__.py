"""The one findings model shared by `scan` (detections) and `audit` (posture checks)."""

from trailguard.findings.model import (
    Actor,
    Finding,
    Report,
    Resource,
    Severity,
    SkippedInput,
    Status,
)

__all__ = ["Actor", "Finding", "Report", "Resource", "Severity", "SkippedInput", "Status"]
