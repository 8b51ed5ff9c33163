"""Build realistic CloudTrail records: identities, API calls and console sign-ins.

The sample-log generator and the rules' embedded examples are both made from these builders,
so they share one idea of what a record looks like (field names and casing as AWS writes them,
``userIdentity`` per identity type, ``requestParameters``/``responseElements`` per event).
Account ids and addresses are fakes: accounts 111122223333 / 444455556666, IPs from the
documentation ranges 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24.
"""

from __future__ import annotations

import json
import random
import re
import string
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
ORG_ID = "o-exampleorg1"
REGION = "us-east-1"

CLI_UA = (
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-aws exe/x86_64.ubuntu.22 prompt/off "
    "command/{command}"
)
BOTO3_UA = (
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8 "
    "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69"
)
CONSOLE_UA = "AWS Internal"
BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)

SSH_KEY_BODY = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7trailguardexamplekeyQ1Jd0Vx3k9mW2fQ8Ys5Rb1Lp4Hn6TzEo"
    "0cKuA7gXvJ2sD9eF3hG5jK8lM1nB4vC6xZ0qW3eR5tY7uI9oP2aS4dF6gH8jK0lZ2xC4vB6nM8qW0eR2tY4uI6o"
    " alice@laptop"
)
CERT_BODY = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBszCCAVmgAwIBAgIUTRAILGUARDEXAMPLECERTIFICATE0wCgYIKoZIzj0EAwIw\n"
    "-----END CERTIFICATE-----\n"
)


class Ids:
    """Deterministic identifiers (event ids, access key ids, principal ids) from one seed."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)

    def uuid(self) -> str:
        """Return a random-looking but reproducible UUID4 string."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def token(self, prefix: str, length: int = 16, alphabet: str | None = None) -> str:
        """Return ``prefix`` followed by ``length`` characters (upper case and digits)."""
        chars = alphabet or (string.ascii_uppercase + "234567")
        return prefix + "".join(self.rng.choice(chars) for _ in range(length))

    def access_key(self, temporary: bool = False) -> str:
        """Return an access key id: AKIA... for long-term keys, ASIA... for session keys."""
        return self.token("ASIA" if temporary else "AKIA")

    def hexstr(self, length: int) -> str:
        """Return ``length`` lowercase hex digits."""
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(length))


def ts(t: datetime) -> str:
    """Format a time as CloudTrail does: ``2026-11-20T09:05:12Z``."""
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def iam_date(t: datetime) -> str:
    """Format a time as IAM responseElements often do: ``Nov 20, 2026 9:05:12 AM``."""
    hour = t.hour % 12 or 12
    return t.strftime(f"%b {t.day}, %Y {hour}:%M:%S ") + ("AM" if t.hour < 12 else "PM")


# --- identities -----------------------------------------------------------------------------


def iam_user(name: str, ids: Ids, account: str = ACCOUNT, console: bool = False) -> dict:
    """``userIdentity`` of an IAM user calling with a long-term key (or from the console)."""
    ident: dict[str, Any] = {
        "type": "IAMUser",
        "principalId": ids.token("AIDA", 17),
        "arn": f"arn:aws:iam::{account}:user/{name}",
        "accountId": account,
        "accessKeyId": ids.access_key(temporary=console),
        "userName": name,
    }
    if console:
        ident["sessionContext"] = {
            "attributes": {"creationDate": "2026-11-20T08:01:44Z", "mfaAuthenticated": "true"}
        }
    return ident


def assumed_role(
    role: str,
    session: str,
    ids: Ids,
    account: str = ACCOUNT,
    mfa: bool = False,
    path: str = "/",
) -> dict:
    """``userIdentity`` of a role session (``AssumedRole``); the human is the session name."""
    role_id = ids.token("AROA", 17)
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
        "accountId": account,
        "accessKeyId": ids.access_key(temporary=True),
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": f"arn:aws:iam::{account}:role{path}{role}",
                "accountId": account,
                "userName": role,
            },
            "attributes": {
                "creationDate": "2026-11-20T08:55:02Z",
                "mfaAuthenticated": "true" if mfa else "false",
            },
        },
    }


def service_linked_role(service: str, role: str, ids: Ids, account: str = ACCOUNT) -> dict:
    """``userIdentity`` of a service-linked role session (path ``/aws-service-role/SERVICE/``)."""
    ident = assumed_role(
        role, service.split(".")[0], ids, account, path=f"/aws-service-role/{service}/"
    )
    ident["invokedBy"] = service
    return ident


def root(ids: Ids, account: str = ACCOUNT, console: bool = False) -> dict:
    """``userIdentity`` of the account root user (no ``userName`` in most records)."""
    ident: dict[str, Any] = {
        "type": "Root",
        "principalId": account,
        "arn": f"arn:aws:iam::{account}:root",
        "accountId": account,
    }
    if console:
        ident["accessKeyId"] = ids.access_key(temporary=True)
        ident["sessionContext"] = {
            "attributes": {"creationDate": "2026-11-20T10:40:11Z", "mfaAuthenticated": "false"}
        }
    return ident


def federated_user(name: str, issuer_user: str, ids: Ids, account: str = ACCOUNT) -> dict:
    """``userIdentity`` of a GetFederationToken session (``FederatedUser``)."""
    issuer_id = ids.token("AIDA", 17)
    return {
        "type": "FederatedUser",
        "principalId": f"{account}:{name}",
        "arn": f"arn:aws:sts::{account}:federated-user/{name}",
        "accountId": account,
        "accessKeyId": ids.access_key(temporary=True),
        "sessionContext": {
            "sessionIssuer": {
                "type": "IAMUser",
                "principalId": issuer_id,
                "arn": f"arn:aws:iam::{account}:user/{issuer_user}",
                "accountId": account,
                "userName": issuer_user,
            },
            "attributes": {"creationDate": "2026-11-20T09:12:40Z", "mfaAuthenticated": "false"},
        },
    }


def aws_service(service: str) -> dict:
    """``userIdentity`` of an AWS service acting on its own (``AWSService``)."""
    return {"type": "AWSService", "invokedBy": service}


