"""Where the command line finds a password — never on its own command line.

In order: a saved token (then no password is needed at all), the system
keyring, the ``ALYX_PASSWORD`` environment variable, the deprecated
``ALYX_PLUGIN_PASSWORD`` setting, and last a prompt that does not echo (only
when a person is at the terminal). When none has one, the error lists what was
tried and why each gave nothing, so that a nightly job's log says what to fix.
"""

from __future__ import annotations

import getpass
import logging
import os
import sys
from pathlib import Path

from pybpod_alyx_module.errors import PluginError
from pybpod_alyx_module.plugin_settings import warn_clear_text_password

logger = logging.getLogger(__name__)

#: The keyring service under which passwords are looked up: ``pybpod-alyx:<address>``.
KEYRING_SERVICE = "pybpod-alyx:{address}"
PASSWORD_VARIABLE = "ALYX_PASSWORD"
NOTHING_SAVED = "nothing saved there"


class NoPassword(PluginError):
    """No password could be found, and nobody is at the terminal to type one."""


def keyring_password(address: str, username: str) -> tuple[str | None, str]:
    """The password saved in the system keyring, or ``None`` and why there is none."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None, "the keyring package is not installed"
    try:
        password = keyring.get_password(KEYRING_SERVICE.format(address=address), username)
    except (KeyringError, RuntimeError) as exc:
        logger.debug("No usable keyring: %s", exc)
        return None, f"no usable keyring ({exc})"
    return password, "" if password else NOTHING_SAVED


def find_password(
    address: str, username: str, settings_password: str = "", token_file: str | Path | None = None
) -> str:
    """The password of ``username`` on ``address`` from the first source that has one.

    ``token_file`` is the token store the client looked in before asking for a
    password (``None`` when no token was looked for, as in ``login``).

    Raises
    ------
    NoPassword
        No source has a password and nobody is at the terminal; the message lists the
        sources tried.
    """
    password, keyring_gap = keyring_password(address, username)
    password = password or os.environ.get(PASSWORD_VARIABLE)
    if password:
        return password
    if settings_password:
        warn_clear_text_password()  # once per process: reading the settings warned already
        return settings_password
    if sys.stdin.isatty():
        return getpass.getpass(f"Alyx password for {username} at {address}: ")
    service = KEYRING_SERVICE.format(address=address)
    tried = [f"the system keyring (service '{service}', user '{username}'): {keyring_gap}"]
    tried.append(f"${PASSWORD_VARIABLE}: not set")
    todo = f"set {PASSWORD_VARIABLE}"
    if keyring_gap == NOTHING_SAVED:
        todo += f", or save the password with: keyring set '{service}' {username}"
    if token_file is not None:
        tried.insert(
            0, f"a saved token: none usable for {username} in {Path(token_file).expanduser()}"
        )
        todo += "; or run 'pybpod-alyx login' once where you can type it"
    lines = "\n".join(f"  - {source}" for source in tried)
    raise NoPassword(
        f"No password for {username} at {address}, and no terminal to type one at.\n"
        f"Tried:\n{lines}\nTo fix: {todo}."
    )
