"""The setup mixin PyBpod composes into its ``Setup`` (``models.setup.Setup``)."""

from .setup_alyx import Setup

__all__ = ["Setup"]