def aws_account(ids: Ids, account: str = OTHER_ACCOUNT) -> dict:
    """``userIdentity`` of a principal in another account (``AWSAccount``)."""
    return {
        "type": "AWSAccount",
        "principalId": f"{ids.token('AIDA', 17)}:partner-sync",
        "accountId": account,
    }


def identity_center_user(user: str, ids: Ids, account: str = ACCOUNT) -> dict:
    """``userIdentity`` of an IAM Identity Center user (``IdentityCenterUser``)."""
    return {
        "type": "IdentityCenterUser",
        "accountId": account,
        "onBehalfOf": {
            "userId": f"94482488-3041-7026-18f3-{ids.hexstr(12)}",
            "identityStoreArn": "arn:aws:identitystore::111122223333:identitystore/d-9067230a4c",
        },
        "credentialId": ids.hexstr(24),
        "userName": user,
    }


# --- records --------------------------------------------------------------------------------


def api_call(
    identity: dict,
    event_source: str,
    event_name: str,
    ids: Ids,
    *,
    time: datetime,
    request: dict | None = None,
    response: dict | None = None,
    ip: str = "198.51.100.24",
    user_agent: str = BOTO3_UA,
    region: str = REGION,
    error_code: str | None = None,
    error_message: str | None = None,
    read_only: bool = False,
    recipient: str | None = None,
    additional: dict | None = None,
) -> dict:
    """Return one ``AwsApiCall`` record as CloudTrail writes it (keys in CloudTrail's order)."""
    rec: dict[str, Any] = {
        "eventVersion": "1.10",
        "userIdentity": identity,
        "eventTime": ts(time),
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": identity.get("invokedBy", ip)
        if identity.get("type") == "AWSService"
        else ip,
        "userAgent": identity.get("invokedBy", user_agent)
        if identity.get("type") == "AWSService"
        else user_agent,
    }
    if error_code:
        rec["errorCode"] = error_code
        rec["errorMessage"] = error_message or _denied_message(identity, event_source, event_name)
        response = None
    rec["requestParameters"] = request
    rec["responseElements"] = response
    if additional is not None:
        rec["additionalEventData"] = additional
    rec["requestID"] = ids.uuid()
    rec["eventID"] = ids.uuid()
    rec["readOnly"] = read_only
    rec["eventType"] = "AwsApiCall"
    rec["managementEvent"] = True
    rec["recipientAccountId"] = recipient or identity.get("accountId") or ACCOUNT
    rec["eventCategory"] = "Management"
    if identity.get("type") != "AWSService":
        rec["tlsDetails"] = {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": event_source
            if event_source == "iam.amazonaws.com"
            else f"{event_source.split('.')[0]}.{region}.amazonaws.com",
        }
    if user_agent == CONSOLE_UA and identity.get("type") != "AWSService":
        rec["sessionCredentialFromConsole"] = "true"
    return rec


# Lambda's event names carry the API version (UpdateFunctionCode20150331v2); IAM actions and
# CLI commands do not.
API_VERSION_SUFFIX = re.compile(r"\d{8}(v\d+)?$")


def _denied_message(identity: dict, event_source: str, event_name: str) -> str:
    arn = identity.get("arn", "unknown")
    service = event_source.split(".")[0]
    action = API_VERSION_SUFFIX.sub("", event_name)
    return (
        f"User: {arn} is not authorized to perform: {service}:{action} "
        "because no identity-based policy allows the action"
    )


def console_login(
    identity: dict,
    ids: Ids,
    *,
    time: datetime,
    ip: str = "198.51.100.24",
    mfa_used: bool = True,
    success: bool = True,
    saml: bool = False,
) -> dict:
    """Return a ``ConsoleLogin`` record (``AwsConsoleSignIn``) for a sign-in attempt."""
    ident = {k: v for k, v in identity.items() if k not in ("accessKeyId", "sessionContext")}
    if ident.get("type") in ("IAMUser", "Root"):
        ident["accessKeyId"] = ""
    additional: dict[str, Any] = {
        "LoginTo": "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true"
        "&state=hashArgsFromTB_us-east-1_0a1b2c3d4e5f6a7b",
        "MobileVersion": "No",
        "MFAUsed": "Yes" if mfa_used else "No",
    }
    if saml:
        additional["SamlProviderArn"] = f"arn:aws:iam::{ACCOUNT}:saml-provider/CorpIdP"
        additional.pop("MFAUsed")
        additional["MFAUsed"] = "No"
    if ident.get("type") == "IAMUser" and mfa_used:
        additional["MFAIdentifier"] = f"arn:aws:iam::{ACCOUNT}:mfa/{ident.get('userName')}"
    rec: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": ident,
        "eventTime": ts(time),
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": REGION,
        "sourceIPAddress": ip,
        "userAgent": BROWSER_UA,
    }
    if not success:
        rec["errorMessage"] = "Failed authentication"
    rec["requestParameters"] = None
    rec["responseElements"] = {"ConsoleLogin": "Success" if success else "Failure"}
    rec["additionalEventData"] = additional
    rec["eventID"] = ids.uuid()
    rec["readOnly"] = False
    rec["eventType"] = "AwsConsoleSignIn"
    rec["managementEvent"] = True
    rec["recipientAccountId"] = ident.get("accountId", ACCOUNT)
    rec["eventCategory"] = "Management"
    rec["tlsDetails"] = {
        "tlsVersion": "TLSv1.3",
        "cipherSuite": "TLS_AES_128_GCM_SHA256",
        "clientProvidedHostHeader": "signin.aws.amazon.com",
    }
    return rec


# --- the curated events: request/response shapes -------------------------------------------

Shape = tuple[str, dict | None, dict | None]


def _ssh_upload(user: str | None, ids: Ids, t: datetime, owner: str = "alice", **_: Any) -> Shape:
    key_id = ids.token("APKA", 16)
    req = {"sSHPublicKeyBody": SSH_KEY_BODY}
    if user:
        req = {"userName": user, **req}
    return (
        "iam.amazonaws.com",
        req,
        {
            "sSHPublicKey": {
                "userName": owner,
                "sSHPublicKeyId": key_id,
                "fingerprint": ":".join(ids.hexstr(2) for _ in range(16)),
                "sSHPublicKeyBody": SSH_KEY_BODY,
                "status": "Active",
                "uploadDate": iam_date(t),
            }
        },
    )


