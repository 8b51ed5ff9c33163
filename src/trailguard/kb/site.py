"""The knowledge base as a static HTML site that works offline.

One page per curated event and an ``index.html`` that filters by service, severity and
ATT&CK tactic with a few lines of inline JavaScript. No CDN, no external script, style or
font: the only external links are the entries' own documentation references. Templates are
``templates/kb_*.html.j2`` rendered by jinja2 with autoescaping; code is highlighted by
pygments with inline styles.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from pygments import highlight as pyg_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name

from trailguard import __version__
from trailguard.kb.loader import load_entries
from trailguard.kb.render import SCENARIO_TITLE, title_line
from trailguard.kb.schema import Entry, Severity

_FORMATTER = HtmlFormatter(noclasses=True, nowrap=False, style="default")


def highlight(code: str, language: str) -> Markup:
    """Code as highlighted HTML (pygments escapes it; inline styles, no stylesheet needed)."""
    return Markup(pyg_highlight(code.rstrip("\n"), get_lexer_by_name(language), _FORMATTER))


def environment() -> Environment:
    """The jinja2 environment for the site templates (autoescaping on)."""
    env = Environment(
        loader=PackageLoader("trailguard", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        highlight=highlight,
        title_line=title_line,
        scenario_title=SCENARIO_TITLE,
        version=__version__,
    )
    return env


def build_site(directory: Path, entries: dict[str, Entry] | None = None) -> list[Path]:
    """Write index.html and one ``<EventName>.html`` per curated entry; return the paths."""
    entries = load_entries() if entries is None else entries
    ordered = sorted(entries.values(), key=lambda e: (e.service, e.event_name))
    env = environment()
    moto_runs = sum(1 for e in ordered for a in e.actions if a.boto3.moto.skip_reason is None)
    common = {"moto_runs": moto_runs, "curated": set(entries)}
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    index = env.get_template("kb_index.html.j2").render(
        entries=ordered,
        services=sorted({e.service for e in ordered}),
        tactics=sorted({t.tactic for e in ordered for t in e.mitre_attack}),
        severities=[s.value for s in Severity],
        severity_rank={s: i for i, s in enumerate(Severity)},
        **common,
    )
    path = directory / "index.html"
    path.write_text(index, encoding="utf-8")
    written.append(path)
    page = env.get_template("kb_event.html.j2")
    for entry in ordered:
        path = directory / f"{entry.event_name}.html"
        path.write_text(page.render(e=entry, **common), encoding="utf-8")
        written.append(path)
    return written
