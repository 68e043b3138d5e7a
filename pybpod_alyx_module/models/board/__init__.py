"""The board mixin PyBpod composes into its ``Board`` (``models.board.Board``)."""

from .board_alyx import Board

__all__ = ["Board"]
