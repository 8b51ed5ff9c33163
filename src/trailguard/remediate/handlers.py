"""Per step kind: how to read the state before a change, and how to put it back.

Applying a step runs exactly the API calls of the plan (RemediationContext.call). What differs
between kinds is only what to read first (``read``: recorded in the journal before the change)
and how undo restores that recorded state (``undo``). Undo functions are idempotent: running
them on an account that is already back in the recorded state changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from trailguard.remediate.context import RemediationContext, error_code
from trailguard.remediate.schema import Step

ReadFn = Callable[[RemediationContext, Step], dict[str, Any]]
UndoFn = Callable[[RemediationContext, Step, dict[str, Any]], list[str]]
T = TypeVar("T")

PASSWORD_POLICY_FIELDS = (
    "MinimumPasswordLength", "RequireSymbols", "RequireNumbers", "RequireUppercaseCharacters",
    "RequireLowercaseCharacters", "AllowUsersToChangePassword", "MaxPasswordAge",
    "PasswordReusePrevention", "HardExpiry",
)
# Integer fields whose "off" state AWS reports as 0 or leaves out, while the API accepts only
# values from its minimum up: an omitted parameter is set to the AWS default, which is "off".
_POLICY_MINIMUMS = {"MinimumPasswordLength": 6, "MaxPasswordAge": 1, "PasswordReusePrevention": 1}
_GONE = ("NoSuchEntity", "NoSuchBucket", "NoSuchBucketPolicy", "TrailNotFoundException",
         "ResourceNotFoundException", "NotFound", "NotFoundException", "404")


@dataclass(frozen=True)
class Handler:
    """How one kind of step reads its before-state and undoes itself."""

    read: ReadFn
    undo: UndoFn


HANDLERS: dict[str, Handler] = {}


def handler(name: str) -> Callable[[type], type]:
    """Register a class with static ``read`` and ``undo`` as the handler ``name``."""

    def deco(cls: type) -> type:
        HANDLERS[name] = Handler(read=cls.read, undo=cls.undo)
        return cls

    return deco


def _gone(exc: ClientError) -> bool:
    return error_code(exc) in _GONE


def _unless_missing(call: Callable[[], T], codes: tuple[str, ...]) -> T | None:
    """What ``call`` returns, or None when it fails with one of the not-found error ``codes``."""
    try:
        return call()
    except ClientError as exc:
        if error_code(exc) in codes:
            return None
        raise


def _unless_gone(action: Callable[[], Any], done: str, gone: str) -> list[str]:
    """Run one undo ``action``: note ``done``, or ``gone`` when its resource no longer exists."""
    try:
        action()
    except ClientError as exc:
        if not _gone(exc):
            raise
        return [gone]
    return [done]


def _iam(ctx: RemediationContext) -> Any:
    return ctx.client("iam")


# --- IAM -----------------------------------------------------------------------------------

def read_password_policy(ctx: RemediationContext) -> dict[str, Any] | None:
    """The account password policy (only the settable fields), or None when none is set."""
    policy = _unless_missing(lambda: _iam(ctx).get_account_password_policy()["PasswordPolicy"],
                             ("NoSuchEntity",))
    if policy is None:
        return None
    return {k: policy[k] for k in PASSWORD_POLICY_FIELDS if k in policy}


def password_policy_params(policy: dict[str, Any]) -> dict[str, Any]:
    """UpdateAccountPasswordPolicy parameters that set exactly ``policy``.

    ``policy`` is in GetAccountPasswordPolicy form (or as a journal recorded it): "no expiry" is
    MaxPasswordAge 0 or absent, "no reuse prevention" PasswordReusePrevention 0 or absent. The
    API rejects 0 (minimum 1) and sets every omitted parameter to its default, so 0/None integers
    are left out (default = off), read-only fields (ExpirePasswords) are dropped, and every
    boolean is passed explicitly.
    """
    params: dict[str, Any] = {}
    for key in PASSWORD_POLICY_FIELDS:
        value = policy.get(key)
        if key in _POLICY_MINIMUMS:
            if value is None or isinstance(value, bool) or int(value) < _POLICY_MINIMUMS[key]:
                continue
            params[key] = int(value)
        else:
            params[key] = bool(value)
    return params


def same_password_policy(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """True when two policies (GetAccountPasswordPolicy form, or None) have the same effect."""
    if a is None or b is None:
        return a is None and b is None
    return password_policy_params(a) == password_policy_params(b)


@handler("password_policy")
class _PasswordPolicy:
    @staticmethod
    def read(ctx: RemediationContext, step: Step) -> dict[str, Any]:
        return {"policy": read_password_policy(ctx)}

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        previous = before.get("policy")
        if previous is None:
            note = "deleted the password policy (there was none before)"
            return _unless_gone(_iam(ctx).delete_account_password_policy, note, note)
        _iam(ctx).update_account_password_policy(**password_policy_params(previous))
        return ["restored the previous password policy"]


@handler("login_profile_reset")
class _LoginProfileReset:
    @staticmethod
    def read(ctx: RemediationContext, step: Step) -> dict[str, Any]:
        lp = _unless_missing(
            lambda: _iam(ctx).get_login_profile(UserName=step.args["UserName"])["LoginProfile"],
            ("NoSuchEntity",))
        if lp is None:
            return {"login_profile": False}
        return {"login_profile": True,
                "PasswordResetRequired": bool(lp.get("PasswordResetRequired"))}

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        user = step.args["UserName"]
        if not before.get("login_profile") or before.get("PasswordResetRequired"):
            return [f"{user}: nothing to restore"]
        now = _LoginProfileReset.read(ctx, step)
        if not now.get("login_profile"):
            return [f"{user}: has no login profile any more; nothing to restore"]
        if now.get("PasswordResetRequired"):
            _iam(ctx).update_login_profile(UserName=user, PasswordResetRequired=False)
        return [f"{user}: password reset no longer required"]


@handler("managed_policy_create")
class _ManagedPolicyCreate:
    @staticmethod
    def read(ctx: RemediationContext, step: Step) -> dict[str, Any]:
        policy = _unless_missing(lambda: _iam(ctx).get_policy(PolicyArn=step.args["PolicyArn"]),
                                 ("NoSuchEntity",))
        return {"exists": policy is not None}

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        arn = step.args["PolicyArn"]
        if before.get("exists"):
            return [f"{arn}: existed before; kept"]
        iam = _iam(ctx)
        if not _ManagedPolicyCreate.read(ctx, step)["exists"]:
            return [f"{arn}: already deleted"]
        ents = iam.list_entities_for_policy(PolicyArn=arn)
        kinds = ("PolicyUsers", "PolicyRoles", "PolicyGroups")
        attached = [e.get("UserName") or e.get("RoleName") or e.get("GroupName")
                    for k in kinds for e in ents.get(k, [])]
        if attached:
            return [f"{arn}: kept, still attached to {', '.join(attached)} (not by this journal)"]
        for v in iam.list_policy_versions(PolicyArn=arn).get("Versions", []):
            if not v.get("IsDefaultVersion"):
                iam.delete_policy_version(PolicyArn=arn, VersionId=v["VersionId"])
        iam.delete_policy(PolicyArn=arn)
        return [f"{arn}: deleted the policy trailguard created"]


@handler("user_policy_attach")
class _UserPolicyAttach:
    @staticmethod
    def read(ctx: RemediationContext, step: Step) -> dict[str, Any]:
        pages = _iam(ctx).get_paginator("list_attached_user_policies").paginate(
            UserName=step.args["UserName"])
        arns = [p["PolicyArn"] for page in pages for p in page.get("AttachedPolicies", [])]
        return {"attached": step.args["PolicyArn"] in arns}

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        user, arn = step.args["UserName"], step.args["PolicyArn"]
        if before.get("attached"):
            return [f"{user}: policy was attached before; kept"]
        return _unless_gone(lambda: _iam(ctx).detach_user_policy(UserName=user, PolicyArn=arn),
                            f"{user}: detached {arn}", f"{user}: policy already detached")


def _key_status(ctx: RemediationContext, user: str, key_id: str) -> str | None:
    pages = _iam(ctx).get_paginator("list_access_keys").paginate(UserName=user)
    for page in pages:
        for k in page.get("AccessKeyMetadata", []):
            if k["AccessKeyId"] == key_id:
                return str(k["Status"])
    return None


def _key_last_used(ctx: RemediationContext, key_id: str) -> str | None:
    resp = _unless_missing(lambda: _iam(ctx).get_access_key_last_used(AccessKeyId=key_id), _GONE)
    if resp is None:
        return None
    d = resp.get("AccessKeyLastUsed", {}).get("LastUsedDate")
    return d.isoformat() if d else None


def _restore_status(ident: str, previous: str | None, now: str | None,
                    update: Callable[[str], Any], gone: str = "no longer exists") -> list[str]:
    """Put a credential's Status back to ``previous`` (the journaled before-state)."""
    if previous is None:
        return [f"{ident}: did not exist before; nothing to restore"]
    if now is None:
        return [f"{ident}: {gone}; cannot restore"]
    if now != previous:
        update(previous)
    return [f"{ident}: status {previous}"]


