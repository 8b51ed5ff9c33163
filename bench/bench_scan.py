"""Benchmark `trailguard scan`: events per second and peak memory against a plain json loop.

Generates N CloudTrail events (default 1,000,000) in S3 delivery format (gzipped
``{"Records": [...]}`` files in the ``AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/`` layout)
into a temporary folder, then runs, in the same process tree and on the same files:

1. a plain Python loop: ``gzip`` + ``json.load`` over every file (the naive baseline);
2. ``trailguard scan`` with all shipped rules, as a subprocess (after a one-file scan that
   fills the compiled-rule cache, as on any run but the first; ``--cold-cache`` measures a
   run that compiles the rules).

Each is measured as a child process with ``os.wait4`` (the child's own
``getrusage`` record) so peak RSS (``ru_maxrss``) belongs to that run alone. Usage::

    python bench/bench_scan.py --events 200000
    python bench/bench_scan.py --events 1000000 --per-file 2000 --keep /tmp/ct --phases
    python bench/bench_scan.py --events 3000000 --skip-baseline --runs 1   # memory at larger N
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from isal import igzip

ACCOUNT = "123456789012"
TARGET_EVENTS_PER_S = 350_000  # issue 3: all rules, 2 cores, peak memory under 1 GB at any N
TARGET_AT_EVENTS = 1_000_000  # the events/s target is set at the default N

# A few record shapes seen in real trails; __EID__ etc. are replaced per record.
_TEMPLATES = [
    '{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE__N__",'
    '"arn":"arn:aws:iam::123456789012:user/__USER__","accountId":"123456789012",'
    '"accessKeyId":"AKIAEXAMPLE__N__","userName":"__USER__"},"eventTime":"__TIME__",'
    '"eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1",'
    '"sourceIPAddress":"__IP__","userAgent":"aws-cli/2.15.0 Python/3.11.6 Linux/6.1 '
    'exe/x86_64.ubuntu.22 prompt/off command/ec2.describe-instances",'
    '"requestParameters":{"instancesSet":{},"filterSet":{},"maxResults":1000},'
    '"responseElements":null,"requestID":"__RID__","eventID":"__EID__","readOnly":true,'
    '"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012",'
    '"eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3",'
    '"cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":'
    '"ec2.us-east-1.amazonaws.com"}}',
    '{"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":'
    '"ec2.amazonaws.com"},"eventTime":"__TIME__","eventSource":"sts.amazonaws.com",'
    '"eventName":"AssumeRole","awsRegion":"us-east-1","sourceIPAddress":"ec2.amazonaws.com",'
    '"userAgent":"ec2.amazonaws.com","requestParameters":{"roleArn":'
    '"arn:aws:iam::123456789012:role/app-role-__N__","roleSessionName":"i-0abc__N__"},'
    '"responseElements":{"credentials":{"accessKeyId":"ASIAEXAMPLE__N__","sessionToken":'
    '"HIDDEN","expiration":"Nov 24, 2026, 9:00:00 PM"}},"requestID":"__RID__",'
    '"eventID":"__EID__","readOnly":true,"resources":[{"accountId":"123456789012",'
    '"type":"AWS::IAM::Role","ARN":"arn:aws:iam::123456789012:role/app-role-__N__"}],'
    '"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012",'
    '"sharedEventID":"__EID__","eventCategory":"Management"}',
    '{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":'
    '"AROAEXAMPLE:__USER__","arn":"arn:aws:sts::123456789012:assumed-role/Admin/__USER__",'
    '"accountId":"123456789012","accessKeyId":"ASIAEXAMPLE__N__","sessionContext":'
    '{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":'
    '"arn:aws:iam::123456789012:role/Admin","accountId":"123456789012","userName":"Admin"},'
    '"attributes":{"creationDate":"__TIME__","mfaAuthenticated":"true"}}},'
    '"eventTime":"__TIME__","eventSource":"s3.amazonaws.com","eventName":"GetBucketAcl",'
    '"awsRegion":"eu-west-1","sourceIPAddress":"__IP__","userAgent":"[Boto3/1.34.0]",'
    '"requestParameters":{"bucketName":"logs-__N__","Host":"logs-__N__.s3.amazonaws.com",'
    '"acl":""},"responseElements":null,"additionalEventData":{"SignatureVersion":"SigV4",'
    '"CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":'
    '"AuthHeader","x-amz-id-2":"abc__N__","bytesTransferredOut":512},"requestID":"__RID__",'
    '"eventID":"__EID__","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,'
    '"recipientAccountId":"123456789012","eventCategory":"Management"}',
    '{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE__N__",'
    '"arn":"arn:aws:iam::123456789012:user/__USER__","accountId":"123456789012",'
    '"accessKeyId":"AKIAEXAMPLE__N__","userName":"__USER__"},"eventTime":"__TIME__",'
    '"eventSource":"iam.amazonaws.com","eventName":"__WRITE__","awsRegion":"us-east-1",'
    '"sourceIPAddress":"__IP__","userAgent":"aws-cli/2.15.0",'
    '"requestParameters":{"userName":"victim-__N__","sSHPublicKeyId":"APKAEXAMPLE__N__"},'
    '"responseElements":null,"requestID":"__RID__","eventID":"__EID__","readOnly":false,'
    '"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012",'
    '"eventCategory":"Management"}',
]
# Mostly read-only noise; one record in ``hit_every`` (default 500, i.e. 0.2%) is a
# security-relevant IAM/CloudTrail write that rules fire on.
_WRITES = ["DeleteSSHPublicKey", "CreateAccessKey", "DeleteTrail", "StopLogging",
           "CreateLoginProfile", "DeactivateMFADevice", "UploadSigningCertificate"]


def _record(i: int, day: int, hit_every: int = 500) -> str:
    t = 3 if i % hit_every == 0 else i % 3
    hh, mm, ss = (i // 3600) % 24, (i // 60) % 60, i % 60
    return (
        _TEMPLATES[t]
        .replace("__EID__", f"{i:08x}-1111-4222-8333-{i:012x}")
        .replace("__RID__", f"{i:08X}REQ")
        .replace("__TIME__", f"2026-11-{day:02d}T{hh:02d}:{mm:02d}:{ss:02d}Z")
        .replace("__IP__", f"198.51.100.{i % 250}")
        .replace("__USER__", f"user{i % 37}")
        .replace("__WRITE__", _WRITES[(i // hit_every) % len(_WRITES)])
        .replace("__N__", str(i % 997))
    )


def generate(root: Path, events: int, per_file: int = 2000, hit_every: int = 500) -> list[Path]:
    """Write ``events`` records in delivery format under ``root``; return the file paths."""
    files = []
    i = 0
    n_files = (events + per_file - 1) // per_file
    for f in range(n_files):
        day = 1 + f % 20
        folder = root / f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/11/{day:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        n = min(per_file, events - i)
        body = '{"Records":[' + ",".join(_record(i + k, day, hit_every) for k in range(n)) + "]}"
        i += n
        path = folder / f"{ACCOUNT}_CloudTrail_us-east-1_202611{day:02d}T0000Z_{f:06d}.json.gz"
        path.write_bytes(igzip.compress(body.encode(), compresslevel=1))
        files.append(path)
    return files


_BASELINE = r"""
import gzip, json, sys
from pathlib import Path
n = 0
for p in sorted(Path(sys.argv[1]).rglob("*.json.gz")):
    with gzip.open(p, "rb") as fh:
        n += len(json.load(fh)["Records"])
