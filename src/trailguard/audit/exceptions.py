"""Accepted risks (the ``exceptions:`` of the audit config): covered FAIL resources become MUTED.

A check reports one finding listing every failing resource, so an exception works per
resource: a FAIL whose resources are all covered becomes MUTED; one only partly covered is
split, the uncovered resources staying FAIL (an uncovered resource is never hidden) and the
covered ones going to one MUTED finding per exception, whose ``reason`` says who accepted the
risk and until when. PASS and ERROR are never muted. Like ``scan --filters``, nothing is
silent: every muted resource is counted, an expired exception is not applied and is reported,
and an exception that matched nothing is reported (stale, or mistyped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from fnmatch import fnmatchcase

from trailguard.audit.config import AuditException
from trailguard.findings.model import Finding, Resource, Status

PARTIAL = "partial: "  # engine.run_audit's marker of a FAIL that could not read everything
SOON_DAYS = 14  # an exception expiring within this many days is pointed out


@dataclass
class ExceptionUse:
    """What one exception did in a run."""

    exception: AuditException
    index: int  # position in the config's list (0-based)
    expired: bool
    matched: int = 0  # failing resources it covers (also those an earlier exception took)
    muted: int = 0  # failing resources it muted
    still_failing: int = 0  # expired: failing resources it would have covered

    @property
    def label(self) -> str:
        """How summaries name the exception."""
        return self.exception.label(self.index)


@dataclass
class ExceptionsOutcome:
    """The findings with exceptions applied, and what each exception did."""

    findings: list[Finding]
    uses: list[ExceptionUse] = field(default_factory=list)
    today: date | None = None  # the day expiry was judged on
    checks_seen: dict[tuple[str, str | None], set[Status]] = field(default_factory=dict)

    @property
    def muted_resources(self) -> int:
        """Failing resources reported MUTED instead of FAIL."""
        return sum(u.muted for u in self.uses)

    @property
    def applied(self) -> list[ExceptionUse]:
        """The exceptions that muted at least one resource."""
        return [u for u in self.uses if u.muted]

    def unmatched(self) -> list[ExceptionUse]:
        """Unexpired exceptions that covered nothing although their check ran (not ERROR)."""
        out = []
        for u in self.uses:
            if u.expired or u.matched:
                continue
            statuses = self._statuses(u.exception)
            if statuses - {Status.ERROR}:
                out.append(u)
        return out

    def not_evaluated(self) -> list[ExceptionUse]:
        """Unexpired exceptions that covered nothing because their check could not run."""
        return [u for u in self.uses if not u.expired and not u.matched
                and self._statuses(u.exception) == {Status.ERROR}]

    def _statuses(self, exc: AuditException) -> set[Status]:
        return {s for (check, account), found in self.checks_seen.items()
                if check == exc.check and (exc.account is None or account == exc.account)
                for s in found}

    def stats(self) -> dict[str, int | str]:
        """Report stats (only when exceptions are configured); ``exceptions_attention`` joins
        the summary's lines about expired, expiring and unmatched exceptions, so reports
        carry them too."""
        if not self.uses:
            return {}
        out: dict[str, int | str] = {
            "exceptions": len(self.uses),
            "exceptions_applied": len(self.applied),
            "muted_resources": self.muted_resources,
            "exceptions_expired": sum(1 for u in self.uses if u.expired),
            "exceptions_unmatched": len(self.unmatched()),
        }
        attention = self.summary_lines()[1:]
        if attention:
            out["exceptions_attention"] = "; ".join(attention)
        return out

    def summary_lines(self, today: date | None = None) -> list[str]:
        """Lines for stderr: what was muted, and every exception that needs attention."""
        today = today or self.today or datetime.now(UTC).date()
        lines = []
        if self.uses:
            lines.append(f"muted: {self.muted_resources} failing resource(s) by "
                         f"{len(self.applied)} exception(s) of {len(self.uses)}")
        for u in self.uses:
            exp = u.exception.expires
            if u.expired and u.still_failing:
                lines.append(f"{u.label} expired on {exp} and was not applied: "
                             f"{u.still_failing} resource(s) it covered FAIL again; "
                             "renew it (new date, same or new approval) or remove it")
            elif u.expired:
                lines.append(f"{u.label} expired on {exp} and was not applied; it covers no "
                             "failing resource now: remove it")
            elif u.muted and exp is not None and (exp - today).days <= SOON_DAYS:
                lines.append(f"{u.label} expires on {exp} "
                             f"({(exp - today).days} day(s) left)")
        for u in self.unmatched():
            lines.append(f"{u.label} matched no failing resource: fixed since (remove it) or "
                         "mistyped (check the id or name glob)")
        for u in self.not_evaluated():
            lines.append(f"{u.label} not evaluated: its check could not run (ERROR)")
        return lines


def resource_matches(exc: AuditException, finding: Finding, resource: Resource) -> bool:
    """True when ``exc`` covers ``resource`` of ``finding`` (check, account, id or name glob)."""
    if exc.check != finding.rule_id:
        return False
    if exc.account is not None and exc.account != (resource.account_id or finding.account_id):
        return False
    if exc.resource is None:
        return True
    return fnmatchcase(resource.id, exc.resource) or (
        resource.name is not None and fnmatchcase(resource.name, exc.resource))


def muted_reason(exc: AuditException) -> str:
    """The reason of a MUTED finding: who accepted the risk, and until when."""
    until = f"exception expires {exc.expires}" if exc.expires else "exception has no expiry"
    return f"accepted: {exc.reason} ({until})"


def _remaining_error(f: Finding) -> Finding | None:
    """When every failing resource is muted but the check could not read everything, the
    unread part is still unknown: an ERROR finding with what could not be read."""
    if not f.reason or PARTIAL not in f.reason:
        return None
    errors = f.reason.split(PARTIAL, 1)[1]
    return f.model_copy(update={"status": Status.ERROR, "resources": [],
                                "reason": f"{errors} (the failing resources found are muted)"})


def apply_exceptions(findings: list[Finding], exceptions: list[AuditException],
                     today: date | None = None) -> ExceptionsOutcome:
    """Mute the FAIL resources covered by unexpired ``exceptions`` (see the module docstring).

    ``today`` (UTC date; default now) decides expiry: an exception applies through its
    ``expires`` day. Returns the new findings (input order; a split FAIL is followed by its
    MUTED parts) and what each exception did. The input findings are not modified.
    """
    today = today or datetime.now(UTC).date()
    uses = [ExceptionUse(e, i, expired=e.expires is not None and today > e.expires)
            for i, e in enumerate(exceptions)]
    outcome = ExceptionsOutcome(findings=[], uses=uses, today=today)
    for f in findings:
        if f.kind == "posture":
            outcome.checks_seen.setdefault((f.rule_id, f.account_id), set()).add(f.status)
        if f.kind != "posture" or f.status is not Status.FAIL or not uses:
            outcome.findings.append(f)
            continue
        kept: list[Resource] = []
        muted: dict[int, list[Resource]] = {}
        for r in f.resources:
            hits = [u for u in uses if resource_matches(u.exception, f, r)]
            active = [u for u in hits if not u.expired]
            for u in active:
                u.matched += 1
            if active:
                active[0].muted += 1
                muted.setdefault(active[0].index, []).append(r)
                continue
            kept.append(r)
            for u in hits:
                u.still_failing += 1
        if not muted:
            outcome.findings.append(f)
            continue
        if kept:
            outcome.findings.append(f.model_copy(update={"resources": kept}))
        elif (error := _remaining_error(f)) is not None:
            outcome.findings.append(error)
        for index, resources in muted.items():
            outcome.findings.append(f.model_copy(update={
                "status": Status.MUTED, "resources": resources,
                "reason": muted_reason(uses[index].exception)}))
    return outcome
