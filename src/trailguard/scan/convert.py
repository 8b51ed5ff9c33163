"""Turn rule matches into findings, and fold identical findings into one with a count.

A finding carries only chosen fields of the record (who, what, when, from where, on whom):
``requestParameters`` and ``responseElements`` can hold secrets, so they are never copied
whole. Identical findings (same rule, actor, targets, event name, error code, account) are
grouped with a count, first/last time and at most :data:`SAMPLE_EVENT_IDS` event ids.

Access-granting events (a snapshot shared, a bucket or trust policy written) also say whom
they granted access to, in the target's ``details`` (:mod:`trailguard.scan.grants`); the
grantees are part of a finding's identity, so two shares with different accounts stay two
findings.
"""

from __future__ import annotations

import re
from bisect import insort
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from trailguard.findings.model import Actor, Finding, Resource, Severity
from trailguard.scan.grants import first_grant, grant_details, grant_key

if TYPE_CHECKING:
    from trailguard.sigma.match import Match

SAMPLE_EVENT_IDS = 20
_FAR = datetime.max.replace(tzinfo=UTC)  # sorts after every real time

# requestParameters key -> Resource type, for the thing an event acted on.
TARGET_KEYS: tuple[tuple[str, str], ...] = (
    ("userName", "AwsIamUser"),
    ("roleName", "AwsIamRole"),
    ("groupName", "AwsIamGroup"),
    ("policyArn", "AwsIamPolicy"),
    ("accessKeyId", "AwsIamAccessKey"),
    ("sSHPublicKeyId", "AwsIamSshPublicKey"),
    ("certificateId", "AwsIamSigningCertificate"),
    ("serialNumber", "AwsIamMfaDevice"),
    ("virtualMFADeviceName", "AwsIamMfaDevice"),
    ("serviceSpecificCredentialId", "AwsIamServiceSpecificCredential"),
    ("trailName", "AwsCloudTrailTrail"),
    ("bucketName", "AwsS3Bucket"),
    ("detectorId", "AwsGuardDutyDetector"),
    ("configurationRecorderName", "AwsConfigConfigurationRecorder"),
    ("snapshotId", "AwsEc2Snapshot"),
    ("groupId", "AwsEc2SecurityGroup"),
    ("keyId", "AwsKmsKey"),
    ("sAMLProviderArn", "AwsIamSamlProvider"),
    ("logGroupName", "AwsLogsLogGroup"),
    ("dBSnapshotIdentifier", "AwsRdsDbSnapshot"),
    ("dBClusterSnapshotIdentifier", "AwsRdsDbClusterSnapshot"),
    ("secretId", "AwsSecretsManagerSecret"),
    ("instanceId", "AwsEc2Instance"),
    ("imageId", "AwsEc2Image"),
    ("functionName", "AwsLambdaFunction"),
)
# Events whose target is requestParameters.name, too generic a key to read for every event.
NAME_TARGETS: dict[tuple[str, str], str] = {
    ("iam.amazonaws.com", "CreateSAMLProvider"): "AwsIamSamlProvider",
    ("sts.amazonaws.com", "GetFederationToken"): "AwsStsFederatedUser",
}
# EC2 records some requests in their XML shape: {"DeleteFlowLogsRequest": {"FlowLogId":
# {"content": "fl-...", "tag": 1}}} (one id) or a list of such items (several).
NESTED_TARGET_KEYS: tuple[tuple[str, str, str], ...] = (
    ("DeleteFlowLogsRequest", "FlowLogId", "AwsEc2FlowLog"),
)
_TECHNIQUE = re.compile(r"^attack\.(t\d{4}(?:\.\d{3})?)$", re.IGNORECASE)
# Correlation group-by paths that describe the actor.
_ACTOR_PATHS = {
    "userIdentity.arn": "arn",
    "userIdentity.type": "identity_type",
    "userIdentity.principalId": "principal_id",
    "userIdentity.accountId": "account_id",
    "userIdentity.userName": "user_name",
    "userIdentity.accessKeyId": "access_key_id",
    "userIdentity.invokedBy": "invoked_by",
    "sourceIPAddress": "source_ip",
    "userAgent": "user_agent",
}


