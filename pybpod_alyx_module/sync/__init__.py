"""Merging Alyx subjects and users into a PyBpod project — no Qt, shared by the GUI and the CLI.

Data flows one way: :func:`download_subjects` (network, all before any change) →
:func:`plan_subjects` (a plain value) → :func:`apply_plan` (models in memory; the GUI
walks the same steps with :func:`iter_apply`) →
:func:`save_sync` (files on disk, atomically; in the GUI, PyBpod's Save does it).
"""

from .apply import (
    Answer,
    ApplyStep,
    Decisions,
    OverridePolicy,
    SyncCancelled,
    SyncResult,
    apply_plan,
    decide_updates,
    iter_apply,
)
from .download import SubjectSelection, add_details, download_subjects
from .plan import SubjectAdd, SubjectProblem, SubjectRemoval, SubjectUpdate, SyncPlan, plan_subjects
from .save import save_sync
from .users import ALYX_CONNECTION, UnsafeUserName, check_user_name, users_to_add

__all__ = [
    "ALYX_CONNECTION",
    "Answer",
    "ApplyStep",
    "Decisions",
    "OverridePolicy",
    "SubjectAdd",
    "SubjectProblem",
    "SubjectRemoval",
    "SubjectSelection",
    "SubjectUpdate",
    "SyncCancelled",
    "SyncPlan",
    "SyncResult",
    "UnsafeUserName",
    "add_details",
    "apply_plan",
    "check_user_name",
    "decide_updates",
    "download_subjects",
    "iter_apply",
    "plan_subjects",
    "save_sync",
    "users_to_add",
]
