"""Apply a plan: for each step read the state, journal it, make the calls, journal completion.

The first failure stops the run: nothing after it is attempted, the journal holds every change
made so far with its before-state, and the caller tells the user the undo command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from trailguard.remediate.context import RemediationContext, describe_error
from trailguard.remediate.handlers import HANDLERS
from trailguard.remediate.journal import JournalWriter
from trailguard.remediate.schema import Plan, Step, validate_plan


@dataclass
class ApplyResult:
    """What happened: steps done, the step that failed (if any) and why, the journal path."""

    journal: Path
    done: list[Step] = field(default_factory=list)
    failed: Step | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when every step completed."""
        return self.failed is None


def apply_plan(ctx: RemediationContext, plan: Plan, journal_path: Path) -> ApplyResult:
    """Run every step of ``plan`` in order, journaling each before and after it changes anything.

    Raises PlanError before any change when the plan does not validate. An AWS error (or an
    interrupt) stops the run; it is journaled and returned as ``failed``/``error``.
    """
    validate_plan(plan)
    if ctx.account_id != plan.account_id:
        raise ValueError(f"the plan is for account {plan.account_id}, "
                         f"but the credentials are for {ctx.account_id}")
    journal = JournalWriter(journal_path, "apply", plan.account_id, plan.region,
                            steps_planned=len(plan.steps))
    result = ApplyResult(journal=journal_path)
    try:
        for step in plan.steps:
            try:
                before = HANDLERS[step.handler].read(ctx, step)
                journal.before(step, before)
                responses = [ctx.call(call) for call in step.calls]
            except (ClientError, BotoCoreError, KeyboardInterrupt) as exc:
                reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else (
                    describe_error(exc))
                journal.failed(step.seq, reason)
                result.failed, result.error = step, reason
                journal.end("failed" if not isinstance(exc, KeyboardInterrupt) else "aborted")
                return result
            journal.done(step.seq, _keep(responses))
            result.done.append(step)
        journal.end("complete")
    finally:
        journal.close()
    return result


def _keep(responses: list[dict]) -> dict:
    """The identifiers worth keeping from responses (ARNs, names), never anything else."""
    kept: dict = {}
    for r in responses:
        for k in ("TopicArn", "RuleArn", "TrailARN", "Location"):
            if k in r:
                kept[k] = r[k]
        if "Policy" in r and isinstance(r["Policy"], dict) and "Arn" in r["Policy"]:
            kept["PolicyArn"] = r["Policy"]["Arn"]
    return kept
