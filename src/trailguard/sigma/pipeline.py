"""The CloudTrail processing pipeline: Sigma field paths -> SQL expressions over ``events``.

A CloudTrail rule names fields as they appear in a record (``eventName``,
``userIdentity.type``, ``requestParameters.userName``). The table layout is defined once in
:mod:`trailguard.scan.schema`; this module turns a path into the SQL that reads it:

* a plain column -> ``"eventName"``
* a path into a STRUCT column -> ``"col"."member"."leaf"`` (the schema has none at present)
* a path into a JSON column -> ``(requestParameters->>'$.userName')`` (text, never ``->``)
* a path into a JSON column of known shape (``schema.SHAPES``: ``userIdentity``) reads the
  same way, ``(userIdentity->>'$.sessionContext.attributes.mfaAuthenticated')``, but is
  checked against the shape; a member that is an object cannot be matched as a value.

Unknown fields are an error at compile time, naming the rule and the field, so a typo in a rule
cannot silently turn it into a rule that never fires.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaConfigurationError
from sigma.processing.conditions import LogsourceCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations.base import FieldMappingTransformationBase
from sigma.rule import SigmaRule

from trailguard.scan.schema import COLUMNS, JSON_COLUMNS, SHAPES, STRUCT_COLUMNS

PRODUCT = "aws"
SERVICE = "cloudtrail"

# JSON columns that hold a list (``resources: [{ARN, accountId, type}, ...]``): a dotted path
# into them would silently never match, so it is an error instead.
LIST_COLUMNS = frozenset({"resources"})

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_JSON_KEY = re.compile(r"^[A-Za-z0-9_]+$")


class UnknownFieldError(SigmaConfigurationError):
    """A rule names a field that the CloudTrail table does not have."""


def _split_struct_fields(body: str) -> list[str]:
    """Split ``a T, b STRUCT(x T, y T)`` on top-level commas."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(body[start:i].strip())
            start = i + 1
    parts.append(body[start:].strip())
    return [p for p in parts if p]


def parse_type(sql_type: str) -> str | dict[str, object]:
    """Parse a DuckDB type string: a STRUCT becomes ``{field: type}``, anything else its name."""
    t = sql_type.strip()
    if t.upper().startswith("STRUCT(") and t.endswith(")"):
        fields: dict[str, object] = {}
        for item in _split_struct_fields(t[len("STRUCT(") : -1]):
            name, _, rest = item.partition(" ")
            fields[name] = parse_type(rest)
        return fields
    return t.upper()


@lru_cache(maxsize=1)
def _schema() -> dict[str, str | dict[str, object]]:
    return {name: parse_type(t) for name, t in COLUMNS.items()}


@lru_cache(maxsize=1)
def _shapes() -> dict[str, dict[str, object]]:
    shapes = {name: parse_type(t) for name, t in SHAPES.items()}
    return {name: shape for name, shape in shapes.items() if isinstance(shape, dict)}


def _shaped_member(head: str, keys: list[str], typ: object) -> tuple[str, str]:
    """SQL and kind of a member of a JSON column of known shape (see module doc)."""
    path = _sql_str(_json_path(keys))
    if isinstance(typ, dict):
        return f"({head}->{path})", "struct"
    if typ == "JSON":
        return f"({head}->{path})", "json"
    return f"({head}->>{path})", "scalar"


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _json_path(keys: list[str]) -> str:
    parts = []
    for key in keys:
        if _JSON_KEY.match(key):
            parts.append("." + key)
        else:
            parts.append('."' + key.replace('"', '\\"') + '"')
    return "$" + "".join(parts)


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


@dataclass(frozen=True)
class FieldSQL:
    """How one Sigma field path reads from the table."""

    path: str
    sql: str
    kind: str  # "scalar" (VARCHAR), "boolean", "json" (whole JSON column), "struct" (whole STRUCT)


