"""The project folder as the only place a sync writes: every path checked before any change.

A project folder on a shared rig may hold links planted by someone else (or left by a
backup tool): a symbolic link at ``subjects/<name>``, at ``.alyx-removed`` or at a
setup's file would make a save write, move or delete outside the project. The save
resolves each path it will touch and refuses, before its first change, any that is a
link (a symbolic link, or a Windows junction) or leads outside the folder.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import UnsafeProjectPath


def is_link(path: str | os.PathLike) -> bool:
    """True for a symbolic link, and for a Windows junction (a reparse point)."""
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(status.st_mode):
        return True
    reparse = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0)
    return bool(getattr(status, "st_file_attributes", 0) & reparse)


class ProjectFolder:
    """A project's root folder, resolved once; :meth:`inside` checks a path within it.

    Parameters
    ----------
    path
        The project folder as given (``project.path``). It may itself be reached
        through a link (the user chose it); links *inside* it are refused.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.given = Path(os.path.abspath(path))
        self.root = Path(os.path.realpath(path))
        self._checked: set[Path] = {self.root}

    def __truediv__(self, relative: str) -> Path:
        return self.inside(self.root / relative)

    def inside(self, path: str | os.PathLike) -> Path:
        """``path`` on the resolved root, after checking that no part of it is a link.

        Raises
        ------
        UnsafeProjectPath
            A part of ``path`` below the root is a link, or ``path`` is outside the root.
        """
        absolute = Path(os.path.abspath(path))
        for base in (self.root, self.given):
            try:
                relative = absolute.relative_to(base)
                break
            except ValueError:
                continue
        else:
            raise UnsafeProjectPath(
                f"Refusing to write {absolute}: it is outside the project folder {self.root}"
            )
        current = self.root
        for part in relative.parts:
            current = current / part
            if current in self._checked:
                continue
            if is_link(current):
                raise UnsafeProjectPath(
                    f"Refusing to sync: {current} is a link (to {_target(current)}); "
                    "the sync never writes through links. Remove it, then sync again. "
                    "Nothing was changed."
                )
            if current.is_dir():
                self._checked.add(current)
        return current

    def relative(self, path: Path) -> str:
        """``path`` (built on :attr:`root`, checked) relative to it, with ``/``, for the journal."""
        return path.relative_to(self.root).as_posix()


def _target(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "somewhere else"
