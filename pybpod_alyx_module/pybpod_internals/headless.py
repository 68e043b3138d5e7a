"""The headless side: PyBpod's project models (``pybpodgui_api``) and its JSON (``sca``), no Qt.

Importing this module imports no PyBpod module: each function imports what it needs when
called (through :func:`~.missing.pybpod_module`, so a missing PyBpod is one clear line).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Callable

from .missing import pybpod_module


@contextmanager
def subjects_set_aside(project: Any) -> Iterator[None]:
    """While PyBpod builds a subject, hide the project's others from it.

    Why: a new PyBpod subject gets a placeholder name ("Untitled subject N") chosen by
    scanning every subject already in the project (``generate_name`` in
    ``SubjectBase.__init__``), so loading or syncing N subjects costs O(N²): 8 s to open
    10,000 (in the GUI each name read is a Qt call, worse still). The placeholder is
    replaced at once (by ``load`` or by the sync), so it may as well be chosen against an
    empty list. Subjects created meanwhile are appended to the real list afterwards, where
    ``project += subject`` would have put them.

    Internal: ``ProjectBase._subjects`` (the list behind ``project.subjects``), 1.8.2.
    """
    subjects, project._subjects = project._subjects, []
    try:
        yield
    finally:
        created, project._subjects = project._subjects, subjects
        subjects.extend(created)


def give_text_uuid(subject: Any) -> None:
    """Make a subject's ``uuid4`` the string a reloaded subject has.

    Why: PyBpod gives a new subject a ``uuid.UUID``, which its own ``toJSON()`` cannot
    serialize (1.x bug 9, still in 1.8.2), while a subject loaded from disk has a string.
    Called once, when a subject is built (by :func:`built_aside` and by the subject
    mixin's ``__init__``), never from a getter.
    """
    subject.uuid4 = str(subject.uuid4 if subject.uuid4 else uuid.uuid4())


def built_aside(project: Any, build: Callable[[], Any]) -> Any:
    """``build()`` a subject of ``project`` with the others set aside, then give it a text uuid.

    The one way the plugin builds a subject (headless, in the GUI's sync and its load):
    linear time (:func:`subjects_set_aside`), and a uuid its ``toJSON()`` can write.
    """
    with subjects_set_aside(project):
        subject = build()
    give_text_uuid(subject)
    return subject


def create_subject(project: Any) -> Any:
    """``project.create_subject()`` in linear time, with a text uuid (:func:`built_aside`)."""
    return built_aside(project, project.create_subject)


def remove_subjects(project: Any, subjects: Iterable[Any]) -> None:
    """``project -= subject`` for each of ``subjects``, in one pass over the project's list.

    Why: ``ProjectBase.__sub__`` does ``list.remove``, a scan of every subject per removal.
    Internal: ``ProjectBase._subjects``, 1.8.2 (``__sub__`` does nothing else for subjects).
    """
    gone = {id(subject) for subject in subjects}
    if gone:
        project._subjects[:] = [s for s in project._subjects if id(s) not in gone]


def render_document(data: Any) -> str:
    """A document as PyBpod writes it (``sca`` JSON: its header, indent 4, sorted keys).

    Why: PyBpod's ``save`` writes with ``open(path, 'w')`` in place, so a kill leaves a
    truncated file; the sync writes the same text to a temporary file and renames it.
    Internal: ``sca.formats.json.dump`` (sca 0.2), which PyBpod 1.8.2's ``save`` calls.
    """
    import io

    buffer = io.StringIO()
    pybpod_module("sca.formats.json").dump(data, buffer)
    return buffer.getvalue()


def pybpod_document(uuid4: Any, about: str) -> Any:
    """An empty document with PyBpod's header, as PyBpod 1.8.2 writes one (an ``sca`` dict).

    ``about`` completes "This file contains information about …" (PyBpod's own words).
    Internal: ``sca.formats.json.scadict`` and ``pybpodgui_api.__version__``.
    """
    version = pybpod_module("pybpodgui_api").__version__
    return pybpod_module("sca.formats.json").scadict(
        uuid4_id=uuid4,
        software=f"PyBpod GUI API v{version}",
        def_url="http://pybpod.readthedocs.org",
        def_text=f"This file contains information about {about}.",
    )


def new_headless_project() -> Any:
    """An empty PyBpod project model for loading a folder headless (:mod:`.headless_project`)."""
    pybpod_module("pybpodgui_api.models.project")
    from .headless_project import HeadlessProject

    return HeadlessProject()
