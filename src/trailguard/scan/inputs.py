"""Inputs the scanner reads: local files and S3 objects, each opened as a readable file.

An input yields ``(path, file)`` when opened: ``path`` is something DuckDB can read by name
(the local path, or an in-memory file for an S3 object, streamed there straight from the
``get_object`` body: nothing is downloaded to disk), ``file`` the same bytes for Python.
"""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from trailguard.scan.memfile import memory_file

# Names picked up when walking a folder (files named on the command line are always read).
LOG_SUFFIXES = (".json", ".jsonl", ".ndjson", ".gz")
_GLOB_CHARS = set("*?[")
_DUCKDB_UNSAFE = set("*?[]{}'")


@dataclass(frozen=True)
class LocalInput:
    """A file on disk."""

    path: Path

    @property
    def name(self) -> str:
        """The path as shown to the user."""
        return str(self.path)

    @property
    def size(self) -> int:
        """Stored size in bytes (0 when unreadable)."""
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    @contextmanager
    def open(self) -> Iterator[tuple[str | None, IO[bytes]]]:
        """Yield (path for DuckDB or None when DuckDB would misread the name, open file)."""
        with open(self.path, "rb") as fh:
            name = str(self.path)
            # DuckDB expands glob characters in paths: such names go through Python instead.
            yield (None if _DUCKDB_UNSAFE & set(name) else name), fh


@dataclass(frozen=True)
class S3Input:
    """An object in S3, read through the product's boto3 client."""

    client: Any
    bucket: str
    key: str
    size: int

    @property
    def name(self) -> str:
        """The object as an s3:// URL."""
        return f"s3://{self.bucket}/{self.key}"

    @contextmanager
    def open(self) -> Iterator[tuple[str | None, IO[bytes]]]:
        """Stream the object body into an in-memory file and yield it."""
        body = self.client.get_object(Bucket=self.bucket, Key=self.key)["Body"]
        with memory_file("trailguard-s3") as (path, fh):
            try:
                shutil.copyfileobj(body, fh, 1024 * 1024)
            finally:
                body.close()
            fh.seek(0)
            yield path, fh


@dataclass(frozen=True)
class StdinInput:
    """Standard input (SOURCE ``-``): e.g. ``zcat *.json.gz | trailguard scan -``."""

    @property
    def name(self) -> str:
        """How the input is shown to the user."""
        return "<stdin>"

    @contextmanager
    def open(self) -> Iterator[tuple[str | None, IO[bytes]]]:
        """Copy standard input into an in-memory file (any format is then detected)."""
        import sys

        if sys.stdin.isatty():
            sys.stderr.write("reading CloudTrail records from standard input (Ctrl-D ends)\n")
        with memory_file("trailguard-stdin") as (path, fh):
            shutil.copyfileobj(sys.stdin.buffer, fh, 1024 * 1024)
            fh.seek(0)
            yield path, fh


class UsageError(Exception):
    """A SOURCE argument that cannot name any input (reported as a usage error)."""


def expand_local(source: str) -> tuple[list[LocalInput | StdinInput], list[tuple[str, str]]]:
    """Expand a file, folder (recursively) or glob into inputs.

    Returns ``(inputs, problems)`` where problems are ``(source, reason)`` pairs for
    arguments that name nothing readable. See :func:`expand_local_counted` for the files a
    folder walk leaves out.
    """
    inputs, problems, _ignored = expand_local_counted(source)
    return inputs, problems


def expand_local_counted(
    source: str,
) -> tuple[list[LocalInput | StdinInput], list[tuple[str, str]], list[Path]]:
    """Like :func:`expand_local`, plus the files inside folders not scanned for their extension.

    ``-`` is standard input.

    Inside a folder only names ending in LOG_SUFFIXES are read (a folder may hold notes,
    exports, other tools' logs); the others are returned so the caller can count and name
    them instead of ignoring them silently. Hidden files (``.DS_Store``) are not counted. A
    file named directly (or matched by a glob) is always read, whatever its name.
    """
    if source == "-":
        return [StdinInput()], [], []
    path = Path(source).expanduser()
    if path.is_file():
        return [LocalInput(path)], [], []
    ignored: list[Path] = []
    if path.is_dir():
        return [LocalInput(p) for p in _walk(path, ignored)], [], ignored
    if _GLOB_CHARS & set(source):
        found: list[LocalInput | StdinInput] = []
        matched = False
        for match in sorted(glob.glob(os.path.expanduser(source), recursive=True)):
            mpath = Path(match)
            if mpath.is_dir():
                matched = True
                found.extend(LocalInput(p) for p in _walk(mpath, ignored))
            elif mpath.is_file():
                matched = True
                found.append(LocalInput(mpath))
        if matched:
            return found, [], ignored
        return [], [(source, "no files match this pattern")], []
    if path.exists():
        return [], [(source, "not a regular file or folder")], []
    return [], [(source, "no such file or folder")], []


def _walk(root: Path, ignored: list[Path] | None = None) -> Iterator[Path]:
    """Log files under ``root`` in name order; other non-hidden files go to ``ignored``."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fname in sorted(filenames):
            if fname.startswith("."):
                continue
            if fname.lower().endswith(LOG_SUFFIXES):
                yield Path(dirpath) / fname
            elif ignored is not None:
                ignored.append(Path(dirpath) / fname)
