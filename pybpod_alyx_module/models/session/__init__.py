"""The session mixin PyBpod composes into its ``Session`` (``models.session.Session``)."""

from .session_alyx import Session

__all__ = ["Session"]
