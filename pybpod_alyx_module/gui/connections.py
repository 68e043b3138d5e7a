"""Which Alyx client each open project is connected with (one per project, in memory only).

The connection window sets it on a successful Connect and drops it as soon as
the address or the user changes (1.x bug 3: the first connection was cached
forever); the subject details window reads it for Refresh. Nothing here is
ever written to disk: the password lives only inside the client.
"""

from __future__ import annotations

import weakref
from typing import Any

from pybpod_alyx_module.alyx import AlyxClient

_clients: weakref.WeakKeyDictionary[Any, AlyxClient] = weakref.WeakKeyDictionary()


def client_for(project: Any) -> AlyxClient | None:
    """The project's connected client, or ``None``."""
    return _clients.get(project)


def connect(project: Any, client: AlyxClient) -> None:
    """Make ``client`` the project's connection (closing any previous one)."""
    disconnect(project)
    _clients[project] = client


def disconnect(project: Any) -> None:
    """Forget the project's connection, if any."""
    client = _clients.pop(project, None)
    if client is not None:
        client.close()
