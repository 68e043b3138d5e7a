"""Which Alyx subjects a sync takes, and downloading them (all of it before any change).

The download ends before planning starts: a network or server failure half-way
raises, and the project has not been touched.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Optional

from pybpod_alyx_module.alyx import AlyxClient

from .subjects import alyx_data, alyx_id

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
    learn whether they died: requests grow with those only.
    """
    query = selection.filters(client.username)
    records = list(client.list("subjects", progress=progress, **query))
    if selection.all_alive:
        seen = {record["id"] for record in records}
        for subject in local_subjects:
            if alyx_id(subject) and alyx_id(subject) not in seen:
                records.extend(_lookup(client, subject))
    return records


def _lookup(client: AlyxClient, subject: Any) -> list[dict[str, Any]]:
    saved = alyx_data(subject)
    found = client.list("subjects", nickname=saved.get("nickname"), lab=saved.get("lab"))
    return [record for record in found if record.get("id") == alyx_id(subject)]


def add_details(
    client: AlyxClient,
    records: list[dict[str, Any]],
    workers: int = 4,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """The same subjects with their detail-only fields (weighings, water), in one concurrent pass.

    One request per subject: only on request (``--details``), never in a plain sync.
    """
    alive = [record for record in records if record.get("url") and not record.get("death_date")]
    done = 0

    def fetch(record: dict[str, Any]) -> dict[str, Any]:
        return {**record, **client.get(record["url"])}

    with ThreadPoolExecutor(max_workers=workers) as pool:
        detailed = {}
        for record in pool.map(fetch, alive):
            detailed[record["id"]] = record
            done += 1
            if progress:
                progress(done, len(alive))
    return [detailed.get(record["id"], record) for record in records]
