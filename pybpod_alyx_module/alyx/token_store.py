"""Alyx tokens saved on disk, so that a password is typed once, not kept.

A token is as good as a password for its server: the file is created readable
and writable by its owner only (``0600``, in a ``0700`` folder), replaced
atomically so that a crash never leaves half a file, and tightened again if
someone loosened its permissions. Passwords are never written here.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

#: True where file modes make a file private (POSIX); Windows relies on the profile's ACLs.
POSIX_MODES = os.name == "posix"


class TokenStore:
    """Tokens keyed by API root and user name, in one JSON file.

    Parameters
    ----------
    path
        The file, e.g. ``~/.pybpod_alyx/tokens.json`` (``~`` is expanded).

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
        """The saved token of ``username`` on ``root``, or ``None``."""
        return self._read().get(root, {}).get(username)

    def save(self, root: str, username: str, token: str) -> None:
        """Save (or replace) the token of ``username`` on ``root``."""
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
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            return {}
        self._make_folder_private()
        if POSIX_MODES and mode & (stat.S_IRWXG | stat.S_IRWXO):
            logger.warning("%s was readable by others; restricting it to its owner", self.path)
            os.chmod(self.path, 0o600)
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except ValueError:
            logger.warning("%s is not valid JSON; ignoring the saved tokens in it", self.path)
            return {}
        except OSError as exc:
            logger.warning("Cannot read saved tokens from %s: %s", self.path, exc)
            return {}
        tokens = {
            root: {user: token for user, token in users.items() if isinstance(token, str)}
            for root, users in (data.items() if isinstance(data, dict) else ())
            if isinstance(users, dict)
        }
        if tokens != data:
            logger.warning("%s holds entries that are not tokens; ignoring them", self.path)
        return tokens

    def _make_folder_private(self) -> None:
        """Bring the token file's folder back to ``0700`` if it is looser (POSIX only).

        Others who may list or write the folder may delete or swap the token file.
        Only a folder of one's own is changed, and never the home folder or a shared
        folder with the sticky bit (``/tmp``): those are reported instead. On Windows,
        a folder in the user's profile is private through its ACL; POSIX modes mean
        nothing there, so nothing is changed.
        """
        if not POSIX_MODES:
            return
        folder = self.path.parent
        info = folder.stat()
        if not info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            return
        shared = info.st_mode & stat.S_ISVTX or folder.resolve() == Path.home().resolve()
        if shared or info.st_uid != os.getuid():
            logger.warning(
                "The token file's folder %s is open to others and is not a private folder "
                "to restrict: set ALYX_PLUGIN_TOKEN_FILE to a file in a folder of its own",
                folder,
            )
            return
        logger.warning("%s was open to others; restricting it to its owner (0700)", folder)
        os.chmod(folder, 0o700)

    def _write(self, tokens: dict[str, dict[str, str]]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._make_folder_private()
        fd, tmp = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)  # created 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(tokens, handle, indent=1, sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            os.unlink(tmp)
            raise
