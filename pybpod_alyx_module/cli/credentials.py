"""Where the command line finds a password — never on its own command line.

In order: a saved token (then no password is needed at all), the system
keyring, the ``ALYX_PASSWORD`` environment variable, the deprecated
``ALYX_PLUGIN_PASSWORD`` setting, and last a prompt that does not echo (only
when a person is at the terminal).
"""

from __future__ import annotations

import getpass
import logging
import os
import sys

logger = logging.getLogger(__name__)

#: The keyring service under which passwords are looked up: ``pybpod-alyx:<address>``.
KEYRING_SERVICE = "pybpod-alyx:{address}"
PASSWORD_VARIABLE = "ALYX_PASSWORD"


class NoPassword(Exception):
    """No password could be found, and nobody is at the terminal to type one."""


def keyring_password(address: str, username: str) -> str | None:
    """The password saved in the system keyring, if keyring is installed and has one."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE.format(address=address), username)
    except (KeyringError, RuntimeError) as exc:
        logger.debug("No usable keyring: %s", exc)
        return None


def find_password(address: str, username: str, settings_password: str = "") -> str:
    """The password of ``username`` on ``address`` from the first source that has one."""
    password = keyring_password(address, username) or os.environ.get(PASSWORD_VARIABLE)
    if password:
        return password
    if settings_password:
        logger.warning(
            "Using ALYX_PLUGIN_PASSWORD from user_settings.py: a clear-text password is "
            "deprecated; run 'pybpod-alyx login' once and remove it"
        )
        return settings_password
    if not sys.stdin.isatty():
        raise NoPassword(
            f"No password for {username} on {address}: run 'pybpod-alyx login' at a terminal "
            f"once, store it in the system keyring, or set {PASSWORD_VARIABLE}"
        )
    return getpass.getpass(f"Alyx password for {username} at {address}: ")
