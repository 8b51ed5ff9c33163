"""CloudTrail records out of what a Lambda function is invoked with."""

from __future__ import annotations

from typing import Any

import orjson

from trailguard.scan.decode import unwrap


def records_from_event(event: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """The CloudTrail records in a Lambda invocation event, and a reason per item left out.

    Accepts one EventBridge event (record under ``detail``), a list of them, an SQS event
    whose message bodies are EventBridge events (an EventBridge rule targeting a queue), and
    bare CloudTrail records. Anything else is reported, never raised: an invocation that
    fails is retried by Lambda and would block the queue.
    """
    records: list[dict[str, Any]] = []
    skipped: list[str] = []
    items: list[tuple[str, Any]]
    if isinstance(event, dict) and isinstance(event.get("Records"), list) and all(
        isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in event["Records"]
    ):
        items = []
        for n, message in enumerate(event["Records"]):
            where = f"SQS message {message.get('messageId') or n}"
            try:
                items.append((where, orjson.loads(message.get("body") or "")))
            except orjson.JSONDecodeError:
                skipped.append(f"{where}: body is not JSON")
    elif isinstance(event, list):
        items = [(f"item {n}", item) for n, item in enumerate(event)]
    else:
        items = [("event", event)]
    for where, item in items:
        found = unwrap(item)
        if isinstance(found, str):
            skipped.append(f"{where}: {found}")
        else:
            records.append(found)
    return records, skipped
