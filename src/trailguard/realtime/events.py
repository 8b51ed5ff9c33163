"""CloudTrail records out of what a Lambda function is invoked with."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from trailguard.scan.decode import unwrap

# Deeper values are left out of a record: the scanner's JSON writer stops at about 254 levels,
# and no CloudTrail field is nested anywhere near this deep (hostile input is).
MAX_DEPTH = 200
DEEP_PLACEHOLDER = "<nested too deeply: left out>"
# Envelopes inside envelopes (SQS body holding an SNS notification holding an EventBridge
# event) are opened this many times at most.
MAX_ENVELOPES = 4


def records_from_event(event: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """The CloudTrail records in a Lambda invocation event, and a reason per item left out.

    Accepts one EventBridge event (record under ``detail``), a list of them, SQS events whose
    message bodies are EventBridge events or SNS notifications of them (EventBridge -> SNS ->
    SQS), SNS events (``Records[].Sns.Message``), CloudTrail's S3 delivery document
    (``{"Records": [records]}``) and bare CloudTrail records. Anything else is reported, never
    raised: an invocation that fails is retried by Lambda and would block the queue. A value
    nested deeper than :data:`MAX_DEPTH` levels is left out of its record (the rest of the
    record is scanned) and reported too.
    """
    records: list[dict[str, Any]] = []
    skipped: list[str] = []
    if isinstance(event, list):
        items = [(f"item {n}", item) for n, item in enumerate(event)]
    else:
        items = [("event", event)]
    for where, item in items:
        for inner_where, inner in _expand(where, item, skipped, 0):
            found = unwrap(inner)
            if isinstance(found, str):
                skipped.append(f"{inner_where}: {found}")
                continue
            bounded, cut = bound_depth(found)
            if cut:
                skipped.append(f"{inner_where}: {cut} value(s) nested deeper than {MAX_DEPTH} "
                               "levels left out (the rest of the record was scanned)")
            records.append(bounded)
    return records, skipped


def _expand(where: str, item: Any, skipped: list[str], depth: int) -> Iterator[tuple[str, Any]]:
    """The items inside the envelopes of ``item`` (SQS, SNS, ``Records``), with their origin."""
    if depth > MAX_ENVELOPES or not isinstance(item, dict):
        yield where, item
        return
    if isinstance(item.get("Records"), list):
        for n, rec in enumerate(item["Records"]):
            if isinstance(rec, dict) and rec.get("eventSource") == "aws:sqs":
                inner = f"SQS message {rec.get('messageId') or n}"
                body = _json(rec.get("body"), inner, "body", skipped)
            elif isinstance(rec, dict) and rec.get("EventSource") == "aws:sns":
                sns = rec.get("Sns") if isinstance(rec.get("Sns"), dict) else {}
                inner = f"SNS message {sns.get('MessageId') or n}"
                body = _json(sns.get("Message"), inner, "Message", skipped)
            else:
                label = f"record {n}" if where == "event" else f"{where} record {n}"
                yield from _expand(label, rec, skipped, depth + 1)
                continue
            if body is not _BAD:
                yield from _expand(inner, body, skipped, depth + 1)
        return
    if item.get("Type") == "Notification" and isinstance(item.get("Message"), str):
        inner = f"{where} (SNS notification {item.get('MessageId') or '?'})"
        body = _json(item["Message"], inner, "Message", skipped)
        if body is not _BAD:
            yield from _expand(inner, body, skipped, depth + 1)
        return
    yield where, item


_BAD = object()


def _json(text: Any, where: str, field: str, skipped: list[str]) -> Any:
    """``text`` parsed (too-deep parts as a placeholder), or ``_BAD`` and a reason reported."""
    if not isinstance(text, (str, bytes)) or not text:
        skipped.append(f"{where}: {field} is missing or empty")
        return _BAD
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc) or "recursion" in str(exc).lower():
            from trailguard.sigma.records import flatten_deep

            raw = text if isinstance(text, str) else text.decode("utf-8", "replace")
            try:
                return orjson.loads(flatten_deep(raw, MAX_DEPTH))
            except orjson.JSONDecodeError:
                pass
        skipped.append(f"{where}: {field} is not JSON")
        return _BAD


def bound_depth(record: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """``record`` as the scanner can write it, and how many values were left out.

    Every value nested deeper than :data:`MAX_DEPTH` levels becomes a placeholder; an integer
    beyond 64 bits (JSON allows it, the scanner's writer does not) becomes its decimal text.
    Records of normal shape are returned as they are, uncopied.
    """
    try:
        orjson.dumps(record)
    except TypeError:
        pass
    else:
        return record, 0
    cut = 0

    def copy(value: Any, depth: int) -> Any:
        nonlocal cut
        if isinstance(value, int) and not isinstance(value, bool) and not (
            -(2**63) <= value < 2**64
        ):
            return str(value)
        if not isinstance(value, (dict, list)):
            return value
        if depth >= MAX_DEPTH:
            cut += 1
            return DEEP_PLACEHOLDER
        if isinstance(value, dict):
            return {k: copy(v, depth + 1) for k, v in value.items()}
        return [copy(v, depth + 1) for v in value]

    return copy(record, 0), cut
