"""Build a remediation plan from a fresh audit: which steps, on which targets, with which calls.

Planning only reads. Every planner reads the current state of its targets, so a target that is
already fixed gets no step and running again on a fixed account plans nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from trailguard.audit.catalog import load_catalog
from trailguard.audit.checks.alerting import region_reasons, trail_home_regions
from trailguard.audit.checks.cloudtrail import records_management_writes
from trailguard.audit.checks.iam_credentials import credential_report
from trailguard.audit.config import AuditConfig, PasswordPolicyConfig
from trailguard.audit.context import AuditContext, CheckError
from trailguard.audit.engine import run_audit
from trailguard.audit.exceptions import apply_exceptions
from trailguard.findings.model import Finding, Status
from trailguard.remediate import handlers as h
from trailguard.remediate.config import PasswordFlags, RemediateConfig
from trailguard.remediate.context import GLOBAL_REGION, RemediationContext, describe_error
from trailguard.remediate.journal import DEFAULT_DIR, iter_journals
from trailguard.remediate.schema import (
    ApiCall,
    Note,
    Plan,
    Step,
    alerting_pattern,
    handler_spec,
    policy_document,
    regional_alerting_pattern,
    validate_plan,
)

ORDER = (
    "password-policy", "require-password-reset", "mfa-enforce-policy", "deactivate-access-key",
    "delete-access-key", "deactivate-ssh-public-key", "deactivate-signing-certificate",
    "cloudtrail-enable", "alerting-rule",
)
# Checks whose failure the cloudtrail-enable action does not fix (it says so in the plan).
_NOT_FIXED = {
    "cloudtrail_kms_encryption_enabled": "choose a customer managed KMS key whose key policy "
    "lets CloudTrail encrypt, then `aws cloudtrail update-trail --kms-key-id`",
}


@dataclass
class PlanOptions:
    """What the user asked for beyond the audit: checks, key deletions, names, reference time."""

    check_ids: list[str] | None = None
    delete_keys: list[str] = field(default_factory=list)
    trail_name: str | None = None
    trail_bucket: str | None = None
    topic_arn: str | None = None
    alert_emails: list[str] = field(default_factory=list)
    journal_dir: Path = DEFAULT_DIR
    now: datetime | None = None


@dataclass
class Planning:
    """Everything a per-action planner needs."""

    ctx: RemediationContext
    session: boto3.Session
    audit_config: AuditConfig
    config: RemediateConfig
    options: PlanOptions
    now: datetime
    findings: dict[str, Finding]  # by check id: the PASS, FAIL (unmuted part) or ERROR result
    muted: dict[str, list[Finding]] = field(default_factory=dict)  # accepted risks, by check
    steps: list[Step] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def failed(self, *check_ids: str) -> list[Finding]:
        """The FAIL findings among ``check_ids``."""
        return [self.findings[c] for c in check_ids
                if c in self.findings and self.findings[c].status is Status.FAIL]

    def selected(self, check_id: str) -> bool:
        """True when ``check_id`` was part of the audit."""
        return check_id in self.findings or check_id in self.muted

    def muted_users(self, check_id: str) -> set[str]:
        """Users whose failure of ``check_id`` is an accepted risk (left alone by every fix)."""
        return {r.details.get("user_name") or r.name or ""
                for f in self.muted.get(check_id, []) for r in f.resources} - {""}

    def step(self, action: str, handler: str, target: str, calls: list[ApiCall],
             args: dict[str, Any], checks: list[str], why: str = "") -> None:
        """Add a step (its reversibility comes from actions.yaml)."""
        self.steps.append(Step(action=action, handler=handler, target=target, calls=calls,
                               args=args, checks=checks, why=why,
                               reversible=handler_spec(action, handler).reversible))

    def note(self, message: str, **kw: Any) -> None:
        """Add a note (something not changed, and why)."""
        self.notes.append(Note(message=message, **kw))


def _call(service: str, operation: str, region: str, **params: Any) -> ApiCall:
    return ApiCall(service=service, operation=operation, region=region, params=params)


def _ids(findings: list[Finding]) -> list[str]:
    return [f.rule_id for f in findings]


# --- password policy and passwords -----------------------------------------------------------

def merge_password_policy(current: dict[str, Any] | None, want: PasswordPolicyConfig,
                          flags: PasswordFlags) -> dict[str, Any]:
    """The configured policy, keeping every stricter setting of ``current``.

    Per field: the larger length and reuse count, the smaller non-zero maximum age, and any
    requirement that either side turns on.
    """
    cur = current or {}
    ages = [a for a in (cur.get("MaxPasswordAge"), want.max_age_days) if a]
    merged = {
        "MinimumPasswordLength": max(cur.get("MinimumPasswordLength") or 0, want.minimum_length),
        "RequireSymbols": bool(cur.get("RequireSymbols")) or flags.require_symbols,
        "RequireNumbers": bool(cur.get("RequireNumbers")) or flags.require_numbers,
        "RequireUppercaseCharacters":
            bool(cur.get("RequireUppercaseCharacters")) or flags.require_uppercase,
        "RequireLowercaseCharacters":
            bool(cur.get("RequireLowercaseCharacters")) or flags.require_lowercase,
        "AllowUsersToChangePassword":
            bool(cur.get("AllowUsersToChangePassword")) or flags.allow_users_to_change,
        "MaxPasswordAge": min(ages) if ages else None,
        "PasswordReusePrevention": max(cur.get("PasswordReusePrevention") or 0,
                                       want.reuse_prevention or 0),
        "HardExpiry": bool(cur.get("HardExpiry")) or flags.hard_expiry,
    }
    return h.password_policy_params(merged)  # 0 = off is sent as "omitted", as the API wants


def _policy_ids() -> list[str]:
    return [c for c, m in load_catalog().items() if m.remediation == "password-policy"]


def plan_password_policy(p: Planning) -> None:
    """Set the merged password policy when a password-policy check fails."""
    failed = p.failed(*_policy_ids())
    if not failed:
        return
    current = h.read_password_policy(p.ctx)
    want = merge_password_policy(current, p.audit_config.password_policy,
                                 p.config.password_policy)
    if h.same_password_policy(current, want):
        return
    p.step("password-policy", "password_policy", "account password policy",
           [_call("iam", "UpdateAccountPasswordPolicy", p.ctx.region, **want)], {},
           _ids(failed), why="no policy" if current is None else "weaker than configured")


def plan_password_reset(p: Planning) -> None:
    """Require a reset for unused passwords and passwords older than the maximum age."""
    if not p.selected("iam_user_console_access_unused"):
        return
    why: dict[str, str] = {}
    for f in p.failed("iam_user_console_access_unused"):
        for r in f.resources:
            user = r.details.get("user_name") or r.name
            if user:
                why[user] = f"password unused for {r.details.get('days_unused')} days"
    current = h.read_password_policy(p.ctx) or {}
    max_age = min(a for a in (current.get("MaxPasswordAge"),
                              p.audit_config.password_policy.max_age_days) if a)
    actx = AuditContext(p.session, p.audit_config, now=p.now)
    accepted = p.muted_users("iam_user_console_access_unused")
    for row in credential_report(actx):
        if row.is_root or not row.password_enabled or row.user in why or row.user in accepted:
            continue
        changed = row.password_last_changed or row.created
        if changed is not None and (p.now - changed).days > max_age:
            why[row.user] = f"password older than {max_age} days"
    for user in sorted(why):
        step = Step(action="require-password-reset", handler="login_profile_reset",
                    target=f"user {user}", calls=[], args={"UserName": user})
        state = h.HANDLERS["login_profile_reset"].read(p.ctx, step)
        if state.get("PasswordResetRequired"):
            p.note("password reset already required at next sign-in",
                   check="iam_user_console_access_unused", target=f"user {user}")
        if not state["login_profile"] or state["PasswordResetRequired"]:
            continue
        p.step("require-password-reset", "login_profile_reset", f"user {user}",
               [_call("iam", "UpdateLoginProfile", p.ctx.region, UserName=user,
                      PasswordResetRequired=True)],
               {"UserName": user}, ["iam_user_console_access_unused"], why=why[user])


# --- MFA -------------------------------------------------------------------------------------

def plan_mfa(p: Planning) -> None:
    """Create the deny-without-MFA policy once and attach it to console users without MFA."""
    failed = p.failed("iam_user_mfa_enabled_console_access")
    if not failed:
        return
    name = p.config.names.mfa_policy
    arn = f"arn:aws:iam::{p.ctx.account_id}:policy/{name}"
    probe = Step(action="mfa-enforce-policy", handler="managed_policy_create", target=name,
                 calls=[], args={"PolicyArn": arn})
    users = sorted({r.details.get("user_name") or r.name for r in failed[0].resources} - {None})
    if p.ctx.caller_user in users:
        users.remove(p.ctx.caller_user)
        p.note("not attached: trailguard runs as this user without MFA and would deny itself "
               "the rest of the run; enrol MFA for it or run as another principal",
               target=f"user {p.ctx.caller_user}", action="mfa-enforce-policy")
    todo = []
    for user in users:
        probe_attach = Step(action="mfa-enforce-policy", handler="user_policy_attach",
                            target=user, calls=[], args={"UserName": user, "PolicyArn": arn})
        if not h.HANDLERS["user_policy_attach"].read(p.ctx, probe_attach)["attached"]:
            todo.append(user)
        else:
            p.note(f"{name} is attached; the user must enrol an MFA device (only they can)",
                   check="iam_user_mfa_enabled_console_access", target=f"user {user}")
    if not todo:
        return
    if not h.HANDLERS["managed_policy_create"].read(p.ctx, probe)["exists"]:
        doc = json.dumps(policy_document("require-mfa"), separators=(",", ":"))
        p.step("mfa-enforce-policy", "managed_policy_create", f"policy {name}",
               [_call("iam", "CreatePolicy", p.ctx.region, PolicyName=name, PolicyDocument=doc,
                      Description="trailguard: deny all but MFA self-enrolment until MFA is used")],
               {"PolicyArn": arn}, ["iam_user_mfa_enabled_console_access"])
    for user in todo:
        p.step("mfa-enforce-policy", "user_policy_attach", f"user {user}",
               [_call("iam", "AttachUserPolicy", p.ctx.region, UserName=user, PolicyArn=arn)],
               {"UserName": user, "PolicyArn": arn}, ["iam_user_mfa_enabled_console_access"],
               why="console password without MFA")


# --- access keys, SSH keys, certificates -------------------------------------------------------

_KEY_CHECKS = ("iam_user_accesskey_unused", "iam_rotate_access_key_90_days",
               "iam_user_two_active_access_key")


def plan_access_keys(p: Planning) -> None:
    """Deactivate each failing key, by its own id."""
    keys: dict[str, dict[str, Any]] = {}
    for f in p.failed(*_KEY_CHECKS):
        for r in f.resources:
            d = r.details
            if f.rule_id == "iam_user_two_active_access_key":
                kid, user = d.get("suggested_key_to_deactivate"), d.get("user_name")
                reason = "second active key (the less recently used one)"
            else:
                kid, user = d.get("access_key_id"), d.get("user_name")
                reason = (f"unused for {d['days_unused']} days" if "days_unused" in d
                          else f"created {d.get('age_days')} days ago")
            if not kid:
                p.note("access key id unknown; not deactivated", check=f.rule_id,
                       target=r.id, action="deactivate-access-key")
                continue
            entry = keys.setdefault(kid, {"user": user, "checks": [], "why": []})
            entry["checks"].append(f.rule_id)
            entry["why"].append(reason)
    for kid, e in keys.items():
        if kid == p.ctx.caller_key:
            p.note("not deactivated: trailguard is running with this key (it would lock "
                   "itself out); switch credentials, then run again", target=kid,
                   action="deactivate-access-key")
            continue
        args = {"UserName": e["user"], "AccessKeyId": kid}
        probe = Step(action="deactivate-access-key", handler="access_key_status", target=kid,
                     calls=[], args=args)
        if h.HANDLERS["access_key_status"].read(p.ctx, probe)["status"] != "Active":
            continue
        p.step("deactivate-access-key", "access_key_status", f"key {kid} of {e['user']}",
               [_call("iam", "UpdateAccessKey", p.ctx.region, Status="Inactive", **args)],
               args, e["checks"], why="; ".join(dict.fromkeys(e["why"])))


def key_deactivated_at(key_id: str, account_id: str, journal_dir: Path) -> datetime | None:
    """When a trailguard journal last recorded deactivating ``key_id`` (None: never, or undone).

    Only completed deactivations of apply journals of this account count; any later undo of
    the key (which restores its previous status) cancels them.
    """
    events: list[tuple[str, bool]] = []
    for j in iter_journals(journal_dir):
        if j.header.get("account_id") != account_id:
            continue
        for e in j.entries:
            if e.step.handler != "access_key_status" or e.step.args.get("AccessKeyId") != key_id:
                continue
            if j.header.get("kind") == "undo":
                events.append((e.time, False))
            elif e.done and e.step.calls and e.step.calls[0].params.get("Status") == "Inactive":
                events.append((e.time, True))
    if not events:
        return None
    t, deactivated = max(events)
    return datetime.fromisoformat(t) if deactivated else None


def plan_key_deletions(p: Planning) -> None:
    """Delete the named keys that are eligible; refuse (with the reason) the others."""
    days = p.config.access_keys.delete_after_inactive_days
    iam = p.ctx.client("iam")
    for kid in dict.fromkeys(p.options.delete_keys):
        try:
            user = iam.get_access_key_last_used(AccessKeyId=kid).get("UserName")
        except ClientError as exc:
            p.note(f"not deleted: {describe_error(exc)}", target=kid, action="delete-access-key")
            continue
        args = {"UserName": user, "AccessKeyId": kid}
        probe = Step(action="delete-access-key", handler="access_key_delete", target=kid,
                     calls=[], args=args)
        state = h.HANDLERS["access_key_delete"].read(p.ctx, probe)
        refuse = None
        since = key_deactivated_at(kid, p.ctx.account_id, p.options.journal_dir)
        if state["status"] != "Inactive":
            refuse = f"key is {state['status'] or 'not found'}, not Inactive"
        elif since is None:
            refuse = (f"no trailguard journal in {p.options.journal_dir} records deactivating "
                      "it, so how long it has been inactive is unknown")
        elif (p.now - since).days < days:
            refuse = f"inactive only since {since:%Y-%m-%d} (needs {days} days)"
        elif state["last_used"] and (
                p.now - datetime.fromisoformat(state["last_used"])).days < days:
            refuse = f"used on {state['last_used'][:10]}, less than {days} days ago"
        if refuse:
            p.note(f"not deleted: {refuse}", target=kid, action="delete-access-key")
            continue
        p.step("delete-access-key", "access_key_delete", f"key {kid} of {user}",
               [_call("iam", "DeleteAccessKey", p.ctx.region, **args)], args, [],
               why=f"named with --delete-inactive-keys; inactive since {since:%Y-%m-%d}")


def _plan_deactivations(p: Planning, check: str, action: str, handler: str, id_key: str,
                        id_detail: str, operation: str, label: str) -> None:
    """Set Inactive each failing resource of ``check`` that is still Active right now."""
    for f in p.failed(check):
        for r in f.resources:
            args = {"UserName": r.details["user_name"], id_key: r.details[id_detail]}
            probe = Step(action=action, handler=handler, target=r.id, calls=[], args=args)
            if h.HANDLERS[handler].read(p.ctx, probe)["status"] != "Active":
                continue
            p.step(action, handler, f"{label} {args[id_key]} of {args['UserName']}",
                   [_call("iam", operation, p.ctx.region, Status="Inactive", **args)],
                   args, [f.rule_id], why="user inactive")


def plan_ssh_keys(p: Planning) -> None:
    """Deactivate active SSH public keys of inactive users."""
    _plan_deactivations(p, "iam_user_ssh_public_key_inactive_user", "deactivate-ssh-public-key",
                        "ssh_key_status", "SSHPublicKeyId", "ssh_public_key_id",
                        "UpdateSSHPublicKey", "SSH key")


def plan_certificates(p: Planning) -> None:
    """Deactivate active signing certificates of inactive users."""
    _plan_deactivations(p, "iam_user_signing_certificate_inactive_user",
                        "deactivate-signing-certificate", "certificate_status", "CertificateId",
                        "certificate_id", "UpdateSigningCertificate", "certificate")


# --- CloudTrail ------------------------------------------------------------------------------

_TRAIL_CHECKS = ("cloudtrail_multi_region_enabled",
                 "cloudtrail_multi_region_enabled_logging_management_events",
                 "cloudtrail_log_file_validation_enabled")


def cloudtrail_bucket_statements(bucket: str, trail_arn: str, account_id: str
                                 ) -> list[dict[str, Any]]:
    """The two statements CloudTrail needs on its bucket, scoped to one trail (aws:SourceArn)."""
    principal = {"Service": "cloudtrail.amazonaws.com"}
    return [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": principal,
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}",
         "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": principal,
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{account_id}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                        "aws:SourceArn": trail_arn}}},
    ]


def merge_statements(policy: dict[str, Any] | None, wanted: list[dict[str, Any]],
                     suffix: str) -> dict[str, Any] | None:
    """``policy`` plus ``wanted`` statements; None when it already has them all.

    A statement whose Sid is taken by a different statement is added under ``Sid+suffix``
    (another trail or topic may rely on the existing one).
    """
    doc = json.loads(json.dumps(policy)) if policy else {"Version": "2012-10-17", "Statement": []}
    stmts = doc.setdefault("Statement", [])
    if isinstance(stmts, dict):
        stmts = doc["Statement"] = [stmts]
    changed = False
    for s in wanted:
        if s in stmts:
            continue
        by_sid = {x.get("Sid"): x for x in stmts}
        if s["Sid"] in by_sid:
            s = {**s, "Sid": s["Sid"] + suffix}
            if by_sid.get(s["Sid"]) == s:
                continue
            stmts[:] = [x for x in stmts if x.get("Sid") != s["Sid"]]
        stmts.append(s)
        changed = True
    return doc if changed else None


def _management_selectors(current: dict[str, Any]) -> dict[str, Any]:
    """Selectors that add all management events to the trail's existing ones."""
    if current.get("AdvancedEventSelectors"):
        extra = {"Name": "trailguard: management events",
                 "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}
        return {"AdvancedEventSelectors": [*current["AdvancedEventSelectors"], extra]}
    extra = {"ReadWriteType": "All", "IncludeManagementEvents": True}
    return {"EventSelectors": [*(current.get("EventSelectors") or []), extra]}


def plan_cloudtrail(p: Planning) -> None:
    """Fix an existing trail of this region, or create a multi-region trail and its bucket."""
    for cid, how in _NOT_FIXED.items():
        if p.failed(cid):
            p.note(f"not automated: {how}", check=cid, action="cloudtrail-enable")
    failed = p.failed(*_TRAIL_CHECKS)
    if not failed:
        return
    checks, region, acct = _ids(failed), p.ctx.region, p.ctx.account_id
    ct = p.ctx.client("cloudtrail")
    local = [t for t in ct.describe_trails(includeShadowTrails=False).get("trailList", [])
             if t.get("HomeRegion", region) == region]
    name = p.options.trail_name
    if name:
        trail = next((t for t in local if t["Name"] == name), None)
    else:
        trail = next((t for t in local if t.get("IsMultiRegionTrail")), None) or (
            local[0] if local else None)
        name = trail["Name"] if trail else p.config.names.trail
    args = {"Name": name}
    if trail is not None:
        flags = {p_: True for p_, f in h.TRAIL_FLAGS.items() if not trail.get(f)}
        if flags:
            p.step("cloudtrail-enable", "trail_update", f"trail {name}",
                   [_call("cloudtrail", "UpdateTrail", region, Name=name, **flags)], args,
                   checks, why="missing: " + ", ".join(flags))
        selectors = ct.get_event_selectors(TrailName=name)
        if not records_management_writes(selectors):
            cur = {k: selectors[k] for k in ("EventSelectors", "AdvancedEventSelectors")
                   if selectors.get(k)}
            p.step("cloudtrail-enable", "trail_selectors", f"trail {name}",
                   [_call("cloudtrail", "PutEventSelectors", region, TrailName=name,
                          **_management_selectors(cur))], args, checks,
                   why="write management events not recorded")
        if not ct.get_trail_status(Name=name).get("IsLogging"):
            p.step("cloudtrail-enable", "trail_logging", f"trail {name}",
                   [_call("cloudtrail", "StartLogging", region, Name=name)], args, checks,
                   why="not logging")
        return
    bucket = p.options.trail_bucket or f"trailguard-cloudtrail-{acct}-{region}"
    trail_arn = f"arn:aws:cloudtrail:{region}:{acct}:trail/{name}"
    exists = h.bucket_exists(p.ctx, bucket)
    if not exists:
        create: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            create["CreateBucketConfiguration"] = {"LocationConstraint": region}
        block = {k: True for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                   "RestrictPublicBuckets")}
        p.step("cloudtrail-enable", "bucket_create", f"bucket {bucket}",
               [_call("s3", "CreateBucket", region, **create),
                _call("s3", "PutPublicAccessBlock", region, Bucket=bucket,
                      PublicAccessBlockConfiguration=block)],
               {"Bucket": bucket}, checks, why="log bucket for the new trail")
    current = h.read_bucket_policy(p.ctx, bucket) if exists else None
    merged = merge_statements(current, cloudtrail_bucket_statements(bucket, trail_arn, acct),
                              "Trailguard")
    if merged is not None:
        p.step("cloudtrail-enable", "bucket_policy", f"bucket {bucket}",
               [_call("s3", "PutBucketPolicy", region, Bucket=bucket,
                      Policy=json.dumps(merged, separators=(",", ":")))],
               {"Bucket": bucket}, checks, why="let CloudTrail deliver to the bucket")
    p.step("cloudtrail-enable", "trail_create", f"trail {name}",
           [_call("cloudtrail", "CreateTrail", region, Name=name, S3BucketName=bucket,
                  IsMultiRegionTrail=True, IncludeGlobalServiceEvents=True,
                  EnableLogFileValidation=True)],
           args, checks, why="no trail in this region to fix")
    p.step("cloudtrail-enable", "trail_logging", f"trail {name}",
           [_call("cloudtrail", "StartLogging", region, Name=name)], args, checks,
           why="a new trail does not log until started")


