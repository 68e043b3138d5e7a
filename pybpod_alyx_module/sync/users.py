"""The PyBpod users of an Alyx sync: the connected Alyx user, and optionally its colleagues.

PyBpod records who ran a session (``CREATOR-NAME``: name, uuid4, connection),
and refuses to run a setup without a logged-in user. After a sync, the Alyx user
is that logged-in user, with connection ``ALYX`` so that the project node reads
``project (alice@ALYX)``. PyBpod does not save a user's connection; the plugin
keeps it in the user's JSON document (``connection``) so it survives a reload.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pybpod_alyx_module.errors import PluginError

from .documents import new_document
from .names import folder_name_problem

#: The connection PyBpod shows for users that come from Alyx.
ALYX_CONNECTION = "ALYX"


class UnsafeUserName(PluginError, ValueError):
    """An Alyx user name that cannot be a PyBpod user folder."""


def check_user_name(username: str) -> str:
    """Return ``username`` if it can be a PyBpod user folder, else raise :class:`UnsafeUserName`."""
    problem = folder_name_problem(username)
    if problem:
        raise UnsafeUserName(f"The Alyx user name cannot be a PyBpod user: {problem}")
    return username


def users_to_add(project: Any, usernames: Iterable[str]) -> list[str]:
    """The names among ``usernames`` that are not project users yet (safe names only)."""
    existing = {user.name for user in project.users}
    return sorted({n for n in usernames if n not in existing and not folder_name_problem(n)})


def login_alyx_user(project: Any, username: str, others: Iterable[str] = ()) -> tuple[Any, list]:
    """Find or create the Alyx users in ``project``, and log ``username`` in.

    Returns the logged-in user and the users that were created.
    """
    created = []
    for name in [username, *others]:
        user = project.find_user(name)
        if user is None:
            user = project.create_user()
            user.name = name
            created.append(user)
        mark_alyx_user(user)
    user = project.find_user(username)
    project.loggeduser = user
    return user, created


def mark_alyx_user(user: Any) -> None:
    """Give a user the ``ALYX`` connection, in memory and in its saved document."""
    user.connection = ALYX_CONNECTION
    if not getattr(user, "data", None):
        user.data = new_document(user.uuid4, "user")
    user.data["connection"] = ALYX_CONNECTION
