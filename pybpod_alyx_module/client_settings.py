"""The one door from settings to an Alyx client, for the GUI and the command line alike.

The GUI reads the ``ALYX_PLUGIN_*`` settings through confapp (``conf``), the command
line from ``user_settings.py`` (:mod:`pybpod_alyx_module.cli.defaults`); both pass what
they read to :func:`read_settings`, and build their client with
:func:`client_from_settings`. The defaults live once, in :mod:`pybpod_alyx_module.settings`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from pybpod_alyx_module import settings as plugin_settings

logger = logging.getLogger(__name__)

_warned_lock = threading.Lock()
_warned = False


@dataclass(frozen=True)
class ClientSettings:
    """The settings an Alyx client is built from (the password never appears in a ``repr``)."""

    address: str
    username: str
    password: str = field(repr=False)
    connect_timeout: float
    read_timeout: float
    retries: int
    token_file: str


def setting(source: Any, name: str) -> Any:
    """``source``'s value of ``name`` (confapp's ``conf``, a module, ``None``), else the default."""
    default = getattr(plugin_settings, name)
    if source is None:
        return default
    try:
        return getattr(source, name, default)
    except Exception:  # confapp raises its own errors for names no module defines
        return default


def read_settings(source: Any) -> ClientSettings:
    """The client settings from ``source``, falling back to the plugin's defaults.

    A clear-text ``ALYX_PLUGIN_PASSWORD`` is deprecated: reading one logs a warning,
    once per process (see :func:`warn_clear_text_password`).
    """
    password = setting(source, "ALYX_PLUGIN_PASSWORD") or ""
    if password:
        warn_clear_text_password()
    return ClientSettings(
        address=setting(source, "ALYX_PLUGIN_ADDRESS") or "",
        username=setting(source, "ALYX_PLUGIN_USERNAME") or "",
        password=password,
        connect_timeout=float(setting(source, "ALYX_PLUGIN_CONNECT_TIMEOUT")),
        read_timeout=float(setting(source, "ALYX_PLUGIN_READ_TIMEOUT")),
        retries=int(setting(source, "ALYX_PLUGIN_RETRIES")),
        token_file=setting(source, "ALYX_PLUGIN_TOKEN_FILE"),
    )


def warn_clear_text_password() -> None:
    """Warn that ``ALYX_PLUGIN_PASSWORD`` holds a clear-text password; only the first call logs."""
    global _warned
    with _warned_lock:
        if _warned:
            return
        _warned = True
    logger.warning(
        "ALYX_PLUGIN_PASSWORD in user_settings.py holds a clear-text password: this is "
        "deprecated. Connect once (a token is saved) or use the system keyring, then remove it."
    )


def client_from_settings(
    settings: ClientSettings,
    address: str | None = None,
    username: str | None = None,
    password: str | None = None,
    password_provider: Callable[[], str | None] | None = None,
) -> Any:
    """An ``AlyxClient`` built from ``settings``; ``address`` and ``username`` override theirs.

    ``password`` is the one to log in with now (the GUI's field), ``password_provider``
    a way to find one only when needed (the command line).
    """
    from pybpod_alyx_module.alyx import AlyxClient, TokenStore

    return AlyxClient(
        address if address is not None else settings.address,
        username=username if username is not None else settings.username,
        password=password or None,
        timeout=(settings.connect_timeout, settings.read_timeout),
        retries=settings.retries,
        token_store=TokenStore(settings.token_file),
        password_provider=password_provider,
    )
