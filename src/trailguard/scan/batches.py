"""Turn inputs into what the scanner loads: single inputs, and batches of fast-path files.

A :class:`Reader` runs on its own thread. It lists the inputs, opens and sniffs them ahead of
use on a small pool (:func:`prepare`), groups the files DuckDB can read into batches, and
inflates (isal, which releases the GIL) and joins each batch of S3 delivery files into a few
in-memory JSON arrays (:func:`join_arrays`). The scanning thread takes items in order and
loads them into DuckDB meanwhile, so DuckDB never waits for a batch to be gathered.

Memory stays bounded: at most ``batches_ahead`` joined batches exist at a time (the one being
loaded and the next), and the queue between the threads holds at most ``queue_items`` items.
Batches start small and double up to ``batch_bytes``, so the first load starts early.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from typing import IO

from botocore.exceptions import BotoCoreError, ClientError
from isal import igzip

from trailguard.scan.decode import (
    GZIP_ERRORS,
    GZIP_MAGIC,
    InputError,
    fast_layout,
    is_digest,
    read_head,
)
from trailguard.scan.inputs import LocalInput, S3Input, StdinInput
from trailguard.scan.memfile import memory_file

HAVE_MEMFD = hasattr(os, "memfd_create")
SNIFF_BYTES = 16 * 1024  # first bytes looked at to recognise a file (many files are small)
ARRAYS_PER_BATCH = 4  # in-memory arrays a batch of delivery files is joined into
MAX_GZIP_RATIO = 100
BATCH_FILES = 256  # files in a batch at most
BATCH_BYTES = 128 * 1024 * 1024  # decompressed bytes in a batch at most (about 120k events)
FIRST_BATCH_BYTES = 16 * 1024 * 1024  # the first batch's limit; each next one doubles
Input = LocalInput | S3Input | StdinInput


@dataclass
class Prepared:
    """An input opened and sniffed (possibly in a worker thread), ready for a batch."""

    inp: Input
    kind: str  # "fast" (DuckDB reads it) | "python" | "digest" | "error"
    stack: ExitStack
    reason: str = ""
    layout: str = ""  # for "fast": "records" | "lines" | "array"
    duck_path: str | None = None
    gzipped: bool = False
    size: int = 0  # decompressed bytes (delivery)
    data: IO[bytes] | None = None  # readable content for the Python path

    def close(self) -> None:
        self.stack.close()


def prepare(inp: Input) -> Prepared:
    """Open an input, look at its first bytes and get it ready for the right path."""
    stack = ExitStack()
    try:
        path, fh = stack.enter_context(inp.open())
    except (OSError, ClientError, BotoCoreError) as exc:
        stack.close()
        return Prepared(inp, "error", ExitStack(), reason=describe_error(exc))
    try:
        raw = fh.read(SNIFF_BYTES)
        head = read_head(raw, SNIFF_BYTES)
        gz = raw[:2] == GZIP_MAGIC
        size = content_size(fh, gz)
        fh.seek(0)
    except InputError as exc:
        stack.close()
        return Prepared(inp, "error", ExitStack(), reason=str(exc))
    except OSError as exc:
        stack.close()
        return Prepared(inp, "error", ExitStack(), reason=describe_error(exc))
    if is_digest(inp.name, head):
        stack.close()
        return Prepared(inp, "digest", ExitStack())
    layout = fast_layout(head) if path is not None else None
    if layout is None:
        return Prepared(inp, "python", stack, data=fh)
    return Prepared(
        inp, "fast", stack, layout=layout, duck_path=path, gzipped=gz, size=size, data=fh
    )


@dataclass
class Joined:
    """A batch of delivery files joined into in-memory arrays, and the files left out."""

    stack: ExitStack  # owns the in-memory arrays
    paths: list[str]
    kept: list[Prepared]  # files whose records are in the arrays
    skipped: list[tuple[Prepared, str]]  # files that do not inflate, with the reason
    python: list[Prepared]  # files not shaped {"Records": [...]}: for the Python decoder


class MemoryFiles:
    """In-memory files (see :func:`~trailguard.scan.loader.memory_file`) reused batch after batch.

    Writing into pages a file already has costs about half of writing into a new file, whose
    pages the kernel must allocate and zero, and later free (measured: 14 ms against 39 ms for
    64 MB): the files of a finished batch go back to the pool for the next one.
    Thread-safe: the reader thread takes files, the scanning thread gives them back.
    """

    def __init__(self) -> None:
        """An empty pool; files are created when none is free."""
        self._free: list[tuple[str, IO[bytes]]] = []
        self._lock = threading.Lock()
        self._stack = ExitStack()

    def take(self) -> tuple[str, IO[bytes]]:
        """A ``(path, file)`` positioned at its start (its old content is overwritten)."""
        with self._lock:
            if self._free:
                path, fh = self._free.pop()
            else:
                path, fh = self._stack.enter_context(memory_file("trailguard-batch"))
        fh.seek(0)
        return path, fh

    def give(self, path: str, fh: IO[bytes]) -> None:
        """Return a file taken with :meth:`take`."""
        with self._lock:
            self._free.append((path, fh))

    def close(self) -> None:
        """Close every file of the pool (files still taken must not be used afterwards)."""
        with self._lock:
            self._free.clear()
            self._stack.close()


def _take(stack: ExitStack, pool: MemoryFiles | None) -> tuple[str, IO[bytes]]:
    if pool is None:
        return stack.enter_context(memory_file("trailguard-batch"))
    path, fh = pool.take()
    stack.callback(pool.give, path, fh)
    return path, fh


def join_arrays(group: list[Prepared], pool: MemoryFiles | None = None) -> Joined:
    """Join the ``Records`` arrays of delivery files into a few in-memory JSON arrays.

    DuckDB reads a few large top-level arrays element by element at about 20% less CPU
    than many ``{"Records": [...]}`` objects it must parse whole and unnest (measured),
    and isal inflates gzip about three times faster than DuckDB. Files that do not
    inflate are listed with the reason; files not shaped exactly ``{"Records": [...]}`` are
    listed for the Python decoder. Touches no scanner state, so it runs on a worker thread.
    The arrays are files of ``pool`` when given (returned when the result's stack closes).
    """
    stack = ExitStack()
    count = max(1, min(ARRAYS_PER_BATCH, len(group)))
    try:
        outs = [_take(stack, pool) for _ in range(count)]
        sizes = [0] * count
        used = [False] * count
        joined = Joined(stack, [], [], [], [])
        for prep in group:
            stream = prep.data
            if stream is None:
                continue
            try:
                stream.seek(0)
                data = stream.read()
                if prep.gzipped:
                    data = igzip.decompress(data)
            except GZIP_ERRORS as exc:
                reason = f"corrupt or truncated gzip data ({exc or type(exc).__name__})"
                joined.skipped.append((prep, reason))
                continue
            span = records_span(data)
            if span is None:
                joined.python.append(prep)
                continue
            joined.kept.append(prep)
            start, end = span
            body = memoryview(data)[start + 1 : end - 1]
            if len(body) < 64 and not bytes(body).strip():
                continue  # an empty delivery file: zero events
            slot = sizes.index(min(sizes))
            fh = outs[slot][1]
            fh.write(b"," if used[slot] else b"[")
            fh.write(body)
            used[slot] = True
            sizes[slot] += len(body)
        for (path, fh), was_used in zip(outs, used, strict=True):
            fh.write(b"]" if was_used else b"[]")
            fh.truncate()  # a reused file may be longer from an earlier batch
            fh.flush()
            joined.paths.append(path)
    except BaseException:
        stack.close()
        raise
    return joined


def close_all(group: list[Prepared]) -> None:
    for prep in group:
        prep.close()


def content_size(fh: IO[bytes], gz: bool) -> int:
    """Decompressed size: gzip's ISIZE trailer (size mod 4 GiB), else the file size."""
    end = fh.seek(0, os.SEEK_END)
    if not gz or end < 18:
        return end
    fh.seek(end - 4)
    size = int.from_bytes(fh.read(4), "little")
    # A truncated file ends in arbitrary bytes: never trust a ratio JSON does not reach.
    return size if size <= end * MAX_GZIP_RATIO else end * 10



def records_span(data: bytes) -> tuple[int, int] | None:
    """Byte range of the array in ``{"Records": [...]}`` (brackets included), else None."""
    start = data.find(b"[")
    end = len(data)
    while end and data[end - 1] in b" \t\r\n":
        end -= 1
    if start < 0 or not end or data[end - 1] != ord("}"):
        return None
    end -= 1
    while end and data[end - 1] in b" \t\r\n":
        end -= 1
    if end <= start or data[end - 1] != ord("]"):
        return None
    if data[:start].replace(b" ", b"").replace(b"\n", b"") not in (b'{"Records":',):
        return None
    return start, end


def describe_error(exc: BaseException) -> str:
    """A one-line reason for an AWS or I/O error (error code and message, no traceback)."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return f"{err.get('Code', 'error')}: {err.get('Message', '')}".strip(": ")
    if isinstance(exc, BotoCoreError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot read: {exc.strerror}"
    return f"cannot read: {exc}"




@dataclass
class ListingError:
    """Listing the inputs of ``source`` failed part-way (the inputs listed before are read)."""

    source: str
    reason: str


@dataclass
class Batch:
    """Fast-path files of one layout, loaded together; ``joined`` when already joined."""

    group: list[Prepared]
    joined: Joined | None = None
    slot: threading.Semaphore | None = None

    def release(self) -> None:
        """Close the files and the joined arrays, and free the batch's place (idempotent)."""
        close_all(self.group)
        if self.joined is not None:
            self.joined.stack.close()
        if self.slot is not None:
            self.slot.release()
            self.slot = None


Item = Prepared | Batch | ListingError


@dataclass
class _Failure:
    error: BaseException


_END = object()
_POLL = 0.1  # seconds between checks of the stop flag while blocked


def _release(item: object) -> None:
    if isinstance(item, Batch):
        item.release()
    elif isinstance(item, Prepared):
        item.close()


class Reader:
    """Reads ``inputs`` on a thread into :class:`Prepared` inputs and :class:`Batch` es."""

    def __init__(
        self,
        inputs: Iterable[Input],
        source: str = "",
        *,
        batch_files: int = BATCH_FILES,
        batch_bytes: int = BATCH_BYTES,
        first_batch_bytes: int = FIRST_BATCH_BYTES,
        prefetch: int = 4,
        batches_ahead: int = 2,
        queue_items: int = 64,
    ) -> None:
        """Set up (nothing runs before :meth:`start`); ``source`` names listing errors."""
        self.inputs = inputs
        self.source = source
        self.batch_files = max(1, batch_files)
        self.batch_bytes = batch_bytes
        self.first_batch_bytes = max(1, min(first_batch_bytes, batch_bytes))
        self.prefetch = max(1, prefetch)
        self._slots = threading.Semaphore(max(1, batches_ahead))
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, queue_items))
        self._stop = threading.Event()
        self._files = MemoryFiles()
        self._thread = threading.Thread(target=self._run, name="tg-reader", daemon=True)

    def start(self) -> None:
        """Start reading on the reader thread (once; later calls do nothing)."""
        if self._thread.ident is None:
            self._thread.start()

    def __iter__(self) -> Iterator[Item]:
        """The items in input order (batches when complete); re-raises a reader failure."""
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]

    def stop(self) -> None:
        """Stop the thread and release everything it produced that was not taken."""
        self._stop.set()
        while self._thread.is_alive():
            try:
                _release(self._queue.get(timeout=_POLL))
            except queue.Empty:
                continue
        self._thread.join()
        while True:
            try:
                _release(self._queue.get_nowait())
            except queue.Empty:
                break
        self._files.close()

    # -- reader thread ------------------------------------------------------------------

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        _release(item)
        return False

    def _run(self) -> None:
        pending: list[Prepared] = []
        try:
            size, limit = 0, self.first_batch_bytes
            for item in self._prepared():
                if not isinstance(item, Prepared) or item.kind != "fast":
                    if not self._put(item):
                        return
                    continue
                if pending and (pending[0].gzipped, pending[0].layout) != (
                    item.gzipped, item.layout
                ):
                    batch, pending, size = pending, [], 0
                    if not self._emit(batch):
                        return
                pending.append(item)
                size += item.size
                if len(pending) >= self.batch_files or size >= limit:
                    batch, pending, size = pending, [], 0
                    limit = min(self.batch_bytes, limit * 2)
                    if not self._emit(batch):
                        return
            if pending:
                batch, pending = pending, []
                self._emit(batch)
        except BaseException as exc:  # noqa: BLE001 - handed to the scanning thread
            self._put(_Failure(exc))
        finally:
            close_all(pending)
            self._put(_END)

    def _emit(self, group: list[Prepared]) -> bool:
        """Queue a batch, joined here first when it is delivery files; False once stopped."""
        if group[0].layout != "records" or not HAVE_MEMFD:
            return self._put(Batch(group))
        while not self._slots.acquire(timeout=_POLL):
            if self._stop.is_set():
                close_all(group)
                return False
        try:
            joined = join_arrays(group, self._files)
        except BaseException:
            self._slots.release()
            close_all(group)
            raise
        return self._put(Batch(group, joined, self._slots))

    def _prepared(self) -> Iterator[Prepared | ListingError]:
        """Open inputs ahead of use on worker threads (bounded window), in order."""
        window: list[Future[Prepared]] = []
        with ThreadPoolExecutor(max_workers=self.prefetch, thread_name_prefix="tg-open") as pool:
            try:
                try:
                    for inp in self.inputs:
                        window.append(pool.submit(prepare, inp))
                        if len(window) > self.prefetch * 8:
                            yield window.pop(0).result()
                except (ClientError, BotoCoreError) as exc:
                    yield ListingError(
                        self.source or "input", f"listing failed: {describe_error(exc)}"
                    )
                while window:
                    yield window.pop(0).result()
            finally:  # stopped early: close what was opened ahead
                for future in window:
                    if not future.cancel():
                        with suppress(Exception):  # only releasing
                            future.result().close()
