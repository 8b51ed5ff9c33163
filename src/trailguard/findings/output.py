"""One entry point that writes a :class:`Report` (scan or audit) in any supported format.

``scan`` and ``audit`` both call :func:`write_report`; adding a format means adding one
writer here, and both commands get it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from trailguard.findings.common import redact_report
from trailguard.findings.model import Report
from trailguard.findings.summary import summarize, summary_lines

__all__ = ["FORMATS", "summarize", "summary_lines", "write_report"]

FORMATS: tuple[str, ...] = ("table", "json", "jsonl", "csv", "ocsf", "asff", "html")


def _writer(fmt: str) -> Callable[[Report, IO[str]], int | None]:
    """Import lazily: the table format should not pay for jinja2, nor json for rich."""
    if fmt == "json":
        from trailguard.findings.flat import write_json

        return write_json
    if fmt == "jsonl":
        from trailguard.findings.flat import write_jsonl

        return write_jsonl
    if fmt == "csv":
        from trailguard.findings.flat import write_csv

        return write_csv
    if fmt == "ocsf":
        from trailguard.findings.ocsf import write_ocsf

        return write_ocsf
    if fmt == "asff":
        from trailguard.findings.asff import write_asff

        return write_asff
    if fmt == "html":
        from trailguard.findings.html import write_html

        return write_html
    raise AssertionError(fmt)  # pragma: no cover - guarded by write_report


def write_report(report: Report, fmt: str, output: Path | None = None) -> int:
    """Write ``report`` as ``fmt`` to the file ``output``, or to stdout when it is None or ``-``.

    ``fmt`` is one of :data:`FORMATS` (case-insensitive). The file is written to a temporary
    name beside it and renamed into place, so a failed run never leaves half a report; it is
    readable by its owner only (0600), as reports name identities, keys and addresses. An
    existing non-regular file (``/dev/null``, a FIFO) is written through, never replaced.
    ``table`` on stdout uses the terminal's colours and width; to a file it is plain text.
    Secret-named values in resource details are redacted in every format.
    Raises ValueError for an unknown format, naming the valid ones.

    Returns how many findings the format could not express and left out (warned about on
    stderr; only ``asff`` leaves any out: findings without a 12-digit account id). Callers exit
    non-zero when it is not 0, as data was left out.
    """
    name = fmt.strip().lower()
    if output is not None and str(output) == "-":
        output = None
    if name not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    report = redact_report(report)
    if name == "table":
        from trailguard.findings.table import write_table

        def writer(r: Report, s: IO[str]) -> int | None:
            write_table(r, s, terminal=output is None)
            return None
    else:
        writer = _writer(name)

    if output is None:
        left_out = writer(report, sys.stdout)
        sys.stdout.flush()
        return left_out or 0
    output = Path(output)
    if output.exists() and not output.is_file():
        # /dev/null, a FIFO, /dev/stdout: write through it. Renaming a temporary file over a
        # device would replace the device itself (as root, /dev/null became a plain file).
        with output.open("w", encoding="utf-8", newline="") as stream:
            left_out = writer(report, stream)
        return left_out or 0
    directory = output.parent if str(output.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            left_out = writer(report, stream)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return left_out or 0
