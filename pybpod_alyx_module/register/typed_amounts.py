"""Weights and water typed by a person (in the GUI or on the command line), checked once.

A rig operator types ``19,4`` as often as ``19.4``, and often the unit after it
(``19,4 g``, ``0.5 mL``); a slip of the finger (``194`` g for a mouse is possible,
``19400`` is not) must be refused with the reason, not sent to Alyx. A message quotes
what was typed, as it was typed. The ranges are :mod:`.plausibility`'s, the same as for
the values a task reports.

What a typed amount may be: a decimal number with a point or a comma (one of them, at
most once: ``1,234.5`` could mean two things and is refused), a sign, then optionally the
quantity's own unit (``g``; ``mL``, any case). No exponent, no ``nan`` or ``inf``, no
other unit (``0.0235 kg`` is refused, not converted: the field says grams).
"""

from __future__ import annotations

import re

from .plausibility import WATER, WEIGHT, Quantity, plausible

#: A number as a person types it: digits with one decimal point or comma, a sign.
_NUMBER = re.compile(r"([+-]?)([0-9]*)(?:[.,]([0-9]*))?", re.ASCII)


def parse_amount(text: str, quantity: Quantity) -> float | None:
    """The amount typed in ``text``: ``None`` when empty, else a plausible ``quantity``.

    Raises ``ValueError`` quoting the text as typed when it is not a number (with the
    quantity's unit, or none) or not plausible (:class:`~.plausibility.ImplausibleValue`,
    a ``ValueError``).

    >>> parse_amount(" 19,4 ", WEIGHT)
    19.4
    >>> parse_amount("23,6 g", WEIGHT)
    23.6
    >>> parse_amount("", WEIGHT) is None
    True
    >>> parse_amount("23,6 kg", WEIGHT)
    Traceback (most recent call last):
    ...
    ValueError: not a weight in grams: '23,6 kg' (type a number of g, e.g. 23.4 or 23,4)
    >>> parse_amount("19400", WEIGHT)
    Traceback (most recent call last):
    ...
    pybpod_alyx_module.register.plausibility.ImplausibleValue: not a plausible weight in grams: '19400' (expected 0.5 to 10000 g)
    """
    typed = text.strip()
    if not typed:
        return None
    match = _NUMBER.fullmatch(_without_unit(typed, quantity.unit))
    if match is None or not (match.group(2) or match.group(3)):
        example = "0.5 or 0,5" if quantity.unit == WATER.unit else "23.4 or 23,4"
        raise ValueError(
            f"not a {quantity.what}: {typed[:40]!r} "
            f"(type a number of {quantity.unit}, e.g. {example})"
        )
    sign, whole, fraction = match.groups()
    return plausible(quantity, float(f"{sign}{whole or 0}.{fraction or 0}"), typed)


def _without_unit(typed: str, unit: str) -> str:
    """``typed`` without a trailing ``unit`` (any case, spaces before it allowed)."""
    if typed.lower().endswith(unit.lower()):
        return typed[: -len(unit)].rstrip()
    return typed


def parse_grams(text: str) -> float | None:
    """A typed weight (see :func:`parse_amount`)."""
    return parse_amount(text, WEIGHT)


def parse_ml(text: str) -> float | None:
    """A typed amount of water (see :func:`parse_amount`)."""
    return parse_amount(text, WATER)