def parse_time(value: Any) -> datetime | None:
    """CloudTrail's ISO ``eventTime`` as an aware datetime; None when absent or unreadable."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def techniques_from_tags(tags: Iterable[Any]) -> list[str]:
    """ATT&CK technique ids (``T1098.001``) from Sigma tags (``attack.t1098.001``)."""
    out = []
    for tag in tags:
        m = _TECHNIQUE.match(str(tag))
        if m and m.group(1).upper() not in out:
            out.append(m.group(1).upper())
    return out


# Secrets callers plant in free text (a user agent): session tokens (long base64 runs, the STS
# prefixes even URL-encoded) and 40-character secret access keys standing alone (also right
# after an access key id, or URL-encoded). Access key ids are not secret and are kept.
_KEY_CHAR = r"(?:[A-Za-z0-9/+]|%2[BbFf])"
_PAD = r"(?:=|%3[Dd]){0,2}"
_TOKEN_RE = re.compile(
    rf"(?:(?:IQoJb3JpZ2lu|FwoGZXIvYXdz|FQoGZXIvYXdz){_KEY_CHAR}{{20,}}|{_KEY_CHAR}{{100,}}){_PAD}"
)
_SECRET_KEY_RE = re.compile(
    r"(?:(?<![A-Za-z0-9/+])|(?<=%[0-9A-Fa-f]{2})|(?<=AKIA[A-Z0-9]{16})|(?<=ASIA[A-Z0-9]{16}))"
    rf"{_KEY_CHAR}{{40}}(?!{_KEY_CHAR})"
)
# A path of words (``com/AmazonS3/latest/userguide/cloudtrail``) has a secret key's shape.
_PATH_WORD = re.compile(r"(?:[A-Z]?[a-z]+|[A-Z]+)(?:[A-Z][a-z]+)*[A-Z]*[0-9]*")
REDACTED = "<redacted>"


def _looks_like_secret_key(text: str) -> bool:
    text = text.replace("%2F", "/").replace("%2f", "/").replace("%2B", "+").replace("%2b", "+")
    if not (re.search(r"[A-Z]", text) and re.search(r"[a-z]", text)
            and re.search(r"[0-9]", text)):
        return False
    parts = text.split("/")
    return len(parts) < 3 or not all(_PATH_WORD.fullmatch(p) for p in parts)


def redact_secrets(text: str | None) -> str | None:
    """``text`` with substrings shaped like AWS session tokens or secret keys as ``<redacted>``.

    For caller-controlled free text such as the user agent, which attackers and misconfigured
    tools fill with credentials; findings and alerts must not carry them on.
    """
    if not text:
        return text
    text = _TOKEN_RE.sub(REDACTED, text)
    return _SECRET_KEY_RE.sub(
        lambda m: REDACTED if _looks_like_secret_key(m.group(0)) else m.group(0), text
    )


def actor_from_record(rec: dict[str, Any]) -> Actor:
    """Who made the call: identity, session, key, address, agent, MFA, invoking service.

    Secrets planted in the user agent are redacted (:func:`redact_secrets`).
    """
    ui = _dict(rec.get("userIdentity"))
    ctx = _dict(ui.get("sessionContext"))
    issuer = _dict(ctx.get("sessionIssuer"))
    attrs = _dict(ctx.get("attributes"))
    arn = _str(ui.get("arn"))
    identity_type = _str(ui.get("type"))
    session_name = None
    if arn and (identity_type == "AssumedRole" or ":assumed-role/" in arn):
        session_name = arn.rsplit("/", 1)[-1] or None
    mfa: bool | None = None
    flag = attrs.get("mfaAuthenticated")
    if isinstance(flag, str) and flag.lower() in ("true", "false"):
        mfa = flag.lower() == "true"
    elif isinstance(flag, bool):
        mfa = flag
    used = _dict(rec.get("additionalEventData")).get("MFAUsed")
    if mfa is None and isinstance(used, str) and used.lower() in ("yes", "no"):
        mfa = used.lower() == "yes"
    return Actor(
        identity_type=identity_type,
        arn=arn,
        principal_id=_str(ui.get("principalId")),
        account_id=_str(ui.get("accountId")),
        user_name=_str(ui.get("userName")),
        session_name=session_name,
        session_issuer_arn=_str(issuer.get("arn")),
        access_key_id=_str(ui.get("accessKeyId")),
        source_ip=_str(rec.get("sourceIPAddress")),
        user_agent=redact_secrets(_str(rec.get("userAgent"))),
        mfa_authenticated=mfa,
        invoked_by=_str(ui.get("invokedBy")),
    )


def _targets(rec: dict[str, Any]) -> tuple[list[tuple[str, str, str]], str | None, str | None]:
    """(type, id, name) of each target, plus the account and region they live in."""
    params = _dict(rec.get("requestParameters"))
    account = _str(rec.get("recipientAccountId")) or _str(
        _dict(rec.get("userIdentity")).get("accountId")
    )
    region = _str(rec.get("awsRegion"))
    out: list[tuple[str, str, str]] = []
    for key, rtype in TARGET_KEYS:
        value = _str(params.get(key))
        if not value:
            continue
        rid = value
        if rtype == "AwsIamUser" and account and not value.startswith("arn:"):
            rid = f"arn:aws:iam::{account}:user/{value}"
        elif rtype == "AwsIamRole" and account and not value.startswith("arn:"):
            rid = f"arn:aws:iam::{account}:role/{value}"
        out.append((rtype, rid, value))
    for outer, inner, rtype in NESTED_TARGET_KEYS:
        for value in _xml_values(_dict(params.get(outer)).get(inner)):
            out.append((rtype, value, value))
    source = _str(rec.get("eventSource")) or ""
    name = _str(params.get("name"))
    if source.startswith("cloudtrail.") and name:
        out.append(("AwsCloudTrailTrail", name, name.rsplit("/", 1)[-1]))
    elif name and (rtype := NAME_TARGETS.get((source, _str(rec.get("eventName")) or ""))):
        out.append((rtype, name, name))
    if not out and account:
        out.append(("AwsAccount", account, account))
    return out, account, region


def _xml_values(item: Any) -> list[str]:
    """Values of an EC2 XML-shaped member: ``{"content": v}``, a list of them, or plain text."""
    items = item if isinstance(item, list) else [item]
    out = []
    for it in items:
        value = _str(it.get("content")) if isinstance(it, dict) else _str(it)
        if value:
            out.append(value)
    return out


def resources_from_record(
    rec: dict[str, Any], grant: dict[str, Any] | None = None
) -> list[Resource]:
    """The targets of the call, from well-known ``requestParameters`` keys.

    Falls back to the account when the event names no target (e.g. a password-policy change).
    Whom an access-granting call gave access to (``grant``, else read from the record by
    :func:`~trailguard.scan.grants.grant_details`) goes into the first target's ``details``.
    """
    targets, account, region = _targets(rec)
    resources = [
        Resource(
            type=rtype,
            id=rid,
            name=None if rtype == "AwsAccount" else name,
            account_id=account,
            region=region,
        )
        for rtype, rid, name in targets
    ]
    if grant is None:
        grant = grant_details(rec)
    if grant and resources:
        resources[0].details = dict(grant)
    return resources


def record_group_key(
    meta: RuleMeta, rec: dict[str, Any], grant: dict[str, Any] | None = None
) -> tuple[Any, ...]:
    """The :func:`group_key` a record's finding will have, without building the finding.

    ``grant`` is the record's :func:`~trailguard.scan.grants.grant_details` when the caller
    already has it (read from the record otherwise).
    """
    ui = _dict(rec.get("userIdentity"))
    who = (
        _str(ui.get("arn")) or _str(ui.get("principalId")) or _str(ui.get("type")),
        _str(ui.get("accessKeyId")),
        _str(rec.get("sourceIPAddress")),
    )
    targets, account, _ = _targets(rec)
    return (
        meta.rule_id,
        who,
        tuple(sorted((t, i) for t, i, _ in targets)),
        _str(rec.get("eventName")),
        _str(rec.get("errorCode")),
        account,
        grant_key(grant_details(rec) if grant is None else grant) if targets else (),
    )


@dataclass
class RuleMeta:
    """What a finding needs from a rule besides its Sigma logic."""

    rule_id: str
    title: str
    severity: Severity
    mitre: list[str]
    cis: list[str]
    description: str | None
    explain: list[str]

    def explain_for(self, event_name: str | None) -> str | None:
        """The knowledge-base page for a match on ``event_name`` (see RuleInfo.explain_for)."""
        if event_name and event_name in self.explain:
            return event_name
        if event_name and not self.explain:
            return event_name
        return self.explain[0] if self.explain else None


def rule_meta(rule: Any, info: Any | None = None) -> RuleMeta:
    """Metadata for a Sigma rule, taken from the catalog's RuleInfo when there is one."""
    level = getattr(info, "level", None) or _level_name(getattr(rule, "level", None))
    try:
        severity = Severity.parse(level) if level else Severity.medium
    except ValueError:
        severity = Severity.medium
    mitre = list(getattr(info, "techniques", []) or []) or techniques_from_tags(
        getattr(rule, "tags", None) or []
    )
    return RuleMeta(
        rule_id=str(getattr(info, "id", None) or rule.id or rule.name or rule.title),
        title=str(getattr(info, "title", None) or rule.title),
        severity=severity,
        mitre=mitre,
        cis=list(getattr(info, "cis", []) or []),
        description=(getattr(info, "description", None) or getattr(rule, "description", None)),
        explain=list(getattr(info, "explain", []) or []),
    )


