"""Check metadata (title, severity, CIS ids, explain event, remediation id) from YAML."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

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


Delivery = Literal["us-east-1", "trail-home", "each-region", "any-region"]


class Probe(BaseModel):
    """A CloudTrail record an alerting check requires some alert to match.

    ``delivered`` says where EventBridge receives the event, hence which regions need a rule:
    ``us-east-1`` (global services, root sign-in), ``trail-home`` (calls on a trail: the home
    region of every trail), ``each-region`` (calls to regional services, which can be made in
    any region: every audited region) or ``any-region`` (a rule in one audited region is
    enough). None: from the event source (IAM, STS, sign-in: us-east-1; CloudTrail:
    trail-home; others: any-region).
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    delivered: Delivery | None = None
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
