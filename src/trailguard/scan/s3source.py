"""Walk CloudTrail's S3 delivery layout and list only the objects a scan needs.

Layout (``PREFIX`` optional, ``o-xxxx`` only for organization trails)::

    PREFIX/AWSLogs/[o-xxxx/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/<file>.json.gz

Accounts, regions, years, months and days are discovered one level at a time with
``Delimiter='/'`` listings (a handful of small calls), filtered by ``--account``,
``--region``, ``--since`` and ``--until`` before descending; only the day prefixes inside
the window (see :func:`trailguard.scan.layout.window_days`: late-evening events are delivered
after midnight) are listed in full. A whole bucket is
never listed to be filtered afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from trailguard.scan.inputs import S3Input, UsageError
from trailguard.scan.layout import window_days

SERVICE_FOLDER = "CloudTrail"  # not CloudTrail-Digest (signatures) nor CloudTrail-Insight
_FIND_DEPTH = 2  # how many folder levels below the given prefix to look for AWSLogs/


def parse_s3_url(url: str) -> tuple[str, str]:
    """Split ``s3://bucket/prefix`` into bucket and prefix (prefix may be empty)."""
    if not url.startswith("s3://"):
        raise UsageError(f"not an s3:// URL: {url}")
    bucket, _, prefix = url[5:].partition("/")
    if not bucket:
        raise UsageError(f"no bucket in {url}")
    return bucket, prefix


def _last(prefix: str) -> str:
    return prefix.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class S3Walker:
    """Iterate the CloudTrail log objects under one ``s3://`` URL, honouring the filters."""

    client: Any
    url: str
    since: datetime | None = None
    until: datetime | None = None
    accounts: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    list_calls: int = 0
    notes: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[S3Input]:
        """Yield the objects to scan, in layout order."""
        bucket, prefix = parse_s3_url(self.url)
        self.bucket = bucket
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        if "AWSLogs/" in prefix:
            base, _, rest = prefix.partition("AWSLogs/")
            yield from self._from_awslogs(base + "AWSLogs/", [s for s in rest.split("/") if s])
            return
        roots = self._find_awslogs(prefix, _FIND_DEPTH)
        if roots:
            for root in roots:
                yield from self._from_awslogs(root, [])
            return
        self.notes.append(
            f"no AWSLogs/ folder under {self.url}: reading every object below it "
            "(--since/--until/--account/--region cannot narrow a non-CloudTrail layout)"
        )
        yield from self._objects(prefix)

    # -- listing primitives -------------------------------------------------------------

    def _children(self, prefix: str) -> list[str]:
        """Sub-folders directly under ``prefix`` (one Delimiter listing, paginated)."""
        out: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
            self.list_calls += 1
            out.extend(cp["Prefix"] for cp in page.get("CommonPrefixes", []))
        return out

    def _objects(self, prefix: str) -> Iterator[S3Input]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            self.list_calls += 1
            for obj in page.get("Contents", []):
                if not obj["Key"].endswith("/"):
                    yield S3Input(self.client, self.bucket, obj["Key"], int(obj.get("Size", 0)))

    # -- layout -------------------------------------------------------------------------

    def _find_awslogs(self, prefix: str, depth: int) -> list[str]:
        children = self._children(prefix)
        target = prefix + "AWSLogs/"
        if target in children:
            return [target]
        if depth <= 0:
            return []
        found: list[str] = []
        for child in children:
            found.extend(self._find_awslogs(child, depth - 1))
        return found

    def _from_awslogs(self, root: str, segs: list[str]) -> Iterator[S3Input]:
        for account_prefix, rest in self._accounts(root, segs):
            if rest:
                service, rest = rest[0], rest[1:]
            else:
                service = SERVICE_FOLDER
            yield from self._regions(f"{account_prefix}{service}/", rest)

    def _accounts(self, root: str, segs: list[str]) -> Iterator[tuple[str, list[str]]]:
        if segs:
            first, rest = segs[0], segs[1:]
            if first.startswith("o-"):
                org = f"{root}{first}/"
                if rest:
                    yield f"{org}{rest[0]}/", rest[1:]
                else:
                    yield from ((a, []) for a in self._org_accounts(org))
            else:
                yield f"{root}{first}/", rest
            return
        for top in self._children(root):
            name = _last(top)
            if name.startswith("o-"):
                yield from ((a, []) for a in self._org_accounts(top))
            elif not self.accounts or name in self.accounts:
                yield top, []

    def _org_accounts(self, org: str) -> list[str]:
        if self.accounts:
            return [f"{org}{a}/" for a in sorted(self.accounts)]
        return self._children(org)

    def _regions(self, service_prefix: str, segs: list[str]) -> Iterator[S3Input]:
        if segs:
            regions = [f"{service_prefix}{segs[0]}/"]
            segs = segs[1:]
        elif self.regions:
            regions = [f"{service_prefix}{r}/" for r in sorted(self.regions)]
        else:
            regions = self._children(service_prefix)
        for region_prefix in regions:
            yield from self._days(region_prefix, segs)

    def _days(self, region_prefix: str, segs: list[str]) -> Iterator[S3Input]:
        lo, hi = window_days(self.since, self.until)
        years = (
            [f"{region_prefix}{segs[0]}/"] if segs else self._children(region_prefix)
        )
        for year_prefix in years:
            year = _int(_last(year_prefix))
            if year is None or not lo.year <= year <= hi.year:
                continue
            months = (
                [f"{year_prefix}{segs[1]}/"] if len(segs) > 1 else self._children(year_prefix)
            )
            for month_prefix in months:
                month = _int(_last(month_prefix))
                if month is None or not (lo.year, lo.month) <= (year, month) <= (hi.year, hi.month):
                    continue
                days = (
                    [f"{month_prefix}{segs[2]}/"] if len(segs) > 2 else self._children(month_prefix)
                )
                for day_prefix in days:
                    day = _int(_last(day_prefix))
                    try:
                        when = date(year, month, day) if day is not None else None
                    except ValueError:
                        when = None
                    if when is None or not lo <= when <= hi:
                        continue
                    yield from self._objects(day_prefix)


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None
