"""Every operation of every AWS service, from botocore's service models.

This is what ``trailguard explain`` falls back on for events nobody has curated yet, and what
the knowledge-base tests check commands and snippets against. Models load lazily: the
operation-name index (about 20,000 operations over 400+ services, ~4 s to build) is built on
first use, kept in memory, and cached on disk per botocore version under the user cache
directory (``$XDG_CACHE_HOME/trailguard`` or ``~/.cache/trailguard``) when it is writable.
"""

from __future__ import annotations

import difflib
import functools
import html
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import botocore
import botocore.loaders
import botocore.session
from botocore import xform_name
from botocore.exceptions import UnknownServiceError
from botocore.model import OperationModel, ServiceModel, Shape

READ_ONLY_PREFIXES = (
    "Get",
    "List",
    "Describe",
    "Head",
    "Lookup",
    "Search",
    "BatchGet",
    "Query",
    "Scan",
)
# Named like reads, but they issue credentials or tokens: never call them read-only.
NOT_READ_ONLY = frozenset(
    {
        "GetSessionToken",
        "GetFederationToken",
        "GetRoleCredentials",
        "GetCredentialsForIdentity",
        "GetOpenIdToken",
        "GetOpenIdTokenForDeveloperIdentity",
        "GetAuthorizationToken",
        "GetClusterCredentials",
        "GetClusterCredentialsWithIAM",
        "GetDBAuthToken",
    }
)
# Why `read_only` is what it is; shown in parentheses, so no brackets inside.
READ_ONLY_BASIS = (
    "inferred from the operation name: only Get, List, Describe and similar names are reads"
)
CREDENTIAL_BASIS = "it issues credentials or tokens, although its name starts like a read"

# CloudTrail events that are not API operations in any botocore model (sign-in, IAM Identity
# Center sign-in and CodeCommit Git events), so knowledge-base references and detection rules
# naming them still name known events.
NON_API_EVENTS = frozenset(
    {
        "ConsoleLogin",
        "CheckMfa",
        "SwitchRole",
        "ExitRole",
        "RenewRole",
        "GetSigninToken",
        "PasswordUpdated",
        "PasswordRecoveryRequested",
        "PasswordRecoveryCompleted",
        "CredentialChallenge",
        "CredentialVerification",
        "UserAuthentication",
        "GitPull",
        "GitPush",
    }
)

# CloudTrail's eventSource is `<endpointPrefix>.amazonaws.com` except for these services.
EVENT_SOURCE_OVERRIDES = {
    "ses": "ses.amazonaws.com",  # endpointPrefix "email"
    "sesv2": "ses.amazonaws.com",
    "sso": "sso.amazonaws.com",  # endpointPrefix "portal.sso"
}


@dataclass(frozen=True)
class Parameter:
    """One request parameter of an operation."""

    name: str
    type: str
    required: bool


