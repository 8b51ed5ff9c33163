"""Render knowledge-base entries and botocore fallbacks as terminal text, Markdown or JSON.

Text is a list of rich renderables (print them with a rich Console); Markdown is a page shaped
like the public event pages (Event Information, Examples of impact, Investigation, Response,
Hardening with Console / CLI / Python), and JSON is the entry itself.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.markup import escape
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from trailguard.kb.botocore_index import OperationInfo
from trailguard.kb.schema import Action, Entry, FieldNote, Scenario, Severity

SEVERITY_STYLE = {
    Severity.info: "dim",
    Severity.low: "green",
    Severity.medium: "yellow",
    Severity.high: "bold red",
    Severity.critical: "bold white on red",
}
SCENARIO_TITLE = {
    Scenario.unauthorized_use: "Unauthorized use",
    Scenario.malicious_insider: "Malicious insider",
    Scenario.accident: "Accident",
}
NOT_CURATED = "No curated guidance exists for this event yet: this is what botocore's model says."


def attack_line(entry: Entry) -> str:
    """``T1098 Account Manipulation (persistence); ...`` for an entry."""
    return "; ".join(f"{t.id} {t.name} ({t.tactic})" for t in entry.mitre_attack)


def title_line(entry: Entry) -> str:
    """A one-line title for tables: the first sentence of the summary's `what`."""
    first = entry.summary.what.strip().split(". ")[0].rstrip(".")
    return first if len(first) <= 120 else first[:117] + "..."


# ---------------------------------------------------------------- text (rich)


class Adaptive:
    """A table where there is room for it, a list layout on narrow terminals.

    `min_width` is the width below which `narrow` is rendered instead of `wide`.
    """

    def __init__(self, wide: RenderableType, narrow: RenderableType, min_width: int) -> None:
        self.wide, self.narrow, self.min_width = wide, narrow, min_width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.narrow if options.max_width < self.min_width else self.wide


def _listed(title: str, items: Sequence[tuple[Text, str]]) -> Group:
    """A titled list: each item's heading line, then its text indented below it."""
    parts: list[RenderableType] = [Text(title, style="italic")]
    for heading, body in items:
        parts.append(heading)
        parts.append(Padding(Text(body), (0, 0, 0, 2)))
    return Group(*parts)


# Below this width related events are a list: the window text holds long policy names.
RELATED_TABLE_MIN_WIDTH = 110
# Room the meaning column needs next to the field column before the list layout is better.
MEANING_MIN_WIDTH = 40


def _fields_table(title: str, notes: Sequence[FieldNote]) -> Adaptive:
    table = Table(title=title, title_justify="left", show_header=True, expand=False)
    table.add_column("field", style="cyan", no_wrap=True)
    table.add_column("meaning")
    for note in notes:
        table.add_row(escape(note.field), escape(note.meaning))
    longest = max((len(n.field) for n in notes), default=0)
    narrow = _listed(title, [(Text(n.field, style="cyan"), n.meaning) for n in notes])
    return Adaptive(table, narrow, longest + MEANING_MIN_WIDTH + 7)


def _numbered(items: Sequence[str]) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", style="dim")
    grid.add_column()
    for i, item in enumerate(items, 1):
        grid.add_row(f"{i}.", item)
    return grid


def _code(code: str, language: str) -> Text:
    """A highlighted code block that never wraps, is never cut and is not indented, so a
    snippet copied from the terminal is valid code (long lines overflow the width)."""
    syntax = Syntax(code.rstrip("\n"), language, background_color="default")
    text = syntax.highlight(code.rstrip("\n"))
    text.rstrip()
    text.no_wrap = True
    text.overflow = "ignore"
    return text


def _action_text(number: int, action: Action) -> list[RenderableType]:
    out: list[RenderableType] = [
        Text.assemble((f"{number}. {action.title}", "bold"), ("  [" + action.id + "]", "dim")),
        Text(action.why, style="italic"),
        Text("Console", style="bold underline"),
        Padding(_numbered(action.console), (0, 0, 0, 1)),
        Text("AWS CLI", style="bold underline"),
    ]
    for cmd in action.cli:
        comment = "\n".join(f"# {line}" for line in textwrap.wrap(cmd.explain, 76))
        out.append(_code(f"{comment}\n{cmd.command}", "bash"))
    out.append(Text("Python (boto3)", style="bold underline"))
    out.append(_code(action.boto3.code, "python"))
    if action.boto3.moto.skip_reason:
        out.append(
            Text(
                f"(checked against botocore's model only: {action.boto3.moto.skip_reason})",
                style="dim",
            )
        )
    out.append(Text(""))
    return out


