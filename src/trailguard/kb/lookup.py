"""Find what to explain for an event name: a curated entry, or botocore's model of it."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from trailguard.kb import botocore_index as bi
from trailguard.kb.loader import get_entry, load_entries
from trailguard.kb.schema import Entry, Severity


class UnknownEventError(LookupError):
    """An event name that is neither curated nor an operation botocore knows."""

    def __init__(self, message: str, suggestions: list[str]) -> None:
        super().__init__(message)
        self.suggestions = suggestions


# Services responders and attackers touch most, most common first: when an uncurated name
# exists in several services and no --service is given, the first of these that has it is
# the default answer (CreateTags -> ec2, GetObject -> s3, CreateUser -> iam).
PREFERRED_SERVICES = (
    "s3",
    "iam",
    "ec2",
    "sts",
    "lambda",
    "kms",
    "cloudtrail",
    "organizations",
    "secretsmanager",
    "ssm",
    "logs",
    "cloudwatch",
    "events",
    "sns",
    "sqs",
    "dynamodb",
    "rds",
    "ecr",
    "ecs",
    "eks",
    "guardduty",
    "config",
    "route53",
    "cloudformation",
    "sso-admin",
    "identitystore",
    "cognito-idp",
    "apigateway",
    "elbv2",
    "backup",
)


@dataclass(frozen=True)
class Choice:
    """Which service's operation to show for an uncurated name, and what else has it."""

    shown: list[bi.OperationInfo]
    others: list[str] = field(default_factory=list)

    @property
    def note(self) -> str | None:
        """``CreateTags exists in 7 services; showing ec2; ...`` when the name is ambiguous."""
        if len(self.shown) > 1:
            return (
                f"{self.shown[0].name} exists in {len(self.shown)} services "
                f"({', '.join(i.service for i in self.shown)}); choose one with --service"
            )
        if self.others:
            return (
                f"{self.shown[0].name} exists in {len(self.others) + 1} services; showing "
                f"{self.shown[0].service}; choose with --service "
                f"({', '.join(self.others)})"
            )
        return None


def choose(infos: list[bi.OperationInfo]) -> Choice:
    """The default answer among services sharing an operation name: the most common service
    (PREFERRED_SERVICES) alone, else every service so the user can pick."""
    rank = {svc: i for i, svc in enumerate(PREFERRED_SERVICES)}
    ranked = [i for i in infos if i.service in rank]
    if len(infos) < 2 or not ranked:
        return Choice(list(infos))
    best = min(ranked, key=lambda i: rank[i.service])
    return Choice([best], [i.service for i in infos if i is not best])


def resolve(event: str, service: str | None = None) -> Entry | list[bi.OperationInfo]:
    """The curated entry for `event`, else botocore's description of it (one per service).

    `service` restricts the answer to one service (for names that exist in several): a
    botocore service name (``ec2``) or a CloudTrail eventSource (``ec2.amazonaws.com``).
    Raises UnknownEventError, with the closest known names, when nothing matches.
    """
    name = event.strip()
    entry = get_entry(name)
    service = normalize_service(service) if service else None
    if entry is not None and (service is None or _matches(entry, service)):
        return entry
    by_source = service is not None and service.endswith(".amazonaws.com")
    if service is not None and not by_source and not bi.has_model(service) and entry is None:
        close = difflib.get_close_matches(service, list(bi.services()), n=5)
        raise UnknownEventError(f"unknown service {service!r}", close)
    found = bi.find_operation(name)
    if not found and name in bi.NON_API_EVENTS:
        raise UnknownEventError(
            f"{name} is a CloudTrail event with no API model (sign-in or Git events); "
            "no curated guidance exists for it yet",
            [],
        )
    if not found:
        suggestions = bi.closest_names(name, extra=list(load_entries()))
        raise UnknownEventError(
            f"unknown event {name!r}: not curated and not an AWS API", suggestions
        )
    if service is not None:
        pairs = [
            (op, svc)
            for op, svc in found
            if service == (bi.event_source(svc) if by_source else svc)
        ]
        if not pairs:
            where = sorted({svc for _, svc in found})
            raise UnknownEventError(
                f"{found[0][0]} is not an operation of {service!r}; "
                f"it exists in {', '.join(where)}",
                [],
            )
        found = pairs
    return [bi.operation_info(svc, op) for op, svc in found]


SEVERITY_ORDER = list(Severity)


class UnknownServiceError(LookupError):
    """A --service value that is neither a curated service, a botocore service nor an
    eventSource AWS knows."""

    def __init__(self, message: str, known: list[str]) -> None:
        super().__init__(message)
        self.known = known


def _endpoint_prefixes() -> frozenset[str]:
    partitions = bi.session().get_data("endpoints")["partitions"]
    return frozenset(name for p in partitions for name in p["services"])


def normalize_service(service: str) -> str:
    """`service` as written by users, made comparable: trimmed and lower-case, so ``IAM``,
    ``iam`` and ``iam.amazonaws.com`` all name IAM (the eventSource form is kept)."""
    return service.strip().lower()


def _matches(entry: Entry, service: str) -> bool:
    return service in (entry.service.lower(), entry.event_source.lower())


def curated_services() -> list[str]:
    """The services that have curated entries, sorted."""
    return sorted({e.service for e in load_entries().values()})


def check_service(service: str) -> None:
    """Raise UnknownServiceError (listing the curated services) unless `service` names a
    curated service, a botocore service or a known eventSource."""
    key = normalize_service(service)
    if any(_matches(e, key) for e in load_entries().values()):
        return
    prefix = key.removesuffix(".amazonaws.com")
    if key.endswith(".amazonaws.com"):
        known = prefix in _endpoint_prefixes() or bi.has_model(prefix)
    else:
        known = bi.has_model(key)
    if not known:
        close = difflib.get_close_matches(prefix, [*curated_services(), *bi.services()], n=5)
        raise UnknownServiceError(
            f"unknown service {service!r}; use a service name (iam) or an eventSource "
            "(iam.amazonaws.com)",
            sorted(set(close)) or curated_services(),
        )


def filter_entries(
    service: str | None = None,
    min_severity: Severity | None = None,
    search: str | None = None,
    tactic: str | None = None,
) -> list[Entry]:
    """Curated entries matching all given filters, sorted by service then event name.

    `service` is a service name or an eventSource, in any case (see check_service for
    telling an unknown one from one without curated entries); `min_severity` keeps entries
    at least that severe; `search` keeps entries whose name,
    summary or impact text contains every word (case-insensitive); `tactic` matches an
    ATT&CK tactic of the entry.
    """
    words = [w.lower() for w in (search or "").split()]
    key = normalize_service(service) if service else None
    out: list[Entry] = []
    for entry in load_entries().values():
        if key and not _matches(entry, key):
            continue
        if min_severity and SEVERITY_ORDER.index(entry.severity) < SEVERITY_ORDER.index(
            min_severity
        ):
            continue
        if tactic and tactic.lower() not in {t.tactic.lower() for t in entry.mitre_attack}:
            continue
        if words:
            haystack = " ".join(
                [
                    entry.event_name,
                    entry.summary.what,
                    entry.summary.who_can,
                    *(f"{i.title} {i.description}" for i in entry.impact),
                ]
            ).lower()
            if not all(w in haystack for w in words):
                continue
        out.append(entry)
    return sorted(out, key=lambda e: (e.service, e.event_name))