print(n)
"""


# In-process scan with CPU seconds per phase (--phases). process_time() counts every thread,
# so the main-thread phases include the reader thread's work that overlaps them; the join's own
# CPU is its thread's time.
_PHASES = r"""
import sys, threading, time
t0, c0 = time.perf_counter(), time.process_time()
from trailguard.scan.ruleset import load_detector
from trailguard.scan import batches, engine, loader
from trailguard.scan.inputs import expand_local
det, metas = load_detector()
t1, c1 = time.perf_counter(), time.process_time()
phases, lock = {}, threading.Lock()
def timed(owner, name, label, clock=time.process_time):
    real = getattr(owner, name)
    def wrapper(*a, **k):
        s = clock()
        try:
            return real(*a, **k)
        finally:
            with lock:
                phases[label] = phases.get(label, 0.0) + clock() - s
    setattr(owner, name, wrapper)
timed(batches, "join_arrays", "inflate+join (reader thread)", time.thread_time)
timed(loader.EventLoader, "load_files", "DuckDB parse+load")
timed(type(det), "run", "rules (Detector.run)")
scanner = engine.Scanner(det, metas)
inputs, _ = expand_local(sys.argv[1])
scanner.scan_inputs(inputs, sys.argv[1])
scanner.finish()
t2, c2 = time.perf_counter(), time.process_time()
print(f"  start-up in process (imports, rules): {c1 - c0:.2f} CPU-s, {t1 - t0:.2f} s")
print(f"  scan: {c2 - c1:.2f} CPU-s, {t2 - t1:.2f} s, {scanner.stats.events:,} events, "
      f"{scanner.stats.batches} batches")
