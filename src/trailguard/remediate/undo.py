"""Undo a journal: restore the recorded before-state of every step, newest first.

A step journaled as started but not done is restored too (the change may have happened before
a crash). Undo writes its own journal, and is idempotent: undoing twice changes nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from trailguard.remediate.context import RemediationContext, describe_error
from trailguard.remediate.handlers import HANDLERS
from trailguard.remediate.journal import Journal, JournalError, JournalWriter
from trailguard.remediate.schema import PlanError, validate_step


@dataclass
class UndoResult:
    """Per undone step what undo did, the step that failed (if any), and the undo journal."""

    journal: Path
    messages: list[str] = field(default_factory=list)
    failed: str | None = None

    @property
    def ok(self) -> bool:
        """True when every step was undone (or had nothing to undo)."""
        return self.failed is None


def check_journal(ctx: RemediationContext, journal: Journal) -> None:
    """Raise JournalError unless ``journal`` is an apply journal of this account."""
    if journal.header.get("kind") != "apply":
        raise JournalError(f"{journal.path}: is an {journal.header.get('kind')} journal; "
                           "only apply journals can be undone")
    for entry in journal.entries:
        try:
            validate_step(entry.step)
        except PlanError as exc:
            raise JournalError(f"{journal.path}: {exc}") from exc
    if journal.header.get("account_id") != ctx.account_id:
        raise JournalError(f"{journal.path}: records account {journal.header.get('account_id')}"
                           f", but the credentials are for account {ctx.account_id}")


def undo_journal(ctx: RemediationContext, journal: Journal, undo_path: Path) -> UndoResult:
    """Restore the before-state of each journaled step in reverse order; journal it all.

    Stops at the first AWS error (later steps stay as they are; running undo again retries).
    """
    check_journal(ctx, journal)
    home = journal.header.get("region")
    if home and home != ctx.region:  # undo in the region the changes were made from
        ctx = RemediationContext(ctx.session, region=home)
    writer = JournalWriter(undo_path, "undo", ctx.account_id, ctx.region,
                           undoes=str(journal.path))
    result = UndoResult(journal=undo_path)
    try:
        for entry in reversed(journal.entries):
            step, fn = entry.step, HANDLERS[entry.step.handler]
            try:
                now = fn.read(ctx, step)
                writer.before(step, now)
                msgs = fn.undo(ctx, step, entry.before)
            except (ClientError, BotoCoreError) as exc:
                reason = describe_error(exc)
                writer.failed(step.seq, reason)
                result.failed = f"step {step.seq} ({step.target}): {reason}"
                writer.end("failed")
                return result
            writer.done(step.seq, {"messages": msgs})
            result.messages.extend(f"step {step.seq} {step.action}: {m}" for m in msgs)
        writer.end("complete")
    finally:
        writer.close()
    return result
