"""A disk cache of the compiled rule set, so a scan with unchanged rules skips compiling them.

Loading and validating the Sigma catalog and compiling it into the detector's SQL costs about
0.4 CPU-seconds on every run (YAML parsing, pySigma rule objects, botocore look-ups for the
``explain`` check, two backend passes): a fixed start-up price that dominates small scans.
The result, the :class:`~trailguard.sigma.Detector` (before it saw any event) plus the rule
metadata findings are built from, is pickled under the user cache directory
(``$TRAILGUARD_CACHE_DIR``, else ``$XDG_CACHE_HOME/trailguard`` or ``~/.cache/trailguard``).

The key is a SHA-256 over everything the compiled form depends on: the content of every file
of the installed ``trailguard`` package (shipped rules, knowledge base, compiler code), the
path and content of every rule file in the ``--rules`` folders and of every ``--filters``
file (with today's date, since a filter stops applying after its ``expires`` day), and the
versions of Python, pySigma, DuckDB and botocore. Any change gives a new key; a rule set that
fails to load or compile is never cached, so its errors are reported exactly as without the
cache. The cache is best effort: an unreadable, foreign or damaged entry is ignored (and
replaced), and a cache directory that cannot be written only costs the speed-up. Set
``TRAILGUARD_CACHE_DIR=off`` to disable it.

What is stored is the detector's detached copy (:meth:`~trailguard.sigma.Detector.detached`):
SQL text, indexes and correlation trackers of plain data, with a
:class:`~trailguard.sigma.match.RuleRef` (id, name, title) for each rule. Loading it imports no
pySigma, which alone took about a third of a warm scan's start-up.

Entries are pickles, read only when the file belongs to the current user and is not writable
by anyone else (the same trust as the installed code itself).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Iterable
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

FORMAT = b"trailguard-rule-cache-3"
RULE_SUFFIXES = (".yml", ".yaml")
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
_DISTRIBUTIONS = ("pysigma", "duckdb", "botocore")
KEEP_ENTRIES = 8


def cache_dir() -> Path | None:
    """Where compiled rule sets are kept; None when caching is switched off."""
    explicit = os.environ.get("TRAILGUARD_CACHE_DIR")
    if explicit:
        return None if explicit.lower() in ("off", "0", "no", "false") else Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "trailguard"


def _hash_tree(digest: Any, root: Path, suffixes: tuple[str, ...] | None = None) -> None:
    """Feed every file under ``root`` (relative path and content, sorted) into ``digest``."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if suffixes is not None and not name.endswith(suffixes):
                continue
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(folder, name)
            digest.update(os.path.relpath(path, root).encode() + b"\0")
            with open(path, "rb") as fh:
                digest.update(hashlib.sha256(fh.read()).digest())


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def cache_key(
    extra_dirs: Iterable[Path], filter_paths: Iterable[Path] = (), today: date | None = None
) -> str | None:
    """The key of the rule set made of the shipped rules, ``extra_dirs`` and filters, or None.

    None (do not use the cache) when an extra folder or filter path is missing or cannot be
    read: loading the rules then reports the problem as usual.
    """
    extra_dirs, filter_paths = list(extra_dirs), list(filter_paths)
    digest = hashlib.sha256(FORMAT)
    digest.update(sys.version.encode())
    for dist in _DISTRIBUTIONS:
        digest.update(f"{dist}={_version(dist)}\0".encode())
    try:
        _hash_tree(digest, _PACKAGE_ROOT)
        for folder in extra_dirs:
            path = Path(folder).resolve()
            if not path.is_dir():
                return None
            digest.update(b"\0extra\0" + str(path).encode() + b"\0")
            _hash_tree(digest, path, RULE_SUFFIXES)
        if filter_paths or extra_dirs:  # filters (also in rule folders) may expire today
            digest.update(f"\0today\0{today or datetime.now(UTC).date()}".encode())
        for item in filter_paths:
            path = Path(item).resolve()
            digest.update(b"\0filters\0" + str(path).encode() + b"\0")
            if path.is_dir():
                _hash_tree(digest, path, RULE_SUFFIXES)
            elif path.is_file():
                digest.update(hashlib.sha256(path.read_bytes()).digest())
            else:
                return None
    except OSError:
        return None
    return digest.hexdigest()


def load(key: str) -> tuple[Any, dict[int, Any]] | None:
    """The cached ``(detector, metas)`` for ``key``, or None when there is no usable entry.

    ``metas`` maps ``id(rule)`` of the detector's rules (RuleRefs) to the rule's metadata, as
    the scanner expects.
    """
    folder = cache_dir()
    if folder is None:
        return None
    path = folder / f"rules-{key}.pickle"
    try:
        with open(path, "rb") as fh:
            info = os.fstat(fh.fileno())
            if info.st_uid != os.getuid() or info.st_mode & 0o022:
                return None
            if fh.read(len(FORMAT)) != FORMAT:
                return None
            detector, pairs = pickle.load(fh)
    except Exception:  # noqa: BLE001 - a missing or damaged entry just means: compile
        return None
    return detector, {id(rule): meta for rule, meta in pairs}


def detached(detector: Any, metas: dict[int, Any]) -> tuple[Any, dict[int, Any]]:
    """The detector's detached copy and ``metas`` keyed by ``id()`` of the copy's RuleRefs.

    A detached copy holds no pySigma object; detaching it again keeps the same RuleRefs, so
    its metas stay valid for every further copy (one per Lambda invocation, for example).
    """
    twin = detector.detached()
    originals = list(detector.rules) + [t.rule for t in detector.trackers]
    refs = list(twin.rules) + [t.rule for t in twin.trackers]
    by_ref = {
        id(ref): metas[id(rule)]
        for rule, ref in zip(originals, refs, strict=True)
        if id(rule) in metas
    }
    return twin, by_ref


def store(key: str, detector: Any, metas: dict[int, Any]) -> None:
    """Save a freshly compiled ``detector`` (that has not seen events) and its rules' metas.

    ``metas`` maps ``id(rule)`` of the detector's pySigma rules to their metadata; the entry
    holds the detector's detached copy and the same metadata keyed to its RuleRefs.
    """
    folder = cache_dir()
    if folder is None:
        return
    try:
        twin, by_ref = detached(detector, metas)
        refs = list(twin.rules) + [t.rule for t in twin.trackers]
        pairs = [(ref, by_ref[id(ref)]) for ref in refs if id(ref) in by_ref]
        data = FORMAT + pickle.dumps((twin, pairs), protocol=pickle.HIGHEST_PROTOCOL)
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".rules-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, folder / f"rules-{key}.pickle")
        except BaseException:
            os.unlink(tmp)
            raise
        _prune(folder)
    except Exception:  # noqa: BLE001 - a cache that cannot be written costs only speed
        return


def _prune(folder: Path) -> None:
    """Keep the KEEP_ENTRIES most recently written entries (old rule sets pile up otherwise)."""
    entries = sorted(folder.glob("rules-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP_ENTRIES:]:
        old.unlink(missing_ok=True)