def _with_user(user: str | None, params: dict) -> dict:
    return {"userName": user, **params} if user else params


def _status_and_delete(
    id_field: str, new_id: Callable[[Ids], str]
) -> tuple[Callable[..., Shape], Callable[..., Shape]]:
    """The Update (status) and Delete shapes of one kind of IAM user credential: both name the
    credential by ``id_field`` (a fresh id from ``new_id``), and the user when one is given."""

    def update(
        user: str | None,
        ids: Ids,
        t: datetime,
        owner: str = "alice",
        status: str = "Inactive",
        **_: Any,
    ) -> Shape:
        params = {id_field: new_id(ids), "status": status}
        return "iam.amazonaws.com", _with_user(user, params), None

    def delete(user: str | None, ids: Ids, t: datetime, owner: str = "alice", **_: Any) -> Shape:
        return "iam.amazonaws.com", _with_user(user, {id_field: new_id(ids)}), None

    return update, delete


_ssh_update, _ssh_delete = _status_and_delete("sSHPublicKeyId", lambda ids: ids.token("APKA", 16))


def _cert_upload(user: str | None, ids: Ids, t: datetime, owner: str = "alice", **_: Any) -> Shape:
    cert_id = ids.token("", 32)
    return (
        "iam.amazonaws.com",
        _with_user(user, {"certificateBody": CERT_BODY}),
        {
            "certificate": {
                "userName": owner,
                "certificateId": cert_id,
                "certificateBody": CERT_BODY,
                "status": "Active",
                "uploadDate": iam_date(t),
            }
        },
    )


_cert_update, _cert_delete = _status_and_delete("certificateId", lambda ids: ids.token("", 32))


def _key_create(user: str | None, ids: Ids, t: datetime, owner: str = "alice", **_: Any) -> Shape:
    return (
        "iam.amazonaws.com",
        _with_user(user, {}) or None,
        {
            "accessKey": {
                "userName": owner,
                "accessKeyId": ids.access_key(),
                "status": "Active",
                "createDate": iam_date(t),
            }
        },
    )


_key_update, _key_delete = _status_and_delete("accessKeyId", lambda ids: ids.access_key())


def _login_create(user: str | None, ids: Ids, t: datetime, owner: str = "alice", **_: Any) -> Shape:
    name = owner
    return (
        "iam.amazonaws.com",
        {"userName": name, "passwordResetRequired": True},
        {
            "loginProfile": {
                "userName": name,
                "createDate": iam_date(t),
                "passwordResetRequired": True,
            }
        },
    )


def _login_update(user: str | None, ids: Ids, t: datetime, owner: str = "alice", **_: Any) -> Shape:
    return "iam.amazonaws.com", {"userName": owner, "passwordResetRequired": True}, None


def _login_delete(user: str | None, ids: Ids, t: datetime, owner: str = "alice", **_: Any) -> Shape:
    return "iam.amazonaws.com", _with_user(user, {}) or None, None


def _change_password(
    user: str | None, ids: Ids, t: datetime, owner: str = "alice", **_: Any
) -> Shape:
    # Both passwords are left out of the record by CloudTrail.
    return "iam.amazonaws.com", None, None


def _ssc(owner: str, ids: Ids, t: datetime, service: str) -> dict:
    name = owner
    return {
        "createDate": iam_date(t),
        "serviceName": service,
        "serviceUserName": f"{name}-at-{ACCOUNT}",
        "serviceSpecificCredentialId": ids.token("ACCA", 17),
        "userName": name,
        "status": "Active",
    }


def _ssc_create(user: str | None, ids: Ids, t: datetime, owner: str = "alice", **_: Any) -> Shape:
    service = "codecommit.amazonaws.com"
    return (
        "iam.amazonaws.com",
        {"userName": owner, "serviceName": service},
        {"serviceSpecificCredential": _ssc(owner, ids, t, service)},
    )


def _ssc_reset(user: str | None, ids: Ids, t: datetime, owner: str = "alice", **_: Any) -> Shape:
    cred = _ssc(owner, ids, t, "codecommit.amazonaws.com")
    params = {"serviceSpecificCredentialId": cred["serviceSpecificCredentialId"]}
    return "iam.amazonaws.com", _with_user(user, params), {"serviceSpecificCredential": cred}


_ssc_update, _ssc_delete = _status_and_delete(
    "serviceSpecificCredentialId", lambda ids: ids.token("ACCA", 17)
)


