"""The compiled-rule cache: reused when nothing changed, never trusted when anything did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from scan_helpers import delivery_bytes, record, write
from typer.testing import CliRunner

from trailguard.cli import app
from trailguard.scan import cli as scan_cli
from trailguard.scan import rulecache, ruleset

RULE_ID = "44444444-4444-4444-8444-444444444444"
RULE = f"""
title: Test Key Created
id: {RULE_ID}
status: test
level: high
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventName: PutWidgetAlpha
  condition: selection
"""


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("TRAILGUARD_CACHE_DIR", str(folder))
    return folder


@pytest.fixture()
def rules_dir(tmp_path: Path) -> Path:
    return write(tmp_path / "rules" / "key.yml", RULE).parent


def _count_compiles(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = ruleset.compile_detector

    def counting(extra, filters=()):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(extra, filters)

    monkeypatch.setattr(ruleset, "compile_detector", counting)
    return calls


def test_second_load_comes_from_cache_and_is_equivalent(
    cache: Path, rules_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_compiles(monkeypatch)
    first, first_metas = scan_cli._load_detector([rules_dir])
    second, second_metas = scan_cli._load_detector([rules_dir])
    assert len(calls) == 1
    assert len(list(cache.glob("rules-*.pickle"))) == 1
    assert second is not first
    assert second.query() == first.query()
    assert [r.title for r in second.rules] == [r.title for r in first.rules]
    # metas are keyed by the identity of the cached rule objects
    ours = [r for r in second.rules if str(r.id) == RULE_ID]
    assert len(ours) == 1
    assert second_metas[id(ours[0])].rule_id == RULE_ID
    assert sorted(m.rule_id for m in second_metas.values()) == sorted(
        m.rule_id for m in first_metas.values()
    )


def test_changed_rule_file_is_recompiled(
    cache: Path, rules_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_compiles(monkeypatch)
    scan_cli._load_detector([rules_dir])
    (rules_dir / "key.yml").write_text(RULE.replace("PutWidgetAlpha", "PutWidgetBeta"))
    detector, _ = scan_cli._load_detector([rules_dir])
    assert len(calls) == 2
    assert "putwidgetbeta" in detector.query().lower()
    assert "putwidgetalpha" not in detector.query().lower()


def test_damaged_or_foreign_entries_are_ignored(
    cache: Path, rules_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_compiles(monkeypatch)
    scan_cli._load_detector([rules_dir])
    (entry,) = cache.glob("rules-*.pickle")
    entry.write_bytes(rulecache.FORMAT + b"not a pickle")
    detector, metas = scan_cli._load_detector([rules_dir])
    assert len(calls) == 2 and detector.rules and metas
    # rewritten by the compile above; now make it writable by others: not trusted
    os.chmod(entry, 0o666)
    scan_cli._load_detector([rules_dir])
    assert len(calls) == 3


def test_cache_off_writes_nothing(
    tmp_path: Path, rules_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAILGUARD_CACHE_DIR", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    calls = _count_compiles(monkeypatch)
    scan_cli._load_detector([rules_dir])
    scan_cli._load_detector([rules_dir])
    assert len(calls) == 2
    assert not (tmp_path / "xdg").exists()


def test_missing_rules_folder_has_no_key() -> None:
    assert rulecache.cache_key([Path("/nonexistent/rules")]) is None


def test_invalid_rules_are_reported_every_time_never_cached(cache: Path, tmp_path: Path) -> None:
    bad = write(tmp_path / "bad" / "bad.yml", RULE.replace("condition: selection",
                                                            "condition: nothere"))
    for _ in range(2):
        result = CliRunner().invoke(app, ["scan", str(tmp_path), "--rules", str(bad.parent)])
        assert result.exit_code == 2, result.output
        assert "nothere" in result.output
    assert not list(cache.glob("rules-*.pickle"))


def test_cached_scan_gives_the_same_report(cache: Path, tmp_path: Path, rules_dir: Path) -> None:
    recs = [record("PutWidgetAlpha", i) for i in range(5)] + [record("ListUsers", 9)]
    write(tmp_path / "logs" / "a.json.gz", delivery_bytes(recs))
    reports = []
    for n in range(2):
        out = tmp_path / f"report{n}.json"
        result = CliRunner().invoke(app, ["scan", str(tmp_path / "logs"), "--rules",
                                          str(rules_dir), "-f", "json", "-o", str(out)])
        assert result.exit_code == 1, result.output
        reports.append(json.loads(out.read_text()))
    assert len(list(cache.glob("rules-*.pickle"))) == 1
    ours = [[f for f in r["findings"] if f["rule_id"] == RULE_ID] for r in reports]
    assert ours[0] == ours[1]
    assert ours[0][0]["count"] == 5


# Runs `trailguard scan ARGS...` as the console script does, then says whether pySigma was loaded.
WARM_SCAN = """
import sys
from trailguard.cli import main
sys.argv = ["trailguard", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print("pysigma loaded:", any(m == "sigma" or m.startswith("sigma.") for m in sys.modules))
"""


def test_warm_scan_imports_no_pysigma_and_reports_the_same(cache: Path, tmp_path: Path) -> None:
    """Shipped rules (correlations included) on the sample logs: cold in-process, warm apart."""
    from trailguard.samples.generate import generate

    logs = tmp_path / "logs"
    generate(logs, routine_events=100)
    cold, warm = tmp_path / "cold.json", tmp_path / "warm.json"
    result = CliRunner().invoke(app, ["scan", str(logs), "-f", "json", "-o", str(cold)])
    assert result.exit_code in (1, 2), result.output
    (entry,) = cache.glob("rules-*.pickle")
    written = entry.stat().st_mtime_ns
    proc = subprocess.run(
        [sys.executable, "-c", WARM_SCAN, "scan", str(logs), "-f", "json", "-o", str(warm)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.stdout.strip().splitlines()[-1] == "pysigma loaded: False", proc.stderr
    assert entry.stat().st_mtime_ns == written  # the warm scan read the entry, wrote none
    findings = [json.loads(p.read_text())["findings"] for p in (cold, warm)]
    assert findings[0] == findings[1]
    assert any(f["event_name"] is None for f in findings[1])  # correlation findings included
