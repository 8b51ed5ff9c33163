"""Check metadata (title, severity, CIS ids, explain event, remediation id) from YAML."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from trailguard.findings.model import Severity

CATALOG_PATH = Path(__file__).with_name("catalog.yaml")
ALERTING_PATH = Path(__file__).with_name("alerting.yaml")


class CheckMeta(BaseModel):
    """What a posture check is about; the code that decides PASS/FAIL lives in checks/."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    severity: Severity
    cis: list[str]
    service: str
    explain: str | None = None
    remediation: str | None = None
    description: str
    recommendation: str


class Probe(BaseModel):
    """A CloudTrail record an alerting check requires some alert to match."""

    model_config = ConfigDict(extra="forbid")

    name: str
    record: dict


@cache
def load_catalog() -> dict[str, CheckMeta]:
    """Return every check's metadata by check id, in catalog order."""
    raw = yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8"))
    return {cid: CheckMeta(id=cid, **body) for cid, body in raw.items()}


@cache
def load_alerting_probes() -> dict[str, list[Probe]]:
    """Return the probe records of each alerting check, by check id."""
    raw = yaml.safe_load(ALERTING_PATH.read_text(encoding="utf-8"))
    return {cid: [Probe(**p) for p in probes] for cid, probes in raw.items()}