def _mfa_serial(owner: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:mfa/{owner}"


def _mfa_create(user: str | None, ids: Ids, t: datetime, owner: str = "alice", **_: Any) -> Shape:
    name = owner
    return (
        "iam.amazonaws.com",
        {"virtualMFADeviceName": name, "path": "/"},
        {"virtualMFADevice": {"serialNumber": _mfa_serial(name)}},
    )


def _mfa_enable(user: str | None, ids: Ids, t: datetime, owner: str = "alice", **_: Any) -> Shape:
    # The two authentication codes are not recorded.
    name = owner
    return "iam.amazonaws.com", _with_user(user, {"serialNumber": _mfa_serial(name)}), None


_mfa_deactivate = _mfa_enable
_mfa_resync = _mfa_enable


def _mfa_delete(user: str | None, ids: Ids, t: datetime, owner: str = "alice", **_: Any) -> Shape:
    return "iam.amazonaws.com", {"serialNumber": _mfa_serial(owner)}, None


def _policy_update(
    user: str | None, ids: Ids, t: datetime, owner: str = "alice", weak: bool = False, **_: Any
):
    return (
        "iam.amazonaws.com",
        {
            "minimumPasswordLength": 8 if weak else 14,
            "requireSymbols": not weak,
            "requireNumbers": True,
            "requireUppercaseCharacters": not weak,
            "requireLowercaseCharacters": True,
            "allowUsersToChangePassword": True,
            "maxPasswordAge": 90,
            "passwordReusePrevention": 1 if weak else 24,
            "hardExpiry": False,
        },
        None,
    )


def _policy_delete(
    user: str | None, ids: Ids, t: datetime, owner: str = "alice", **_: Any
) -> Shape:
    return "iam.amazonaws.com", None, None


TRAIL = "management-events"


def _trail_arn(name: str = TRAIL) -> str:
    return f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{name}"


def _stop_logging(
    user: str | None, ids: Ids, t: datetime, owner: str = "alice", trail: str = TRAIL, **_: Any
) -> Shape:
    return "cloudtrail.amazonaws.com", {"name": _trail_arn(trail)}, None


def _delete_trail(
    user: str | None, ids: Ids, t: datetime, owner: str = "alice", trail: str = TRAIL, **_: Any
) -> Shape:
    return "cloudtrail.amazonaws.com", {"name": _trail_arn(trail)}, None


def _update_trail(
    user: str | None,
    ids: Ids,
    t: datetime,
    multi_region: bool = True,
    global_events: bool = True,
    validation: bool = True,
    **_: Any,
) -> Shape:
    req = {
        "name": TRAIL,
        "isMultiRegionTrail": multi_region,
        "includeGlobalServiceEvents": global_events,
        "enableLogFileValidation": validation,
    }
    resp = {
        "name": TRAIL,
        "s3BucketName": f"aws-cloudtrail-logs-{ACCOUNT}-3f1a2b4c",
        "includeGlobalServiceEvents": global_events,
        "isMultiRegionTrail": multi_region,
        "trailARN": _trail_arn(),
        "logFileValidationEnabled": validation,
        "isOrganizationTrail": False,
    }
    return "cloudtrail.amazonaws.com", req, resp


def _put_event_selectors(
    user: str | None,
    ids: Ids,
    t: datetime,
    management: bool = True,
    advanced: bool = False,
    **_: Any,
) -> Shape:
    if advanced:
        selectors: list[dict] = []
        if management:
            selectors.append(
                {
                    "name": "Management events",
                    "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}],
                }
            )
        selectors.append(
            {
                "name": "S3 data events",
                "fieldSelectors": [
                    {"field": "eventCategory", "equals": ["Data"]},
                    {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                ],
            }
        )
        return (
            "cloudtrail.amazonaws.com",
            {"trailName": TRAIL, "advancedEventSelectors": selectors},
            {"trailARN": _trail_arn(), "advancedEventSelectors": selectors},
        )
    selectors = [
        {
            "readWriteType": "All",
            "includeManagementEvents": management,
            "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}],
            "excludeManagementEventSources": [],
        }
    ]
    return (
        "cloudtrail.amazonaws.com",
        {"trailName": TRAIL, "eventSelectors": selectors},
        {"trailARN": _trail_arn(), "eventSelectors": selectors},
    )


# --- defenses beyond CloudTrail, resource sharing, role trust ------------------------------

DETECTOR_ID = "a6c4ecd1e2f34a1b9c0d8e7f6a5b4c3d"


def _delete_detector(
    user: str | None, ids: Ids, t: datetime, detector: str = DETECTOR_ID, **_: Any
) -> Shape:
    # GuardDuty returns an empty body: CloudTrail writes responseElements null.
    return "guardduty.amazonaws.com", {"detectorId": detector}, None


def _stop_recorder(
    user: str | None, ids: Ids, t: datetime, recorder: str = "default", **_: Any
) -> Shape:
    return "config.amazonaws.com", {"configurationRecorderName": recorder}, None


def _delete_flow_logs(
    user: str | None, ids: Ids, t: datetime, flow_log: str = "fl-0a1b2c3d4e5f60718", **_: Any
) -> Shape:
    # EC2 records its XML (query) request and response as JSON: values under "content".
    return (
        "ec2.amazonaws.com",
        {"DeleteFlowLogsRequest": {"FlowLogId": {"content": flow_log, "tag": 1}}},
        {
            "DeleteFlowLogsResponse": {
                "requestId": ids.uuid(),
                "unsuccessful": "",
                "xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/",
            }
        },
    )


def _modify_snapshot(
    user: str | None,
    ids: Ids,
    t: datetime,
    share: str = OTHER_ACCOUNT,
    operation: str = "add",
    snapshot: str = "snap-0a1b2c3d4e5f60718",
    **_: Any,
) -> Shape:
    """``share`` is an account id or "all" (public); ``operation`` "add" or "remove"."""
    item = {"group": "all"} if share == "all" else {"userId": share}
    return (
        "ec2.amazonaws.com",
        {
            "snapshotId": snapshot,
            "attributeType": "CREATE_VOLUME_PERMISSION",
            "createVolumePermission": {operation: {"items": [item]}},
        },
        {"requestId": ids.uuid(), "_return": True},
    )


def _bucket_policy(bucket: str, public: bool) -> dict:
    """A bucket policy: TLS-only plus an in-account reader, or a public read grant."""
    objects = f"arn:aws:s3:::{bucket}/*"
    if public:
        statements: list[dict] = [
            {
                "Sid": "PublicRead",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": objects,
            }
        ]
    else:
        statements = [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", objects],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "AnalyticsRead",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/analytics"},
                "Action": "s3:GetObject",
                "Resource": objects,
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def _put_bucket_policy(
    user: str | None,
    ids: Ids,
    t: datetime,
    bucket: str = "example-app-data",
    public: bool = False,
    policy: dict | None = None,
    **_: Any,
) -> Shape:
    # S3 records the policy as a JSON object (not a string) next to the bucket and host.
    return (
        "s3.amazonaws.com",
        {
            "bucketPolicy": policy or _bucket_policy(bucket, public),
            "bucketName": bucket,
            "Host": f"{bucket}.s3.{REGION}.amazonaws.com",
            "policy": "",
        },
        None,
    )


def _update_trust(
    user: str | None,
    ids: Ids,
    t: datetime,
    role: str = "DeploymentRole",
    trusted: str = f"arn:aws:iam::{ACCOUNT}:role/ci-deploy",
    **_: Any,
) -> Shape:
    # IAM records the new trust policy as a JSON string (URL-decoded), not as an object.
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"}
        ],
    }
    return (
        "iam.amazonaws.com",
        {"roleName": role, "policyDocument": json.dumps(trust, separators=(",", ":"))},
        None,
    )


