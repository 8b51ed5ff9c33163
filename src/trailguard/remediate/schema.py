"""Remediation data: action metadata (actions.yaml) and the plan, both validated with pydantic."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HandlerSpec(_Strict):
    """One kind of step: the API calls it may make, read for the before-state, and undo with."""

    calls: list[str]
    reads: list[str] = Field(default_factory=list)
    undo: list[str] = Field(default_factory=list)
    # IAM actions a call needs beyond its own (PutTargets with a RoleArn needs iam:PassRole)
    permissions: list[str] = Field(default_factory=list)
    reversible: bool = True


class ActionSpec(_Strict):
    """A remediation action (id = the audit catalog's ``remediation`` value)."""

    title: str
    handlers: dict[str, HandlerSpec]


class ApiCall(_Strict):
    """One API call a step makes: service, operation (botocore name), region and parameters.

    Parameters never hold secrets: remediation never sets passwords or creates keys.
    """

    service: str
    operation: str
    region: str
    params: dict[str, Any] = Field(default_factory=dict)

    @property
    def name(self) -> str:
        """``service.Operation``, as actions.yaml spells it."""
        return f"{self.service}.{self.operation}"


class Step(_Strict):
    """One journaled unit of change: a handler, its target, and the exact calls it makes."""

    seq: int = 0
    action: str
    handler: str
    target: str
    checks: list[str] = Field(default_factory=list)
    calls: list[ApiCall]
    args: dict[str, Any] = Field(default_factory=dict)
    reversible: bool = True
    why: str = ""


class Note(_Strict):
    """Something the plan does not change, and why (manual fixes, refusals, skips)."""

    check: str | None = None
    action: str | None = None
    target: str | None = None
    message: str


class Plan(_Strict):
    """What ``trailguard remediate`` would do to one account."""

    account_id: str
    region: str
    created: datetime
    failed_checks: list[str] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)


class PlanError(ValueError):
    """A plan uses a handler or API call that its action does not declare."""


@cache
def _actions_doc() -> dict[str, Any]:
    text = resources.files("trailguard.remediate").joinpath("actions.yaml").read_text("utf-8")
    return yaml.safe_load(text)


@cache
def load_actions() -> dict[str, ActionSpec]:
    """All remediation actions by id, validated."""
    doc = _actions_doc()
    return {k: ActionSpec.model_validate(v) for k, v in doc.items()
            if not k.startswith("alerting_")}


def alerting_pattern() -> dict[str, Any]:
    """The EventBridge pattern of the alerting rule (a fresh copy)."""
    return json.loads(json.dumps(_actions_doc()["alerting_pattern"]))


def regional_alerting_pattern() -> dict[str, Any]:
    """The branches of the alerting pattern that can match outside us-east-1.

    A branch is dropped when its ``source`` or ``detail-type`` lists only values of
    ``alerting_global_only`` (events AWS delivers to EventBridge in us-east-1 only).
    """
    glob = _actions_doc()["alerting_global_only"]

    def global_only(branch: dict[str, Any]) -> bool:
        return any(branch.get(k) and set(branch[k]) <= set(v) for k, v in glob.items())

    pattern = alerting_pattern()
    return {"$or": [b for b in pattern["$or"] if not global_only(b)]}


def policy_document(name: str) -> dict[str, Any]:
    """A JSON policy document shipped in ``remediate/policies`` (e.g. ``require-mfa``)."""
    path = resources.files("trailguard.remediate").joinpath("policies", f"{name}.json")
    return json.loads(path.read_text("utf-8"))


def handler_spec(action: str, handler: str) -> HandlerSpec:
    """The declaration of ``handler`` within ``action``; PlanError when either is unknown."""
    actions = load_actions()
    if action not in actions:
        raise PlanError(f"unknown action {action!r}")
    spec = actions[action].handlers.get(handler)
    if spec is None:
        raise PlanError(f"action {action!r} declares no handler {handler!r}")
    return spec


def validate_step(step: Step) -> None:
    """Raise PlanError unless every call of ``step`` is declared by its action and handler."""
    spec = handler_spec(step.action, step.handler)
    for call in step.calls:
        if call.name not in spec.calls:
            raise PlanError(
                f"step {step.seq} ({step.action}/{step.handler}) calls {call.name}, "
                f"which the action does not declare"
            )
    if step.reversible != spec.reversible:
        raise PlanError(f"step {step.seq}: reversible flag differs from actions.yaml")


def validate_plan(plan: Plan) -> Plan:
    """Check every step of ``plan`` against actions.yaml and number the steps 1..n."""
    for i, step in enumerate(plan.steps, start=1):
        step.seq = i
        validate_step(step)
    return plan
