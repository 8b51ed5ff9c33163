"""CLI command group `rules`: list, test and export the Sigma detection rules."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.table import Table

from trailguard.detection.catalog import LEVELS, Catalog, CatalogError, RuleInfo, load_rules
from trailguard.detection.hunt_options import AccessKeyOption, ActorOption, SourceIpOption

rules_app = typer.Typer(
    help="List, test and export trailguard's Sigma detection rules.",
    no_args_is_help=False,
    add_completion=False,
)


class ListFormat(StrEnum):
    """Output formats of `trailguard rules`."""

    table = "table"
    json = "json"


RulesDirs = Annotated[
    list[Path] | None,
    typer.Option("--rules-dir", help="Also load Sigma rules from this directory (repeatable)."),
]


def _stderr() -> Console:
    return Console(stderr=True)


def _load(
    rules_dirs: list[Path] | None,
    require_examples: bool = True,
    filters: list[Path] | None = None,
) -> Catalog:
    try:
        return load_rules(rules_dirs or (), require_examples=require_examples,
                          filter_paths=filters or ())
    except CatalogError as e:
        err = _stderr()
        err.print(f"[red]error:[/red] {len(e.problems)} problem(s) in the detection rules:")
        for problem in e.problems:
            err.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(2) from None


def _short(names: list[str], limit: int = 3) -> str:
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" (+{len(names) - limit} more)"


def _selected(
    catalog: Catalog, level: str | None, event: str | None, include_inputs: bool
) -> list[RuleInfo]:
    minimum = LEVELS.index(level) if level else 0
    out = []
    for info in catalog.rules:
        if info.kind == "correlation-input" and not include_inputs:
            continue
        if info.level in LEVELS and LEVELS.index(info.level) < minimum:
            continue
        if event and event.lower() not in {n.lower() for n in info.event_names + info.explain}:
            continue
        out.append(info)
    # Most severe first; the catalog's file order otherwise.
    return sorted(out, key=lambda i: -LEVELS.index(i.level) if i.level in LEVELS else 0)


def _hidden_note(catalog: Catalog, shown: list[RuleInfo], all_rules: bool,
                 console: Console) -> None:
    """Say how many helper rules (correlation inputs) the listing left out, and how to see them."""
    if all_rules:
        return
    hidden = sum(1 for i in catalog.rules if i.kind == "correlation-input")
    if hidden:
        console.print(f"[dim]{len(shown)} rule(s) shown; {hidden} helper rule(s) that only feed "
                      "correlations are hidden (--all lists them; `rules test` counts them)[/dim]",
                      highlight=False)


@rules_app.callback(invoke_without_command=True)
def rules_command(
    ctx: typer.Context,
    output_format: Annotated[
        ListFormat,
        typer.Option("--format", "-f", help="table (for people) or json (for scripts)."),
    ] = ListFormat.table,
    level: Annotated[
        str | None,
        typer.Option(help=f"Only rules at or above this level ({', '.join(LEVELS)})."),
    ] = None,
    event: Annotated[
        str | None, typer.Option(help="Only rules about this event name, e.g. DeleteAccessKey.")
    ] = None,
    all_rules: Annotated[
        bool, typer.Option("--all", help="Also list helper rules that only feed correlations.")
    ] = False,
    rules_dir: RulesDirs = None,
) -> None:
    """List the detection rules: id, title, level, ATT&CK, events and what to `explain`."""
    if ctx.invoked_subcommand is not None:
        return
    if level is not None and level.lower() not in LEVELS:
        _stderr().print(f"[red]error:[/red] --level must be one of {', '.join(LEVELS)}")
        raise typer.Exit(2)
    catalog = _load(rules_dir)
    infos = _selected(catalog, level.lower() if level else None, event, all_rules)
    if output_format is ListFormat.json:
        typer.echo(json.dumps([i.to_dict() for i in infos], indent=2))
        _hidden_note(catalog, infos, all_rules, _stderr())
        return
    console = Console()
    wide = console.width >= 150
    table = Table(title=f"trailguard detection rules ({len(infos)})")
    table.add_column("Id" if wide else "Id (prefix)", no_wrap=True, style="dim")
    table.add_column("Title", min_width=20)
    table.add_column("Level")
    table.add_column("ATT&CK")
    table.add_column("Events")
    if wide:
        table.add_column("Explain")
    styles = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}
    for info in infos:
        title = info.title + (f" [dim]({info.kind})[/dim]" if info.kind != "detection" else "")
        row = [
            info.id if wide else info.id[:8],
            title,
            f"[{styles.get(info.level, 'white')}]{info.level.replace('informational', 'info')}[/]",
            ", ".join(info.techniques),
            _short(info.event_names, 3 if wide else 1),
        ]
        if wide:
            row.append(_short(info.explain, 2))
        table.add_row(*row)
    console.print(table)
    _hidden_note(catalog, infos, all_rules, console)
    if not wide:
        console.print(
            "[dim]Full ids, explain entries, tags and CIS controls: "
            "trailguard rules --format json[/dim]"
        )


@rules_app.command("test")
def test_command(
    rules_dir: RulesDirs = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show passing examples too.")
    ] = False,
) -> None:
    """Run every rule's embedded examples through the detection engine; exit 1 on a failure."""
    from trailguard.detection.examples import run_examples

    catalog = _load(rules_dir)
    results = run_examples(catalog)
    failed = [r for r in results if not r.ok]
    console = Console()
    shown = results if verbose else failed
    if shown:
        table = Table(title="Rule examples" if verbose else "Failing rule examples")
        table.add_column("Rule")
        table.add_column("Example")
        table.add_column("Expected")
        table.add_column("Result")
        for r in shown:
            expected = "match" if r.example.match else "no match"
            if r.error:
                got = f"[red]error: {r.error}[/red]"
            else:
                got = (
                    ("[green]" if r.ok else "[red]") + ("match" if r.fired else "no match") + "[/]"
                )
            table.add_row(r.rule.title, r.example.name, expected, got)
        console.print(table)
    rules = len({r.rule.id for r in results})
    helpers = len({r.rule.id for r in results if r.rule.kind == "correlation-input"})
    of_which = f" ({helpers} of them helper rules that `rules` lists only with --all)"
    console.print(
        f"{len(results) - len(failed)}/{len(results)} examples passed across {rules} rules"
        + (of_which if helpers else "")
        + (f", [red]{len(failed)} failed[/red]" if failed else "")
    )
    if failed:
        raise typer.Exit(1)


