"""The remediation journal: JSON lines, each flushed and fsynced before the next change starts.

Records (``record`` field):
- ``header``: kind (apply|undo), account, region, time; an undo journal names the journal it undoes.
- ``before``: a step (its exact API calls) and the state read before it ran.
- ``done``: the step's calls all succeeded (with the results trailguard keeps).
- ``failed``: the step raised; nothing after it was attempted.
- ``end``: the run finished (status complete|failed|aborted).
A crash leaves an honest file: a ``before`` without ``done`` means the change may or may not
have happened; undo restores the recorded state either way.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from trailguard.remediate.schema import Step

DEFAULT_DIR = Path("trailguard-journals")
VERSION = 1


class JournalError(ValueError):
    """A journal file cannot be read or is not a trailguard journal."""


def now_iso() -> str:
    """The current UTC time in ISO 8601 with microseconds."""
    return datetime.now(UTC).isoformat()


def default_path(kind: str, directory: Path = DEFAULT_DIR) -> Path:
    """``DIR/<kind>-YYYYmmddTHHMMSS.ffffffZ.jsonl`` (never an existing file)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return directory / f"{kind}-{stamp}.jsonl"


class JournalWriter:
    """Append-only journal; every record is on disk (fsync) when ``write`` returns."""

    def __init__(self, path: Path, kind: str, account_id: str, region: str,
                 **header: Any) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # "x": never append to, or overwrite, someone else's journal
        self._fh = open(path, "xb")  # noqa: SIM115 - closed by close()
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)
        self._sync_dir()
        self.write({"record": "header", "version": VERSION, "kind": kind,
                    "account_id": account_id, "region": region, "tool": "trailguard",
                    **header})

    def _sync_dir(self) -> None:
        try:
            fd = os.open(self.path.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def write(self, record: dict[str, Any]) -> None:
        """Write one record, flush and fsync it."""
        record = {"time": now_iso(), **record}
        self._fh.write(orjson.dumps(record, default=str) + b"\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def before(self, step: Step, state: dict[str, Any]) -> None:
        """Record a step and the state before it (call before changing anything)."""
        self.write({"record": "before", "seq": step.seq, "step": step.model_dump(mode="json"),
                    "before": state})

    def done(self, seq: int, result: dict[str, Any] | None = None) -> None:
        """Record that step ``seq`` completed."""
        self.write({"record": "done", "seq": seq, "result": result or {}})

    def failed(self, seq: int, error: str) -> None:
        """Record that step ``seq`` failed (or was interrupted)."""
        self.write({"record": "failed", "seq": seq, "error": error})

    def end(self, status: str, **extra: Any) -> None:
        """Record the end of the run and close the file."""
        self.write({"record": "end", "status": status, **extra})
        self.close()

    def close(self) -> None:
        """Close the file (idempotent)."""
        if not self._fh.closed:
            self._fh.close()


@dataclass
class JournalEntry:
    """One step as a journal tells it: what it was, the state before, and how far it got."""

    step: Step
    before: dict[str, Any]
    time: str
    done: bool = False
    failed: str | None = None
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class Journal:
    """A parsed journal file."""

    path: Path
    header: dict[str, Any]
    entries: list[JournalEntry]
    end: dict[str, Any] | None
    damaged_lines: int = 0


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any] | None]]:
    with open(path, "rb") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = orjson.loads(line)
            except orjson.JSONDecodeError:
                yield n, None
                continue
            yield n, rec if isinstance(rec, dict) else None


def read_journal(path: str | Path) -> Journal:
    """Parse a journal; a damaged line (e.g. cut by a crash) is counted, not fatal."""
    p = Path(path)
    if not p.is_file():
        raise JournalError(f"{p}: no such journal file")
    header: dict[str, Any] | None = None
    entries: dict[int, JournalEntry] = {}
    end = None
    damaged = 0
    try:
        for n, rec in _records(p):
            if rec is None:
                if header is None:
                    raise JournalError(f"{p}: not a trailguard journal (line {n} is not JSON)")
                damaged += 1
                continue
            kind = rec.get("record")
            if n == 1 or header is None:
                if kind != "header" or rec.get("tool") != "trailguard":
                    raise JournalError(f"{p}: not a trailguard journal (line {n})")
                header = rec
                continue
            seq = rec.get("seq")
            if kind == "before":
                try:
                    step = Step.model_validate(rec["step"])
                except (KeyError, ValueError) as exc:
                    raise JournalError(f"{p}: line {n}: bad step record: {exc}") from exc
                entries[seq] = JournalEntry(step=step, before=rec.get("before") or {},
                                            time=rec.get("time", ""))
            elif kind == "done" and seq in entries:
                entries[seq].done = True
                entries[seq].result = rec.get("result") or {}
            elif kind == "failed" and seq in entries:
                entries[seq].failed = rec.get("error", "")
            elif kind == "end":
                end = rec
    except OSError as exc:
        raise JournalError(f"{p}: cannot read: {exc.strerror or exc}") from exc
    if header is None:
        raise JournalError(f"{p}: empty journal")
    return Journal(path=p, header=header, entries=[entries[k] for k in sorted(entries)],
                   end=end, damaged_lines=damaged)


def iter_journals(directory: Path) -> Iterator[Journal]:
    """Every readable journal in ``directory`` (unreadable files are skipped)."""
    if not directory.is_dir():
        return
    for p in sorted(directory.glob("*.jsonl")):
        try:
            yield read_journal(p)
        except JournalError:
            continue