# --- alerting --------------------------------------------------------------------------------

def _alerting_ids() -> list[str]:
    return [c for c, m in load_catalog().items() if m.remediation == "alerting-rule"]


def topic_statements(topic_arn: str, rule_arn: str, account_id: str, new: bool
                     ) -> list[dict[str, Any]]:
    """The statement letting the rule publish (and, for a new topic, the owner's rights)."""
    out = []
    if new:
        out.append({"Sid": "OwnerFullControl", "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                    "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes",
                               "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic",
                               "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
                    "Resource": topic_arn})
    out.append({"Sid": "AllowEventBridgeTrailguardRule", "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish",
                "Resource": topic_arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}})
    return out


FORWARD_POLICY = "forward-to-alert-bus"  # inline policy name on the forwarding role


def alerting_rule_regions(p: Planning, hub: str) -> dict[str, str]:
    """Region -> why it needs an alerting rule: the topic's region, us-east-1, every home region
    of the account's trails, the region of a trail this plan creates, and every other region
    the audit reads (the session region, or ``alerting.regions``), where root calls to regional
    services reach EventBridge. The same regions the alerting checks require.

    Raises CheckError when the trails cannot be listed.
    """
    actx = AuditContext(p.session, p.audit_config, now=p.now, account_id=p.ctx.account_id)
    why = {hub: "the alert topic's region", GLOBAL_REGION: "IAM and sign-in events reach "
           "EventBridge in us-east-1 only"}
    homes = {r: list(n) for r, n in trail_home_regions(actx).items()}
    for s in p.steps:
        if s.handler == "trail_create":
            homes.setdefault(s.calls[0].region, []).append(f"{s.args['Name']} (planned)")
    for region, names in homes.items():
        why.setdefault(region, f"home region of trail {', '.join(names)}: calls on it reach "
                               "EventBridge here only")
    for region, audited in region_reasons(actx).items():
        why.setdefault(region, f"audited as {audited}: root calls to regional services made "
                               "here reach EventBridge here only")
    return why


