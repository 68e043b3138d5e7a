"""The subject mixin PyBpod composes into its ``Subject`` (``models.subject.Subject``)."""

from .subject_alyx import Subject

__all__ = ["Subject"]
