"""Recognise what a log file holds and turn it into CloudTrail records (the robust path).

The scanner's fast path hands S3 delivery files (``{"Records": [...]}``) straight to DuckDB.
Everything else comes through here: JSON lines, JSON arrays, EventBridge envelopes (record
under ``detail``), LookupEvents items (record as a JSON string in ``CloudTrailEvent``), a
saved LookupEvents response (``{"Events": [...]}``), single records, and delivery files that
DuckDB refused. The format is detected from the content, never configured.

Problems are reported, not raised past the caller: a whole input that cannot be used raises
:class:`InputError` with a reason a person can act on; single bad records inside a good file
are returned as :class:`RecordProblem` entries and the rest of the file still scans.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import orjson
from isal import igzip, igzip_lib

from trailguard.scan.schema import COLUMNS

GZIP_MAGIC = b"\x1f\x8b"
HEAD_BYTES = 64 * 1024
# Keys that every CloudTrail record has at least one of (all are optional on their own).
CLOUDTRAIL_KEYS = frozenset(
    {"eventVersion", "eventTime", "eventSource", "eventName", "eventID", "userIdentity"}
)
# The fields at least one of which a CloudTrail record has a value for (as loader.FOREIGN_ROW).
IDENTIFYING_KEYS = ("eventTime", "eventSource", "eventName", "eventID", "userIdentity")
DIGEST_KEYS = (b'"digestStartTime"', b'"digestPublicKeyFingerprint"', b'"logFiles"')
RECORDS_CHUNK = 20_000
# What a damaged gzip stream raises, depending on where the damage is and who reads it.
GZIP_ERRORS: tuple[type[BaseException], ...] = (
    EOFError, OSError, zlib.error, igzip_lib.IsalError, ValueError,
)  # records handed on at a time from big JSON-lines files


class InputError(Exception):
    """A whole file or object cannot be scanned; ``str(err)`` is the reason for the user."""


class DigestFile(InputError):
    """The input is a CloudTrail digest file: skipped on purpose, not an error."""


@dataclass
class RecordProblem:
    """One record inside an otherwise readable input that could not be used."""

    index: int  # 0-based position of the line or item (shown to users from 1)
    reason: str


@dataclass
class Decoded:
    """Records from one chunk of an input, plus the records that had to be left out."""

    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[RecordProblem] = field(default_factory=list)


# --------------------------------------------------------------------------- head sniffing


UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def read_head(raw: bytes, limit: int = HEAD_BYTES) -> bytes:
    """Return up to ``limit`` bytes of decompressed content from the first bytes of an input.

    ``raw`` is the start of the stored bytes (gzip or plain). A gzip start that does not
    decompress raises :class:`InputError`.
    """
    if raw[:2] != GZIP_MAGIC:
        return raw[:limit]
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, limit)
    except zlib.error as exc:
        raise InputError(f"corrupt gzip data ({exc})") from None


def is_digest(name: str, head: bytes) -> bool:
    """True for CloudTrail digest files (signatures over log files, not events)."""
    if "CloudTrail-Digest" in name:
        return True
    start = head[:4096]
    return start.lstrip().startswith(b"{") and sum(k in start for k in DIGEST_KEYS) >= 2


def is_delivery_file(head: bytes) -> bool:
    """True when the content looks like CloudTrail's S3 delivery format with CloudTrail records.

    The fast path only takes files that start ``{"Records": [`` and whose first record has a
    CloudTrail key (``eventVersion`` comes first in every delivered record); anything else
    goes through the robust decoder, which can say what is wrong with it.
    """
    text = head.lstrip()
    if not text.startswith(b"{"):
        return False
    body = text[1:].lstrip()
    if not body.startswith(b'"Records"'):
        return False
    body = body[9:].lstrip()
    if not body.startswith(b":"):
        return False
    body = body[1:].lstrip()
    if not body.startswith(b"["):
        return False
    first = body[1:2048]
    if first.lstrip().startswith(b"]"):
        return True  # an empty delivery file is valid: zero events
    return any(b'"' + k.encode() + b'"' in first for k in CLOUDTRAIL_KEYS)


def fast_layout(head: bytes) -> str | None:
    """Which layout DuckDB can read directly: ``records``, ``lines``, ``array`` or None.

    ``records`` is the S3 delivery format; ``lines`` JSON lines whose first line is a bare
    CloudTrail record; ``array`` a JSON array whose start shows bare records. Envelopes
    (EventBridge ``detail``, LookupEvents ``CloudTrailEvent``) and anything doubtful go to
    the robust decoder. The engine also checks what DuckDB loaded, so a guess from the first
    bytes can cost speed but never events.
    """
    if is_delivery_file(head):
        return "records"
    text = head.lstrip()
    start = text[:4096]
    if b'"CloudTrailEvent"' in start or b'"detail-type"' in start:
        return None
    if text[:1] == b"[":
        first = text[1:2048].lstrip()
        if first[:1] == b"{" and any(b'"' + k.encode() + b'"' in first for k in CLOUDTRAIL_KEYS):
            return "array"
        return None
    if text[:1] == b"{":
        newline = text.find(b"\n")
        line = text[:newline] if newline >= 0 else b""
        try:
            item = orjson.loads(line) if line.strip() else None
        except orjson.JSONDecodeError:
            return None
        if isinstance(item, dict) and not CLOUDTRAIL_KEYS.isdisjoint(item):
            return "lines"
    return None


# --------------------------------------------------------------------------- full decoding


def open_content(stream: IO[bytes]) -> io.BufferedReader:
    """Wrap a binary file so it yields decompressed content whether or not it is gzipped.

    The result can ``peek`` up to HEAD_BYTES ahead, which format detection relies on.
    """
    buffered = io.BufferedReader(stream, HEAD_BYTES)  # type: ignore[arg-type]
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        gz = igzip.IGzipFile(fileobj=buffered, mode="rb")
        return io.BufferedReader(gz, HEAD_BYTES)  # type: ignore[arg-type]
    return buffered


def _read_all(stream: IO[bytes]) -> bytes:
    try:
        return stream.read()
    except GZIP_ERRORS as exc:
        raise InputError(f"corrupt or truncated gzip data ({exc or type(exc).__name__})") from None


def decode_stream(name: str, stream: IO[bytes]) -> Iterator[Decoded]:
    """Decode one input into chunks of CloudTrail records, detecting its format.

    Raises :class:`InputError` when nothing in the input can be used (not JSON, truncated,
    corrupt gzip, digest-only, another log source). JSON-lines files are streamed in chunks of
    at most RECORDS_CHUNK records so a huge export never sits in memory at once.
    """
    content = open_content(stream)
    try:
        head = content.peek(HEAD_BYTES)[:HEAD_BYTES]  # type: ignore[attr-defined]
    except GZIP_ERRORS as exc:
        raise InputError(f"corrupt or truncated gzip data ({exc or type(exc).__name__})") from None
    if head[:3] == UTF8_BOM:  # PowerShell and Windows editors write one
        content.read(3)
        head = content.peek(HEAD_BYTES)[:HEAD_BYTES]  # type: ignore[attr-defined]
    elif head[:2] in UTF16_BOMS:  # PowerShell 5 Out-File / redirection: UTF-16
        try:
            data = _read_all(content).decode("utf-16").encode("utf-8")
        except UnicodeError as exc:
            raise InputError(f"not valid UTF-16 text ({exc.reason})") from None
        yield from decode_stream(name, io.BytesIO(data))
        return
    text = head.lstrip()
    if not text:
        raise InputError("empty file")
    if is_digest(name, head):
        raise DigestFile("CloudTrail digest file")
    first = text[:1]
    if first == b"{" and _looks_like_json_lines(text):
        yield from _decode_lines(content)
        return
    if first not in (b"{", b"["):
        raise InputError(_not_json_reason(text))
    data = _read_all(content)
    try:
        docs = [orjson.loads(data)]
    except orjson.JSONDecodeError as exc:
        if first == b"{" and b"\n{" in data and _some_line_is_json(data):
            yield from _decode_lines(io.BytesIO(data))  # JSON lines, first line very long
            return
        found = concatenated_documents(data)
        if found is None:
            raise InputError(f"not valid JSON, truncated or damaged ({exc})") from None
        docs = found
    del data
    out = Decoded()
    items = (item for doc in docs for item in _top_level_items(doc))
    for index, item in enumerate(items):
        _take(item, index, out)
    _check_any_cloudtrail(out)
    yield out


# Where one CloudTrail delivery document ends and the next begins when files are written back
# to back (``zcat *.json.gz``). The sequence cannot occur inside a JSON string (its quotes
# would be escaped), and a wrong cut only makes a part fail to parse.
_DELIVERY_SEAM = b'}{"Records":'


def _some_line_is_json(data: bytes, lines: int = 5) -> bool:
    """True when one of the first ``lines`` lines is a JSON document by itself (JSON lines
    whose first line is very long, or damaged: each bad line is then reported on its own)."""
    start = 0
    for _ in range(lines):
        newline = data.find(b"\n", start)
        try:
            orjson.loads(data[start:newline] if newline >= 0 else data[start:])
        except orjson.JSONDecodeError:
            pass
        else:
            return True
        if newline < 0:
            return False
        start = newline + 1
    return False


def concatenated_documents(data: bytes) -> list[Any] | None:
    """JSON documents written back to back (``zcat *.json.gz | trailguard scan -``), or None.

    CloudTrail delivery files are cut at their seams and parsed with orjson; anything else
    (pretty-printed documents, other shapes) is read document by document with the standard
    library's ``raw_decode``. None unless at least two documents make up the whole input.
    """
    if _DELIVERY_SEAM in data:
        try:
            docs = [orjson.loads(part) for part in _seam_parts(data)]
        except orjson.JSONDecodeError:
            docs = []
        if len(docs) > 1:
            return docs
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    decoder = json.JSONDecoder()
    docs, pos, end = [], 0, len(text)
    try:
        while True:
            while pos < end and text[pos] in " \t\r\n":
                pos += 1
            if pos >= end:
                break
            doc, pos = decoder.raw_decode(text, pos)
            docs.append(doc)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python can parse
        return None
    return docs if len(docs) > 1 else None


def _seam_parts(data: bytes) -> list[bytes]:
    """``data`` cut at every delivery seam, each part a whole document again."""
    pieces = data.split(_DELIVERY_SEAM)
    parts = [pieces[0] + b"}"]
    parts += [b'{"Records":' + piece + b"}" for piece in pieces[1:-1]]
    parts.append(b'{"Records":' + pieces[-1])
    return parts


def decode_bytes(name: str, data: bytes) -> list[Decoded]:
    """Decode an input held in memory (see :func:`decode_stream`)."""
    return list(decode_stream(name, io.BytesIO(data)))


def _looks_like_json_lines(text: bytes) -> bool:
    """True when the first line is a complete JSON object and more content follows it."""
    newline = text.find(b"\n")
    if newline < 0:
        return False
    line = text[:newline].strip()
    rest = text[newline + 1 :].lstrip()
    if not line or not rest:
        return False
    try:
        return isinstance(orjson.loads(line), dict) and rest[:1] == b"{"
    except orjson.JSONDecodeError:
        return False


def _not_json_reason(text: bytes) -> str:
    """Why content is not JSON, without quoting it (a stray file could hold secrets)."""
    first = text.splitlines()[0] if text else b""
    words = first.split()
    if (len(words) >= 8 and words[0].isdigit() and words[1].isdigit()) or (
        b"srcaddr" in words and b"dstaddr" in words
    ):
        return "not JSON: space-separated log lines (VPC flow logs?)"
    if b"\x00" in text[:512]:
        return "not JSON: binary data"
    if first[:1] == b"<":
        return "not JSON: looks like XML or HTML"
    return "not JSON: plain text"


def _decode_lines(content: IO[bytes]) -> Iterator[Decoded]:
    out = Decoded()
    seen_cloudtrail = False
    index = -1
    try:
        for index, line in enumerate(content):
            line = line.strip()
            if not line:
                continue
            try:
                item = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                out.problems.append(RecordProblem(index, f"line {index + 1} is not JSON ({exc})"))
                continue
            for sub in _top_level_items(item):  # a line may hold a whole delivery document
                _take(sub, index, out)
            if len(out.records) >= RECORDS_CHUNK:
                seen_cloudtrail = True
                yield out
                out = Decoded()
    except GZIP_ERRORS as exc:
        out.problems.append(
            RecordProblem(index + 1, f"corrupt or truncated gzip data after line {index + 1} "
                          f"({exc or type(exc).__name__})")
        )
    if not seen_cloudtrail:
        _check_any_cloudtrail(out)
    yield out


def _top_level_items(doc: Any) -> list[Any]:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        records = doc.get("Records")
        if isinstance(records, list):
            return records
        events = doc.get("Events")
        if isinstance(events, list) and (not events or _is_lookup_item(events[0])):
            return events  # a saved LookupEvents response
        return [doc]
    return [doc]


def _is_lookup_item(item: Any) -> bool:
    return isinstance(item, dict) and "CloudTrailEvent" in item


def unwrap(item: Any) -> dict[str, Any] | str:
    """Return the CloudTrail record inside ``item``, or a reason why there is none.

    Accepts a bare record, an EventBridge envelope (``detail``) and a LookupEvents item
    (``CloudTrailEvent``, a JSON string).
    """
    if not isinstance(item, dict):
        return f"not a JSON object ({type(item).__name__})"
    if "CloudTrailEvent" in item:
        inner = item["CloudTrailEvent"]
        if isinstance(inner, str):
            try:
                inner = orjson.loads(inner)
            except orjson.JSONDecodeError as exc:
                return f"CloudTrailEvent is not valid JSON ({exc})"
        item = inner
    elif "detail" in item and "detail-type" in item:
        item = item["detail"]
    if not isinstance(item, dict):
        return f"not a JSON object ({type(item).__name__})"
    if CLOUDTRAIL_KEYS.isdisjoint(item):
        return "no CloudTrail fields (eventName, eventSource, eventTime, userIdentity ...)"
    if all(item.get(k) in (None, "", {}) for k in IDENTIFYING_KEYS):
        # the loader's FOREIGN_ROW test: such a row says nothing about any API call
        return "no CloudTrail field has a value (eventName, eventSource, eventTime ... are null)"
    source = item.get("eventSource")
    if isinstance(source, str) and source.startswith("aws:"):
        return f"not a CloudTrail record (eventSource {source!r}: an S3/SQS event notification)"
    return sanitize(item)


def _take(item: Any, index: int, out: Decoded) -> None:
    rec = unwrap(item)
    if isinstance(rec, str):
        out.problems.append(RecordProblem(index, rec))
    else:
        out.records.append(rec)


def _check_any_cloudtrail(out: Decoded) -> None:
    if not out.records and out.problems:
        first = out.problems[0].reason
        raise InputError(
            f"no CloudTrail records in {len(out.problems)} JSON item(s): {first}"
            " (a log from another source?)"
        )


# --------------------------------------------------------------------------- sanitising

_BOOL_COLUMNS = tuple(k for k, v in COLUMNS.items() if v == "BOOLEAN")
_BOOL_TEXT = {"true": True, "false": False}


def sanitize(rec: dict[str, Any]) -> dict[str, Any]:
    """Make a record loadable with the explicit schema without changing what it says.

    Values of the wrong JSON kind where the schema expects an object or a boolean (which
    DuckDB refuses for the whole batch) are set aside under ``_malformed`` instead of
    failing the load; everything else, including odd-looking values, is kept as it is.
    """
    bad: dict[str, Any] = {}
    ui = rec.get("userIdentity")
    if ui is not None:
        if not isinstance(ui, dict):
            bad["userIdentity"] = rec.pop("userIdentity")
        else:
            sc = ui.get("sessionContext")
            if sc is not None and (
                not isinstance(sc, dict)
                or not isinstance(sc.get("sessionIssuer") or {}, dict)
                or not isinstance(sc.get("attributes") or {}, dict)
            ):
                bad["userIdentity.sessionContext"] = ui.pop("sessionContext")
    for key in _BOOL_COLUMNS:
        value = rec.get(key)
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, str) and value.lower() in _BOOL_TEXT:
            rec[key] = _BOOL_TEXT[value.lower()]
        else:
            bad[key] = rec.pop(key)
    if bad:
        rec["_malformed"] = bad
    return rec
