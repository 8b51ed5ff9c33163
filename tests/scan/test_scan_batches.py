"""The reader thread: batches in order, reused in-memory files, early stop, failures."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from scan_helpers import delivery_bytes, record, write

from trailguard.scan.batches import (
    Batch,
    ListingError,
    MemoryFiles,
    Prepared,
    Reader,
    join_arrays,
    prepare,
)
from trailguard.scan.inputs import LocalInput, expand_local


def _files(root: Path, counts: list[int]) -> list[LocalInput]:
    for n, count in enumerate(counts):
        records = [record("ListUsers", n * 1000 + i) for i in range(count)]
        write(root / f"f{n:03}.json.gz", delivery_bytes(records))
    inputs, problems = expand_local(str(root))
    assert not problems
    return sorted(inputs, key=lambda i: i.name)


def test_reused_files_hold_only_the_new_batch(tmp_path: Path) -> None:
    """A pooled file written by a big batch, then a small one, holds the small one only."""
    big, small = _files(tmp_path, [50, 2])
    pool = MemoryFiles()
    try:
        seen = []
        for inp in (big, small):
            prep = prepare(inp)
            joined = join_arrays([prep], pool)
            with joined.stack:
                [path] = joined.paths
                seen.append((path, len(json.loads(Path(path).read_bytes()))))
            prep.close()
        assert seen[0][0] == seen[1][0]  # the same in-memory file, reused
        assert [n for _, n in seen] == [50, 2]
    finally:
        pool.close()


def test_batches_come_in_order_and_grow(tmp_path: Path) -> None:
    inputs = _files(tmp_path, [20] * 12)
    size = prepare(inputs[0]).size
    reader = Reader(inputs, batch_bytes=4 * size, first_batch_bytes=size, batch_files=100)
    reader.start()
    try:
        batches = []
        for item in reader:
            assert isinstance(item, Batch)
            batches.append([p.inp.name for p in item.group])
            assert item.joined is not None and len(item.joined.kept) == len(item.group)
            item.release()
    finally:
        reader.stop()
    assert [len(b) for b in batches] == [1, 2, 4, 4, 1]  # doubling up to batch_bytes
    assert [n for b in batches for n in b] == [i.name for i in inputs]


def test_stopping_early_releases_everything(tmp_path: Path) -> None:
    """The scanning thread stops after one batch: the reader ends and closes what it opened."""
    inputs = _files(tmp_path, [5] * 40)
    opened: list[Prepared] = []
    real_prepare = prepare

    def tracking(inp: LocalInput) -> Prepared:
        prep = real_prepare(inp)
        opened.append(prep)
        return prep

    import trailguard.scan.batches as batches

    batches.prepare, saved = tracking, batches.prepare
    try:
        reader = Reader(inputs, batch_files=1, prefetch=1, batches_ahead=2, queue_items=2)
        reader.start()
        first = next(iter(reader))
        first.release()  # type: ignore[union-attr]
        reader.stop()
    finally:
        batches.prepare = saved
    assert not reader._thread.is_alive()
    assert opened and all(p.data is not None and p.data.closed for p in opened)
    assert len(opened) < len(inputs)  # it did not read everything ahead


def test_listing_error_is_an_item_and_reading_goes_on(tmp_path: Path) -> None:
    from botocore.exceptions import EndpointConnectionError

    [good] = _files(tmp_path, [3])

    def listing() -> Iterator[LocalInput]:
        yield good
        raise EndpointConnectionError(endpoint_url="https://s3.example")

    reader = Reader(listing(), "s3://bucket/prefix")
    reader.start()
    try:
        items = list(reader)
    finally:
        reader.stop()
    errors = [i for i in items if isinstance(i, ListingError)]
    assert [e.source for e in errors] == ["s3://bucket/prefix"]
    assert "listing failed" in errors[0].reason
    batches = [i for i in items if isinstance(i, Batch)]
    assert [p.inp.name for b in batches for p in b.group] == [good.name]
    for b in batches:
        b.release()


def test_a_failure_on_the_reader_thread_is_raised_in_the_scanning_thread() -> None:
    def broken() -> Iterator[LocalInput]:
        raise RuntimeError("boom in listing")
        yield  # pragma: no cover

    reader = Reader(broken())
    reader.start()
    with pytest.raises(RuntimeError, match="boom in listing"):
        list(reader)
    reader.stop()
    assert not any(t.name == "tg-reader" for t in threading.enumerate())


def test_inputs_are_opened_prefetch_at_a_time(tmp_path: Path) -> None:
    """S3 objects mostly wait for the network: the reader opens ``prefetch`` at once."""
    import time
    from contextlib import contextmanager
    from dataclasses import dataclass

    inputs = _files(tmp_path, [1] * 24)
    lock, state = threading.Lock(), {"now": 0, "most": 0}

    @dataclass(frozen=True)
    class SlowInput:
        inner: LocalInput

        @property
        def name(self) -> str:
            return self.inner.name

        @contextmanager
        def open(self):  # type: ignore[no-untyped-def]
            with lock:
                state["now"] += 1
                state["most"] = max(state["most"], state["now"])
            time.sleep(0.05)  # the GET's round trip
            with lock:
                state["now"] -= 1
            with self.inner.open() as opened:
                yield opened

    reader = Reader([SlowInput(i) for i in inputs], prefetch=8)
    reader.start()
    try:
        items = list(reader)
    finally:
        reader.stop()
    assert sum(len(i.group) for i in items if isinstance(i, Batch)) == 24
    for item in items:
        if isinstance(item, Batch):
            item.release()
    assert state["most"] == 8