def _level_name(level: Any) -> str | None:
    if level is None:
        return None
    name = getattr(level, "name", None)
    return str(name).lower() if name else str(level).lower()


def _rule_fields(meta: RuleMeta) -> dict[str, Any]:
    """The fields of a detection finding that come from its rule."""
    return {
        "kind": "detection",
        "rule_id": meta.rule_id,
        "title": meta.title,
        "severity": meta.severity,
        "description": meta.description,
        "mitre": meta.mitre,
        "cis": meta.cis,
    }


def finding_from_record(
    meta: RuleMeta, rec: dict[str, Any], grant: dict[str, Any] | None = None
) -> Finding:
    """One detection finding for a single matched CloudTrail record.

    ``grant``: the record's :func:`~trailguard.scan.grants.grant_details`, if already read.
    """
    event_name = _str(rec.get("eventName"))
    when = parse_time(rec.get("eventTime"))
    event_id = _str(rec.get("eventID"))
    return Finding(
        **_rule_fields(meta),
        account_id=_str(rec.get("recipientAccountId"))
        or _str(_dict(rec.get("userIdentity")).get("accountId")),
        region=_str(rec.get("awsRegion")),
        resources=resources_from_record(rec, grant),
        explain=meta.explain_for(event_name),
        event_name=event_name,
        event_source=_str(rec.get("eventSource")),
        event_time=when,
        event_id=event_id,
        error_code=_str(rec.get("errorCode")),
        actor=actor_from_record(rec),
        first_seen=when,
        last_seen=when,
        event_ids=[event_id] if event_id else [],
    )