@handler("access_key_status")
class _AccessKeyStatus:
    @staticmethod
    def read(ctx: RemediationContext, step: Step) -> dict[str, Any]:
        user, key = step.args["UserName"], step.args["AccessKeyId"]
        return {"status": _key_status(ctx, user, key), "last_used": _key_last_used(ctx, key)}

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        user, key = step.args["UserName"], step.args["AccessKeyId"]
        return _restore_status(
            key, before.get("status"), _key_status(ctx, user, key),
            lambda status: _iam(ctx).update_access_key(UserName=user, AccessKeyId=key,
                                                       Status=status),
            gone="no longer exists (deleted since)")


@handler("access_key_delete")
class _AccessKeyDelete:
    read = _AccessKeyStatus.read

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        return [f"{step.args['AccessKeyId']}: deleted at your request; a deleted access key "
                "cannot be restored (create a new one if it is needed)"]


@handler("ssh_key_status")
class _SshKeyStatus:
    @staticmethod
    def read(ctx: RemediationContext, step: Step) -> dict[str, Any]:
        k = _unless_missing(
            lambda: _iam(ctx).get_ssh_public_key(UserName=step.args["UserName"],
                                                 SSHPublicKeyId=step.args["SSHPublicKeyId"],
                                                 Encoding="SSH")["SSHPublicKey"],
            ("NoSuchEntity",))
        return {"status": None if k is None else k.get("Status")}

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        key = step.args["SSHPublicKeyId"]
        return _restore_status(
            key, before.get("status"), _SshKeyStatus.read(ctx, step).get("status"),
            lambda status: _iam(ctx).update_ssh_public_key(
                UserName=step.args["UserName"], SSHPublicKeyId=key, Status=status))


