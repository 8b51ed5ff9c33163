"""Counts of what the knowledge base holds and what its checks cover.

``python -m trailguard.kb.stats`` (or ``trailguard events --stats``) prints: curated entries,
CLI commands checked against botocore, snippets, snippets run on moto in the tests (they
have a moto block with expectations), and snippets checked against the model only (they
carry a skip_reason), and runs whose expectations are also checked to fail when the snippet
is left out (snippets that change state). Static check problems are counted too; the moto
runs themselves happen in ``pytest tests/kb``.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass

from trailguard.kb import verify
from trailguard.kb.loader import KnowledgeBaseError, load_entries
from trailguard.kb.schema import Entry


@dataclass
class KbStats:
    """Counts over the curated entries."""

    entries: int = 0
    services: int = 0
    actions: int = 0
    cli_commands: int = 0
    cli_problems: int = 0
    snippets: int = 0
    snippet_problems: int = 0
    snippets_run_on_moto: int = 0
    snippets_model_checked_only: int = 0
    moto_expectations: int = 0
    snippets_mutation_checked: int = 0


def compute(entries: dict[str, Entry]) -> KbStats:
    """Count entries, commands and snippets, running the static botocore checks."""
    stats = KbStats(entries=len(entries), services=len({e.service for e in entries.values()}))
    for entry in entries.values():
        for action in entry.actions:
            stats.actions += 1
            for cmd in action.cli:
                stats.cli_commands += 1
                stats.cli_problems += bool(verify.check_cli_command(cmd.command))
            stats.snippets += 1
            stats.snippet_problems += bool(verify.check_snippet(action.boto3.code))
            if action.boto3.moto.skip_reason is None:
                stats.snippets_run_on_moto += 1
                stats.moto_expectations += len(action.boto3.moto.expect)
                stats.snippets_mutation_checked += verify.snippet_changes_state(action.boto3.code)
            else:
                stats.snippets_model_checked_only += 1
    return stats


LABELS = {
    "entries": "curated entries",
    "services": "services",
    "actions": "response + hardening actions",
    "cli_commands": "CLI commands checked against botocore",
    "cli_problems": "CLI commands with problems",
    "snippets": "boto3 snippets checked against botocore",
    "snippet_problems": "snippets with problems",
    "snippets_run_on_moto": "snippets run on moto (pytest tests/kb)",
    "snippets_model_checked_only": "snippets model-checked only (skip_reason)",
    "moto_expectations": "moto expectations checked after runs",
    "snippets_mutation_checked": "runs whose expectations must fail without the snippet",
}


def main() -> int:
    """Print the counts; exit 1 when a static check fails or the KB does not load."""
    try:
        stats = compute(load_entries())
    except KnowledgeBaseError as exc:
        print(f"error: the knowledge base is broken:\n{exc}", file=sys.stderr)
        return 1
    width = max(len(v) for v in LABELS.values())
    for key, value in asdict(stats).items():
        print(f"{LABELS[key]:<{width}}  {value}")
    return 1 if stats.cli_problems or stats.snippet_problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
