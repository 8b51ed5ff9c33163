"""A pySigma backend that turns CloudTrail Sigma rules into DuckDB SQL predicates.

Sigma semantics, as the specification defines them:

* plain string values match case-insensitively (``lower(x) = 'value'``); ``*`` and ``?`` are
  wildcards (``lower(x) LIKE '...' ESCAPE '\\'`` with literal ``%``, ``_`` and ``\\`` escaped);
  ``|cased`` makes the match case-sensitive;
* ``|re`` is case-sensitive unless the ``i`` flag is given; flags become inline ``(?ims)``;
* a missing field never matches a value, and ``not`` of something about a missing field is
  true: every negation is written ``NOT coalesce(x, false)`` so SQL's NULL logic cannot
  swallow it.

The SQL is kept to standard constructs (``lower``, ``LIKE ... ESCAPE``, ``coalesce``,
``CAST``, ``position``) where possible; DuckDB-specific pieces are ``->>`` (in the pipeline),
``TRY_CAST``, ``regexp_matches`` and ``date_part``.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import duckdb
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionItem,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.conversion.base import TextQueryBackend
from sigma.conversion.state import ConversionState
from sigma.exceptions import SigmaError, SigmaFeatureNotSupportedByBackendError
from sigma.processing.pipeline import ProcessingPipeline
from sigma.rule import SigmaRule
from sigma.types import (
    CompareOperators,
    SigmaBool,
    SigmaCasedString,
    SigmaCompareExpression,
    SigmaFieldReference,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
    SigmaTimestampPart,
    TimestampPart,
)

from trailguard.sigma.pipeline import (
    cloudtrail_pipeline,
    is_cloudtrail_rule,
    kind_of_sql,
    rule_label,
)


class RuleCompileError(SigmaError):
    """A rule cannot be compiled to SQL; the message names the rule and the reason."""


def sql_string(s: str) -> str:
    """A standard SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


_RE2_CHECK: duckdb.DuckDBPyConnection | None = None


def _check_re2(regex: str) -> None:
    """Reject at compile time what DuckDB's RE2 cannot run (lookaround, backreferences...).

    pySigma validates regexes with Python's ``re``; a rule that passes there but fails in RE2
    would otherwise abort a whole scan batch at query time.
    """
    global _RE2_CHECK
    if _RE2_CHECK is None:
        _RE2_CHECK = duckdb.connect()
    try:
        _RE2_CHECK.execute("SELECT regexp_matches('', ?)", [regex]).fetchall()
    except duckdb.Error as e:
        reason = str(e).splitlines()[0]
        raise SigmaFeatureNotSupportedByBackendError(
            f"regular expression '{regex}' is not supported by RE2 "
            f"(no lookaround or backreferences): {reason}"
        ) from None


