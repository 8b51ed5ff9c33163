"""Findings as SNS notifications: a readable text for e-mail, attributes for filter policies."""

from __future__ import annotations

from typing import Any

from trailguard.findings.model import Finding

SUBJECT_MAX = 100  # SNS: ASCII, no line breaks, at most 100 characters


def subject(finding: Finding) -> str:
    """``[trailguard] HIGH: IAM SSH Public Key Deleted`` in SNS's subject limits."""
    text = f"[trailguard] {finding.severity.value.upper()}: {finding.title}"
    text = text.encode("ascii", "replace").decode().replace("\r", " ").replace("\n", " ")
    return text[:SUBJECT_MAX]


def message(finding: Finding) -> str:
    """What a responder reads first, then the whole finding as JSON for machines."""
    actor = finding.actor
    when = finding.event_time.isoformat() if finding.event_time else "?"
    lines = [
        f"{finding.title} ({finding.severity.value})",
        f"event: {finding.event_name} at {when} in account {finding.account_id or '?'}, "
        f"region {finding.region or '?'}",
    ]
    if actor:
        lines.append(f"actor: {actor.arn or actor.identity_type or '?'} from "
                     f"{actor.source_ip or '?'} (MFA: {actor.mfa_authenticated})")
    targets = [r.name or r.id for r in finding.resources if r.type != "AwsAccount"]
    if targets:
        lines.append(f"target: {', '.join(targets)}")
    if finding.mitre:
        lines.append(f"ATT&CK: {', '.join(finding.mitre)}")
    if finding.explain:
        lines.append(f"what it means and what to do: trailguard explain {finding.explain}")
    if finding.event_id:
        lines.append(f"CloudTrail event id: {finding.event_id}")
    return "\n".join(lines) + "\n\n" + finding.model_dump_json(indent=2)


def attributes(finding: Finding) -> dict[str, Any]:
    """Message attributes subscribers can filter on (e.g. severity in [high, critical])."""
    values = {
        "severity": finding.severity.value,
        "rule_id": finding.rule_id,
        "event_name": finding.event_name,
        "account_id": finding.account_id,
    }
    return {k: {"DataType": "String", "StringValue": v} for k, v in values.items() if v}


def publish(sns: Any, topic_arn: str, findings: list[Finding]) -> list[str]:
    """Publish one message per finding; return the SNS message ids."""
    ids = []
    for finding in findings:
        response = sns.publish(
            TopicArn=topic_arn,
            Subject=subject(finding),
            Message=message(finding),
            MessageAttributes=attributes(finding),
        )
        ids.append(response["MessageId"])
    return ids