@handler("certificate_status")
class _CertificateStatus:
    @staticmethod
    def read(ctx: RemediationContext, step: Step) -> dict[str, Any]:
        pages = _iam(ctx).get_paginator("list_signing_certificates").paginate(
            UserName=step.args["UserName"])
        for page in pages:
            for c in page.get("Certificates", []):
                if c["CertificateId"] == step.args["CertificateId"]:
                    return {"status": c.get("Status")}
        return {"status": None}

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        cert = step.args["CertificateId"]
        return _restore_status(
            cert, before.get("status"), _CertificateStatus.read(ctx, step).get("status"),
            lambda status: _iam(ctx).update_signing_certificate(
                UserName=step.args["UserName"], CertificateId=cert, Status=status))


# --- S3 and CloudTrail -----------------------------------------------------------------------

def bucket_exists(ctx: RemediationContext, bucket: str) -> bool:
    """True when ``bucket`` exists (HeadBucket; 403 counts as existing: someone owns it)."""
    head = _unless_missing(lambda: ctx.client("s3").head_bucket(Bucket=bucket),
                           ("404", "NoSuchBucket", "NotFound"))
    return head is not None


def read_bucket_policy(ctx: RemediationContext, bucket: str) -> dict[str, Any] | None:
    """The bucket policy (parsed), or None when the bucket has none."""
    text = _unless_missing(lambda: ctx.client("s3").get_bucket_policy(Bucket=bucket)["Policy"],
                           ("NoSuchBucketPolicy", "NoSuchBucket"))
    return None if text is None else json.loads(text)


@handler("bucket_create")
class _BucketCreate:
    @staticmethod
    def read(ctx: RemediationContext, step: Step) -> dict[str, Any]:
        return {"exists": bucket_exists(ctx, step.args["Bucket"])}

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        if before.get("exists") or not bucket_exists(ctx, step.args["Bucket"]):
            return []
        return [f"s3://{step.args['Bucket']}: kept on purpose (it may hold CloudTrail log data; "
                "delete it yourself once you no longer need the logs)"]


