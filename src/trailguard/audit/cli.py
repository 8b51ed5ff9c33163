"""`trailguard audit`: read-only posture checks of a live AWS account (or many).

Exit codes (same scheme as ``scan``): 0 nothing at or above ``--fail-on`` and every check ran;
1 at least one FAIL at or above ``--fail-on`` (wins over 2: something must be fixed either
way); 2 usage error (bad option, config or check id) or some check could not run (ERROR).
MUTED results (accepted risks, the config's ``exceptions``) never set the exit code.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from botocore.exceptions import BotoCoreError, ClientError

from trailguard.audit.accounts import audit_accounts, org_account_ids, parse_account_ids
from trailguard.audit.catalog import load_catalog
from trailguard.audit.config import ConfigError, load_config
from trailguard.audit.context import ApiCallCounter, error_reason
from trailguard.audit.engine import (
    CredentialsProblem,
    UnknownCheckError,
    check_ids,
    identify_account,
    run_audit,
    select_checks,
)
from trailguard.audit.exceptions import apply_exceptions
from trailguard.aws import make_session
from trailguard.findings.choices import FailOn, ReportFormat
from trailguard.findings.cli_options import FormatOption, OutputOption
from trailguard.findings.model import Finding, Report, Severity, Status

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
FAIL_ON_CHOICES = [s.value for s in Severity] + ["none"]


def api_call_stats(counter: ApiCallCounter) -> dict[str, int | str]:
    """The report's API call figures: the total, and per operation in ONE stat.

    One stat, not one per operation: report summaries (HTML cards, table footers) show every
    stat, and sixteen call counters would open the report before the findings.
    """
    per_op = ", ".join(f"{op} {n}" for op, n in sorted(counter.calls.items()))
    return {"api_calls": counter.total, **({"api_calls_by_operation": per_op} if per_op else {})}


def exit_code(findings: list[Finding], fail_on: str) -> int:
    """0, 1 (FAIL at or above ``fail_on``; ``none`` never) or 2 (some check is ERROR)."""
    if fail_on != "none":
        bar = Severity.parse(fail_on).rank
        if any(f.status is Status.FAIL and f.severity.rank >= bar for f in findings):
            return EXIT_FINDINGS
    if any(f.status is Status.ERROR for f in findings):
        return EXIT_USAGE
    return EXIT_OK


def summary_text(findings: list[Finding]) -> list[str]:
    """Lines for stderr: PASS/FAIL/ERROR/MUTED counts, each broken down by severity."""
    lines = []
    for status in Status:
        group = [f for f in findings if f.status is status]
        if status is Status.MUTED and not group:
            continue  # only audits with exceptions mute anything
        per = [
            f"{sum(1 for f in group if f.severity is s)} {s.value}"
            for s in reversed(list(Severity))
            if any(f.severity is s for f in group)
        ]
        lines.append(f"{status.value:5} {len(group):4}" + (f"  ({', '.join(per)})" if per else ""))
    groups: dict[tuple[str | None, str | None], list[str]] = {}
    for f in findings:
        if f.status is Status.ERROR:
            groups.setdefault((f.account_id, f.reason), []).append(f.rule_id)
    for (account, reason), ids in groups.items():
        acct = f"[{account}] " if account else ""
        what = ids[0] if len(ids) == 1 else f"{len(ids)} checks"
        lines.append(f"ERROR {acct}{what}: {reason}")
    return lines


def _fail(message: str) -> None:
    typer.echo(f"trailguard audit: {message}", err=True)
    raise typer.Exit(EXIT_USAGE)


def register(app: typer.Typer) -> None:
    """Add the audit command to the root app."""

    @app.command("audit")
    def audit(
        profile: Annotated[str | None, typer.Option(help="AWS profile to use.")] = None,
        region: Annotated[str | None, typer.Option(help="AWS region (default: chain).")] = None,
        config_file: Annotated[
            Path | None,
            typer.Option("--config", help="YAML file of thresholds (defaults follow CIS)."),
        ] = None,
        checks: Annotated[
            list[str] | None, typer.Option("--check", help="Run only this check id (repeatable).")
        ] = None,
        fmt: FormatOption = ReportFormat.table,
        output: OutputOption = None,
        fail_on: Annotated[
            FailOn,
            typer.Option("--fail-on", case_sensitive=False,
                         help="Exit 1 on a FAIL at least this severe; none: never."),
        ] = FailOn.high,
        role_name: Annotated[
            str | None,
            typer.Option(help="Role to assume in each account (with --accounts or --org)."),
        ] = None,
        accounts: Annotated[
            str | None, typer.Option(help="Comma-separated account ids to audit via --role-name.")
        ] = None,
        org: Annotated[bool, typer.Option(help="Audit every ACTIVE organization account.")] = False,
        workers: Annotated[
            int, typer.Option(min=1, max=64, help="Accounts audited in parallel.")
        ] = 4,
        list_checks: Annotated[bool, typer.Option(help="List the check ids and exit.")] = False,
    ) -> None:
        """Audit IAM, root, CloudTrail and alerting posture (read-only; CIS AWS Foundations)."""
        if list_checks:
            catalog = load_catalog()
            for cid in check_ids():
                m = catalog[cid]
                cis = ",".join(m.cis) or "-"
                typer.echo(f"{cid:62} {m.severity.value:8} CIS {cis:12} {m.title}")
            raise typer.Exit(EXIT_OK)
        from trailguard.findings.output import FORMATS, write_report

        if fmt.value not in FORMATS:  # an enum out of step with the writers
            _fail(f"--format {fmt.value} is not available; choose one of: {', '.join(FORMATS)}")
        if (accounts or org) and not role_name:
            _fail("--accounts and --org need --role-name")
        if accounts and org:
            _fail("use either --accounts or --org, not both")
        if role_name and not (accounts or org):
            _fail("--role-name needs --accounts or --org")
        try:
            config = load_config(config_file)
            selected = select_checks(checks or None)
            account_ids = parse_account_ids(accounts) if accounts else None
        except (ConfigError, UnknownCheckError, ValueError) as exc:
            _fail(str(exc))

        counter = ApiCallCounter()
        started = time.monotonic()
        try:
            session = make_session(profile, region)
        except BotoCoreError as exc:  # e.g. ProfileNotFound
            _fail(str(exc))
        home: str | None = None
        try:  # once up front: no credentials must be one clear line, not one ERROR per check
            home = identify_account(session, counter)
        except CredentialsProblem as exc:
            _fail(str(exc))
        except (ClientError, BotoCoreError):
            pass  # e.g. GetCallerIdentity denied: each check reports what it can or cannot do
        if org:
            try:
                account_ids = org_account_ids(session, counter)
            except (ClientError, BotoCoreError) as exc:
                _fail(f"cannot list organization accounts: {error_reason(exc)}")
        if account_ids is not None:
            typer.echo(f"auditing {len(account_ids)} account(s) with {workers} worker(s)",
                       err=True)
            findings = audit_accounts(session, account_ids, role_name or "", config, selected,
                                      workers=workers, counter=counter)
        else:
            findings = run_audit(session, config, selected, counter=counter, account_id=home)
        elapsed = time.monotonic() - started
        muting = apply_exceptions(findings, config.exceptions)
        findings = muting.findings

        report = Report(
            command="audit",
            generated_at=datetime.now(UTC),
            findings=findings,
            stats={
                "accounts": len({f.account_id for f in findings if f.account_id}) or 0,
                "checks": len(selected),
                "wall_seconds": round(elapsed, 3),
                **api_call_stats(counter),
                **muting.stats(),
            },
        )
        try:
            left_out = write_report(report, fmt.value, output)
        except OSError as exc:
            _fail(f"cannot write {output}: {exc.strerror or exc}")
        except (ValueError, ImportError) as exc:  # a format not available in this build
            _fail(f"cannot write the {fmt.value} report: {exc}")
        for line in [*summary_text(findings), *muting.summary_lines()]:
            typer.echo(line, err=True)
        typer.echo(f"{counter.total} API call(s) in {elapsed:.1f}s", err=True)
        code = exit_code(findings, fail_on.value)
        if left_out:
            typer.echo(f"error: {left_out} result(s) could not be expressed as {fmt.value} and "
                       "were left out of the report (see the warnings above)", err=True)
            code = code if code == EXIT_FINDINGS else EXIT_USAGE  # findings still win
        raise typer.Exit(code)


__all__ = ["exit_code", "register", "summary_text"]
