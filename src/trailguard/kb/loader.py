"""Load the curated knowledge-base entries shipped as package data.

Entries live in ``src/trailguard/knowledge/<service>/<EventName>.yaml`` and are read through
importlib.resources, so they work from a wheel as well as from a checkout. Any invalid file
stops loading with a :class:`KnowledgeBaseError` naming the file and the failing field.

Content writers: check one entry with ``pytest tests/kb -k DeleteSSHPublicKey`` (all checks:
schema, botocore names, CLI commands, boto3 snippets, moto runs), or all with ``pytest tests/kb``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import yaml
from pydantic import ValidationError

from trailguard.kb.schema import Entry

KNOWLEDGE_PACKAGE = "trailguard"
KNOWLEDGE_DIR = "knowledge"


class KnowledgeBaseError(ValueError):
    """A knowledge-base file that cannot be read or does not match the schema."""


def knowledge_root() -> Traversable:
    """The packaged ``knowledge`` directory."""
    return resources.files(KNOWLEDGE_PACKAGE) / KNOWLEDGE_DIR


def iter_entry_files(root: Traversable | Path | None = None) -> Iterator[tuple[str, Traversable]]:
    """Yield ``("<service>/<EventName>.yaml", file)`` for every entry file, sorted."""
    base = knowledge_root() if root is None else root
    if not base.is_dir():
        return
    for service_dir in sorted(base.iterdir(), key=lambda t: t.name):
        if not service_dir.is_dir() or service_dir.name.startswith((".", "_")):
            continue
        for item in sorted(service_dir.iterdir(), key=lambda t: t.name):
            if item.is_file() and item.name.endswith((".yaml", ".yml")):
                yield f"{service_dir.name}/{item.name}", item


def _format_error(where: str, exc: ValidationError) -> str:
    lines = [f"{where}: {exc.error_count()} schema error(s)"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(entry)"
        lines.append(f"  {loc}: {err['msg']}")
    return "\n".join(lines)


# libyaml's safe loader when PyYAML has it (its wheels do): 10x faster than the pure-Python
# one, which took about 2.5 s for the knowledge base (every `explain`, every rule compile).
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_entry(text: str, where: str) -> Entry:
    """Parse and validate one entry's YAML text; `where` names the file in errors."""
    try:
        data = yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{where}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise KnowledgeBaseError(f"{where}: expected a mapping at the top level")
    try:
        return Entry.model_validate(data)
    except ValidationError as exc:
        raise KnowledgeBaseError(_format_error(where, exc)) from exc


def load_entry_file(path: Traversable | Path, where: str | None = None) -> Entry:
    """Load and validate one entry file."""
    label = where or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeBaseError(f"{label}: cannot read: {exc}") from exc
    return parse_entry(text, label)


def load_entries_from(root: Traversable | Path) -> dict[str, Entry]:
    """Load every entry under `root` (``<service>/<EventName>.yaml``), keyed by event name.

    Raises KnowledgeBaseError for an invalid file, a file named differently from its event,
    or an event that appears twice.
    """
    entries: dict[str, Entry] = {}
    for rel, item in iter_entry_files(root):
        where = f"knowledge/{rel}"
        entry = load_entry_file(item, where)
        service, filename = rel.split("/", 1)
        stem = filename.rsplit(".", 1)[0]
        if stem != entry.event_name:
            raise KnowledgeBaseError(
                f"{where}: event_name: {entry.event_name!r} differs from the file name {stem!r}"
            )
        if service != entry.service:
            raise KnowledgeBaseError(
                f"{where}: service: {entry.service!r} differs from the directory {service!r}"
            )
        if entry.event_name in entries:
            raise KnowledgeBaseError(f"{where}: event_name: {entry.event_name} is defined twice")
        entries[entry.event_name] = entry
    return entries


@functools.cache
def load_entries() -> dict[str, Entry]:
    """Every curated entry shipped with trailguard, keyed by event name (cached)."""
    return load_entries_from(knowledge_root())


@functools.cache
def _by_lower() -> dict[str, Entry]:
    by_name = {name.lower(): entry for name, entry in load_entries().items()}
    # Events named differently from their API operation (Lambda's UpdateFunctionCode20150331v2)
    # are found by the operation's name too, unless that name is an event of its own.
    aliases: dict[str, list[Entry]] = {}
    for entry in load_entries().values():
        op = (entry.api_operation or "").lower()
        if op and op != entry.event_name.lower() and op not in by_name:
            aliases.setdefault(op, []).append(entry)
    by_name.update({op: found[0] for op, found in aliases.items() if len(found) == 1})
    return by_name


def get_entry(event_name: str) -> Entry | None:
    """The curated entry for `event_name` (case-insensitive), or None when not curated.

    An entry is also found by its ``api_operation`` when that differs from the event name
    (``UpdateFunctionCode`` -> ``UpdateFunctionCode20150331v2``) and no other entry claims it.
    """
    return _by_lower().get(event_name.strip().lower())


def clear_cache() -> None:
    """Forget loaded entries (for tests that swap the knowledge directory)."""
    load_entries.cache_clear()
    _by_lower.cache_clear()
