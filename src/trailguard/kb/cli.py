"""CLI commands of the knowledge base: ``explain``, ``events`` and ``docs build``."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, RenderableType

from trailguard.kb import render
from trailguard.kb.loader import KnowledgeBaseError
from trailguard.kb.lookup import (
    UnknownEventError,
    UnknownServiceError,
    check_service,
    choose,
    curated_services,
    filter_entries,
    resolve,
)
from trailguard.kb.schema import Entry, Severity


class OutputFormat(StrEnum):
    """Output formats of ``explain``."""

    text = "text"
    markdown = "markdown"
    json = "json"


class ListFormat(StrEnum):
    """Output formats of ``events``."""

    table = "table"
    json = "json"


def _fail(message: str, code: int) -> typer.Exit:
    Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def print_text(renderable: RenderableType, console: Console | None = None) -> None:
    """Print rich output so that code survives copy-paste: long lines overflow instead of
    being cut, and when stdout is not a terminal no line carries trailing padding."""
    console = console or Console()
    if console.is_terminal:
        console.print(renderable, crop=False)
        return
    with console.capture() as capture:
        console.print(renderable, crop=False)
    lines = capture.get().splitlines()
    console.file.write("".join(line.rstrip() + "\n" for line in lines))
    console.file.flush()


def explain_command(
    event: Annotated[str, typer.Argument(help="CloudTrail eventName, e.g. DeleteSSHPublicKey.")],
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="text, markdown or json.")
    ] = OutputFormat.text,
    service: Annotated[
        str | None,
        typer.Option(
            "--service",
            "-s",
            help="Service for names found in several: botocore name (ec2) or eventSource "
            "(ec2.amazonaws.com).",
        ),
    ] = None,
) -> None:
    """Explain a CloudTrail event: what it means, how it hurts, how to respond and harden."""
    try:
        found = resolve(event, service)
    except UnknownEventError as exc:
        hint = f" Did you mean: {', '.join(exc.suggestions)}?" if exc.suggestions else ""
        raise _fail(f"{exc}.{hint}", 2) from None
    except KnowledgeBaseError as exc:
        raise _fail(f"the knowledge base is broken:\n{exc}", 1) from None
    if isinstance(found, Entry):
        if fmt is OutputFormat.json:
            typer.echo(render.entry_json(found))
        elif fmt is OutputFormat.markdown:
            typer.echo(render.entry_markdown(found), nl=False)
        else:
            print_text(render.entry_text(found))
        return
    choice = choose(found)
    if fmt is OutputFormat.json:
        typer.echo(render.operation_json(choice.shown, choice.others, choice.note))
    elif fmt is OutputFormat.markdown:
        typer.echo(render.operation_markdown(choice.shown, choice.note), nl=False)
    else:
        print_text(render.operation_text(choice.shown, choice.note))


def events_command(
    service: Annotated[
        str | None, typer.Option("--service", "-s", help="Only this service.")
    ] = None,
    severity: Annotated[
        Severity | None,
        typer.Option(help="At least this severity (info < low < medium < high < critical)."),
    ] = None,
    search: Annotated[
        str | None,
        typer.Option(help="Words that must all appear in name, summary or impact text."),
    ] = None,
    tactic: Annotated[str | None, typer.Option(help="ATT&CK tactic, e.g. persistence.")] = None,
    fmt: Annotated[
        ListFormat, typer.Option("--format", "-f", help="table or json.")
    ] = ListFormat.table,
    stats: Annotated[
        bool, typer.Option("--stats", help="Print knowledge-base check counts instead.")
    ] = False,
) -> None:
    """List the curated events, filtered by service, severity, tactic or words."""
    if stats:
        from trailguard.kb.stats import main as stats_main

        raise typer.Exit(stats_main())
    try:
        if service:
            check_service(service)
        entries = filter_entries(service, severity, search, tactic)
    except UnknownServiceError as exc:
        raise _fail(f"{exc}. Known: {', '.join(exc.known)}.", 2) from None
    except KnowledgeBaseError as exc:
        raise _fail(f"the knowledge base is broken:\n{exc}", 1) from None
    if service and not entries and severity is None and not search and not tactic:
        Console(stderr=True, soft_wrap=True).print(
            f"No curated events for {service} yet; curated services: "
            f"{', '.join(curated_services())}. `trailguard explain EVENT` still describes "
            "any AWS API from botocore's model.",
            highlight=False,
        )
    if fmt is ListFormat.json:
        rows = [
            {
                "event_name": e.event_name,
                "service": e.service,
                "category": e.category.value,
                "severity": e.severity.value,
                "mitre_attack": [t.id for t in e.mitre_attack],
                "title": render.title_line(e),
            }
            for e in entries
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    print_text(render.events_table(entries))


def docs_build_command(
    directory: Annotated[Path, typer.Argument(help="Output directory (created if missing).")],
) -> None:
    """Build a static, offline HTML site: one page per curated event plus a filterable index."""
    from trailguard.kb.site import build_site

    try:
        written = build_site(directory)
    except KnowledgeBaseError as exc:
        raise _fail(f"the knowledge base is broken:\n{exc}", 1) from None
    except OSError as exc:
        raise _fail(f"cannot write the site to {directory}: {exc}", 1) from None
    typer.echo(f"wrote {len(written)} page(s) to {directory}")


def register(app: typer.Typer) -> None:
    """Add the knowledge-base commands (explain, events, docs build) to the root app."""
    app.command("explain")(explain_command)
    app.command("events")(events_command)
    docs = typer.Typer(help="The knowledge base as a static HTML site.", no_args_is_help=True)
    docs.command("build")(docs_build_command)
    app.add_typer(docs, name="docs")