@dataclass(frozen=True)
class OperationInfo:
    """What botocore's model says about one operation of one service."""

    name: str
    service: str
    service_full_name: str
    event_source: str
    read_only: bool
    read_only_basis: str
    documentation: str
    parameters: list[Parameter] = field(default_factory=list)
    pageable: bool = False
    cli_reference: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, with a note that no curated guidance exists.

        The operation name is under ``event_name``, the key curated entries use; ``name`` is
        kept for existing consumers.
        """
        data = {"event_name": self.name, **asdict(self)}
        data["curated"] = False
        data["note"] = "No curated guidance exists for this event yet; this is botocore's model."
        return data


@functools.cache
def session() -> botocore.session.Session:
    """A shared botocore session (models are cached inside it)."""
    return botocore.session.get_session()


@functools.cache
def services() -> tuple[str, ...]:
    """Names of every service botocore ships a model for."""
    return tuple(session().get_available_services())


@functools.cache
def service_model(service: str) -> ServiceModel | None:
    """The botocore model of `service`, or None when botocore has none."""
    try:
        return session().get_service_model(service)
    except UnknownServiceError:
        return None


def has_model(service: str) -> bool:
    """True when botocore ships a model for `service`."""
    return service in services()


def operation_model(service: str, operation: str) -> OperationModel | None:
    """The model of `operation` (PascalCase) in `service`, or None."""
    model = service_model(service)
    if model is None or operation not in model.operation_names:
        return None
    return model.operation_model(operation)


@functools.cache
def python_methods(service: str) -> dict[str, str]:
    """boto3 client method name (snake_case) -> operation name, for `service`."""
    model = service_model(service)
    if model is None:
        return {}
    return {xform_name(op): op for op in model.operation_names}


@functools.cache
def cli_operations(service: str) -> dict[str, str]:
    """AWS CLI operation name (kebab-case) -> operation name, for `service`."""
    model = service_model(service)
    if model is None:
        return {}
    return {xform_name(op, "-"): op for op in model.operation_names}


@functools.cache
def paginators(service: str) -> frozenset[str]:
    """Operation names of `service` that have a paginator."""
    try:
        model = session().get_paginator_model(service)
    except Exception:  # noqa: BLE001 - botocore raises DataNotFoundError subclasses
        return frozenset()
    return frozenset(model._paginator_config)  # noqa: SLF001 - no public accessor


@functools.cache
def waiters(service: str) -> frozenset[str]:
    """Waiter names (PascalCase) of `service`."""
    try:
        model = session().get_waiter_model(service)
    except Exception:  # noqa: BLE001
        return frozenset()
    return frozenset(model.waiter_names)


def event_source(service: str) -> str:
    """The CloudTrail eventSource of `service`, e.g. ``iam.amazonaws.com``."""
    if service in EVENT_SOURCE_OVERRIDES:
        return EVENT_SOURCE_OVERRIDES[service]
    model = service_model(service)
    prefix = model.metadata.get("endpointPrefix", service) if model else service
    return f"{prefix}.amazonaws.com"


def is_read_only(operation: str) -> bool:
    """Whether an operation only reads, inferred from its name (see READ_ONLY_PREFIXES)."""
    if operation in NOT_READ_ONLY:
        return False
    return operation.startswith(READ_ONLY_PREFIXES)


def _cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trailguard" / f"botocore-operations-{botocore.__version__}.json"


def _build_index() -> dict[str, list[str]]:
    # A private loader so the 400+ raw models are not kept in the shared session's cache.
    loader = botocore.loaders.create_loader()
    index: dict[str, list[str]] = {}
    for svc in services():
        try:
            model = loader.load_service_model(svc, "service-2")
        except Exception:  # noqa: BLE001 - a broken model must not break explain
            continue
        for op in model.get("operations", {}):
            index.setdefault(op, []).append(svc)
    return index


@functools.cache
def operation_index() -> dict[str, tuple[str, ...]]:
    """Operation name (PascalCase) -> services that have it, e.g. CreateAccessKey -> (iam,)."""
    path = _cache_file()
    raw: dict[str, list[str]] | None = None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raw = None
    if not isinstance(raw, dict):
        raw = _build_index()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(json.dumps(raw), encoding="utf-8")
            tmp.replace(path)
        except OSError:
            pass  # a read-only home only costs the rebuild next time
    return {op: tuple(svcs) for op, svcs in raw.items()}


@functools.cache
def _lower_index() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for op in operation_index():
        out.setdefault(op.lower(), []).append(op)
    return {k: tuple(v) for k, v in out.items()}


def find_operation(name: str) -> list[tuple[str, str]]:
    """``(operation, service)`` pairs for `name`: exact spelling first, else case-insensitive.

    Case-insensitive matching can join differently spelled operations (IAM's
    DeleteSSHPublicKey and Transfer's DeleteSshPublicKey); an exact match wins.
    """
    index = operation_index()
    names = (name,) if name in index else _lower_index().get(name.lower(), ())
    return [(op, svc) for op in names for svc in index[op]]


def closest_names(name: str, extra: list[str] | None = None, n: int = 5) -> list[str]:
    """The known names closest to `name`: curated event names (`extra`) first, then botocore's."""
    spelled: dict[str, list[str]] = {}
    for c in [*(extra or []), *operation_index()]:
        variants = spelled.setdefault(c.lower(), [])
        if c not in variants:
            variants.append(c)
    hits = difflib.get_close_matches(name.lower(), list(spelled), n=n, cutoff=0.6)
    out: list[str] = []
    for h in hits:
        out.extend(spelled[h])
    return out[: n + 2]


_TAG_RE = re.compile(r"<[^>]+>")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def strip_html(text: str) -> str:
    """Plain text from botocore's HTML documentation."""
    text = _TAG_RE.sub(" ", text or "")
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def summarize(doc: str, limit: int = 400) -> str:
    """The first paragraph of an HTML doc string as plain text, cut at a sentence near `limit`."""
    first = re.split(r"</p>", doc or "", maxsplit=1)[0]
    text = strip_html(first)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    ends = [m.start() for m in _SENTENCE_END.finditer(cut)]
    return cut[: ends[-1]] if ends else cut.rstrip() + "…"


def shape_type(shape: Shape) -> str:
    """A short human type for a shape: string, integer, list[string], map, structure ..."""
    if shape.type_name == "list":
        return f"list[{shape_type(shape.member)}]"  # type: ignore[attr-defined]
    if shape.type_name == "string" and shape.enum:  # type: ignore[attr-defined]
        return "string (enum)"
    return shape.type_name


def operation_info(service: str, operation: str) -> OperationInfo:
    """Describe `operation` of `service` from botocore's model (KeyError when unknown)."""
    model = operation_model(service, operation)
    if model is None:
        raise KeyError(f"{service}:{operation}")
    params: list[Parameter] = []
    shape = model.input_shape
    if shape is not None:
        required = set(shape.required_members)  # type: ignore[attr-defined]
        for name, member in shape.members.items():  # type: ignore[attr-defined]
            params.append(Parameter(name, shape_type(member), name in required))
    svc_model = service_model(service)
    assert svc_model is not None
    cli_service = CLI_NAME_FOR_SERVICE.get(service, service)
    return OperationInfo(
        name=operation,
        service=service,
        service_full_name=svc_model.metadata.get("serviceFullName", service),
        event_source=event_source(service),
        read_only=is_read_only(operation),
        read_only_basis=CREDENTIAL_BASIS if operation in NOT_READ_ONLY else READ_ONLY_BASIS,
        documentation=summarize(model.documentation),
        parameters=params,
        pageable=operation in paginators(service),
        cli_reference=(
            "https://awscli.amazonaws.com/v2/documentation/api/latest/reference/"
            f"{cli_service}/{xform_name(operation, '-')}.html"
        ),
    )


# AWS CLI service names that differ from botocore's.
SERVICE_FOR_CLI_NAME = {
    "s3api": "s3",
    "configservice": "config",
    "deploy": "codedeploy",
}
CLI_NAME_FOR_SERVICE = {v: k for k, v in SERVICE_FOR_CLI_NAME.items()}