def _find(catalog: Catalog, key: str) -> RuleInfo:
    """A rule by full id, unique id prefix, or name (case-insensitive)."""
    k = key.strip().lower()
    exact = [i for i in catalog.rules if i.id == k or (i.name or "").lower() == k]
    found = exact or [i for i in catalog.rules if len(k) >= 4 and i.id.startswith(k)]
    if len(found) == 1:
        return found[0]
    err = _stderr()
    if not found:
        err.print(f"[red]error:[/red] no rule with id or name {key!r} (see: trailguard rules)")
    else:
        err.print(f"[red]error:[/red] {key!r} matches {len(found)} rules; give more of the id")
    raise typer.Exit(2)


@rules_app.command("show")
def show_command(
    rule: Annotated[str, typer.Argument(help="Rule id, id prefix (8+ chars) or name.")],
    examples: Annotated[
        bool, typer.Option("--examples", help="Also print the example records.")
    ] = False,
    rules_dir: RulesDirs = None,
) -> None:
    """Show one rule: what it detects, why, its Sigma YAML and its examples."""
    catalog = _load(rules_dir)
    info = _find(catalog, rule)
    data = {k: v for k, v in info.document.items() if k != "examples"}
    records = info.document.get("examples", [])
    console = Console()
    console.print(f"[bold]{info.title}[/bold]  [dim]{info.id}[/dim]")
    console.print(f"level: {info.level}   kind: {info.kind}   file: {info.source}")
    if info.techniques:
        console.print(f"ATT&CK: {', '.join(info.techniques)} ({', '.join(info.tactics)})")
    if info.cis:
        console.print(f"CIS AWS Foundations: {', '.join(info.cis)}")
    console.print(f"explain: trailguard explain {info.explain[0]}" if info.explain else "")
    console.print()
    typer.echo(yaml.safe_dump(data, sort_keys=False, width=100, allow_unicode=True).rstrip())
    console.print()
    console.print(f"[bold]Examples[/bold] ({len(info.examples)})")
    for ex in info.examples:
        mark = "[green]   match[/green]" if ex.match else "[cyan]no match[/cyan]"
        console.print(f"  {mark}  {ex.name}", highlight=False)
    if examples:
        typer.echo(yaml.safe_dump(records, sort_keys=False, width=100).rstrip())


