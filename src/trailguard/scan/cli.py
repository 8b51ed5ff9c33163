"""The ``trailguard scan`` command: Sigma rules over CloudTrail logs from files, S3 or the API."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from trailguard.detection.hunt_options import AccessKeyOption, ActorOption, SourceIpOption
from trailguard.findings.choices import FailOn, ReportFormat
from trailguard.findings.cli_options import FormatOption, OutputOption

if TYPE_CHECKING:
    from rich.console import Console

    from trailguard.findings.model import Finding, Severity

# Heavy modules (DuckDB, pydantic, rich) are imported where used, after the first source has
# started reading on the reader thread: importing holds the GIL, inflating does not.

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
LOOKUP_WINDOW = timedelta(days=90)
# S3 objects fetched at once: each GET mostly waits for the network (bench/bench_scan_s3.py,
# 50 ms per request: 60 objects/s with 4, 127 with 16, no gain at 32 on this machine).
S3_FETCHERS = 16


def _err() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def _interrupted() -> typer.Exit:
    """Ctrl-C: say that nothing was written and exit 130, the shell's code for SIGINT."""
    _err().print("[red]interrupted:[/red] the scan was stopped; no report was written")
    return typer.Exit(EXIT_INTERRUPTED)


def _usage(message: str) -> typer.Exit:
    _err().print(f"[red]error:[/red] {message}")
    return typer.Exit(EXIT_USAGE)


class _ProgressView:
    """A live progress line on stderr (files, events, events/s), only on a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._last = 0.0
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _ProgressView:
        if self.enabled:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=_err(),
                transient=True,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("scanning", total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)

    def update(self, stats: Any, force: bool = False) -> None:
        """Refresh from the scan's stats, at most ten times a second."""
        if self._progress is None:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        secs = max(stats.elapsed, 1e-6)
        text = (
            f"files {stats.inputs_seen:,} opened, {stats.files_read:,} scanned, "
            f"{stats.files_skipped:,} skipped"
            f" | events {stats.events:,} ({stats.events / secs:,.0f}/s)"
        )
        if stats.api_calls:
            text += f" | API calls {stats.api_calls:,}"
        self._progress.update(self._task, description=text)


def _fail_rank(findings: list[Finding], fail_on: Severity) -> bool:
    return any(f.severity.rank >= fail_on.rank for f in findings)


def _print_summary(stats: Any, findings: list[Finding], notes: list[str]) -> None:
    from trailguard.scan.engine import severity_counts

    con = _err()
    secs = max(stats.elapsed, 1e-6)
    con.print(
        f"scan: {stats.files_read:,} file(s) read, {stats.files_skipped:,} skipped, "
        f"{stats.digests_skipped:,} digest file(s) skipped, {stats.events:,} event(s) in "
        f"{secs:.1f}s ({stats.events / secs:,.0f} events/s)"
    )
    if stats.api_calls:
        con.print(f"  API calls: {stats.api_calls:,}")
    if stats.records_skipped:
        con.print(f"  {stats.records_skipped:,} record(s) skipped")
    if stats.reasons:
        reasons = ", ".join(f"{n} {kind}" for kind, n in stats.reasons.most_common())
        con.print(f"  skipped: {reasons}")
        for item in stats.skipped[:10]:
            con.print(f"    {item.source}: {item.reason}", markup=False)
        more = len(stats.skipped) - 10 + stats.skipped_not_listed
        if more > 0:
            con.print(f"    ... and {more} more (see the report's 'skipped' list)")
    for note in notes:
        con.print(f"  note: {note}", markup=False)
    counts = severity_counts(findings)
    by_sev = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "none"
    occurrences = sum(f.count for f in findings)
    con.print(f"findings: {len(findings):,} ({occurrences:,} event(s)): {by_sev}")


SCAN_HELP = (
    "Scan CloudTrail logs with the detection rules and report findings.\n\n"
    "Reads S3 delivery files, JSON lines, JSON arrays, EventBridge events and LookupEvents "
    "output (the format is detected, not configured) from disk, from S3 "
    "(s3://bucket/prefix, walking AWSLogs/\\[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD and "
    "listing only the days within --since/--until; a local copy of that layout is read the "
    "same way) or from the LookupEvents API (--lookup).\n\n"
    "Inside folders only *.json, *.jsonl, *.ndjson and *.gz files are read; other files are "
    "counted in the summary as 'not scanned (extension)'. A file named directly is read "
    "whatever its name. A UTF-8 byte-order mark is accepted. SOURCE '-' reads standard "
    "input (e.g. zcat *.json.gz | trailguard scan -).\n\n"
    "Exit codes: 0 no finding at or above --fail-on; 1 such findings (this wins when input was "
    "also skipped); 2 usage error, no CloudTrail log file found under a SOURCE, or input "
    "skipped (unreadable, corrupt or not CloudTrail: the "
    "report is still written and lists what was skipped and why).\n\n"
    "--filters takes Sigma filter files (or folders of them) that tune the rules for your "
    "environment; the summary and the report count what each filter dropped.\n\n"
    "Compiled rules are cached in $XDG_CACHE_HOME/trailguard (~/.cache/trailguard) and reused "
    "while the rules and trailguard are unchanged; TRAILGUARD_CACHE_DIR sets another folder, "
    "or 'off'."
)


