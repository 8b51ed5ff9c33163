"""The check catalog: every check has code and metadata; names it points to are real."""

from __future__ import annotations

import botocore.session

from trailguard.audit.catalog import load_alerting_probes, load_catalog
from trailguard.audit.checks import load_checks

REMEDIATION_ACTIONS = {
    "password-policy", "require-password-reset", "mfa-enforce-policy", "deactivate-access-key",
    "deactivate-ssh-public-key", "deactivate-signing-certificate", "cloudtrail-enable",
    "alerting-rule",
}
SIGN_IN_EVENTS = {"ConsoleLogin"}  # recorded by CloudTrail, not an API operation


def _operations() -> set[str]:
    session = botocore.session.get_session()
    ops: set[str] = set()
    for service in ("iam", "cloudtrail", "s3", "sts"):
        ops |= set(session.get_service_model(service).operation_names)
    return ops


def test_every_catalog_entry_has_a_check_and_back() -> None:
    assert set(load_catalog()) == set(load_checks())


def test_explain_events_are_real_and_remediations_known() -> None:
    ops = _operations() | SIGN_IN_EVENTS
    for cid, meta in load_catalog().items():
        assert meta.explain in ops, (cid, meta.explain)
        assert meta.remediation is None or meta.remediation in REMEDIATION_ACTIONS, cid


def test_alerting_probes_name_real_events() -> None:
    """Each probe's eventName is an operation of the service of its eventSource."""
    session = botocore.session.get_session()
    probes = load_alerting_probes()
    assert set(probes) == {c for c in load_catalog() if c.startswith("alerting_")}
    for cid, items in probes.items():
        for p in items:
            service = p.record["eventSource"].removesuffix(".amazonaws.com")
            ops = SIGN_IN_EVENTS if service == "signin" else set(
                session.get_service_model(service).operation_names)
            assert p.record["eventName"] in ops, (cid, p.name)


def test_cis_ids_use_v3_v4_numbering_or_name_their_version() -> None:
    import re

    for cid, meta in load_catalog().items():
        for ref in meta.cis:
            assert re.fullmatch(r"\d\.\d{1,2}( \(v1\.[24]\))?", ref), (cid, ref)
