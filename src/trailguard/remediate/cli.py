"""CLI commands of remediation: ``trailguard remediate`` (plan, --apply) and ``trailguard undo``."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from rich.console import Console

from trailguard.audit.config import ConfigError
from trailguard.audit.engine import UnknownCheckError
from trailguard.aws import make_session
from trailguard.remediate.apply import apply_plan
from trailguard.remediate.config import load_settings
from trailguard.remediate.context import RemediationContext, describe_error
from trailguard.remediate.journal import DEFAULT_DIR, JournalError, default_path, read_journal
from trailguard.remediate.planner import PlanOptions, build_plan
from trailguard.remediate.render import actions_json, plan_json, print_actions, print_plan
from trailguard.remediate.schema import PlanError
from trailguard.remediate.undo import check_journal, undo_journal


def _err(message: str, code: int = 2) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def _aws_errors(doing: str) -> Iterator[None]:
    """End the command with one line and exit 1 when the block fails on AWS: no credentials,
    or ``cannot <doing>: <reason>`` for an API or botocore error."""
    try:
        yield
    except NoCredentialsError:
        _err("no AWS credentials found (use --profile or the standard chain)", 1)
    except (ClientError, BotoCoreError) as exc:
        _err(f"cannot {doing}: {describe_error(exc)}", 1)


def _confirm(question: str, yes: bool) -> None:
    """Ask before changing anything. Without --yes: end of input (no stdin) refuses with exit 2,
    any answer but y/yes aborts with exit 1."""
    if yes:
        return
    typer.echo(f"{question} [y/N]: ", nl=False, err=True)
    try:
        line = sys.stdin.readline() if sys.stdin is not None else ""
    except (OSError, ValueError):
        line = ""
    if line == "":
        typer.echo("", err=True)
        _err("no confirmation received (no input on stdin); re-run with --yes to change the "
             "account", 2)
    if not _isatty():
        typer.echo(line.strip(), err=True)  # piped answer: show it and end the prompt line
    if line.strip().lower() not in ("y", "yes"):
        typer.echo("Aborted: nothing was changed.", err=True)
        raise typer.Exit(1)


def _isatty() -> bool:
    try:
        return bool(sys.stdin and sys.stdin.isatty())
    except (OSError, ValueError):
        return False


def _undo_command(path: Path, profile: str | None, region: str | None) -> str:
    parts = ["trailguard", "undo", str(path)]
    if profile:
        parts += ["--profile", profile]
    if region:
        parts += ["--region", region]
    return shlex.join(parts)


def register(app: typer.Typer) -> None:
    """Add the remediation commands to the root app."""

    @app.command()
    def remediate(
        check: Annotated[list[str] | None, typer.Option(
            "--check", help="Plan only for this check id (repeatable).")] = None,
        apply: Annotated[bool, typer.Option(
            "--apply", help="Make the planned changes (asks first unless --yes).")] = False,
        yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
        fmt: Annotated[str, typer.Option("--format", help="table|json")] = "table",
        config: Annotated[Path | None, typer.Option(
            "--config", help="YAML: audit thresholds plus a `remediate:` section.")] = None,
        delete_inactive_keys: Annotated[list[str] | None, typer.Option(
            "--delete-inactive-keys", metavar="ACCESS_KEY_ID",
            help="Delete this access key if a trailguard journal shows it inactive for the "
                 "configured days (repeatable; never undoable).")] = None,
        trail_name: Annotated[str | None, typer.Option(
            help="Trail to fix or create (default: an existing trail, else 'trailguard').")
        ] = None,
        trail_bucket: Annotated[str | None, typer.Option(
            help="S3 bucket for a new trail (created when missing).")] = None,
        alert_topic_arn: Annotated[str | None, typer.Option(
            help="Existing SNS topic for alerts (default: create 'trailguard-alerts').")] = None,
        alert_email: Annotated[list[str] | None, typer.Option(
            help="Subscribe this address to the alert topic (repeatable; the recipient must "
                 "confirm before alerts arrive).")] = None,
        journal: Annotated[Path | None, typer.Option(
            help="Journal file to write (default: ./trailguard-journals/apply-TIME.jsonl).")
        ] = None,
        journal_dir: Annotated[Path, typer.Option(
            help="Where journals are, for --delete-inactive-keys evidence.")] = DEFAULT_DIR,
        profile: Annotated[str | None, typer.Option(help="AWS profile to use.")] = None,
        region: Annotated[str | None, typer.Option(help="AWS region (default: chain).")] = None,
        list_actions: Annotated[bool, typer.Option(
            help="List the actions, the checks they fix and the API calls they make; exit.")
        ] = False,
        now: Annotated[datetime | None, typer.Option(
            hidden=True, help="Reference time for credential ages (testing what-ifs).")] = None,
    ) -> None:
        """Plan fixes for failing posture checks; change the account only with --apply."""
        if fmt not in ("table", "json"):
            _err(f"--format must be table or json, not {fmt!r}")
        if list_actions:
            if fmt == "json":
                typer.echo(actions_json())
            else:
                print_actions(Console(width=160))
            return
        try:
            audit_config, rem_config = load_settings(config)
        except ConfigError as exc:
            _err(str(exc))
        options = PlanOptions(
            check_ids=check or None, delete_keys=list(delete_inactive_keys or []),
            trail_name=trail_name, trail_bucket=trail_bucket, topic_arn=alert_topic_arn,
            alert_emails=list(alert_email or []),
            journal_dir=journal_dir,
            now=(now.replace(tzinfo=UTC) if now and now.tzinfo is None else now))
        try:
            with _aws_errors("plan"):
                session = make_session(profile, region)
                plan, _ = build_plan(session, audit_config, rem_config, options)
        except UnknownCheckError as exc:
            _err(str(exc))
        out = Console(stderr=False, width=160) if fmt == "table" else None
        if fmt == "json":
            typer.echo(plan_json(plan))
        else:
            print_plan(plan, out)
        if not apply:
            if plan.steps:
                typer.echo("Plan only: nothing was changed. Re-run with --apply to make these "
                           "changes.", err=True)
            return
        if not plan.steps:
            typer.echo("Nothing to apply.", err=True)
            return
        irreversible = sum(not s.reversible for s in plan.steps)
        warn = f" ({irreversible} cannot be undone)" if irreversible else ""
        _confirm(f"Apply {len(plan.steps)} change(s){warn} to account {plan.account_id}?", yes)
        path = journal or default_path("apply", journal_dir)
        typer.echo(f"Journal: {path}", err=True)
        try:
            result = apply_plan(RemediationContext(session), plan, path)
        except FileExistsError:
            _err(f"{path}: journal file exists already; choose another --journal")
        except (PlanError, ValueError) as exc:
            _err(str(exc), 1)
        for s in result.done:
            typer.echo(f"done  {s.seq:>3} {s.action}: {s.target}", err=True)
        undo = _undo_command(path, profile, region)
        if not result.ok:
            typer.echo(f"FAILED {result.failed.seq:>3} {result.failed.action}: "
                       f"{result.failed.target}: {result.error}", err=True)
            typer.echo(f"Stopped: {len(result.done)} of {len(plan.steps)} change(s) made; "
                       "nothing after the failure was attempted.", err=True)
            typer.echo(f"To undo what was done: {undo}", err=True)
            raise typer.Exit(1)
        typer.echo(f"Applied {len(result.done)} change(s). To undo: {undo}", err=True)

    @app.command()
    def undo(
        journal: Annotated[Path, typer.Argument(help="Journal written by `remediate --apply`.")],
        yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
        undo_journal_path: Annotated[Path | None, typer.Option(
            "--journal", help="Undo journal to write (default: next to the applied one).")
        ] = None,
        profile: Annotated[str | None, typer.Option(help="AWS profile to use.")] = None,
        region: Annotated[str | None, typer.Option(help="AWS region (default: chain).")] = None,
    ) -> None:
        """Restore what a remediation journal changed, newest change first."""
        try:
            parsed = read_journal(journal)
        except JournalError as exc:
            _err(str(exc))
        try:
            with _aws_errors("identify the account"):
                ctx = RemediationContext(
                    make_session(profile, region or parsed.header.get("region")))
                check_journal(ctx, parsed)
        except JournalError as exc:
            _err(str(exc))
        if parsed.damaged_lines:
            typer.echo(f"Warning: {parsed.damaged_lines} damaged line(s) in the journal were "
                       "skipped (a crash can cut the last line).", err=True)
        n = len(parsed.entries)
        if not n:
            typer.echo("The journal records no changes: nothing to undo.", err=True)
            return
        for e in reversed(parsed.entries):
            state = "done" if e.done else ("failed" if e.failed else "started")
            typer.echo(f"undo {e.step.seq:>3} {e.step.action}: {e.step.target} ({state})")
        _confirm(f"Undo {n} journaled change(s) in account {parsed.header.get('account_id')}?",
                 yes)
        path = undo_journal_path or default_path("undo", journal.parent)
        typer.echo(f"Undo journal: {path}", err=True)
        try:
            result = undo_journal(ctx, parsed, path)
        except FileExistsError:
            _err(f"{path}: journal file exists already; choose another --journal")
        for m in result.messages:
            typer.echo(m)
        if not result.ok:
            typer.echo(f"FAILED {result.failed}. Fix the cause and run undo again "
                       "(it is safe to repeat).", err=True)
            raise typer.Exit(1)
        typer.echo("Undo complete.", err=True)
