"""Every shipped rule fires on its positive examples and stays silent on its negative ones.

The examples run for real: records loaded into DuckDB with the scan schema, rules compiled by
trailguard.sigma's backend, correlations evaluated by its Detector.
"""

from __future__ import annotations

import pytest

from trailguard.detection.catalog import load_rules
from trailguard.detection.examples import ExampleResult, run_examples

_CATALOG = load_rules()


@pytest.fixture(scope="module")
def results() -> dict[str, list[ExampleResult]]:
    by_rule: dict[str, list[ExampleResult]] = {}
    for r in run_examples(_CATALOG):
        by_rule.setdefault(r.rule.id, []).append(r)
    return by_rule


@pytest.mark.parametrize("info", _CATALOG.rules, ids=lambda i: i.name or i.id)
def test_rule_examples_behave_as_declared(info, results) -> None:
    mine = results[info.id]
    assert len(mine) == len(info.examples) >= 2
    wrong = [
        f"{r.example.name!r}: expected {'match' if r.example.match else 'no match'}, "
        f"got {'match' if r.fired else 'no match'}" + (f" ({r.error})" if r.error else "")
        for r in mine
        if not r.ok
    ]
    assert not wrong, "\n".join(wrong)


def test_example_runner_reports_a_wrong_expectation() -> None:
    """The harness can fail: flip one example's expectation and it must be reported."""
    info = next(i for i in _CATALOG.rules if i.name == "tg_cloudtrail_stop_logging")
    flipped = [type(e)(e.name, not e.match, e.events) for e in info.examples]
    original = info.examples
    info.examples = flipped
    try:
        outcome = run_examples(_CATALOG, [info.id])
    finally:
        info.examples = original
    assert outcome and not any(r.ok for r in outcome)


def test_correlation_runner_reports_a_wrong_expectation() -> None:
    info = next(i for i in _CATALOG.rules if i.name == "tg_burst_credential_deletions")
    original = info.examples
    info.examples = [type(e)(e.name, not e.match, e.events) for e in original]
    try:
        outcome = run_examples(_CATALOG, [info.id])
    finally:
        info.examples = original
    assert len(outcome) == len(original)
    assert not any(r.ok for r in outcome)