@handler("bucket_policy")
class _BucketPolicy:
    @staticmethod
    def read(ctx: RemediationContext, step: Step) -> dict[str, Any]:
        return {"policy": read_bucket_policy(ctx, step.args["Bucket"])}

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        bucket, s3 = step.args["Bucket"], ctx.client("s3")
        try:
            if before.get("policy") is None:
                s3.delete_bucket_policy(Bucket=bucket)
                return [f"s3://{bucket}: bucket policy removed (there was none before)"]
            s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(before["policy"]))
        except ClientError as exc:
            if error_code(exc) == "NoSuchBucket":
                return [f"s3://{bucket}: bucket no longer exists"]
            raise
        return [f"s3://{bucket}: previous bucket policy restored"]


def read_trail(ctx: RemediationContext, name: str) -> dict[str, Any] | None:
    """GetTrail of ``name`` in the session region, or None when it does not exist."""
    return _unless_missing(lambda: ctx.client("cloudtrail").get_trail(Name=name)["Trail"],
                           ("TrailNotFoundException",))


@handler("trail_create")
class _TrailCreate:
    @staticmethod
    def read(ctx: RemediationContext, step: Step) -> dict[str, Any]:
        return {"exists": read_trail(ctx, step.args["Name"]) is not None}

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        name = step.args["Name"]
        if before.get("exists"):
            return [f"trail {name}: existed before; kept"]
        return _unless_gone(lambda: ctx.client("cloudtrail").delete_trail(Name=name),
                            f"trail {name}: deleted (its log files stay in the bucket)",
                            f"trail {name}: already deleted")


TRAIL_FLAGS = {  # UpdateTrail parameter -> GetTrail field
    "IsMultiRegionTrail": "IsMultiRegionTrail",
    "IncludeGlobalServiceEvents": "IncludeGlobalServiceEvents",
    "EnableLogFileValidation": "LogFileValidationEnabled",
}


@handler("trail_update")
class _TrailUpdate:
    @staticmethod
    def read(ctx: RemediationContext, step: Step) -> dict[str, Any]:
        trail = read_trail(ctx, step.args["Name"])
        if trail is None:
            return {"exists": False}
        return {"exists": True, **{p: bool(trail.get(f)) for p, f in TRAIL_FLAGS.items()}}

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        name = step.args["Name"]
        if not before.get("exists"):
            return [f"trail {name}: did not exist before"]
        if read_trail(ctx, name) is None:
            return [f"trail {name}: no longer exists"]
        ctx.client("cloudtrail").update_trail(Name=name, **{p: before[p] for p in TRAIL_FLAGS})
        return [f"trail {name}: previous settings restored"]


@handler("trail_selectors")
class _TrailSelectors:
    @staticmethod
    def read(ctx: RemediationContext, step: Step) -> dict[str, Any]:
        resp = ctx.client("cloudtrail").get_event_selectors(TrailName=step.args["Name"])
        return {k: resp[k] for k in ("EventSelectors", "AdvancedEventSelectors") if resp.get(k)}

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        name = step.args["Name"]
        if not before:
            return [f"trail {name}: had default selectors; kept the new ones (same effect)"]
        return _unless_gone(
            lambda: ctx.client("cloudtrail").put_event_selectors(TrailName=name, **before),
            f"trail {name}: previous event selectors restored", f"trail {name}: no longer exists")


@handler("trail_logging")
class _TrailLogging:
    @staticmethod
    def read(ctx: RemediationContext, step: Step) -> dict[str, Any]:
        status = _unless_missing(
            lambda: ctx.client("cloudtrail").get_trail_status(Name=step.args["Name"]),
            ("TrailNotFoundException",))
        if status is None:
            return {"exists": False, "IsLogging": False}
        return {"exists": True, "IsLogging": bool(status.get("IsLogging"))}

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        name = step.args["Name"]
        if before.get("IsLogging") or not before.get("exists"):
            return []  # was logging (keep it), or the trail was created and undo deletes it
        return _unless_gone(lambda: ctx.client("cloudtrail").stop_logging(Name=name),
                            f"trail {name}: logging stopped again, as before",
                            f"trail {name}: no longer exists")


# --- SNS and EventBridge ---------------------------------------------------------------------

def read_topic_policy(ctx: RemediationContext, arn: str, region: str) -> dict[str, Any] | None:
    """The topic's access policy (parsed), or None when the topic does not exist."""
    attrs = _unless_missing(
        lambda: ctx.client("sns", region).get_topic_attributes(TopicArn=arn)["Attributes"],
        ("NotFound", "NotFoundException"))
    if attrs is None:
        return None
    return json.loads(attrs.get("Policy") or "{}")


