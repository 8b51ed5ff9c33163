"""Typer options shared by `scan` (which runs a hunt) and `rules hunt` (which prints its rule).

Use as parameter annotations: ``actor: ActorOption = None`` and so on.
"""

from __future__ import annotations

from typing import Annotated

import typer

ActorOption = Annotated[
    list[str] | None,
    typer.Option("--actor", help="Hunt: every event of this principal ARN (repeatable; * is a "
                 "wildcard; a role ARN matches its sessions)."),
]
AccessKeyOption = Annotated[
    list[str] | None,
    typer.Option("--access-key", help="Hunt: every event made with this access key id "
                 "(repeatable)."),
]
SourceIpOption = Annotated[
    list[str] | None,
    typer.Option("--source-ip", help="Hunt: every event from this IP address or CIDR range "
                 "(repeatable). Hunt options given together must all hold."),
]