class CloudTrailDuckDBBackend(TextQueryBackend):
    """Sigma -> DuckDB SQL boolean predicate over the CloudTrail ``events`` table."""

    name: ClassVar[str] = "trailguard CloudTrail DuckDB"
    identifier: ClassVar[str] = "trailguard_duckdb"
    formats: ClassVar[dict[str, str]] = {"default": "SQL boolean predicate over the events table"}
    requires_pipeline: ClassVar[bool] = False
    backend_processing_pipeline: ClassVar[ProcessingPipeline] = cloudtrail_pipeline()

    precedence: ClassVar[tuple[type[ConditionItem], type[ConditionItem], type[ConditionItem]]] = (
        ConditionNOT,
        ConditionAND,
        ConditionOR,
    )
    group_expression: ClassVar[str] = "({expr})"
    token_separator: str = " "
    or_token: ClassVar[str] = "OR"
    and_token: ClassVar[str] = "AND"
    not_token: ClassVar[str] = "NOT"
    eq_token: ClassVar[str] = " = "

    # Fields arrive from the pipeline as finished SQL expressions: no further quoting.
    field_quote: ClassVar[str | None] = None

    re_escape: ClassVar[list[str]] = []
    re_escape_escape_char: bool = False  # DuckDB string literals do not interpret backslashes
    re_flag_prefix: bool = True

    field_null_expression: ClassVar[str] = "{field} IS NULL"
    field_exists_expression: ClassVar[str] = "{field} IS NOT NULL"
    field_not_exists_expression: ClassVar[str] = "{field} IS NULL"

    # |minute |hour |day |week |month |year on ISO text such as eventTime (UTC in CloudTrail)
    field_timestamp_part_expression: ClassVar[str] = (
        "date_part('{timestamp_part}', TRY_CAST({field} AS TIMESTAMP))"
    )
    timestamp_part_mapping: ClassVar[dict[TimestampPart, str]] = {
        TimestampPart.MINUTE: "minute",
        TimestampPart.HOUR: "hour",
        TimestampPart.DAY: "day",
        TimestampPart.WEEK: "week",
        TimestampPart.MONTH: "month",
        TimestampPart.YEAR: "year",
    }

    compare_operators: ClassVar[dict[CompareOperators, str]] = {
        CompareOperators.LT: "<",
        CompareOperators.LTE: "<=",
        CompareOperators.GT: ">",
        CompareOperators.GTE: ">=",
        CompareOperators.NEQ: "<>",
    }

    def __init__(
        self,
        processing_pipeline: ProcessingPipeline | None = None,
        collect_errors: bool = False,
        lowered: dict[str, str] | None = None,
        **backend_options: Any,
    ) -> None:
        super().__init__(processing_pipeline, collect_errors, **backend_options)
        # Optional: SQL text of a field -> name of a column that already holds lower(field).
        # The Detector uses it to lower a field once per row for all rules instead of per rule.
        self.lowered: dict[str, str] = dict(lowered or {})
        self.lowered_used: dict[str, int] = {}

    # ---- helpers -------------------------------------------------------------------------
    def _lower(self, text: str) -> str:
        """``lower(text)``, or the precomputed column holding it."""
        self.lowered_used[text] = self.lowered_used.get(text, 0) + 1
        return self.lowered.get(text) or f"lower({text})"

    @staticmethod
    def _text(field: str) -> str:
        """The field as text (booleans and whole JSON values are cast to VARCHAR)."""
        kind = kind_of_sql(field)
        if kind in ("boolean", "json"):
            return f"CAST({field} AS VARCHAR)"
        if kind == "struct":
            raise SigmaFeatureNotSupportedByBackendError(
                f"field {field} is a nested record, not a value: name one of its members"
            )
        return field

    @staticmethod
    def _like_pattern(value: SigmaString) -> str:
        """SigmaString -> LIKE pattern with %, _ and \\ escaped by a backslash."""
        return value.convert(
            escape_char="\\", wildcard_multi="%", wildcard_single="_", add_escaped="\\"
        )

    def _string_match(self, field: str, value: SigmaString, cased: bool) -> str:
        text = self._text(field)
        if value.contains_placeholder():
            raise SigmaFeatureNotSupportedByBackendError(
                f"unresolved placeholder in value '{value}'"
            )
        if value.contains_special():
            pattern = self._like_pattern(value)
            if pattern == "%":  # '*' alone: any value at all
                return f"{text} IS NOT NULL"
            # ESCAPE only when needed: without it DuckDB runs '%x%' as a fast substring search,
            # and a pattern without backslashes means the same in every SQL dialect.
            escape = " ESCAPE '\\'" if "\\" in pattern else ""
            if cased:
                return f"{text} LIKE {sql_string(pattern)}{escape}"
            return f"{self._lower(text)} LIKE {sql_string(pattern.lower())}{escape}"
        plain = value.convert(escape_char=None, wildcard_multi=None, wildcard_single=None)
        if cased:
            return f"{text} = {sql_string(plain)}"
        return f"{self._lower(text)} = {sql_string(plain.lower())}"

    def _timestamp_part(self, field: str, value: SigmaTimestampPart) -> str:
        return self.field_timestamp_part_expression.format(
            field=self._text(field),
            timestamp_part=self.timestamp_part_mapping[value.timestamp_part],
        )

    def convert_condition_field_eq_val_timestamp_part(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        """``eventTime|hour: 3``: a part of a timestamp; text that is no timestamp never matches."""
        assert isinstance(cond.value, SigmaTimestampPart)
        return f"{self._timestamp_part(cond.field, cond.value)} = {cond.value}"

    # ---- conditions ------------------------------------------------------------------------
    def convert_condition_not(self, cond: ConditionNOT, state: ConversionState) -> str | None:
        """NOT that treats a missing field as non-matching (Sigma) instead of NULL (SQL)."""
        arg = cond.args[0]
        if arg is None:
            return None
        inner = self.convert_condition(arg, state)
        if not isinstance(inner, str):
            raise SigmaFeatureNotSupportedByBackendError("deferred expressions are not supported")
        return f"NOT coalesce({inner}, false)"

    def convert_condition_field_eq_val_str(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        """Case-insensitive string / wildcard match."""
        assert isinstance(cond.value, SigmaString)
        return self._string_match(cond.field, cond.value, cased=False)

    def convert_condition_field_eq_val_str_case_sensitive(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        """``|cased``: case-sensitive string / wildcard match."""
        assert isinstance(cond.value, SigmaCasedString)
        return self._string_match(cond.field, cond.value, cased=True)

    def convert_condition_field_eq_val_num(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        """Numbers compare as text: record values are text, and a number never errors."""
        assert isinstance(cond.value, SigmaNumber)
        return f"{self._text(cond.field)} = {sql_string(str(cond.value))}"

    def convert_condition_field_eq_val_bool(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        """``true``/``false``: a real boolean column compares as boolean, text as 'true'/'false'."""
        assert isinstance(cond.value, SigmaBool)
        b = cond.value.boolean
        if kind_of_sql(cond.field) == "boolean":
            return f"{cond.field} = {'true' if b else 'false'}"
        return f"{self._lower(self._text(cond.field))} = {sql_string('true' if b else 'false')}"

    def convert_condition_field_eq_val_re(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        """``|re``: RE2 search (unanchored), flags i/m/s as an inline group."""
        assert isinstance(cond.value, SigmaRegularExpression)
        regex = str(self.convert_value_re(cond.value, state))
        _check_re2(regex)
        return f"regexp_matches({self._text(cond.field)}, {sql_string(regex)})"

    def convert_condition_field_compare_op_val(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        """``|gt`` etc.: numeric comparison; non-numeric text never matches (no error)."""
        value = cond.value
        assert isinstance(value, SigmaCompareExpression)
        op = self.compare_operators[value.op]
        if isinstance(value.number, SigmaTimestampPart):
            part = self._timestamp_part(cond.field, value.number)
            return f"{part} {op} {value.number}"
        return f"TRY_CAST({self._text(cond.field)} AS DOUBLE) {op} {value.number}"

    def convert_condition_field_eq_field(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        """``|fieldref``: case-insensitive comparison of two fields of the same record."""
        ref = cond.value
        assert isinstance(ref, SigmaFieldReference)
        left = self._lower(self._text(cond.field))
        right = self._lower(self._text(ref.field))
        if ref.starts_with and ref.ends_with:
            return f"position({right} IN {left}) > 0"
        if ref.starts_with:  # value of field 1 starts with the value of field 2
            return f"position({right} IN {left}) = 1"
        if ref.ends_with:  # value of field 1 ends with the value of field 2
            return f"right({left}, length({right})) = {right}"
        return f"{left} = {right}"

    def _keyword_error(
        self, cond: ConditionValueExpression
    ) -> SigmaFeatureNotSupportedByBackendError:
        return SigmaFeatureNotSupportedByBackendError(
            f"keyword (field-less) detection '{cond.value}' is not supported for CloudTrail: "
            "name the field to match, e.g. 'eventName: ...' or 'userAgent|contains: ...'",
            source=cond.source,
        )

    def convert_condition_val_str(self, cond: ConditionValueExpression, state: ConversionState):
        raise self._keyword_error(cond)

    def convert_condition_val_num(self, cond: ConditionValueExpression, state: ConversionState):
        raise self._keyword_error(cond)

    def convert_condition_val_re(self, cond: ConditionValueExpression, state: ConversionState):
        raise self._keyword_error(cond)

    def convert_condition_query_expr(self, cond: ConditionValueExpression, state: ConversionState):
        raise self._keyword_error(cond)


_BACKEND: CloudTrailDuckDBBackend | None = None


def _backend() -> CloudTrailDuckDBBackend:
    global _BACKEND
    if _BACKEND is None:
        _BACKEND = CloudTrailDuckDBBackend()
    return _BACKEND


def compile_rule(rule: SigmaRule, backend: CloudTrailDuckDBBackend | None = None) -> str:
    """SQL boolean predicate over the ``events`` table for one CloudTrail Sigma rule.

    The rule object is not modified. Raises :class:`RuleCompileError` naming the rule when its
    logsource is not aws/cloudtrail, a field is unknown, or a construct is unsupported.
    ``backend`` is for the Detector (precomputed lower-case columns); leave it out otherwise.
    """
    return convert_rule(rule, backend)[0]


def convert_rule(
    rule: SigmaRule, backend: CloudTrailDuckDBBackend | None = None
) -> tuple[str, SigmaRule]:
    """Like :func:`compile_rule`, also returning the converted copy of the rule (its fields
    mapped to SQL), whose parsed condition the Detector inspects."""
    if not isinstance(rule, SigmaRule):
        raise RuleCompileError(f"not a detection rule: {type(rule).__name__}")
    if not is_cloudtrail_rule(rule):
        ls = rule.logsource
        raise RuleCompileError(
            f"rule {rule_label(rule)}: logsource must be product 'aws', service 'cloudtrail' "
            f"(got product={ls.product!r}, service={ls.service!r})"
        )
    work = copy.deepcopy(rule)
    work._output = True
    work._backreferences = []
    try:
        queries: list[Any] = (backend or _backend()).convert_rule(work)
    except RuleCompileError:
        raise
    except SigmaError as e:
        msg = str(e)
        if "rule '" in msg and str(rule.title) in msg:
            raise RuleCompileError(msg) from None
        raise RuleCompileError(f"rule {rule_label(rule)}: {msg}") from None
    if not queries:
        raise RuleCompileError(f"rule {rule_label(rule)}: produced no query")
    if len(queries) == 1:
        return str(queries[0]), work
    return " OR ".join(f"({q})" for q in queries), work


def predicate_of_converted(work: SigmaRule, backend: CloudTrailDuckDBBackend) -> str:
    """The predicate of a rule copy :func:`convert_rule` already ran the pipeline on.

    Lets the Detector render a rule a second time (with shared lower-case columns) without
    copying and processing the rule again.
    """
    queries = [
        backend.convert_condition(cond.parsed, ConversionState())
        for cond in work.detection.parsed_condition
    ]
    if len(queries) == 1:
        return str(queries[0])
    return " OR ".join(f"({q})" for q in queries)
