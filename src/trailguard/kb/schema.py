"""The schema of a curated knowledge-base entry (one YAML file per event).

Entries are pure data: ``src/trailguard/knowledge/<service>/<EventName>.yaml``. This module is
the single definition of their shape; it is enforced at load time and in the tests.

Guidance (response and hardening) is a list of *actions*. Each action carries console steps,
AWS CLI commands and a boto3 snippet. The snippet is real, copy-pasteable Python whose inputs
are UPPER_CASE constants assigned at its top (``USER_NAME = "alice"``). The ``moto`` block
says how the tests run it against a moto server:

* ``setup``: boto3 calls, as data, that build the state the snippet needs. String arguments
  may use ``{placeholders}``: fixtures the test harness provides (``{ssh_public_key}``,
  ``{x509_certificate}``, ``{account_id}``, ``{region}``) and values saved by earlier steps.
* ``save`` on a setup step: name -> JMESPath into that call's response, e.g.
  ``{key_id: "SSHPublicKey.SSHPublicKeyId"}``.
* ``bind``: snippet constant -> placeholder string; the harness rewrites that constant's
  assignment before running, e.g. ``{SSH_PUBLIC_KEY_ID: "{key_id}"}``.
* ``expect``: boto3 calls made after the snippet, each with a JMESPath and the value it must
  have, so a snippet that silently does nothing fails the test.
* ``skip_reason``: set instead of running when moto cannot run it (e.g. it needs codes from
  an MFA device); the snippet is still parsed and its client methods and parameter names
  checked against botocore's model.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EVENT_NAME_RE = re.compile(r"^[A-Z][A-Za-z0-9]+$")
MITRE_ID_RE = re.compile(r"^T\d{4}(\.\d{3})?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Severity(StrEnum):
    """Default severity of the event when it is seen, before context raises or lowers it."""

    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class Category(StrEnum):
    """What kind of security-relevant change the event is."""

    credential_creation = "credential-creation"
    credential_change = "credential-change"
    credential_removal = "credential-removal"
    mfa_change = "mfa-change"
    account_policy_change = "account-policy-change"  # account-wide settings (password policy)
    access_policy_change = "access-policy-change"  # who may use a resource (bucket, trust policy)
    privilege_change = "privilege-change"  # what an identity may do (policies on users)
    resource_sharing = "resource-sharing"  # data made readable by other accounts or everyone
    network_exposure = "network-exposure"  # network paths opened to the internet
    data_destruction = "data-destruction"  # data or keys made unrecoverable
    secret_access = "secret-access"  # stored secrets read (Secrets Manager values)
    logging_change = "logging-change"
    security_tooling_change = "security-tooling-change"  # detection services (GuardDuty)
    code_change = "code-change"  # code that runs with a role: Lambda code, instance user data
    authentication = "authentication"


class Scenario(StrEnum):
    """The three ways an event hurts, which every entry must cover."""

    unauthorized_use = "unauthorized_use"
    malicious_insider = "malicious_insider"
    accident = "accident"


class MitreTechnique(_Strict):
    """A MITRE ATT&CK (Enterprise, cloud) technique the event can be part of."""

    id: str
    name: str
    tactic: str  # e.g. "persistence", "defense-evasion", "impact", "credential-access"

    @field_validator("id")
    @classmethod
    def _valid_id(cls, v: str) -> str:
        if not MITRE_ID_RE.match(v):
            raise ValueError(f"not an ATT&CK technique id: {v!r}")
        return v


class FieldNote(_Strict):
    """A record field and why it matters, e.g. ``requestParameters.userName``: the target."""

    field: str
    meaning: str


class Summary(_Strict):
    """What happened, who can cause it, and which fields name actor and target."""

    what: str
    who_can: str
    actor_fields: list[FieldNote] = Field(min_length=1)
    target_fields: list[FieldNote] = Field(min_length=1)


class Impact(_Strict):
    """One way the event hurts, specific to what this event breaks."""

    scenario: Scenario
    title: str
    description: str


class RelatedEvent(_Strict):
    """An event to pull alongside this one during an investigation."""

    event: str
    window: str  # e.g. "same actor, 1 hour after", "same target user, 24 hours before"
    why: str


class Investigation(_Strict):
    """How to investigate: fields to read, related events to pull, what is benign."""

    fields: list[FieldNote] = Field(min_length=1)
    related_events: list[RelatedEvent] = Field(min_length=1)
    benign: list[str] = Field(min_length=1)


class CliCommand(_Strict):
    """One AWS CLI command, checked in the tests against botocore's model."""

    command: str  # a single `aws SERVICE OPERATION --opt value ...` line; no secrets
    explain: str


