"""Detection rows written in Python: escaped exactly as the template would, no markup injectable."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from findings_builders import XSS, detection
from markupsafe import escape

from trailguard.findings.html_rows import _e, detection_row_html
from trailguard.findings.model import Actor, Resource


@pytest.mark.parametrize("value", ["", "plain", "&<>'\"", "a&amp;b", XSS, "é ✓ \u2028", 7, 0.5,
                                   True])
def test_escape_is_markupsafes(value: object) -> None:
    assert _e(value) == str(escape(value))


def test_none_is_empty() -> None:
    assert _e(None) == ""


class _Shape(HTMLParser):
    """The tags and attribute names of a document, in order: what a value could inject."""

    def __init__(self) -> None:
        super().__init__()
        self.shape: list[tuple[str, tuple[str, ...]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.shape.append((tag, tuple(name for name, _ in attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.shape.append(("/" + tag, ()))


def _shape(text: str) -> list[tuple[str, tuple[str, ...]]]:
    parser = _Shape()
    parser.feed(text)
    return parser.shape


def _everywhere(v: str):
    """A detection with ``v`` in every text field a row shows."""
    return detection(
        title=v, description=v, rule_id=v, event_source=v, error_code=v, event_name=v,
        explain=v, remediation=v, account_id=v, region=v, mitre=[v, v], event_ids=[v],
        actor=Actor(identity_type=v, arn=v, session_issuer_arn=v, access_key_id=v,
                    source_ip=v, user_agent=v, mfa_authenticated=True, invoked_by=v),
        resources=[Resource(type=v, id=v, name=v, details={"granted_to": [v, "everyone"],
                                                           "conditions": [v]}) for _ in range(4)])


def test_hostile_values_cannot_add_tags_or_attributes() -> None:
    hostile = '"><img src=x onerror=alert(1)><script>alert(2)</script>\'&'
    evil = detection_row_html(0, _everywhere(hostile))
    benign = detection_row_html(0, _everywhere("value"))
    assert _shape(evil) == _shape(benign)
    assert "<img" not in evil and "<script" not in evil
    assert evil.count("&lt;script&gt;alert(2)&lt;/script&gt;") >= 10
