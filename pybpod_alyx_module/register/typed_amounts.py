"""Weights and water typed by a person (in the GUI or on the command line), checked once.

A rig operator types ``19,4`` as often as ``19.4``; a slip of the finger (``194`` g for a
mouse is possible, ``19400`` is not) must be refused with the reason, not sent to Alyx.
The ranges are :mod:`.plausibility`'s, the same as for the values a task reports.
"""

from __future__ import annotations

from .plausibility import WATER, WEIGHT, Quantity, plausible


def parse_amount(text: str, quantity: Quantity) -> float | None:
    """The amount typed in ``text``: ``None`` when empty, else a plausible ``quantity``.

    Raises ``ValueError`` naming the quantity and the text when it is not a number or
    not plausible (:class:`~.plausibility.ImplausibleValue`, a ``ValueError``).

    >>> parse_amount(" 19,4 ", WEIGHT)
    19.4
    >>> parse_amount("", WEIGHT) is None
    True
    >>> parse_amount("19400", WEIGHT)
    Traceback (most recent call last):
    ...
    pybpod_alyx_module.register.plausibility.ImplausibleValue: not a plausible weight in grams: '19400' (expected 0.5 to 10000 g)
    """
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        amount = float(text)
    except ValueError:
        raise ValueError(f"not a {quantity.what}: {text!r}") from None
    return plausible(quantity, amount, text)


def parse_grams(text: str) -> float | None:
    """A typed weight (see :func:`parse_amount`)."""
    return parse_amount(text, WEIGHT)


def parse_ml(text: str) -> float | None:
    """A typed amount of water (see :func:`parse_amount`)."""
    return parse_amount(text, WATER)