class SetupStep(_Strict):
    """A boto3 call, as data, that builds state for a snippet test."""

    call: str  # "iam.create_user"
    args: dict[str, Any] = Field(default_factory=dict)
    save: dict[str, str] = Field(default_factory=dict)  # name -> JMESPath into the response


class Expectation(_Strict):
    """After the snippet ran: ``call(args)``'s response at ``path`` must equal ``equals``."""

    call: str
    args: dict[str, Any] = Field(default_factory=dict)
    path: str  # JMESPath
    equals: Any


class MotoRun(_Strict):
    """How the tests run a snippet against a moto server (see the module docstring)."""

    setup: list[SetupStep] = Field(default_factory=list)
    bind: dict[str, str] = Field(default_factory=dict)
    expect: list[Expectation] = Field(default_factory=list)
    skip_reason: str | None = None

    @model_validator(mode="after")
    def _runs_or_says_why(self) -> MotoRun:
        if self.skip_reason is None and not self.expect:
            raise ValueError("a runnable snippet needs at least one `expect` (or a skip_reason)")
        return self


class Boto3Snippet(_Strict):
    """A boto3 snippet: runnable Python, inputs as UPPER_CASE constants at the top."""

    code: str
    moto: MotoRun


class Action(_Strict):
    """A response or hardening step, with console, CLI and boto3 forms."""

    id: str  # kebab-case, unique within the entry
    title: str
    why: str
    console: list[str] = Field(min_length=1)
    cli: list[CliCommand] = Field(min_length=1)
    boto3: Boto3Snippet

    @field_validator("id")
    @classmethod
    def _kebab(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", v):
            raise ValueError(f"action id must be kebab-case: {v!r}")
        return v


class Reference(_Strict):
    """A documentation link."""

    title: str
    url: str

    @field_validator("url")
    @classmethod
    def _https(cls, v: str) -> str:
        if not v.startswith("https://"):
            raise ValueError("references must be https URLs")
        return v


class Entry(_Strict):
    """A curated knowledge-base entry for one CloudTrail event."""

    schema_version: Literal[1] = 1
    event_name: str
    event_source: str  # e.g. "iam.amazonaws.com", "signin.amazonaws.com"
    service: str  # botocore service name, e.g. "iam", "cloudtrail"; "signin" has no API model
    api_operation: str | None  # botocore operation name; None when the event is not an API
    changes_state: bool
    category: Category
    severity: Severity
    mitre_attack: list[MitreTechnique] = Field(min_length=1)
    summary: Summary
    impact: list[Impact] = Field(min_length=3)
    investigation: Investigation
    response: list[Action] = Field(min_length=1)
    hardening: list[Action] = Field(min_length=1)
    references: list[Reference] = Field(min_length=1)

    @field_validator("event_name")
    @classmethod
    def _event_name(cls, v: str) -> str:
        if not EVENT_NAME_RE.match(v):
            raise ValueError(f"not an event name: {v!r}")
        return v

    @model_validator(mode="after")
    def _covers_every_scenario(self) -> Entry:
        missing = set(Scenario) - {i.scenario for i in self.impact}
        if missing:
            raise ValueError(f"impact lacks scenarios: {sorted(missing)}")
        ids = [a.id for a in [*self.response, *self.hardening]]
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise ValueError(f"duplicate action ids: {sorted(dupes)}")
        return self

    @property
    def actions(self) -> list[Action]:
        """All response and hardening actions, in page order."""
        return [*self.response, *self.hardening]