_ARN_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):")
_ARN_KINDS = (
    (":root", "Root"),
    (":user/", "IAMUser"),
    (":assumed-role/", "AssumedRole"),
    (":role/", "Role"),
    (":federated-user/", "FederatedUser"),
)
_TARGET_TYPES = dict(TARGET_KEYS)


def account_from_arn(arn: str | None) -> str | None:
    """The 12-digit account of an IAM or STS ARN (``arn:aws:iam::111122223333:user/x``)."""
    m = _ARN_ACCOUNT.match(arn or "")
    return m.group(1) if m else None


def actor_from_arn(arn: str) -> Actor:
    """What an IAM/STS principal ARN alone says about the actor (type, account, name)."""
    actor = Actor(arn=arn, account_id=account_from_arn(arn))
    for marker, kind in _ARN_KINDS:
        if marker in arn:
            actor.identity_type = kind
            break
    tail = arn.rsplit("/", 1)[-1] if "/" in arn else None
    if actor.identity_type == "IAMUser":
        actor.user_name = tail
    elif actor.identity_type == "AssumedRole":
        actor.session_name = tail
    return actor


def _correlation_targets(
    values: dict[str, Any], paths: dict[str, str], account: str | None, region: str | None
) -> list[Resource]:
    """The group's victims: group-by fields that name a target (``requestParameters.userName``)."""
    out: list[Resource] = []
    for name, value in values.items():
        path = paths.get(name, name)
        key = path.removeprefix("requestParameters.")
        rtype = _TARGET_TYPES.get(key) if key != path else None
        text = _str(value)
        if not rtype or not text:
            continue
        rid = text
        if account and not text.startswith("arn:") and rtype in ("AwsIamUser", "AwsIamRole"):
            kind = "user" if rtype == "AwsIamUser" else "role"
            rid = f"arn:aws:iam::{account}:{kind}/{text}"
        out.append(Resource(type=rtype, id=rid, name=text, account_id=account, region=region))
    return out