def scan_command(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="Files, folders (recursive), globs, or s3://bucket/prefix URLs.",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOption = ReportFormat.table,
    output: OutputOption = None,
    fail_on: Annotated[
        FailOn,
        typer.Option("--fail-on", help="Exit 1 when a finding is at least this severe "
                     "(none: never because of findings)."),
    ] = FailOn.high,
    rules: Annotated[
        list[Path] | None,
        typer.Option("--rules", help="Folder of extra Sigma rules (repeatable)."),
    ] = None,
    filters: Annotated[
        list[Path] | None,
        typer.Option(
            "--filters",
            help="Sigma filter file or folder (repeatable): tune rules for your environment; "
            "the summary counts what each filter dropped.",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only events at or after: ISO date/time or age (7d, 12h)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Only events at or before: ISO date/time or age."),
    ] = None,
    account: Annotated[
        list[str] | None,
        typer.Option("--account", help="Only this account id (repeatable)."),
    ] = None,
    region: Annotated[
        list[str] | None,
        typer.Option(
            "--region",
            help="Only this region (repeatable); the first is also the API region.",
        ),
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", help="AWS profile for S3 and LookupEvents.")
    ] = None,
    lookup: Annotated[
        bool,
        typer.Option(
            "--lookup",
            help="Read events through the LookupEvents API (last 90 days, about 2 calls/s).",
        ),
    ] = False,
    actor: ActorOption = None,
    access_key: AccessKeyOption = None,
    source_ip: SourceIpOption = None,
) -> None:
    """Scan CloudTrail logs with the detection rules and report findings (see SCAN_HELP)."""
    from trailguard.scan.timerange import parse_time

    sources = list(sources or [])
    if not sources and not lookup:
        raise _usage("give at least one SOURCE (file, folder, glob, s3:// URL) or --lookup")
    now = datetime.now(UTC)
    try:
        t_since = parse_time(since, now) if since else None
        t_until = parse_time(until, now, end_of_day=True) if until else None
    except ValueError as exc:
        raise _usage(str(exc)) from None
    if t_since and t_until and t_since > t_until:
        raise _usage(f"--since ({since}) is after --until ({until})")
    hunt = _hunt(actor, access_key, source_ip)

    # The first local source starts reading (listing, opening, inflating) on the reader
    # thread while the rules load: both take a few tenths of a second.
    first = (
        _start_local(sources[0], t_since, t_until)
        if sources and not sources[0].startswith("s3://") else None
    )
    try:
        detector, metas = _load_detector(rules or [], filters or [], hunt)
    except BaseException as exc:
        if first is not None:
            first.reader.stop()
        if isinstance(exc, KeyboardInterrupt):
            raise _interrupted() from None
        raise
    accounts = frozenset(account or [])
    regions = frozenset(region or [])
    notes: list[str] = []
    empty: list[str] = []  # sources under which no log file was found at all
    not_scanned: list[Path] = []  # files inside folders left out for their extension
    outside: list[Path] = []  # files in CloudTrail's layout delivered on days the window skips

    from trailguard.scan.engine import Scanner

    interrupted = False
    with _ProgressView(sys.stderr.isatty()) as view:
        scanner = Scanner(
            detector,
            metas,
            since=t_since,
            until=t_until,
            accounts=accounts,
            regions=regions,
            progress=view.update,
        )
        try:
            session = None
            for n, source in enumerate(sources):
                if n == 0 and first is not None:
                    _scan_local(scanner, source, empty, not_scanned, outside, first)
                elif source.startswith("s3://"):
                    session = session or _session(profile, region)
                    _scan_s3(scanner, session, source, t_since, t_until, accounts, regions, notes,
                             empty)
                else:
                    _scan_local(scanner, source, empty, not_scanned, outside,
                                _start_local(source, t_since, t_until))
            if lookup:
                session = session or _session(profile, region)
                _scan_lookup(scanner, session, t_since or now - LOOKUP_WINDOW, t_until or now,
                             sorted(regions) or [session.region_name])
                if accounts:
                    notes.append("--account filters LookupEvents results by recipientAccountId; "
                                 "the API reads only the credentials' own account")
            findings = scanner.finish()
            view.update(scanner.stats, force=True)
        except KeyboardInterrupt:
            interrupted = True
        except RuntimeError as exc:  # DuckDB stops a query on Ctrl-C with "Query interrupted"
            if "interrupted" not in str(exc).lower():
                raise
            interrupted = True
        finally:
            if first is not None:
                first.reader.stop()  # already stopped unless scanning failed before it
            scanner.close()
    if interrupted:  # raised here, the interrupt's traceback (and the scan's objects) can go
        raise _interrupted()

    stats = scanner.stats
    for source in empty:
        stats.skip(source, "no CloudTrail log files found here")
    report_stats = stats.as_dict()
    # counted by the loader when a window is set (EventLoader.untimed; 0 while it lacks it)
    untimed = getattr(getattr(scanner, "loader", None), "untimed", 0) if t_since or t_until else 0
    if untimed:
        report_stats["records_without_event_time"] = untimed
        notes.append(f"records without a readable eventTime: {untimed:,} (kept: --since/--until "
                     "cannot place them, so they are scanned rather than dropped)")
    if not_scanned:
        report_stats["files_not_scanned_extension"] = len(not_scanned)
        notes.append(_not_scanned_note(not_scanned))
    if outside:
        report_stats["files_outside_window"] = len(outside)
        notes.append(f"{len(outside):,} file(s) not read: CloudTrail delivered them on days "
                     "outside --since/--until (their AWSLogs/.../YYYY/MM/DD folder)")
    from trailguard.findings.model import Report, Severity
    from trailguard.scan.tuning import filter_notes, filter_results

    if hunt is not None:
        notes.append(_hunt_note(hunt, findings))
    if getattr(detector, "duplicates", 0):
        report_stats["duplicate_events_ignored"] = detector.duplicates
        notes.append(f"{detector.duplicates:,} matching event(s) read more than once (same "
                     "eventID: overlapping trails or inputs) were counted once")

    used = filter_results(detector)
    if used:
        report_stats["events_dropped_by_filters"] = detector.suppressed
        notes.extend(filter_notes(used, detector.suppressed))
    report = Report(
        command="scan",
        generated_at=datetime.now(UTC),
        findings=findings,
        stats=report_stats,
        skipped=stats.skipped,
        filters=used,
    )
    from trailguard.findings.output import write_report

    try:
        left_out = write_report(report, fmt.value, output)
    except OSError as exc:
        raise _usage(f"cannot write the report to {output}: {exc.strerror or exc}") from None
    _print_summary(stats, findings, notes)
    for source in empty:
        _err().print(f"error: no CloudTrail log files found under {source}", markup=False)
    if left_out:
        _err().print(f"error: {left_out} finding(s) could not be expressed as {fmt.value} and "
                     "were left out of the report (see the warnings above)", markup=False)
    alerts = findings if hunt is None else [f for f in findings if f.rule_id != _hunt_id(hunt)]
    if fail_on is not FailOn.none and _fail_rank(alerts, Severity(fail_on.value)):
        raise typer.Exit(EXIT_FINDINGS)
    if stats.data_skipped or left_out:
        raise typer.Exit(EXIT_USAGE)


def _hunt(actors: list[str] | None, keys: list[str] | None, ips: list[str] | None
          ) -> str | None:
    """The hunt rule (Sigma YAML) for the hunt options, None without any."""
    if not (actors or keys or ips):
        return None
    from trailguard.detection.hunt import HuntError, hunt_rule

    try:
        return hunt_rule(actors or [], keys or [], ips or [])
    except HuntError as exc:
        raise _usage(str(exc)) from None


def _hunt_id(hunt: str) -> str:
    """The rule id of a hunt rule (YAML)."""
    import yaml

    return str(yaml.safe_load(hunt)["id"])


def _hunt_note(hunt: str, findings: list[Finding]) -> str:
    """How many events the hunt rule matched, for the summary."""
    rule_id = _hunt_id(hunt)
    mine = [f for f in findings if f.rule_id == rule_id]
    events = sum(f.count for f in mine)
    if not events:
        return "hunt: no event matched (check the ARN, key id or address, and --since/--until)"
    return (f"hunt: {events:,} event(s) matched, in {len(mine):,} info finding(s) grouped by "
            "event and target (first/last seen and counts in the report)")


def _load_detector(
    extra: list[Path], filters: list[Path] | None = None, hunt: str | None = None
) -> tuple[Any, dict[int, Any]]:
    """The detector and rule metadata (see :func:`trailguard.scan.ruleset.load_detector`);
    rules or filters that cannot be used are a usage error. A ``hunt`` rule (YAML) is added
    to the rules; that one-off rule set is compiled without the cache."""
    from trailguard.scan.ruleset import RulesError, compile_detector, load_detector

    try:
        if hunt is None:
            return load_detector(extra, filters or [])
        with tempfile.TemporaryDirectory(prefix="trailguard-hunt-") as folder:
            (Path(folder) / "hunt.yml").write_text(hunt, encoding="utf-8")
            return compile_detector([*extra, Path(folder)], filters or [])
    except RulesError as exc:
        raise _usage(str(exc)) from None


def _session(profile: str | None, regions: list[str] | None) -> Any:
    from botocore.exceptions import ProfileNotFound

    from trailguard.aws import make_session

    try:
        return make_session(profile, regions[0] if regions else None)
    except ProfileNotFound as exc:
        raise _usage(str(exc)) from None


def _not_scanned_note(paths: list[Path]) -> str:
    from trailguard.scan.inputs import LOG_SUFFIXES

    shown = ", ".join(str(p) for p in paths[:3]) + (f" +{len(paths) - 3} more" if len(paths) > 3
                                                    else "")
    return (f"{len(paths)} file(s) not scanned (extension): {shown}; inside folders only "
            f"{', '.join('*' + x for x in LOG_SUFFIXES)} are read, name a file to scan it")


@dataclass
class _LocalStart:
    """A local source listed, with its reader thread already started."""

    problems: list[tuple[str, str]]
    ignored: list[Path]
    outside: list[Path]
    empty: str | None  # what to report when nothing was found to read
    reader: Any


def _start_local(
    source: str, since: datetime | None = None, until: datetime | None = None
) -> _LocalStart:
    """List a local source and start reading it (see :class:`trailguard.scan.batches.Reader`).

    Files in CloudTrail's layout delivered on days the window cannot need are left out, as
    for S3 (:func:`trailguard.scan.layout.outside_window`). The first batch is not made
    small: the reader gets ahead while the rules load.
    """
    from trailguard.scan.batches import BATCH_BYTES, Reader
    from trailguard.scan.inputs import LocalInput, expand_local_counted
    from trailguard.scan.layout import outside_window

    listed, problems, ignored = expand_local_counted(source)
    inputs, outside = [], []
    for inp in listed:
        if isinstance(inp, LocalInput) and outside_window(inp.path.as_posix(), since, until):
            outside.append(inp.path)
        else:
            inputs.append(inp)
    empty = None
    if not inputs and not problems:
        empty = source + (" (within --since/--until)" if outside else "")
    reader = Reader(inputs, source, first_batch_bytes=BATCH_BYTES)
    reader.start()
    return _LocalStart(problems, ignored, outside, empty, reader)


def _scan_local(
    scanner: Any,
    source: str,
    empty: list[str],
    not_scanned: list[Path],
    outside: list[Path],
    started: _LocalStart,
) -> None:
    for name, reason in started.problems:
        scanner.stats.skip(name, reason)
    not_scanned.extend(started.ignored)
    outside.extend(started.outside)
    if started.empty is not None:
        empty.append(started.empty)
    scanner.scan_inputs(started.reader, source)


def _scan_s3(
    scanner: Any,
    session: Any,
    url: str,
    since: datetime | None,
    until: datetime | None,
    accounts: frozenset[str],
    regions: frozenset[str],
    notes: list[str],
    empty: list[str],
) -> None:
    from trailguard.aws import make_client
    from trailguard.scan.batches import Reader
    from trailguard.scan.inputs import UsageError
    from trailguard.scan.s3source import S3Walker, parse_s3_url

    try:
        parse_s3_url(url)
    except UsageError as exc:
        raise _usage(str(exc)) from None
    client = make_client(session, "s3", max_pool_connections=S3_FETCHERS)
    walker = S3Walker(client, url, since, until, accounts, regions)

    objects = 0

    def counted() -> Iterator[Any]:
        nonlocal objects
        seen = walker.list_calls
        for obj in walker:
            objects += 1
            scanner.stats.api_calls += walker.list_calls - seen
            seen = walker.list_calls
            yield obj
        scanner.stats.api_calls += walker.list_calls - seen

    skipped_before = scanner.stats.files_skipped
    scanner.scan_inputs(Reader(counted(), url, prefetch=S3_FETCHERS), url)
    notes.extend(walker.notes)
    if not objects and scanner.stats.files_skipped == skipped_before:  # not a listing error
        empty.append(url + (" (within --since/--until)" if since or until else ""))


def _scan_lookup(
    scanner: Any, session: Any, start: datetime, end: datetime, regions: list[str]
) -> None:
    from trailguard.aws import make_client
    from trailguard.scan.lookup import scan_lookup

    for api_region in regions:
        client = make_client(session, "cloudtrail", api_region)
        scan_lookup(scanner, client, start, end, f"lookup:{api_region}")


def register(app: typer.Typer) -> None:
    """Add the ``scan`` command to the root app."""
    app.command("scan", help=SCAN_HELP)(scan_command)
