"""Alerting checks (CIS 4.x and beyond): is someone told when high-severity events happen?

A probe event (alerting.yaml) is covered by
- an ENABLED EventBridge rule with a target that reaches someone (an SNS topic needs a
  confirmed subscription) whose pattern matches the event as
  EventBridge delivers it, in the regions where it is delivered (the probe's ``delivered``):
  rules of us-east-1 for IAM, STS and root sign-in events, which are delivered there only;
  of every home region of the account's trails for calls on trails; of every audited region
  for root calls to regional services, which reach EventBridge in the region called; of any
  audited region for other events), or
- a CloudWatch Logs metric filter on the log group of a logging multi-region trail that
  matches the record, with a CloudWatch alarm on the filter's metric whose actions reach
  someone (same rule for SNS topics).
A rule whose target is the default event bus of another region (cross-region forwarding)
reaches someone when a rule there matches the forwarded event and does.
Patterns are evaluated here (moto's TestEventPattern is a stub; it also costs a call each).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from trailguard.audit.catalog import Delivery, Probe, load_alerting_probes
from trailguard.audit.checks import check
from trailguard.audit.checks.cloudtrail import trail_status, trails
from trailguard.audit.context import AuditContext, CheckError, CheckOutcome
from trailguard.audit.event_pattern import cloudtrail_record, eventbridge_event, matches
from trailguard.audit.filter_pattern import FilterPatternError, parse_filter_pattern
from trailguard.findings.model import Resource

GLOBAL_REGION = "us-east-1"
_GLOBAL_SOURCES = ("iam.amazonaws.com", "signin.amazonaws.com", "sts.amazonaws.com")
# Calls on a trail (StopLogging, DeleteTrail, UpdateTrail...) are made in, and reach
# EventBridge in, the trail's home region: each home region needs its own rule.
_TRAIL_SOURCES = ("cloudtrail.amazonaws.com",)


def trail_home_regions(ctx: AuditContext) -> dict[str, list[str]]:
    """Home region -> names of the account's own trails homed there (cached trail listing).

    Organization trails owned by the management account are left out: a member account
    cannot stop or change them, and their API calls reach the management account.
    Raises CheckError when the trails cannot be listed.
    """
    out: dict[str, list[str]] = {}
    for t in trails(ctx):
        parts = t.get("TrailARN", "").split(":")
        if len(parts) > 4 and parts[4] and parts[4] != ctx.account_id:
            continue
        region = t.get("HomeRegion") or (parts[3] if len(parts) > 3 else "") or ctx.region
        out.setdefault(region, []).append(t.get("Name") or t.get("TrailARN", "?"))
    return dict(sorted(out.items()))


def _homes(ctx: AuditContext) -> dict[str, list[str]]:
    """trail_home_regions, or {} when trails cannot be listed (the CloudTrail checks say why)."""
    try:
        return trail_home_regions(ctx)
    except CheckError:
        return {}


def region_reasons(ctx: AuditContext) -> dict[str, str]:
    """Audited region -> why it is audited (read for rules, and needs a root-usage rule).

    Configured (``alerting.regions``), else us-east-1, the session region and the home region of
    every trail of the account. The text reads after "is audited as".
    """
    if ctx.config.alerting.regions:
        return dict.fromkeys(ctx.config.alerting.regions, "listed in alerting.regions")
    out = {GLOBAL_REGION: "the region of global services"}
    out.setdefault(ctx.region, "the session region")
    for region, names in _homes(ctx).items():
        out.setdefault(region, f"the home region of trail {', '.join(names)}")
    return out


def alert_regions(ctx: AuditContext) -> list[str]:
    """Regions whose EventBridge rules are read (the keys of region_reasons)."""
    return list(region_reasons(ctx))


def delivery(probe: Probe) -> Delivery:
    """Where EventBridge receives the probe's event: the probe's ``delivered``, else by source."""
    if probe.delivered:
        return probe.delivered
    source = probe.record.get("eventSource", "")
    if source in _GLOBAL_SOURCES:
        return "us-east-1"
    return "trail-home" if source in _TRAIL_SOURCES else "any-region"


def needed_regions(ctx: AuditContext, probe: Probe) -> dict[str, str]:
    """Region -> why it needs its own rule for ``probe`` ({}: one rule anywhere is enough).

    ``trail-home``: the home region of every trail of the account; ``each-region``: every
    audited region. The text reads after "no alert in REGION for EVENTS:".
    """
    kind = delivery(probe)
    if kind == "trail-home":
        return {r: f"trail {', '.join(names)} is homed in {r}, and EventBridge receives the API "
                   "calls on a trail in its home region only"
                for r, names in _homes(ctx).items()}
    if kind == "each-region":
        return {r: "EventBridge receives a call to a regional service in the region called only, "
                   f"and {r} is audited as {why}" for r, why in region_reasons(ctx).items()}
    return {}


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


def _event_bus(arn: str) -> tuple[str, str, str] | None:
    """(region, account, bus name) of an EventBridge event bus ARN, else None."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "events" or not parts[5].startswith("event-bus/"):
        return None
    return parts[3], parts[4], parts[5].removeprefix("event-bus/")


