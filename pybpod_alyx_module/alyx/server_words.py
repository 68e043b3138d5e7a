"""A server's words, made safe to show, log or store: bounded in length, secrets scrubbed.

Every text that comes from a server (an error's detail, a body, a header) may be huge (a
50 MB error page), and a server may echo back what it was sent (a login error repeating
the password). Whatever is shown to a person, written to a log or stored in the outbox
goes through :func:`bounded` first, and through :func:`scrubbed` wherever a secret may
have been sent with the request.

Examples
--------
>>> bounded("x" * 10, limit=6)
'xxx… (10 characters, cut)'
>>> scrubbed("wrong password hunter2 for alice", ["hunter2"])
'wrong password [hidden] for alice'
"""

from __future__ import annotations

from collections.abc import Iterable

#: The longest text kept of a server's words (characters).
WORDS_LIMIT = 500
HIDDEN = "[hidden]"


def bounded(text: object, limit: int = WORDS_LIMIT) -> str:
    """``text`` as a string of at most about ``limit`` characters, saying when it was cut."""
    words = text if isinstance(text, str) else str(text)
    if len(words) <= limit:
        return words
    keep = max(0, limit // 2)
    return f"{words[:keep]}… ({len(words):,} characters, cut)"


def scrubbed(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every non-empty secret in ``secrets`` replaced by ``[hidden]``."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    return text
