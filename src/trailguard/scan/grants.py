"""Who an access-granting event gave access to, read from the record's ``requestParameters``.

A finding for a snapshot share or a new bucket policy must say who now has access, so a
responder need not open the raw record. :func:`grant_details` returns what goes into the
target resource's ``details``:

- ``granted_to``: the grantees, public ones first, then sorted, at most :data:`MAX_GRANTEES`
  (then ``"... and N more"``): account ids, principal ARNs, service and federated principals,
  S3 canonical user ids and e-mail grantees, and :data:`EVERYONE` / :data:`ANY_AWS_USER` for
  public grants;
- ``public``: true when everyone (or any authenticated AWS user) is a grantee;
- ``conditions``: for a public policy grant, the condition keys of the ``Allow`` statements
  that make it public, when every such statement has a Condition (one statement without
  conditions makes the grant plainly public and the key is left out). Every key is listed,
  whether it narrows who can use the grant or not;
- ``limited_by``: the keys among ``conditions`` that narrow who can use the grant (see
  :data:`NARROWING_KEYS`), written only when they are not all of ``conditions``: an empty list
  says the grant is public whatever its conditions (``aws:SecureTransport`` alone, or one
  public statement with no narrowing key). Absent while ``conditions`` is present, every
  listed key narrows (``limited_by`` is ``conditions``), as in reports written before it;
- ``outside_account``: true when a grantee account (an account id, a principal ARN's account,
  an S3 canonical user other than the ACL's owner) differs from the record's account, false
  when every such account is the record's own; absent when no grantee names an account.

Records are untrusted input: any unexpected shape yields fewer or no details, never an
exception. ``public`` and ``outside_account`` are decided over every statement, principal and
item of the record, so a "*" after a thousand account ids still makes the grant public; only
what is listed is capped (:data:`MAX_GRANTEES`, :data:`MAX_CONDITIONS`). Work is linear in the
record, whose size the loader bounds; IAM policy text above :data:`MAX_POLICY_CHARS` is not
read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import orjson

MAX_GRANTEES = 20
MAX_CONDITIONS = 20
MAX_POLICY_CHARS = 256 * 1024  # IAM and S3 policies are at most 20 KB; beyond this: not read
EVERYONE = "everyone"
ANY_AWS_USER = "any authenticated AWS user"
PUBLIC_GRANTEES = frozenset({EVERYONE, ANY_AWS_USER})

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ARN_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):")
_S3_GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": EVERYONE,
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": ANY_AWS_USER,
    "http://acs.amazonaws.com/groups/s3/LogDelivery": "S3 log delivery",
}
_CANNED_ACLS = {
    "public-read": EVERYONE,
    "public-read-write": EVERYONE,
    "authenticated-read": ANY_AWS_USER,
    "log-delivery-write": "S3 log delivery",
}
_HEADER_GRANTS = (
    "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp",
    "x-amz-grant-full-control",
)
_HEADER_GRANTEE = re.compile(r'(id|uri|emailAddress)\s*=\s*"?([^",\s]+)"?', re.IGNORECASE)


class _Grants:
    """Grantees gathered from one record."""

    def __init__(self) -> None:
        self.grantees: set[str] = set()
        self.accounts: set[str] = set()
        self.public = False
        # condition keys of each statement that made the grant public (empty: unconditional)
        self.public_conditions: list[set[str]] = []
        # the keys among them that narrow who can use that statement (NARROWING_KEYS)
        self.public_limits: list[set[str]] = []
        self.foreign = False  # a grantee that is another account whatever the record's account

    def add(self, name: str) -> None:
        self.grantees.add(name)
        if name in PUBLIC_GRANTEES:
            self.public = True

    def add_principal(self, value: str) -> None:
        """An IAM principal: ``*``, an account id or an ARN (its account is noted)."""
        if value == "*":
            self.add(EVERYONE)
            return
        self.add(value)
        if _ACCOUNT_ID.match(value):
            self.accounts.add(value)
        else:
            m = _ARN_ACCOUNT.match(value)
            if m:
                self.accounts.add(m.group(1))

    def details(self, own_account: str | None) -> dict[str, Any]:
        if not self.grantees:
            return {}
        names = sorted(self.grantees, key=lambda n: (n not in PUBLIC_GRANTEES, n))
        if len(names) > MAX_GRANTEES:
            names = [*names[:MAX_GRANTEES], f"... and {len(names) - MAX_GRANTEES} more"]
        out: dict[str, Any] = {"granted_to": names}
        if self.public:
            out["public"] = True
            if self.public_conditions and all(self.public_conditions):
                keys = set().union(*self.public_conditions)
                limits = set().union(*self.public_limits) if all(self.public_limits) else set()
                out["conditions"] = _capped(keys)
                if limits != keys:
                    out["limited_by"] = _capped(limits)
        if self.foreign or (own_account and any(a != own_account for a in self.accounts)):
            out["outside_account"] = True
        elif own_account and self.accounts:
            out["outside_account"] = False
        return out


def _capped(keys: set[str]) -> list[str]:
    names = sorted(keys)
    if len(names) > MAX_CONDITIONS:
        return [*names[:MAX_CONDITIONS], f"... and {len(names) - MAX_CONDITIONS} more"]
    return names


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[Any]:
    """A list member as a list (every item: none is skipped, so none can hide a public
    grantee); a single item (XML shape) as a list of one."""
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _strings(value: Any) -> list[str]:
    return [v for v in _items(value) if isinstance(v, str) and v]


def _document(value: Any) -> dict[str, Any]:
    """A policy document given as an object (S3) or as JSON text (IAM); {} when unreadable."""
    if isinstance(value, str):
        if len(value) > MAX_POLICY_CHARS:
            return {}
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return {}
    return _dict(value)


def _condition_keys(condition: Any) -> set[str]:
    """``{"StringEquals": {"aws:SourceVpce": ...}}`` -> ``{"aws:SourceVpce"}``."""
    keys: set[str] = set()
    for body in _dict(condition).values():
        keys.update(k for k in _dict(body) if isinstance(k, str) and k)
    return keys


# Condition keys that narrow WHO can use a public grant: AWS sets their value from the caller's
# identity, organization or network path (or, for aws:SourceArn / aws:SourceAccount, from the
# resource on whose behalf an AWS service calls), and a matching value names one party. Every
# other key does not: an anonymous or foreign caller controls it or meets it as anyone would
# (aws:SecureTransport, aws:CurrentTime, aws:EpochTime, aws:RequestedRegion, aws:UserAgent,
# aws:Referer, aws:MultiFactorAuthPresent/Age, aws:PrincipalTag/..., aws:PrincipalType,
# aws:username (not unique across accounts), aws:RequestTag/..., aws:TagKeys, aws:CalledVia,
# aws:ViaAWSService, sts:ExternalId (not a secret), sts:RoleSessionName, sts:SourceIdentity,
# s3:prefix and other request keys, lambda:FunctionUrlAuthType: NONE is public, AWS_IAM lets
# any AWS account sign). aws:VpcSourceIp narrows only with aws:SourceVpc or aws:SourceVpce in
# the same statement: alone, a private address in anyone's VPC matches. Compared in lower case
# (IAM condition keys are case-insensitive).
NARROWING_KEYS = frozenset({
    "aws:sourcevpce", "aws:sourcevpc", "aws:sourceip", "aws:vpcsourceip",
    "aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount", "aws:principalarn",
    "aws:userid", "aws:principalservicename",
    "aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths",
})
_VPC_KEYS = frozenset({"aws:sourcevpc", "aws:sourcevpce"})
# Operators under which a narrowing key narrows. Not: negated operators (StringNotEquals:
# everyone but one party), ...IfExists and ForAllValues: (true when the key is absent, as it
# is for an anonymous caller), Null (any VPC endpoint, including the caller's own), Bool.
_NARROWING_OPERATORS = frozenset({
    "stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "ipaddress",
})


def _specific(values: Any) -> bool:
    """False when a condition value matches anyone: only wildcards, a ``/0`` range, none."""
    items = values if isinstance(values, list) else [values]
    if not items:
        return False
    for v in items:
        if not isinstance(v, str) or not v.strip("*?") or v.strip().endswith("/0"):
            return False
    return True


def _limit_keys(pairs: Iterable[tuple[str, str, Any]]) -> set[str]:
    """Of ``(operator, key, values)``, the keys that narrow who (as written in the policy)."""
    found: dict[str, str] = {}
    for operator, key, values in pairs:
        op = operator.lower().removeprefix("foranyvalue:")
        if op in _NARROWING_OPERATORS and key.lower() in NARROWING_KEYS and _specific(values):
            found[key.lower()] = key
    if "aws:vpcsourceip" in found and not _VPC_KEYS & found.keys():
        del found["aws:vpcsourceip"]
    return set(found.values())


def _narrowing_keys(condition: Any) -> set[str]:
    """``{"StringEquals": {"aws:SourceVpce": "vpce-1a2b"}}`` -> ``{"aws:SourceVpce"}``;
    ``{"Bool": {"aws:SecureTransport": "true"}}`` -> ``set()``."""
    return _limit_keys(
        (str(operator), key, values)
        for operator, body in _dict(condition).items()
        for key, values in _dict(body).items()
        if isinstance(key, str) and key
    )


def _principals(st: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, value) of a statement's principals; ``NotPrincipal`` in an Allow is everyone."""
    out: list[tuple[str, str]] = [("*", "*")] if "NotPrincipal" in st else []
    principal = st.get("Principal")
    if isinstance(principal, dict):
        for kind, values in principal.items():
            out.extend((str(kind), value) for value in _strings(values))
    else:  # "*", or a malformed string or list: read as AWS principals
        out.extend(("AWS", value) for value in _strings(principal))
    return out


