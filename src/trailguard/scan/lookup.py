"""Read CloudTrail events through the LookupEvents API (the last 90 days of management events).

LookupEvents allows about 2 requests per second per account and region. Three layers keep a
scan inside that: a client-side limiter spaces calls, botocore's ``adaptive`` retry mode (set
by :func:`trailguard.aws.make_client`) retries throttled calls with backoff and its own
rate adjustment, and a throttle that still comes through is retried here with exponential
backoff before the scan gives up on that region.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from trailguard.scan.decode import RecordProblem, unwrap

MAX_RESULTS = 50  # the API's maximum page size
RATE_PER_SECOND = 2.0
THROTTLE_CODES = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
)


@dataclass
class RateLimiter:
    """Spaces calls at least ``1/rate`` seconds apart (clock and sleep are injectable)."""

    rate: float = RATE_PER_SECOND
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _next: float = 0.0

    def wait(self) -> None:
        """Block until the next call is allowed, then reserve the slot after it."""
        now = self.clock()
        if now < self._next:
            self.sleep(self._next - now)
            now = self._next
        self._next = now + 1.0 / self.rate


@dataclass
class LookupPage:
    """One page of LookupEvents: usable records and the events that could not be used."""

    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[RecordProblem] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)  # ids of the problem events, same order


def lookup_pages(
    client: Any,
    start: datetime,
    end: datetime,
    *,
    limiter: RateLimiter | None = None,
    max_retries: int = 6,
    sleep: Callable[[float], None] = time.sleep,
    on_call: Callable[[], None] | None = None,
) -> Iterator[LookupPage]:
    """Yield every page of LookupEvents between ``start`` and ``end``, oldest API rules kept.

    Raises ``ClientError`` for errors other than throttling, or when throttling outlasts
    ``max_retries`` backoffs.
    """
    limiter = limiter or RateLimiter()
    token: str | None = None
    index = 0
    while True:
        params: dict[str, Any] = {"StartTime": start, "EndTime": end, "MaxResults": MAX_RESULTS}
        if token:
            params["NextToken"] = token
        response = _call(client, params, limiter, max_retries, sleep, on_call)
        page = LookupPage()
        for item in response.get("Events", []):
            rec = unwrap(item)
            if isinstance(rec, str):
                page.problems.append(RecordProblem(index, rec))
                page.event_ids.append(str(item.get("EventId", index)))
            else:
                page.records.append(rec)
            index += 1
        yield page
        token = response.get("NextToken")
        if not token:
            return


def _call(
    client: Any,
    params: dict[str, Any],
    limiter: RateLimiter,
    max_retries: int,
    sleep: Callable[[float], None],
    on_call: Callable[[], None] | None,
) -> dict[str, Any]:
    for attempt in range(max_retries + 1):
        limiter.wait()
        if on_call is not None:
            on_call()
        try:
            return client.lookup_events(**params)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in THROTTLE_CODES or attempt == max_retries:
                raise
            sleep(min(30.0, 1.0 * 2**attempt) * (0.5 + random.random() / 2))
    raise AssertionError("unreachable")


def scan_lookup(
    scanner: Any,
    client: Any,
    start: datetime,
    end: datetime,
    source: str,
    *,
    limiter: RateLimiter | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Feed every LookupEvents page into ``scanner`` (a :class:`~trailguard.scan.engine.Scanner`).

    Events whose record cannot be used are reported as skipped records; an API error
    (access denied, throttling that does not end) is reported against ``source`` and ends
    this source, keeping what was read so far.
    """
    from trailguard.scan.batches import describe_error

    def count_call() -> None:
        scanner.stats.api_calls += 1

    try:
        for page in lookup_pages(
            client, start, end, limiter=limiter or RateLimiter(), sleep=sleep, on_call=count_call
        ):
            for problem, event_id in zip(page.problems, page.event_ids, strict=True):
                scanner.stats.skip(f"{source}#{event_id}", problem.reason, record=True)
            scanner.add_records(page.records, source)
            scanner.tick()
    except (ClientError, BotoCoreError) as exc:
        scanner.stats.skip(source, f"LookupEvents failed: {describe_error(exc)}")
    scanner.flush_records()
