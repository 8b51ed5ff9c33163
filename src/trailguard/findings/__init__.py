"""The one findings model shared by `scan` (detections) and `audit` (posture checks).

The names load on first use (PEP 562): ``trailguard.findings.choices`` and the other light
modules of the package import without pydantic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    if name in __all__:
        from trailguard.findings import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
