"""From the checked settings to an Alyx client, for the GUI and the command line alike.

The settings themselves are read and checked at one door,
:func:`pybpod_alyx_module.plugin_settings.read_settings`; both the GUI and the command line
build their client from what it returns with :func:`client_from_settings`.
"""

from __future__ import annotations

from typing import Any, Callable

from pybpod_alyx_module.plugin_settings import PluginSettings


def client_from_settings(
    settings: PluginSettings,
    address: str | None = None,
    username: str | None = None,
    password: str | None = None,
    password_provider: Callable[[], str | None] | None = None,
) -> Any:
    """An ``AlyxClient`` built from ``settings``; ``address`` and ``username`` override theirs.

    ``password`` is the one to log in with now (the GUI's field), ``password_provider``
    a way to find one only when needed (the command line). The client gets the settings'
    timeouts, retries, token file and request rate (``max_requests_per_minute``).
    """
    from pybpod_alyx_module.alyx import AlyxClient, TokenStore

    return AlyxClient(
        address if address is not None else settings.address,
        username=username if username is not None else settings.username,
        password=password or None,
        timeout=settings.timeout,
        retries=settings.retries,
        token_store=TokenStore(settings.token_file),
        password_provider=password_provider,
        max_requests_per_minute=settings.max_requests_per_minute,
    )