@handler("topic_create")
class _TopicCreate:
    @staticmethod
    def read(ctx: RemediationContext, step: Step) -> dict[str, Any]:
        policy = read_topic_policy(ctx, step.args["TopicArn"], step.args["Region"])
        return {"exists": policy is not None}

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        arn = step.args["TopicArn"]
        if before.get("exists"):
            return [f"{arn}: existed before; kept"]
        if read_topic_policy(ctx, arn, step.args["Region"]) is None:
            return [f"{arn}: already deleted"]  # e.g. undo run a second time
        ctx.client("sns", step.args["Region"]).delete_topic(TopicArn=arn)
        return [f"{arn}: deleted the topic trailguard created"]


@handler("topic_policy")
class _TopicPolicy:
    @staticmethod
    def read(ctx: RemediationContext, step: Step) -> dict[str, Any]:
        return {"policy": read_topic_policy(ctx, step.args["TopicArn"], step.args["Region"])}

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        arn, region = step.args["TopicArn"], step.args["Region"]
        if before.get("policy") is None:
            return []  # the topic was created by this journal; undo deletes it
        if read_topic_policy(ctx, arn, region) is None:
            return [f"{arn}: no longer exists"]
        ctx.client("sns", region).set_topic_attributes(
            TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(before["policy"]))
        return [f"{arn}: previous topic policy restored"]


def topic_subscriptions(ctx: RemediationContext, arn: str, region: str) -> list[dict[str, Any]]:
    """The topic's subscriptions (confirmed ones have an ARN; pending ones do not)."""
    pages = ctx.client("sns", region).get_paginator("list_subscriptions_by_topic").paginate(
        TopicArn=arn)
    return [s for page in pages for s in page.get("Subscriptions", [])]


@handler("topic_subscribe")
class _TopicSubscribe:
    @staticmethod
    def read(ctx: RemediationContext, step: Step) -> dict[str, Any]:
        arn, region, endpoint = step.args["TopicArn"], step.args["Region"], step.args["Endpoint"]
        if read_topic_policy(ctx, arn, region) is None:
            return {"subscriptions": []}  # the topic is created by this plan
        return {"subscriptions": [s["SubscriptionArn"] for s in
                                  topic_subscriptions(ctx, arn, region)
                                  if s.get("Endpoint") == endpoint]}

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        arn, region, endpoint = step.args["TopicArn"], step.args["Region"], step.args["Endpoint"]
        if read_topic_policy(ctx, arn, region) is None:
            return [f"{arn}: no longer exists"]
        kept = set(before.get("subscriptions", []))
        notes = []
        for sub in topic_subscriptions(ctx, arn, region):
            sub_arn = sub.get("SubscriptionArn", "")
            if sub.get("Endpoint") != endpoint or sub_arn in kept:
                continue
            if sub_arn.startswith("arn:"):
                ctx.client("sns", region).unsubscribe(SubscriptionArn=sub_arn)
                notes.append(f"{arn}: unsubscribed {endpoint}")
            else:  # pending confirmation: has no ARN to unsubscribe; SNS drops it unconfirmed
                notes.append(f"{arn}: subscription of {endpoint} is still pending; "
                             "it lapses unless confirmed")
        return notes


_RULE_FIELDS = ("EventPattern", "ScheduleExpression", "State", "Description", "RoleArn",
                "EventBusName")


def read_rule(ctx: RemediationContext, name: str, region: str) -> dict[str, Any] | None:
    """DescribeRule (settable fields) of ``name`` on the default bus, or None."""
    rule = _unless_missing(lambda: ctx.client("events", region).describe_rule(Name=name),
                           ("ResourceNotFoundException",))
    if rule is None:
        return None
    return {k: rule[k] for k in _RULE_FIELDS if rule.get(k)}


def _targets(ctx: RemediationContext, rule: str, region: str) -> list[dict[str, Any]]:
    pages = ctx.client("events", region).get_paginator("list_targets_by_rule").paginate(Rule=rule)
    return [t for page in pages for t in page.get("Targets", [])]


