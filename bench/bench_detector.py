"""Throughput of Detector.run: synthetic CloudTrail rows in DuckDB, ~40 simple Sigma rules.

Usage: python bench/bench_detector.py [ROWS] [THREADS] [synthetic|shipped]

``synthetic`` (default): 38 rules made here; ``shipped``: the rule catalog in src/trailguard/rules.

The table has the exact scan schema (scan/schema.py COLUMNS), as read_json with an explicit
schema produces it; rows are generated in SQL so the figure is the rule evaluation alone.
Prints rows/second of Detector.run (median of 3) and the number of matches.
"""

from __future__ import annotations

import statistics
import sys
import time

import duckdb
from sigma.collection import SigmaCollection

from trailguard.scan.schema import COLUMNS
from trailguard.sigma import Detector

EVENTS = [
    ("iam", n)
    for n in [
        "CreateUser",
        "DeleteUser",
        "CreateAccessKey",
        "DeleteAccessKey",
        "UpdateAccessKey",
        "CreateLoginProfile",
        "DeleteLoginProfile",
        "UpdateLoginProfile",
        "AttachUserPolicy",
        "DetachUserPolicy",
        "PutUserPolicy",
        "CreateRole",
        "AttachRolePolicy",
        "PutRolePolicy",
        "UpdateAssumeRolePolicy",
        "DeactivateMFADevice",
        "DeleteVirtualMFADevice",
        "UpdateAccountPasswordPolicy",
        "DeleteAccountPasswordPolicy",
        "UploadSSHPublicKey",
        "AddUserToGroup",
        "CreatePolicyVersion",
        "SetDefaultPolicyVersion",
    ]
] + [
    ("cloudtrail", "StopLogging"),
    ("cloudtrail", "DeleteTrail"),
    ("cloudtrail", "UpdateTrail"),
    ("cloudtrail", "PutEventSelectors"),
    ("guardduty", "DeleteDetector"),
    ("config", "StopConfigurationRecorder"),
    ("kms", "ScheduleKeyDeletion"),
    ("s3", "PutBucketPolicy"),
    ("ec2", "AuthorizeSecurityGroupIngress"),
]


def rules_yaml() -> str:
    docs = []
    for i, (svc, name) in enumerate(EVENTS):
        docs.append(
            f"title: bench {name}\nid: 00000000-0000-4000-8000-{i:012d}\n"
            "logsource: {product: aws, service: cloudtrail}\n"
            f"detection:\n  sel:\n    eventSource: {svc}.amazonaws.com\n    eventName: {name}\n"
            "  condition: sel\nlevel: medium\n"
        )
    extra = [
        "  sel:\n    userIdentity.type: Root\n  filter:\n    userIdentity.invokedBy|exists: true\n"
        "  condition: sel and not filter\n",
        "  sel:\n    errorCode: [AccessDenied, UnauthorizedOperation]\n"
        "    eventSource: iam.amazonaws.com\n  condition: sel\n",
        "  sel:\n    eventName: ConsoleLogin\n    additionalEventData.MFAUsed: 'No'\n"
        "  condition: sel\n",
        "  sel:\n    eventName: CreateAccessKey\n"
        "  self:\n    requestParameters.userName|fieldref: userIdentity.userName\n"
        "  condition: sel and not self\n",
        "  sel:\n    userAgent|contains: [kali, parrot, pentoo]\n  condition: sel\n",
        "  sel:\n    eventName|startswith: ['Delete', 'Stop']\n"
        "    eventSource: guardduty.amazonaws.com\n  condition: sel\n",
    ]
    for j, det in enumerate(extra):
        docs.append(
            f"title: bench extra {j}\nid: 00000000-0000-4000-9000-{j:012d}\n"
            "logsource: {product: aws, service: cloudtrail}\n"
            f"detection:\n{det}level: high\n"
        )
    return "---\n".join(docs)