# --- privilege escalation, persistence, exposure, impact ------------------------------------

ADMIN_POLICY_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


def _policy_json(actions: str | list[str], resource: str = "*") -> str:
    """An identity policy with one Allow statement, as IAM records it: a compact JSON string."""
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}],
    }
    return json.dumps(doc, separators=(",", ":"))


def _attach_user_policy(
    user: str | None,
    ids: Ids,
    t: datetime,
    owner: str = "alice",
    policy_arn: str = "arn:aws:iam::aws:policy/ReadOnlyAccess",
    **_: Any,
) -> Shape:
    # IAM returns an empty body: CloudTrail writes responseElements null.
    return "iam.amazonaws.com", {"userName": user or owner, "policyArn": policy_arn}, None


def _put_user_policy(
    user: str | None,
    ids: Ids,
    t: datetime,
    owner: str = "alice",
    policy_name: str = "read-build-artifacts",
    actions: str | list[str] = "s3:GetObject",
    resource: str = "arn:aws:s3:::example-build-artifacts/*",
    **_: Any,
) -> Shape:
    # The inline policy is recorded as a JSON string, like every IAM policy document.
    return (
        "iam.amazonaws.com",
        {
            "userName": user or owner,
            "policyName": policy_name,
            "policyDocument": _policy_json(actions, resource),
        },
        None,
    )


def _create_policy_version(
    user: str | None,
    ids: Ids,
    t: datetime,
    policy: str = "ci-deploy-permissions",
    actions: str | tuple[str, ...] = ("s3:PutObject", "cloudformation:UpdateStack"),
    resource: str = "*",
    version: str = "v2",
    default: bool = True,
    pretty: bool = False,
    **_: Any,
) -> Shape:
    """``pretty``: the document as a file passed with file:// (IAM records the caller's text)."""
    document = _policy_json(actions if isinstance(actions, str) else list(actions), resource)
    if pretty:
        document = json.dumps(json.loads(document), indent=2)
    return (
        "iam.amazonaws.com",
        {
            "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/{policy}",
            "policyDocument": document,
            "setAsDefault": default,
        },
        {
            "policyVersion": {
                "versionId": version,
                "isDefaultVersion": default,
                "createDate": iam_date(t),
            }
        },
    )


def _create_user(
    user: str | None, ids: Ids, t: datetime, owner: str = "alice", path: str = "/", **_: Any
) -> Shape:
    name = user or owner
    request: dict[str, Any] = {"userName": name}
    if path != "/":
        request["path"] = path
    return (
        "iam.amazonaws.com",
        request,
        {
            "user": {
                "path": path,
                "userName": name,
                "userId": ids.token("AIDA", 17),
                "arn": f"arn:aws:iam::{ACCOUNT}:user{path}{name}",
                "createDate": iam_date(t),
            }
        },
    )


def _authorize_ingress(
    user: str | None,
    ids: Ids,
    t: datetime,
    group: str = "sg-0a1b2c3d4e5f60718",
    protocol: str = "tcp",
    port: int = 443,
    cidr: str = "198.51.100.0/24",
    legacy: bool = False,
    **_: Any,
) -> Shape:
    """One ingress rule. EC2 records the CLI's IpPermissions as nested "items" (its XML shape);
    ``legacy``: the top-level CidrIp/FromPort/ToPort/IpProtocol form of SDK callers, recorded
    with an empty ``ipPermissions``."""
    v6 = ":" in cidr
    ranges: dict[str, Any] = {"items": [{"cidrIpv6" if v6 else "cidrIp": cidr}]}
    request: dict[str, Any]
    if legacy:
        request = {
            "cidrIp": cidr,
            "fromPort": port,
            "groupId": group,
            "ipPermissions": {},
            "ipProtocol": protocol,
            "toPort": port,
        }
    else:
        permission = {
            "ipProtocol": protocol,
            "fromPort": port,
            "toPort": port,
            "groups": {},
            "ipRanges": {} if v6 else ranges,
            "ipv6Ranges": ranges if v6 else {},
            "prefixListIds": {},
        }
        request = {"groupId": group, "ipPermissions": {"items": [permission]}}
    rule_id = "sgr-0" + ids.hexstr(16)
    return (
        "ec2.amazonaws.com",
        request,
        {
            "requestId": ids.uuid(),
            "_return": True,
            "securityGroupRuleSet": {
                "items": [
                    {
                        "groupOwnerId": ACCOUNT,
                        "groupId": group,
                        "securityGroupRuleId": rule_id,
                        "isEgress": False,
                        "ipProtocol": protocol,
                        "fromPort": port,
                        "toPort": port,
                        "cidrIpv6" if v6 else "cidrIpv4": cidr,
                        "securityGroupRuleArn": (
                            f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group-rule/{rule_id}"
                        ),
                    }
                ]
            },
        },
    )


def _schedule_key_deletion(
    user: str | None,
    ids: Ids,
    t: datetime,
    key: str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
    days: int = 30,
    **_: Any,
) -> Shape:
    # The request names the key by id (or ARN); the response gives its ARN, state and the
    # deletion date in the same "Dec 20, 2026 9:05:12 AM" style as IAM dates.
    return (
        "kms.amazonaws.com",
        {"keyId": key, "pendingWindowInDays": days},
        {
            "keyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key}",
            "keyState": "PendingDeletion",
            "deletionDate": iam_date(t + timedelta(days=days)),
        },
    )



def _attach_role_policy(
    user: str | None,
    ids: Ids,
    t: datetime,
    role: str = "reporting-lambda",
    policy_arn: str = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    **_: Any,
) -> Shape:
    # Same shape as AttachUserPolicy with roleName; IAM returns an empty body.
    return "iam.amazonaws.com", {"roleName": role, "policyArn": policy_arn}, None


def _attach_group_policy(
    user: str | None,
    ids: Ids,
    t: datetime,
    group: str = "auditors",
    policy_arn: str = "arn:aws:iam::aws:policy/SecurityAudit",
    **_: Any,
) -> Shape:
    return "iam.amazonaws.com", {"groupName": group, "policyArn": policy_arn}, None


