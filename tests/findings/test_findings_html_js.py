"""The HTML report's filter script, run in Node.js on the rows of a real rendered report.

No browser is needed: a minimal stand-in DOM gives the script the rows (their data-*
attributes and text, parsed from the report) and the filter form. Skipped without ``node``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from findings_builders import detection_set, posture_set, scan_report

from trailguard.findings.html import FILTER_SCRIPT, render_html

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")

HARNESS = r"""
const fs = require('fs');
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const results = [];
for (const scenario of input.scenarios) {
  const rows = input.rows.map(r => ({
    id: r.id, hidden: false, textContent: r.text,
    getAttribute(k) { const n = k.replace(/^data-/, ''); return n in r.attrs ? r.attrs[n] : null; },
  }));
  const details = {};
  rows.forEach(r => { details[r.id + '-detail'] = { hidden: false }; });
  const selects = input.selects.map(name => ({ name, value: scenario[name] || '' }));
  const search = { value: scenario.q || '' };
  const listeners = {};
  const form = {
    querySelectorAll: () => selects,
    querySelector: () => search,
    addEventListener: (type, fn) => { listeners[type] = fn; },
  };
  const shown = { textContent: '' };
  global.document = {
    getElementById: id => id === 'filters' ? form : id === 'shown' ? shown : (details[id] || null),
    querySelectorAll: () => rows,
  };
  eval(input.script);
  listeners.input();
  let prevented = false;
  listeners.submit({ preventDefault() { prevented = true; } });
  results.push({
    visible: rows.filter(r => !r.hidden).map(r => r.id),
    details: Object.keys(details).filter(k => !details[k].hidden).length,
    shown: shown.textContent,
    submitPrevented: prevented,
  });
}
process.stdout.write(JSON.stringify(results));
"""


class Rows(HTMLParser):
    """Rows of class ``finding``: id, data-* attributes and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[dict] = []
        self.selects: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "select":
            self.selects.append(a["name"])
        if tag == "tr" and a.get("class") == "finding":
            self.rows.append({"id": a["id"], "text": "",
                              "attrs": {k[5:]: v for k, v in a.items() if k.startswith("data-")}})
            self._depth = 1
        elif self._depth and tag == "tr":
            self._depth = 0

    def handle_endtag(self, tag):
        if tag == "tr":
            self._depth = 0

    def handle_data(self, data):
        if self._depth and self.rows:
            self.rows[-1]["text"] += data


def run_filters(scenarios: list[dict]) -> list[dict]:
    parser = Rows()
    parser.feed(render_html(scan_report([*detection_set(), *posture_set()])))
    payload = {"rows": parser.rows, "selects": parser.selects, "scenarios": scenarios,
               "script": FILTER_SCRIPT}
    done = subprocess.run([NODE, "-e", HARNESS], input=json.dumps(payload), text=True,
                          capture_output=True, timeout=30, check=True)
    return json.loads(done.stdout)


def test_filters_select_the_right_rows() -> None:
    none, sev, actor, event, text, status, combo, nothing = run_filters([
        {},
        {"severity": "high"},
        {"actor": "user/alice"},
        {"event": "StopLogging"},
        {"q": "東京"},
        {"status": "ERROR"},
        {"severity": "high", "q": "console"},
        {"severity": "info"},
    ])
    assert none["visible"] == [f"f{i}" for i in range(7)] and none["shown"] == "7"
    assert none["submitPrevented"]  # Enter in the search box does not navigate away
    # f0 critical StopLogging, f1 high CreateAccessKey, f2 low ConsoleLogin, then posture:
    # f3 FAIL high (console MFA), f4 FAIL medium, f5 ERROR high, f6 PASS critical
    assert sev["visible"] == ["f1", "f3", "f5"]
    assert actor["visible"] == ["f1"]
    assert event["visible"] == ["f0"]
    assert text["visible"] == ["f2"] and text["shown"] == "1"
    assert status["visible"] == ["f5"]
    assert combo["visible"] == ["f3"]
    assert nothing["visible"] == [] and nothing["shown"] == "0" and nothing["details"] == 0
