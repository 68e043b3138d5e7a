"""Applying a :class:`~pybpod_alyx_module.sync.plan.SyncPlan` to a PyBpod project, in memory.

Every question (may this local subject be overwritten?) is asked before the
first change, so that cancelling at a question leaves the project untouched.
Then the changes are made on the project's models; writing them to disk is
:mod:`pybpod_alyx_module.sync.save`'s job (headless) or PyBpod's (in the GUI,
when the user saves).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, NamedTuple

from pybpod_alyx_module.errors import Cancelled
from pybpod_alyx_module.pybpod_internals import create_subject, remove_subjects

from .plan import SubjectProblem, SubjectUpdate, SyncPlan
from .subjects import new_subject_document
from .users import login_alyx_user


class Answer(str, Enum):
    """The answers to "Replace local details?", as PyBpod's ``question`` dialog returns them."""

    NO = "no"
    YES = "yes"
    NO_TO_ALL = "no_all"
    YES_TO_ALL = "yes_all"
    CANCEL = "cancel"


class SyncCancelled(Cancelled):
    """The user cancelled the sync; nothing was changed."""


Ask = Callable[[SubjectUpdate], str]


class OverridePolicy:
    """Decides, subject by subject, whether Alyx's details replace the local ones.

    Parameters
    ----------
    mode
        ``"ask"`` (call ``ask`` for each subject until a "… to all" answer),
        ``"yes"`` (yes to all) or ``"no"`` (no to all).
    ask
        With ``"ask"``: receives a :class:`SubjectUpdate`, returns an :class:`Answer` value.
    only
        Answer yes for these local names and no for the others (overrides ``mode``).

    Updates of values Alyx derives (age, water budget) never need consent.
    "No to all" only declines overrides: new subjects are still added.
    """

    def __init__(
        self, mode: str = "ask", ask: Ask | None = None, only: set[str] | None = None
    ) -> None:
        if mode not in ("ask", "yes", "no"):
            raise ValueError(f"override mode must be 'ask', 'yes' or 'no', not {mode!r}")
        if mode == "ask" and ask is None and only is None:
            raise ValueError("override mode 'ask' needs a function to ask with")
        self.mode = mode
        self._ask = ask
        self._only = only

    def allows(self, update: SubjectUpdate) -> bool:
        if not update.needs_consent:
            return True
        if self._only is not None:
            return update.name in self._only
        if self.mode != "ask":
            return self.mode == "yes"
        answer = Answer(self._ask(update))
        if answer is Answer.CANCEL:
            raise SyncCancelled("Sync cancelled: the project was not changed")
        if answer in (Answer.YES_TO_ALL, Answer.NO_TO_ALL):
            self.mode = "yes" if answer is Answer.YES_TO_ALL else "no"
        return answer in (Answer.YES, Answer.YES_TO_ALL)


@dataclass
class SyncResult:
    """What a sync changed in the project (in memory), for the summary and for saving."""

    added: list[Any] = field(default_factory=list)
    updated: list[Any] = field(default_factory=list)
    removed: list[Any] = field(default_factory=list)
    declined: list[Any] = field(default_factory=list)
    conflicts: list[SubjectProblem] = field(default_factory=list)
    refused: list[SubjectProblem] = field(default_factory=list)
    unchanged: int = 0
    changed_setups: list[Any] = field(default_factory=list)
    users_added: list[Any] = field(default_factory=list)
    user: Any = None

    @property
    def changes_anything(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.users_added)

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "removed": len(self.removed),
            "skipped": len(self.declined),
            "unchanged": self.unchanged,
            "conflicts": len(self.conflicts),
            "refused": len(self.refused),
        }


class Decisions(NamedTuple):
    """The answers to every question of a plan: the updates accepted, and the subjects declined."""

    accepted: list[SubjectUpdate]
    declined: list[Any]


