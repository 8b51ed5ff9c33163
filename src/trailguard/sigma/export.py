"""Export rules to a SIEM query language with an installed pySigma backend (plugin discovery)."""

from __future__ import annotations

import copy
from typing import Any

from sigma.collection import SigmaCollection
from sigma.exceptions import SigmaError
from sigma.plugins import InstalledSigmaPlugins

# Common target names -> pip package providing the pySigma backend.
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


def installed_targets() -> dict[str, Any]:
    """Backends found by pySigma's plugin discovery: target name -> backend class."""
    plugins = InstalledSigmaPlugins.autodiscover(include_pipelines=False, include_validators=False)
    return dict(plugins.backends)


def export_rules(collection: SigmaCollection, target: str) -> str:
    """Convert a rule collection with the installed pySigma backend named ``target``.

    Returns the queries, one per line (or the backend's own rendering if it is not a list).
    Raises :class:`ExportError` listing the installed targets and the pip package to install.
    """
    backends = installed_targets()
    key = target.lower()
    if key == "elasticsearch" and "lucene" in backends:
        key = "lucene"
    if key not in backends:
        installed = ", ".join(sorted(backends)) or "none"
        hint = PACKAGE_HINTS.get(key, f"pysigma-backend-{key}")
        raise ExportError(
            f"unknown export target '{target}'. Installed targets: {installed}. "
            f"To add it: pip install {hint}"
        )
    backend = backends[key]()
    try:
        result = backend.convert(copy.deepcopy(collection))
    except SigmaError as e:
        raise ExportError(f"export to '{target}' failed: {e}") from None
    if isinstance(result, list):
        return "\n".join(str(q) for q in result)
    return str(result)
