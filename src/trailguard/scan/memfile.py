"""Files in RAM that DuckDB can open by path (S3 objects, joined batches, decoded records)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO


@contextmanager
def memory_file(name: str = "trailguard") -> Iterator[tuple[str, IO[bytes]]]:
    """Yield ``(path, file)``: a file in RAM (Linux memfd) that DuckDB can open by path.

    Elsewhere it falls back to a named temporary file, removed on exit.
    """
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create(name, os.MFD_CLOEXEC)
        fh = os.fdopen(fd, "w+b")
        try:
            yield f"/proc/self/fd/{fd}", fh
        finally:
            fh.close()
        return
    tmp = tempfile.NamedTemporaryFile(prefix=name, delete=False)  # noqa: SIM115
    try:
        yield tmp.name, tmp
    finally:
        tmp.close()
        os.unlink(tmp.name)
