"""Measure how long the html report takes to render N findings, and how big it gets.

    python bench/bench_html.py                  # N = 1,000 / 5,000 / 20,000
    python bench/bench_html.py --findings 2000 --profile 25

Findings look like a scan's: detections of knowledge-base events (so the guidance sections
are real), some with grantees and descriptions, by a few dozen actors, plus n/20 posture
results. Prints, per N: seconds to render (best of --repeat; CPU seconds too, steadier on a
shared machine), KiB written, guidance sections.
With --profile K, also the K most expensive functions (cumulative) of one render.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from datetime import UTC, datetime, timedelta

from trailguard.findings.html import render_html
from trailguard.findings.model import Actor, Finding, Report, Resource, Severity, Status

ACCOUNT = "123456789012"
EVENTS = [("CreateAccessKey", "iam"), ("StopLogging", "cloudtrail"),
          ("DeleteTrail", "cloudtrail"), ("ModifySnapshotAttribute", "ec2"),
          ("AttachUserPolicy", "iam"), ("CreateUser", "iam"), ("DeleteDetector", "guardduty"),
          ("AuthorizeSecurityGroupIngress", "ec2"), ("PutBucketPolicy", "s3"),
          ("ConsoleLogin", "signin"), ("UnknownEventForBench", "example")]


def _detection(i: int, t0: datetime) -> Finding:
    name, service = EVENTS[i % len(EVENTS)]
    details = ({"granted_to": ["everyone", "999988887777"], "public": True}
               if i % 9 == 0 else {})
    return Finding(
        kind="detection", rule_id=f"rule-{i % 40}", title=f"Rule {i % 40} <b>&</b>",
        severity=list(Severity)[i % 5], mitre=["T1098.001"], account_id=ACCOUNT,
        region="us-east-1", description="Someone did something risky to " + name,
        resources=[Resource(type="AwsIamUser", id=f"arn:aws:iam::{ACCOUNT}:user/u{i % 300}",
                            details=details)],
        explain=name, event_name=name, event_source=f"{service}.amazonaws.com",
        actor=Actor(identity_type="IAMUser", arn=f"arn:aws:iam::{ACCOUNT}:user/a{i % 50}",
                    access_key_id=f"AKIAEXAMPLE{i % 50:05d}", source_ip=f"203.0.113.{i % 250}",
                    user_agent="aws-cli/2.15.0 Python/3.11", mfa_authenticated=i % 2 == 0),
        count=i % 7 + 1, first_seen=t0 + timedelta(minutes=7 * i),
        last_seen=t0 + timedelta(minutes=7 * i + 30), event_ids=[f"e{i}-{k}" for k in range(5)],
    )


def make_report(n: int) -> Report:
    """A scan-shaped report of ``n`` detections plus n/20 posture results."""
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    findings = [_detection(i, t0) for i in range(n)]
    findings += [
        Finding(kind="posture", rule_id=f"check-{i}", title=f"Check {i}",
                severity=list(Severity)[i % 5], status=list(Status)[i % 3], cis=["1.8"],
                account_id=ACCOUNT, region="us-east-1", observed_at=t0, explain="CreateUser",
                resources=[Resource(type="AwsIamUser", id=f"arn:aws:iam::{ACCOUNT}:user/p{i}")])
        for i in range(n // 20)
    ]
    return Report(command="scan", generated_at=t0, findings=findings, stats={"events": n * 4})


def main() -> None:
    """Render synthetic reports and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--findings", type=int, nargs="*", default=[1000, 5000, 20000])
    parser.add_argument("--repeat", type=int, default=2, help="renders per N; the best counts")
    parser.add_argument("--profile", type=int, default=0, metavar="K",
                        help="print the K most expensive functions of one render")
    args = parser.parse_args()
    render_html(make_report(50))  # warm up: template compiled, knowledge base loaded
    for n in args.findings:
        report = make_report(n)
        best, cpu, html = float("inf"), float("inf"), ""
        for _ in range(max(1, args.repeat)):
            started, cpu_started = time.perf_counter(), time.process_time()
            html = render_html(report)
            best = min(best, time.perf_counter() - started)
            cpu = min(cpu, time.process_time() - cpu_started)
        size = len(html.encode("utf-8"))
        sections = html.count('<section class="event"')
        print(f"{n:7d} detections  {best:6.2f} s  (cpu {cpu:5.2f} s)  "
              f"{len(report.findings) / best:8.0f} findings/s  {size / 1024:8.0f} KiB  "
              f"{sections} sections")
        if args.profile:
            prof = cProfile.Profile()
            prof.runcall(render_html, report)
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(args.profile)
            print(out.getvalue())


if __name__ == "__main__":
    main()
