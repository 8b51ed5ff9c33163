"""Benchmark: API calls and wall time of `trailguard audit` vs a per-user loop, by user count.

Starts a moto server (ThreadedMotoServer, real HTTP), fills one account with N IAM users
(every 10th with a console password, every 5th with an access key), then measures:

* ``trailguard audit`` (the CLI, all checks, JSON to a temp file): API calls counted with
  botocore ``before-call`` hooks, wall time;
* the same audit as if every user had been idle for 100 days (``run_audit(now=+100 d)``):
  the worst case, where every user is inactive, so SSH keys are listed per user and key ids
  are resolved for every failing key;
* the per-user loop of the public pages this project improves on: ``list_users`` (paginated),
  then ``get_login_profile``, ``list_mfa_devices`` and ``list_access_keys`` for every user.

Usage: python bench/bench_audit.py [--sizes 10,1000,5000]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
from botocore.exceptions import ClientError


def start_server() -> str:
    """Start a moto server on a free port; return its URL."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}"


def populate(n: int) -> None:
    """Create users 0..n-1 through the IAM API (8 threads)."""
    iam = boto3.client("iam")

    def one(i: int) -> None:
        name = f"user{i:05d}"
        iam.create_user(UserName=name)
        if i % 10 == 0:
            iam.create_login_profile(UserName=name, Password="Correct-Horse-Battery-9")
        if i % 5 == 0:
            iam.create_access_key(UserName=name)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(n)))


def per_user_loop() -> tuple[int, float, int]:
    """The per-user approach: returns (API calls, seconds, users without MFA)."""
    calls = 0

    def count(**_: object) -> None:
        nonlocal calls
        calls += 1

    session = boto3.Session()
    session.events.register("before-call", count)
    iam = session.client("iam")
    started = time.perf_counter()
    no_mfa = 0
    for page in iam.get_paginator("list_users").paginate():
        for user in page["Users"]:
            name = user["UserName"]
            try:
                iam.get_login_profile(UserName=name)
                has_password = True
            except ClientError:
                has_password = False
            mfa = iam.list_mfa_devices(UserName=name)["MFADevices"]
            iam.list_access_keys(UserName=name)
            if has_password and not mfa:
                no_mfa += 1
    return calls, time.perf_counter() - started, no_mfa


def trailguard_audit() -> tuple[int, float, int]:
    """Run `trailguard audit` (all checks); returns (API calls, seconds, users without MFA)."""
    from typer.testing import CliRunner

    from trailguard.cli import app

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        started = time.perf_counter()
        result = CliRunner().invoke(app, ["audit", "--format", "json", "--output", str(out),
                                          "--fail-on", "none"])
        elapsed = time.perf_counter() - started
        if not out.exists():
            raise SystemExit(f"audit failed: {result.output}")
        report = json.loads(out.read_text())
    mfa = next(f for f in report["findings"]
               if f["rule_id"] == "iam_user_mfa_enabled_console_access")
    return int(report["stats"]["api_calls"]), elapsed, len(mfa["resources"])


def idle_audit() -> tuple[int, float]:
    """run_audit with a reference time 100 days ahead: returns (API calls, seconds)."""
    from datetime import UTC, datetime, timedelta

    from trailguard.audit.context import ApiCallCounter
    from trailguard.audit.engine import run_audit
    from trailguard.aws import make_session

    counter = ApiCallCounter()
    started = time.perf_counter()
    run_audit(make_session(), now=datetime.now(UTC) + timedelta(days=100), counter=counter)
    return counter.total, time.perf_counter() - started


def main() -> None:
    """Print a table: users, calls and seconds for trailguard audit and the per-user loop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,1000,5000", help="comma-separated user counts")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))

    # an empty config file of our own: no profile of the user's leaks in (and /dev/null
    # is not always a device in containers)
    empty = Path(tempfile.mkdtemp()) / "empty"
    empty.write_text("")
    os.environ.update(AWS_ENDPOINT_URL="", AWS_ACCESS_KEY_ID="testing",
                      AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
                      AWS_CONFIG_FILE=str(empty), AWS_SHARED_CREDENTIALS_FILE=str(empty))
    url = start_server()
    os.environ["AWS_ENDPOINT_URL"] = url
    print(f"{'users':>6} | {'audit calls':>11} {'audit s':>8} | {'idle calls':>10} "
          f"{'idle s':>8} | {'loop calls':>10} {'loop s':>8} | no-MFA users (audit/loop)")
    for n in sizes:
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset",
                                                      method="POST")).read()
        populate(n)
        a_calls, a_s, a_mfa = trailguard_audit()
        i_calls, i_s = idle_audit()
        l_calls, l_s, l_mfa = per_user_loop()
        print(f"{n:>6} | {a_calls:>11} {a_s:>8.2f} | {i_calls:>10} {i_s:>8.2f} | "
              f"{l_calls:>10} {l_s:>8.2f} | {a_mfa}/{l_mfa}", flush=True)


if __name__ == "__main__":
    main()
