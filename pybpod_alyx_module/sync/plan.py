"""Planning a merge of Alyx subjects into a PyBpod project, without changing anything.

The plan is a plain value: it can be printed (``--dry-run``), shown in a dialog,
tested, and applied later by :func:`pybpod_alyx_module.sync.apply.apply_plan`.

Matching rules:

1. A local subject whose ``alyx_id`` is the Alyx subject's ``id`` is that
   subject: it is updated (if a field differs) or removed (if it died on Alyx),
   whatever its local name.
2. Otherwise the Alyx subject is new. Its local name is its nickname, unless
   - the nickname cannot be a folder name: the subject is skipped, with why;
   - a local subject that is *not* an Alyx subject has that name: a conflict,
     reported and never converted silently;
   - another Alyx subject has that name (the same nickname in another lab):
     the new one is named ``<lab>__<nickname>``.
   Names are compared as Windows and macOS compare folder names
   (:func:`~pybpod_alyx_module.sync.names.folded_name`): ``Mouse`` takes ``mouse``.
3. Dead Alyx subjects that are not in the project are not added.
4. A record that is not a well-formed subject (no UUID id, a nickname that is
   not text, an id listed twice, an oversized field) is refused with a reason
   (:mod:`~pybpod_alyx_module.sync.records`); the others sync.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .fields import ALYX_ID, DERIVED, local_fields
from .names import folded_name, folder_name_problem, twin_name
from .records import screen_records, shorten
from .subjects import alyx_data, alyx_id
from .users import users_to_add


@dataclass(frozen=True)
class SubjectAdd:
    """A new Alyx subject to create under ``name``."""

    name: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class SubjectUpdate:
    """A local Alyx subject whose saved fields differ from Alyx's.

    ``changed`` names every field that differs; ``added`` those of them the local subject
    had no value for yet (absent or ``None``): the first ``--details`` download brings
    every subject's weighings and water, which replaces nothing.
    """

    subject: Any
    fields: dict[str, Any]
    changed: tuple[str, ...]
    added: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.subject.name

    @property
    def needs_consent(self) -> bool:
        """True if a local value would be replaced, other than one Alyx derives (age, water
        budget): a field the subject did not have yet is an addition, never a question."""
        added = set(self.added)
        return any(key not in DERIVED and key not in added for key in self.changed)


@dataclass(frozen=True)
class SubjectRemoval:
    """A local Alyx subject that is dead on Alyx: it leaves the project (its sessions stay)."""

    subject: Any
    death_date: str | None

    @property
    def name(self) -> str:
        return self.subject.name


@dataclass(frozen=True)
class SubjectProblem:
    """An Alyx subject left out: a name conflict or a nickname that cannot be a folder."""

    nickname: str
    lab: str | None
    alyx_id: str
    reason: str


@dataclass
class SyncPlan:
    """What a sync would do to a project. Nothing has changed yet."""

    to_add: list[SubjectAdd] = field(default_factory=list)
    to_update: list[SubjectUpdate] = field(default_factory=list)
    to_remove: list[SubjectRemoval] = field(default_factory=list)
    conflicts: list[SubjectProblem] = field(default_factory=list)
    refused: list[SubjectProblem] = field(default_factory=list)
    unchanged: int = 0
    #: The Alyx user to log in as the project's user (``None``: leave users alone).
    username: str | None = None
    #: Other Alyx users to create as project users.
    users_to_add: list[str] = field(default_factory=list)

    @property
    def changes_anything(self) -> bool:
        return bool(self.to_add or self.to_update or self.to_remove or self.users_to_add)

    def counts(self) -> dict[str, int]:
        """How many subjects fall in each part of the plan."""
        return {
            "add": len(self.to_add),
            "update": len(self.to_update),
            "remove": len(self.to_remove),
            "unchanged": self.unchanged,
            "conflicts": len(self.conflicts),
            "refused": len(self.refused),
        }


def plan_subjects(
    project: Any,
    records: Iterable[dict[str, Any]],
    username: str | None = None,
    other_users: Iterable[str] = (),
) -> SyncPlan:
    """Plan the merge of Alyx subject ``records`` (list or detail entries) into ``project``.

    ``username`` is the connected Alyx user, to become the project's logged-in
    user (``None`` leaves users alone); ``other_users`` are Alyx users to add
    as project users too.

    Examples
    --------
    A new project (``create=True`` writes nothing) and two Alyx list entries, one of
    them with a nickname that cannot be a folder name:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from pybpod_alyx_module.sync.project_files import open_project
    >>> records = [
    ...     {"id": "c7bd79c9-5ce2-4c6b-b9fb-9fb38b4f6cde", "nickname": "SW_001", "lab": "cortexlab"},
    ...     {"id": "2d3a4a55-4e0c-4a8f-a8c5-0f3e5c1a9b21", "nickname": "..", "lab": "cortexlab"},
    ... ]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     project = open_project(Path(folder) / "proj", create=True)
    ...     plan = plan_subjects(project, records, username="alice")
    >>> plan.counts()
    {'add': 1, 'update': 0, 'remove': 0, 'unchanged': 0, 'conflicts': 0, 'refused': 1}
    >>> [addition.name for addition in plan.to_add]
    ['SW_001']
    """
    plan = SyncPlan(username=username)
    if username:
        plan.users_to_add = users_to_add(project, [u for u in other_users if u != username])
    records, refused = screen_records(records)
    plan.refused += [_refusal(record, reason) for record, reason in refused]
    local_by_id = {alyx_id(s): s for s in project.subjects if alyx_id(s)}
    local_by_name = {folded_name(s.name): s for s in project.subjects}
    planned_names: set[str] = set()
    new_records = []
    ordered = sorted(records, key=lambda r: (r["nickname"], r.get("lab") or "", r["id"]))
    for record in ordered:
        local = local_by_id.get(record["id"])
        if local is None:
            if _is_alive(record):
                new_records.append(record)
        elif not _is_alive(record):
            plan.to_remove.append(SubjectRemoval(local, record.get("death_date")))
        else:
            _plan_update(plan, local, record)
    for record in new_records:
        _plan_add(plan, record, local_by_name, planned_names)
    return plan


def _refusal(record: Any, reason: str) -> SubjectProblem:
    """A malformed record, described with what can be shown of it."""
    fields = record if isinstance(record, dict) else {}

    def text(key: str) -> str | None:
        value = fields.get(key)
        return value if isinstance(value, str) and len(value) <= 60 else shorten(value)

    return SubjectProblem(text("nickname") or "", text("lab"), text("id") or "", reason)


def _is_alive(record: dict[str, Any]) -> bool:
    return record.get("alive", True) is not False and not record.get("death_date")


def _plan_update(plan: SyncPlan, subject: Any, record: dict[str, Any]) -> None:
    fields = local_fields(record)
    saved = alyx_data(subject)
    changed = tuple(key for key, value in fields.items() if saved.get(key) != value)
    if changed:
        added = tuple(key for key in changed if saved.get(key) is None)
        plan.to_update.append(SubjectUpdate(subject, fields, changed, added))
    else:
        plan.unchanged += 1


def _plan_add(
    plan: SyncPlan,
    record: dict[str, Any],
    local_by_name: dict[str, Any],
    planned_names: set[str],
) -> None:
    nickname, lab = record["nickname"], record.get("lab")

    def problem(reason: str) -> SubjectProblem:
        return SubjectProblem(nickname, lab, record["id"], reason)

    refusal = folder_name_problem(nickname)
    if refusal:
        plan.refused.append(problem(f"its nickname cannot be a folder name: {refusal}"))
        return
    name = nickname
    holder = local_by_name.get(folded_name(name))
    if holder is not None and not alyx_id(holder):
        same = "" if holder.name == name else " (one folder on Windows and macOS)"
        plan.conflicts.append(
            problem(
                f"a local subject named '{holder.name}'{same} is not an Alyx subject; "
                "rename it to sync"
            )
        )
        return
    if holder is not None or folded_name(name) in planned_names:
        name = twin_name(nickname, lab)
        key = folded_name(name)
        if folder_name_problem(name) or key in local_by_name or key in planned_names:
            plan.conflicts.append(
                problem(f"'{nickname}' and '{name}' are both taken by other local subjects")
            )
            return
    planned_names.add(folded_name(name))
    fields = local_fields(record)
    fields.setdefault(ALYX_ID, record["id"])
    plan.to_add.append(SubjectAdd(name, fields))