def finding_from_correlation(meta: RuleMeta, match: Match) -> Finding:
    """One detection finding for a correlation match (many records, grouped by the rule's fields).

    The actor comes from the group-by fields when they describe one, else from the distinct
    actor ARNs of the contributing events (the most frequent is the finding's actor; all of
    them, bounded, are listed in the target's ``details``). The victim (a group-by field such as
    ``requestParameters.userName``) is the target; the account is the group's, else the
    contributing events', else the actor ARN's.
    """
    values = dict(match.group)
    paths = dict(match.paths)
    by_path = {paths.get(k, k): v for k, v in values.items()}
    actors = list(match.actors)
    actor_count = match.actor_count or len(actors)
    event_ids = list(match.event_ids)
    actor_fields = {
        _ACTOR_PATHS[k]: str(v) for k, v in by_path.items() if k in _ACTOR_PATHS and v is not None
    }
    if "user_agent" in actor_fields:  # a rule may group by userAgent: caller-controlled text
        actor_fields["user_agent"] = redact_secrets(actor_fields["user_agent"])
    actor: Actor | None = None
    if actor_fields.get("arn"):
        actor = actor_from_arn(actor_fields["arn"]).model_copy(update=actor_fields)
    elif actor_fields:
        actor = Actor(**actor_fields)
    elif actors:
        actor = actor_from_arn(actors[0])
    account = (
        _str(by_path.get("recipientAccountId"))
        or _str(by_path.get("userIdentity.accountId"))
        or next(iter(match.accounts), None)
        or (actor.account_id if actor else None)
        or next((a for a in map(account_from_arn, actors) if a), None)
    )
    if actor and not actor.account_id:
        actor.account_id = account_from_arn(actor.arn)
    region = _str(by_path.get("awsRegion"))
    resources = _correlation_targets(values, paths, account, region)
    if not resources and account:
        resources = [Resource(type="AwsAccount", id=account, account_id=account)]
    if resources and actors and (actor_count > 1 or not actor_fields):
        resources[0].details = {"actors": actors, "distinct_actors": actor_count}
    if resources and match.values:
        resources[0].details["counted"] = {
            "field": match.value_path,
            "distinct": match.value_count,
            "values": list(match.values),
        }
    first, last = parse_time(match.first_time), parse_time(match.last_time)
    return Finding(
        **_rule_fields(meta),
        account_id=account,
        region=region,
        resources=resources,
        explain=meta.explain_for(None),
        event_name=_str(by_path.get("eventName")),
        event_source=_str(by_path.get("eventSource")),
        event_time=first,
        event_id=event_ids[0] if event_ids else None,
        actor=actor,
        count=max(1, match.count),
        first_seen=first,
        last_seen=last,
        event_ids=list(event_ids[:SAMPLE_EVENT_IDS]),
    )


def group_key(f: Finding) -> tuple[Any, ...]:
    """What makes two findings the same: rule, actor (and the address it called from: a stolen
    key used from a new place must not merge into its owner's routine finding), targets,
    event, error, account, grantees."""
    actor = f.actor
    who = (
        (actor.arn or actor.principal_id or actor.identity_type, actor.access_key_id,
         actor.source_ip)
        if actor
        else (None, None, None)
    )
    targets = tuple(sorted((r.type, r.id) for r in f.resources))
    grant = first_grant(r.details for r in f.resources)
    return (f.rule_id, who, targets, f.event_name, f.error_code, f.account_id, grant)