def make_table(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    """Synthetic rows: mostly read-only noise (ec2/s3/sts Describe/Get/List), ~0.5% rule hits."""
    noise = [
        ("ec2", "DescribeInstances"),
        ("s3", "GetObject"),
        ("sts", "GetCallerIdentity"),
        ("iam", "ListUsers"),
        ("iam", "GetUser"),
        ("kms", "Decrypt"),
        ("lambda", "ListFunctions"),
        ("logs", "DescribeLogGroups"),
    ]
    interesting = EVENTS + [("signin", "ConsoleLogin")]
    cols = ", ".join(f'"{c}" {t}' for c, t in COLUMNS.items())
    con.execute(f"CREATE OR REPLACE TABLE events ({cols})")
    noise_src = "[" + ", ".join(f"'{s}.amazonaws.com'" for s, _ in noise) + "]"
    noise_name = "[" + ", ".join(f"'{n}'" for _, n in noise) + "]"
    int_src = "[" + ", ".join(f"'{s}.amazonaws.com'" for s, _ in interesting) + "]"
    int_name = "[" + ", ".join(f"'{n}'" for _, n in interesting) + "]"
    ui_type = COLUMNS["userIdentity"]
    con.execute(
        f"""
        INSERT INTO events (eventVersion, userIdentity, eventTime, eventSource, eventName,
            awsRegion, sourceIPAddress, userAgent, errorCode, requestParameters,
            additionalEventData, eventID, readOnly, managementEvent, recipientAccountId)
        SELECT '1.09',
            CAST({{'type': CASE WHEN i % 997 = 0 THEN 'Root' WHEN i % 3 = 0 THEN 'AssumedRole'
                             ELSE 'IAMUser' END,
                  'principalId': 'AIDAEXAMPLE' || (i % 50),
                  'arn': 'arn:aws:iam::123456789012:user/u' || (i % 50),
                  'accountId': '123456789012', 'accessKeyId': 'AKIAEXAMPLE' || (i % 50),
                  'userName': 'u' || (i % 50), 'invokedBy': NULL, 'identityProvider': NULL,
                  'credentialId': NULL, 'onBehalfOf': NULL,
                  'sessionContext': {{'sessionIssuer': NULL,
                      'attributes': {{'creationDate': '2024-07-30T10:00:00Z',
                                      'mfaAuthenticated': 'false'}},
                      'sourceIdentity': NULL, 'webIdFederationData': NULL,
                      'ec2RoleDelivery': NULL}}}} AS {ui_type}),
            '2024-07-30T10:' || lpad(CAST((i // 60) % 60 AS VARCHAR), 2, '0') || ':'
                || lpad(CAST(i % 60 AS VARCHAR), 2, '0') || 'Z',
            CASE WHEN i % 200 = 0 THEN {int_src}[1 + (i // 200) % {len(interesting)}]
                 ELSE {noise_src}[1 + i % {len(noise)}] END,
            CASE WHEN i % 200 = 0 THEN {int_name}[1 + (i // 200) % {len(interesting)}]
                 ELSE {noise_name}[1 + i % {len(noise)}] END,
            'us-east-1', '198.51.100.' || (i % 250),
            CASE WHEN i % 7 = 0 THEN 'Boto3/1.34.0 Python/3.11 Linux/6.1'
                 ELSE 'aws-cli/2.15.0 Python/3.11 Linux/6.1 exe/x86_64' END,
            CASE WHEN i % 101 = 0 THEN 'AccessDenied' END,
            CAST('{{"userName": "u' || ((i + 1) % 50) || '", "maxItems": 100}}' AS JSON),
            CASE WHEN i % 200 = 0 THEN CAST('{{"MFAUsed": "No"}}' AS JSON) END,
            'evt-' || i, i % 200 <> 0, true, '123456789012'
        FROM range({rows}) t(i)
        """
    )


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    t0 = time.perf_counter()
    make_table(con, rows)
    print(f"table: {rows:,} rows built in {time.perf_counter() - t0:.1f}s")
    which = sys.argv[3] if len(sys.argv) > 3 else "synthetic"
    if which == "shipped":
        from trailguard.detection.catalog import load_rules

        collection = load_rules([], require_examples=False).collection
    else:
        collection = SigmaCollection.from_yaml(rules_yaml())
    det = Detector(collection)
    print(f"rules: {len(det.rules)} detection + {len(det.trackers)} correlation ({which})")
    times, cpus, found = [], [], 0
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        found = len(det.run(con))
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    med, cpu = statistics.median(times), statistics.median(cpus)
    print(
        f"Detector.run: median {med:.3f}s wall over 3 runs -> {rows / med:,.0f} rows/s "
        f"({found:,} matches, threads={threads})"
    )
    # CPU time is what other work on a shared machine cannot inflate much.
    print(
        f"CPU: {cpu:.3f}s -> {cpu / rows * 1e6:.2f} us of CPU per row "
        f"({rows / cpu:,.0f} rows per CPU-second)"
    )


if __name__ == "__main__":
    main()
