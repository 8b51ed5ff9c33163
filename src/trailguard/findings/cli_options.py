"""Typer options shared by `scan` and `audit` for the report they write: --format, --output.

Use as parameter annotations: ``fmt: FormatOption = ReportFormat.table`` and
``output: OutputOption = None`` (typer copies the option for each command).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trailguard.findings.choices import ReportFormat

FormatOption = Annotated[
    ReportFormat,
    typer.Option("--format", "-f", case_sensitive=False, help="Report format."),
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
]