def _read_policy(document: Any, grants: _Grants) -> None:
    """Principals of the ``Allow`` statements of a resource or trust policy."""
    for st in _items(_document(document).get("Statement")):
        if not isinstance(st, dict) or str(st.get("Effect", "")).lower() != "allow":
            continue
        public = False
        for kind, value in _principals(st):
            if value == "*":
                grants.add(EVERYONE)
                public = True
            elif kind == "AWS":
                grants.add_principal(value)
            else:
                grants.add(value)
        if public:
            grants.public_conditions.append(_condition_keys(st.get("Condition")))
            grants.public_limits.append(_narrowing_keys(st.get("Condition")))


def _bucket_policy(params: dict[str, Any], grants: _Grants) -> None:
    _read_policy(params.get("bucketPolicy"), grants)


def _trust_policy(params: dict[str, Any], grants: _Grants) -> None:
    _read_policy(params.get("policyDocument"), grants)


def _ec2_permission(attribute: str) -> _Reader:
    """EC2 ``<attribute>.add.items``: ``{"userId": ...}``, ``{"group": "all"}`` or, for AMIs,
    ``{"organizationArn": ...}`` / ``{"organizationalUnitArn": ...}``."""

    def read(params: dict[str, Any], grants: _Grants) -> None:
        added = _dict(_dict(params.get(attribute)).get("add"))
        for item in _items(added.get("items")):
            item = _dict(item)
            user = item.get("userId")
            if isinstance(user, str) and user:
                grants.add_principal(user)
            group = item.get("group")
            if isinstance(group, str) and group:
                grants.add(EVERYONE if group == "all" else f"group {group}")
            for key in ("organizationArn", "organizationalUnitArn"):
                value = item.get(key)
                if isinstance(value, str) and value:
                    grants.add(value)

    return read


