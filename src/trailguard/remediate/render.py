"""Show a plan (table or JSON) and the outcome of apply and undo."""

from __future__ import annotations

import contextlib
import json

from rich.console import Console
from rich.table import Table

from trailguard.audit.catalog import load_catalog
from trailguard.remediate.schema import Plan, load_actions


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
        table.add_column("API calls (service operation region parameters)", overflow="fold")
        table.add_column("undo")
        for s in plan.steps:
            calls = "\n".join(f"{c.service} {c.operation} {c.region} {_params(c.params)}"
                              for c in s.calls)
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


def actions_overview() -> list[dict]:
    """Every action with the checks that name it (audit catalog) and its declared calls."""
    checks: dict[str, list[str]] = {}
    for cid, meta in load_catalog().items():
        if meta.remediation:
            checks.setdefault(meta.remediation, []).append(cid)
    out = []
    for aid, spec in load_actions().items():
        out.append({"action": aid, "title": spec.title, "checks": checks.get(aid, []),
                    "handlers": {n: h.model_dump() for n, h in spec.handlers.items()}})
    return out


def actions_json() -> str:
    """The action schema as JSON."""
    return json.dumps(actions_overview(), indent=2)


def print_actions(console: Console) -> None:
    """The action schema as a table."""
    table = Table(show_lines=True, title="Remediation actions")
    for col in ("action", "fixes checks", "changes (API calls)", "undo"):
        table.add_column(col, overflow="fold")
    for a in actions_overview():
        calls = sorted({c for h in a["handlers"].values() for c in h["calls"]})
        undo = sorted({c for h in a["handlers"].values() for c in h["undo"]})
        reversible = all(h["reversible"] for h in a["handlers"].values())
        checks = "\n".join(a["checks"]) or "(only when asked: --delete-inactive-keys)"
        table.add_row(f"{a['action']}\n[dim]{a['title']}[/dim]", checks, "\n".join(calls),
                      "\n".join(undo) if reversible else "[bold red]cannot be undone[/bold red]")
    console.print(table)
