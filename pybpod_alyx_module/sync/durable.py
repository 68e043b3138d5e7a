"""Making written files durable: flush exactly what a save wrote, nothing else.

A rename is atomic, but after a power cut a renamed file may come back empty unless
its data reached the disk first, and a rename may be forgotten unless its folder was
flushed. Only the files the save wrote and the folders it changed are flushed — never
the whole system (``os.sync()`` would also flush a rig's acquisition streams).

``fsync`` waits on the disk, not the CPU: several at once let the file system commit them
together. The work is shared among a few threads, each taking its share of the paths
(one task per path cost more in the pool than the ``fsync`` itself).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")

#: Threads sharing the file work (measured on ext4 over a virtual disk, 10,000 files each
#: created, written, flushed and renamed: 4.0 s in one thread, 1.8 s with 8, 1.6 s with 16).
WORKERS = 16


def in_threads(work: Callable[[Item], None], items: Sequence[Item]) -> None:
    """Call ``work`` on every item, in up to :data:`WORKERS` threads; the first error is raised.

    After an error, the other threads stop at their next item (a full disk is not
    written to 10,000 more times).
    """
    workers = min(WORKERS, len(items))
    if workers < 2:
        for item in items:
            work(item)
        return
    failed = threading.Event()

    def share(first: int) -> None:
        try:
            for item in items[first::workers]:
                if failed.is_set():
                    return
                work(item)
        except BaseException:
            failed.set()
            raise

    with ThreadPoolExecutor(workers) as pool:
        for done in [pool.submit(share, first) for first in range(workers)]:
            done.result()


def flush_files(paths: Iterable[str | os.PathLike]) -> None:
    """``fsync`` each file (its data and size) to the disk."""
    # Windows' FlushFileBuffers needs a handle that may write.
    flags = os.O_RDWR if os.name == "nt" else os.O_RDONLY
    in_threads(lambda path: _flush(path, flags), list(paths))


def flush_folders(paths: Iterable[str | os.PathLike]) -> None:
    """``fsync`` each folder, so that the names created or renamed in it are durable.

    POSIX only: Windows cannot open a folder for flushing, and NTFS journals its
    metadata itself.
    """
    if os.name == "posix":
        in_threads(lambda path: _flush(path, os.O_RDONLY), list(dict.fromkeys(paths)))


def _flush(path: str | os.PathLike, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
