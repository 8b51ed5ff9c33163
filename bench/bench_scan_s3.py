"""Benchmark scanning CloudTrail logs in S3: objects per second against fetch concurrency.

A moto server (real HTTP, in its own process) holds N small delivery objects in CloudTrail's
layout. Against a local server every request returns in a few milliseconds, which hides what
matters on real S3: each GET waits for the network. So every request of the measured client
first waits ``--latency-ms`` (default 25 ms, a typical first-byte time for a small S3
object), and the scan is timed with several fetch concurrencies (the reader's open pool)::

    python bench/bench_scan_s3.py --objects 400 --latency-ms 25 --fetchers 4 16 32

It prints objects/s, events/s, API calls and wall time per concurrency.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import socket
import subprocess
import sys
import time
from typing import Any

import boto3

from trailguard.aws import make_client, make_session
from trailguard.scan.batches import Reader
from trailguard.scan.engine import Scanner
from trailguard.scan.ruleset import load_detector
from trailguard.scan.s3source import S3Walker

BUCKET = "bench-trail"
ACCOUNT = "123456789012"


def _records(n: int, start: int) -> list[dict[str, Any]]:
    out = []
    for i in range(start, start + n):
        out.append({
            "eventVersion": "1.08",
            "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/u{i % 50}",
                             "accountId": ACCOUNT, "userName": f"u{i % 50}"},
            "eventTime": f"2026-11-20T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z",
            "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances",
            "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7",
            "userAgent": "aws-cli/2.15.0", "requestParameters": {"maxResults": 1000},
            "responseElements": None, "requestID": f"r{i}", "eventID": f"e{i}",
            "readOnly": True, "eventType": "AwsApiCall", "managementEvent": True,
            "recipientAccountId": ACCOUNT, "eventCategory": "Management",
        })
    return out


def _fill(objects: int, per_object: int) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for n in range(objects):
        key = (f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/11/20/"
               f"{ACCOUNT}_CloudTrail_us-east-1_20261120T{n % 24:02d}05Z_{n:06d}.json.gz")
        body = gzip.compress(json.dumps({"Records": _records(per_object, n * per_object)})
                             .encode())
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)


def _scan(fetchers: int, latency: float) -> tuple[float, Any, int]:
    client = make_client(make_session(), "s3", max_pool_connections=max(10, fetchers))
    calls = [0]

    def wait(**_: Any) -> None:  # the network round trip moto does not have
        calls[0] += 1
        time.sleep(latency)

    client.meta.events.register("before-send.s3", wait)
    detector, metas = load_detector()
    scanner = Scanner(detector, metas)
    walker = S3Walker(client, f"s3://{BUCKET}")
    t0 = time.perf_counter()
    scanner.scan_inputs(Reader(walker, walker.url, prefetch=fetchers), walker.url)
    scanner.finish()
    secs = time.perf_counter() - t0
    scanner.close()
    return secs, scanner.stats, calls[0]


def _wait_for(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"moto server did not start on port {port}")


def main() -> None:
    """Fill a moto bucket, then scan it at each concurrency and print the rates."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=400)
    ap.add_argument("--events-per-object", type=int, default=100)
    ap.add_argument("--latency-ms", type=float, default=25.0)
    ap.add_argument("--fetchers", type=int, nargs="+", default=[4, 16, 32])
    args = ap.parse_args()
    # moto in its own process: in this one it would compete with the scan for the GIL.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.environ.update({
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
    })
    try:
        _wait_for(port)
        _fill(args.objects, args.events_per_object)
        print(f"{args.objects} objects x {args.events_per_object} events in a moto bucket, "
              f"{args.latency_ms:.0f} ms added to every request")
        print(f"{'fetchers':>8} {'seconds':>8} {'objects/s':>10} {'events/s':>10} {'requests':>9}")
        for fetchers in args.fetchers:
            secs, stats, requests = _scan(fetchers, args.latency_ms / 1000)
            assert stats.files_read == args.objects, stats
            print(f"{fetchers:>8} {secs:>8.2f} {stats.files_read / secs:>10,.0f} "
                  f"{stats.events / secs:>10,.0f} {requests:>9}")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