for label, secs in phases.items():
    print(f"    {label:30} {secs:.2f} CPU-s")
"""


def _memory_now(pid: int) -> int:
    """Bytes the process holds in RAM: its RSS plus its in-memory files (memfd).

    The scanner joins each batch into memfd files that DuckDB reads by path; their pages
    are RAM but not part of RSS (they are never mapped), so RSS alone would understate.
    """
    total = 0
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        for fd in os.listdir(f"/proc/{pid}/fd"):
            link = f"/proc/{pid}/fd/{fd}"
            try:
                if os.readlink(link).startswith("/memfd:"):
                    total += os.stat(link).st_size
            except OSError:
                continue
    except OSError:
        pass
    return total


def _watch_memory(pid: int, peak: list[int], done: threading.Event) -> None:
    while not done.wait(0.02):
        peak[0] = max(peak[0], _memory_now(pid))


def _run_child(argv: list[str]) -> tuple[float, float, float, str, str, float]:
    """Run a child: (seconds, CPU s, peak RSS MB, stdout, stderr, peak RSS+memfd MB).

    ``os.wait4`` returns the rusage of that one child, so runs do not mask each other the
    way ``getrusage(RUSAGE_CHILDREN)`` (a maximum over all children) would. RSS plus
    in-memory files is sampled every 20 ms from /proc (Linux).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err)
        peak, done = [0], threading.Event()
        watcher = threading.Thread(target=_watch_memory, args=(proc.pid, peak, done))
        watcher.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            done.set()
            watcher.join()
        secs = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        errors = err.read().decode()
        if proc.returncode not in (0, 1):
            sys.stderr.write(errors[-3000:])
        cpu = usage.ru_utime + usage.ru_stime
        return secs, cpu, usage.ru_maxrss / 1024, out.read().decode(), errors, peak[0] / 2**20


