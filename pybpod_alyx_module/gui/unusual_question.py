"""The one Yes/No question about unusual values typed in the weigh and water dialogs.

The rule of what is unusual is :mod:`pybpod_alyx_module.register.plausibility`'s; this
only asks, naming each value and why it looks wrong, with No as the first answer so that
a hurried Enter does not send a typo to Alyx.
"""

from __future__ import annotations


class AsksAboutUnusual:
    """Mixin of a pyforms dialog (it has ``question``) whose typed values may be unusual."""

    #: The question's title, e.g. "Unusual weight".
    UNUSUAL_TITLE = "Unusual value"

    def confirmed_unusual(self, unusual: list[str], action: str) -> bool:
        """Ask "``action`` and send to Alyx as typed?" below the reasons; True only for Yes."""
        answer = self.question(  # type: ignore[attr-defined]
            "\n".join(unusual) + f"\n\n{action} and send to Alyx as typed?",
            self.UNUSUAL_TITLE,
            buttons=["no", "yes"],
        )
        return answer == "yes"
