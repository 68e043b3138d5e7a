"""What the GUI shows of a project's outbox: the outbox as read at the end of some work."""

from __future__ import annotations

from dataclasses import dataclass, field

from pybpod_alyx_module.register import ATTENTION, DISCARDED, PENDING, SENT, Item, Registration
from pybpod_alyx_module.register.session_states import SessionState


@dataclass(frozen=True)
class OutboxView:
    """The outbox as read at the end of some work, and what that work had to say."""

    items: list[Item] = field(default_factory=list)
    #: Why the last send stopped early (Alyx away, not logged in), or ``None``.
    stopped: str | None = None
    #: Things to tell the user once (e.g. a location to create).
    notices: list[str] = field(default_factory=list)
    #: Sessions left out, with the reason (never ended, no Alyx subject…).
    problems: list[str] = field(default_factory=list)
    #: What this work queued (a run's registrations, one per Alyx subject).
    queued: list[Registration] = field(default_factory=list)
    #: What this work found queued before (a session asked for again): sent, waiting…
    before: list[Item] = field(default_factory=list)
    #: Session file -> its state and note (:mod:`pybpod_alyx_module.register.session_states`).
    sessions: dict[str, SessionState] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        found = {state: 0 for state in (PENDING, SENT, ATTENTION, DISCARDED)}
        for item in self.items:
            found[item.state] = found.get(item.state, 0) + 1
        return found
