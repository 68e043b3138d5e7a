"""A copy of what the sync planner reads from a project, so that it can plan off the GUI thread.

The planner (:func:`pybpod_alyx_module.sync.plan_subjects`) reads each subject's
name and JSON document and each user's name. In the GUI a subject's name is
the text of its tree item — a Qt object, to be read on the GUI thread only. So
the GUI thread takes this snapshot (plain strings and copied dicts, a few ms
for thousands of subjects), the worker plans on it, and :meth:`translate` maps
the plan back onto the real subjects before it is applied, on the GUI thread.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from pybpod_alyx_module.sync import SyncPlan
from pybpod_alyx_module.sync.subjects import alyx_id


@dataclass
class SubjectView:
    """What the planner reads of a subject; ``original`` is the GUI subject it stands for."""

    name: str
    data: dict[str, Any] | None
    original: Any = field(repr=False)


@dataclass
class UserView:
    name: str


@dataclass
class ProjectSnapshot:
    """The subjects and users of a project, as the planner sees them, at one moment."""

    subjects: list[SubjectView]
    users: list[UserView]
    fingerprint: tuple

    @classmethod
    def of(cls, project: Any) -> ProjectSnapshot:
        """Take the snapshot (GUI thread)."""
        subjects = [
            SubjectView(s.name, dict(s.data) if s.data else None, s) for s in project.subjects
        ]
        users = [UserView(u.name) for u in project.users]
        return cls(subjects, users, _fingerprint(project))

    def is_current(self, project: Any) -> bool:
        """False if subjects or users were added, removed, renamed or re-marked since."""
        return _fingerprint(project) == self.fingerprint

    def translate(self, plan: SyncPlan) -> SyncPlan:
        """The same plan, about the real subjects instead of their views."""
        return dataclasses.replace(
            plan,
            to_update=[dataclasses.replace(u, subject=u.subject.original) for u in plan.to_update],
            to_remove=[dataclasses.replace(r, subject=r.subject.original) for r in plan.to_remove],
        )


def _fingerprint(project: Any) -> tuple:
    subjects = tuple((id(s), s.name, alyx_id(s)) for s in project.subjects)
    users = tuple(u.name for u in project.users)
    return subjects, users
