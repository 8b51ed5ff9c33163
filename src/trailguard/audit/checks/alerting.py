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


def delivers(ctx: AuditContext, arn: str) -> bool:
    """True when an alert sent to ``arn`` reaches someone.

    An SNS topic needs at least one confirmed subscription (CIS 4.x audit step); a topic that
    does not exist alerts nobody. A topic whose subscriptions cannot be read (another
    account, access denied) is given the benefit of the doubt. Other targets (Lambda, SQS,
    Step Functions, ...) count as delivered.
    """
    if not arn.startswith("arn:") or arn.split(":")[2] != "sns":
        return True

    def fetch() -> bool:
        sns = ctx.client("sns", arn.split(":")[3] or ctx.region)
        try:
            subs = ctx.paginate(sns, "list_subscriptions_by_topic", "Subscriptions",
                                TopicArn=arn)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            return code not in ("NotFound", "NotFoundException")
        return any(
            s.get("SubscriptionArn", "").startswith("arn:") for s in subs
        )  # PendingConfirmation / Deleted are not ARNs

    return ctx.cached(f"delivers:{arn}", fetch)


def _has_targets(ctx: AuditContext, region: str, rule: dict[str, Any]) -> bool:
    ev = ctx.client("events", region)
    targets = ctx.cached(
        f"targets:{rule['Arn']}",
        lambda: ctx.paginate(ev, "list_targets_by_rule", "Targets", Rule=rule["Name"]),
    )
    return any(delivers(ctx, t.get("Arn", "")) for t in targets)


def _log_group(arn: str) -> tuple[str, str] | None:
    # arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]
    parts = arn.split(":")
    if len(parts) < 7 or parts[5] != "log-group":
        return None
    return parts[3], parts[6]


def _alarmed_metrics(ctx: AuditContext, region: str) -> set[tuple[str, str]]:
    """(namespace, metric) pairs watched by an alarm whose actions reach someone."""

    def fetch() -> set[tuple[str, str]]:
        cw = ctx.client("cloudwatch", region)
        out = set()
        for a in ctx.paginate(cw, "describe_alarms", "MetricAlarms"):
            if not (a.get("ActionsEnabled", True) and a.get("MetricName")):
                continue
            if any(delivers(ctx, arn) for arn in a.get("AlarmActions") or []):
                out.add((a.get("Namespace", ""), a["MetricName"]))
        return out

    return ctx.cached(f"alarms:{region}", fetch)


def _metric_filters(ctx: AuditContext) -> list[dict[str, Any]]:
    """Metric filters (parsed) on log groups of logging multi-region trails, with an alarm."""

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
            alarmed = _alarmed_metrics(ctx, region)
            for f in ctx.paginate(logs, "describe_metric_filters", "metricFilters",
                                  logGroupName=group):
                metrics = {
                    (m.get("metricNamespace", ""), m.get("metricName", ""))
                    for m in f.get("metricTransformations", [])
                }
                if not metrics & alarmed:
                    continue
                try:
                    f["_pattern"] = parse_filter_pattern(f.get("filterPattern", ""))
                except FilterPatternError:
                    continue
                f["_trail"] = t["TrailARN"]
                out.append(f)
        return out

    return ctx.cached("metric_filters", fetch)


def probe_coverage(ctx: AuditContext, probe: Probe) -> tuple[str | None, list[str]]:
    """Return (what covers the probe or None, reasons a source could not be read)."""
    errors: list[str] = []
    source = probe.record.get("eventSource", "")
    regions = alert_regions(ctx)
    if source in _GLOBAL_SOURCES:
        regions = [r for r in regions if r == GLOBAL_REGION] or [GLOBAL_REGION]
    for region in regions:
        try:
            rules = _rules(ctx, region)
            event = eventbridge_event(probe.record, ctx.account_id, region)
            for rule in rules:
                if matches(rule["_pattern"], event) and _has_targets(ctx, region, rule):
                    return f"EventBridge rule {rule['Arn']}", errors
        except CheckError as exc:
            errors.append(f"EventBridge {region}: {exc}")
    try:
        for f in _metric_filters(ctx):
            if f["_pattern"].matches(cloudtrail_record(probe.record, ctx.account_id, ctx.region)):
                return f"metric filter {f['filterName']} on {f['logGroupName']}", errors
    except CheckError as exc:
        errors.append(f"metric filters: {exc}")
    return None, errors


def _alerting(ctx: AuditContext, check_id: str) -> CheckOutcome:
    out = CheckOutcome()
    covered: dict[str, str] = {}
    uncovered: list[str] = []
    for probe in load_alerting_probes()[check_id]:
        out.evaluated += 1
        by, errors = probe_coverage(ctx, probe)
        if by:
            covered[probe.name] = by
        else:
            uncovered.append(probe.name)
            out.errors.extend(e for e in errors if e not in out.errors)
    if uncovered and not out.errors:
        out.failed.append(
            Resource(
                type="AwsAccount",
                id=f"arn:aws:iam::{ctx.account_id}:root",
                name="no alert for: " + ", ".join(uncovered),
                account_id=ctx.account_id,
                details={"uncovered_events": uncovered, "covered": covered,
                         "regions": alert_regions(ctx)},
            )
        )
    elif not uncovered:
        out.errors = []
    return out


for _cid in load_alerting_probes():
    check(_cid)(lambda ctx, _c=_cid: _alerting(ctx, _c))
