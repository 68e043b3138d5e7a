"""Weights and water typed by a person (in the GUI or on the command line), checked once.

A rig operator types ``19,4`` as often as ``19.4``; a slip of the finger (``194`` g for a
mouse is possible, ``19400`` is not) must be refused with the reason, not sent to Alyx.
"""

from __future__ import annotations

#: Weights outside this range (grams) are typing mistakes, refused.
PLAUSIBLE_GRAMS = (0.5, 10_000.0)
#: Water outside this range (mL) is a typing mistake, refused.
PLAUSIBLE_ML = (0.0, 100.0)


def parse_amount(text: str, what: str, plausible: tuple[float, float]) -> float | None:
    """The amount typed in ``text``: ``None`` when empty, else a number within ``plausible``.

    Raises ``ValueError`` naming ``what`` and the text when it is not a number or not plausible.

    >>> parse_amount(" 19,4 ", "weight in grams", PLAUSIBLE_GRAMS)
    19.4
    >>> parse_amount("", "weight in grams", PLAUSIBLE_GRAMS) is None
    True
    >>> parse_amount("19400", "weight in grams", PLAUSIBLE_GRAMS)
    Traceback (most recent call last):
    ...
    ValueError: not a plausible weight in grams: '19400'
    """
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        amount = float(text)
    except ValueError:
        raise ValueError(f"not a {what}: {text!r}") from None
    low, high = plausible
    if not low <= amount <= high:
        raise ValueError(f"not a plausible {what}: {text!r}")
    return amount


def parse_grams(text: str) -> float | None:
    """A typed weight (see :func:`parse_amount`)."""
    return parse_amount(text, "weight in grams", PLAUSIBLE_GRAMS)


def parse_ml(text: str) -> float | None:
    """A typed amount of water (see :func:`parse_amount`)."""
    return parse_amount(text, "amount of water in mL", PLAUSIBLE_ML)