def _trusts_eventbridge(trust: dict[str, Any]) -> bool:
    stmts = trust.get("Statement") or []
    for s in [stmts] if isinstance(stmts, dict) else stmts:
        svc = (s.get("Principal") or {}).get("Service") if isinstance(
            s.get("Principal"), dict) else None
        svcs = [svc] if isinstance(svc, str) else (svc or [])
        if s.get("Effect") == "Allow" and "events.amazonaws.com" in svcs:
            return True
    return False


def _plan_forward_role(p: Planning, bus_arn: str, checks: list[str]) -> str | None:
    """Plan the role EventBridge assumes to put events on ``bus_arn``; return its ARN.

    None (with a note) when a role of that name exists but does not trust EventBridge: it is
    someone else's, and is left unchanged.
    """
    name, acct = p.config.names.forward_role, p.ctx.account_id
    role = h.read_role(p.ctx, name)
    args = {"RoleName": name}
    if role is None:
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": acct}}}]}
        p.step("alerting-rule", "role_create", f"role {name}",
               [_call("iam", "CreateRole", p.ctx.region, RoleName=name,
                      AssumeRolePolicyDocument=json.dumps(trust, separators=(",", ":")),
                      Description="trailguard: EventBridge forwards alerting events to the "
                                  "alert topic's region")],
               args, checks, why="EventBridge needs a role to put events on another region's bus")
    elif not _trusts_eventbridge(role["AssumeRolePolicyDocument"]):
        p.note("a role of this name exists but does not trust events.amazonaws.com; it is left "
               "unchanged and no forwarding rule is planned (set remediate.names.forward_role "
               "to another name)", target=f"role {name}", action="alerting-rule")
        return None
    doc = {"Version": "2012-10-17", "Statement": [{
        "Sid": "PutEventsOnAlertBus", "Effect": "Allow", "Action": "events:PutEvents",
        "Resource": bus_arn}]}
    if role is None or h.read_role_policy(p.ctx, name, FORWARD_POLICY) != doc:
        p.step("alerting-rule", "role_policy", f"role {name}",
               [_call("iam", "PutRolePolicy", p.ctx.region, RoleName=name,
                      PolicyName=FORWARD_POLICY,
                      PolicyDocument=json.dumps(doc, separators=(",", ":")))],
               {**args, "PolicyName": FORWARD_POLICY}, checks,
               why=f"allow events:PutEvents on {bus_arn} only")
    return role["Arn"] if role else f"arn:aws:iam::{acct}:role/{name}"


