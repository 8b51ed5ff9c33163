"""Export rules to a SIEM query language with an installed pySigma backend (plugin discovery)."""

from __future__ import annotations

import copy
from typing import Any

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.filters import SigmaFilter

# Common target names -> pip package providing the pySigma backend. Only these exact names get
# an install hint: a package name built from whatever the user typed would invite typosquats.
PACKAGE_HINTS: dict[str, str] = {
    "splunk": "pysigma-backend-splunk",
    "lucene": "pysigma-backend-elasticsearch",
    "elasticsearch": "pysigma-backend-elasticsearch",
    "eql": "pysigma-backend-elasticsearch",
    "esql": "pysigma-backend-elasticsearch",
    "opensearch": "pysigma-backend-opensearch",
    "qradar": "pysigma-backend-qradar-aql",
    "sentinel": "pysigma-backend-kusto",
    "kusto": "pysigma-backend-kusto",
    "insightidr": "pysigma-backend-insightidr",
    "sumologic": "pysigma-backend-sumologic",
    "loki": "pysigma-backend-loki",
}


class ExportError(ValueError):
    """The export target is unknown or the conversion failed; the message says what to do."""


# Our own backend is always available as a target: the SQL trailguard itself runs.
DUCKDB_TARGET = "duckdb"


def known_packages() -> str:
    """The known backend packages with the target names they provide, for messages."""
    by_package: dict[str, list[str]] = {}
    for name, package in PACKAGE_HINTS.items():
        by_package.setdefault(package, []).append(name)
    return ", ".join(f"{'/'.join(names)} ({pkg})" for pkg, names in by_package.items())


def installed_backend_modules() -> list[str]:
    """Backend packages installed under ``sigma.backends`` (module names; none imported).

    Cheap enough for help texts; the target names they provide come from installed_targets().
    """
    import pkgutil

    import sigma.backends

    return sorted(m.name for m in pkgutil.iter_modules(sigma.backends.__path__)
                  if m.name != "test")  # pySigma's own test backend ships with pySigma


def installed_targets() -> dict[str, Any]:
    """Backends found by pySigma's plugin discovery: target name -> backend class."""
    from sigma.plugins import InstalledSigmaPlugins  # imports requests: only when exporting

    plugins = InstalledSigmaPlugins.autodiscover(include_pipelines=False, include_validators=False)
    return dict(plugins.backends)


def _rule_name(rule: Any) -> str:
    return f"'{rule.title}' ({rule.id or rule.name})"


def _export_duckdb(collection: SigmaCollection, skipped: list[str] | None) -> str:
    from trailguard.sigma.backend import RuleCompileError, compile_rule

    lines: list[str] = []
    for rule in collection.rules:
        if isinstance(rule, SigmaCorrelationRule):
            lines.append(f"-- {_rule_name(rule)}: correlation, evaluated by trailguard's Detector")
            continue
        try:
            pred = compile_rule(rule)
        except RuleCompileError as e:
            if skipped is None:
                raise ExportError(f"export to 'duckdb' failed: {e}") from None
            skipped.append(str(e))
            continue
        lines.append(f"-- {_rule_name(rule)}\nSELECT * FROM events WHERE {pred};")
    return "\n".join(lines)


def export_rules(
    collection: SigmaCollection,
    target: str,
    skipped: list[str] | None = None,
    filters: list[SigmaFilter] | None = None,
) -> str:
    """Convert a rule collection with the installed pySigma backend named ``target``.

    ``filters`` (Sigma filters) are applied to a copy of the rules first, as pySigma does
    for filters loaded with rules, so the exported queries leave out the same events.

    Returns the backend's queries, one per line. ``duckdb`` is always available (trailguard's
    own SQL). Unknown target: :class:`ExportError` listing the installed targets and, only for
    a name in PACKAGE_HINTS, the pip package that provides it (never a name built from input).
    A rule the backend cannot convert raises :class:`ExportError` naming it, unless a
    ``skipped`` list is given: the reason is then appended to it and the other rules are
    still exported.
    """
    key = target.lower()
    collection = copy.deepcopy(collection)
    if filters:
        collection.apply_filters(copy.deepcopy(filters))
    if key == DUCKDB_TARGET:
        return _export_duckdb(collection, skipped)
    backends = installed_targets()
    if key == "elasticsearch" and "lucene" in backends:
        key = "lucene"
    if key not in backends:
        installed = ", ".join(sorted([*backends, DUCKDB_TARGET]))
        message = f"unknown export target '{target}'"
        if key in PACKAGE_HINTS:
            message += " (its pySigma backend is not installed)"
        message += f". Installed targets: {installed}."
        if key in PACKAGE_HINTS:
            message += (f" To add it: pip install {PACKAGE_HINTS[key]} (a version compatible "
                        "with the installed pySigma)")
        else:
            message += (f" Known backend packages: {known_packages()}. For others see "
                        "'Related Projects' in https://github.com/SigmaHQ/pySigma, and check a "
                        "package's name and publisher before installing it")
        raise ExportError(message)
    backend = backends[key](collect_errors=True)
    try:
        result = backend.convert(collection)
    except SigmaError as e:
        raise ExportError(f"export to '{target}' failed: {e}") from None
    errors = [f"{_rule_name(rule)}: {err}" for rule, err in backend.errors]
    if errors:
        if skipped is None:
            raise ExportError(f"export to '{target}' failed for " + "; ".join(errors))
        skipped.extend(errors)
    if isinstance(result, list):
        return "\n".join(str(q) for q in result)
    return str(result)