def _put_role_policy(
    user: str | None,
    ids: Ids,
    t: datetime,
    role: str = "ci-deploy",
    policy_name: str = "publish-artifacts",
    actions: str | list[str] = "s3:PutObject",
    resource: str = "arn:aws:s3:::example-build-artifacts/*",
    **_: Any,
) -> Shape:
    # Like PutUserPolicy: the inline document is recorded as a JSON string.
    return (
        "iam.amazonaws.com",
        {
            "roleName": role,
            "policyName": policy_name,
            "policyDocument": _policy_json(actions, resource),
        },
        None,
    )


def _add_user_to_group(
    user: str | None, ids: Ids, t: datetime, owner: str = "alice", group: str = "auditors",
    **_: Any,
) -> Shape:
    return "iam.amazonaws.com", {"userName": user or owner, "groupName": group}, None


def _saml_metadata(entity_id: str) -> str:
    """A short SAML IdP metadata document (IAM records the XML the caller sent)."""
    cert = "".join(CERT_BODY.splitlines()[1:-1])
    return (
        '<?xml version="1.0" encoding="UTF-8"?><md:EntityDescriptor '
        f'xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}">'
        '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        '<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
        f"<ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
        "</md:KeyDescriptor></md:IDPSSODescriptor></md:EntityDescriptor>"
    )


def _create_saml_provider(
    user: str | None,
    ids: Ids,
    t: datetime,
    name: str = "corp-okta",
    entity_id: str = "http://www.okta.com/exk1example2idp3",
    **_: Any,
) -> Shape:
    return (
        "iam.amazonaws.com",
        {"name": name, "sAMLMetadataDocument": _saml_metadata(entity_id)},
        {"sAMLProviderArn": f"arn:aws:iam::{ACCOUNT}:saml-provider/{name}"},
    )


def _get_federation_token(
    user: str | None,
    ids: Ids,
    t: datetime,
    name: str = "reporting-job",
    actions: str | list[str] = "athena:StartQueryExecution",
    resource: str = "*",
    duration: int = 3600,
    pretty: bool = False,
    **_: Any,
) -> Shape:
    """``pretty``: the session policy as a file passed with file:// (STS records its text)."""
    policy = _policy_json(actions, resource)
    if pretty:
        policy = json.dumps(json.loads(policy), indent=2)
    end = t + timedelta(seconds=duration)
    hour = end.hour % 12 or 12
    # STS writes the expiration as "Nov 20, 2026, 10:12:40 AM" (a comma after the year).
    half = "AM" if end.hour < 12 else "PM"
    expiration = end.strftime(f"%b {end.day}, %Y, {hour}:%M:%S ") + half
    return (
        "sts.amazonaws.com",
        {"name": name, "policy": policy, "durationSeconds": duration},
        {
            "credentials": {
                "accessKeyId": ids.access_key(temporary=True),
                "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLE" + ids.token("", 40),
                "expiration": expiration,
            },
            "federatedUser": {
                "federatedUserId": f"{ACCOUNT}:{name}",
                "arn": f"arn:aws:sts::{ACCOUNT}:federated-user/{name}",
            },
            "packedPolicySize": 6,
        },
    )



# --- logs, S3 access, RDS sharing, KMS key state, secrets ---------------------------------


def _delete_log_group(
    user: str | None, ids: Ids, t: datetime, group: str = "/aws/lambda/report-export-legacy",
    **_: Any,
) -> Shape:
    # CloudWatch Logs returns an empty body: responseElements null.
    return "logs.amazonaws.com", {"logGroupName": group}, None


def _s3_host(bucket: str) -> str:
    return f"{bucket}.s3.{REGION}.amazonaws.com"


def _delete_bucket_pab(
    user: str | None, ids: Ids, t: datetime, bucket: str = "example-public-site", **_: Any
) -> Shape:
    # API DeletePublicAccessBlock; S3 records the subresource as an empty parameter.
    return (
        "s3.amazonaws.com",
        {"publicAccessBlock": "", "bucketName": bucket, "Host": _s3_host(bucket)},
        None,
    )


S3_OWNER_ID = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
S3_ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
S3_LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"


def _acl_grant(grantee: dict, permission: str) -> dict:
    """One ACL grant as CloudTrail records the XML body (xsi attributes kept as keys)."""
    kind = "Group" if "URI" in grantee else "CanonicalUser"
    return {
        "Grantee": {
            "xsi:type": kind,
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            **grantee,
        },
        "Permission": permission,
    }


def _put_bucket_acl(
    user: str | None,
    ids: Ids,
    t: datetime,
    bucket: str = "example-access-logs",
    public: bool = False,
    canned: str | None = None,
    **_: Any,
) -> Shape:
    """The new ACL in the request body (``AccessControlPolicy``), or a canned ACL header
    (``x-amz-acl``, recorded as a list like every S3 header). Default: the S3 log delivery
    group may write server access logs; ``public``: AllUsers may list the bucket."""
    request: dict[str, Any] = {"bucketName": bucket, "Host": _s3_host(bucket), "acl": ""}
    if canned:
        request["x-amz-acl"] = [canned]
        return "s3.amazonaws.com", request, None
    extra = (
        [_acl_grant({"URI": S3_ALL_USERS}, "READ")]
        if public
        else [
            _acl_grant({"URI": S3_LOG_DELIVERY}, "WRITE"),
            _acl_grant({"URI": S3_LOG_DELIVERY}, "READ_ACP"),
        ]
    )
    request["AccessControlPolicy"] = {
        "AccessControlList": {"Grant": [_acl_grant({"ID": S3_OWNER_ID}, "FULL_CONTROL"), *extra]},
        "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
        "Owner": {"ID": S3_OWNER_ID},
    }
    return "s3.amazonaws.com", request, None


def _modify_db_snapshot(
    user: str | None,
    ids: Ids,
    t: datetime,
    snapshot: str = "orders-db-2026-11-19",
    add: tuple[str, ...] = (),
    remove: tuple[str, ...] = (OTHER_ACCOUNT,),
    **_: Any,
) -> Shape:
    """``restore`` permission: ``add`` account ids (or "all") may restore the snapshot,
    ``remove`` lose it. The response lists the accounts allowed afterwards."""
    request: dict[str, Any] = {"dBSnapshotIdentifier": snapshot, "attributeName": "restore"}
    if add:
        request["valuesToAdd"] = list(add)
    if remove:
        request["valuesToRemove"] = list(remove)
    return (
        "rds.amazonaws.com",
        request,
        {
            "dBSnapshotIdentifier": snapshot,
            "dBSnapshotAttributes": [{"attributeName": "restore", "attributeValues": list(add)}],
        },
    )