def _plan_rule(p: Planning, region: str, pattern: dict[str, Any], description: str,
               target: dict[str, str], checks: list[str], why: str, target_why: str) -> None:
    """Plan the trailguard rule of ``region`` with ``pattern`` and its one ``target``."""
    name = p.config.names.rule
    rule = h.read_rule(p.ctx, name, region)
    if rule is None or json.loads(rule.get("EventPattern", "{}")) != pattern or \
            rule.get("State") != "ENABLED":
        p.step("alerting-rule", "rule_put", f"rule {name} ({region})",
               [_call("events", "PutRule", region, Name=name,
                      EventPattern=json.dumps(pattern, separators=(",", ":")), State="ENABLED",
                      Description=description)],
               {"Name": name, "Region": region}, checks, why=why)
    targets = [] if rule is None else h._targets(p.ctx, name, region)
    mine = [t for t in targets if t["Id"] == target["Id"]]
    if not mine or any(mine[0].get(k) != v for k, v in target.items()):
        p.step("alerting-rule", "rule_targets", f"rule {name} ({region})",
               [_call("events", "PutTargets", region, Rule=name, Targets=[target])],
               {"Rule": name, "Region": region, "TargetId": target["Id"]}, checks,
               why=target_why)


def plan_alerting(p: Planning) -> None:
    """EventBridge rules on the high-severity events, reaching one SNS topic from every region
    where they are delivered.

    The rule of the topic's region targets the topic; the rules of us-east-1 (IAM, sign-in),
    of every trail's home region (calls on the trail) and of every other audited region (root
    calls to regional services) forward to the default event bus of the topic's region, through
    a role EventBridge assumes. One topic, one set of subscribers.
    """
    failed = p.failed(*_alerting_ids())
    if not failed:
        return
    checks, acct, names = _ids(failed), p.ctx.account_id, p.config.names
    topic_arn = p.options.topic_arn or f"arn:aws:sns:{GLOBAL_REGION}:{acct}:{names.topic}"
    hub = topic_arn.split(":")[3]
    rule_arn = f"arn:aws:events:{hub}:{acct}:rule/{names.rule}"
    try:
        regions = alerting_rule_regions(p, hub)
    except CheckError as exc:
        p.note(f"trails could not be listed, so the regions that need a rule are unknown; "
               f"alerting not planned: {exc}", action="alerting-rule")
        return
    policy = h.read_topic_policy(p.ctx, topic_arn, hub)
    topic_args = {"TopicArn": topic_arn, "Region": hub}
    if policy is None:
        if p.options.topic_arn:
            p.note("the given SNS topic does not exist; alerting not planned",
                   target=topic_arn, action="alerting-rule")
            return
        p.step("alerting-rule", "topic_create", f"topic {names.topic}",
               [_call("sns", "CreateTopic", hub, Name=names.topic)], topic_args, checks,
               why="alerts need a destination (subscribe your team to it)")
    merged = merge_statements(policy, topic_statements(topic_arn, rule_arn, acct, policy is None),
                              "Trailguard")
    if merged is not None:
        p.step("alerting-rule", "topic_policy", f"topic {topic_arn}",
               [_call("sns", "SetTopicAttributes", hub, TopicArn=topic_arn,
                      AttributeName="Policy",
                      AttributeValue=json.dumps(merged, separators=(",", ":")))],
               topic_args, checks, why="let EventBridge publish to the topic")
    subs = [] if policy is None else h.topic_subscriptions(p.ctx, topic_arn, hub)
    have = {x.get("Endpoint") for x in subs}
    for email in p.options.alert_emails:
        if email not in have:
            p.step("alerting-rule", "topic_subscribe", f"topic {topic_arn}",
                   [_call("sns", "Subscribe", hub, TopicArn=topic_arn,
                          Protocol="email", Endpoint=email)],
                   {**topic_args, "Endpoint": email}, checks,
                   why="alerts reach someone only once a subscriber confirms")
    if not p.options.alert_emails and not any(
            x.get("SubscriptionArn", "").startswith("arn:") for x in subs):
        p.note("the alert topic has no confirmed subscription, so alerts reach no one: "
               "rerun with --alert-email ADDRESS, or subscribe your team to the topic",
               target=topic_arn, action="alerting-rule")
    uncovered = ", ".join(dict.fromkeys(e for f in failed for r in f.resources
                                        for e in r.details.get("uncovered_events", [])))
    _plan_rule(p, hub, alerting_pattern(),
               "trailguard: high-severity CloudTrail events (credentials, MFA, password policy, "
               "CloudTrail changes, root, sign-in without MFA)",
               {"Id": names.target_id, "Arn": topic_arn}, checks,
               why=f"uncovered: {uncovered}" if uncovered else regions[hub],
               target_why="send matches to the topic")
    others = [r for r in regions if r != hub]
    if not others:
        return
    bus_arn = f"arn:aws:events:{hub}:{acct}:event-bus/default"
    role_arn = _plan_forward_role(p, bus_arn, checks)
    if role_arn is None:
        return
    for region in others:
        full = region == GLOBAL_REGION
        _plan_rule(p, region, alerting_pattern() if full else regional_alerting_pattern(),
                   f"trailguard: forward high-severity CloudTrail events to {hub}, where "
                   "they reach the alert topic",
                   {"Id": names.forward_target_id, "Arn": bus_arn, "RoleArn": role_arn}, checks,
                   why=regions[region],
                   target_why=f"forward matches to the default event bus of {hub}")


