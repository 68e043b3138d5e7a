"""Subjects' weighings and water administrations, in requests that grow with pages.

A subject's detail record (``GET /subjects/<name>``) is the 1.x way to get them: one
request per subject, and on cortex-lab's layout (``/subjects/<nickname>``) twins in
two labs make it answer 500. Instead, the ``weighings`` and ``water-administrations``
lists are read filtered to a batch of subjects by id (``django=subject__id__in,[…]``,
which both cortex-lab and alyx-local accept), a few dozen subjects a request.

Each item names its subject as the server spells it: ``<lab>__<nickname>`` on
alyx-local, the nickname on cortex-lab. A batch never holds two subjects with one
nickname, so either spelling names one subject of the batch. An item naming none
means the server ignored the filter (Alyx ignores unknown parameters silently):
the batch is then read one subject at a time, filtered by ``subject=<id>``, a few
subjects at a time, and checked the same way. One subject's failure is reported
for that subject; the others still get their details.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Optional, Protocol

from . import errors
from .server_words import shown


class ListReader(Protocol):
    """What this module needs of a client: its ``list`` of an endpoint's items.

    :class:`~.client.AlyxClient` is one; naming only the method keeps this module below the
    client (the client's record helpers call :func:`read_details`: no import circle).
    """

    def list(self, path: str, **filters: Any) -> Iterator[dict]: ...


#: Alyx list endpoint -> the key of the same items in a subject's detail record.
DETAIL_LISTS = {"weighings": "weighings", "water-administrations": "water_administrations"}
#: Subjects per filtered request: their ids keep the request line under 4 kB
#: (gunicorn's default limit is 4094 bytes).
BATCH_SIZE = 50
#: Subjects read at the same time when the server cannot filter by a batch.
ONE_BY_ONE_WORKERS = 3

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

#: Failures that are not one subject's: the whole pass stops (so does a server still busy,
#: HTTP 429, after the client waited as long as it may).
FATAL = (
    errors.ServerUnreachableError,
    errors.NotLoggedInError,
    errors.InvalidTokenError,
    errors.BadCredentialsError,
)


def _is_fatal(error: errors.AlyxError) -> bool:
    return isinstance(error, FATAL) or error.status == 429


Progress = Callable[[int, Optional[int]], None]


@dataclass(frozen=True)
class DetailFailure:
    """A subject whose details could not be read, and why (for that subject only)."""

    record: dict[str, Any]
    reason: str

    @property
    def nickname(self) -> str:
        return str(self.record.get("nickname"))

    @property
    def lab(self) -> str | None:
        return self.record.get("lab")


class _FilterIgnored(Exception):
    """The server answered items of subjects outside the filter."""


def read_details(
    client: ListReader,
    records: Iterable[dict[str, Any]],
    progress: Progress | None = None,
) -> tuple[list[dict[str, Any]], list[DetailFailure]]:
    """``records`` with ``weighings`` and ``water_administrations`` added, and the failures.

    Every record given is read (the caller leaves out refused or dead subjects). A
    failed record is returned as given, and named in the failures with its reason.

    Raises
    ------
    ServerUnreachableError, NotLoggedInError, InvalidTokenError, ServerError
        Failures that are not one subject's (a server unreachable, a login refused, a
        server still busy after the client's waits): nothing more could be read.
    """
    records = list(records)
    failures: list[DetailFailure] = []
    found: dict[str, dict[str, list]] = {}
    valid = []
    for record in records:
        subject_id = record.get("id") if isinstance(record, dict) else None
        if isinstance(subject_id, str) and _UUID.match(subject_id):
            valid.append(record)
        else:
            failures.append(
                DetailFailure(record, f"its id {shown(repr(subject_id), 100)} is not a UUID")
            )
    done = 0
    batching = True
    for batch in batches(valid, BATCH_SIZE):
        if batching:
            try:
                found.update(_read_batch(client, batch))
            except errors.AlyxError as exc:
                if _is_fatal(exc):
                    raise
                batching = False  # this server cannot filter by a batch: one by one from now on
            except _FilterIgnored:
                batching = False
        if not batching:
            got, failed = _read_one_by_one(client, batch)
            found.update(got)
            failures.extend(failed)
        done += len(batch)
        if progress:
            progress(done, len(valid))
    lists = [found.get(r.get("id")) if isinstance(r, dict) else None for r in records]
    detailed = [{**r, **extra} if extra else r for r, extra in zip(records, lists)]
    return detailed, failures


def batches(records: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """``records`` in batches of at most ``size``, never two with one nickname in a batch.

    Examples
    --------
    >>> twins = [{"nickname": "m", "lab": "a"}, {"nickname": "m", "lab": "b"}, {"nickname": "n"}]
    >>> [[r.get("lab") for r in batch] for batch in batches(twins, 50)]
    [['a', None], ['b']]
    """
    result: list[list[dict[str, Any]]] = []
    nicknames: list[set[str]] = []
    for record in records:
        nickname = str(record.get("nickname"))
        for batch, names in zip(result, nicknames):
            if len(batch) < size and nickname not in names:
                batch.append(record)
                names.add(nickname)
                break
        else:
            result.append([record])
            nicknames.append({nickname})
    return result


def _names(record: dict[str, Any]) -> set[str]:
    """How the detail lists may name this subject: alyx-local's ``lab__nickname``, or the nickname."""
    nickname = str(record.get("nickname"))
    names = {nickname, f"{record.get('lab')}__{nickname}"}
    if isinstance(record.get("name"), str):
        names.add(record["name"])
    return names


def _read_batch(client: ListReader, batch: list[dict[str, Any]]) -> dict[str, dict[str, list]]:
    ids = ",".join(f"'{record['id']}'" for record in batch)  # UUIDs only: checked above
    by_name = {name: record["id"] for record in batch for name in _names(record)}
    found: dict[str, dict[str, list]] = {
        r["id"]: {key: [] for key in DETAIL_LISTS.values()} for r in batch
    }
    for endpoint, key in DETAIL_LISTS.items():
        for item in client.list(endpoint, django=f"subject__id__in,[{ids}]"):
            subject_id = by_name.get(item.get("subject")) if isinstance(item, dict) else None
            if subject_id is None:
                raise _FilterIgnored(item)
            found[subject_id][key].append(item)
    return {subject_id: _sorted(lists) for subject_id, lists in found.items()}


def _read_one(client: ListReader, record: dict[str, Any]) -> dict[str, list]:
    names = _names(record)
    lists: dict[str, list] = {}
    for endpoint, key in DETAIL_LISTS.items():
        items = list(client.list(endpoint, subject=record["id"]))
        stray = [i for i in items if not isinstance(i, dict) or i.get("subject") not in names]
        if stray:
            named = stray[0].get("subject") if isinstance(stray[0], dict) else repr(stray[0])
            raise errors.BadResponseError(
                f"the {endpoint} list filtered to this subject holds another subject's items "
                f"({shown(named, 100)})"
            )
        lists[key] = items
    return _sorted(lists)


def _read_one_by_one(
    client: ListReader, batch: list[dict[str, Any]]
) -> tuple[dict[str, dict[str, list]], list[DetailFailure]]:
    def attempt(record: dict[str, Any]) -> dict[str, list] | DetailFailure:
        try:
            return _read_one(client, record)
        except errors.AlyxError as exc:
            if _is_fatal(exc):
                raise
            return DetailFailure(record, str(exc))

    with ThreadPoolExecutor(ONE_BY_ONE_WORKERS, thread_name_prefix="alyx-details") as pool:
        outcomes = list(pool.map(attempt, batch))
    found = {r["id"]: o for r, o in zip(batch, outcomes) if not isinstance(o, DetailFailure)}
    return found, [o for o in outcomes if isinstance(o, DetailFailure)]


def _sorted(lists: dict[str, list]) -> dict[str, list]:
    """Each list by date, oldest first, as a subject's detail record shows them."""
    return {
        key: sorted(items, key=lambda i: (str(i.get("date_time") or ""), str(i.get("url") or "")))
        for key, items in lists.items()
    }
