"""`trailguard docs build`: an offline static site with escaped content and a filterable index."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from typer.testing import CliRunner

from trailguard.cli import app
from trailguard.kb.loader import load_entries


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset") and value is not None:
                self.refs.append((tag, name, value))


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _build(tmp_path: Path) -> Path:
    out = tmp_path / "site"
    result = CliRunner().invoke(app, ["docs", "build", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 3 page(s)" in result.stdout
    return out


def test_site_has_index_and_one_page_per_entry(fixture_kb: Path, tmp_path: Path) -> None:
    out = _build(tmp_path)
    assert sorted(p.name for p in out.iterdir()) == [
        "DeleteSSHPublicKey.html",
        "DeleteTrail.html",
        "index.html",
    ]
    page = (out / "DeleteSSHPublicKey.html").read_text()
    for heading in (
        "Event Information",
        "Examples of impact",
        "Investigation",
        "Response",
        "Hardening",
        "Using Console",
        "Using CLI",
        "Using Python (boto3)",
    ):
        assert f">{heading}<" in page
    assert "Checked against botocore's model only: fixture of a model-checked-only" in page


def test_index_filters_by_service_severity_and_tactic(fixture_kb: Path, tmp_path: Path) -> None:
    index = (_build(tmp_path) / "index.html").read_text()
    assert 'id="f-service"' in index and 'id="f-severity"' in index and 'id="f-tactic"' in index
    assert '<option value="cloudtrail">cloudtrail</option>' in index
    assert '<option value="defense-evasion">defense-evasion</option>' in index
    # rows carry the data the inline script filters on (severity as a rank: critical = 4)
    assert re.search(
        r'data-service="cloudtrail" data-severity="4"\s+data-tactics="defense-evasion"', index
    )
    assert 'data-severity="1"' in index  # DeleteSSHPublicKey is low
    assert "<script>" in index and "addEventListener" in index
    assert '<a href="DeleteTrail.html">DeleteTrail</a>' in index


def test_site_uses_no_external_resources(fixture_kb: Path, tmp_path: Path) -> None:
    out = _build(tmp_path)
    reference_urls = {r.url for e in load_entries().values() for r in e.references}
    for page in out.glob("*.html"):
        parsed = _parse(page)
        assert (
            "link" not in parsed.tags and "img" not in parsed.tags and "iframe" not in parsed.tags
        )
        for tag, attr, value in parsed.refs:
            assert tag == "a" and attr == "href", (page.name, tag, attr, value)
            if "://" in value or value.startswith("//"):
                assert value in reference_urls, (page.name, value)
            else:
                assert (out / value).exists(), (page.name, value)
        text = page.read_text()
        assert "<script src" not in text and "@import" not in text and "url(" not in text


def test_site_escapes_entry_text(fixture_kb: Path, tmp_path: Path) -> None:
    out = _build(tmp_path)
    page = (out / "DeleteSSHPublicKey.html").read_text()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    index = (out / "index.html").read_text()
    assert "<script>alert(1)" not in index
    assert index.count("<script>") == 1  # only the filter script


def test_site_into_unwritable_path_is_a_clear_error(fixture_kb: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(app, ["docs", "build", str(blocker / "site")])
    assert result.exit_code == 1
    assert "cannot write the site" in result.stderr