# Lambda AddPermission's optional parameters that become conditions, named as the condition
# keys Lambda writes into the function policy (functionUrlAuthType does not narrow who).
_LAMBDA_CONDITIONS = {
    "sourceArn": "AWS:SourceArn",
    "sourceAccount": "AWS:SourceAccount",
    "principalOrgID": "aws:PrincipalOrgID",
    "functionUrlAuthType": "lambda:FunctionUrlAuthType",
}


def _lambda_permission(params: dict[str, Any], grants: _Grants) -> None:
    """Lambda ``principal``: ``*``, an account id or ARN, or a service (``s3.amazonaws.com``)."""
    principal = params.get("principal")
    if not isinstance(principal, str) or not principal:
        return
    grants.add_principal(principal)
    if principal == "*":
        given = [(key, params[param]) for param, key in _LAMBDA_CONDITIONS.items()
                 if params.get(param)]
        grants.public_conditions.append({key for key, _ in given})
        grants.public_limits.append(_limit_keys(("StringEquals", k, v) for k, v in given))


def _db_snapshot_permission(params: dict[str, Any], grants: _Grants) -> None:
    """RDS ``attributeName: restore`` with ``valuesToAdd``: account ids or ``all``."""
    if params.get("attributeName") != "restore":
        return
    for value in _strings(params.get("valuesToAdd")):
        if value == "all":
            grants.add(EVERYONE)
        else:
            grants.add_principal(value)