def main() -> None:
    """Generate the data, run both readers, print events/s and peak RSS for each."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--per-file", type=int, default=2000)
    ap.add_argument("--hit-every", type=int, default=500,
                    help="one event in this many is a rule-relevant IAM write")
    ap.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--phases", action="store_true",
                    help="also print CPU seconds per scan phase (one more run)")
    ap.add_argument("--cold-cache", action="store_true",
                    help="compile the rules in the measured run (compiled-rule cache off)")
    ap.add_argument("--runs", type=int, default=3,
                    help="scan runs; the median run is reported, with the range (default 3)")
    args = ap.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="tg-bench-"))
    report: Path | None = None
    try:
        t0 = time.perf_counter()
        if not any(root.rglob("*.json.gz")):
            generate(root, args.events, args.per_file, args.hit_every)
        size = sum(p.stat().st_size for p in root.rglob("*.json.gz"))
        print(f"data: {args.events:,} events, {size / 1e6:.1f} MB gz in {root} "
              f"(generated in {time.perf_counter() - t0:.1f}s)")
        rows = []
        if not args.skip_baseline:
            secs, cpu, rss, out, _, mem = _run_child(
                [sys.executable, "-c", _BASELINE, str(root)]
            )
            n = int(out.strip() or 0)
            rows.append(("python json loop (gzip + json.load)", n, secs, cpu, rss, mem))
        # A real file, not /dev/null: a writer that renames its temp file into place would
        # replace the device (older trailguard versions did, as root).
        report = Path(tempfile.mkdtemp(prefix="tg-bench-report-")) / "report.json"
        cmd = [sys.executable, "-c", "from trailguard.cli import main; main()", "scan",
               str(root), "--format", "json", "--output", str(report), "--fail-on", "critical"]
        if args.cold_cache:
            os.environ["TRAILGUARD_CACHE_DIR"] = "off"
            label = "trailguard scan, all rules (no cache)"
        else:
            # The compiled-rule cache is normally warm: fill it with a one-file scan first.
            _run_child([*cmd[:4], str(next(root.rglob("*.json.gz"))), *cmd[5:]])
            label = "trailguard scan, all rules"
        runs = sorted((_run_child(cmd) for _ in range(max(1, args.runs))), key=lambda r: r[0])
        secs, cpu, rss, _, errors, mem = runs[len(runs) // 2]
        rows.append((label, args.events, secs, cpu, rss, mem))
        # The scan's own summary times the scan alone (after imports and rule compilation).
        own = re.search(r"event\(s\) in ([\d.]+)s \(([\d,]+) events/s\)", errors)
        print(f"{'reader':38} {'events':>10} {'seconds':>8} {'events/s':>10} {'CPU s':>7} "
              f"{'ev/CPU-s':>9} {'peak RSS':>9} {'RSS+memfd':>10}")
        for name, n, s, c, r, m in rows:
            print(f"{name:38} {n:>10,} {s:>8.2f} {n / s:>10,.0f} {c:>7.2f} {n / c:>9,.0f} "
                  f"{r:>7.0f}MB {m:>8.0f}MB")
        print("(RSS+memfd: peak of RSS plus in-memory batch files, sampled every 20 ms)")
        top = max(r[5] for r in runs)
        if len(runs) > 1:
            rates = [args.events / r[0] for r in runs]
            print(f"trailguard scan: median of {len(runs)} runs; range {min(rates):,.0f} - "
                  f"{max(rates):,.0f} events/s, peak RSS+memfd up to {top:.0f}MB")
        rate = args.events / secs
        if args.events >= TARGET_AT_EVENTS:
            print(f"target: at least {TARGET_EVENTS_PER_S:,} events/s end to end and under 1 GB: "
                  f"{'met' if rate >= TARGET_EVENTS_PER_S and top < 1024 else 'NOT met'} "
                  f"({rate:,.0f} events/s, {top:.0f}MB)")
        else:  # start-up (about 0.4 s) weighs on small N
            print(f"(the events/s target is set at {TARGET_AT_EVENTS:,} events; memory: "
                  f"{'under' if top < 1024 else 'OVER'} 1 GB)")
        if own:
            print(f"trailguard scan, excluding start-up (imports, rule compilation): "
                  f"{own.group(2)} events/s over {own.group(1)} s")
        if args.phases:
            _, _, _, out, _, _ = _run_child([sys.executable, "-c", _PHASES, str(root)])
            print("CPU per phase (separate in-process run):")
            print(out.rstrip())
        print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores "
              "(other work on the machine slows wall-clock figures; CPU figures less so)")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        if report is not None:
            shutil.rmtree(report.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
