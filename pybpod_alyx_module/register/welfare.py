"""A weight against the subject's reference weight: the welfare verdict a person sees.

Under water restriction a subject is kept above a fraction of its reference weight
(``ALYX_PLUGIN_WEIGHT_THRESHOLD``, 80 % by default, the usual limit). The GUI's "Weigh
before the run" draws the verdict in red below it; ``pybpod-alyx weigh`` prints it. Whether
a weight is believable at all is :mod:`.plausibility`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WeightCheck:
    """A weight against the subject's reference weight."""

    percent: float | None  # None without a reference weight
    below_threshold: bool

    def text(self, threshold: float) -> str:
        """The verdict in words, e.g. ``"84 % of the reference weight"``."""
        if self.percent is None:
            return "no reference weight on Alyx"
        if self.below_threshold:
            return (
                f"WARNING: {self.percent:.0f} % of the reference weight, below the "
                f"{threshold * 100:.0f} % threshold"
            )
        return f"{self.percent:.0f} % of the reference weight"


def check_weight(grams: float, reference: Any, threshold: float) -> WeightCheck:
    """``grams`` as a percentage of ``reference`` (grams), and whether it is below ``threshold``.

    >>> check_weight(20.0, 25.0, 0.8)
    WeightCheck(percent=80.0, below_threshold=False)
    >>> check_weight(19.9, 25.0, 0.8).below_threshold
    True
    """
    if not isinstance(reference, (int, float)) or reference <= 0:
        return WeightCheck(None, False)
    percent = 100.0 * grams / reference
    return WeightCheck(round(percent, 6), percent < threshold * 100.0)
