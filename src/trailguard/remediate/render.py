"""Show a plan (table or JSON) and the outcome of apply and undo."""

from __future__ import annotations

import contextlib
import json

from rich.console import Console
from rich.table import Table

from trailguard.remediate.schema import Plan


def plan_json(plan: Plan) -> str:
    """The plan as indented JSON (every step with its exact API calls)."""
    return plan.model_dump_json(indent=2)


def _params(params: dict) -> str:
    """Parameters as JSON; policy documents passed as strings are shown as JSON, unescaped."""
    shown = {}
    for k, v in params.items():
        if isinstance(v, str) and v.startswith("{"):
            with contextlib.suppress(ValueError):
                v = json.loads(v)
        shown[k] = v
    return json.dumps(shown, separators=(", ", ": "), sort_keys=True)


def print_plan(plan: Plan, console: Console) -> None:
    """Print the plan as tables: steps with their API calls, then notes."""
    console.print(f"Account {plan.account_id}, region {plan.region}: "
                  f"{len(plan.failed_checks)} failing check(s), {len(plan.steps)} step(s) planned.")
    if plan.steps:
        table = Table(show_lines=True, title="Remediation plan")
        table.add_column("#", justify="right")
        table.add_column("action")
        table.add_column("target")
        table.add_column("API calls (service operation parameters)", overflow="fold")
        table.add_column("undo")
        for s in plan.steps:
            calls = "\n".join(f"{c.service} {c.operation} {_params(c.params)}" for c in s.calls)
            table.add_row(str(s.seq), s.action, f"{s.target}\n[dim]{s.why}[/dim]", calls,
                          "yes" if s.reversible else "[bold red]NO[/bold red]")
        console.print(table)
        console.print("[dim]Before each change trailguard reads the target's current state "
                      "(read-only calls) and records it in the journal, so it can be undone.[/dim]")
    if plan.notes:
        notes = Table(title="Not changed", show_lines=False)
        notes.add_column("check / action")
        notes.add_column("target")
        notes.add_column("why", overflow="fold")
        for n in plan.notes:
            notes.add_row(n.check or n.action or "", n.target or "", n.message)
        console.print(notes)