def entry_text(entry: Entry) -> RenderableType:
    """The entry as rich renderables, readable in a terminal."""
    sev = entry.severity
    header = Text.assemble(
        (entry.event_name, "bold"),
        "  ",
        (f"{entry.service} ({entry.event_source})", "cyan"),
        "\nseverity ",
        (sev.value, SEVERITY_STYLE[sev]),
        f" · category {entry.category.value}",
        " · changes state" if entry.changes_state else " · read-only",
        "\nATT&CK ",
        attack_line(entry),
    )
    parts: list[RenderableType] = [Panel(header, expand=False)]
    parts.append(Rule("What happened", align="left"))
    parts.append(Text(entry.summary.what))
    parts.append(Text.assemble(("Who can do it: ", "bold"), entry.summary.who_can))
    parts.append(_fields_table("Actor fields", entry.summary.actor_fields))
    parts.append(_fields_table("Target fields", entry.summary.target_fields))

    parts.append(Rule("How it hurts", align="left"))
    for imp in entry.impact:
        parts.append(Text.assemble((f"{SCENARIO_TITLE[imp.scenario]}: {imp.title}", "bold")))
        parts.append(Text(imp.description))

    inv = entry.investigation
    parts.append(Rule("Investigation", align="left"))
    parts.append(_fields_table("Fields to read", inv.fields))
    related = Table(title="Related events", title_justify="left")
    related.add_column("event", style="cyan", no_wrap=True)
    related.add_column("window", ratio=1, min_width=12, overflow="fold")
    related.add_column("why", ratio=3, overflow="fold")
    for rel in inv.related_events:
        related.add_row(rel.event, escape(rel.window), escape(rel.why))
    related_list = _listed(
        "Related events",
        [
            (Text.assemble((rel.event, "cyan"), " ", (f"({rel.window})", "dim")), rel.why)
            for rel in inv.related_events
        ],
    )
    longest = max((len(r.event) for r in inv.related_events), default=0)
    parts.append(Adaptive(related, related_list, max(RELATED_TABLE_MIN_WIDTH, longest + 60)))
    parts.append(Text("Usually benign when:", style="bold"))
    parts.append(Padding(_numbered(inv.benign), (0, 0, 0, 1)))

    parts.append(Rule("Response", align="left"))
    for i, action in enumerate(entry.response, 1):
        parts.extend(_action_text(i, action))
    parts.append(Rule("Hardening", align="left"))
    for i, action in enumerate(entry.hardening, 1):
        parts.extend(_action_text(i, action))

    parts.append(Rule("References", align="left"))
    for ref in entry.references:  # the URL on its own line, never cut, so it stays copyable
        parts.append(Text(f"  {ref.title}:"))
        parts.append(Text(f"    {ref.url}", no_wrap=True, overflow="ignore"))
    return Group(*parts)


def operation_text(infos: Sequence[OperationInfo], note: str | None = None) -> RenderableType:
    """The botocore fallback for one or more services sharing an operation name; `note`
    (which services share the name) comes first."""
    parts: list[RenderableType] = []
    if note:
        parts.append(Text(note + ".", style="bold yellow"))
    for info in infos:
        ro = "read-only" if info.read_only else "may change state"
        header = Text.assemble(
            (info.name, "bold"),
            "  ",
            (f"{info.service} ({info.event_source})", "cyan"),
            f"\n{info.service_full_name}",
            f"\n{ro} ({info.read_only_basis})",
        )
        parts.append(Panel(header, expand=False))
        parts.append(Text(NOT_CURATED, style="yellow"))
        if info.documentation:
            parts.append(Text(info.documentation))
        if len(infos) == 1:
            params = Table(title="Request parameters", title_justify="left")
            params.add_column("name", style="cyan")
            params.add_column("type")
            params.add_column("required")
            for p in info.parameters:
                params.add_row(p.name, p.type, "yes" if p.required else "")
            if info.parameters:
                parts.append(params)
            else:
                parts.append(Text("No request parameters."))
            if info.pageable:
                parts.append(Text("Pageable: use a paginator to read every page."))
        parts.append(Text(f"CLI reference: {info.cli_reference}", style="dim"))
    return Group(*parts)


# Below this width `events` lists entries on two lines each instead of a six-column table.
EVENTS_TABLE_MIN_WIDTH = 140