def _forward_problem(ctx: AuditContext, region: str, event: dict[str, Any]) -> str | None:
    """Why ``event`` forwarded to the default bus of ``region`` alerts nobody (None: it does).

    Only one hop is followed: a rule there that forwards again counts as delivering.
    """
    why = []
    for rule in _rules(ctx, region):
        if not matches(rule["_pattern"], event):
            continue
        problem = _rule_problem(ctx, region, rule, None)
        if problem is None:
            return None
        why.append(problem)
    where = f"the default event bus of {region}, where "
    return where + ("; ".join(why) if why else "no enabled rule matches the event")


def _target_problem(ctx: AuditContext, region: str, arn: str,
                    event: dict[str, Any] | None) -> str | None:
    """Why a target alerts nobody; a default bus of this account in another region is followed."""
    bus = _event_bus(arn)
    if (event is not None and bus is not None and bus[1] == ctx.account_id
            and bus[2] == "default" and bus[0] != region):
        return _forward_problem(ctx, bus[0], event)
    return delivery_problem(ctx, arn)


def _rule_problem(ctx: AuditContext, region: str, rule: dict[str, Any],
                  event: dict[str, Any] | None) -> str | None:
    """Why an EventBridge rule alerts nobody, or None when a target reaches someone.

    With ``event``, a target that is the default bus of another region (cross-region
    forwarding) reaches someone only if a rule there matches the event and does.
    """
    ev = ctx.client("events", region)
    targets = ctx.cached(
        f"targets:{rule['Arn']}",
        lambda: ctx.paginate(ev, "list_targets_by_rule", "Targets", Rule=rule["Name"]),
    )
    if not targets:
        return f"rule {rule['Name']} ({region}) has no target"
    problems = [_target_problem(ctx, region, t.get("Arn", ""), event) for t in targets]
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
    """What covers a probe event (None: nothing), what nearly does, and what was unreadable.

    ``missing`` maps each region that needs its own rule but has none to why it needs one.
    """

    by: str | None = None
    near_misses: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)


def _region_coverage(ctx: AuditContext, probe: Probe, region: str,
                     near: list[str]) -> str | None:
    """The rule of ``region`` covering ``probe`` (None: none); near misses go to ``near``."""
    event = eventbridge_event(probe.record, ctx.account_id, region)
    for rule in _rules(ctx, region):
        if not matches(rule["_pattern"], event):
            continue
        problem = _rule_problem(ctx, region, rule, event)
        if problem is None:
            return f"EventBridge rule {rule['Arn']}"
        near.append(problem)
    return None