def _acl_grantee(kind: str, value: str, owner: str | None, grants: _Grants) -> None:
    kind = kind.lower()
    if kind == "uri":
        grants.add(_S3_GROUPS.get(value, value))
    elif kind == "id":
        if value != owner:  # a canonical user id names an account; not the bucket's owner
            grants.add(value)
            grants.foreign = True
    elif kind in ("emailaddress", "email"):
        grants.add(value)


def _bucket_acl(params: dict[str, Any], grants: _Grants) -> None:
    """S3 ``AccessControlPolicy`` grants, a canned ``x-amz-acl`` or ``x-amz-grant-*`` headers."""
    policy = _dict(params.get("AccessControlPolicy"))
    owner = _dict(policy.get("Owner")).get("ID")
    owner = owner if isinstance(owner, str) else None
    acl = _dict(policy.get("AccessControlList"))
    for grant in _items(acl.get("Grant")):
        grantee = _dict(_dict(grant).get("Grantee"))
        for kind in ("URI", "ID", "EmailAddress"):
            value = grantee.get(kind)
            if isinstance(value, str) and value:
                _acl_grantee(kind, value, owner, grants)
    for canned in _strings(params.get("x-amz-acl")):
        if canned in _CANNED_ACLS:
            grants.add(_CANNED_ACLS[canned])
    for header in _HEADER_GRANTS:
        for text in _strings(params.get(header)):
            for kind, value in _HEADER_GRANTEE.findall(text[:MAX_POLICY_CHARS]):
                _acl_grantee(kind, value, owner, grants)


_Reader = Callable[[dict[str, Any], _Grants], None]
# (eventSource, eventName) -> reader. Inline permission policies (PutUserPolicy, PutRolePolicy,
# PutGroupPolicy, CreatePolicyVersion) give the caller's own principals rights: not grants to
# others, not read.
READERS: dict[tuple[str, str], _Reader] = {
    ("ec2.amazonaws.com", "ModifySnapshotAttribute"): _ec2_permission("createVolumePermission"),
    ("ec2.amazonaws.com", "ModifyImageAttribute"): _ec2_permission("launchPermission"),
    ("lambda.amazonaws.com", "AddPermission20150331v2"): _lambda_permission,
    ("lambda.amazonaws.com", "AddPermission20150331"): _lambda_permission,
    ("s3.amazonaws.com", "PutBucketPolicy"): _bucket_policy,
    ("s3.amazonaws.com", "PutBucketAcl"): _bucket_acl,
    ("iam.amazonaws.com", "UpdateAssumeRolePolicy"): _trust_policy,
    ("iam.amazonaws.com", "CreateRole"): _trust_policy,
    ("rds.amazonaws.com", "ModifyDBSnapshotAttribute"): _db_snapshot_permission,
    ("rds.amazonaws.com", "ModifyDBClusterSnapshotAttribute"): _db_snapshot_permission,
}
GRANT_EVENTS: frozenset[str] = frozenset(name for _, name in READERS)


def grant_details(rec: dict[str, Any]) -> dict[str, Any]:
    """Who the record's call gave access to, as resource ``details`` (see the module doc).

    Empty for events that grant nothing to others and for records whose parameters cannot be
    read. A failed call keeps its details: whom the caller tried to give access to matters.
    """
    name = rec.get("eventName")
    if name not in GRANT_EVENTS:
        return {}
    reader = READERS.get((rec.get("eventSource"), name))  # type: ignore[arg-type]
    params = rec.get("requestParameters")
    if reader is None or not isinstance(params, dict):
        return {}
    grants = _Grants()
    try:
        reader(params, grants)
    except (TypeError, ValueError, AttributeError, RecursionError):  # pragma: no cover
        return {}  # a shape no reader foresaw: no details rather than no finding
    own = rec.get("recipientAccountId") or _dict(rec.get("userIdentity")).get("accountId")
    return grants.details(own if isinstance(own, str) else None)


def grant_key(details: dict[str, Any]) -> tuple[Any, ...]:
    """What part of a finding's identity its grant is: two different grantees, two findings."""
    granted = details.get("granted_to")
    if not isinstance(granted, list) or not granted:
        return ()
    conditions = details.get("conditions")
    return (
        tuple(str(g) for g in granted),
        bool(details.get("public")),
        tuple(str(c) for c in conditions) if isinstance(conditions, list) else (),
    )


def first_grant(details: Iterable[dict[str, Any]]) -> tuple[Any, ...]:
    """The :func:`grant_key` of the first details that hold a grant, else ``()``."""
    for d in details:
        key = grant_key(d)
        if key:
            return key
    return ()
