"""Record which AWS API operations a boto3 session calls (botocore's ``before-call`` event).

Shared by the audit and remediate tests: they check which operations the code calls (read-only
audit, least-privilege policies). Importable as ``aws_recording`` because pytest puts tests/ on
sys.path for tests/conftest.py.
"""

from __future__ import annotations

import boto3


def record_operations(session: boto3.Session) -> set[str]:
    """Register a recorder on ``session``; return the set it fills with ``service.Operation``
    names (botocore event naming, e.g. ``iam.ListUsers``) as clients of the session call them.
    """
    seen: set[str] = set()
    session.events.register(
        "before-call", lambda event_name, **_: seen.add(event_name.removeprefix("before-call.")))
    return seen
