"""Applying a :class:`~pybpod_alyx_module.sync.plan.SyncPlan` to a PyBpod project, in memory.

Every question (may this local subject be overwritten?) is asked before the
first change, so that cancelling at a question leaves the project untouched.
Then the changes are made on the project's models; writing them to disk is
:mod:`pybpod_alyx_module.sync.save`'s job (headless) or PyBpod's (in the GUI,
when the user saves).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable

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


class SyncCancelled(Exception):
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


def decide_updates(plan: SyncPlan, policy: OverridePolicy) -> tuple[list[SubjectUpdate], list[Any]]:
    """Ask ``policy`` about every update: the accepted updates, and the subjects declined.

    Raises :class:`SyncCancelled` if a question is cancelled; nothing has changed then.
    """
    accepted = [update for update in plan.to_update if policy.allows(update)]
    return accepted, [u.subject for u in plan.to_update if u not in accepted]


def apply_plan(project: Any, plan: SyncPlan, policy: OverridePolicy) -> SyncResult:
    """Make the plan's changes on ``project`` and log its Alyx user in.

    Raises
    ------
    SyncCancelled
        The user answered Cancel to a question; the project is unchanged.
    """
    accepted, declined = decide_updates(plan, policy)
    result = SyncResult(
        declined=declined,
        conflicts=list(plan.conflicts),
        refused=list(plan.refused),
        unchanged=plan.unchanged,
    )
    if plan.username:
        result.user, result.users_added = login_alyx_user(project, plan.username, plan.users_to_add)
    for addition in plan.to_add:
        subject = project.create_subject()
        subject.name = addition.name
        # PyBpod makes a uuid.UUID here, which toJSON() cannot serialize (1.x bug 9);
        # a reloaded subject has a string, so the new one gets a string too.
        subject.uuid4 = str(subject.uuid4 if subject.uuid4 else uuid.uuid4())
        subject.data = new_subject_document(subject, addition.fields)
        result.added.append(subject)
    for update in accepted:
        for key, value in update.fields.items():
            # item by item: sca's scadict.update() skips the flag that stamps __UPDATED-ON__
            update.subject.data[key] = value
        result.updated.append(update.subject)
    for removal in plan.to_remove:
        result.changed_setups.extend(_remove_subject(project, removal.subject))
        result.removed.append(removal.subject)
    return result


def _remove_subject(project: Any, subject: Any) -> list[Any]:
    """Take a subject out of the project and of every setup listing it; return those setups."""
    setups = [
        setup
        for experiment in project.experiments
        for setup in experiment.setups
        if subject in setup.subjects
    ]
    for setup in setups:
        setup -= subject
    project -= subject
    return setups