@lru_cache(maxsize=4096)
def resolve_field(path: str) -> FieldSQL:
    """Map a Sigma field path to the SQL that reads it; :class:`UnknownFieldError` if none."""
    if not path:
        raise UnknownFieldError("empty field name")
    head, *rest = path.split(".")
    schema = _schema()
    if head not in schema:
        raise UnknownFieldError(
            f"unknown CloudTrail field '{path}' (top-level '{head}' is not a column; "
            f"known: {', '.join(sorted(schema))})"
        )
    typ = schema[head]
    shape = _shapes().get(head)
    if shape is not None:
        typ = shape
    if head in JSON_COLUMNS and shape is None:
        if not rest:
            return FieldSQL(path, head, "json")
        if head in LIST_COLUMNS:
            raise UnknownFieldError(
                f"field '{path}': '{head}' is a list of objects in CloudTrail records, its "
                f"members cannot be addressed one by one; match the whole list instead, e.g. "
                f"'{head}|contains: arn:aws:iam::123456789012:user/alice'"
            )
        if any(k == "" for k in rest):
            raise UnknownFieldError(f"malformed field path '{path}'")
        return FieldSQL(path, f"({head}->>{_sql_str(_json_path(rest))})", "scalar")
    if head in STRUCT_COLUMNS or shape is not None:
        if shape is not None and not rest:
            return FieldSQL(path, head, "struct")
        sql = _quote_ident(head)
        cur: object = typ
        walked = [head]
        for key in rest:
            if not isinstance(cur, dict) or key not in cur:
                known = ", ".join(sorted(cur)) if isinstance(cur, dict) else "none"
                raise UnknownFieldError(
                    f"unknown CloudTrail field '{path}' ('{key}' is not a member of "
                    f"{'.'.join(walked)}; known: {known})"
                )
            cur = cur[key]
            walked.append(key)
            sql += "." + _quote_ident(key)
        if shape is not None:
            sql, kind = _shaped_member(head, rest, cur)
            return FieldSQL(path, sql, kind)
        if isinstance(cur, dict):
            return FieldSQL(path, sql, "struct")
        if cur == "JSON":
            return FieldSQL(path, sql, "json")
        return FieldSQL(path, sql, "boolean" if cur == "BOOLEAN" else "scalar")
    if rest:
        raise UnknownFieldError(
            f"unknown CloudTrail field '{path}' ('{head}' is a plain {typ} column, "
            "it has no members)"
        )
    return FieldSQL(path, _quote_ident(head), "boolean" if typ == "BOOLEAN" else "scalar")


def field_sql(path: str) -> str:
    """SQL expression reading Sigma field ``path`` from the ``events`` table."""
    return resolve_field(path).sql


@lru_cache(maxsize=1)
def _nonscalar_kinds() -> dict[str, str]:
    kinds: dict[str, str] = {}

    def walk(sql: str, typ: object) -> None:
        if isinstance(typ, dict):
            kinds[sql] = "struct"
            for key, sub in typ.items():
                walk(sql + "." + _quote_ident(key), sub)
        elif typ == "JSON":
            kinds[sql] = "json"
        elif typ == "BOOLEAN":
            kinds[sql] = "boolean"

    def walk_shape(head: str, keys: list[str], typ: object) -> None:
        sql, kind = _shaped_member(head, keys, typ)
        if kind != "scalar":
            kinds[sql] = kind
        if isinstance(typ, dict):
            for key, sub in typ.items():
                walk_shape(head, [*keys, key], sub)

    for name, typ in _schema().items():
        if name in _shapes():
            kinds[name] = "struct"
            for key, sub in _shapes()[name].items():
                walk_shape(name, [key], sub)
            continue
        walk(name if name in JSON_COLUMNS else _quote_ident(name), typ)
    return kinds


def kind_of_sql(sql: str) -> str:
    """Kind of an SQL expression produced by :func:`field_sql`: scalar, boolean, json, struct."""
    return _nonscalar_kinds().get(sql, "scalar")


def rule_label(rule: SigmaRule | SigmaCorrelationRule) -> str:
    """Human label of a rule for error messages: title, id and file."""
    parts = [f"'{rule.title}'"]
    if rule.id:
        parts.append(f"id {rule.id}")
    if rule.source is not None and getattr(rule.source, "path", None):
        parts.append(f"in {rule.source.path}")
    return " ".join(parts)


@dataclass
class CloudTrailFieldMapping(FieldMappingTransformationBase):
    """Rewrite every field of a CloudTrail rule into its SQL expression (see module doc)."""

    def apply_field_name(self, field: str | None) -> str | None:
        if field is None:  # keyword detection: the backend rejects it with a clear error
            return None
        return resolve_field(field).sql

    def apply(self, rule: SigmaRule | SigmaCorrelationRule) -> None:
        try:
            super().apply(rule)
        except UnknownFieldError as e:
            raise UnknownFieldError(f"rule {rule_label(rule)}: {e}") from None


def is_cloudtrail_rule(rule: SigmaRule) -> bool:
    """True if the rule's logsource is product aws, service cloudtrail."""
    ls = rule.logsource
    return (ls.product or "").lower() == PRODUCT and (ls.service or "").lower() == SERVICE


def cloudtrail_pipeline() -> ProcessingPipeline:
    """The pySigma processing pipeline for ``logsource: {product: aws, service: cloudtrail}``."""
    return ProcessingPipeline(
        name="trailguard CloudTrail -> DuckDB events table",
        priority=20,
        items=[
            ProcessingItem(
                identifier="trailguard_cloudtrail_fields",
                transformation=CloudTrailFieldMapping(),
                rule_conditions=[LogsourceCondition(product=PRODUCT, service=SERVICE)],
            )
        ],
    )