@handler("rule_put")
class _RulePut:
    @staticmethod
    def read(ctx: RemediationContext, step: Step) -> dict[str, Any]:
        rule = read_rule(ctx, step.args["Name"], step.args["Region"])
        return {"exists": rule is not None, "rule": rule}

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        name, region = step.args["Name"], step.args["Region"]
        ev = ctx.client("events", region)
        if before.get("exists"):
            ev.put_rule(Name=name, **before["rule"])
            return [f"rule {name}: previous pattern and state restored"]

        def delete() -> None:
            ids = [t["Id"] for t in _targets(ctx, name, region)]
            if ids:
                ev.remove_targets(Rule=name, Ids=ids)
            ev.delete_rule(Name=name)

        return _unless_gone(delete, f"rule {name}: targets removed, rule deleted",
                            f"rule {name}: already deleted")


@handler("rule_targets")
class _RuleTargets:
    @staticmethod
    def read(ctx: RemediationContext, step: Step) -> dict[str, Any]:
        name, region = step.args["Rule"], step.args["Region"]
        if read_rule(ctx, name, region) is None:
            return {"target": None}
        same = [t for t in _targets(ctx, name, region) if t["Id"] == step.args["TargetId"]]
        return {"target": same[0] if same else None}

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        name, region, tid = step.args["Rule"], step.args["Region"], step.args["TargetId"]
        ev = ctx.client("events", region)
        gone = f"rule {name}: already gone"
        if before.get("target"):
            return _unless_gone(lambda: ev.put_targets(Rule=name, Targets=[before["target"]]),
                                f"rule {name}: previous target {tid} restored", gone)
        return _unless_gone(lambda: ev.remove_targets(Rule=name, Ids=[tid]),
                            f"rule {name}: target {tid} removed", gone)


# --- IAM role for forwarding events between regions --------------------------------------------

def read_role(ctx: RemediationContext, name: str) -> dict[str, Any] | None:
    """GetRole of ``name`` (its ARN and trust policy, parsed), or None when it does not exist."""
    role = _unless_missing(lambda: _iam(ctx).get_role(RoleName=name)["Role"], ("NoSuchEntity",))
    if role is None:
        return None
    trust = role.get("AssumeRolePolicyDocument") or {}
    if isinstance(trust, str):  # IAM returns it URL-encoded JSON; botocore decodes to a dict
        trust = json.loads(trust)
    return {"Arn": role["Arn"], "AssumeRolePolicyDocument": trust}


def read_role_policy(ctx: RemediationContext, role: str, name: str) -> dict[str, Any] | None:
    """The inline policy ``name`` of ``role`` (parsed), or None when either does not exist."""
    doc = _unless_missing(
        lambda: _iam(ctx).get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"],
        ("NoSuchEntity",))
    if doc is None:
        return None
    return json.loads(doc) if isinstance(doc, str) else doc


@handler("role_create")
class _RoleCreate:
    @staticmethod
    def read(ctx: RemediationContext, step: Step) -> dict[str, Any]:
        return {"exists": read_role(ctx, step.args["RoleName"]) is not None}

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        name = step.args["RoleName"]
        if before.get("exists"):
            return [f"role {name}: existed before; kept"]
        if read_role(ctx, name) is None:
            return [f"role {name}: already deleted"]
        iam = _iam(ctx)
        inline = iam.list_role_policies(RoleName=name).get("PolicyNames", [])
        attached = [p["PolicyName"] for p in
                    iam.list_attached_role_policies(RoleName=name).get("AttachedPolicies", [])]
        if inline or attached:
            return [f"role {name}: kept, it has policies this journal did not put there "
                    f"({', '.join([*inline, *attached])})"]
        return _unless_gone(lambda: iam.delete_role(RoleName=name),
                            f"role {name}: deleted the role trailguard created",
                            f"role {name}: already deleted")


@handler("role_policy")
class _RolePolicy:
    @staticmethod
    def read(ctx: RemediationContext, step: Step) -> dict[str, Any]:
        return {"policy": read_role_policy(ctx, step.args["RoleName"], step.args["PolicyName"])}

    @staticmethod
    def undo(ctx: RemediationContext, step: Step, before: dict[str, Any]) -> list[str]:
        role, name = step.args["RoleName"], step.args["PolicyName"]
        iam = _iam(ctx)
        gone = f"role {role}: no longer exists"
        if before.get("policy") is None:
            return _unless_gone(lambda: iam.delete_role_policy(RoleName=role, PolicyName=name),
                                f"role {role}: inline policy {name} deleted",
                                f"role {role}: inline policy {name} already gone")
        doc = json.dumps(before["policy"], separators=(",", ":"))
        return _unless_gone(
            lambda: iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=doc),
            f"role {role}: previous inline policy {name} restored", gone)
