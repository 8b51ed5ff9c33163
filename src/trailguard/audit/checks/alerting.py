"""Alerting checks (CIS 4.x and beyond): is someone told when high-severity events happen?

A probe event (alerting.yaml) is covered by
- an ENABLED EventBridge rule with a target that reaches someone (an SNS topic needs a
  confirmed subscription) whose pattern matches the event as
  EventBridge delivers it (rules of us-east-1 for IAM and sign-in events, which are delivered
  there only; of any audited region for regional events), or
- a CloudWatch Logs metric filter on the log group of a logging multi-region trail that
  matches the record, with a CloudWatch alarm on the filter's metric whose actions reach
  someone (same rule for SNS topics).
Patterns are evaluated here (moto's TestEventPattern is a stub; it also costs a call each).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from trailguard.audit.catalog import Probe, load_alerting_probes
from trailguard.audit.checks import check
from trailguard.audit.checks.cloudtrail import trail_status, trails
from trailguard.audit.context import AuditContext, CheckError, CheckOutcome
from trailguard.audit.event_pattern import cloudtrail_record, eventbridge_event, matches
from trailguard.audit.filter_pattern import FilterPatternError, parse_filter_pattern
from trailguard.findings.model import Resource

GLOBAL_REGION = "us-east-1"
_GLOBAL_SOURCES = ("iam.amazonaws.com", "signin.amazonaws.com", "sts.amazonaws.com")


def alert_regions(ctx: AuditContext) -> list[str]:
    """Regions whose EventBridge rules are read: configured, else us-east-1 + session region."""
    regions = ctx.config.alerting.regions or [GLOBAL_REGION, ctx.region]
    return list(dict.fromkeys(regions))


def _rules(ctx: AuditContext, region: str) -> list[dict[str, Any]]:
    """Enabled rules with an event pattern on the default bus of ``region``, pattern parsed."""

    def fetch() -> list[dict[str, Any]]:
        ev = ctx.client("events", region)
        out = []
        for r in ctx.paginate(ev, "list_rules", "Rules"):
            if r.get("State") != "ENABLED" or not r.get("EventPattern"):
                continue
            try:
                r["_pattern"] = json.loads(r["EventPattern"])
            except ValueError:
                continue
            if isinstance(r["_pattern"], dict):
                out.append(r)
        return out

    return ctx.cached(f"event_rules:{region}", fetch)


def delivery_problem(ctx: AuditContext, arn: str) -> str | None:
    """Why an alert sent to ``arn`` reaches nobody, or None when it reaches someone.

    An SNS topic needs at least one confirmed subscription (CIS 4.x audit step); a topic that
    does not exist alerts nobody. A topic whose subscriptions cannot be read (another
    account, access denied) is given the benefit of the doubt. Other targets (Lambda, SQS,
    Step Functions, ...) count as delivered. The text reads after "targets" / "notifies".
    """
    if not arn.startswith("arn:") or arn.split(":")[2] != "sns":
        return None

    def fetch() -> str | None:
        sns = ctx.client("sns", arn.split(":")[3] or ctx.region)
        try:
            subs = ctx.paginate(sns, "list_subscriptions_by_topic", "Subscriptions",
                                TopicArn=arn)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("NotFound", "NotFoundException"):
                return f"topic {arn} which does not exist"
            return None
        # PendingConfirmation / Deleted are not ARNs
        if any(s.get("SubscriptionArn", "").startswith("arn:") for s in subs):
            return None
        pending = [s.get("Endpoint", "?") for s in subs
                   if s.get("SubscriptionArn") == "PendingConfirmation"]
        why = f"topic {arn} which has no confirmed subscription"
        return f"{why} (pending: {', '.join(pending)})" if pending else why

    return ctx.cached(f"delivers:{arn}", fetch)


def delivers(ctx: AuditContext, arn: str) -> bool:
    """True when an alert sent to ``arn`` reaches someone (see delivery_problem)."""
    return delivery_problem(ctx, arn) is None


def _rule_problem(ctx: AuditContext, region: str, rule: dict[str, Any]) -> str | None:
    """Why an EventBridge rule alerts nobody, or None when a target reaches someone."""
    ev = ctx.client("events", region)
    targets = ctx.cached(
        f"targets:{rule['Arn']}",
        lambda: ctx.paginate(ev, "list_targets_by_rule", "Targets", Rule=rule["Name"]),
    )
    if not targets:
        return f"rule {rule['Name']} ({region}) has no target"
    problems = [delivery_problem(ctx, t.get("Arn", "")) for t in targets]
    if any(p is None for p in problems):
        return None
    return "; ".join(f"rule {rule['Name']} ({region}) targets {p}" for p in problems)


def _log_group(arn: str) -> tuple[str, str] | None:
    # arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]
    parts = arn.split(":")
    if len(parts) < 7 or parts[5] != "log-group":
        return None
    return parts[3], parts[6]


def _metric_alarms(ctx: AuditContext, region: str) -> dict[tuple[str, str], list[str | None]]:
    """Per (namespace, metric): for each alarm on it, why it alerts nobody (None: it does)."""

    def fetch() -> dict[tuple[str, str], list[str | None]]:
        cw = ctx.client("cloudwatch", region)
        out: dict[tuple[str, str], list[str | None]] = {}
        for a in ctx.paginate(cw, "describe_alarms", "MetricAlarms"):
            if not a.get("MetricName"):
                continue
            name, actions = a.get("AlarmName", "?"), a.get("AlarmActions") or []
            problem: str | None
            if not a.get("ActionsEnabled", True):
                problem = f"alarm {name} has its actions disabled"
            elif not actions:
                problem = f"alarm {name} has no alarm action"
            else:
                problems = [delivery_problem(ctx, arn) for arn in actions]
                problem = None if any(p is None for p in problems) else "; ".join(
                    f"alarm {name} notifies {p}" for p in problems)
            out.setdefault((a.get("Namespace", ""), a["MetricName"]), []).append(problem)
        return out

    return ctx.cached(f"alarms:{region}", fetch)


def _metric_filters(ctx: AuditContext) -> list[dict[str, Any]]:
    """Metric filters (parsed) on log groups of logging multi-region trails.

    ``_problem`` is None when an alarm on the filter's metric reaches someone, else why not.
    """

    def fetch() -> list[dict[str, Any]]:
        out = []
        for t in trails(ctx):
            arn = t.get("CloudWatchLogsLogGroupArn")
            lg = _log_group(arn) if arn else None
            if not lg or not t.get("IsMultiRegionTrail"):
                continue
            if not trail_status(ctx, t).get("IsLogging"):
                continue
            region, group = lg
            logs = ctx.client("logs", region)
            alarms = _metric_alarms(ctx, region)
            for f in ctx.paginate(logs, "describe_metric_filters", "metricFilters",
                                  logGroupName=group):
                problems = [p for m in f.get("metricTransformations", [])
                            for p in alarms.get((m.get("metricNamespace", ""),
                                                 m.get("metricName", "")), [])]
                try:
                    f["_pattern"] = parse_filter_pattern(f.get("filterPattern", ""))
                except FilterPatternError:
                    continue
                if any(p is None for p in problems):
                    f["_problem"] = None
                elif problems:
                    f["_problem"] = "; ".join(p for p in problems if p)
                else:
                    f["_problem"] = (f"metric filter {f.get('filterName')} on {group} "
                                     "has no alarm on its metric")
                f["_trail"] = t["TrailARN"]
                out.append(f)
        return out

    return ctx.cached("metric_filters", fetch)


@dataclass
class Coverage:
    """What covers a probe event (None: nothing), what nearly does, and what was unreadable."""

    by: str | None = None
    near_misses: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def probe_coverage(ctx: AuditContext, probe: Probe) -> Coverage:
    """What covers ``probe``: a matching rule or alarmed metric filter that reaches someone.

    Rules and filters that match but alert nobody are kept as near misses (the reason why).
    """
    cov = Coverage()
    source = probe.record.get("eventSource", "")
    regions = alert_regions(ctx)
    if source in _GLOBAL_SOURCES:
        regions = [r for r in regions if r == GLOBAL_REGION] or [GLOBAL_REGION]
    for region in regions:
        try:
            rules = _rules(ctx, region)
            event = eventbridge_event(probe.record, ctx.account_id, region)
            for rule in rules:
                if not matches(rule["_pattern"], event):
                    continue
                problem = _rule_problem(ctx, region, rule)
                if problem is None:
                    cov.by = f"EventBridge rule {rule['Arn']}"
                    return cov
                cov.near_misses.append(problem)
        except CheckError as exc:
            cov.errors.append(f"EventBridge {region}: {exc}")
    try:
        for f in _metric_filters(ctx):
            if f["_pattern"].matches(cloudtrail_record(probe.record, ctx.account_id, ctx.region)):
                if f["_problem"] is None:
                    cov.by = f"metric filter {f['filterName']} on {f['logGroupName']}"
                    return cov
                cov.near_misses.append(f["_problem"])
    except CheckError as exc:
        cov.errors.append(f"metric filters: {exc}")
    return cov


def _alerting(ctx: AuditContext, check_id: str) -> CheckOutcome:
    out = CheckOutcome()
    covered: dict[str, str] = {}
    uncovered: list[str] = []
    near: list[str] = []
    for probe in load_alerting_probes()[check_id]:
        out.evaluated += 1
        cov = probe_coverage(ctx, probe)
        if cov.by:
            covered[probe.name] = cov.by
        else:
            uncovered.append(probe.name)
            out.errors.extend(e for e in cov.errors if e not in out.errors)
            near.extend(m for m in cov.near_misses if m not in near)
    if uncovered and not out.errors:
        out.failed.append(
            Resource(
                type="AwsAccount",
                id=f"arn:aws:iam::{ctx.account_id}:root",
                name="no alert for: " + ", ".join(uncovered),
                account_id=ctx.account_id,
                details={"uncovered_events": uncovered, "covered": covered,
                         "regions": alert_regions(ctx), "alerting_nobody": near},
            )
        )
        what = ", ".join(uncovered)
        if near:
            out.reason = f"no alert reaches anyone for {what}: " + "; ".join(near)
        else:
            out.reason = (f"no enabled EventBridge rule or alarmed metric filter matches {what} "
                          f"(regions read: {', '.join(alert_regions(ctx))})")
    elif not uncovered:
        out.errors = []
    return out


for _cid in load_alerting_probes():
    check(_cid)(lambda ctx, _c=_cid: _alerting(ctx, _c))
