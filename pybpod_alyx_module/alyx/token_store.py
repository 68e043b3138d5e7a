"""Alyx tokens saved on disk, so that a password is typed once, not kept.

A token is as good as a password for its server, so the file is treated the way OpenSSH
treats a private key. It is created readable and writable by its owner only (``0600``, in
a ``0700`` folder) and replaced atomically, so that a crash never leaves half a file.
Before a token is read, the file is checked with ``lstat`` (and again, once open, with
``fstat``): a file that is a link, is not a plain file, belongs to another user, or that
others may read or write is refused with the reason and the fix (:class:`TokenFileError`),
never used and never changed: a token others could write may be planted, one they could
read may be known. The mode of a link's target is never changed. Passwords are never
written here.

On Windows, POSIX owners and modes mean nothing (the profile's ACLs keep the file
private), so only links and junctions are refused there.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
import tempfile
from pathlib import Path

from .errors import AlyxError

logger = logging.getLogger(__name__)

#: True where file modes make a file private (POSIX); Windows relies on the profile's ACLs.
POSIX_MODES = os.name == "posix"
#: A token file is a few hundred bytes a server; one larger than this is not one.
MAX_FILE_BYTES = 1 << 20
#: Others' permission bits: any of them makes a token file untrusted.
_OPEN_TO_OTHERS = stat.S_IRWXG | stat.S_IRWXO
#: Windows marks symbolic links and junctions alike as reparse points.
_REPARSE_POINT = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0x400)
_READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)  # POSIX: a link swapped in after the check is not followed
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in does not hang the read
    | getattr(os, "O_BINARY", 0)
)


class TokenFileError(AlyxError):
    """The token file cannot be trusted or written; the message says why and what to do."""


class TokenStore:
    """Tokens keyed by API root and user name, in one JSON file.

    Parameters
    ----------
    path
        The file, e.g. ``~/.pybpod_alyx/tokens.json`` (``~`` is expanded). The settings
        door refuses an empty or relative one, so nothing lands in the current folder.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     store = TokenStore(Path(folder) / "tokens.json")
    ...     store.save("https://alyx.example.org", "alice", "0123abcd")
    ...     print(store.get("https://alyx.example.org", "alice"))
    0123abcd
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(os.path.expanduser(str(path)))

    def get(self, root: str, username: str) -> str | None:
        """The saved token of ``username`` on ``root``, or ``None``.

        Raises
        ------
        TokenFileError
            The file is a link, not a plain file, not the user's own, or open to others.
        """
        return self._read().get(root, {}).get(username)

    def save(self, root: str, username: str, token: str) -> None:
        """Save (or replace) the token of ``username`` on ``root``.

        Raises
        ------
        TokenFileError
            The file is refused (as for :meth:`get`), or could not be written.
        """
        tokens = self._read()
        tokens.setdefault(root, {})[username] = token
        self._write(tokens)

    def forget(self, root: str, username: str) -> bool:
        """Remove a saved token; True if there was one."""
        tokens = self._read()
        if tokens.get(root, {}).pop(username, None) is None:
            return False
        if not tokens[root]:
            del tokens[root]
        self._write(tokens)
        return True

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            status = os.lstat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            return {}
        self._refuse_untrusted(status)
        self._make_folder_private()
        try:
            raw = self._read_checked()
        except OSError as exc:
            logger.warning("Cannot read saved tokens from %s: %s", self.path, exc)
            return {}
        if len(raw) > MAX_FILE_BYTES:
            logger.warning("%s is over %d bytes: not a token file; ignoring it (it is "
                           "replaced at the next login)", self.path, MAX_FILE_BYTES)  # fmt: skip
            return {}
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError:
            logger.warning("%s is not valid JSON; ignoring the saved tokens in it", self.path)
            return {}
        tokens = {
            root: {user: token for user, token in users.items() if isinstance(token, str)}
            for root, users in (data.items() if isinstance(data, dict) else ())
            if isinstance(users, dict)
        }
        if tokens != data:
            logger.warning("%s holds entries that are not tokens; ignoring them", self.path)
        return tokens

    def _read_checked(self) -> bytes:
        """The file's bytes (at most one more than the cap), checked again once it is open."""
        try:
            fd = os.open(self.path, _READ_FLAGS)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # it became a link since the lstat
                raise self._refusal("it is a link", "remove the link") from None
            raise
        with os.fdopen(fd, "rb") as handle:
            self._refuse_untrusted(os.fstat(fd))
            return handle.read(MAX_FILE_BYTES + 1)

    def _refuse_untrusted(self, status: os.stat_result) -> None:
        """Raise :class:`TokenFileError` unless ``status`` is of a private plain file of ours."""
        if (
            stat.S_ISLNK(status.st_mode)
            or getattr(status, "st_file_attributes", 0) & _REPARSE_POINT
        ):
            raise self._refusal(f"it is a link (to {_target(self.path)})", "remove the link")
        if not stat.S_ISREG(status.st_mode):
            raise self._refusal("it is not a plain file", "remove it")
        if not POSIX_MODES:
            return
        if status.st_uid != os.getuid():
            raise self._refusal(
                f"it belongs to another user (uid {status.st_uid}; you are uid {os.getuid()}), "
                "so a token in it is not yours to use",
                "set ALYX_PLUGIN_TOKEN_FILE to a file of your own, e.g. ~/.pybpod_alyx/tokens.json",
            )
        if status.st_mode & _OPEN_TO_OTHERS:
            raise self._refusal(
                f"other users may read or write it (mode {stat.S_IMODE(status.st_mode):04o}), "
                "so a token in it may be known or planted",
                f"delete it and log in again; or, if you trust what it holds: chmod 600 {self.path}",
            )

    def _refusal(self, reason: str, fix: str) -> TokenFileError:
        return TokenFileError(
            f"Refusing the saved-token file {self.path}: {reason}. To fix: {fix} "
            "(a token file must be a plain file of your own that only you can read)."
        )

    def _make_folder_private(self) -> None:
        """Bring the token file's folder back to ``0700`` if it is looser (POSIX only).

        Others who may list or write the folder may delete or swap the token file.
        Only a folder of one's own is changed, and never the home folder, a shared
        folder with the sticky bit (``/tmp``) or a folder reached through a link (its
        target is not ours to change): those are reported instead. The folder is opened
        without following a link and changed through that handle, so a link swapped in
        meanwhile is never followed. On Windows, a folder in the user's profile is
        private through its ACL; POSIX modes mean nothing there, so nothing is changed.
        """
        if not POSIX_MODES:
            return
        folder = self.path.parent
        flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(folder, flags)
        except OSError:  # a link (ELOOP), or not ours to open: reported if it is open to others
            try:
                if os.stat(folder).st_mode & _OPEN_TO_OTHERS:
                    self._warn_shared_folder(folder)
            except OSError:
                pass
            return
        try:
            info = os.fstat(fd)
            if not info.st_mode & _OPEN_TO_OTHERS:
                return
            shared = info.st_mode & stat.S_ISVTX or folder.resolve() == Path.home().resolve()
            if shared or info.st_uid != os.getuid():
                self._warn_shared_folder(folder)
                return
            logger.warning("%s was open to others; restricting it to its owner (0700)", folder)
            os.fchmod(fd, 0o700)
        finally:
            os.close(fd)

    @staticmethod
    def _warn_shared_folder(folder: Path) -> None:
        logger.warning(
            "The token file's folder %s is open to others and is not a private folder "
            "to restrict: set ALYX_PLUGIN_TOKEN_FILE to a file in a folder of its own",
            folder,
        )

    def _write(self, tokens: dict[str, dict[str, str]]) -> None:
        """Replace the file atomically by a new one, created ``0600`` (``mkstemp``)."""
        tmp = None
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._make_folder_private()
            fd, tmp = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(tokens, handle, indent=1, sort_keys=True)
            os.replace(tmp, self.path)  # replaces a link itself, never its target
        except BaseException as exc:
            if tmp is not None and os.path.lexists(tmp):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise TokenFileError(
                    f"Could not save the token in {self.path}: {exc.strerror or exc}. To fix: "
                    "free some space or make the folder writable by you, or set "
                    "ALYX_PLUGIN_TOKEN_FILE to a file in a folder of your own."
                ) from None
            raise


def _target(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "somewhere else"
