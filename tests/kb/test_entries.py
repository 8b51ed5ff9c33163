"""Every shipped knowledge-base entry is correct by construction.

One test per entry file (schema, naming, botocore names), per CLI command, per boto3 snippet
(static model check) and per runnable snippet (run on the moto server, then its `expect`s).
Test ids name the event and the action: ``pytest tests/kb -k DeleteSSHPublicKey``.
"""

from __future__ import annotations

from typing import Any

import pytest

from trailguard.kb import botocore_index, verify
from trailguard.kb.loader import KnowledgeBaseError, iter_entry_files, load_entry_file
from trailguard.kb.schema import EVENT_NAME_RE, Action, Entry
from trailguard.kb.snippet_runner import ExpectationFailed, run_snippet

FILES = list(iter_entry_files())


def _parsed() -> list[tuple[str, Entry]]:
    out = []
    for rel, item in FILES:
        try:
            out.append((rel, load_entry_file(item, rel)))
        except KnowledgeBaseError:
            continue  # reported by test_entry_file_is_valid
    return out


ENTRIES = _parsed()
ACTIONS: list[tuple[Entry, Action]] = [(e, a) for _, e in ENTRIES for a in e.actions]
COMMANDS = [(e, a, i) for e, a in ACTIONS for i in range(len(a.cli))]
RUNNABLE = [(e, a) for e, a in ACTIONS if a.boto3.moto.skip_reason is None]
MODEL_ONLY = [(e, a) for e, a in ACTIONS if a.boto3.moto.skip_reason is not None]


def _ids(items: list[Any]) -> list[str]:
    out = []
    for item in items:
        if len(item) == 3:
            e, a, i = item
            out.append(f"{e.event_name}/{a.id}/cli{i + 1}")
        else:
            e, a = item
            out.append(f"{e.event_name}/{a.id}")
    return out


@pytest.mark.parametrize(("rel", "item"), FILES, ids=[rel for rel, _ in FILES])
def test_entry_file_is_valid(rel: str, item: Any) -> None:
    entry = load_entry_file(item, rel)  # raises with file + field on schema errors
    service, filename = rel.split("/")
    assert filename == f"{entry.event_name}.yaml", "file name must be <event_name>.yaml"
    assert service == entry.service, "directory must be the entry's service"


@pytest.mark.parametrize("entry", [e for _, e in ENTRIES], ids=[e.event_name for _, e in ENTRIES])
def test_entry_matches_botocore(entry: Entry) -> None:
    assert verify.check_entry_model(entry) == []


@pytest.mark.parametrize("entry", [e for _, e in ENTRIES], ids=[e.event_name for _, e in ENTRIES])
def test_entry_is_specific(entry: Entry) -> None:
    """Guidance is event-specific: no two actions share a title, and each names a real step."""
    titles = [a.title.lower() for a in entry.actions]
    assert len(titles) == len(set(titles))
    for action in entry.actions:
        assert all(step.strip() for step in action.console)


ATTACK_TACTICS = {
    "reconnaissance",
    "resource-development",
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
}


@pytest.mark.parametrize("entry", [e for _, e in ENTRIES], ids=[e.event_name for _, e in ENTRIES])
def test_attack_tactics_are_enterprise_tactics(entry: Entry) -> None:
    assert {t.tactic for t in entry.mitre_attack} <= ATTACK_TACTICS


def test_attack_technique_names_agree_across_entries() -> None:
    names: dict[str, set[str]] = {}
    for _, entry in ENTRIES:
        for t in entry.mitre_attack:
            names.setdefault(t.id, set()).add(t.name)
    assert {tid: n for tid, n in names.items() if len(n) > 1} == {}


@pytest.mark.parametrize("entry", [e for _, e in ENTRIES], ids=[e.event_name for _, e in ENTRIES])
def test_related_event_names_exist(entry: Entry) -> None:
    """A related event written as one name must be curated, an API operation, or a known
    non-API event (ConsoleLogin, GitPull ...); free-text descriptions are not checked."""
    curated = {e.event_name for _, e in ENTRIES}
    unknown = [
        r.event
        for r in entry.investigation.related_events
        if EVENT_NAME_RE.fullmatch(r.event)
        and r.event not in curated
        and r.event not in botocore_index.NON_API_EVENTS
        and r.event not in {op for op, _ in botocore_index.find_operation(r.event)}
    ]
    assert unknown == []


@pytest.mark.parametrize(("rel", "item"), FILES, ids=[rel for rel, _ in FILES])
def test_entry_text_has_no_real_account_ids_or_secrets(rel: str, item: Any) -> None:
    assert verify.check_text_hygiene(item.read_text(encoding="utf-8")) == []


def test_event_names_are_unique() -> None:
    names = [e.event_name for _, e in ENTRIES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(("entry", "action", "index"), COMMANDS, ids=_ids(COMMANDS))
def test_cli_command_matches_botocore(entry: Entry, action: Action, index: int) -> None:
    command = action.cli[index].command
    assert verify.check_cli_command(command) == [], command


@pytest.mark.parametrize(("entry", "action"), ACTIONS, ids=_ids(ACTIONS))
def test_snippet_matches_botocore(entry: Entry, action: Action) -> None:
    assert verify.check_snippet(action.boto3.code) == []


@pytest.mark.parametrize(("entry", "action"), ACTIONS, ids=_ids(ACTIONS))
def test_moto_block_matches_botocore(entry: Entry, action: Action) -> None:
    """setup/expect calls and args exist in botocore, JMESPaths compile, binds name constants
    (checked for skipped snippets too)."""
    assert verify.check_moto_block(action.boto3) == []


@pytest.mark.parametrize(("entry", "action"), RUNNABLE, ids=_ids(RUNNABLE))
def test_snippet_runs_on_moto(
    entry: Entry, action: Action, aws: str, placeholders: dict[str, Any]
) -> None:
    result = run_snippet(action.boto3, placeholders)
    assert placeholders["password"] not in result.stdout, "the snippet printed a password"


@pytest.mark.parametrize(("entry", "action"), MODEL_ONLY, ids=_ids(MODEL_ONLY))
def test_snippet_not_run_on_moto(entry: Entry, action: Action) -> None:
    """Listed as skipped with its reason, so the report shows what moto could not run."""
    reason = action.boto3.moto.skip_reason or ""
    assert len(reason.split()) >= 4, "say why moto cannot run this snippet"
    pytest.skip(f"model-checked only: {' '.join(reason.split())}")


MUTATING = [(e, a) for e, a in RUNNABLE if verify.snippet_changes_state(a.boto3.code)]


@pytest.mark.parametrize(("entry", "action"), MUTATING, ids=_ids(MUTATING))
def test_expectations_need_the_snippet(
    entry: Entry, action: Action, aws: str, placeholders: dict[str, Any]
) -> None:
    """Setup + expectations without the snippet must fail: otherwise the expectations would
    pass for a snippet that does nothing."""
    with pytest.raises(ExpectationFailed):
        run_snippet(action.boto3, placeholders, run_code=False)