class FindingGroups:
    """Accumulates findings, merging identical ones (bounded sample of event ids).

    The result does not depend on the order findings arrive in (DuckDB returns matching rows
    in any order): a group's first event is the earliest (ties: the smallest event id), its
    sample of event ids is the earliest ``sample`` ones, and groups are sorted completely.
    """

    def __init__(self, sample: int = SAMPLE_EVENT_IDS) -> None:
        """Start empty; ``sample`` bounds the event ids kept per group."""
        self.sample = sample
        self._groups: dict[tuple[Any, ...], Finding] = {}
        # Record groups: their sample as sorted (time, event id), kept apart until findings().
        self._samples: dict[tuple[Any, ...], list[tuple[datetime, str]]] = {}
        self.total = 0

    def add(self, finding: Finding) -> None:
        """Add one finding (its ``count`` may already be more than 1)."""
        self.total += finding.count
        key = group_key(finding)
        seen = self._groups.get(key)
        if seen is None:
            finding.event_ids = finding.event_ids[: self.sample]
            self._groups[key] = finding
            return
        seen.count += finding.count
        if finding.first_seen and (
            seen.first_seen is None
            or (finding.first_seen, finding.event_id or "") < (seen.first_seen, seen.event_id or "")
        ):
            seen.first_seen = finding.first_seen
            seen.event_time = finding.event_time
            seen.event_id = finding.event_id
            seen.actor = finding.actor or seen.actor
            seen.region = finding.region or seen.region
        if finding.last_seen and (seen.last_seen is None or finding.last_seen > seen.last_seen):
            seen.last_seen = finding.last_seen
        samples = self._samples.get(key)
        if samples is not None:
            for event_id in finding.event_ids:
                self._sample(samples, finding.first_seen, event_id)
            return
        room = self.sample - len(seen.event_ids)
        if room > 0:
            seen.event_ids.extend(e for e in finding.event_ids[:room] if e not in seen.event_ids)

    def _sample(self, samples: list[tuple[datetime, str]], when: datetime | None, event_id: str
                ) -> None:
        """Keep ``event_id`` if it is among the ``sample`` earliest of its group."""
        item = (when or _FAR, event_id)
        if len(samples) >= self.sample and (not samples or item >= samples[-1]):
            return
        if any(e == event_id for _, e in samples):
            return
        insort(samples, item)
        del samples[self.sample :]

    def add_record(self, meta: RuleMeta, rec: dict[str, Any]) -> None:
        """Add the finding for one matched record; builds a Finding only for a new group."""
        grant = grant_details(rec)
        key = record_group_key(meta, rec, grant)
        seen = self._groups.get(key)
        self.total += 1
        when = parse_time(rec.get("eventTime"))
        event_id = _str(rec.get("eventID"))
        if seen is None:
            self._groups[key] = finding_from_record(meta, rec, grant)
            self._samples[key] = [(when or _FAR, event_id)] if event_id and self.sample else []
            return
        seen.count += 1
        if when and (
            seen.first_seen is None
            or (when, event_id or "") < (seen.first_seen, seen.event_id or "")
        ):
            seen.first_seen = when
            seen.event_time = when
            seen.event_id = event_id
            seen.region = _str(rec.get("awsRegion")) or seen.region
            seen.actor = actor_from_record(rec)
        if when and (seen.last_seen is None or when > seen.last_seen):
            seen.last_seen = when
        if event_id:
            samples = self._samples.get(key)
            if samples is None:  # a group begun by add(): its ids so far come first
                samples = self._samples[key] = [
                    (seen.first_seen or _FAR, e) for e in seen.event_ids
                ]
            self._sample(samples, when, event_id)

    def findings(self) -> list[Finding]:
        """Grouped findings, most severe first, then by first time seen (fully ordered)."""
        for key, samples in self._samples.items():
            self._groups[key].event_ids = [e for _, e in samples]
        ordered = sorted(
            self._groups.items(),
            key=lambda item: (
                -item[1].severity.rank,
                item[1].first_seen or _FAR,
                item[1].title,
                item[1].rule_id,
                item[1].event_id or "",
                repr(item[0]),
            ),
        )
        return [f for _, f in ordered]

    def __len__(self) -> int:
        return len(self._groups)