def decide_updates(plan: SyncPlan, policy: OverridePolicy) -> Decisions:
    """Ask ``policy`` about every update, in plan order, once each.

    Raises :class:`SyncCancelled` if a question is cancelled; nothing has changed then.
    """
    decisions = Decisions([], [])
    for update in plan.to_update:
        if policy.allows(update):
            decisions.accepted.append(update)
        else:
            decisions.declined.append(update.subject)
    return decisions


@dataclass
class ApplyStep:
    """One step of :func:`iter_apply`: whole subjects of one kind, and the result so far.

    ``kind`` is ``"start"`` (no change yet: the declined, conflicts and refusals),
    ``"users"``, ``"added"``, ``"updated"`` or ``"removed"``; ``subjects`` are the
    subjects this step added, updated or removed (the first two kinds have none).
    """

    kind: str
    subjects: list[Any]
    result: SyncResult


def iter_apply(
    project: Any,
    plan: SyncPlan,
    decisions: Decisions,
    batch: int | None = None,
    create_subject: Callable[[Any], Any] = create_subject,
) -> Iterator[ApplyStep]:
    """Make the plan's changes on ``project``, a step at a time, after every question was answered.

    Each step changes whole subjects only, so the project is consistent between steps:
    the GUI runs a few steps per turn of its event loop (and does its own share for the
    steps' subjects), the command line runs them all (:func:`apply_plan`). Steps: a
    first one that changes nothing, the Alyx users, then additions, updates and
    removals, ``batch`` subjects per step (``None``: one step per kind). Every part is linear in the size of the plan and
    of the project.

    ``create_subject(project)`` builds a new PyBpod subject (the GUI passes its own).
    """
    result = SyncResult(
        declined=list(decisions.declined),
        conflicts=list(plan.conflicts),
        refused=list(plan.refused),
        unchanged=plan.unchanged,
    )
    yield ApplyStep("start", [], result)
    if plan.username:
        result.user, result.users_added = login_alyx_user(project, plan.username, plan.users_to_add)
        yield ApplyStep("users", [], result)
    for additions in _batches(plan.to_add, batch):
        added = []
        for addition in additions:
            subject = create_subject(project)
            subject.name = addition.name
            subject.data = new_subject_document(subject, addition.fields)
            added.append(subject)
        result.added.extend(added)
        yield ApplyStep("added", added, result)
    for updates in _batches(decisions.accepted, batch):
        for update in updates:
            for key, value in update.fields.items():
                # item by item: sca's scadict.update() skips the flag that stamps __UPDATED-ON__
                update.subject.data[key] = value
        updated = [update.subject for update in updates]
        result.updated.extend(updated)
        yield ApplyStep("updated", updated, result)
    setups_of = _setups_listing(project) if plan.to_remove else {}
    changed_setups: dict[int, Any] = {}
    for removals in _batches(plan.to_remove, batch):
        removed = [removal.subject for removal in removals]
        for subject in removed:
            for setup in setups_of.get(id(subject), ()):
                changed_setups.setdefault(id(setup), setup)
                setup -= subject
        remove_subjects(project, removed)
        result.removed.extend(removed)
        result.changed_setups = list(changed_setups.values())
        yield ApplyStep("removed", removed, result)


def apply_plan(project: Any, plan: SyncPlan, policy: OverridePolicy) -> SyncResult:
    """Ask every question, then make the plan's changes on ``project`` and log its Alyx user in.

    Raises
    ------
    SyncCancelled
        The user answered Cancel to a question; the project is unchanged.
    """
    steps = iter_apply(project, plan, decide_updates(plan, policy))
    return deque(steps, maxlen=1)[0].result  # the last step's result (there is always one)


def _batches(items: list[Any], size: int | None) -> Iterator[list[Any]]:
    if size is None:
        if items:
            yield items
        return
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _setups_listing(project: Any) -> dict[int, list[Any]]:
    """The setups that list each subject, by the subject's ``id()``: one pass over every setup."""
    listing: dict[int, list[Any]] = {}
    for experiment in project.experiments:
        for setup in experiment.setups:
            for subject in setup.subjects:
                listing.setdefault(id(subject), []).append(setup)
    return listing
