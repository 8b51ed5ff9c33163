"""The function's configuration from its environment, checked on every invocation.

A misconfigured function must fail loudly on its first invocation (Lambda reports the error,
the alarm on the function's errors fires), not drop alerts until the first finding comes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from trailguard.findings.model import Severity

# arn:<partition>:sns:<region>:<account>:<topic name, 1-256 of A-Za-z0-9_- , .fifo allowed>
TOPIC_ARN_RE = re.compile(
    r"arn:aws[a-z-]*:sns:[a-z]{2,4}(?:-[a-z]+)+-\d+:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?"
)
SEVERITY_NAMES = ", ".join(s.value for s in Severity)


@dataclass(frozen=True)
class Config:
    """What the handler needs from ``TRAILGUARD_*`` environment variables."""

    topic_arn: str | None = None
    min_severity: Severity = Severity.medium
    rules: tuple[Path, ...] = field(default_factory=tuple)
    filters: tuple[Path, ...] = field(default_factory=tuple)

    @property
    def region(self) -> str | None:
        """The topic's region (SNS publishes go there, whatever the function's region)."""
        return self.topic_arn.split(":")[3] if self.topic_arn else None


def _shown(value: str) -> str:
    return repr(value if len(value) <= 120 else value[:120] + "...")


def _paths(env: Mapping[str, str], variable: str, what: str) -> tuple[Path, ...]:
    paths = tuple(Path(p.strip()) for p in env.get(variable, "").split(":") if p.strip())
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise ValueError(
            f"{variable}: no such file or folder: {', '.join(map(_shown, missing))} "
            f"(allowed: {what} inside the deployment package, separated by ':')"
        )
    return paths


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """The configuration in ``env`` (default: the process environment).

    Raises ValueError naming the variable and what it allows when a value is wrong. An unset
    or empty ``TRAILGUARD_TOPIC_ARN`` means: return and log findings, publish nothing.
    """
    env = os.environ if env is None else env
    topic = env.get("TRAILGUARD_TOPIC_ARN", "").strip() or None
    if topic is not None and not TOPIC_ARN_RE.fullmatch(topic):
        raise ValueError(
            f"TRAILGUARD_TOPIC_ARN is not an SNS topic ARN: {_shown(topic)} (allowed: "
            "arn:aws:sns:<region>:<12-digit account>:<topic name>, or unset to publish nothing)"
        )
    raw = env.get("TRAILGUARD_MIN_SEVERITY", "").strip() or Severity.medium.value
    try:
        minimum = Severity.parse(raw)
    except ValueError:
        raise ValueError(
            f"TRAILGUARD_MIN_SEVERITY is not a severity: {_shown(raw)} "
            f"(allowed: {SEVERITY_NAMES}; default medium)"
        ) from None
    return Config(
        topic_arn=topic,
        min_severity=minimum,
        rules=_paths(env, "TRAILGUARD_RULES", "folders of Sigma rules"),
        filters=_paths(env, "TRAILGUARD_FILTERS", "Sigma filter files or folders"),
    )
