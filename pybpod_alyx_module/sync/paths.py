"""The project folder as the only place a sync writes: every path checked before any change.

A project folder on a shared rig may hold links planted by someone else (or left by a
backup tool): a symbolic link at ``subjects/<name>``, at ``.alyx-removed`` or at a
setup's file would make a save write, move or delete outside the project. The save
checks each path it will touch and refuses, before its first change, any that is a
link (a symbolic link, or a Windows junction) or leads outside the folder.

The checks are ``lstat`` calls on plain strings, each folder checked once: a save of
10,000 subjects checks ~20,000 paths, and resolving each with :mod:`pathlib` cost seconds.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import UnsafeProjectPath

_REPARSE_POINT = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0)


def is_link(path: str | os.PathLike) -> bool:
    """True for a symbolic link, and for a Windows junction (a reparse point)."""
    return _is_link(_lstat(path))


def _lstat(path: str | os.PathLike) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _is_link(status: os.stat_result | None) -> bool:
    if status is None:
        return False
    return stat.S_ISLNK(status.st_mode) or bool(
        getattr(status, "st_file_attributes", 0) & _REPARSE_POINT
    )


class ProjectFolder:
    """A project's root folder, resolved once; :meth:`check` checks a path within it.

    Parameters
    ----------
    path
        The project folder as given (``project.path``). It may itself be reached
        through a link (the user chose it); links *inside* it are refused.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.given = Path(os.path.abspath(path))
        self.root = Path(os.path.realpath(path))
        self._root = str(self.root)
        #: (the root or the given folder, normalised for comparing, ending with a separator).
        self._prefixes = [_prefix(str(folder)) for folder in (self.root, self.given)]
        #: Folders below the root found real (not links), as strings: each is checked once.
        self._folders: set[str] = {self._root}

    def __truediv__(self, relative: str) -> Path:
        return self.inside(os.path.join(self.root, relative))

    def inside(self, path: str | os.PathLike) -> Path:
        """``path`` on the resolved root, after checking that no part of it is a link.

        Raises
        ------
        UnsafeProjectPath
            A part of ``path`` below the root is a link, or ``path`` is outside the root.
        """
        return Path(self.check(path)[0])

    def check(self, path: str | os.PathLike) -> tuple[str, os.stat_result | None]:
        """``path`` (absolute, or relative to the root) on the root, and its ``lstat``.

        The status is ``None`` when nothing is there. Every folder from the root down to
        ``path`` must be a real folder (or absent), and ``path`` itself not a link.

        Raises
        ------
        UnsafeProjectPath
            A part of ``path`` below the root is a link, or ``path`` is outside the root.
        """
        absolute = self._on_root(os.path.normpath(os.path.join(self._root, path)))
        if absolute == self._root:
            return absolute, _lstat(absolute)
        parent = os.path.dirname(absolute)
        if parent not in self._folders:
            self._check_folder(parent)
        status = _lstat(absolute)
        if _is_link(status):
            _refuse_link(absolute)
        if status is not None and stat.S_ISDIR(status.st_mode):
            self._folders.add(absolute)
        return absolute, status

    def relative(self, path: str | os.PathLike) -> str:
        """``path`` (on :attr:`root`, checked) relative to it, with ``/``, for the journal."""
        path, prefix = os.fspath(path), self._prefixes[0]
        if not os.path.normcase(path).startswith(prefix):
            raise ValueError(f"{path} is not inside {self.root}")
        return path[len(prefix) :].replace(os.sep, "/")

    def _on_root(self, absolute: str) -> str:
        """``absolute`` (normalised) moved from the given folder onto the resolved root."""
        folded = os.path.normcase(absolute) + os.sep
        if folded.startswith(self._prefixes[0]):  # on the root already (a save's every path)
            return self._root + absolute[len(self._root) :]
        for prefix in self._prefixes[1:]:
            if folded.startswith(prefix):
                rest = absolute[len(prefix) :]
                return os.path.join(self._root, rest) if rest else self._root
        raise UnsafeProjectPath(
            f"Refusing to write {absolute}: it is outside the project folder {self.root}"
        )

    def _check_folder(self, folder: str) -> None:
        """Check ``folder`` and its parents up to the root (a missing one is not a link)."""
        parent = os.path.dirname(folder)
        if parent not in self._folders:
            self._check_folder(parent)
        status = _lstat(folder)
        if _is_link(status):
            _refuse_link(folder)
        if status is not None and stat.S_ISDIR(status.st_mode):
            self._folders.add(folder)


def _prefix(folder: str) -> str:
    return os.path.normcase(folder).rstrip(os.sep) + os.sep


def _refuse_link(path: str) -> None:
    raise UnsafeProjectPath(
        f"Refusing to sync: {path} is a link (to {_target(path)}); "
        "the sync never writes through links. Remove it, then sync again. "
        "Nothing was changed."
    )


def _target(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "somewhere else"