PLANNERS: dict[str, Callable[[Planning], None]] = {
    "password-policy": plan_password_policy,
    "require-password-reset": plan_password_reset,
    "mfa-enforce-policy": plan_mfa,
    "deactivate-access-key": plan_access_keys,
    "delete-access-key": plan_key_deletions,
    "deactivate-ssh-public-key": plan_ssh_keys,
    "deactivate-signing-certificate": plan_certificates,
    "cloudtrail-enable": plan_cloudtrail,
    "alerting-rule": plan_alerting,
}


def build_plan(session: boto3.Session, audit_config: AuditConfig, config: RemediateConfig,
               options: PlanOptions) -> tuple[Plan, list[Finding]]:
    """Audit the account (read-only), then plan the steps that fix what failed.

    The audit config's exceptions apply first: a MUTED resource (an accepted risk) gets no
    step, only a note saying why. Returns the validated plan and the audit findings it was
    made from (exceptions applied). Nothing is changed.
    """
    now = options.now or datetime.now(UTC)
    findings = run_audit(session, audit_config, options.check_ids, now=now)
    findings = apply_exceptions(findings, audit_config.exceptions, now.date()).findings
    ctx = RemediationContext(session)
    p = Planning(ctx=ctx, session=session, audit_config=audit_config, config=config,
                 options=options, now=now,
                 findings={f.rule_id: f for f in findings if f.status is not Status.MUTED})
    catalog = load_catalog()
    for f in findings:
        if f.status is Status.MUTED:
            p.muted.setdefault(f.rule_id, []).append(f)
            for r in f.resources:
                p.note(f"not fixed: {f.reason}", check=f.rule_id, target=r.name or r.id)
        elif f.status is Status.ERROR:
            p.note(f"check could not run, so nothing is planned for it: {f.reason}",
                   check=f.rule_id)
        elif f.status is Status.FAIL and not f.remediation:
            p.note(f"manual fix: {catalog[f.rule_id].recommendation}", check=f.rule_id)
    for action in ORDER:
        if action == "delete-access-key" and not options.delete_keys:
            continue
        try:
            PLANNERS[action](p)
        except (ClientError, BotoCoreError) as exc:
            p.note(f"could not plan: {describe_error(exc)}", action=action)
    plan = Plan(account_id=ctx.account_id, region=ctx.region, created=datetime.now(UTC),
                failed_checks=list(dict.fromkeys(
                    f.rule_id for f in findings if f.status is Status.FAIL)),
                steps=p.steps, notes=p.notes)
    return validate_plan(plan), findings

