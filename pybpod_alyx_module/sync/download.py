"""Which Alyx subjects a sync takes, and downloading them (all of it before any change).

The download ends before planning starts: a network or server failure half-way
raises, and the project has not been touched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Callable, Optional

from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.alyx.details import DetailFailure, read_details

from .plan import SyncPlan
from .subjects import alyx_data, alyx_id, stamp_server

logger = logging.getLogger(__name__)

#: ``progress(done, total)``; ``total`` is ``None`` until the server said it.
Progress = Callable[[int, Optional[int]], None]


@dataclass(frozen=True)
class SubjectSelection:
    """The Alyx subjects to sync.

    By default, those whose responsible user is the connected user, as in 1.x.
    ``lab`` or ``project`` take that lab's or Alyx project's subjects whoever is
    responsible (``responsible_user`` narrows them again); ``all_alive`` takes
    every alive subject the user can see.

    Examples
    --------
    >>> SubjectSelection().filters("alice")
    {'responsible_user': 'alice'}
    >>> SubjectSelection(lab="cortexlab").filters("alice")
    {'lab': 'cortexlab'}
    """

    responsible_user: str | None = None
    lab: str | None = None
    project: str | None = None
    all_alive: bool = False

    def filters(self, username: str | None) -> dict[str, Any]:
        """The ``/subjects`` query for the connected ``username``."""
        responsible = self.responsible_user
        if responsible is None and not (self.lab or self.project or self.all_alive):
            responsible = username
        query = {"responsible_user": responsible, "lab": self.lab, "project": self.project}
        if self.all_alive:
            query["alive"] = True
        return {key: value for key, value in query.items() if value is not None}

    def describe(self, username: str | None) -> str:
        """In words, for summaries: ``subjects with responsible_user=alice, lab=cortexlab``."""
        terms = ", ".join(f"{k}={v}" for k, v in self.filters(username).items())
        return f"subjects with {terms}" if terms else "all subjects"


def download_subjects(
    client: AlyxClient,
    selection: SubjectSelection,
    local_subjects: Iterable[Any] = (),
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Every Alyx subject of ``selection``, alive and dead, as list entries.

    With ``all_alive`` the dead are not listed (there may be thousands), so the
    local Alyx subjects missing from the alive ones are looked up one by one to
    learn whether they died: requests grow with those only. Each record is stamped with
    the server it came from (:func:`~.subjects.stamp_server`).
    """
    query = selection.filters(client.username)
    records = list(client.list("subjects", progress=progress, **query))
    if selection.all_alive:
        seen = {record["id"] for record in records}
        for subject in local_subjects:
            if alyx_id(subject) and alyx_id(subject) not in seen:
                records.extend(_lookup(client, subject))
    stamp_server(records, client.api_root)
    return records


def _lookup(client: AlyxClient, subject: Any) -> list[dict[str, Any]]:
    saved = alyx_data(subject)
    found = client.list("subjects", nickname=saved.get("nickname"), lab=saved.get("lab"))
    return [record for record in found if record.get("id") == alyx_id(subject)]


def add_details(
    client: AlyxClient,
    records: list[dict[str, Any]],
    progress: Progress | None = None,
    on_failure: Callable[[DetailFailure], None] | None = None,
) -> list[dict[str, Any]]:
    """``records`` with their detail-only fields (weighings, water administrations).

    Every record given is fetched: the caller leaves out the subjects it will not
    keep (refused nicknames, conflicts, the dead: see :func:`records_to_detail`).
    Requests grow with pages, not with subjects (:mod:`~pybpod_alyx_module.alyx.details`);
    twins in two labs are told apart by id. A subject whose details cannot be read
    comes back as given and is passed to ``on_failure`` (logged as a warning without
    it): it never fails the others. A busy server (429) is waited out by the client.

    Raises
    ------
    AlyxError
        Only failures that are not one subject's (server unreachable, login refused).
    """
    detailed, failures = read_details(client, records, progress)
    for failure in failures:
        if on_failure is not None:
            on_failure(failure)
        else:
            logger.warning(
                "No details for %s (%s): %s", failure.nickname, failure.lab, failure.reason
            )
    return detailed


def records_to_detail(records: list[dict[str, Any]], plan: SyncPlan) -> list[dict[str, Any]]:
    """The records worth their details: alive, neither refused nor in conflict in ``plan``.

    Examples
    --------
    >>> records_to_detail([{"id": "a"}, {"id": "b", "death_date": "2026-01-02"}], SyncPlan())
    [{'id': 'a'}]
    """
    left_out = {problem.alyx_id for problem in [*plan.refused, *plan.conflicts]}
    return [
        record
        for record in records
        if record.get("id") not in left_out
        and record.get("alive", True) is not False
        and not record.get("death_date")
    ]


def with_details(
    records: list[dict[str, Any]], detailed: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``records`` where each one in ``detailed`` (same id) is replaced by its detailed copy."""
    by_id = {record.get("id"): record for record in detailed}
    return [by_id.get(record.get("id"), record) for record in records]