def events_table(entries: Sequence[Entry]) -> RenderableType:
    """The ``events`` listing: a table on wide terminals, two lines per entry on narrow."""
    title = f"{len(entries)} curated event(s)"
    table = Table(title=title, title_justify="left")
    table.add_column("event", no_wrap=True)
    table.add_column("service", no_wrap=True)
    table.add_column("category", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("ATT&CK", min_width=9)
    table.add_column("what", ratio=1, min_width=20)
    items: list[RenderableType] = [Text(title, style="italic")]
    for e in entries:
        sev = Text(e.severity.value, style=SEVERITY_STYLE[e.severity])
        attack = ", ".join(t.id for t in e.mitre_attack)
        table.add_row(e.event_name, e.service, e.category.value, sev, attack, title_line(e))
        items.append(
            Text.assemble(
                (e.event_name, "bold"),
                "  ",
                (e.service, "cyan"),
                " · ",
                sev,
                f" · {e.category.value}",
                f" · {attack}" if attack else "",
            )
        )
        items.append(Padding(Text(title_line(e)), (0, 0, 0, 2)))
    return Adaptive(table, Group(*items), EVENTS_TABLE_MIN_WIDTH)


# ---------------------------------------------------------------- markdown


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_fields(notes: Sequence[FieldNote]) -> list[str]:
    lines = ["| Field | Meaning |", "| --- | --- |"]
    lines += [f"| `{n.field}` | {_md_escape(n.meaning)} |" for n in notes]
    return lines


def _md_action(number: int, action: Action) -> list[str]:
    lines = [f"### {number}. {action.title}", "", action.why.strip(), "", "#### Using Console", ""]
    lines += [f"{i}. {step}" for i, step in enumerate(action.console, 1)]
    lines += ["", "#### Using CLI", ""]
    for cmd in action.cli:
        lines += [f"{cmd.explain.strip()}", "", "```bash", cmd.command.strip(), "```", ""]
    lines += ["#### Using Python (boto3)", "", "```python", action.boto3.code.rstrip("\n"), "```"]
    lines.append("")
    return lines


def entry_markdown(entry: Entry) -> str:
    """The entry as a Markdown page."""
    lines = [
        f"# {entry.event_name}",
        "",
        f"**Service:** {entry.service} (`{entry.event_source}`) · "
        f"**Severity:** {entry.severity.value} · **Category:** {entry.category.value} · "
        f"**Changes state:** {'yes' if entry.changes_state else 'no'}",
        "",
        "**MITRE ATT&CK:** "
        + ", ".join(
            f"[{t.id}](https://attack.mitre.org/techniques/{t.id.replace('.', '/')}/) "
            f"{t.name} ({t.tactic})"
            for t in entry.mitre_attack
        ),
        "",
        "## Event Information",
        "",
        entry.summary.what.strip(),
        "",
        f"**Who can do it:** {entry.summary.who_can.strip()}",
        "",
        "**Actor fields**",
        "",
        *_md_fields(entry.summary.actor_fields),
        "",
        "**Target fields**",
        "",
        *_md_fields(entry.summary.target_fields),
        "",
        "## Examples of impact",
        "",
    ]
    for imp in entry.impact:
        heading = f"### {SCENARIO_TITLE[imp.scenario]}: {imp.title}"
        lines += [heading, "", imp.description.strip(), ""]
    inv = entry.investigation
    lines += ["## Investigation", "", "**Fields to read**", "", *_md_fields(inv.fields), ""]
    lines += ["**Related events**", "", "| Event | Window | Why |", "| --- | --- | --- |"]
    lines += [
        f"| {r.event} | {_md_escape(r.window)} | {_md_escape(r.why)} |" for r in inv.related_events
    ]
    lines += ["", "**Usually benign when**", ""]
    lines += [f"- {b.strip()}" for b in inv.benign]
    lines += ["", "## Response", ""]
    for i, action in enumerate(entry.response, 1):
        lines += _md_action(i, action)
    lines += ["## Hardening", ""]
    for i, action in enumerate(entry.hardening, 1):
        lines += _md_action(i, action)
    lines += ["## References", ""]
    lines += [f"- [{r.title}]({r.url})" for r in entry.references]
    return "\n".join(lines).rstrip() + "\n"


def operation_markdown(infos: Sequence[OperationInfo], note: str | None = None) -> str:
    """The botocore fallback as Markdown; `note` (which services share the name) first."""
    lines: list[str] = [f"> **{note}.**", ""] if note else []
    for info in infos:
        lines += [
            f"# {info.name} ({info.service})",
            "",
            f"> {NOT_CURATED}",
            "",
            f"**Service:** {info.service_full_name} (`{info.event_source}`) · "
            f"**Read-only:** {'yes' if info.read_only else 'no'} ({info.read_only_basis})",
            "",
        ]
        if info.documentation:
            lines += ["## Event Information", "", info.documentation, ""]
        if len(infos) == 1:
            lines += ["## Request parameters", ""]
            if info.parameters:
                lines += ["| Name | Type | Required |", "| --- | --- | --- |"]
                lines += [
                    f"| `{p.name}` | {p.type} | {'yes' if p.required else 'no'} |"
                    for p in info.parameters
                ]
            else:
                lines.append("No request parameters.")
            lines.append("")
        lines += ["## References", "", f"- [AWS CLI reference]({info.cli_reference})", ""]
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------- json


def entry_json(entry: Entry) -> str:
    """The entry as JSON (the schema's own dump)."""
    return entry.model_dump_json(indent=2)


def operation_json(
    infos: Sequence[OperationInfo], others: Sequence[str] = (), note: str | None = None
) -> str:
    """The botocore fallback as JSON: one object, or a list when several services are shown.

    A single object shown for a name other services share carries ``other_services`` and
    the ``ambiguity`` note.
    """
    data = [i.to_dict() for i in infos]
    if len(data) == 1:
        if others:
            data[0]["other_services"] = list(others)
            data[0]["ambiguity"] = note
        return json.dumps(data[0], indent=2)
    return json.dumps(data, indent=2)
