"""The user mixin PyBpod composes into its ``User`` (``models.user.User``)."""

from .user_alyx import User

__all__ = ["User"]
