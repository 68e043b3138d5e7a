"""The Alyx records a rig needs, on top of the client's verbs: subjects, users, projects."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import Any, Callable

from . import errors
from .details import read_details


class AlyxRecords:
    """Record helpers of :class:`~.client.AlyxClient` (which provides ``list`` and ``url``)."""

    address: str
    list: Callable[..., Iterator[dict]]
    url: Callable[[str], str]

    def subjects(self, **filters: Any) -> Iterator[dict]:
        """Every subject matching ``filters`` (``responsible_user``, ``alive``, ``lab``, ``project``, …)."""
        return self.list("subjects", **filters)

    def subject(self, subject_id: str) -> dict:
        """The full record of one subject, weighings and water administrations included.

        Subjects are looked up by their Alyx ``id``: a nickname is unique only
        within a lab, and cortex-lab's detail URL (``/subjects/<nickname>``) answers
        500 for twins in two labs. The list entry is completed with the weighings and
        water administrations filtered by the subject's id (:mod:`.details`).

        Raises
        ------
        NotFoundError
            No subject has this id.
        BadResponseError
            The server answered the weighings or water of another subject.
        """
        matches = [s for s in self.list("subjects", id=subject_id) if s.get("id") == subject_id]
        if not matches:
            raise errors.NotFoundError(
                f"No subject with id {subject_id} on {self.address}", url=self.url("subjects")
            )
        (detailed,), failures = read_details(self, matches[:1])
        if failures:
            raise errors.BadResponseError(
                f"Could not read the details of {detailed.get('nickname')} on {self.address}: "
                f"{failures[0].reason}",
                url=self.url("subjects"),
            )
        return detailed

    def users(self, **filters: Any) -> builtins.list[dict]:
        """Every Alyx user (``username``, ``email``, ``lab``, …)."""
        return builtins.list(self.list("users", **filters))

    def projects(self, **filters: Any) -> builtins.list[dict]:
        """Every Alyx project (``name``, ``users``, …)."""
        return builtins.list(self.list("projects", **filters))
