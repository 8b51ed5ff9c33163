"""Measure how long each output format takes to write N findings, and the file size.

    python bench/bench_findings.py --findings 5000

Prints one line per format: seconds, findings/second, KiB written, peak traced memory.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from trailguard.findings.model import Actor, Finding, Report, Resource, Severity, Status
from trailguard.findings.output import FORMATS, write_report

ACCOUNT = "123456789012"


def make_report(n: int) -> Report:
    """A scan-shaped report of ``n`` detections plus n/10 posture results, over ~n*7 minutes."""
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    sev = list(Severity)
    findings = [
        Finding(
            kind="detection", rule_id=f"rule-{i % 40}", title=f"Rule {i % 40}",
            severity=sev[i % 5], mitre=["T1098.001"], account_id=ACCOUNT, region="us-east-1",
            resources=[Resource(type="AwsIamUser", id=f"arn:aws:iam::{ACCOUNT}:user/u{i % 300}")],
            explain=f"Event{i % 60}", event_name=f"Event{i % 60}",
            event_source="iam.amazonaws.com",
            actor=Actor(identity_type="IAMUser", arn=f"arn:aws:iam::{ACCOUNT}:user/a{i % 50}",
                        source_ip=f"203.0.113.{i % 250}", user_agent="aws-cli/2.15.0"),
            count=i % 7 + 1, first_seen=t0 + timedelta(minutes=7 * i),
            last_seen=t0 + timedelta(minutes=7 * i + 30), event_ids=[f"e{i}-{k}" for k in range(5)],
        )
        for i in range(n)
    ]
    findings += [
        Finding(kind="posture", rule_id=f"check-{i}", title=f"Check {i}", severity=sev[i % 5],
                status=list(Status)[i % 3], cis=["1.8"], account_id=ACCOUNT, region="us-east-1",
                observed_at=t0)
        for i in range(n // 10)
    ]
    return Report(command="scan", generated_at=t0, findings=findings, stats={"events": n * 4})


def main() -> None:
    """Write the synthetic report in every format and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--findings", type=int, default=2000)
    args = parser.parse_args()
    report = make_report(args.findings)
    total = len(report.findings)
    print(f"{total} findings")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in FORMATS:
            path = Path(tmp) / f"report.{fmt}"
            started = time.perf_counter()
            write_report(report, fmt, path)
            elapsed = time.perf_counter() - started
            tracemalloc.start()  # a second, slower run for memory: tracing distorts timing
            write_report(report, fmt, path)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"{fmt:6} {elapsed:7.2f} s  {total / elapsed:9.0f} findings/s  "
                  f"{path.stat().st_size / 1024:9.0f} KiB  peak {peak / 2**20:6.1f} MiB")


if __name__ == "__main__":
    main()
