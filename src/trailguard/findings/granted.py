"""One line saying whom a finding's event gave access to, for the table, csv, html and asff.

The scanner puts the grantees of an access-granting event (a snapshot shared, a bucket or
trust policy written) in the target's ``details`` (see ``trailguard.scan.grants``):
``granted_to``, ``public``, ``conditions``, ``limited_by``, ``outside_account``. This module
only words them: "limited by" names only the condition keys that narrow who can use a public
grant (``limited_by``, or ``conditions`` when the scanner left ``limited_by`` out because
every key narrows); conditions that do not are shown as such, never as a limit.
"""

from __future__ import annotations

from typing import Any

from trailguard.findings.model import Finding

# Grantee names the scanner uses for public grants.
PUBLIC_NAMES = frozenset({"everyone", "any authenticated AWS user"})


def grant_text(details: dict[str, Any]) -> str:
    """``everyone (public, limited by aws:SourceVpce)``, ``999988887777 (outside the account)``,
    ``everyone (public; conditions aws:SecureTransport do not limit who)``,
    ``111122223333 (own account only)``.

    Empty when ``details`` hold no grantees or are not shaped as the scanner writes them.
    """
    granted = details.get("granted_to")
    if not isinstance(granted, list) or not granted:
        return ""
    conditions = _names(details.get("conditions"))
    limits = _names(details.get("limited_by", details.get("conditions")))
    if limits:
        public = f" (public, limited by {limits})"
    elif conditions:
        public = f" (public; conditions {conditions} do not limit who)"
    else:
        public = " (public)"
    names = [name + public if name in PUBLIC_NAMES else name for name in map(str, granted)]
    text = ", ".join(names)
    if details.get("outside_account") is True:
        text += " (outside the account)"
    elif details.get("outside_account") is False:  # e.g. a snapshot "shared" with its own account
        text += " (own account only)"
    return text


def _names(value: Any) -> str:
    return ", ".join(str(c) for c in value) if isinstance(value, list) else ""


def finding_grant_text(f: Finding) -> str:
    """:func:`grant_text` of the first target of ``f`` that holds grantees; empty otherwise."""
    for r in f.resources:
        text = grant_text(r.details) if r.details else ""
        if text:
            return text
    return ""


def grant_label(f: Finding) -> str:
    """``granted to ...`` for a finding whose target holds grantees (``tried to grant to ...``
    when the call failed); empty otherwise."""
    text = finding_grant_text(f)
    if not text:
        return ""
    return ("tried to grant to " if f.error_code else "granted to ") + text
