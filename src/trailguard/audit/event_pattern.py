"""EventBridge event pattern matching, done here because moto's TestEventPattern is a stub.

Implements the content filters of EventBridge patterns: exact values (strings, numbers,
booleans, null), ``prefix``, ``suffix``, ``equals-ignore-case``, ``wildcard``,
``anything-but`` (values, prefix, suffix, equals-ignore-case, wildcard), ``numeric``,
``exists``, ``cidr`` and ``$or``. Arrays in the event match when any element matches.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

_MISSING = object()


def _wildcard(pattern: str, value: str, ignore_case: bool = False) -> bool:
    rx = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(rx, value, re.IGNORECASE if ignore_case else 0) is not None


def _numeric(spec: list[Any], value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    ops = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__,
           "=": float.__eq__}
    for i in range(0, len(spec) - 1, 2):
        op, bound = spec[i], spec[i + 1]
        if op not in ops or not ops[op](float(value), float(bound)):
            return False
    return True


def _string_filter(spec: dict[str, Any], value: Any) -> bool:
    """prefix / suffix / equals-ignore-case / wildcard on one value."""
    if not isinstance(value, str):
        return False
    if "prefix" in spec:
        p = spec["prefix"]
        if isinstance(p, dict):
            return value.lower().startswith(str(p.get("equals-ignore-case", "")).lower())
        return value.startswith(p)
    if "suffix" in spec:
        p = spec["suffix"]
        if isinstance(p, dict):
            return value.lower().endswith(str(p.get("equals-ignore-case", "")).lower())
        return value.endswith(p)
    if "equals-ignore-case" in spec:
        return value.lower() == str(spec["equals-ignore-case"]).lower()
    if "wildcard" in spec:
        return _wildcard(spec["wildcard"], value)
    return False


def _value_matches(rule: Any, value: Any) -> bool:
    if not isinstance(rule, dict):
        if isinstance(rule, bool) or isinstance(value, bool):
            return type(rule) is type(value) and rule == value
        return rule == value
    if "anything-but" in rule:
        ab = rule["anything-but"]
        if isinstance(ab, dict):
            return not _string_filter(ab, value)
        excluded = ab if isinstance(ab, list) else [ab]
        return value not in excluded
    if "numeric" in rule:
        return _numeric(rule["numeric"], value)
    if "cidr" in rule:
        try:
            return ipaddress.ip_address(value) in ipaddress.ip_network(rule["cidr"], strict=False)
        except (TypeError, ValueError):
            return False
    return _string_filter(rule, value)


def _field_matches(rules: list[Any], value: Any) -> bool:
    if value is _MISSING:
        return any(isinstance(r, dict) and r.get("exists") is False for r in rules)
    values = value if isinstance(value, list) else [value]
    for r in rules:
        if isinstance(r, dict) and "exists" in r:
            if r["exists"] is True:
                return True
            continue
        if any(_value_matches(r, v) for v in values):
            return True
    return False


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """True when ``event`` (a dict as EventBridge delivers it) matches ``pattern``."""
    if not isinstance(event, dict):
        event = {}
    for key, rule in pattern.items():
        if key == "$or":
            if not any(matches(p, event) for p in rule):
                return False
            continue
        value = event.get(key, _MISSING)
        if isinstance(rule, dict):
            if isinstance(value, list):
                if not any(matches(rule, v) for v in value):
                    return False
            elif not matches(rule, value if isinstance(value, dict) else {}):
                return False
        elif isinstance(rule, list):
            if not _field_matches(rule, value):
                return False
        else:
            return False  # invalid pattern: leaves must be arrays
    return True


def cloudtrail_record(record: dict[str, Any], account_id: str, region: str) -> dict[str, Any]:
    """Complete a partial CloudTrail record with the fields every API call record has."""
    return {"eventVersion": "1.09", "eventType": "AwsApiCall", "awsRegion": region,
            "recipientAccountId": account_id,
            "userIdentity": {"type": "IAMUser", "accountId": account_id}, **record}


def eventbridge_event(record: dict[str, Any], account_id: str, region: str) -> dict[str, Any]:
    """Wrap a CloudTrail record the way EventBridge delivers it (source, detail-type, detail)."""
    source = record.get("eventSource", "")
    service = source.split(".", 1)[0]
    if record.get("eventType") == "AwsConsoleSignIn":
        detail_type = "AWS Console Sign In via CloudTrail"
    else:
        detail_type = "AWS API Call via CloudTrail"
    detail = cloudtrail_record(record, account_id, region)
    return {
        "version": "0",
        "id": "00000000-0000-0000-0000-000000000000",
        "detail-type": detail_type,
        "source": f"aws.{service}",
        "account": account_id,
        "time": "2024-01-01T00:00:00Z",
        "region": region,
        "resources": [],
        "detail": detail,
    }