def _target_help() -> str:
    """--target help: what is installed here (duckdb always), without importing any backend."""
    from trailguard.sigma.export import installed_backend_modules

    modules = installed_backend_modules()
    extra = (f"pySigma backend packages installed here: {', '.join(modules)} (a wrong name "
             "lists their targets)" if modules else
             "no pySigma backend is installed here, so duckdb is the only target (a wrong name "
             "lists the packages that add splunk, lucene, esql, kusto...)")
    return f"Query language: duckdb (trailguard's SQL, always available); {extra}."


@rules_app.command("event-pattern")
def event_pattern_command(
    rules_dir: RulesDirs = None,
) -> None:
    """Print an EventBridge event pattern for real-time detection: the rules' events only.

    Compact JSON on one line, as EventBridge counts its 4,096 characters. When the events do
    not fit one pattern, a JSON list of patterns is printed, one pattern a line: create one
    rule per pattern, all targeting the function.
    """
    from trailguard.detection.event_pattern import compact, event_patterns

    patterns, unpinned = event_patterns(_load(rules_dir, require_examples=False))
    if len(patterns) == 1:
        typer.echo(compact(patterns[0]))
    else:
        typer.echo("[\n" + ",\n".join(compact(p) for p in patterns) + "\n]")
    if unpinned:
        _stderr().print(f"note: not narrowed to event names: {_short(unpinned)} match(es) "
                        "events of any name", markup=False, highlight=False)


@rules_app.command("hunt")
def hunt_command(
    actor: ActorOption = None, access_key: AccessKeyOption = None, source_ip: SourceIpOption = None
) -> None:
    """Print the Sigma rule `scan --actor/--access-key/--source-ip` hunts with (for a SIEM)."""
    from trailguard.detection.hunt import HuntError, hunt_rule

    try:
        typer.echo(hunt_rule(actor or [], access_key or [], source_ip or []), nl=False)
    except HuntError as e:
        _stderr().print(f"[red]error:[/red] {e}", highlight=False)
        raise typer.Exit(2) from None


@rules_app.command("export")
def export_command(
    target: Annotated[str, typer.Option("--target", "-t", help=_target_help())],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the queries to this file instead of stdout."),
    ] = None,
    rules_dir: RulesDirs = None,
    filters: Annotated[
        list[Path] | None,
        typer.Option(
            "--filters",
            help="Sigma filter file or folder (repeatable), applied to the exported queries as "
            "`scan --filters` applies them (expired filters are left out).",
        ),
    ] = None,
) -> None:
    """Convert the rules to a SIEM's query language with an installed pySigma backend."""
    from datetime import UTC, datetime

    from trailguard.sigma import ExportError, export_rules

    catalog = _load(rules_dir, require_examples=False, filters=filters)  # third-party rules too
    today = datetime.now(UTC).date()
    for info in catalog.filters:
        if info.expired(today):
            _stderr().print(f"warning: {info.label} expired on {info.expires}: not applied",
                            markup=False, highlight=False)
    active = [info.filter for info in catalog.filters if not info.expired(today)]
    try:
        text = export_rules(catalog.collection, target, filters=active)
    except ExportError as e:
        _stderr().print(f"[red]error:[/red] {e}", highlight=False)
        raise typer.Exit(2) from None
    if output is None:
        typer.echo(text)
        return
    try:
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as e:
        _stderr().print(f"[red]error:[/red] cannot write {output}: {e.strerror}")
        raise typer.Exit(2) from None
    _stderr().print(f"wrote {len(catalog)} rules for {target} to {output}")


def register(app: typer.Typer) -> None:
    """Add the `rules` command group to the root app."""
    app.add_typer(rules_app, name="rules")
