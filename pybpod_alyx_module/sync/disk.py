"""Can the project folder take a sync's files? Asked before the download, not after.

A read-only folder or a full disk used to show up as a traceback once everything was
downloaded. :func:`check_writable` writes (and flushes) a small probe file in the
project folder, then deletes it: the command line calls it before downloading, so
that such a folder is a clear error at once.
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path

from .durable import flush_files
from .errors import ProjectNotWritable
from .journal import TEMPORARY_SUFFIX

#: The probe's size: a few subject files' worth.
PROBE_BYTES = 64 * 1024

_CAUSES = {
    getattr(errno, "EDQUOT", errno.ENOSPC): "the disk quota is used up",  # no EDQUOT on Windows
    errno.ENOSPC: "the disk is full",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def check_writable(path: str | os.PathLike) -> None:
    """Raise :class:`ProjectNotWritable` if a sync could not write in the folder ``path``."""
    folder = Path(path)
    probe = folder / f".alyx-probe.{secrets.token_hex(4)}{TEMPORARY_SUFFIX}"
    try:
        try:
            with open(probe, "xb") as handle:
                handle.write(b"\0" * PROBE_BYTES)
            flush_files([probe])
        finally:
            if os.path.lexists(probe):
                probe.unlink()
    except OSError as exc:
        cause = _CAUSES.get(exc.errno, exc.strerror or str(exc))
        raise ProjectNotWritable(
            f"Cannot write in the project folder {folder}: {cause}. Nothing was downloaded "
            "and the project was not changed."
        ) from None