def _disable_key(
    user: str | None,
    ids: Ids,
    t: datetime,
    key: str = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
    **_: Any,
) -> Shape:
    # Recent records name the key's ARN in responseElements (older ones have null).
    return (
        "kms.amazonaws.com",
        {"keyId": key},
        {"keyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key}"},
    )


def _get_secret_value(
    user: str | None, ids: Ids, t: datetime, secret: str = "ci/deploy/registry-token", **_: Any
) -> Shape:
    # The value is never recorded; the response is null.
    return "secretsmanager.amazonaws.com", {"secretId": secret}, None



# --- Lambda code and permissions, EC2 instances and images, Security Hub, Organizations ----

def _lambda_arn(function: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"


def _update_function_code(
    user: str | None,
    ids: Ids,
    t: datetime,
    function: str = "invoice-export",
    bucket: str | None = "example-build-artifacts",
    role: str = "invoice-export-role",
    **_: Any,
) -> Shape:
    """``bucket``: the package from S3 (CI); None: a zip uploaded in the call (not recorded)."""
    request: dict[str, Any] = {"functionName": function, "publish": False, "dryRun": False}
    if bucket:
        request["s3Bucket"] = bucket
        request["s3Key"] = f"{function}/{ids.hexstr(12)}.zip"
    return (
        "lambda.amazonaws.com",
        request,
        {
            "functionName": function,
            "functionArn": _lambda_arn(function),
            "runtime": "python3.12",
            "role": f"arn:aws:iam::{ACCOUNT}:role/{role}",
            "handler": "app.handler",
            "codeSize": 48213,
            "description": "",
            "timeout": 60,
            "memorySize": 256,
            "lastModified": t.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "codeSha256": ids.token("", 43, string.ascii_letters + string.digits + "+/") + "=",
            "version": "$LATEST",
            "tracingConfig": {"mode": "PassThrough"},
            "revisionId": ids.uuid(),
            "state": "Active",
            "lastUpdateStatus": "InProgress",
            "packageType": "Zip",
            "architectures": ["x86_64"],
            "ephemeralStorage": {"size": 512},
        },
    )


def _add_permission(
    user: str | None,
    ids: Ids,
    t: datetime,
    function: str = "thumbnailer",
    principal: str = "s3.amazonaws.com",
    statement: str = "s3-invoke-uploads",
    source_arn: str | None = "arn:aws:s3:::example-uploads",
    **_: Any,
) -> Shape:
    """``principal``: a service, an account id, or "*" (anyone: a public function)."""
    request: dict[str, Any] = {
        "functionName": function,
        "statementId": statement,
        "action": "lambda:InvokeFunction",
        "principal": principal,
    }
    statement_doc: dict[str, Any] = {
        "Sid": statement,
        "Effect": "Allow",
        "Principal": principal if principal == "*" else (
            {"Service": principal} if principal.endswith(".amazonaws.com")
            else {"AWS": f"arn:aws:iam::{principal}:root"}
        ),
        "Action": "lambda:InvokeFunction",
        "Resource": _lambda_arn(function),
    }
    if source_arn:
        request["sourceArn"] = source_arn
        statement_doc["Condition"] = {"ArnLike": {"AWS:SourceArn": source_arn}}
    # The response is the new statement as a JSON string.
    return (
        "lambda.amazonaws.com",
        request,
        {"statement": json.dumps(statement_doc, separators=(",", ":"))},
    )


def _modify_instance_attribute(
    user: str | None,
    ids: Ids,
    t: datetime,
    instance: str = "i-0c4d5e6f7a8b9c0d1",
    user_data: bool = False,
    instance_type: str = "m6i.large",
    **_: Any,
) -> Shape:
    """One attribute per call: the user data (CloudTrail writes "<sensitiveDataRemoved>"
    instead of the script) or, by default, the instance type (EC2's {"value": ...} shape)."""
    request: dict[str, Any] = {"instanceId": instance}
    if user_data:
        request["userData"] = "<sensitiveDataRemoved>"
    else:
        request["instanceType"] = {"value": instance_type}
    return "ec2.amazonaws.com", request, {"requestId": ids.uuid(), "_return": True}


def _modify_image_attribute(
    user: str | None,
    ids: Ids,
    t: datetime,
    image: str = "ami-0d1e2f3a4b5c6d7e8",
    share: str = OTHER_ACCOUNT,
    operation: str = "add",
    **_: Any,
) -> Shape:
    """``share``: an account id or "all" (public); ``operation``: "add" or "remove"."""
    item = {"group": "all"} if share == "all" else {"userId": share}
    return (
        "ec2.amazonaws.com",
        {
            "imageId": image,
            "launchPermission": {operation: {"items": [item]}},
            "attributeType": "launchPermission",
        },
        {"requestId": ids.uuid(), "_return": True},
    )


def _disable_security_hub(user: str | None, ids: Ids, t: datetime, **_: Any) -> Shape:
    # DELETE /accounts has no parameters and returns an empty body.
    return "securityhub.amazonaws.com", None, None


def _leave_organization(user: str | None, ids: Ids, t: datetime, **_: Any) -> Shape:
    # Called in the member account; no parameters, empty response.
    return "organizations.amazonaws.com", None, None


SHAPES: dict[str, Callable[..., Shape]] = {
    "UploadSSHPublicKey": _ssh_upload,
    "UpdateSSHPublicKey": _ssh_update,
    "DeleteSSHPublicKey": _ssh_delete,
    "UploadSigningCertificate": _cert_upload,
    "UpdateSigningCertificate": _cert_update,
    "DeleteSigningCertificate": _cert_delete,
    "CreateAccessKey": _key_create,
    "UpdateAccessKey": _key_update,
    "DeleteAccessKey": _key_delete,
    "CreateLoginProfile": _login_create,
    "UpdateLoginProfile": _login_update,
    "DeleteLoginProfile": _login_delete,
    "ChangePassword": _change_password,
    "CreateServiceSpecificCredential": _ssc_create,
    "ResetServiceSpecificCredential": _ssc_reset,
    "UpdateServiceSpecificCredential": _ssc_update,
    "DeleteServiceSpecificCredential": _ssc_delete,
    "CreateVirtualMFADevice": _mfa_create,
    "EnableMFADevice": _mfa_enable,
    "DeactivateMFADevice": _mfa_deactivate,
    "DeleteVirtualMFADevice": _mfa_delete,
    "ResyncMFADevice": _mfa_resync,
    "UpdateAccountPasswordPolicy": _policy_update,
    "DeleteAccountPasswordPolicy": _policy_delete,
    "StopLogging": _stop_logging,
    "DeleteTrail": _delete_trail,
    "UpdateTrail": _update_trail,
    "PutEventSelectors": _put_event_selectors,
    "DeleteDetector": _delete_detector,
    "StopConfigurationRecorder": _stop_recorder,
    "DeleteFlowLogs": _delete_flow_logs,
    "ModifySnapshotAttribute": _modify_snapshot,
    "PutBucketPolicy": _put_bucket_policy,
    "UpdateAssumeRolePolicy": _update_trust,
    "AttachUserPolicy": _attach_user_policy,
    "PutUserPolicy": _put_user_policy,
    "CreatePolicyVersion": _create_policy_version,
    "CreateUser": _create_user,
    "AuthorizeSecurityGroupIngress": _authorize_ingress,
    "ScheduleKeyDeletion": _schedule_key_deletion,
    "AttachRolePolicy": _attach_role_policy,
    "AttachGroupPolicy": _attach_group_policy,
    "PutRolePolicy": _put_role_policy,
    "AddUserToGroup": _add_user_to_group,
    "CreateSAMLProvider": _create_saml_provider,
    "GetFederationToken": _get_federation_token,
    "DeleteLogGroup": _delete_log_group,
    "DeleteBucketPublicAccessBlock": _delete_bucket_pab,
    "PutBucketAcl": _put_bucket_acl,
    "ModifyDBSnapshotAttribute": _modify_db_snapshot,
    "DisableKey": _disable_key,
    "GetSecretValue": _get_secret_value,
    "UpdateFunctionCode20150331v2": _update_function_code,
    "AddPermission20150331v2": _add_permission,
    "ModifyInstanceAttribute": _modify_instance_attribute,
    "ModifyImageAttribute": _modify_image_attribute,
    "DisableSecurityHub": _disable_security_hub,
    "LeaveOrganization": _leave_organization,
}

CURATED_EVENTS: tuple[str, ...] = (*SHAPES, "ConsoleLogin")

# Curated events that only read (CloudTrail writes readOnly true).
READ_ONLY_EVENTS = frozenset({"GetSecretValue"})


# Events whose target is an IAM user named in requestParameters.userName.
USER_TARGETED = frozenset(
    {
        "UploadSSHPublicKey",
        "UpdateSSHPublicKey",
        "DeleteSSHPublicKey",
        "UploadSigningCertificate",
        "UpdateSigningCertificate",
        "DeleteSigningCertificate",
        "CreateAccessKey",
        "UpdateAccessKey",
        "DeleteAccessKey",
        "CreateLoginProfile",
        "UpdateLoginProfile",
        "DeleteLoginProfile",
        "CreateServiceSpecificCredential",
        "ResetServiceSpecificCredential",
        "UpdateServiceSpecificCredential",
        "DeleteServiceSpecificCredential",
        "EnableMFADevice",
        "DeactivateMFADevice",
        "ResyncMFADevice",
    }
)


# Events whose API requires UserName even when callers act on themselves.
USER_REQUIRED = frozenset(
    {
        "UploadSSHPublicKey",
        "UpdateSSHPublicKey",
        "DeleteSSHPublicKey",
        "UpdateLoginProfile",
        "CreateServiceSpecificCredential",
        "EnableMFADevice",
        "ResyncMFADevice",
    }
)


def curated_call(
    event_name: str,
    identity: dict,
    ids: Ids,
    *,
    time: datetime,
    target_user: str | None = None,
    ip: str = "198.51.100.24",
    user_agent: str | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
    **shape_args: Any,
) -> dict:
    """Return a record of one curated event, acting on ``target_user`` (None: on oneself).

    ``shape_args`` tune the request (e.g. ``status="Active"``, ``management=False``,
    ``multi_region=False``, ``advanced=True``, ``weak=True``).
    """
    owner = target_user or identity.get("userName") or "alice"
    user = target_user or (owner if event_name in USER_REQUIRED else None)
    source, request, response = SHAPES[event_name](user, ids, time, owner=owner, **shape_args)
    ua = user_agent or CLI_UA.format(command=_cli_command(source, event_name))
    return api_call(
        identity,
        source,
        event_name,
        ids,
        time=time,
        request=request,
        response=response,
        ip=ip,
        user_agent=ua,
        error_code=error_code,
        error_message=error_message,
        read_only=event_name in READ_ONLY_EVENTS,
    )


# CLI commands not named after their event (S3's DeletePublicAccessBlock is recorded as
# DeleteBucketPublicAccessBlock).
CLI_COMMANDS = {"DeleteBucketPublicAccessBlock": "delete-public-access-block"}


def _cli_command(source: str, event_name: str) -> str:
    service = source.split(".")[0]
    words = []
    for ch in API_VERSION_SUFFIX.sub("", event_name):
        if ch.isupper() and words:
            words.append("-")
        words.append(ch.lower())
    name = "".join(words).replace("s-s-h", "ssh").replace("m-f-a", "mfa").replace("s-a-m-l", "saml")
    name = CLI_COMMANDS.get(event_name, name.replace("d-b-", "db-"))
    cli = {"s3": "s3api", "config": "configservice"}.get(service, service)
    return f"{cli}.{name}"


def at(base: datetime, **delta: float) -> datetime:
    """Return ``base`` shifted by a ``timedelta(**delta)``: a small readability helper."""
    return base + timedelta(**delta)