def probe_coverage(ctx: AuditContext, probe: Probe) -> Coverage:
    """What covers ``probe``: a matching rule or alarmed metric filter that reaches someone.

    Where a rule must be (see ``delivery``): in us-east-1; in every region of needed_regions
    (trails' home regions, or every audited region), or in any audited region when there is
    none. A metric filter on a multi-region trail's log group sees every region. Rules and
    filters that match but alert nobody are kept as near misses (the reason why).
    """
    cov = Coverage()
    read = alert_regions(ctx)
    need = needed_regions(ctx, probe)
    regions = [GLOBAL_REGION] if delivery(probe) == "us-east-1" else (
        [r for r in need if r in read] if need else read)
    covered: dict[str, str] = {}
    for region in regions:
        near: list[str] = []
        try:
            by = _region_coverage(ctx, probe, region, near)
        except CheckError as exc:
            cov.errors.append(f"EventBridge {region}: {exc}")
            continue
        if by is None:
            cov.near_misses.extend(near)
            continue
        covered[region] = by
        if not need:
            cov.by = by
            return cov
    if need and all(r in covered for r in need):
        cov.by = ", ".join(dict.fromkeys(covered[r] for r in need))
        return cov
    try:
        for f in _metric_filters(ctx):
            if f["_pattern"].matches(cloudtrail_record(probe.record, ctx.account_id, ctx.region)):
                if f["_problem"] is None:
                    cov.by = f"metric filter {f['filterName']} on {f['logGroupName']}"
                    return cov
                cov.near_misses.append(f["_problem"])
    except CheckError as exc:
        cov.errors.append(f"metric filters: {exc}")
    if covered or delivery(probe) == "trail-home":
        # a root-usage rule in no region at all is plainly uncovered, not a regional gap
        cov.missing = {r: why for r, why in need.items() if r not in covered}
    return cov


def _gap_reasons(ctx: AuditContext, missing: dict[str, dict[str, str]]) -> list[str]:
    """One sentence per region (and reason) left without alert, naming the region and why."""
    gaps: dict[tuple[str, str], list[str]] = {}
    for probe, regions in missing.items():
        for region, why in regions.items():
            gaps.setdefault((region, why), []).append(probe)
    read = alert_regions(ctx)
    out = []
    for (region, why), probes in gaps.items():
        text = f"no alert in {region} for {', '.join(probes)}: {why}"
        if region not in read:
            text += " (the region is not in alerting.regions, so its rules were not read)"
        out.append(text)
    return out


def _alerting(ctx: AuditContext, check_id: str) -> CheckOutcome:
    out = CheckOutcome()
    covered: dict[str, str] = {}
    uncovered: list[str] = []
    missing: dict[str, dict[str, str]] = {}
    near: list[str] = []
    for probe in load_alerting_probes()[check_id]:
        out.evaluated += 1
        cov = probe_coverage(ctx, probe)
        if cov.by:
            covered[probe.name] = cov.by
        else:
            uncovered.append(probe.name)
            if cov.missing:
                missing[probe.name] = cov.missing
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
                         "regions": alert_regions(ctx), "alerting_nobody": near,
                         "missing_regions": {p: sorted(m) for p, m in missing.items()}},
            )
        )
        parts = _gap_reasons(ctx, missing)
        plain = [p for p in uncovered if p not in missing]
        what = ", ".join(plain)
        if plain and near:
            parts.append(f"no alert reaches anyone for {what}: " + "; ".join(near))
        elif plain:
            parts.append(f"no enabled EventBridge rule or alarmed metric filter matches {what} "
                         f"(regions read: {', '.join(alert_regions(ctx))})")
        elif near:
            parts.append("alerting nobody: " + "; ".join(near))
        out.reason = "; ".join(parts)
    elif not uncovered:
        out.errors = []
    return out


for _cid in load_alerting_probes():
    check(_cid)(lambda ctx, _c=_cid: _alerting(ctx, _c))
