"""Which Alyx server and user a command talks to, and the client that does.

The server and the user come from ``--address`` and ``--username``, else from
``ALYX_PLUGIN_ADDRESS`` and ``ALYX_PLUGIN_USERNAME`` in the ``user_settings.py`` of the
folder the command runs in (:mod:`.defaults`). They are not required when the command line
is parsed: ``outbox`` (listing a local file) and ``register --dry-run`` need no server.
A command that does need one and has none is refused here, saying both ways to give it,
and whether a ``user_settings.py`` was found at all (run elsewhere than PyBpod's folder,
none is).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.client_settings import client_from_settings
from pybpod_alyx_module.errors import PluginError

from .credentials import find_password
from .defaults import Defaults


class MissingConnection(PluginError):
    """A command that talks to Alyx was given no server or no user name (a usage error)."""


def always(args: argparse.Namespace) -> bool:
    """The commands' default ``needs_server``: every command talks to Alyx unless it says not."""
    return True


def server_and_user(args: argparse.Namespace, defaults: Defaults) -> tuple[str, str]:
    """``(address, username)`` of the command: the options', else the settings'.

    Raises
    ------
    MissingConnection
        Either is missing; the message says where each can come from.
    """
    address, username = args.address or "", args.username or ""
    if address and username:
        return address, username
    what = {"server": not address, "user name": not username}
    missing = " and ".join(name for name, gone in what.items() if gone)
    options = [option for option, gone in (("--address URL", not address),
                                           ("--username NAME", not username)) if gone]  # fmt: skip
    names = [name for name, gone in (("ALYX_PLUGIN_ADDRESS", not address),
                                     ("ALYX_PLUGIN_USERNAME", not username)) if gone]  # fmt: skip
    if defaults.source is None:
        where = (
            f"in the user_settings.py of the folder you run pybpod-alyx in (PyBpod's folder; "
            f"there is no user_settings.py in {Path.cwd()})"
        )
    else:
        where = f"in {defaults.source}"
    raise MissingConnection(
        f"no Alyx {missing} given: pass {' and '.join(options)}, or set "
        f"{' and '.join(names)} {where}"
    )


def connect(args: argparse.Namespace, defaults: Defaults, use_token: bool = True) -> AlyxClient:
    """A client that uses a saved token, else finds a password only when it needs one.

    ``use_token=False`` (``login``): a password is needed whatever token is saved.

    Raises
    ------
    MissingConnection
        No server or no user name was given (:func:`server_and_user`).
    """
    address, username = server_and_user(args, defaults)
    token_file = defaults.token_file if use_token else None
    return client_from_settings(
        defaults,
        address=address,
        username=username,
        password_provider=lambda: find_password(
            address, username, defaults.password, token_file=token_file
        ),
    )
